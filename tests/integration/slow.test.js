// A viewer that stops reading never holds up the others: its bounded queue fills, it is dropped,
// and it can resume.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';

import { harness, setupSession, short, snapshotSummary } from './lib.js';

test('a slow viewer is dropped without slowing the others, and resumes', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer({ args: ['--queue-max-bytes', String(1 << 20)] });
  const { code, moderatorKey } = await setupSession(h, srv);
  const N_MODS = 10;
  const PER_MOD = 95; // within the per-connection burst of 100 requests
  const mods = await Promise.all(Array.from({ length: N_MODS }, (_, i) => h.moderator(srv, code, moderatorKey, `导播${i}`)));
  const fast = await h.viewer(srv, code, { name: '正常观众' });
  const slow = await h.viewer(srv, code, { name: '卡住的观众' });
  const q = await fast.ok('question.submit', { text: '卡顿测试' });
  await slow.waitEvent('question.published', (e) => e.question?.id === q.question.id);
  const lastSeen = slow.lastSeq();
  slow.ws._socket.pause(); // stop reading: the server's queue for it must fill up

  const big = '长'.repeat(1990); // ~6 KB per panel.changed (banner <= 2000 code points)
  const t0 = performance.now();
  await Promise.all(mods.map(async (m, i) => {
    // one at a time per moderator: the readers that do read keep up
    for (let k = 0; k < PER_MOD; k++) {
      const r = await m.request('panel.set', { banner: `${i}-${k}-${big}` });
      assert.equal(r.type, 'ack', `${m.label}: panel.set refused: ${short(r)}`);
    }
  }));
  const final = `final-${Date.now()}`;
  await mods[0].ok('panel.set', { banner: final });
  await fast.waitEvent('panel.changed', (e) => e.panel?.banner === final, 15000);
  const ms = performance.now() - t0;
  const got = fast.events('panel.changed').length;
  console.log(`# slow consumer: ${N_MODS * PER_MOD + 1} panel.changed (~${((N_MODS * PER_MOD * 6.1) / 1024).toFixed(1)} MB) reached the fast viewer in ${ms.toFixed(0)} ms`);
  assert.equal(got, N_MODS * PER_MOD + 1, 'the fast viewer received every event');

  const metrics = await (await fetch(`${srv.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const dropped = metrics.match(/^forum_dropped_slow_clients_total\s+(\d+)/m);
  console.log(`# slow consumer: ${dropped ? dropped[0] : 'forum_dropped_slow_clients_total not in /metrics'}`);

  // reading again, the slow viewer finds its connection closed
  slow.ws._socket.resume();
  const info = await Promise.race([slow.closed, new Promise((r) => setTimeout(() => r(null), 10000))]);
  assert.ok(info, `the slow viewer was not dropped (received ${slow.events('panel.changed').length} of ${got} events)`);
  assert.ok(slow.events('panel.changed').length < got, 'it missed events');
  assert.ok(!slow.events('panel.changed').some((e) => e.panel?.banner === final), 'it did not get the final event');

  // and it catches up: resumed events or a fresh snapshot, consistent with the present
  console.log(`# slow consumer: dropped with close ${short(info)} after ${slow.events('panel.changed').length} of ${got} events`);
  const back = await h.connect(srv, { label: 'slow-back' });
  const from = slow.lastSeq() || lastSeen;
  const w = await back.hello(code, 'viewer', slow.token, { resume_from: from }).catch((err) => {
    assert.fail(`a dropped viewer must be able to come back: hello with resume_from ${from} (backlog ~${got - slow.events('panel.changed').length} events, ~${((got - slow.events('panel.changed').length) * 6.1 / 1024).toFixed(1)} MB, more than the 1 MiB send queue) -> ${err.message}`);
  });
  assert.equal(w.type, 'welcome', short(w));
  if (w.resumed) {
    await back.waitEvent('panel.changed', (e) => e.panel?.banner === final, 15000);
  } else {
    assert.equal(w.snapshot.panel.banner, final);
    const fresh = await h.viewer(srv, code, {});
    assert.deepEqual(snapshotSummary(w.snapshot), snapshotSummary(fresh.welcome.snapshot));
  }
  console.log(`# slow consumer: came back ${w.resumed ? 'resumed' : 'with a snapshot'}`);
});
