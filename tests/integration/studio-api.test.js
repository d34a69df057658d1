// The studio's HTTP command API, as a Stream Deck (Bitfocus Companion) or a script uses it:
// next question, clear, answered and the panel with the moderator key (or the producer key),
// answered after the commit with the same events every viewer gets; the protocol's errors as
// HTTP statuses; the public live state for vMix; questions imported from the hotline, idempotent
// on their external_ref.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { harness, setupSession, short } from './lib.js';

/** POSTs body (an object, a raw string, or nothing) with key; resolves {status, headers, json}. */
async function post(srv, path, { key, body, contentType = 'application/json' } = {}) {
  const headers = {};
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = contentType;
  const res = await fetch(`${srv.url}${path}`, {
    method: 'POST',
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, json, text };
}

async function getState(srv, code) {
  const res = await fetch(`${srv.url}/api/sessions/${code}/state`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, json: await res.json() };
}

test('a studio button puts the next question on air, answers it and sets the panel, as the console would', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { code, moderatorKey } = await setupSession(h, srv);
  const mod = await h.moderator(srv, code, moderatorKey);
  const viewer = await h.viewer(srv, code, { name: '居民' });
  const a = (await mod.ok('question.submit', { text: '电梯什么时候装？', author: '刘阿姨', to: 2, source: 'phone' })).question.id;
  const b = (await mod.ok('question.submit', { text: '停车位怎么分？' })).question.id;
  await mod.ok('queue.set', { question_ids: [a, b] });

  const base = `/api/sessions/${code}`;
  // the next question goes on air; the reply comes after the event reached the viewer
  const mark = viewer.mark();
  const next = await post(srv, `${base}/onair/next`, { key: moderatorKey });
  assert.equal(next.status, 200, next.text);
  assert.deepEqual(next.json, { ok: true, question_id: a });
  const seen = await viewer.waitEvent('onair.changed', () => true, 5000, mark);
  assert.equal(seen.question_id, a);

  let state = await getState(srv, code);
  assert.equal(state.status, 200);
  assert.equal(state.json.on_air.text, '电梯什么时候装？');
  assert.equal(state.json.on_air.author, '刘阿姨');
  assert.equal(state.json.on_air.to.name, '李主任');
  assert.deepEqual(state.json.up_next.map((q) => q.text), ['停车位怎么分？']);

  // answered (with a note), with the producer key this time: the air clears
  const done = await post(srv, `${base}/onair/answered`, { key: srv.producerKey, body: { note: '年内完成' } });
  assert.equal(done.status, 200, done.text);
  assert.equal(done.json.ok, true);
  assert.equal(done.json.question.state, 'answered');
  assert.equal(done.json.question.answer_note, '年内完成');
  await viewer.waitEvent('question.answered', (e) => e.question.id === a);
  state = await getState(srv, code);
  assert.equal(state.json.on_air, null);

  // nothing on air: answered is a conflict, clear is a no-op
  const nothing = await post(srv, `${base}/onair/answered`, { key: moderatorKey });
  assert.equal(nothing.status, 409, nothing.text);
  assert.equal(nothing.json.error, 'conflict');
  const clear = await post(srv, `${base}/onair/clear`, { key: moderatorKey, body: {} });
  assert.deepEqual([clear.status, clear.json], [200, { ok: true, question_id: null }]);

  // the panel: banner, segment, speakers, with the events the overlay listens to
  const panel = await post(srv, `${base}/panel`, { key: moderatorKey, body: { banner: '第二部分：停车', segment_id: 2, speaker_ids: [1, 3] } });
  assert.equal(panel.status, 200, panel.text);
  assert.equal(panel.json.panel.banner, '第二部分：停车');
  await viewer.waitEvent('panel.changed', (e) => e.panel.banner === '第二部分：停车');
  state = await getState(srv, code);
  assert.equal(state.json.banner, '第二部分：停车');
  assert.equal(state.json.segment.title, '民生热点');
  assert.deepEqual(state.json.speakers.map((p) => p.name), ['王书记', '张教授']);

  // the transcript names the studio panel as the actor
  const tr = await fetch(`${srv.url}${base}/transcript.json`, { headers: { authorization: `Bearer ${srv.producerKey}` } });
  const events = (await tr.json()).events;
  assert.ok(events.some((e) => e.kind === 'onair.changed' && e.actor === 'moderator:studio'), 'actor recorded');

  // the queue is empty now: next is a conflict, like onair.next over the WebSocket
  await post(srv, `${base}/onair/next`, { key: moderatorKey }); // b goes on air
  const empty = await post(srv, `${base}/onair/next`, { key: moderatorKey });
  assert.equal(empty.status, 409, empty.text);
});

test('the command API refuses wrong keys, foreign sessions, bad bodies and other methods with fitting statuses', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const one = await setupSession(h, srv);
  const two = await setupSession(h, srv, { producer: one.producer, programId: one.programId });
  const base = `/api/sessions/${one.code}`;

  assert.equal((await post(srv, `${base}/onair/next`)).status, 401);
  assert.equal((await post(srv, `${base}/onair/next`, { key: 'not-a-key' })).status, 401);
  // another session's moderator key does not open this one; nor does any key an unknown session
  const foreign = await post(srv, `${base}/onair/next`, { key: two.moderatorKey });
  assert.equal(foreign.status, 401, foreign.text);
  assert.equal((await post(srv, '/api/sessions/NOSUCH/onair/next', { key: one.moderatorKey })).status, 401);
  assert.equal((await post(srv, '/api/sessions/NOSUCH/onair/next', { key: srv.producerKey })).status, 404);

  // bodies: JSON objects only, only the route's fields, values checked as on the WebSocket
  const cases = [
    [{ body: '{"banner":', contentType: 'application/json' }, 400, 'bad_json'],
    [{ body: '[1,2]' }, 400, 'bad_json'],
    [{ body: 'banner=x', contentType: 'application/x-www-form-urlencoded' }, 415, 'unsupported_media_type'],
    [{ body: { banner: 'x', type: 'session.archive' } }, 400, 'bad_request'],
    [{ body: { segment_id: 99 } }, 404, 'not_found'],
    [{ body: { segment_id: 'two' } }, 400, 'bad_request'],
    [{ body: { banner: '长'.repeat(2001) } }, 400, 'too_long'],
    [{ body: '{"banner":"a\\u0000b"}' }, 400, 'bad_request'],
  ];
  for (const [opts, status, error] of cases) {
    const r = await post(srv, `${base}/panel`, { key: one.moderatorKey, ...opts });
    assert.equal(r.status, status, `${short(opts)} -> ${r.text}`);
    assert.equal(r.json?.ok, false, r.text);
    assert.equal(r.json?.error, error, r.text);
  }
  const bad = await post(srv, `${base}/panel`, { key: one.moderatorKey, body: { banner: 'x', typo: 1 } });
  assert.equal(bad.json.field, 'typo');

  // GET on a command is 405 with Allow: POST; POST on the state is 405 too
  const got = await fetch(`${srv.url}${base}/onair/next`, { headers: { authorization: `Bearer ${one.moderatorKey}` } });
  assert.equal(got.status, 405);
  assert.equal(got.headers.get('allow'), 'POST');
  const postState = await post(srv, `${base}/state`, { key: one.moderatorKey });
  assert.equal(postState.status, 405);

  // an archived session: every command is refused as session_closed (409)
  await one.producer.ok('session.start', { session: one.code });
  await one.producer.ok('session.end', { session: one.code });
  await one.producer.ok('session.archive', { session: one.code });
  const closed = await post(srv, `${base}/onair/clear`, { key: one.moderatorKey });
  assert.equal(closed.status, 409, closed.text);
  assert.equal(closed.json.error, 'session_closed');

  // a rotated moderator key stops working at once
  await one.producer.ok('session.rotate_key', { session: two.code }).catch(() => {});
  const rotated = await post(srv, `/api/sessions/${two.code}/onair/clear`, { key: two.moderatorKey });
  assert.equal(rotated.status, 401, rotated.text);

  // the state is public but only for sessions that exist
  assert.equal((await getState(srv, 'NOSUCH')).status, 404);
});

test('questions imported over HTTP enter as staff questions once per external_ref', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { code, moderatorKey } = await setupSession(h, srv, { premoderation: true });
  const mod = await h.moderator(srv, code, moderatorKey);
  const viewer = await h.viewer(srv, code);
  const url = `/api/sessions/${code}/questions`;
  const row = { text: '热线：老旧小区加装电梯补贴怎么申请？', category: 'need', source: 'hotline', author: '陈先生', to: '李主任', external_ref: '12345-2024-0007' };

  const first = await post(srv, url, { key: srv.producerKey, body: row });
  assert.equal(first.status, 200, first.text);
  const q = first.json.question;
  assert.equal(q.state, 'published', 'staff questions skip premoderation');
  assert.equal(q.source, 'hotline');
  assert.equal(q.to, 2);
  assert.equal(q.external_ref, '12345-2024-0007');
  assert.equal(first.json.existing, undefined);
  const ev = await viewer.waitEvent('question.published', (e) => e.question.id === q.id);
  assert.equal(ev.question.external_ref, undefined, 'viewers do not see the reference');

  // the same record again (a re-import, or the script retried): nothing new
  const again = await post(srv, url, { key: moderatorKey, body: { ...row, text: 'edited in the spreadsheet' } });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json.question.id, q.id);
  assert.equal(again.json.existing, true);
  const list = await mod.ok('questions.list', {});
  assert.equal(list.questions.filter((x) => x.external_ref === '12345-2024-0007').length, 1);
  // the next row of the sheet, with the same key, is a question of its own
  const next = await post(srv, url, { key: srv.producerKey, body: { text: '热线：小区停车难', external_ref: '12345-2024-0008' } });
  assert.equal(next.status, 200, next.text);
  assert.notEqual(next.json.question.id, q.id);
  assert.equal(next.json.question.text, '热线：小区停车难');

  // per-row errors a script can act on
  const noText = await post(srv, url, { key: moderatorKey, body: { source: 'form' } });
  assert.deepEqual([noText.status, noText.json.error, noText.json.field], [400, 'bad_request', 'text']);
  const badSource = await post(srv, url, { key: moderatorKey, body: { text: 'x', source: 'carried' } });
  assert.deepEqual([badSource.status, badSource.json.field], [400, 'source']);
  const nobody = await post(srv, url, { key: moderatorKey, body: { text: 'x', to: '不存在的人' } });
  assert.deepEqual([nobody.status, nobody.json.field], [404, 'to']);
  const form = await post(srv, url, { key: moderatorKey, body: { text: '表格里的问题', source: 'form' } });
  assert.equal(form.json.question.source, 'form');

  // it survives a restart: the reference still finds the question
  await srv.stop();
  const srv2 = await h.startServer({ dbPath: srv.dbPath, producerKey: srv.producerKey });
  const after = await post(srv2, url, { key: moderatorKey, body: row });
  assert.equal(after.json.question.id, q.id);
  assert.equal(after.json.existing, true);
  const fresh = await post(srv2, url, { key: srv.producerKey, body: { text: '重启后的新问题' } });
  assert.equal(fresh.json.question.text, '重启后的新问题');
  assert.equal(fresh.json.existing, undefined);
});

test('guessing the moderator key over the studio API is throttled per address', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { code, moderatorKey } = await setupSession(h, srv);
  const url = `/api/sessions/${code}/onair/clear`;
  const statuses = [];
  for (let i = 0; i < 12; i++) statuses.push((await post(srv, url, { key: `guess-${i}-xxxxxxxxxxxx` })).status);
  assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401));
  assert.equal(statuses[11], 429);
  const blocked = await post(srv, url, { key: moderatorKey });
  assert.equal(blocked.status, 429, 'while blocked, not even the right key is checked');
  assert.ok(Number(blocked.headers.get('retry-after')) >= 1);
  assert.equal(blocked.json.error, 'rate_limited');
  assert.match(srv.stderr, /too many wrong studio API keys over HTTP from 127\.0\.0\.1/);
});
