// Resuming after a disconnect: exactly the missed visible events, in order; or a fresh snapshot.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ViewState, foldVotes, harness, marker, newToken, seqProblem, setupSession, short, snapshotSummary,
} from './lib.js';

/** Client-side view built from a welcome snapshot and the events after it. */
function viewFrom(snapshot, events) {
  const v = new ViewState(snapshot);
  for (const e of events) v.apply(e);
  return v;
}

/** Produces a mix of visible and invisible events while some viewer is away. */
async function happenings(ctx, tag) {
  const { mod, writer, writer2, control } = ctx;
  const a = await writer.ok('question.submit', { text: `${tag}：公交站台能不能加个遮雨棚？` });
  const b = await writer.ok('question.submit', { text: `${tag}：夜市噪音扰民怎么处理？` });
  const hidden = await writer2.ok('question.submit', { text: `${tag}：这里有敏感词，需要审核` });
  assert.equal(hidden.question.state, 'pending');
  await control.ok('vote.add', { question_id: a.question.id });
  await writer2.ok('vote.add', { question_id: a.question.id });
  await writer.ok('question.edit', { question_id: b.question.id, text: `${tag}：夜市噪音扰民，晚上十点以后怎么处理？` });
  await mod.ok('question.star', { question_id: a.question.id, starred: true });
  await mod.ok('onair.set', { question_id: a.question.id });
  await mod.ok('question.dismiss', { question_id: b.question.id, reason: '重复' });
  const poll = await mod.ok('poll.create', { title: `${tag}：满意度`, options: ['满意', '一般', '不满意'] });
  await mod.ok('poll.open', { poll_id: poll.poll.id });
  await control.waitFor(() => foldVotes(control)[a.question.id] === 2, 5000, 0, 'votes.changed 2');
  return { a: a.question.id, b: b.question.id, hidden: hidden.question.id };
}

async function setup(t) {
  const h = harness(t);
  const srv = await h.startServer();
  const s = await setupSession(h, srv, { blocked_words: ['敏感词'] });
  const mod = await h.moderator(srv, s.code, s.moderatorKey);
  const writer = await h.viewer(srv, s.code, { name: '写字的人' });
  const writer2 = await h.viewer(srv, s.code, { name: '第二位' });
  const control = await h.viewer(srv, s.code, { name: '一直在线' });
  return { h, srv, code: s.code, moderatorKey: s.moderatorKey, mod, writer, writer2, control };
}

test('resume after a disconnect delivers exactly the missed visible events', { timeout: 30000 }, async (t) => {
  const ctx = await setup(t);
  const { h, srv, code, mod, writer, control } = ctx;
  const resumer = await h.viewer(srv, code, { name: '断线的人' });
  const first = await writer.ok('question.submit', { text: '开场问题：社区医院能不能周末开门？' });
  // two questions of its own, held for review (blocked word): only staff and the author see them
  const own1 = (await resumer.ok('question.submit', { text: '我的敏感词问题一' })).question.id;
  const own2 = (await resumer.ok('question.submit', { text: '我的敏感词问题二' })).question.id;
  await resumer.waitEvent('question.published', (e) => e.question?.id === first.question.id);
  await marker(mod, [resumer, control], 'before-disconnect');
  const lastSeen = resumer.lastSeq();
  const before = viewFrom(resumer.welcome.snapshot, resumer.events());
  await resumer.close();

  const ids = await happenings(ctx, '断线期间');
  await mod.ok('question.approve', { question_id: own1 }); // public from now on
  await mod.ok('question.dismiss', { question_id: own2, reason: '不合适' }); // staff + author only
  await marker(mod, [control], 'while-away');

  const back = await h.connect(srv, { label: 'resumer-back' });
  const welcome = await back.hello(code, 'viewer', resumer.token, { name: '断线的人', resume_from: lastSeen });
  assert.equal(welcome.type, 'welcome', short(welcome));
  assert.equal(welcome.resumed, true, `resume from a recent seq must be honoured: ${short(welcome)}`);
  assert.equal(welcome.viewer_id, resumer.viewerId);
  assert.ok(welcome.seq >= lastSeen, 'welcome seq is the current seq');
  const { seq: endSeq } = await marker(mod, [control, back], 'after-resume');

  const got = back.events().filter((e) => e.seq <= endSeq);
  const want = control.events().filter((e) => e.seq > lastSeen && e.seq <= endSeq);
  assert.equal(seqProblem(back.events()), null, seqProblem(back.events()));
  // the author's copies say mine:true; otherwise identical to what a viewer that stayed got,
  // plus the events only the author may see
  const own = new Set([own1, own2]);
  const norm = (e) => {
    if (!e.question || !own.has(e.question.id)) return e;
    const { mine, ...q } = e.question;
    return { ...e, question: q };
  };
  const authorOnly = got.filter((e) => e.question?.id === own2);
  assert.deepEqual(authorOnly.map((e) => e.kind), ['question.dismissed'], 'the author gets the dismissal of its pending question');
  assert.equal(authorOnly[0].question.mine, true);
  assert.equal(authorOnly[0].reason, '不合适');
  const pub = got.find((e) => e.kind === 'question.published' && e.question?.id === own1);
  assert.equal(pub?.question?.mine, true, "the author's copy of its approved question is mine");
  const shared = got.filter((e) => e.question?.id !== own2);
  assert.deepEqual(shared.map((e) => `${e.seq}:${e.kind}`), want.map((e) => `${e.seq}:${e.kind}`),
    'the resumed viewer gets the same events, in the same order, as a viewer that stayed');
  assert.deepEqual(shared.map(norm), want.map(norm), 'and with the same content');
  assert.ok(got.every((e) => e.seq > lastSeen), 'no event seen before the disconnect is repeated');
  assert.equal(got.some((e) => e.question?.id === ids.hidden), false, "another viewer's pending question not leaked");
  assert.ok(got.some((e) => e.kind === 'question.dismissed' && e.question?.id === ids.b), 'public dismissal delivered');
  assert.ok(got.some((e) => e.kind === 'onair.changed' && e.question_id === ids.a), 'onair.changed delivered');
  assert.equal(got.filter((e) => e.kind === 'poll.changed').every((e) => e.poll.state !== 'draft'), true,
    'draft polls are staff-only');

  // the state the client rebuilds equals a fresh snapshot of the same viewer
  for (const e of got) before.apply(e);
  const fresh = await h.viewer(srv, code, { token: resumer.token, name: '断线的人' });
  assert.deepEqual(before.summary(), snapshotSummary(fresh.welcome.snapshot));
});

test('resume from far in the past: all events or a consistent fresh snapshot', { timeout: 30000 }, async (t) => {
  const ctx = await setup(t);
  const { h, srv, code, mod, control } = ctx;
  await happenings(ctx, '第一轮');
  await happenings(ctx, '第二轮');
  await marker(mod, [control], 'done');

  for (const resumeFrom of [0, 1, 2]) {
    const c = await h.connect(srv, { label: `ancient-${resumeFrom}` });
    const w = await c.hello(code, 'viewer', newToken(), { resume_from: resumeFrom });
    assert.equal(w.type, 'welcome', short(w));
    const { seq: endSeq } = await marker(mod, [control, c], `after-${resumeFrom}`);
    const fresh = await h.viewer(srv, code, {});
    const expected = snapshotSummary(fresh.welcome.snapshot);
    if (w.resumed) {
      const evs = c.events().filter((e) => e.seq <= endSeq);
      assert.equal(seqProblem(evs), null, seqProblem(evs));
      assert.ok(evs.every((e) => e.seq > resumeFrom));
      // everything the control viewer saw since it joined must be among them, identical
      const ctl = control.events().filter((e) => e.seq <= endSeq);
      const bySeq = new Map(evs.map((e) => [e.seq, e]));
      for (const e of ctl) assert.deepEqual(bySeq.get(e.seq), e, `event seq ${e.seq} (${e.kind})`);
      const view = viewFrom({ questions: [], panel: null }, evs);
      assert.deepEqual(view.summary(), expected, `resume_from ${resumeFrom}: replayed state = current state`);
      console.log(`# resume_from ${resumeFrom}: resumed with ${evs.length} events`);
    } else {
      assert.ok(w.snapshot, `resume_from ${resumeFrom}: not resumed, so a snapshot: ${short(w)}`);
      assert.deepEqual(snapshotSummary(w.snapshot), expected);
      console.log(`# resume_from ${resumeFrom}: fresh snapshot`);
    }
    await c.close();
    await fresh.close();
  }
});

test('resume across a server restart (same database)', { timeout: 40000 }, async (t) => {
  const ctx = await setup(t);
  const { h, srv, code, moderatorKey, mod } = ctx;
  await happenings(ctx, '重启前');
  const away = await h.viewer(srv, code, { name: '重启前的观众' });
  const ownPending = (await away.ok('question.submit', { text: '重启前我的敏感词问题' })).question.id;
  await marker(mod, [away], 'before-restart');
  const lastSeen = away.lastSeq();
  const before = viewFrom(away.welcome.snapshot, away.events());

  const exit = await srv.stop();
  assert.equal(exit.code, 0, `SIGTERM exit: ${short(exit)}\n${srv.describe()}`);
  const srv2 = await h.startServer({ dbPath: srv.dbPath, producerKey: srv.producerKey });

  const mod2 = await h.moderator(srv2, code, moderatorKey, '重启后的主持人');
  const control2 = await h.viewer(srv2, code, { name: '重启后在线' });
  assert.ok(control2.welcome.seq >= lastSeen, `seq continues after a restart: ${control2.welcome.seq} < ${lastSeen}`);
  const writer = await h.viewer(srv2, code, { token: ctx.writer.token, name: '写字的人' });
  const q = await writer.ok('question.submit', { text: '重启之后：路灯坏了没人修。' });
  await mod2.ok('onair.set', { question_id: q.question.id });
  await mod2.ok('question.answered', { question_id: q.question.id, note: '已通知城管' });
  await mod2.ok('question.dismiss', { question_id: ownPending });
  await marker(mod2, [control2], 'after-restart');

  const back = await h.connect(srv2, { label: 'back-after-restart' });
  const w = await back.hello(code, 'viewer', away.token, { resume_from: lastSeen });
  assert.equal(w.type, 'welcome', short(w));
  const { seq: endSeq } = await marker(mod2, [control2, back], 'after-resume');
  const fresh = await h.viewer(srv2, code, { token: away.token });
  const expected = snapshotSummary(fresh.welcome.snapshot);
  if (w.resumed) {
    const evs = back.events().filter((e) => e.seq <= endSeq);
    const dism = evs.filter((e) => e.question?.id === ownPending).map((e) => `${e.kind}/${e.question.mine}`);
    assert.deepEqual(dism, ['question.dismissed/true'], 'the author hears of its dismissed pending question');
    assert.equal(seqProblem(evs), null, seqProblem(evs));
    assert.ok(evs.every((e) => e.seq > lastSeen), 'no duplicates of events seen before the restart');
    const want = control2.events().filter((e) => e.seq <= endSeq);
    const bySeq = new Map(evs.map((e) => [e.seq, e]));
    for (const e of want) assert.deepEqual(bySeq.get(e.seq), e, `event seq ${e.seq} (${e.kind}) missing or different`);
    for (const e of evs) before.apply(e);
    assert.deepEqual(before.summary(), expected, 'state rebuilt from pre-restart view + resumed events = current state');
    console.log(`# resume across restart: resumed with ${evs.length} events`);
  } else {
    assert.ok(w.snapshot, `not resumed, so a snapshot: ${short(w)}`);
    assert.deepEqual(snapshotSummary(w.snapshot), expected);
    console.log('# resume across restart: fresh snapshot');
  }
});

test('resume with a backlog bigger than the send queue (5000 events, default limits)', { timeout: 60000 }, async (t) => {
  // docs: resume either delivers every missed event or gives a fresh snapshot. The default
  // per-connection send queue holds 4096 messages and the resume window is 10000 events, so a
  // backlog of 5000 must not get the resuming connection dropped.
  const h = harness(t);
  const srv = await h.startServer();
  const { code, moderatorKey } = await setupSession(h, srv);
  const N = 5000;
  const PER = 95; // within the per-connection request burst
  const mods = await Promise.all(Array.from({ length: Math.ceil(N / PER) }, (_, i) =>
    h.moderator(srv, code, moderatorKey, `导播${i}`)));
  const away = await h.viewer(srv, code, { name: '离开很久' });
  const lastSeen = away.lastSeq();
  await away.close();
  let sent = 0;
  await Promise.all(mods.map(async (m, i) => {
    for (let k = 0; k < PER && sent < N; k++) {
      sent++;
      await m.ok('panel.set', { banner: `第${i}组第${k}条` });
    }
  }));
  await mods[0].ok('panel.set', { banner: '最后一条' });
  for (const m of mods) await m.close();

  const back = await h.connect(srv, { label: 'back-5000' });
  const w = await back.hello(code, 'viewer', away.token, { resume_from: lastSeen }).catch((err) => {
    assert.fail(`resume_from ${lastSeen} with ${N + 1} missed events: ${err.message} ` +
      `(received ${back.log.length} messages in ${back.raw.length} frames before the close)`);
  });
  assert.equal(w.type, 'welcome', short(w));
  if (w.resumed) {
    await back.waitEvent('panel.changed', (e) => e.panel?.banner === '最后一条', 20000);
    const evs = back.events();
    assert.equal(seqProblem(evs), null, seqProblem(evs));
    assert.equal(evs.filter((e) => e.kind === 'panel.changed').length, N + 1, 'every missed event');
  } else {
    assert.equal(w.snapshot.panel.banner, '最后一条');
  }
  console.log(`# resume with ${N + 1} missed events: ${w.resumed ? 'resumed' : 'fresh snapshot'}`);
});

test('a moderator resumes with the staff-only events it missed', { timeout: 30000 }, async (t) => {
  const ctx = await setup(t);
  const { h, srv, code, moderatorKey, mod, writer2 } = ctx;
  const desk = await h.moderator(srv, code, moderatorKey, '值班');
  await marker(mod, [desk], 'before');
  const lastSeen = desk.lastSeq();
  await desk.close();
  const held = await writer2.ok('question.submit', { text: '需要审核的敏感词问题' });
  await mod.ok('viewer.ban', { viewer_id: writer2.viewerId });
  const poll = await mod.ok('poll.create', { title: '草稿投票', options: ['是', '否'] });
  const { seq: endSeq } = await marker(mod, [mod], 'away');
  const back = await h.connect(srv, { label: 'desk-back' });
  const w = await back.hello(code, 'moderator', moderatorKey, { name: '值班', resume_from: lastSeen });
  assert.equal(w.resumed, true, short(w));
  await back.waitFor((m) => m.type === 'event' && m.seq >= endSeq, 5000);
  const evs = back.events().filter((e) => e.seq <= endSeq);
  const sub = evs.find((e) => e.kind === 'question.submitted' && e.question?.id === held.question.id);
  assert.equal(sub?.question?.viewer_id, writer2.viewerId, 'staff rendering with viewer_id');
  assert.ok(evs.some((e) => e.kind === 'viewer.banned' && e.viewer_id === writer2.viewerId), 'viewer.banned');
  assert.ok(evs.some((e) => e.kind === 'poll.changed' && e.poll?.id === poll.poll.id && e.poll.state === 'draft'), 'draft poll');
  const want = mod.events().filter((e) => e.seq > lastSeen && e.seq <= endSeq).map((e) => `${e.seq}:${e.kind}`);
  assert.deepEqual(evs.map((e) => `${e.seq}:${e.kind}`), want, 'the same events as a moderator that stayed');
});

test('after a restart, a resume with a backlog bigger than the send queue gets a fresh snapshot', { timeout: 60000 }, async (t) => {
  // The server's memory of recent events is empty after a restart: it must not take that for
  // "nothing was missed" and replay a backlog from the database that overflows the queue.
  const h = harness(t);
  const args = ['--queue-max-msgs', '256'];
  const srv = await h.startServer({ args });
  const { code, moderatorKey } = await setupSession(h, srv);
  const away = await h.viewer(srv, code, { name: '离开很久' });
  const lastSeen = away.lastSeq();
  await away.close();
  const N = 400;
  const mods = await Promise.all(Array.from({ length: 5 }, (_, i) => h.moderator(srv, code, moderatorKey, `导播${i}`)));
  await Promise.all(mods.map(async (m, i) => {
    for (let k = 0; k < N / 5; k++) await m.ok('panel.set', { banner: `第${i}组第${k}条` });
  }));
  for (const m of mods) await m.close();
  await srv.stop();
  const srv2 = await h.startServer({ dbPath: srv.dbPath, producerKey: srv.producerKey, args });
  await h.viewer(srv2, code, { name: '先到的观众' }); // the session is known again, with no events yet
  const back = await h.connect(srv2, { label: 'back-after-restart' });
  const w = await back.hello(code, 'viewer', away.token, { resume_from: lastSeen });
  assert.equal(w.type, 'welcome', short(w));
  assert.ok(!w.resumed && w.snapshot, `a fresh snapshot, not a replay of ${N} events: ${short(w)}`);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(back.closeInfo, null, 'still connected');
});
