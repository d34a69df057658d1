// Satisfaction ratings (满意度) over the real server: a viewer rates an answer given on air and
// later a commitment's delivery, one rating per viewer and item (changed by rating again);
// counts reach everyone coalesced and show on the board; comments are moderated like questions;
// the rules every viewer write follows (closed sessions, bans, rate limits, idempotent resends,
// erasure down to the database file).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

import { harness, marker, setupSession, sleep } from './lib.js';

async function board(srv, programId, q = '') {
  const res = await fetch(`${srv.url}/api/programs/${programId}/commitments${q}`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, json: await res.json() };
}

/** A live show with one answered question (qA) and one still published (qP). */
async function answeredShow(h, srv, opts = {}) {
  const s = await setupSession(h, srv, opts);
  const mod = await h.moderator(srv, s.code, s.moderatorKey);
  const asker = await h.viewer(srv, s.code, { name: '张阿姨' });
  const qA = (await asker.ok('question.submit', { text: '楼道灯坏了谁来修？' })).question;
  const qP = (await asker.ok('question.submit', { text: '垃圾房什么时候翻新？' })).question;
  if (qA.state === 'pending') {
    await mod.ok('question.approve', { question_id: qA.id });
    await mod.ok('question.approve', { question_id: qP.id });
  }
  await s.producer.ok('session.start', { session: s.code });
  await mod.ok('onair.set', { question_id: qA.id });
  await mod.ok('question.answered', { question_id: qA.id, note: '物业本周修好' });
  return { ...s, mod, asker, qA, qP };
}

const counts = (ev, key, id) => ev.ratings.find((c) => c[key] === id);

test('rating an answer: answered questions only, one rating per viewer, changeable, counts coalesced', async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const s = await answeredShow(h, srv);
  const a = await h.viewer(srv, s.code, { name: '甲' });
  const b = await h.viewer(srv, s.code, { name: '乙' });

  const early = await a.request('rating.set', { question_id: s.qP.id, value: 'satisfied' });
  assert.equal(early.code, 'conflict', 'a question not yet answered cannot be rated');
  const bad = await a.request('rating.set', { question_id: s.qA.id, value: 'great' });
  assert.equal(bad.code, 'bad_request');
  assert.equal(bad.field, 'value');
  const both = await a.request('rating.set', { question_id: s.qA.id, action_id: 1, value: 'satisfied' });
  assert.equal(both.code, 'bad_request');
  const missing = await a.request('rating.set', { question_id: 99999, value: 'satisfied' });
  assert.equal(missing.code, 'not_found');

  const modFrom = s.mod.mark();
  const bFrom = b.mark();
  const r1 = await a.ok('rating.set', { question_id: s.qA.id, value: 'satisfied' });
  assert.equal(r1.rating.value, 'satisfied');
  assert.equal(r1.rating.question_id, s.qA.id);
  assert.equal(r1.rating.viewer_id, undefined);
  await b.ok('rating.set', { question_id: s.qA.id, value: 'dissatisfied' });
  const ev = await b.waitEvent('ratings.changed', (e) => {
    const c = counts(e, 'question_id', s.qA.id);
    return c && c.satisfied === 1 && c.dissatisfied === 1;
  }, 5000, bFrom);
  assert.deepEqual(counts(ev, 'question_id', s.qA.id), { question_id: s.qA.id, satisfied: 1, basically_satisfied: 0, dissatisfied: 1 });
  // who rated what is staff business: viewers get counts only
  assert.equal(b.events('rating.changed', bFrom).filter((e) => e.rating.value === 'satisfied').length, 0);
  const staffEv = await s.mod.waitEvent('rating.changed', (e) => e.rating.value === 'satisfied', 5000, modFrom);
  assert.equal(staffEv.rating.viewer_id, a.viewerId);

  // rating again changes it; the same rating again is acked without an event
  const r2 = await a.ok('rating.set', { question_id: s.qA.id, value: 'basically_satisfied' });
  assert.equal(r2.rating.id, r1.rating.id);
  await b.waitEvent('ratings.changed', (e) => {
    const c = counts(e, 'question_id', s.qA.id);
    return c && c.satisfied === 0 && c.basically_satisfied === 1;
  }, 5000, bFrom);
  const before = s.mod.events('rating.changed').length;
  await a.ok('rating.set', { question_id: s.qA.id, value: 'basically_satisfied' });
  await marker(s.mod, [s.mod], 'after-repeat');
  assert.equal(s.mod.events('rating.changed').length, before, 'an identical rating makes no event');

  // a welcome carries the counts and the viewer's own rating
  const again = await h.viewer(srv, s.code, { token: a.token });
  const snap = again.welcome.snapshot;
  assert.deepEqual(snap.rating_counts.find((c) => c.question_id === s.qA.id),
    { question_id: s.qA.id, satisfied: 0, basically_satisfied: 1, dissatisfied: 1 });
  assert.deepEqual(snap.my_ratings.map((x) => [x.question_id, x.value]), [[s.qA.id, 'basically_satisfied']]);
  const other = await h.viewer(srv, s.code);
  assert.deepEqual(other.welcome.snapshot.my_ratings, []);
  // staff moderate the answer ratings' comments from their welcome
  const staffSnap = (await h.moderator(srv, s.code, s.moderatorKey, '副主持')).welcome.snapshot;
  assert.ok(Array.isArray(staffSnap.ratings));
  assert.equal(staffSnap.ratings_complete, true);
});

test('a commitment\'s delivery is rated from a later session; comments are moderated like questions', async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const s = await answeredShow(h, srv, { blocked_words: ['骗子'] });
  const act = (await s.mod.ok('action.create', { question_id: s.qA.id, text: '一周内修好楼道灯', owner: '物业' })).action;
  const held = (await s.producer.ok('action.create', { session: s.code, text: '内部跟进', publication: 'staff' })).action;
  const v = await h.viewer(srv, s.code, { name: '丙' });
  const notYet = await v.request('rating.set', { action_id: act.id, value: 'satisfied' });
  assert.equal(notYet.code, 'not_found', 'a commitment is rated once it is public');
  await s.producer.ok('session.end', { session: s.code });
  // the rest of the show's audience may still rate after the end
  await v.ok('rating.set', { question_id: s.qA.id, value: 'satisfied', comment: '修得很快' });
  const next = await setupSession(h, srv, { producer: s.producer, programId: s.programId, title: '下一期', premoderation: true });
  const nextMod = await h.moderator(srv, next.code, next.moderatorKey);
  const w = await h.viewer(srv, next.code, { token: v.token, name: '丙' });
  const r = await w.ok('rating.set', { action_id: act.id, value: 'dissatisfied', comment: '灯还是不亮' });
  assert.equal(r.rating.comment_state, 'pending', 'the next session premoderates');
  assert.equal(r.rating.session, next.code);
  assert.equal((await w.request('rating.set', { action_id: held.id, value: 'satisfied' })).code, 'not_found');
  const otherProgramme = await setupSession(h, srv, { producer: s.producer, programTitle: '另一个节目' });
  const x = await h.viewer(srv, otherProgramme.code, { token: v.token });
  assert.equal((await x.request('rating.set', { action_id: act.id, value: 'satisfied' })).code, 'not_found');

  // the board shows counts at once; the comment once approved
  await sleep(250);
  let b = await board(srv, s.programId);
  let item = b.json.commitments.find((c) => c.id === act.id);
  assert.deepEqual(item.ratings, { satisfied: 0, basically_satisfied: 0, dissatisfied: 1 });
  assert.deepEqual(item.comments, []);
  assert.deepEqual(item.question.ratings, { satisfied: 1, basically_satisfied: 0, dissatisfied: 0 });
  assert.deepEqual(item.question.comments.map((c) => c.text), ['修得很快']);
  assert.deepEqual(nextMod.welcome.snapshot.ratings, [], 'nothing to moderate when the moderator joined');
  const staffSnap = (await h.moderator(srv, next.code, next.moderatorKey, '二号')).welcome.snapshot;
  assert.deepEqual(staffSnap.ratings.map((x) => [x.id, x.comment_state]), [[r.rating.id, 'pending']]);
  await nextMod.ok('rating.approve', { rating_id: r.rating.id });
  b = await board(srv, s.programId);
  item = b.json.commitments.find((c) => c.id === act.id);
  assert.deepEqual(item.comments.map((c) => [c.text, c.value]), [['灯还是不亮', 'dissatisfied']]);
  assert.ok(!JSON.stringify(b.json).includes(v.viewerId));
  // moderation is the rating's session's: the first session's staff cannot touch it
  assert.equal((await s.mod.request('rating.dismiss', { rating_id: r.rating.id })).code, 'not_found');
  await nextMod.ok('rating.dismiss', { rating_id: r.rating.id });
  b = await board(srv, s.programId);
  assert.deepEqual(b.json.commitments.find((c) => c.id === act.id).comments, []);
  assert.equal((await nextMod.request('rating.approve', { rating_id: r.rating.id })).code, 'conflict');
  // a blocked word holds a comment for review even without premoderation
  const z = await h.viewer(srv, s.code, { name: '戊' });
  const held2 = await z.ok('rating.set', { question_id: s.qA.id, value: 'dissatisfied', comment: '物业是骗子' });
  assert.equal(held2.rating.comment_state, 'pending');
  const long = await z.request('rating.set', { question_id: s.qA.id, value: 'dissatisfied', comment: '长'.repeat(201) });
  assert.equal(long.code, 'too_long');
  // removing the comment keeps the rating
  const cleared = await z.ok('rating.set', { question_id: s.qA.id, value: 'dissatisfied', comment: null });
  assert.equal(cleared.rating.comment, null);
  assert.equal(cleared.rating.comment_state, null);
});

test('ratings follow the rules of every viewer write: status, bans, rate limits, resends', async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const s = await answeredShow(h, srv);
  const v = await h.viewer(srv, s.code, { name: '快手' });
  // votes' budget: 10 a second (alternating values so that none is a repeat)
  const values = ['satisfied', 'dissatisfied'];
  const replies = await Promise.all(Array.from({ length: 16 }, (_, i) =>
    v.request('rating.set', { question_id: s.qA.id, value: values[i % 2] })));
  const limited = replies.filter((r) => r.code === 'rate_limited');
  assert.ok(limited.length >= 1, 'a burst of ratings is rate limited');
  assert.ok(limited.every((r) => r.retry_after_ms > 0));
  await sleep(1100);
  // a comment counts as a question: 6 a minute
  const withComments = [];
  for (let i = 0; i < 8; i++) withComments.push(await v.request('rating.set', { question_id: s.qA.id, value: 'satisfied', comment: `第${i}条意见` }));
  assert.ok(withComments.some((r) => r.code === 'rate_limited'));
  // an identical resend is acked even while limited (it changes nothing)
  const last = withComments.filter((r) => r.type === 'ack').pop();
  const resend = await v.request('rating.set', { question_id: s.qA.id, value: 'satisfied', comment: last.rating.comment });
  assert.equal(resend.type, 'ack');

  const banned = await h.viewer(srv, s.code, { name: '捣乱' });
  await s.mod.ok('viewer.ban', { viewer_id: banned.viewerId });
  assert.equal((await banned.request('rating.set', { question_id: s.qA.id, value: 'dissatisfied' })).code, 'banned');
  assert.equal((await s.mod.request('rating.set', { question_id: s.qA.id, value: 'satisfied' })).code, 'forbidden');

  await s.producer.ok('session.end', { session: s.code });
  await v.ok('rating.set', { question_id: s.qA.id, value: 'basically_satisfied' });
  await s.producer.ok('session.archive', { session: s.code });
  assert.equal((await v.request('rating.set', { question_id: s.qA.id, value: 'dissatisfied' })).code, 'session_closed');
  const draft = await setupSession(h, srv, { producer: s.producer, programId: s.programId, open: false });
  const d = await h.viewer(srv, draft.code);
  assert.equal((await d.request('rating.set', { question_id: s.qA.id, value: 'satisfied' })).code, 'session_closed');
});

test('erasing a viewer anonymises their ratings, in the events, the projection and the file', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const s = await answeredShow(h, srv);
  const her = await h.viewer(srv, s.code, { name: '李秀英阿姨' });
  const vid = her.viewerId;
  const r = await her.ok('rating.set', { question_id: s.qA.id, value: 'dissatisfied', comment: '修了又坏' });
  await marker(s.mod, [s.mod], 'rated');
  await sleep(250);
  const erased = await s.producer.ok('viewer.erase', { session: s.code, viewer_id: vid });
  const snap = (await h.producer(srv, s.code)).welcome.snapshot;
  const row = snap.ratings.find((x) => x.id === r.rating.id);
  assert.equal(row.viewer_id, erased.placeholder);
  assert.equal(row.comment, '修了又坏', 'the rating and its comment stay, anonymised');
  assert.deepEqual(snap.rating_counts.find((c) => c.question_id === s.qA.id).dissatisfied, 1);
  // the device no longer owns the rating: rating again is a new rating of its own
  const again = await h.viewer(srv, s.code, { token: her.token });
  assert.deepEqual(again.welcome.snapshot.my_ratings, []);

  await srv.stop();
  for (const file of [srv.dbPath, `${srv.dbPath}-wal`]) {
    if (!existsSync(file)) continue;
    assert.ok(!readFileSync(file).includes(Buffer.from(vid)), `viewer id left in ${file}`);
  }
  const py = 'import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); print(db.execute("select viewer_id from ratings where id=?", (int(sys.argv[2]),)).fetchone()[0])';
  assert.equal(execFileSync('python3', ['-c', py, srv.dbPath, String(r.rating.id)]).toString().trim(), erased.placeholder);
  // replayed from the rewritten events, the server holds the same anonymised rating
  const back = await h.startServer({ dbPath: srv.dbPath, producerKey: srv.producerKey });
  const snap2 = (await h.producer(back, s.code)).welcome.snapshot;
  assert.deepEqual(snap2.ratings, snap.ratings);
  assert.deepEqual(snap2.rating_counts, snap.rating_counts);
});
