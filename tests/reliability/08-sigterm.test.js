// 8. SIGTERM with 1,000 clients connected, run against the ASan+UBSan build (FORUMD_ASAN): every
// client gets a close frame with 1001, forumd exits 0 within 5 s, nothing acknowledged is lost
// (also requests in flight at the signal), and the sanitizers report nothing.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';

import { OP, RawWs, frame } from './rawws.js';
import { FORUMD, FORUMD_ASAN, SOAK, harness, newToken, pool, setupSession, short, startForumd, withTimeout } from './rlib.js';

const CLIENTS = SOAK ? 3000 : 1000;
const IN_FLIGHT = Number(process.env.FORUM_SIGTERM_IN_FLIGHT ?? 50);
const SANITIZER_RE = /ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: (Address|Undefined|Leak)Sanitizer/;

test(`SIGTERM with ${CLIENTS} clients: close 1001 for all, exit 0 within 5 s, nothing acked lost, sanitizers clean`, {
  timeout: 180000,
  skip: !FORUMD_ASAN || !existsSync(FORUMD_ASAN) ? `no ASan build (set FORUMD_ASAN; tried ${FORUMD_ASAN})` : false,
}, async (t) => {
  const h = harness(t);
  const srv = h.track(await startForumd({ bin: FORUMD_ASAN, timeoutMs: 30000 }));
  const { code, moderatorKey, producer } = await setupSession(h, srv, { extra: { question_rate_per_min: 100 } });
  const mod = await h.moderator(srv, code, moderatorKey);

  const t0 = performance.now();
  const viewers = await pool(Array.from({ length: CLIENTS - 2 }, (_, i) => i), 32, async (i) => {
    const ws = await RawWs.open(srv.port, { timeoutMs: 20000 });
    const w = await ws.hello(code, 'viewer', newToken(), { name: `观众${i}` });
    if (w.type !== 'welcome') throw new Error(`viewer ${i}: ${short(w)}`);
    return ws;
  });
  console.log(`# ${CLIENTS} clients connected to the ASan build in ${(performance.now() - t0).toFixed(0)} ms; forumd RSS ${(srv.rss() / 1024).toFixed(0)} MiB`);

  // traffic in flight: IN_FLIGHT viewers submit a question each, the signal follows the burst at
  // once (each question is broadcast to every viewer: the server flushes queued messages before the
  // close frame, so the backlog at the signal adds to the shutdown time)
  const acked = new Map();
  const submitters = viewers.slice(0, IN_FLIGHT);
  for (const ws of viewers.slice(IN_FLIGHT)) ws.parseJson = false; // the test client keeps up with 200,000 events
  submitters.forEach((ws) => {
    ws.onObject = (o) => { if (o.type === 'ack' && o.question) acked.set(o.re, o.question); };
  });
  const frames = submitters.map((ws, i) => frame({ opcode: OP.TEXT, payload: JSON.stringify({ type: 'question.submit', id: `last-${i}`, text: `关机前的问题${i}：小区门口的路灯什么时候修？` }) }));
  // and a few acknowledged before
  for (let i = 0; i < 5; i++) await mod.ok('question.submit', { text: `关机前已确认的问题${i}`, source: 'phone' });

  submitters.forEach((ws, i) => ws.write(frames[i]));
  const tSig = performance.now();
  srv.proc.kill('SIGTERM');
  const exit = await withTimeout(srv.exited, 5000, 'forumd exit within 5 s of SIGTERM').catch((e) => ({ error: e.message }));
  const exitMs = performance.now() - tSig;
  // every client: a close frame with 1001 (RawWs for the viewers, ws for the staff connections)
  await Promise.all(viewers.map((ws) => ws.waitClose(5000)));
  const staffCloses = await Promise.all([mod, producer].map((c) => withTimeout(c.closed, 5000, 'close').catch(() => ({ code: 'none' }))));
  const codes = {};
  for (const ws of viewers) {
    const c = ws.closeFrame ? String(ws.closeFrame.code) : ws.ended ? 'TCP close without a close frame' : 'still open';
    codes[c] = (codes[c] ?? 0) + 1;
  }
  for (const c of staffCloses) codes[String(c.code)] = (codes[String(c.code)] ?? 0) + 1;
  console.log(`# SIGTERM: exit ${short(exit)} after ${exitMs.toFixed(0)} ms; close codes ${short(codes)}; ${acked.size} of ${submitters.length} in-flight submissions acknowledged before the close`);
  const sanitizer = srv.stderr.split('\n').filter((l) => SANITIZER_RE.test(l));

  assert.deepEqual(exit, { code: 0, signal: null }, `forumd exits 0 within 5 s of SIGTERM\n${srv.describe()}`);
  assert.deepEqual(codes, { 1001: CLIENTS }, 'every client receives a close frame with 1001');
  assert.deepEqual(sanitizer, [], `sanitizer reports in stderr:\n${srv.stderr.slice(-4000)}`);
  assert.ok(!/warning: handles left open/.test(srv.stderr), 'no libuv handle left open at exit');

  // nothing acknowledged is lost (restart on the same database, the normal build)
  const again = h.track(await startForumd({ bin: FORUMD, dbPath: srv.dbPath, producerKey: srv.producerKey }));
  const check = await h.moderator(again, code, moderatorKey, '核对');
  const ids = new Set(check.welcome.snapshot.questions.map((q) => q.id));
  const lost = [...acked.values()].filter((q) => !ids.has(q.id));
  assert.deepEqual(lost, [], 'every question acknowledged before the shutdown is present after a restart');
  assert.ok(check.welcome.snapshot.questions.filter((q) => /关机前已确认/.test(q.text)).length === 5, 'the earlier questions are present');
});
