// A whole show, from opening the session to the archive, with 50 viewers connected.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';

import {
  DEFAULT_PANELISTS, DEFAULT_SEGMENTS, JOIN_CODE_RE, VIEWER_ID_RE, foldVotes, harness, newToken,
  seqProblem, short, sleep,
} from './lib.js';

const N_VIEWERS = 50;

test('a show from open to archive with 50 viewers', { timeout: 90000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();

  // --- the producer prepares the programme and the session ---------------------------------
  const producer = await h.producer(srv);
  const prog = await producer.ok('program.create', { title: '书记论坛', description: '区委书记与居民面对面' });
  assert.ok(Number.isInteger(prog.program?.id) && prog.program.id > 0, `program id: ${short(prog)}`);
  assert.equal(prog.program.title, '书记论坛');

  const title = '第十二期：老旧小区改造与加装电梯';
  const created = await producer.ok('session.create', {
    program_id: prog.program.id,
    title,
    topic: '老旧小区改造、停车难与垃圾分类',
    scheduled_at: Date.now() + 3600 * 1000,
    premoderation: false,
    anonymous_allowed: true,
    panelists: DEFAULT_PANELISTS,
    segments: DEFAULT_SEGMENTS,
  });
  const code = created.session.code;
  assert.match(code, JOIN_CODE_RE);
  assert.equal(typeof created.moderator_key, 'string');
  assert.ok(created.moderator_key.length >= 16, 'moderator key is long enough');
  assert.equal(created.session.status, 'draft');
  assert.equal(created.session.title, title);
  assert.equal(created.session.premoderation, false);
  assert.deepEqual(created.session.panelists.map((p) => p.id), [1, 2, 3]);
  assert.deepEqual(created.session.panelists.map((p) => p.name), DEFAULT_PANELISTS.map((p) => p.name));
  assert.deepEqual(created.session.segments.map((s) => s.id), [1, 2, 3]);
  assert.deepEqual(created.session.segments.map((s) => s.title), DEFAULT_SEGMENTS);

  const opened = await producer.ok('session.open', { session: code });
  assert.equal(opened.session.status, 'open');

  // --- the audience arrives ------------------------------------------------------------------
  const mod = await h.moderator(srv, code, created.moderator_key, '主持人小陈');
  assert.equal(mod.welcome.role, 'moderator');
  assert.equal(mod.welcome.snapshot.session.status, 'open');

  const viewers = await Promise.all(Array.from({ length: N_VIEWERS }, (_, i) =>
    h.viewer(srv, code, { name: `居民${i + 1}号`, label: `v${i}` })));
  for (const v of viewers) {
    assert.equal(v.welcome.role, 'viewer');
    assert.match(v.welcome.viewer_id, VIEWER_ID_RE);
    const s = v.welcome.snapshot;
    assert.equal(s.session.code, code);
    assert.equal(s.session.title, title);
    assert.equal(s.session.status, 'open');
    assert.equal(s.session.premoderation, false);
    assert.deepEqual(s.session.panelists.map((p) => p.name), DEFAULT_PANELISTS.map((p) => p.name));
    assert.deepEqual(s.questions, []);
    assert.deepEqual(s.my_votes, []);
  }
  assert.equal(new Set(viewers.map((v) => v.viewerId)).size, N_VIEWERS, 'distinct viewer ids');
  const everyone = [...viewers, mod];

  // --- questions before the show (premoderation off: published at once) -------------------------
  const asks = [
    { v: 0, text: '我们小区是九十年代的老房子，什么时候能加装电梯？', to: 1 },
    { v: 1, text: '小区停车位太少，晚上经常停不进去，能不能规划一些共享车位？', to: 2 },
    { v: 2, text: '垃圾分类的投放点离楼太远，老人不方便，怎么办？', anonymous: true },
    { v: 3, text: '社区食堂能不能延长营业时间，方便上班族？', category: 'suggestion' },
    { v: 4, text: '希望增加一些适合老年人的健身器材。', category: 'need' },
  ];
  const qs = [];
  for (const a of asks) {
    const fields = { text: a.text };
    if (a.to) fields.to = a.to;
    if (a.anonymous) fields.anonymous = true;
    if (a.category) fields.category = a.category;
    const r = await viewers[a.v].ok('question.submit', fields);
    const q = r.question;
    assert.ok(Number.isInteger(q.id) && q.id > 0, `question id: ${short(r)}`);
    assert.equal(q.text, a.text);
    assert.equal(q.state, 'published');
    assert.equal(q.phase, 'pre');
    assert.equal(q.mine, true);
    assert.equal(q.votes, 0);
    assert.equal(q.parent_id, null);
    assert.equal(q.to, a.to ?? null);
    assert.equal(q.category, a.category ?? 'question');
    assert.equal(q.author, a.anonymous ? null : `居民${a.v + 1}号`);
    assert.equal(q.source, 'web');
    assert.equal(q.starred, false);
    assert.equal(q.answer_note, null);
    assert.ok(Math.abs(q.created_at - Date.now()) < 60000, `created_at is ms epoch: ${q.created_at}`);
    assert.equal('viewer_id' in q, false, 'viewer copy has no viewer_id');
    qs.push(q);
  }
  // everyone sees question.published for each one, with the right rendering
  for (const [i, q] of qs.entries()) {
    await Promise.all(everyone.map(async (c, k) => {
      const ev = await c.waitEvent('question.published', (e) => e.question?.id === q.id);
      assert.equal(ev.question.text, q.text);
      assert.equal(typeof ev.seq, 'number');
      assert.equal(ev.offset_ms, undefined, 'no offset_ms before the session is live');
      if (c === mod) {
        assert.equal(ev.question.viewer_id, viewers[asks[i].v].viewerId, 'staff see the asker');
      } else {
        assert.equal('viewer_id' in ev.question, false, `viewer ${k} must not see viewer_id`);
        assert.equal(ev.question.mine, k === asks[i].v, `mine in viewer ${k}'s copy of question ${i}`);
      }
    }));
  }

  // --- votes: 30 on the first question, 10 on the second, coalesced counts -----------------------
  const voteStart = performance.now();
  const from49 = viewers[49].mark();
  const voteAcks = await Promise.all([
    ...viewers.slice(0, 30).map((v) => v.ok('vote.add', { question_id: qs[0].id })),
    ...viewers.slice(10, 20).map((v) => v.ok('vote.add', { question_id: qs[1].id })),
  ]);
  for (const a of voteAcks) assert.equal(a.voted, true, `vote ack: ${short(a)}`);
  // a repeated vote is a no-op that is still acked
  const again = await viewers[0].ok('vote.add', { question_id: qs[0].id });
  assert.equal(again.voted, true);
  assert.equal(again.question_id, qs[0].id);
  const voteMs = performance.now() - voteStart;

  const wantCounts = (want) => Promise.all(everyone.map((c) => c.waitFor(() => {
    const got = foldVotes(c);
    return Object.entries(want).every(([id, n]) => got[id] === n);
  }, 5000, 0, `votes ${JSON.stringify(want)}`)));
  await wantCounts({ [qs[0].id]: 30, [qs[1].id]: 10 });

  const rm = await viewers[29].ok('vote.remove', { question_id: qs[0].id });
  assert.equal(rm.voted, false);
  await wantCounts({ [qs[0].id]: 29, [qs[1].id]: 10 });

  const vc = viewers[49].events('votes.changed', from49);
  assert.ok(vc.length >= 1 && vc.length < 41, `votes.changed coalesced: ${vc.length} events for 41 vote changes`);
  for (let i = 1; i < vc.length; i++) {
    assert.ok(vc[i].at - vc[i - 1].at >= 50,
      `votes.changed at most ~10/s: consecutive events ${vc[i].at - vc[i - 1].at} ms apart`);
  }
  console.log(`# show: 41 vote changes in ${voteMs.toFixed(0)} ms -> ${vc.length} votes.changed events`);

  // a returning viewer sees its votes in the snapshot
  const v0again = await h.viewer(srv, code, { token: viewers[0].token, name: '居民1号', label: 'v0-again' });
  assert.equal(v0again.viewerId, viewers[0].viewerId, 'same token, same viewer id');
  assert.deepEqual(v0again.welcome.snapshot.my_votes, [qs[0].id]);
  const snapQ0 = v0again.welcome.snapshot.questions.find((q) => q.id === qs[0].id);
  assert.equal(snapQ0.votes, 29);
  assert.equal(snapQ0.mine, true);
  assert.equal(v0again.welcome.snapshot.questions.find((q) => q.id === qs[1].id).mine, false);
  await v0again.close();

  // --- the show goes live ---------------------------------------------------------------------
  const startFrom = everyone.map((c) => c.mark());
  const started = await producer.ok('session.start', { session: code });
  assert.equal(started.session.status, 'live');
  assert.equal(typeof started.session.started_at, 'number');
  const startEvs = await Promise.all(everyone.map((c, i) =>
    c.waitEvent('session.changed', (e) => e.session?.status === 'live', 5000, startFrom[i])));
  const startSeq = startEvs[0].seq;

  const live = await viewers[5].ok('question.submit', { text: '直播中提问：小区外墙保温改造什么时候开始？' });
  assert.equal(live.question.phase, 'live');
  assert.equal(live.question.state, 'published');
  await Promise.all(everyone.map((c) => c.waitEvent('question.published', (e) => e.question?.id === live.question.id)));

  // --- the moderator sets up what goes on air next ---------------------------------------------
  const upNext = [qs[0].id, qs[1].id, live.question.id];
  const qset = await mod.ok('queue.set', { question_ids: upNext });
  assert.ok(qset, 'queue.set acked');
  await Promise.all(everyone.map((c) => c.waitEvent('queue.changed',
    (e) => JSON.stringify(e.up_next) === JSON.stringify(upNext))));

  const nextFrom = everyone.map((c) => c.mark());
  await mod.ok('onair.next');
  await Promise.all(everyone.map((c, i) => c.waitEvent('onair.changed', (e) => e.question_id === qs[0].id, 5000, nextFrom[i])));
  await Promise.all(everyone.map((c, i) => c.waitEvent('queue.changed',
    (e) => JSON.stringify(e.up_next) === JSON.stringify(upNext.slice(1)), 5000, nextFrom[i])));

  // --- panel: segment, speakers, banner ----------------------------------------------------------
  const banner = '正在回答：老旧小区加装电梯';
  await mod.ok('panel.set', { segment_id: 2, speaker_ids: [1, 2], banner });
  const panelEvs = await Promise.all(everyone.map((c) => c.waitEvent('panel.changed', (e) => e.panel?.banner === banner)));
  for (const ev of panelEvs) {
    assert.equal(ev.panel.segment_id, 2);
    assert.deepEqual(ev.panel.speaker_ids, [1, 2]);
    assert.equal(ev.panel.on_air, qs[0].id);
    assert.deepEqual(ev.panel.up_next, upNext.slice(1));
  }

  // --- answered with a note: leaves the air --------------------------------------------------------
  const note = '区里已列入明年改造计划，六月底前完成加装电梯的入户调研。';
  const ansFrom = everyone.map((c) => c.mark());
  const ans = await mod.ok('question.answered', { question_id: qs[0].id, note });
  assert.equal(ans.question?.state ?? 'answered', 'answered');
  const ansEvs = await Promise.all(everyone.map((c, i) =>
    c.waitEvent('question.answered', (e) => e.question?.id === qs[0].id, 5000, ansFrom[i])));
  for (const ev of ansEvs) {
    assert.equal(ev.question.state, 'answered');
    assert.equal(ev.question.answer_note, note);
  }
  await Promise.all(everyone.map((c, i) => c.waitEvent('onair.changed', (e) => e.question_id === null, 5000, ansFrom[i])));

  // --- onair.set: fan-out to all 50 viewers (a figure, not an assertion) -------------------------
  const airFrom = viewers.map((v) => v.mark());
  const tSend = performance.now();
  await mod.ok('onair.set', { question_id: qs[1].id });
  const tAck = performance.now();
  const airEvs = await Promise.all(viewers.map((v, i) =>
    v.waitEvent('onair.changed', (e) => e.question_id === qs[1].id, 5000, airFrom[i])));
  const recvTimes = airEvs.map((ev, i) => viewers[i].timeOf(ev));
  const last = Math.max(...recvTimes);
  const first = Math.min(...recvTimes);
  console.log(`# show: onair.set fan-out to ${N_VIEWERS} viewers: send->ack ${(tAck - tSend).toFixed(2)} ms; ` +
    `ack->last viewer ${(last - tAck).toFixed(2)} ms; first->last viewer ${(last - first).toFixed(2)} ms; ` +
    `send->last viewer ${(last - tSend).toFixed(2)} ms`);
  // the air moves on: the previous one goes back to published; the new one left the queue
  await mod.ok('onair.set', { question_id: live.question.id });
  const modCheck = await h.moderator(srv, code, created.moderator_key, '导播');
  const snapQs = Object.fromEntries(modCheck.welcome.snapshot.questions.map((q) => [q.id, q]));
  assert.equal(snapQs[qs[1].id].state, 'published', 'previous on-air question returns to published');
  assert.equal(snapQs[live.question.id].state, 'on_air');
  assert.equal(snapQs[qs[0].id].state, 'answered');
  assert.equal(snapQs[qs[0].id].answer_note, note);
  assert.equal(modCheck.welcome.snapshot.panel.on_air, live.question.id);
  assert.deepEqual(modCheck.welcome.snapshot.panel.up_next, [], 'both aired questions left the queue');
  assert.equal(typeof modCheck.welcome.snapshot.viewers, 'number');
  await modCheck.close();
  await mod.ok('onair.clear');

  // --- a follow-up to the answered question --------------------------------------------------------
  const fu = await viewers[6].ok('question.submit', {
    text: '追问：加装电梯的费用居民需要承担多少？', parent_id: qs[0].id,
  });
  assert.equal(fu.question.parent_id, qs[0].id);
  assert.equal(fu.question.state, 'published');
  const fuEvs = await Promise.all(everyone.map((c) => c.waitEvent('question.published', (e) => e.question?.id === fu.question.id)));
  for (const ev of fuEvs) assert.equal(ev.question.parent_id, qs[0].id);

  // --- a poll ---------------------------------------------------------------------------------
  const pollFrom = everyone.map((c) => c.mark());
  const pc = await mod.ok('poll.create', { title: '您最关心哪一项改造？', options: ['加装电梯', '停车位', '垃圾分类'] });
  const poll = pc.poll;
  assert.ok(Number.isInteger(poll?.id), `poll.create ack carries the poll: ${short(pc)}`);
  assert.equal(poll.state, 'draft');
  assert.deepEqual(poll.options.map((o) => o.id), [1, 2, 3]);
  assert.equal(poll.multi, false);
  await mod.waitEvent('poll.changed', (e) => e.poll?.id === poll.id && e.poll.state === 'draft', 5000, pollFrom.at(-1));
  await mod.ok('poll.open', { poll_id: poll.id });
  await Promise.all(everyone.map((c, i) => c.waitEvent('poll.changed',
    (e) => e.poll?.id === poll.id && e.poll.state === 'open', 5000, pollFrom[i])));
  for (const [i, v] of viewers.entries()) {
    const first = v.events('poll.changed', pollFrom[i]).find((e) => e.poll?.id === poll.id);
    assert.equal(first.poll.state, 'open', `viewer ${i} must not see the poll while it is a draft`);
  }
  const ballots = [];
  for (let i = 0; i < 20; i++) {
    const opt = i < 10 ? 1 : i < 15 ? 2 : 3;
    ballots.push(viewers[i].ok('poll.vote', { poll_id: poll.id, option_ids: [opt] }));
  }
  for (const b of await Promise.all(ballots)) assert.equal(b.poll_id, poll.id);
  const changed = await viewers[0].ok('poll.vote', { poll_id: poll.id, option_ids: [2] }); // a new ballot replaces the old
  assert.deepEqual(changed.option_ids, [2]);
  const wantPoll = { 1: 9, 2: 6, 3: 5 };
  const pollCounts = (e) => Object.fromEntries(e.poll.options.map((o) => [o.id, o.votes]));
  await Promise.all(everyone.map((c, i) => c.waitEvent('poll.changed', (e) => e.poll?.id === poll.id &&
    JSON.stringify(pollCounts(e)) === JSON.stringify(wantPoll), 5000, pollFrom[i])));
  await mod.ok('poll.close', { poll_id: poll.id });
  const closedEvs = await Promise.all(everyone.map((c, i) => c.waitEvent('poll.changed',
    (e) => e.poll?.id === poll.id && e.poll.state === 'closed', 5000, pollFrom[i])));
  for (const ev of closedEvs) assert.deepEqual(pollCounts(ev), wantPoll);
  const late = await viewers[30].request('poll.vote', { poll_id: poll.id, option_ids: [1] });
  assert.equal(late.type, 'error', 'ballot on a closed poll is refused');
  assert.equal(late.code, 'conflict');

  // --- offset_ms on every event once live -------------------------------------------------------
  for (const c of everyone) {
    const evs = c.events();
    assert.equal(seqProblem(evs), null, `${c.label}: ${seqProblem(evs)}`);
    for (const ev of evs) {
      if (ev.seq > startSeq) {
        assert.ok(typeof ev.offset_ms === 'number' && ev.offset_ms >= 0,
          `${c.label}: event ${ev.kind} seq ${ev.seq} after start lacks offset_ms: ${short(ev)}`);
      } else if (ev.seq < startSeq) {
        assert.equal(ev.offset_ms, undefined, `${c.label}: event ${ev.kind} seq ${ev.seq} before start has offset_ms`);
      }
    }
  }

  // --- end: viewers can no longer write, moderation continues -----------------------------------
  const endFrom = everyone.map((c) => c.mark());
  const ended = await producer.ok('session.end', { session: code });
  assert.equal(ended.session.status, 'ended');
  await Promise.all(everyone.map((c, i) => c.waitEvent('session.changed', (e) => e.session?.status === 'ended', 5000, endFrom[i])));
  for (const [type, fields] of [
    ['question.submit', { text: '散场后还能提问吗？' }],
    ['vote.add', { question_id: qs[1].id }],
  ]) {
    const r = await viewers[40].request(type, fields);
    assert.equal(r.code, 'session_closed', `${type} after end: ${short(r)}`);
  }
  await mod.ok('question.answered', { question_id: qs[1].id, note: '会后书面答复' });

  // --- archive: every write is refused -------------------------------------------------------
  const archFrom = everyone.map((c) => c.mark());
  const archived = await producer.ok('session.archive', { session: code });
  assert.equal(archived.session.status, 'archived');
  await Promise.all(everyone.map((c, i) => c.waitEvent('session.changed', (e) => e.session?.status === 'archived', 5000, archFrom[i])));
  const writes = [
    [viewers[41], 'question.submit', { text: '归档后提问' }],
    [viewers[41], 'vote.add', { question_id: qs[1].id }],
    [viewers[41], 'poll.vote', { poll_id: poll.id, option_ids: [1] }],
    [mod, 'panel.set', { banner: '归档后' }],
    [mod, 'question.answered', { question_id: qs[2].id }],
    [mod, 'onair.set', { question_id: qs[2].id }],
    [mod, 'question.submit', { text: '热线来电', source: 'phone', author: '赵先生' }],
  ];
  const problems = [];
  for (const [c, type, fields] of writes) {
    const r = await c.request(type, fields);
    if (r.code !== 'session_closed') problems.push(`${c.label} ${type} ${short(fields)} -> ${short(r)}`);
  }
  assert.deepEqual(problems, [], 'writes after archive must get session_closed');
  // reading still works: a late viewer joins the archived session
  const lateViewer = await h.viewer(srv, code, { name: '回看观众' });
  assert.equal(lateViewer.welcome.snapshot.session.status, 'archived');
  const lateQs = Object.fromEntries(lateViewer.welcome.snapshot.questions.map((q) => [q.id, q]));
  assert.equal(lateQs[qs[0].id].state, 'answered');
  assert.equal(lateQs[fu.question.id].parent_id, qs[0].id);
  assert.equal(lateViewer.welcome.snapshot.polls.find((p) => p.id === poll.id)?.state, 'closed');

  for (const c of everyone) {
    assert.deepEqual(c.strayReplies, [], `${c.label}: replies without a matching request`);
    assert.deepEqual(c.badFrames, [], `${c.label}: frames that are not JSON messages`);
  }
  await sleep(0);
});
