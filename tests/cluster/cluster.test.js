// Three forumd nodes joined through a redis-server of the test's own (docs/cluster.md):
// one consistent show for viewers on every node, forwarding, failover of the leader in the
// middle of 1,000 submissions, and a Redis restart mid-show.
import assert from 'node:assert/strict';
import test from 'node:test';

import { harness, newToken, seqProblem, setupSession, sleep, startServer } from '../integration/lib.js';
import { LEASE_MS, metrics, Redis, startNode, waitLeader } from './clib.js';

const KEY = `cluster-${newToken()}`;

async function cluster(t, names = ['A', 'B', 'C'], opts = {}) {
  const redis = await Redis.start();
  const nodes = [];
  for (const name of names) nodes.push(await startNode(redis, name, { producerKey: KEY, ...opts }));
  const h = harness(t);
  for (const n of nodes) h.track(n);
  t.after(async () => {
    for (const n of nodes) await n.stop();
    await redis.stop('SIGKILL');
    // sanitizer builds report memory errors and leaks on the way out
    for (const n of nodes) assert.doesNotMatch(n.stderr, /Sanitizer|runtime error/, `node ${n.name}:\n${n.stderr}`);
  });
  const leader = await waitLeader(nodes);
  return { redis, nodes, h, leader, byName: Object.fromEntries(nodes.map((n) => [n.name, n])) };
}

async function transcript(node, code) {
  const res = await fetch(`${node.url}/api/sessions/${code}/transcript.json`, {
    headers: { authorization: `Bearer ${KEY}` },
  });
  assert.equal(res.status, 200, `${node.name}: transcript.json ${res.status}`);
  return res.json();
}

/** Waits until every node's transcript has `seq` events, then returns them. */
async function settledTranscripts(nodes, code, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ts = await Promise.all(nodes.map((n) => transcript(n, code)));
    const lens = ts.map((x) => x.events.length);
    if (lens.every((l) => l === lens[0])) return ts;
    if (Date.now() > deadline) throw new Error(`nodes disagree on the transcript length: ${lens}`);
    await sleep(100);
  }
}

function gapFree(events, what) {
  events.forEach((e, i) => assert.equal(e.seq, i + 1, `${what}: event ${i} has seq ${e.seq}`));
}

const seqKinds = (client) => client.events().map((e) => `${e.seq}:${e.kind}`);

test('a show from open to archive: every viewer on every node gets every event in the same order',
  async (t) => {
    const { nodes, h, byName } = await cluster(t);
    // The producer works on B, the moderator on A, viewers on all three nodes (most on C).
    const { producer, code, moderatorKey } = await setupSession(h, byName.B, {
      extra: { question_rate_per_min: 1000 },
    });
    const mod = await h.moderator(byName.A, code, moderatorKey, '主持人');
    const modC = await h.moderator(byName.C, code, moderatorKey, '导播');
    const viewers = [];
    for (const [node, n] of [[byName.A, 2], [byName.B, 2], [byName.C, 5]]) {
      for (let i = 0; i < n; i++) viewers.push(await h.viewer(node, code, { name: `居民${node.name}${i}` }));
    }
    await producer.ok('session.start', { session: code });
    const asked = [];
    for (const [i, v] of viewers.entries()) {
      const r = await v.ok('question.submit', { text: `第${i + 1}个问题：加装电梯的补贴怎么申请？`, category: 'question' });
      asked.push(r.question.id);
    }
    for (const v of viewers) await v.ok('vote.add', { question_id: asked[0] });
    await mod.ok('question.star', { question_id: asked[1], starred: true });
    await mod.ok('onair.set', { question_id: asked[0] });
    await mod.ok('panel.set', { banner: '正在讨论：加装电梯' });
    await mod.ok('question.answered', { question_id: asked[0], note: '年底前公布补贴细则' });
    const poll = await mod.ok('poll.create', { title: '您最关心哪一项？', options: ['停车', '电梯', '垃圾分类'] });
    await mod.ok('poll.open', { poll_id: poll.poll.id });
    for (const [i, v] of viewers.entries()) await v.ok('poll.vote', { poll_id: poll.poll.id, option_ids: [1 + (i % 3)] });
    await sleep(300); // let the coalesced counts go out
    await mod.ok('poll.close', { poll_id: poll.poll.id });
    await mod.ok('onair.set', { question_id: asked[2] });
    await producer.ok('session.end', { session: code });
    await producer.ok('session.archive', { session: code });
    // the archive is the last event: wait until every client has it
    await Promise.all([...viewers, mod, modC].map((c) =>
      c.waitEvent('session.changed', (e) => e.session?.status === 'archived', 10000)));

    const [ta, tb, tc] = await settledTranscripts(nodes, code);
    gapFree(ta.events, 'node A');
    assert.deepEqual(tb.events, ta.events, 'node B holds the same transcript as node A');
    assert.deepEqual(tc.events, ta.events, 'node C holds the same transcript as node A');
    assert.deepEqual(tc.questions, ta.questions);
    assert.equal(ta.session.status, 'archived');

    // Viewers see the public events (and their own submissions): all nine, on three nodes, saw
    // the same ones in the same order.
    const publicOnly = (c) => c.events().filter((e) => e.kind !== 'question.submitted').map((e) => `${e.seq}:${e.kind}`);
    const first = publicOnly(viewers[0]);
    assert.ok(first.length >= 20, `viewers got ${first.length} events`);
    for (const [i, v] of viewers.entries()) {
      assert.deepEqual(publicOnly(v), first, `${v.label} on its node`);
      assert.deepEqual(v.events('question.submitted').map((e) => e.question.id), [asked[i]], `${v.label}: its own submission`);
      assert.equal(seqProblem(v.events()), null);
    }
    // Staff on A and C saw the same staff stream.
    assert.deepEqual(seqKinds(modC).filter((x) => !x.endsWith('viewers.peak')),
      seqKinds(mod).filter((x) => !x.endsWith('viewers.peak')));
    // Counts: the vote of every viewer, whichever node it came through.
    const final = ta.questions.find((q) => q.id === asked[0]);
    assert.equal(final.votes, viewers.length);
    assert.equal(final.state, 'answered');
    // Peak audience counts the viewers of every node.
    assert.equal(ta.peak_viewers, viewers.length);
    // Forwarding happened (producer on B, viewers on followers) and is reported.
    let forwarded = 0;
    for (const n of nodes) forwarded += (await metrics(n)).get('forum_cluster_forwarded_total') ?? 0;
    assert.ok(forwarded > 0, 'requests were forwarded to the leader');
  });

test('idempotent submit: the same request id through two nodes makes one question', async (t) => {
  const { h, byName, nodes } = await cluster(t);
  const { code } = await setupSession(h, byName.A);
  const token = newToken();
  const onB = await h.viewer(byName.B, code, { token });
  const onC = await h.viewer(byName.C, code, { token });
  const id = `retry-${newToken().slice(0, 8)}`;
  const r1 = await onB.request('question.submit', { text: '小区停车位不够怎么办？' }, { id });
  const r2 = await onC.request('question.submit', { text: '小区停车位不够怎么办？' }, { id });
  assert.equal(r1.type, 'ack');
  assert.equal(r2.type, 'ack');
  assert.equal(r2.question.id, r1.question.id);
  const [ta] = await settledTranscripts(nodes, code);
  assert.equal(ta.questions.filter((q) => q.text === '小区停车位不够怎么办？').length, 1);
});

test('an ack through a follower comes after the change it reports is visible there', async (t) => {
  const { h, leader, nodes } = await cluster(t);
  const follower = nodes.find((n) => n !== leader);
  const { code, moderatorKey } = await setupSession(h, follower, { extra: { question_rate_per_min: 1000 } });
  const mod = await h.moderator(follower, code, moderatorKey);
  const viewer = await h.viewer(follower, code);
  for (let i = 0; i < 20; i++) {
    const from = viewer.mark();
    const r = await viewer.ok('question.submit', { text: `第${i}个：公交站能否加装雨棚？` });
    // the viewer's own question.submitted (and its publication) reached it before the ack
    const ackAt = viewer.log.indexOf(viewer.log.find((m, k) => k >= from && m.type === 'ack' && m.re === r.re));
    const evAt = viewer.log.findIndex((m, k) => k >= from && m.type === 'event' && m.question?.id === r.question.id);
    assert.ok(evAt >= 0 && evAt < ackAt, `question ${r.question.id}: event at ${evAt}, ack at ${ackAt}`);
    // and the moderator on the same node can act on it at once
    await mod.ok('question.star', { question_id: r.question.id, starred: true });
  }
});

test('a node with a database from outside the cluster is refused with a clear message', async (t) => {
  const redis = await Redis.start();
  t.after(() => redis.stop('SIGKILL'));
  const solo = await startServer({ demo: true, producerKey: KEY });
  await solo.stop();
  await assert.rejects(startNode(redis, 'X', { producerKey: KEY, dbPath: solo.dbPath, timeoutMs: 5000 }),
    /not in the cluster's log/);
});

test('a second node with the same name is refused', async (t) => {
  const { redis } = await cluster(t, ['A']);
  await assert.rejects(startNode(redis, 'A', { producerKey: KEY, timeoutMs: 5000 }), /already running/);
});

/** A viewer that submits its share of questions, retrying (same id) through any live node. */
async function submitter(h, nodes, code, token, texts, acked, errors) {
  let i = 0;
  let conn = null;
  let nodeIdx = texts.nodeIdx;
  while (i < texts.length) {
    if (!conn || !conn.isOpen) {
      const live = nodes.filter((n) => n.running);
      const node = nodes[nodeIdx].running ? nodes[nodeIdx] : live[i % live.length];
      nodeIdx = nodes.indexOf(node);
      try {
        conn = await h.viewer(node, code, { token, label: `sub-${texts.nodeIdx}` });
      } catch {
        await sleep(100);
        continue;
      }
    }
    const { text, id } = texts[i];
    let r;
    try {
      r = await conn.request('question.submit', { text }, { id, timeoutMs: 8000 });
    } catch {
      conn = null; // closed or no reply: resend through a (possibly other) node
      continue;
    }
    if (r.type === 'ack') {
      acked.set(id, { text, qid: r.question.id, at: Date.now() });
      i++;
    } else {
      errors.push(r.code);
      await sleep(r.retry_after_ms ?? 200);
    }
  }
  await conn?.close();
}

test('SIGKILL of the leader in the middle of 1,000 submissions: nothing acknowledged is lost',
  async (t) => {
    const { nodes, h, leader } = await cluster(t);
    const followers = nodes.filter((n) => n !== leader);
    const { producer, code, moderatorKey } = await setupSession(h, followers[0], {
      producer: await h.producer(followers[0]),
      extra: { question_rate_per_min: 1000 },
    });
    await producer.ok('session.start', { session: code });
    const mod = await h.moderator(followers[1], code, moderatorKey);
    // Passive viewers: one on the leader (it will resume elsewhere), one on each follower.
    const watcherOnLeader = await h.viewer(leader, code, { name: '观众甲' });
    const watchers = await Promise.all(followers.map((n) => h.viewer(n, code, { name: '观众乙' })));

    const acked = new Map();
    const errors = [];
    const N = 1000;
    const SUBMITTERS = 40;
    const work = [];
    for (let s = 0; s < SUBMITTERS; s++) {
      const texts = [];
      for (let k = s; k < N; k += SUBMITTERS) texts.push({ id: `q${k}`, text: `问题${k}：楼道灯坏了谁来修？` });
      texts.nodeIdx = s % nodes.length;
      work.push(submitter(h, nodes, code, newToken(), texts, acked, errors));
    }
    // Kill the leader once about a third has been acknowledged.
    while (acked.size < N / 3) await sleep(20);
    const killedAt = Date.now();
    const ackedBeforeKill = acked.size;
    await leader.kill();
    const all = Promise.all(work);
    // The viewer of the killed node comes back on another node with resume_from.
    const lastSeen = watcherOnLeader.lastSeq();
    let resumed;
    for (;;) {
      try {
        resumed = await h.viewer(followers[0], code, { token: watcherOnLeader.token, resume_from: lastSeen, label: 'resumed' });
        break;
      } catch { await sleep(100); }
    }
    await all;
    // Writes were unavailable for the longest pause between two acknowledgements after the kill.
    const times = [...acked.values()].map((a) => a.at).filter((x) => x >= killedAt - 50).sort((x, y) => x - y);
    let pause = 0;
    for (let i = 1; i < times.length; i++) pause = Math.max(pause, times[i] - times[i - 1]);
    const newLeader = await waitLeader(followers);
    const m = await metrics(newLeader);
    console.log(`# failover: leader ${leader.name} killed after ${ackedBeforeKill} acks; ` +
      `no acknowledgement for ${pause} ms (lease ${LEASE_MS} ms); new leader ${newLeader.name}; ` +
      `${errors.length} retryable errors meanwhile; log position ${m.get('forum_cluster_log_position')}`);
    assert.equal(acked.size, N);

    // Everyone catches up to one last marker event.
    await mod.ok('panel.set', { banner: 'end-marker' });
    for (const c of [resumed, ...watchers]) {
      await c.waitEvent('panel.changed', (e) => e.panel?.banner === 'end-marker', 10000);
    }
    const [t1, t2] = await settledTranscripts(followers, code);
    gapFree(t1.events, `node ${followers[0].name}`);
    assert.deepEqual(t2.events, t1.events, 'both surviving nodes hold the same transcript');
    // every acknowledged question exactly once, with the id its ack gave
    for (const [id, a] of acked) {
      const found = t1.questions.filter((q) => q.text === a.text);
      assert.equal(found.length, 1, `${id} (${a.text}) present ${found.length} times`);
      assert.equal(found[0].id, a.qid, `${id}: the id the ack gave`);
    }
    // The resumed viewer missed nothing: its events before and after equal a follower viewer's.
    assert.equal(resumed.welcome.snapshot, undefined, 'resumed from the log, not a fresh snapshot');
    const combined = [...new Set([...seqKinds(watcherOnLeader), ...seqKinds(resumed)])];
    const sorted = [...combined].sort((x, y) => parseInt(x, 10) - parseInt(y, 10));
    assert.deepEqual(sorted, seqKinds(watchers[0]), 'resumed viewer saw every event once resumed');
  });

test('Redis restarted mid-show (AOF): the show goes on and nothing acknowledged is lost', async (t) => {
  const { redis, nodes, h, byName } = await cluster(t);
  const { code, moderatorKey } = await setupSession(h, byName.B, { extra: { question_rate_per_min: 1000 } });
  const mod = await h.moderator(byName.C, code, moderatorKey);
  const viewers = await Promise.all(nodes.map((n) => h.viewer(n, code)));
  const ids = [];
  for (const v of viewers) ids.push((await v.ok('question.submit', { text: `重启前的问题 ${v.label}` })).question.id);
  const health = async (n) => (await fetch(`${n.url}/healthz`)).json();
  const ready = async (n) => (await fetch(`${n.url}/readyz`)).status;
  assert.deepEqual((await health(nodes[0])).cluster.redis, true);
  assert.equal(await ready(nodes[0]), 200);
  await redis.stop();
  // /healthz stays ok (the node still serves its viewers) and says it cannot write; /readyz
  // turns 503 (a load balancer may send new viewers elsewhere)
  for (let i = 0; ; i++) {
    const hz = await health(nodes[0]);
    assert.equal(hz.ok, true);
    if (hz.cluster.redis === false && hz.cluster.writable === false) break;
    if (i > 50) assert.fail(`healthz still reports Redis up: ${JSON.stringify(hz)}`);
    await sleep(100);
  }
  assert.equal(await ready(nodes[0]), 503, '/readyz while the cluster cannot write');
  // While Redis is down, writes get a retryable error (nothing is acknowledged that is not
  // in the log); viewers stay connected.
  const during = await viewers[1].request('question.submit', { text: '停机时的问题' }, { timeoutMs: 8000 });
  assert.equal(during.type, 'error');
  assert.equal(during.code, 'internal');
  assert.ok(during.retry_after_ms > 0 || /try again/.test(during.message), JSON.stringify(during));
  await redis.restart();
  // The same show continues: retry until accepted, then everyone sees it.
  let r;
  const deadline = Date.now() + 15000;
  do {
    r = await viewers[1].request('question.submit', { text: '重启后的问题' }, { id: 'after-restart', timeoutMs: 8000 });
    if (r.type !== 'ack') await sleep(200);
  } while (r.type !== 'ack' && Date.now() < deadline);
  assert.equal(r.type, 'ack', JSON.stringify(r));
  await mod.ok('onair.set', { question_id: r.question.id });
  for (const v of viewers) await v.waitEvent('onair.changed', (e) => e.question_id === r.question.id, 10000);
  const ts = await settledTranscripts(nodes, code);
  gapFree(ts[0].events, 'after the restart');
  for (const x of ts) assert.deepEqual(x.events, ts[0].events);
  for (const id of ids) assert.ok(ts[0].questions.some((q) => q.id === id));
  assert.ok(!ts[0].questions.some((q) => q.text === '停机时的问题'), 'the refused question is not there');
});
