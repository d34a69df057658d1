// Replies written ahead of a long fan-out, and a fan-out written in slices (net.c): with more
// than 256 connections waiting to be written, an ack jumps ahead of the others and the pass
// over them is cut into slices with the loop polling in between. What must hold whatever the
// order of the passes: nothing is lost or doubled, each connection's messages keep their order
// (a submitter's own event comes before its ack), and connections that vanish while they wait
// on a flush list are simply dropped (the ASan run of this suite checks the memory).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { harness, newToken, connect, seqProblem, setupSession, sleep } from './lib.js';

const VIEWERS = 400;    // > 256 waiting: replies take the urgent path
const CHANGES = 30;     // panel changes, each a fan-out to every viewer
const SUBMITTERS = 60;  // viewers that submit while the fan-out runs
const PER_SUBMITTER = 4;
const VANISH = 40;      // viewers that drop without a close frame halfway

test('a fan-out to 400 viewers with questions and drop-outs in the middle: nothing lost, doubled or reordered', { timeout: 120000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer({ args: ['--rate-questions-per-address-per-min', '0', '--max-connections-per-address', '0'] });
  const { code, moderatorKey } = await setupSession(h, srv, { extra: { question_rate_per_min: 1000 } });
  const mod = await h.moderator(srv, code, moderatorKey, '导播');

  const viewers = [];
  for (let i = 0; i < VIEWERS; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, VIEWERS - i) }, async (_, k) => {
      const c = await connect(srv.port, { label: `v${i + k}` });
      h.track(c);
      const w = await c.hello(code, 'viewer', newToken(), { name: `居民${i + k}` });
      assert.equal(w.type, 'welcome', JSON.stringify(w));
      return c;
    }));
    viewers.push(...batch);
  }
  const from = viewers.map((c) => c.mark());
  const submitters = viewers.slice(0, SUBMITTERS);
  const vanishing = viewers.slice(SUBMITTERS, SUBMITTERS + VANISH);
  const staying = viewers.filter((c) => !vanishing.includes(c));

  // the moderator changes the banner CHANGES times, a request in flight at a time
  const banners = Array.from({ length: CHANGES }, (_, i) => `第${i + 1}条横幅：欢迎收看书记论坛`);
  const changes = (async () => {
    for (const banner of banners) await mod.ok('panel.set', { banner });
  })();
  // meanwhile submitters pipeline their questions, and some viewers vanish halfway
  const asked = Promise.all(submitters.map(async (c, i) => {
    const replies = await Promise.all(Array.from({ length: PER_SUBMITTER }, (_, k) =>
      c.request('question.submit', { text: `居民${i}的第${k + 1}个问题：楼下路灯坏了什么时候修？` })));
    return replies;
  }));
  await sleep(20);
  for (const c of vanishing) c.terminate();
  const [, answers] = await Promise.all([changes, asked]);

  // every submission acknowledged, and each submitter's own question.submitted came before its ack
  for (const [i, replies] of answers.entries()) {
    const c = submitters[i];
    for (const r of replies) {
      assert.equal(r.type, 'ack', JSON.stringify(r));
      const id = r.question.id;
      const evAt = c.log.findIndex((m, j) => j >= from[i] && m.type === 'event' && m.kind === 'question.submitted' && m.question?.id === id);
      const ackAt = c.log.indexOf(r);
      assert.ok(evAt >= 0 && evAt < ackAt, `${c.label}: the event for question ${id} (at ${evAt}) comes before its ack (at ${ackAt})`);
    }
  }

  // every viewer still there saw every banner once, in order, and every event in seq order
  const last = banners.at(-1);
  await Promise.all(staying.map((c) => c.waitEvent('panel.changed', (e) => e.panel?.banner === last, 30000, from[viewers.indexOf(c)])));
  const allQuestions = new Set(answers.flat().map((r) => r.question.id));
  for (const c of staying) {
    const evs = c.events(null, from[viewers.indexOf(c)]);
    assert.equal(seqProblem(evs), null, c.label);
    const seen = evs.filter((e) => e.kind === 'panel.changed').map((e) => e.panel.banner);
    assert.deepEqual(seen, banners, `${c.label} saw the banners in order, once each`);
    const qs = evs.filter((e) => e.kind === 'question.published').map((e) => e.question.id);
    assert.equal(new Set(qs).size, qs.length, `${c.label}: no question twice`);
    assert.deepEqual(new Set(qs), allQuestions, `${c.label}: every published question`);
  }
  assert.ok(srv.running, 'forumd is still running');
  const stopped = await srv.stop();
  assert.equal(stopped.code, 0, srv.describe?.() ?? '');
});
