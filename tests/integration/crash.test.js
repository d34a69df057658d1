// Durability: an acknowledged question survives SIGKILL.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';

import { harness, setupSession, short } from './lib.js';

const N_VIEWERS = 10;
const N_QUESTIONS = 200;

test('every acknowledged question survives SIGKILL', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  // the default rate limit (6 questions a minute) would stop a viewer at its seventh question
  const { code, moderatorKey } = await setupSession(h, srv, { extra: { question_rate_per_min: 1000 } });
  const viewers = await Promise.all(Array.from({ length: N_VIEWERS }, (_, i) =>
    h.viewer(srv, code, { name: `压力测试${i}`, label: `v${i}` })));

  const acked = new Map(); // question id -> text
  const byReq = new Map(); // request id -> question id
  const perViewer = N_QUESTIONS / N_VIEWERS;
  const t0 = performance.now();
  await Promise.all(viewers.map(async (v, i) => {
    for (let k = 0; k < perViewer; k++) {
      const text = `第${i}位观众的第${k}个问题：小区消防通道被占用，谁来管？`;
      const r = await v.request('question.submit', { text }, { id: `crash-${i}-${k}` });
      assert.equal(r.type, 'ack', `viewer ${i} question ${k}: ${short(r)}`);
      assert.ok(!acked.has(r.question.id), `question id ${r.question.id} acked twice`);
      acked.set(r.question.id, text);
      byReq.set(`crash-${i}-${k}`, r.question.id);
    }
  }));
  const killed = await srv.kill(); // right after the last ack
  const ms = performance.now() - t0;
  assert.equal(killed.signal, 'SIGKILL');
  console.log(`# crash: ${acked.size} questions acked in ${ms.toFixed(0)} ms (${(acked.size / ms * 1000).toFixed(0)}/s), then SIGKILL`);
  assert.equal(acked.size, N_QUESTIONS);

  const srv2 = await h.startServer({ dbPath: srv.dbPath, producerKey: srv.producerKey });
  const mod = await h.moderator(srv2, code, moderatorKey, '灾后核对');
  const questions = mod.welcome.snapshot.questions;
  const byId = new Map();
  for (const q of questions) byId.set(q.id, (byId.get(q.id) ?? 0) + 1);
  const missing = [...acked.keys()].filter((id) => !byId.has(id));
  const dup = [...byId.entries()].filter(([, n]) => n > 1);
  assert.deepEqual(missing, [], `${missing.length} acknowledged questions lost`);
  assert.deepEqual(dup, [], 'questions present more than once');
  for (const q of questions) {
    if (acked.has(q.id)) assert.equal(q.text, acked.get(q.id), `question ${q.id} text`);
  }
  const texts = questions.map((q) => q.text);
  assert.equal(new Set(texts).size, texts.length, 'each text exactly once');
  // a resend of an acknowledged request after the crash is still idempotent
  const v = await h.viewer(srv2, code, { token: viewers[0].token, name: '压力测试0' });
  const again = await v.request('question.submit', { text: acked.get(byReq.get('crash-0-0')) }, { id: 'crash-0-0' });
  assert.equal(again.type, 'ack', short(again));
  assert.equal(again.question.id, byReq.get('crash-0-0'), 'the resend maps to the original question');
  const mod2 = await h.moderator(srv2, code, moderatorKey, '再核对');
  assert.equal(mod2.welcome.snapshot.questions.length, questions.length, 'the resend created nothing');
});
