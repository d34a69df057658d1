// The rules a show's people rely on, over the real server (issue 15): a dismissed question can
// be restored (an event in the log, with who did it, undoable); the reason stays with the
// question for staff and the asker; staff see who did what; unnamed moderators never share an
// undo; the overlay is no audience; moderation in bulk and "ban and clear"; a name per
// question; follow-ups go to their question's panelist; a held question names its word;
// carry-over by pick, keeping where a question first came from.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { harness, marker, newToken, setupSession, sleep } from './lib.js';

const auth = (srv) => ({ authorization: `Bearer ${srv.producerKey}` });

test('restore: a dismissed question comes back, in the log with its actor, and undo takes it back', async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { code, moderatorKey } = await setupSession(h, srv);
  const modA = await h.moderator(srv, code, moderatorKey, '小王');
  const modB = await h.moderator(srv, code, moderatorKey, '小李');
  const asker = await h.viewer(srv, code, { name: '张阿姨' });
  const other = await h.viewer(srv, code, { name: '路人' });
  const q = (await asker.ok('question.submit', { text: '小区门口的路灯什么时候修？' })).question;

  const fromAsker = asker.mark();
  const fromOther = other.mark();
  await modA.ok('question.dismiss', { question_id: q.id, reason: '已转交街道办' });
  const mine = await asker.waitEvent('question.dismissed', (e) => e.question.id === q.id, 5000, fromAsker);
  assert.equal(mine.question.dismiss_reason, '已转交街道办', 'the asker is told why');
  const theirs = await other.waitEvent('question.dismissed', (e) => e.question.id === q.id, 5000, fromOther);
  assert.equal(theirs.question.dismiss_reason, undefined, 'other viewers are not');
  assert.equal(theirs.actor, undefined, 'viewers never see who acted');

  // Another action: the one-level undo no longer reaches the dismissal; restore does.
  const q2 = (await other.ok('question.submit', { text: '垃圾站能否搬远一点？' })).question;
  await modA.ok('question.star', { question_id: q2.id, starred: true });
  const conflict = await modA.request('question.approve', { question_id: q.id });
  assert.equal(conflict.code, 'conflict');
  assert.equal((await asker.request('question.restore', { question_id: q.id })).code, 'forbidden');
  assert.equal((await modB.request('question.restore', { question_id: q.id, state: 'answered' })).code, 'bad_request');

  const fromA = modA.mark();
  const back = await modB.ok('question.restore', { question_id: q.id });
  assert.equal(back.question.state, 'published');
  assert.equal(back.question.dismiss_reason, undefined);
  const ev = await modA.waitEvent('question.published', (e) => e.question.id === q.id, 5000, fromA);
  assert.equal(ev.restored, true);
  assert.equal(ev.actor, 'moderator:小李', 'staff see who restored it');
  await other.waitEvent('question.published', (e) => e.question.id === q.id && e.restored === true);
  assert.equal((await modB.request('question.restore', { question_id: q.id })).code, 'conflict');

  const undone = await modB.ok('question.undo');
  assert.equal(undone.undone, 'restore');
  const doc = await (await fetch(`${srv.url}/api/sessions/${code}/transcript.json`, { headers: auth(srv) })).json();
  const restored = doc.events.find((e) => e.kind === 'question.published' && e.restored);
  assert.equal(restored.actor, 'moderator:小李');
  assert.equal(doc.questions.find((x) => x.id === q.id).state, 'dismissed');
  assert.equal(doc.questions.find((x) => x.id === q.id).dismiss_reason, '已转交街道办', 'undo brings the reason back');

  // Back to review instead: the asker and staff hear of it, other viewers do not.
  const fromOther2 = other.mark();
  await modB.ok('question.restore', { question_id: q.id, state: 'pending' });
  await asker.waitEvent('question.updated', (e) => e.question.id === q.id && e.question.state === 'pending' && e.restored);
  await marker(modA, [other]);
  assert.equal(other.events('question.updated', fromOther2).filter((e) => e.question.id === q.id).length, 0);
});

test('unnamed moderators get names of their own: separate transcript names, separate undo', async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { code, moderatorKey } = await setupSession(h, srv);
  const a = await h.join(srv, code, 'moderator', moderatorKey, {}, { label: 'mod-a' });
  const b = await h.join(srv, code, 'moderator', moderatorKey, {}, { label: 'mod-b' });
  const viewer = await h.viewer(srv, code, { name: '观众' });
  const q = (await viewer.ok('question.submit', { text: '问题一' })).question;
  const from = b.mark();
  await a.ok('question.dismiss', { question_id: q.id });
  const ev = await b.waitEvent('question.dismissed', (e) => e.question.id === q.id, 5000, from);
  assert.match(ev.actor, /^moderator:moderator-[0-9a-f]{6}$/);
  assert.equal((await b.request('question.undo')).code, 'conflict', 'B has nothing to undo');
  const fromB = b.mark();
  assert.equal((await a.ok('question.undo')).undone, 'dismiss');
  const undo = await b.waitEvent('question.updated', (e) => e.question.id === q.id && e.undo, 5000, fromB);
  assert.equal(undo.actor, ev.actor);
});

test('the overlay is a display, not an audience: presence, peaks and metrics count viewers only', async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { code, moderatorKey } = await setupSession(h, srv);
  const mod = await h.moderator(srv, code, moderatorKey, '小王');
  const overlay = await h.join(srv, code, 'viewer', newToken(), { overlay: true }, { label: 'overlay' });
  const viewer = await h.viewer(srv, code, { name: '观众' });
  await mod.waitFor((m) => m.type === 'presence' && m.viewers === 1, 5000, 0, 'presence 1');
  await mod.waitEvent('viewers.peak', (e) => e.viewers === 1);
  await sleep(1500); // presence is checked every second: a miscount would show by now
  assert.deepEqual(mod.log.filter((m) => m.type === 'presence').map((m) => m.viewers).filter((n) => n > 1), []);
  assert.deepEqual(mod.events('viewers.peak').map((e) => e.viewers), [1]);
  const metrics = await (await fetch(`${srv.url}/metrics`)).text();
  assert.match(metrics, /forum_connections\{role="viewer"\} 1\n/);
  assert.match(metrics, /forum_connections\{role="overlay"\} 1\n/);

  // It sees what viewers see, and it only reads.
  await mod.ok('panel.set', { banner: '欢迎收看' });
  await overlay.waitEvent('panel.changed', (e) => e.panel.banner === '欢迎收看');
  const refused = await overlay.request('question.submit', { text: '显示屏不能提问' });
  assert.equal(refused.code, 'forbidden');
  assert.equal((await overlay.ok('questions.list')).questions.length, 0);
  assert.equal(viewer.isOpen, true);

  const c = await h.connect(srv);
  const r = await c.hello(code, 'moderator', moderatorKey, { overlay: true });
  assert.equal(r.code, 'bad_request');
  assert.equal(r.field, 'overlay');
});

test('moderation in bulk, and ban that clears the banned viewer\'s pending questions', async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { code, moderatorKey } = await setupSession(h, srv, { premoderation: true });
  const mod = await h.moderator(srv, code, moderatorKey, '小王');
  const troll = await h.viewer(srv, code, { name: '捣乱的' });
  const good = await h.viewer(srv, code, { name: '居民' });
  const spam = [];
  for (let i = 0; i < 5; i++) spam.push((await troll.ok('question.submit', { text: `刷屏广告 ${i}` })).question.id);
  const real = [];
  for (let i = 0; i < 3; i++) real.push((await good.ok('question.submit', { text: `真实的问题 ${i}` })).question.id);

  const approved = await mod.ok('questions.approve', { question_ids: real });
  assert.deepEqual(approved.questions.map((q) => q.state), ['published', 'published', 'published']);
  assert.deepEqual(approved.skipped, []);
  await good.waitEvent('question.published', (e) => e.question.id === real[2]);
  const again = await mod.ok('questions.approve', { question_ids: [real[0], spam[0]] });
  assert.deepEqual(again.skipped, [real[0]], 'what is no longer pending is reported, not refused');
  assert.equal((await mod.ok('question.undo')).undone, 'approve');

  assert.equal((await mod.request('questions.dismiss', { question_ids: [] })).code, 'bad_request');
  assert.equal((await mod.request('questions.dismiss', { question_ids: Array.from({ length: 101 }, (_, i) => i + 1) })).code, 'bad_request');
  assert.equal((await troll.request('questions.dismiss', { question_ids: [spam[1]] })).code, 'forbidden');

  const banned = await mod.ok('viewer.ban', { viewer_id: troll.viewerId, dismiss_pending: true, reason: '刷屏' });
  assert.equal(banned.banned, true);
  assert.deepEqual(banned.dismissed, spam);
  const dismissed = await troll.waitEvent('question.dismissed', (e) => e.question.id === spam[4]);
  assert.equal(dismissed.question.dismiss_reason, '刷屏');
  assert.equal((await troll.request('question.submit', { text: '还想刷' })).code, 'banned');
  const snap = (await h.producer(srv, code)).welcome.snapshot;
  assert.deepEqual(snap.questions.filter((q) => q.state === 'pending').map((q) => q.id), []);
});

test('names per question, follow-ups to their panelist, held questions name their word', async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { code, moderatorKey } = await setupSession(h, srv, { blocked_words: ['广告'] });
  const mod = await h.moderator(srv, code, moderatorKey, '小王');
  const viewer = await h.viewer(srv, code); // no name in the hello
  const first = await viewer.ok('question.submit', { text: '电梯什么时候装？', name: '张阿姨', to: 2 });
  assert.equal(first.question.author, '张阿姨', 'the name given with the question');
  const follow = await viewer.ok('question.submit', { text: '补贴多少？', parent_id: first.question.id, name: '张阿姨' });
  assert.equal(follow.question.to, 2, 'a follow-up goes to whom its question went');
  const all = await viewer.ok('question.submit', { text: '各位嘉宾怎么看？', parent_id: first.question.id, to: null });
  assert.equal(all.question.to, null);
  assert.equal(all.question.author, null, 'no name given and none in the hello: anonymous');

  const from = mod.mark();
  const held = await viewer.ok('question.submit', { text: '免费领广告礼品', name: '张阿姨' });
  assert.equal(held.question.state, 'pending');
  assert.equal(held.question.held_for, undefined, 'the asker is not told which word');
  const ev = await mod.waitEvent('question.submitted', (e) => e.question.id === held.question.id, 5000, from);
  assert.equal(ev.question.held_for, '广告');
});

test('carry-over: the producer picks which questions; they keep where they first came from', async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const s1 = await setupSession(h, srv);
  const mod = await h.moderator(srv, s1.code, s1.moderatorKey, '小王');
  const viewer = await h.viewer(srv, s1.code, { name: '居民' });
  const phone = (await mod.ok('question.submit', { text: '热线：公交站太远', source: 'phone', author: '顾先生' })).question;
  const web = (await viewer.ok('question.submit', { text: '网上：停车难' })).question;
  const s2 = await setupSession(h, srv, { producer: s1.producer, programId: s1.programId, title: '下一期', scheduled_at: Date.now() + 7 * 86400000 });
  const picked = await s1.producer.ok('session.carry_over', { from: s1.code, to: s2.code, question_ids: [phone.id] });
  assert.equal(picked.questions.length, 1);
  assert.equal(picked.questions[0].source, 'carried');
  assert.equal(picked.questions[0].carried_source, 'phone');
  assert.equal(picked.questions[0].carried_question_id, phone.id);
  const bad = await s1.producer.request('session.carry_over', { from: s1.code, to: s2.code, question_ids: [phone.id, 999999] });
  assert.equal(bad.code, 'not_found');
  assert.equal(bad.field, 'question_ids');
  const rest = await s1.producer.ok('session.carry_over', { from: s1.code, to: s2.code });
  assert.deepEqual(rest.questions.map((q) => q.carried_question_id), [web.id]);
  assert.deepEqual(rest.already_carried, [phone.id]);
});
