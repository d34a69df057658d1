// Orderly shutdown: SIGTERM with clients connected.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';

import { harness, setupSession, short, withTimeout } from './lib.js';

test('SIGTERM with 20 clients: every client gets close 1001, exit 0 within 5 s', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { code, moderatorKey, producer } = await setupSession(h, srv);
  const mod = await h.moderator(srv, code, moderatorKey);
  const viewers = await Promise.all(Array.from({ length: 18 }, (_, i) => h.viewer(srv, code, { name: `听众${i}` })));
  const clients = [producer, mod, ...viewers]; // 20
  assert.equal(clients.length, 20);
  // some traffic in flight
  await viewers[0].ok('question.submit', { text: '关机前的最后一个问题' });

  const t0 = performance.now();
  srv.proc.kill('SIGTERM');
  const exit = await withTimeout(srv.exited, 5000, 'forumd exit after SIGTERM').catch((e) => ({ error: e.message }));
  const ms = performance.now() - t0;
  const closes = await Promise.all(clients.map((c) =>
    withTimeout(c.closed, 2000, `${c.label} close`).catch(() => ({ code: 'no close' }))));
  console.log(`# shutdown: exit ${short(exit)} after ${ms.toFixed(0)} ms`);
  assert.deepEqual(exit, { code: 0, signal: null }, `exit within 5 s with status 0\n${srv.describe()}`);
  const wrong = closes.map((c, i) => [clients[i].label, c.code]).filter(([, c]) => c !== 1001);
  assert.deepEqual(wrong, [], 'every client receives a close frame with code 1001 (going away)');

  // the database is intact: a restart sees the question
  const srv2 = await h.startServer({ dbPath: srv.dbPath, producerKey: srv.producerKey });
  const mod2 = await h.moderator(srv2, code, moderatorKey);
  assert.equal(mod2.welcome.snapshot.questions.length, 1);
});
