// The rules of docs/protocol.md ("Rules" and "Field rules") beyond the show's happy path.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Expectations, harness, marker, newToken, setupSession, short } from './lib.js';

async function modSnapshot(h, srv, code, key) {
  const m = await h.moderator(srv, code, key, '核对员');
  const snap = m.welcome.snapshot;
  await m.close();
  return { snap, q: Object.fromEntries(snap.questions.map((x) => [x.id, x])) };
}

test('question states: who may edit, withdraw, vote, air, answer', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const A = await setupSession(h, srv, { blocked_words: ['敏感'] });
  const B = await setupSession(h, srv, { producer: A.producer, programId: A.programId, title: '另一场' });
  const mod = await h.moderator(srv, A.code, A.moderatorKey, '甲');
  const author = await h.viewer(srv, A.code, { name: '提问人' });
  const other = await h.viewer(srv, A.code, { name: '旁人' });
  const inB = await h.viewer(srv, B.code, { name: 'B场观众' });
  const e = new Expectations();

  const q1 = (await author.ok('question.submit', { text: '第一问' })).question.id;
  const q2 = (await author.ok('question.submit', { text: '第二问' })).question.id;
  const q3 = (await other.ok('question.submit', { text: '含敏感词的问题' })).question; // pending
  assert.equal(q3.state, 'pending');
  const q4 = (await mod.ok('question.submit', { text: '第四问', source: 'paper', author: null })).question;
  assert.equal(q4.author, null);
  assert.equal(q4.state, 'published');
  const qB = (await inB.ok('question.submit', { text: 'B场的问题' })).question.id;

  // editing: the author while pending/published, staff any
  const from = other.mark();
  await e.expect(author, 'question.edit', { question_id: q1, text: '第一问（补充）' }, 'ack');
  const upd = await other.waitEvent('question.updated', (x) => x.question?.id === q1, 5000, from);
  e.check(upd.question.text === '第一问（补充）', `question.updated text: ${short(upd)}`);
  await e.expect(mod, 'onair.set', { question_id: q1 }, 'ack');
  await e.expect(author, 'question.edit', { question_id: q1, text: '播出后修改' }, 'conflict', 'not once on air');
  await e.expect(author, 'question.withdraw', { question_id: q1 }, 'conflict', 'not once on air');
  await e.expect(mod, 'question.edit', { question_id: q1, text: '第一问（主持人修订）' }, 'ack', 'staff edit any');
  await e.expect(mod, 'question.answered', { question_id: q1, note: '已答' }, 'ack');
  await e.expect(author, 'question.withdraw', { question_id: q1 }, 'conflict', 'answered');
  await e.expect(author, 'question.edit', { question_id: q1, text: '答完再改' }, 'conflict', 'answered');

  // withdrawing a published question: everyone hears of it
  const from2 = other.mark();
  await e.expect(author, 'question.withdraw', { question_id: q2 }, 'ack');
  const wd = await other.waitEvent('question.withdrawn', (x) => x.question?.id === q2, 5000, from2).catch((err) => e.fail(err.message));
  e.check(!wd || wd.question.state === 'withdrawn', `withdrawn state: ${short(wd)}`);
  await e.expect(author, 'question.edit', { question_id: q2, text: '撤回后修改' }, 'conflict', 'withdrawn');
  await e.expect(mod, 'question.approve', { question_id: q2 }, 'conflict', 'approving a withdrawn question');
  await e.expect(mod, 'question.approve', { question_id: q4.id }, 'conflict', 'approve needs pending');
  await e.expect(mod, 'question.answered', { question_id: q3.id }, 'conflict', 'answered needs published/on_air');
  await e.expect(mod, 'question.dismiss', { question_id: q1 }, 'conflict', 'dismiss needs pending/published');

  // votes: published only; removing always allowed; repeats are acked no-ops
  await e.expect(other, 'vote.add', { question_id: q1 }, 'conflict', 'answered question');
  await e.expect(other, 'vote.remove', { question_id: q1 }, 'ack', 'removing is always allowed');
  // docs: a viewer may refer only to questions it can see; a withdrawn one is not_found to others
  await e.expect(other, 'vote.add', { question_id: q2 }, 'not_found', 'another viewer\'s withdrawn question');
  await e.expect(author, 'vote.add', { question_id: q2 }, 'conflict', 'own withdrawn question');
  await e.expect(author, 'vote.add', { question_id: q3.id }, ['conflict', 'not_found'], 'pending question');
  await e.expect(other, 'vote.add', { question_id: q4.id }, 'ack');
  await e.expect(other, 'vote.add', { question_id: q4.id }, 'ack', 'repeat');
  await e.expect(other, 'vote.remove', { question_id: q4.id }, 'ack');
  await e.expect(other, 'vote.remove', { question_id: q4.id }, 'ack', 'repeat');
  await e.expect(other, 'vote.add', { question_id: qB }, ['not_found', 'forbidden'], 'question of another session');

  // to and parent_id
  await e.expect(author, 'question.submit', { text: '问张教授', to: 3 }, 'ack');
  await e.expect(author, 'question.submit', { text: '问不存在的人', to: 4 }, 'not_found', '', { field: 'to' });
  const pp = await author.request('question.submit', { text: '追问待审问题', parent_id: q3.id });
  e.check(pp.type === 'error' && ['not_found', 'conflict'].includes(pp.code) && pp.field === 'parent_id',
    `parent_id of a pending question -> ${short(pp)}`);
  const px = await author.request('question.submit', { text: '追问别的会场', parent_id: qB });
  e.check(px.type === 'error' && ['not_found', 'conflict'].includes(px.code) && px.field === 'parent_id',
    `parent_id in another session -> ${short(px)}`);

  // the air
  await e.expect(mod, 'onair.set', { question_id: q3.id }, 'conflict', 'pending cannot go on air');
  await e.expect(mod, 'onair.set', { question_id: q2 }, 'conflict', 'withdrawn cannot go on air');
  await e.expect(mod, 'onair.set', { question_id: q1 }, 'ack', 're-airing an answered question');
  await e.expect(mod, 'onair.set', { question_id: q4.id }, 'ack');
  let s = await modSnapshot(h, srv, A.code, A.moderatorKey);
  e.check(s.q[q1].state === 'answered', `re-aired answered question stays answered: ${s.q[q1].state}`);
  e.check(s.q[q4.id].state === 'on_air' && s.snap.panel.on_air === q4.id, `q4 on air: ${short(s.snap.panel)}`);
  await e.expect(mod, 'onair.clear', {}, 'ack');
  s = await modSnapshot(h, srv, A.code, A.moderatorKey);
  e.check(s.q[q4.id].state === 'published' && s.snap.panel.on_air === null, 'onair.clear returns it to published');
  await e.expect(mod, 'onair.next', {}, 'conflict', 'empty queue');

  // the queue
  const q5 = (await mod.ok('question.submit', { text: '第五问', source: 'phone', author: '钱先生' })).question.id;
  const q6 = (await mod.ok('question.submit', { text: '第六问', source: 'phone', author: '孙女士' })).question.id;
  await e.expect(mod, 'queue.set', { question_ids: [q3.id] }, 'conflict', 'published only');
  await e.expect(mod, 'queue.set', { question_ids: [q1] }, 'conflict', 'answered is not published');
  await e.expect(mod, 'queue.set', { question_ids: [q5, q5] }, ['bad_request', 'conflict'], 'no repeats');
  await e.expect(mod, 'queue.set', { question_ids: [987654] }, ['not_found', 'conflict'], 'unknown id');
  await e.expect(mod, 'queue.set', { question_ids: [q5, q6, q4.id] }, 'ack');
  const from3 = other.mark();
  await e.expect(mod, 'question.dismiss', { question_id: q5, reason: '重复' }, 'ack');
  const qc = await other.waitEvent('queue.changed', () => true, 5000, from3).catch((err) => e.fail(err.message));
  e.check(JSON.stringify(qc?.up_next) === JSON.stringify([q6, q4.id]), `a dismissed question leaves the queue: ${short(qc)}`);
  const dm = other.events('question.dismissed', from3).find((x) => x.question?.id === q5);
  e.check(dm?.reason === '重复' || dm?.reason === undefined, `dismiss reason: ${short(dm)}`);
  e.check(!!dm, 'a public question\'s dismissal reaches viewers');
  await e.expect(mod, 'queue.set', { question_ids: [] }, 'ack', 'empty queue');
  e.assertClean('question rules');
});

test('merge and undo', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const A = await setupSession(h, srv, { blocked_words: ['待审'] });
  const mod = await h.moderator(srv, A.code, A.moderatorKey, '甲');
  const mod2 = await h.moderator(srv, A.code, A.moderatorKey, '乙');
  const [va, vb, vc] = await Promise.all(['甲观众', '乙观众', '丙观众'].map((name) => h.viewer(srv, A.code, { name })));
  const e = new Expectations();
  const sub = async (v, text) => (await v.ok('question.submit', { text })).question.id;
  const snap = () => modSnapshot(h, srv, A.code, A.moderatorKey);

  // merge: votes of viewers who had not voted for the target move to it
  const target = await sub(va, '电梯问题');
  const dup = await sub(vb, '电梯问题（重复）');
  await va.ok('vote.add', { question_id: target });
  await vb.ok('vote.add', { question_id: target });
  await vb.ok('vote.add', { question_id: dup });
  await vc.ok('vote.add', { question_id: dup });
  const from = vc.mark();
  await e.expect(mod, 'question.merge', { question_id: dup, into_id: dup }, ['bad_request', 'conflict'], 'not the same');
  await e.expect(mod, 'question.merge', { question_id: dup, into_id: target }, 'ack');
  const me = await vc.waitEvent('question.merged', (x) => x.question?.id === dup, 5000, from).catch((err) => e.fail(err.message));
  e.check(me?.question?.state === 'dismissed', `merged question is dismissed: ${short(me)}`);
  e.check(me?.into?.id === target, `question.merged carries into: ${short(me)}`);
  let s = await snap();
  e.check(s.q[target].votes === 3, `target has 3 votes (a, b, c), got ${s.q[target].votes}`);
  e.check(s.q[dup].state === 'dismissed' && s.q[dup].merged_into === target, `merged: ${short(s.q[dup])}`);
  await e.expect(mod, 'question.merge', { question_id: target, into_id: dup }, 'conflict', 'target dismissed');
  // undo the merge: both questions and their votes come back
  await e.expect(mod, 'question.undo', {}, 'ack');
  s = await snap();
  e.check(s.q[dup].state === 'published', `undo merge restores the merged question: ${s.q[dup].state}`);
  e.check(s.q[dup].votes === 2 && s.q[target].votes === 2, `undo merge restores votes: dup ${s.q[dup].votes}, target ${s.q[target].votes}`);

  // undo approve
  const pend = (await vc.ok('question.submit', { text: '这个需要待审' })).question;
  assert.equal(pend.state, 'pending');
  await e.expect(mod, 'question.approve', { question_id: pend.id }, 'ack');
  await e.expect(mod, 'question.undo', {}, 'ack');
  s = await snap();
  e.check(s.q[pend.id].state === 'pending', `undo approve -> pending: ${s.q[pend.id].state}`);

  // undo dismiss
  await e.expect(mod, 'question.dismiss', { question_id: target }, 'ack');
  await e.expect(mod, 'question.undo', {}, 'ack');
  s = await snap();
  e.check(s.q[target].state === 'published' && s.q[target].votes === 2, `undo dismiss: ${short(s.q[target])}`);

  // undo star; undo is per moderator
  await e.expect(mod2, 'question.star', { question_id: dup, starred: true }, 'ack');
  await e.expect(mod, 'question.star', { question_id: target, starred: true }, 'ack');
  await e.expect(mod, 'question.undo', {}, 'ack');
  s = await snap();
  e.check(s.q[target].starred === false, 'undo star');
  e.check(s.q[dup].starred === true, "one moderator's undo leaves another's action alone");

  // undo onair.set restores the previous air
  await e.expect(mod, 'onair.set', { question_id: target }, 'ack');
  await e.expect(mod, 'onair.set', { question_id: dup }, 'ack');
  await e.expect(mod, 'question.undo', {}, 'ack');
  s = await snap();
  e.check(s.snap.panel.on_air === target, `undo onair.set restores the air: ${s.snap.panel.on_air}`);
  e.check(s.q[dup].state === 'published' && s.q[target].state === 'on_air', `states after undo onair.set: ${s.q[dup].state}/${s.q[target].state}`);

  // undo answered restores the state and the air
  await e.expect(mod, 'question.answered', { question_id: target, note: '答复' }, 'ack');
  await e.expect(mod, 'question.undo', {}, 'ack');
  s = await snap();
  e.check(s.q[target].state === 'on_air' && s.snap.panel.on_air === target, `undo answered: ${s.q[target].state}, air ${s.snap.panel.on_air}`);

  // undo staff edit
  await e.expect(mod, 'question.edit', { question_id: dup, text: '主持人改写' }, 'ack');
  await e.expect(mod, 'question.undo', {}, 'ack');
  s = await snap();
  e.check(s.q[dup].text === '电梯问题（重复）', `undo edit: ${s.q[dup].text}`);

  // nothing to undo
  const mod3 = await h.moderator(srv, A.code, A.moderatorKey, '丙');
  await e.expect(mod3, 'question.undo', {}, 'conflict', 'nothing to undo');
  e.assertClean('merge and undo');
});

test('polls: options, ballots, states', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const A = await setupSession(h, srv);
  const mod = await h.moderator(srv, A.code, A.moderatorKey);
  const v = await h.viewer(srv, A.code, { name: '投票人' });
  const e = new Expectations();

  await e.expect(mod, 'poll.create', { title: '一个选项', options: ['唯一'] }, 'bad_request', '2..10 options');
  await e.expect(mod, 'poll.create', { title: '十一个选项', options: Array.from({ length: 11 }, (_, i) => `选项${i}`) },
    ['bad_request', 'too_long'], '2..10 options');
  await e.expect(mod, 'poll.create', { title: '', options: ['甲', '乙'] }, 'bad_request', 'empty title');
  const single = (await mod.ok('poll.create', { title: '单选', options: ['甲', '乙', '丙'] })).poll;
  const multi = (await mod.ok('poll.create', { title: '多选', options: ['甲', '乙', '丙'], multi: true })).poll;
  e.check(multi.multi === true, 'multi');
  await e.expect(v, 'poll.vote', { poll_id: single.id, option_ids: [1] }, ['conflict', 'not_found'], 'draft poll');
  await e.expect(mod, 'poll.close', { poll_id: single.id }, 'conflict', 'draft -> closed is not a transition');
  await e.expect(mod, 'poll.open', { poll_id: single.id }, 'ack');
  await e.expect(mod, 'poll.open', { poll_id: single.id }, 'conflict', 'already open');
  await e.expect(mod, 'poll.open', { poll_id: multi.id }, 'ack');
  await e.expect(v, 'poll.vote', { poll_id: single.id, option_ids: [1, 2] }, 'bad_request', 'single choice');
  await e.expect(v, 'poll.vote', { poll_id: single.id, option_ids: [] }, 'bad_request', 'no option');
  await e.expect(v, 'poll.vote', { poll_id: single.id, option_ids: [4] }, ['bad_request', 'not_found'], 'no such option');
  await e.expect(v, 'poll.vote', { poll_id: multi.id, option_ids: [1, 1] }, 'bad_request', 'distinct options');
  await e.expect(v, 'poll.vote', { poll_id: multi.id, option_ids: [1, 3] }, 'ack');
  await e.expect(v, 'poll.vote', { poll_id: multi.id, option_ids: [2] }, 'ack', 'a new ballot replaces the old');
  await e.expect(v, 'poll.vote', { poll_id: single.id, option_ids: [3] }, 'ack');
  const counts = (p) => p.options.map((o) => o.votes);
  const ev = await v.waitEvent('poll.changed', (x) => x.poll?.id === multi.id && JSON.stringify(counts(x.poll)) === '[0,1,0]')
    .catch((err) => e.fail(err.message));
  e.check(!!ev, 'multi poll counts after the replacement ballot: [0,1,0]');
  const again = await h.viewer(srv, A.code, { token: v.token });
  const polls = Object.fromEntries(again.welcome.snapshot.polls.map((p) => [p.id, p]));
  e.check(JSON.stringify(polls[multi.id]?.my_option_ids) === '[2]', `my_option_ids: ${short(polls[multi.id])}`);
  e.check(JSON.stringify(polls[single.id]?.my_option_ids) === '[3]', `my_option_ids: ${short(polls[single.id])}`);
  await e.expect(mod, 'poll.close', { poll_id: single.id }, 'ack');
  await e.expect(mod, 'poll.close', { poll_id: single.id }, 'conflict', 'already closed');
  await e.expect(mod, 'poll.open', { poll_id: single.id }, 'conflict', 'closed -> open is not a transition');
  await e.expect(v, 'poll.vote', { poll_id: single.id, option_ids: [1] }, 'conflict', 'closed poll');
  e.assertClean('polls');
});

test('rate limits: questions per minute and votes per second', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const A = await setupSession(h, srv);
  const mod = await h.moderator(srv, A.code, A.moderatorKey);
  const v = await h.viewer(srv, A.code, { name: '话多的人' });
  for (let i = 0; i < 6; i++) await v.ok('question.submit', { text: `第${i + 1}个问题` });
  const r = await v.request('question.submit', { text: '第七个问题' });
  assert.equal(r.code, 'rate_limited', `7th question within a minute: ${short(r)}`);
  assert.ok(Number.isInteger(r.retry_after_ms) && r.retry_after_ms > 0, `retry_after_ms: ${short(r)}`);
  // per viewer, not per connection
  const v2 = await h.viewer(srv, A.code, { token: v.token });
  assert.equal((await v2.request('question.submit', { text: '换个连接再问' })).code, 'rate_limited');
  const s = await modSnapshot(h, srv, A.code, A.moderatorKey);
  assert.equal(s.snap.questions.length, 6, 'the refused question was not stored');

  // votes: 10 per second
  const q = s.snap.questions[0].id;
  const results = await Promise.all(Array.from({ length: 16 }, (_, i) =>
    v.request(i % 2 ? 'vote.remove' : 'vote.add', { question_id: q })));
  const codes = results.map((x) => (x.type === 'ack' ? 'ack' : x.code));
  assert.ok(codes.includes('rate_limited'), `16 votes at once: ${codes.join(',')}`);
  assert.ok(codes.filter((c) => c === 'ack').length >= 10, `at least 10 acked: ${codes.join(',')}`);

  // the limit is a session setting
  const B = await setupSession(h, srv, { producer: A.producer, programId: A.programId, extra: { question_rate_per_min: 2 } });
  const w = await h.viewer(srv, B.code, { name: '限两问' });
  await w.ok('question.submit', { text: '一' });
  await w.ok('question.submit', { text: '二' });
  assert.equal((await w.request('question.submit', { text: '三' })).code, 'rate_limited');
  await mod.close();
});

test('anonymity and names', { timeout: 20000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const A = await setupSession(h, srv, { anonymous_allowed: false });
  const e = new Expectations();
  const nameless = await h.viewer(srv, A.code, {});
  e.check(nameless.welcome.snapshot.session.anonymous_allowed === false, 'snapshot anonymous_allowed');
  await e.expect(nameless, 'question.submit', { text: '没有名字能问吗？' }, 'bad_request', 'a name is needed', { field: 'name' });
  const named = await h.viewer(srv, A.code, { name: '实名居民' });
  await e.expect(named, 'question.submit', { text: '匿名问', anonymous: true }, 'bad_request', 'anonymous refused', { field: 'anonymous' });
  const ok = await e.expect(named, 'question.submit', { text: '实名提问' }, 'ack');
  e.check(ok?.question?.author === '实名居民', `author: ${short(ok)}`);

  const B = await setupSession(h, srv, { producer: A.producer, programId: A.programId, anonymous_allowed: true });
  const anon = await h.viewer(srv, B.code, { name: '想匿名的人' });
  const r = await e.expect(anon, 'question.submit', { text: '匿名提问', anonymous: true }, 'ack');
  e.check(r?.question?.author === null, `anonymous author is null: ${short(r)}`);
  const mod = await h.moderator(srv, B.code, B.moderatorKey);
  const mq = mod.welcome.snapshot.questions.find((x) => x.id === r?.question?.id);
  e.check(mq?.author === null && mq?.viewer_id === anon.viewerId, `staff still see who asked: ${short(mq)}`);
  const noName = await h.viewer(srv, B.code, {});
  const r2 = await e.expect(noName, 'question.submit', { text: '没报名字' }, 'ack');
  e.check(r2?.question?.author === null, 'no name: author null');

  // names: 1..40 code points
  const c40 = await h.connect(srv);
  const w40 = await c40.hello(B.code, 'viewer', newToken(), { name: '名'.repeat(40) });
  e.check(w40.type === 'welcome', `40-character name: ${short(w40)}`);
  const c41 = await h.connect(srv);
  const w41 = await c41.hello(B.code, 'viewer', newToken(), { name: '名'.repeat(41) });
  e.check(w41.type === 'error' && w41.code === 'too_long' && w41.field === 'name', `41-character name: ${short(w41)}`);
  e.assertClean('anonymity and names');
});

test('session status rules and who hears of them', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const studio = await h.producer(srv);
  const watcher = await h.producer(srv); // another studio-wide connection: hears everything
  const A = await setupSession(h, srv, { producer: studio, open: false, blocked_words: ['秘密词'] });
  const e = new Expectations();
  const mod = await h.moderator(srv, A.code, A.moderatorKey);
  const v = await h.viewer(srv, A.code, { name: '早到的人' });
  e.check(v.welcome.snapshot.session.status === 'draft', 'a viewer may join a draft session');
  await e.expect(v, 'question.submit', { text: '还没开始' }, 'session_closed', 'draft');
  await e.expect(mod, 'panel.set', { banner: '即将开始' }, 'ack', 'moderation works in draft');
  await e.expect(studio, 'session.end', { session: A.code }, 'conflict', 'draft -> ended');
  await e.expect(studio, 'session.archive', { session: A.code }, 'conflict', 'draft -> archived');
  await e.expect(studio, 'session.open', { session: A.code }, 'ack');
  await e.expect(studio, 'session.open', { session: A.code }, 'conflict', 'open -> open');
  await e.expect(studio, 'session.end', { session: A.code }, 'conflict', 'open -> ended');
  const q = await e.expect(v, 'question.submit', { text: '开场前提问' }, 'ack');
  e.check(q?.question?.phase === 'pre', 'phase pre');
  await e.expect(studio, 'session.start', { session: A.code }, 'ack');
  await e.expect(studio, 'session.open', { session: A.code }, 'conflict', 'live -> open');
  await e.expect(studio, 'session.archive', { session: A.code }, 'conflict', 'live -> archived');
  const q2 = await e.expect(v, 'question.submit', { text: '直播中提问' }, 'ack');
  e.check(q2?.question?.phase === 'live', 'phase live');
  await e.expect(studio, 'session.end', { session: A.code }, 'ack');
  await e.expect(studio, 'session.start', { session: A.code }, 'conflict', 'ended -> live');
  await e.expect(v, 'vote.add', { question_id: q?.question?.id }, 'session_closed', 'ended');
  await e.expect(mod, 'question.star', { question_id: q?.question?.id, starred: true }, 'ack', 'moderation works when ended');
  await e.expect(studio, 'session.update', { session: A.code, topic: '会后更新的主题' }, 'ack');
  await e.expect(studio, 'session.archive', { session: A.code }, 'ack');
  await e.expect(studio, 'session.update', { session: A.code, topic: '归档后' }, 'session_closed', 'archived');

  // draft -> live directly
  const B = await setupSession(h, srv, { producer: studio, programId: A.programId, open: false });
  await e.expect(studio, 'session.start', { session: B.code }, 'ack', 'start from draft');

  // session.changed: viewers without staff-only fields; studio-wide producers hear every session
  const sc = v.events('session.changed');
  e.check(sc.length >= 4, `viewer heard the status changes: ${sc.map((x) => x.session?.status)}`);
  e.check(sc.every((x) => !('blocked_words' in x.session)), 'no blocked_words in a viewer\'s session.changed');
  const modSc = mod.events('session.changed');
  e.check(modSc.some((x) => Array.isArray(x.session?.blocked_words)), 'staff session.changed carries blocked_words');
  await watcher.waitEvent('session.changed', (x) => x.session?.code === B.code && x.session.status === 'live')
    .catch((err) => e.fail(`studio-wide producer: ${err.message}`));
  e.check(watcher.events('session.changed').some((x) => x.session?.code === A.code && x.session.status === 'archived'),
    'studio-wide producer hears session A');
  const p = await studio.ok('program.update', { program_id: A.programId, title: '书记论坛（新版）' });
  e.check(p.program?.title === '书记论坛（新版）', short(p));
  await watcher.waitEvent('program.changed', (x) => x.program?.title === '书记论坛（新版）')
    .catch((err) => e.fail(`program.changed: ${err.message}`));
  e.check(v.events('program.changed').length === 0, 'program.changed is for studio-wide connections only');
  const snap = (await h.producer(srv)).welcome.snapshot;
  e.check(Array.isArray(snap.programs) && snap.programs.some((x) => x.id === A.programId), 'studio snapshot: programs');
  e.check(Array.isArray(snap.sessions) && snap.sessions.some((x) => x.code === B.code), 'studio snapshot: sessions');
  e.assertClean('session status');
});

test('envelope: replies in request order, request id limits', { timeout: 20000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const A = await setupSession(h, srv);
  const mod = await h.moderator(srv, A.code, A.moderatorKey);
  const v = await h.viewer(srv, A.code, { name: '连发' });
  const q = (await mod.ok('question.submit', { text: '靶子', source: 'phone', author: '某人' })).question.id;
  // a burst of mixed requests, pipelined: replies come back in the order sent
  const from = v.mark();
  const sent = [];
  for (let i = 0; i < 24; i++) {
    const id = `order-${i}`;
    sent.push(id);
    if (i % 4 === 0) v.send({ type: 'vote.add', id, question_id: q });
    else if (i % 4 === 1) v.send({ type: 'vote.add', id, question_id: 'bad' });
    else if (i % 4 === 2) v.send({ type: 'no.such.type', id });
    else v.send({ type: 'vote.remove', id, question_id: q });
  }
  await v.waitFor((m) => m.re === 'order-23', 5000, from, 'last reply');
  const replies = v.log.slice(from).filter((m) => typeof m.re === 'string' && m.re.startsWith('order-')).map((m) => m.re);
  assert.deepEqual(replies, sent, 'exactly one reply per request, in order');

  // request ids: 1..64 characters (on a fresh viewer: the burst above used up the vote budget)
  const v2 = await h.viewer(srv, A.code, { name: '长编号' });
  const long = 'x'.repeat(64);
  const r64 = await v2.request('vote.add', { question_id: q }, { id: long });
  assert.equal(r64.type, 'ack', `64-character id: ${short(r64)}`);
  const from2 = v2.mark();
  v2.send({ type: 'vote.add', id: 'y'.repeat(65), question_id: q });
  const r65 = await v2.waitFor((m) => m.type === 'error' || m.type === 'ack', 5000, from2);
  assert.equal(r65.type, 'error', `65-character id: ${short(r65)}`);
  assert.equal(r65.code, 'bad_request');
  assert.equal(r65.field, 'id');
  const from3 = v2.mark();
  v2.send({ type: 'vote.add', id: 7, question_id: q });
  const rNum = await v2.waitFor((m) => m.type === 'error' || m.type === 'ack', 5000, from3);
  assert.equal(rNum.code, 'bad_request', `numeric id: ${short(rNum)}`);
  assert.equal(rNum.field, 'id');
  await marker(mod, [v, v2], 'end');
});

test('documented ack shapes and acked no-ops', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const A = await setupSession(h, srv);
  const mod = await h.moderator(srv, A.code, A.moderatorKey, '甲');
  const v = await h.viewer(srv, A.code, { name: '形状' });
  const w = await h.viewer(srv, A.code, { name: '旁观' });
  const e = new Expectations();
  const keys = (r) => Object.keys(r ?? {}).filter((k) => k !== 'type' && k !== 're').sort().join(',');
  const shape = async (c, type, fields, want) => {
    const r = await e.expect(c, type, fields, 'ack');
    if (r?.type === 'ack') e.check(keys(r) === want, `${type} ack fields: {${keys(r)}}, docs: {${want}}`);
    return r;
  };
  const q1 = (await shape(v, 'question.submit', { text: '形状一' }, 'question'))?.question?.id;
  const q2 = (await shape(v, 'question.submit', { text: '形状二' }, 'question'))?.question?.id;
  const q3 = (await shape(v, 'question.submit', { text: '形状三' }, 'question'))?.question?.id;
  await shape(v, 'question.edit', { question_id: q3, text: '形状三（改）' }, 'question');
  const va = await shape(w, 'vote.add', { question_id: q1 }, 'question_id,voted');
  e.check(va?.question_id === q1 && va?.voted === true, short(va));
  const vr = await shape(w, 'vote.remove', { question_id: q1 }, 'question_id,voted');
  e.check(vr?.voted === false, short(vr));
  await shape(mod, 'question.star', { question_id: q1, starred: true }, 'question');
  await shape(mod, 'question.merge', { question_id: q2, into_id: q1 }, 'into,question');
  const qs = await shape(mod, 'queue.set', { question_ids: [q1] }, 'up_next');
  e.check(JSON.stringify(qs?.up_next) === JSON.stringify([q1]), short(qs));
  const on = await shape(mod, 'onair.next', {}, 'question_id');
  e.check(on?.question_id === q1, short(on));
  await e.expect(mod, 'onair.set', { question_id: q1 }, 'conflict', 'already on air');
  const off = await shape(mod, 'onair.clear', {}, 'question_id');
  e.check(off?.question_id === null, `onair.clear: ${short(off)}`);
  // the clear reaches w on its own connection, in no fixed order with mod's ack: wait for it
  await w.waitEvent('onair.changed', (x) => x.question_id === null);
  const from = w.mark();
  const off2 = await shape(mod, 'onair.clear', {}, 'question_id');
  e.check(off2?.question_id === null, `onair.clear with nothing on air: ${short(off2)}`);
  const set = await shape(mod, 'onair.set', { question_id: q3 }, 'question_id');
  e.check(set?.question_id === q3, short(set));
  await shape(mod, 'question.answered', { question_id: q3, note: '答' }, 'question');
  const ps = await shape(mod, 'panel.set', { banner: '横幅' }, 'panel');
  e.check(ps?.panel?.banner === '横幅', short(ps));
  const pc = await shape(mod, 'poll.create', { title: '投票', options: ['甲', '乙'] }, 'poll');
  const pollId = pc?.poll?.id;
  await shape(mod, 'poll.open', { poll_id: pollId }, 'poll');
  const b1 = await shape(v, 'poll.vote', { poll_id: pollId, option_ids: [2] }, 'option_ids,poll_id');
  e.check(JSON.stringify(b1?.option_ids) === '[2]', short(b1));
  await shape(v, 'poll.vote', { poll_id: pollId, option_ids: [2] }, 'option_ids,poll_id'); // identical: no event
  await shape(mod, 'poll.close', { poll_id: pollId }, 'poll');
  const ban = await shape(mod, 'viewer.ban', { viewer_id: w.viewerId }, 'banned,viewer_id');
  e.check(ban?.banned === true && ban?.viewer_id === w.viewerId, short(ban));
  await shape(mod, 'viewer.ban', { viewer_id: w.viewerId }, 'banned,viewer_id');
  const unban = await shape(mod, 'viewer.unban', { viewer_id: w.viewerId }, 'banned,viewer_id');
  e.check(unban?.banned === false, short(unban));
  await shape(mod, 'viewer.unban', { viewer_id: w.viewerId }, 'banned,viewer_id');
  const pend = (await v.ok('question.submit', { text: '形状四' })).question.id;
  await shape(v, 'question.withdraw', { question_id: pend }, 'question');
  await shape(mod, 'question.dismiss', { question_id: q1 }, 'question');
  await marker(mod, [w, mod], 'shapes');
  // no events for the no-ops
  const airs = w.events('onair.changed', from).map((x) => x.question_id);
  e.check(JSON.stringify(airs) === JSON.stringify([q3, null]), `onair.changed after the second clear: ${JSON.stringify(airs)} (want [${q3}, null]: set, then cleared by answered)`);
  e.check(mod.events('viewer.banned').length === 1, `viewer.banned events: ${mod.events('viewer.banned').length} for two bans`);
  e.check(mod.events('viewer.unbanned').length === 1, `viewer.unbanned events: ${mod.events('viewer.unbanned').length} for two unbans`);
  const tr = await (await fetch(`${srv.url}/api/sessions/${A.code}/transcript.json`, {
    headers: { authorization: `Bearer ${srv.producerKey}` }, signal: AbortSignal.timeout(5000),
  })).json();
  const voted = tr.events.filter((x) => x.kind === 'poll.voted');
  e.check(voted.length === 1, `poll.voted in the transcript: ${voted.length} for one ballot sent twice`);
  e.check(JSON.stringify(voted[0]?.option_ids) === '[2]' && voted[0]?.poll_id === pollId, `poll.voted payload: ${short(voted[0])}`);
  const added = tr.events.filter((x) => x.kind === 'vote.added');
  e.check(added.some((x) => x.question_id === q1), `vote.added carries question_id: ${short(added[0])}`);
  e.check(tr.events.filter((x) => x.kind === 'vote.removed').some((x) => x.question_id === q1), 'vote.removed in the transcript');
  e.assertClean('ack shapes');
});

test('undo: ack, undo-marked events, one level, refused after changes, survives a restart', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const A = await setupSession(h, srv);
  const modA = await h.moderator(srv, A.code, A.moderatorKey, '甲');
  const modB = await h.moderator(srv, A.code, A.moderatorKey, '乙');
  const v = await h.viewer(srv, A.code, { name: '观众' });
  const e = new Expectations();
  const q = [];
  for (let i = 0; i < 4; i++) q.push((await modA.ok('question.submit', { text: `撤销${i}`, source: 'phone', author: null })).question.id);

  const from = v.mark();
  await e.expect(modA, 'question.dismiss', { question_id: q[0] }, 'ack');
  const u = await e.expect(modA, 'question.undo', {}, 'ack');
  e.check(u?.undone === 'question.dismiss' || u?.undone === 'dismiss', `undo ack: ${short(u)}`);
  const ev = await v.waitEvent('question.updated', (x) => x.question?.id === q[0], 3000, from)
    .catch(() => v.events(null, from).find((x) => x.question?.id === q[0] && x.kind !== 'question.dismissed'));
  e.check(ev?.undo === true, `the undo's event carries undo:true: ${short(ev)}`);
  e.check(ev?.question?.state === 'published', `restored: ${short(ev)}`);
  await e.expect(modA, 'question.undo', {}, 'conflict', 'one level only');

  // refused when the air changed since
  await e.expect(modA, 'onair.set', { question_id: q[1] }, 'ack');
  await e.expect(modB, 'onair.set', { question_id: q[2] }, 'ack');
  await e.expect(modA, 'question.undo', {}, 'conflict', 'the air changed since');
  // ... or the question's state
  await e.expect(modA, 'question.dismiss', { question_id: q[3] }, 'ack');
  await e.expect(modB, 'question.approve', { question_id: q[3] }, 'conflict', 'dismissed is not pending');
  await e.expect(modA, 'question.dismiss', { question_id: q[1] }, 'ack');
  const { code } = A;
  // undo records survive a restart
  await srv.stop();
  const srv2 = await h.startServer({ dbPath: srv.dbPath, producerKey: srv.producerKey });
  const modA2 = await h.moderator(srv2, code, A.moderatorKey, '甲');
  const u2 = await e.expect(modA2, 'question.undo', {}, 'ack', 'undo after a restart');
  e.check(u2?.undone?.includes('dismiss'), `undone after restart: ${short(u2)}`);
  const snap = (await h.moderator(srv2, code, A.moderatorKey, '核对')).welcome.snapshot;
  e.check(snap.questions.find((x) => x.id === q[1])?.state === 'published', 'q1 restored after the restart');
  e.check(snap.questions.find((x) => x.id === q[3])?.state === 'dismissed', 'only the last action is undone');
  e.assertClean('undo');
});

test('edits that need review again; staff submissions are idempotent; phases', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const P = await setupSession(h, srv, { premoderation: true });
  const mod = await h.moderator(srv, P.code, P.moderatorKey, '甲');
  const author = await h.viewer(srv, P.code, { name: '作者' });
  const other = await h.viewer(srv, P.code, { name: '别人' });
  const e = new Expectations();

  // premoderation on: an approved question edited by its author goes back to pending
  const q = (await author.ok('question.submit', { text: '原来的问题' })).question.id;
  await mod.ok('question.approve', { question_id: q });
  await other.waitEvent('question.published', (x) => x.question?.id === q);
  const from = other.mark();
  const ed = await e.expect(author, 'question.edit', { question_id: q, text: '改过的问题' }, 'ack');
  e.check(ed?.question?.state === 'pending', `author edit under premoderation -> pending: ${short(ed)}`);
  const up = await other.waitEvent('question.updated', (x) => x.question?.id === q, 3000, from).catch(() => null);
  e.check(up?.question?.state === 'pending', `others learn it is no longer public: ${short(up)}`);
  // a staff edit does not
  await mod.ok('question.approve', { question_id: q });
  const se = await e.expect(mod, 'question.edit', { question_id: q, text: '主持人改的' }, 'ack');
  e.check(se?.question?.state === 'published', `staff edit keeps it published: ${short(se)}`);

  // premoderation off, blocked word in the edit
  const B = await setupSession(h, srv, { producer: P.producer, programId: P.programId, blocked_words: ['广告'] });
  const a2 = await h.viewer(srv, B.code, { name: '作者二' });
  const q2 = (await a2.ok('question.submit', { text: '正常问题' })).question;
  e.check(q2.state === 'published', 'published');
  const ed2 = await e.expect(a2, 'question.edit', { question_id: q2.id, text: '改成广告' }, 'ack');
  e.check(ed2?.question?.state === 'pending', `edit with a blocked word -> pending: ${short(ed2)}`);

  // staff submissions are idempotent on (moderator, id)
  const modB = await h.moderator(srv, B.code, B.moderatorKey, '甲');
  const modB2 = await h.moderator(srv, B.code, B.moderatorKey, '乙');
  const s1 = await modB.request('question.submit', { text: '热线', source: 'phone', author: '周先生' }, { id: 'call-1' });
  const s2 = await modB.request('question.submit', { text: '热线', source: 'phone', author: '周先生' }, { id: 'call-1' });
  e.check(s1.type === 'ack' && s2.type === 'ack' && s1.question.id === s2.question.id, `same moderator, same id: ${short([s1, s2])}`);
  const s3 = await modB2.request('question.submit', { text: '热线', source: 'phone', author: '周先生' }, { id: 'call-1' });
  e.check(s3.type === 'ack' && s3.question.id !== s1.question?.id, `another moderator, same id: ${short(s3)}`);

  // phases: pre before the start, live after (also after the end); offset_ms 0 on the start event
  const pre = await e.expect(modB, 'question.submit', { text: '开场前', source: 'visit', author: null }, 'ack');
  e.check(pre?.question?.phase === 'pre', 'phase pre');
  const fromS = a2.mark();
  await P.producer.ok('session.start', { session: B.code });
  const st = await a2.waitEvent('session.changed', (x) => x.session?.status === 'live', 3000, fromS);
  e.check(st.offset_ms === 0, `offset_ms on the start event: ${st.offset_ms}`);
  e.check(typeof st.session.started_at === 'number', 'started_at');
  await P.producer.ok('session.end', { session: B.code });
  const post = await e.expect(modB, 'question.submit', { text: '散场后', source: 'paper', author: null }, 'ack');
  e.check(post?.question?.phase === 'live', `asked after the end: phase ${post?.question?.phase}`);
  const snap = (await h.viewer(srv, B.code, {})).welcome.snapshot;
  e.check(typeof snap.session.ended_at === 'number', 'ended_at');
  e.assertClean('edits, staff idempotency, phases');
});

test('field rules added in docs/protocol.md', { timeout: 20000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const A = await setupSession(h, srv);
  const mod = await h.moderator(srv, A.code, A.moderatorKey);
  const v = await h.viewer(srv, A.code, { name: '字段' });
  const e = new Expectations();
  await e.expect(v, 'question.submit', { text: '\u3000\u3000 \u3000' }, 'bad_request', 'ideographic spaces only', { field: 'text' });
  const tr = await e.expect(v, 'question.submit', { text: '\u3000前后有全角空格\u3000' }, 'ack');
  e.check(tr?.question?.text === '前后有全角空格', `U+3000 trimmed: ${short(tr?.question?.text)}`);
  const nl = await e.expect(v, 'question.submit', { text: '第一行\n第二行' }, 'ack', 'line breaks allowed in question text');
  e.check(nl?.question?.text === '第一行\n第二行', 'newline kept');
  await e.expect(mod, 'panel.set', { banner: '横幅\n第二行' }, 'bad_request', 'no line breaks in the banner', { field: 'banner' });
  await e.expect(mod, 'question.answered', { question_id: nl?.question?.id, note: '答复\n第二段' }, 'ack', 'line breaks allowed in notes');
  await e.expect(mod, 'poll.create', { title: '标题\n换行', options: ['甲', '乙'] }, 'bad_request', 'no line breaks in titles', { field: 'title' });
  await e.expect(mod, 'viewer.ban', { viewer_id: 'someone' }, 'bad_request', 'viewer id format', { field: 'viewer_id' });
  await e.expect(mod, 'viewer.ban', { viewer_id: v.viewerId.toUpperCase().replace('V', 'v') }, 'bad_request', 'lowercase hex', { field: 'viewer_id' });
  const poll = (await mod.ok('poll.create', { title: '多选', options: ['1', '2', '3'], multi: true })).poll.id;
  await mod.ok('poll.open', { poll_id: poll });
  await e.expect(v, 'poll.vote', { poll_id: poll, option_ids: Array.from({ length: 11 }, (_, i) => i + 1) }, 'bad_request', '1..10 entries', { field: 'option_ids' });
  const c1 = await h.connect(srv);
  const r1 = await c1.hello(A.code, 'viewer', 'a'.repeat(22), { name: '名字\n换行' });
  e.check(r1.code === 'bad_request' && r1.field === 'name', `newline in a name: ${short(r1)}`);
  const c2 = await h.connect(srv);
  const r2 = await c2.hello(A.code, 'moderator', 'k'.repeat(257));
  e.check(r2.code === 'bad_request' && r2.field === 'token', `257-byte token: ${short(r2)}`);
  const c3 = await h.connect(srv);
  const r3 = await c3.hello('ABC DEF', 'viewer', 'a'.repeat(32));
  e.check(r3.code === 'bad_request' && r3.field === 'session', `session code with a space: ${short(r3)}`);
  const c4 = await h.connect(srv);
  const r4 = await c4.hello(A.code, 'viewer', 'a'.repeat(21));
  e.check(r4.type === 'error' && r4.field === 'token', `21-character device token: ${short(r4)}`);
  const c5 = await h.connect(srv);
  const r5 = await c5.hello(A.code, 'viewer', 'a'.repeat(129));
  e.check(r5.type === 'error' && r5.field === 'token', `129-character device token: ${short(r5)}`);
  e.assertClean('field rules');
});
