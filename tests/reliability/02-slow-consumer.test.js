// 2. A viewer that stops reading during 10,000 broadcast events is dropped (bounded send queue,
// --queue-max-msgs / --queue-max-bytes), the 200 other viewers' delivery latency p99 stays within
// 2x of a run without it, the server's RSS stays under a bound, and the dropped viewer resumes.
//
// Load shape: a moderator sends panel.set in bursts (BURST every INTERVAL_MS): 10,000 small
// broadcast events (marker b#<n>#), what all 200 viewers receive and time. Unread, 10,000 such
// events (~2 MB) would sit in the kernel's socket buffers (a loopback socket nobody reads absorbs
// ~4 MB), so forumd would never see the viewer lag: interleaved with them, the moderator edits a
// pending question of the slow viewer (question.updated, ~1.8 KB, seen by staff and its author
// only) EDITS times, which pushes that viewer's backlog past the kernel into forumd's bounded
// queue. The run without the slow viewer has the same edits (its author is then offline), so the
// load on the others is the same. The 200 viewers are raw sockets that only scan for markers, so
// the test client keeps up. Latency = marker seen by a viewer - its panel.set written.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';

import { RawWs } from './rawws.js';
import { SOAK, harness, metric, newToken, percentile, rawLeanViewer, setupSession, short, sleep, startForumd } from './rlib.js';

const VIEWERS = 200;
const EVENTS = SOAK ? 50000 : 10000;
const EDITS = Math.round(EVENTS * 0.5);
const BURST = 50;
const INTERVAL_MS = 20;
const WINDOW = 2;
const RSS_BOUND_KB = 150 * 1024; // 150 MiB: the server idles at ~20 MiB

test(`slow viewer during ${EVENTS} broadcast events is dropped; ${VIEWERS} others keep their latency`, { timeout: SOAK ? 900000 : 300000 }, async (t) => {
  const h = harness(t);
  const srv = h.track(await startForumd({
    args: ['--queue-max-msgs', '1024', '--queue-max-bytes', '1048576', '--rate-messages-per-sec', '1000000',
      '--synchronous', 'normal'],
  }));
  const { code, moderatorKey } = await setupSession(h, srv, { premoderation: true });
  // the moderator that drives the load: a raw socket that discards what it receives (it gets
  // every event, edits included: parsing them all would make it the slow consumer)
  const mod = await RawWs.open(srv.port);
  assert.equal((await mod.hello(code, 'moderator', moderatorKey, { name: '导播' })).type, 'welcome');
  mod.sock.removeAllListeners('data');
  mod.sock.on('data', () => {});
  // the slow viewer's pending question (premoderation: only staff and the author see it)
  const slowToken = newToken();
  const author = await h.viewer(srv, code, { token: slowToken, name: '慢读者' });
  const pending = (await author.ok('question.submit', { text: '一个待审核的问题' })).question;
  await author.close();
  const longText = (k) => `${k}:${'社区微改造的资金从哪里来，居民怎样参与决策，'.repeat(20)}`.slice(0, 500);

  let sentAt = new Float64Array(0);
  let base = 0;
  let lat = [];
  let seen = 0;
  const onMarker = (n, at) => {
    const k = n - base;
    if (k >= 0 && k < sentAt.length && sentAt[k] > 0) {
      lat.push(at - sentAt[k]);
      seen++;
    }
  };
  const viewers = [];
  for (let i = 0; i < VIEWERS; i++) viewers.push(await rawLeanViewer(srv.port, code, { onMarker }));

  let next = 0; // marker numbers never repeat across phases
  /** Sends `events` panel.set in bursts; resolves with latency stats once every viewer saw all. */
  const phase = async (name, events, during = async () => {}) => {
    sentAt = new Float64Array(events);
    base = next;
    next += events;
    lat = [];
    seen = 0;
    const rss = [];
    const t0 = performance.now();
    const editsPerBurst = Math.round((EDITS / events) * BURST);
    // Closed loop: at most WINDOW bursts in flight (not yet seen by all 200 viewers), and at
    // most one burst per INTERVAL_MS, so a busy machine slows the run instead of overloading it.
    let deadline = performance.now() + 60000;
    for (let sent = 0, b = 0; sent < events; b++) {
      const due = t0 + b * INTERVAL_MS;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      while (seen < (b - WINDOW) * BURST * VIEWERS && performance.now() < deadline) await sleep(1);
      for (let k = 0; k < BURST && sent < events; k++, sent++) {
        sentAt[sent] = performance.now();
        mod.json({ type: 'panel.set', banner: `b#${base + sent}#` });
        if (k < editsPerBurst) mod.json({ type: 'question.edit', question_id: pending.id, text: longText(base + sent) });
      }
      rss.push(srv.rss());
      await during(sent);
      deadline = performance.now() + 30000;
    }
    const want = events * VIEWERS;
    deadline = performance.now() + 30000;
    while (seen < want && performance.now() < deadline) {
      await sleep(20);
      rss.push(srv.rss());
    }
    const s = {
      name, events, ms: Math.round(performance.now() - t0), delivered: seen, want,
      p50: percentile(lat, 50), p99: percentile(lat, 99), max: percentile(lat, 100), rssMaxKb: Math.max(...rss),
    };
    console.log(`# ${name}: ${events} events x ${VIEWERS} viewers in ${s.ms} ms, p50 ${s.p50.toFixed(1)} ms, ` +
      `p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms, server RSS max ${(s.rssMaxKb / 1024).toFixed(1)} MiB`);
    return s;
  };

  await phase('warm-up', 1000);
  const rssIdle = srv.rss();
  // The pair of runs (without, then with the slow viewer) is measured once more if the p99 ratio
  // fails: on a shared 2-core machine one run can catch someone else's load spike.
  let without;
  let withSlow;
  let sw;
  for (let attempt = 1; attempt <= 2; attempt++) {
    without = await phase('without a slow viewer', EVENTS);
    assert.equal(without.delivered, without.want, 'every viewer received every event (no slow viewer)');

    // the slow viewer: says hello, then stops reading its socket
    const slow = await RawWs.open(srv.port);
    sw = await slow.hello(code, 'viewer', slowToken);
    assert.equal(sw.type, 'welcome');
    slow.sock.pause();
    const droppedBefore = await metric(srv, 'forum_dropped_slow_clients_total');
    let droppedAt = null;
    withSlow = await phase('with a slow viewer', EVENTS, async (sent) => {
      if (droppedAt === null && sent % (BURST * 10) === 0 &&
          (await metric(srv, 'forum_dropped_slow_clients_total')) > droppedBefore) droppedAt = sent;
    });
    const droppedAfter = await metric(srv, 'forum_dropped_slow_clients_total');

    // the slow viewer was dropped (the server closed its connection), nobody else was
    slow.sock.resume();
    await slow.waitUntil((x) => x.ended, 10000, 'the slow viewer to be disconnected').catch(() => {});
    assert.ok(slow.ended, 'the slow viewer was disconnected');
    assert.equal(droppedAfter - droppedBefore, 1, 'exactly one connection was dropped as a slow consumer');
    assert.equal(withSlow.delivered, withSlow.want, 'every other viewer received every event');
    assert.ok(viewers.every((v) => !v.ended) && !mod.ended, 'no other viewer (nor the moderator) was disconnected');
    console.log(`# slow viewer dropped ${droppedAt === null ? 'after the events' : `by event ${droppedAt}`}; ` +
      `queue bound 1024 messages / 1 MiB; idle RSS ${(rssIdle / 1024).toFixed(1)} MiB`);
    const ratio = withSlow.p99 / without.p99;
    console.log(`# p99 ratio with/without the slow viewer: ${ratio.toFixed(2)}${ratio > 2 && attempt === 1 ? ' (measuring again)' : ''}`);
    if (ratio <= 2) break;
  }
  // latency: p99 with the slow viewer within 2x of the run without it
  assert.ok(withSlow.p99 <= 2 * without.p99,
    `p99 with a slow viewer ${withSlow.p99.toFixed(1)} ms > 2 x ${without.p99.toFixed(1)} ms without`);
  // memory: bounded, and the slow viewer did not make it grow beyond its queue
  assert.ok(withSlow.rssMaxKb < RSS_BOUND_KB, `server RSS ${withSlow.rssMaxKb} KiB over the ${RSS_BOUND_KB} KiB bound`);
  assert.ok(withSlow.rssMaxKb < without.rssMaxKb + 32 * 1024,
    `RSS with the slow viewer ${withSlow.rssMaxKb} KiB, without ${without.rssMaxKb} KiB: more than its queue`);

  // it resumes: reconnect with resume_from and catch up to the last banner
  const back = await h.viewer(srv, code, { token: slowToken, resume_from: sw.seq, label: 'slow-again' });
  const lastBanner = `b#${next - 1}#`;
  if (back.welcome.resumed) {
    await back.waitFor((m) => m.type === 'event' && m.kind === 'panel.changed' && m.panel.banner.startsWith(lastBanner),
      20000, 0, 'the last event after resuming');
  } else {
    assert.ok(back.welcome.snapshot.panel.banner.startsWith(lastBanner), `fresh snapshot is current: ${short(back.welcome.snapshot.panel)}`);
  }
  console.log(`# the dropped viewer came back with ${back.welcome.resumed ? 'resume (missed events replayed)' : 'a fresh snapshot'}`);
  for (const v of viewers) v.sock.destroy();
  mod.destroy();
});
