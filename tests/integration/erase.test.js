// Privacy: a producer erases one viewer's personal data (display name, device-derived viewer
// id) from a session. The questions stay, anonymised, in the transcript; nothing of the name
// or the id is left in the database file (events, projections, search index, free pages).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

import { harness, marker, setupSession, short, sleep } from './lib.js';

const NAME = '李秀英阿姨';

async function get(srv, p) {
  const res = await fetch(`${srv.url}${p}`, {
    headers: { authorization: `Bearer ${srv.producerKey}` }, signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, text: await res.text() };
}

/** Which of the needles occur in the database file or its WAL (raw bytes). */
function foundInFiles(dbPath, needles) {
  const found = [];
  for (const file of [dbPath, `${dbPath}-wal`]) {
    if (!existsSync(file)) continue;
    const bytes = readFileSync(file);
    for (const n of needles) if (bytes.includes(Buffer.from(n, 'utf8'))) found.push(`${n} in ${file}`);
  }
  return found;
}

const staffView = (snap) => snap.questions.map((q) => ({
  id: q.id, text: q.text, author: q.author, viewer_id: q.viewer_id, votes: q.votes, state: q.state,
}));

test('viewer.erase removes name and device id, keeps the anonymised questions', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { producer, code, moderatorKey } = await setupSession(h, srv, {});
  const mod = await h.moderator(srv, code, moderatorKey);
  const her = await h.viewer(srv, code, { name: NAME });
  const other = await h.viewer(srv, code, { name: '王先生' });
  const vid = her.viewerId;
  const q1 = (await her.ok('question.submit', { text: '小区门口的路灯坏了三个月' })).question;
  const q2 = (await her.ok('question.submit', { text: '能不能多安排几趟社区巴士？' })).question;
  const q3 = (await other.ok('question.submit', { text: '垃圾房什么时候翻新？' })).question;
  await her.ok('vote.add', { question_id: q3.id });
  await other.ok('vote.add', { question_id: q1.id });
  await producer.ok('session.start', { session: code });
  await mod.ok('onair.set', { question_id: q1.id });
  await mod.ok('question.answered', { question_id: q1.id, note: '本周修好' });
  await her.ok('question.edit', { question_id: q2.id, text: '能不能多安排几趟社区巴士？早上七点那班' });
  await mod.ok('question.star', { question_id: q2.id, starred: true }); // an undo record holds her id
  await mod.ok('viewer.ban', { viewer_id: vid });
  await marker(mod, [mod, other], 'before-erase');
  await sleep(250);
  const before = staffView((await h.producer(srv, code)).welcome.snapshot);

  const modFrom = mod.mark();
  const otherFrom = other.mark();
  const r = await producer.ok('viewer.erase', { session: code, viewer_id: vid });
  assert.match(r.placeholder, /^x[0-9a-f]{16}$/);
  assert.deepEqual(r.question_ids, [q1.id, q2.id]);
  assert.deepEqual(r.other_sessions, []);

  await t.test('staff and viewers see the anonymised questions', async () => {
    const ev = await mod.waitEvent('viewer.erased', () => true, 5000, modFrom);
    assert.equal(ev.viewer_id, r.placeholder);
    assert.ok(!JSON.stringify(ev).includes(vid) && !JSON.stringify(ev).includes(NAME));
    const upd = await other.waitEvent('question.updated', (e) => e.question.id === q1.id, 5000, otherFrom);
    assert.equal(upd.question.author, null);
    assert.equal(upd.question.text, '小区门口的路灯坏了三个月');
    const after = staffView((await h.producer(srv, code)).welcome.snapshot);
    assert.deepEqual(after, before.map((q) => (q.viewer_id === vid
      ? { ...q, author: null, viewer_id: r.placeholder } : q)), 'only name and id changed; votes kept');
    // The device is no longer linked to those questions or votes. (It does not write here:
    // anything it sends now is new data of its own.)
    const again = await h.viewer(srv, code, { token: her.token });
    assert.equal(again.viewerId, vid);
    assert.ok(again.welcome.snapshot.questions.every((q) => !q.mine));
    assert.deepEqual(again.welcome.snapshot.my_votes, []);
  });

  await t.test('exports keep the questions without the person', async () => {
    const json = await get(srv, `/api/sessions/${code}/transcript.json`);
    assert.equal(json.status, 200);
    assert.ok(!json.text.includes(NAME), 'no name in transcript.json');
    assert.ok(!json.text.includes(vid), 'no viewer id in transcript.json');
    const doc = JSON.parse(json.text);
    const q = doc.questions.find((x) => x.id === q1.id);
    assert.equal(q.text, '小区门口的路灯坏了三个月');
    assert.equal(q.answer_note, '本周修好');
    assert.equal(q.author, null);
    const md = await get(srv, `/api/sessions/${code}/transcript.md`);
    assert.ok(md.text.includes('] 小区门口的路灯坏了三个月\n   - 提问：匿名\n'), md.text);
    assert.ok(!md.text.includes(NAME));
    const csv = await get(srv, `/api/sessions/${code}/questions.csv`);
    assert.ok(!csv.text.includes(NAME) && !csv.text.includes(vid));
    assert.ok(csv.text.includes('小区门口的路灯坏了三个月'));
  });

  await t.test('nothing of the name or id is left in the database file', async () => {
    const liveState = staffView((await h.producer(srv, code)).welcome.snapshot);
    await srv.stop();
    assert.deepEqual(foundInFiles(srv.dbPath, [NAME, vid]), []);
    const py = `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("select count(*) from search_index where body like '%' || ? || '%'", (sys.argv[2],)).fetchone()[0])
`;
    assert.equal(execFileSync('python3', ['-c', py, srv.dbPath, NAME]).toString().trim(), '0');
    // Restarted from the rewritten events, the server shows the same anonymised session.
    const again = await h.startServer({ dbPath: srv.dbPath, producerKey: srv.producerKey });
    const snap = (await h.producer(again, code)).welcome.snapshot;
    assert.deepEqual(staffView(snap), liveState.map((q) => q), 'replayed state = live state');
  });
});

test('erase works on archived sessions and names the other sessions', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const first = await setupSession(h, srv, {});
  const { producer } = first;
  const second = await setupSession(h, srv, { producer, programId: first.programId });
  const her = await h.viewer(srv, first.code, { name: NAME });
  await her.ok('question.submit', { text: '第一期的问题' });
  const there = await h.viewer(srv, second.code, { name: '小李', token: her.token });
  assert.equal(there.viewerId, her.viewerId, 'same device, same viewer id');
  await there.ok('question.submit', { text: '第二期的问题' });
  for (const step of ['session.start', 'session.end', 'session.archive']) {
    await producer.ok(step, { session: first.code });
  }
  const r = await producer.request('viewer.erase', { session: first.code, viewer_id: her.viewerId });
  assert.equal(r.type, 'ack', `erasure is the one write an archived session accepts: ${short(r)}`);
  assert.deepEqual(r.other_sessions, [second.code]);
  const mod = await h.moderator(srv, first.code, first.moderatorKey);
  assert.equal(mod.welcome.snapshot.questions[0].author, null);
  const r2 = await producer.ok('viewer.erase', { session: second.code, viewer_id: her.viewerId });
  assert.deepEqual(r2.other_sessions, []);
  const refused = await mod.request('viewer.erase', { viewer_id: her.viewerId });
  assert.equal(refused.code, 'forbidden', 'producers only');
  const bad = await producer.request('viewer.erase', { session: first.code, viewer_id: 'nobody' });
  assert.equal(bad.code, 'bad_request');
});

test('after an erasure, resuming from the start replays nothing of the erased viewer', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { producer, code, moderatorKey } = await setupSession(h, srv, {});
  const mod = await h.moderator(srv, code, moderatorKey);
  const her = await h.viewer(srv, code, { name: NAME });
  const vid = her.viewerId;
  const q = (await her.ok('question.submit', { text: '请问社区食堂几点开门？' })).question;
  await mod.ok('question.star', { question_id: q.id, starred: true });
  await producer.ok('viewer.erase', { session: code, viewer_id: vid });
  await marker(mod, [mod], 'after-erase');
  // Everything since the session began, to a viewer and to staff, from the server's memory
  // of recent events or from the database: the erased name and device id appear nowhere.
  for (const role of ['viewer', 'moderator']) {
    const c = role === 'viewer'
      ? await h.viewer(srv, code, { name: '路人', resume_from: 0 })
      : await h.join(srv, code, 'moderator', moderatorKey, { name: '复看', resume_from: 0 });
    assert.equal(c.welcome.resumed, true, `${role}: resumed, not a fresh snapshot`);
    const upto = c.welcome.seq;
    await c.waitFor((m) => m.type === 'event' && m.seq === upto || c.lastSeq() >= upto, 5000, 0,
      `${role}: events up to ${upto}`).catch(() => {});
    const text = c.raw.join('\n');
    assert.ok(c.events().length > 0, `${role}: events were replayed`);
    assert.ok(!text.includes(NAME), `${role}: the erased name was replayed: ${text.slice(0, 600)}`);
    assert.ok(!text.includes(vid), `${role}: the erased viewer id was replayed`);
  }
});
