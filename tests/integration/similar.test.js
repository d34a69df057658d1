// Similar-question hints: staff ask questions.similar and get the earlier questions of the
// session (and of the programme's earlier sessions) that ask the same thing, with a score; a
// viewer can neither ask nor find hints in anything it receives.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { harness, marker, setupSession } from './lib.js';

test('paraphrases produce hints for staff, never for viewers', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const earlier = await setupSession(h, srv, { scheduled_at: Date.parse('2026-03-01T10:00:00Z') });
  const old = await h.viewer(srv, earlier.code);
  const oldQ = (await old.ok('question.submit', { text: '垃圾分类投放点开放时间太短，上班族赶不上怎么办？' })).question.id;
  // a few other questions, so the earlier session's character weights are not those of two
  for (const text of ['社区医院能不能延长门诊时间？', '老年食堂能不能对年轻人开放？', '公交站台能不能加个雨棚？',
    '电动车在楼道充电太危险了', '暑假托管班怎么报名？', '物业费为什么又涨了？']) {
    await earlier.producer.ok('question.submit', { session: earlier.code, text, source: 'paper' });
  }
  await earlier.producer.ok('session.update', { session: earlier.code, premoderation: true });
  const oldPending = (await old.ok('question.submit', { text: '垃圾投放点几点开门？上班族赶不上投放时间' })).question.id;

  const { code, moderatorKey } = await setupSession(h, srv, {
    producer: earlier.producer, programId: earlier.programId, scheduled_at: Date.parse('2026-03-08T10:00:00Z'),
  });
  const mod = await h.moderator(srv, code, moderatorKey);
  const alice = await h.viewer(srv, code, { name: '王大妈' });
  const bob = await h.viewer(srv, code);
  const a1 = (await alice.ok('question.submit', { text: '老旧小区加装电梯，政府补贴多少钱？' })).question.id;
  const other = (await alice.ok('question.submit', { text: '小区门口的路灯坏了一个月了，谁来修？' })).question.id;
  const bobMark = bob.mark();
  const aliceMark = alice.mark();
  const ack = await bob.ok('question.submit', { text: '加装电梯的话政府能补贴多少？' });
  const b1 = ack.question.id;
  const b2 = (await bob.ok('question.submit', { text: '垃圾投放点的开放时间能不能延长？上班的人根本赶不上' })).question.id;

  const r = await mod.ok('questions.similar', { question_ids: [b1, other, b2] });
  assert.deepEqual(r.similar.map((x) => x.question_id), [b1, other, b2]);
  const [forB1, forOther, forB2] = r.similar;
  assert.equal(forB1.hints[0].id, a1, 'the paraphrase is hinted first');
  assert.equal(forB1.hints[0].session, code);
  assert.ok(forB1.hints[0].score >= 0.25 && forB1.hints[0].score <= 1, `score ${forB1.hints[0].score}`);
  assert.equal(forB1.hints[0].text, '老旧小区加装电梯，政府补贴多少钱？');
  assert.ok(!forB1.hints.some((x) => x.id === other), 'the street light is not like the lift');
  assert.deepEqual(forOther.hints, []);
  const fromEarlier = forB2.hints.find((x) => x.id === oldQ);
  assert.ok(fromEarlier, `the earlier session's question is hinted: ${JSON.stringify(forB2.hints)}`);
  assert.equal(fromEarlier.session, earlier.code);
  assert.ok(!forB2.hints.some((x) => x.id === oldPending), 'another session\'s pending questions stay with its staff');

  // the producer may ask too; a merged question no longer shows up as a hint
  const prod = await h.producer(srv, code);
  assert.equal((await prod.ok('questions.similar', { question_ids: [a1] })).similar[0].hints[0].id, b1);
  await mod.ok('question.merge', { question_id: b1, into_id: a1 });
  assert.deepEqual((await mod.ok('questions.similar', { question_ids: [a1] })).similar[0].hints, []);

  // viewers: refused, and nothing they received carries a hint or a score
  const refused = await bob.request('questions.similar', { question_ids: [b1] });
  assert.equal(refused.type, 'error');
  assert.equal(refused.code, 'forbidden');
  await marker(mod, [alice, bob], 'end');
  for (const [c, from] of [[bob, bobMark], [alice, aliceMark]]) {
    const seen = JSON.stringify(c.log.slice(from));
    assert.ok(seen.includes(String(b1)), 'the viewer did see the question');
    assert.ok(!/similar|hints|"score"/.test(seen), `no hints for viewers: ${seen.match(/.{0,200}(similar|hints|"score").{0,100}/)}`);
  }

  // bad input: a clear error, and one question of another session is not found
  for (const [fields, field] of [[{}, 'question_ids'], [{ question_ids: [] }, 'question_ids'],
    [{ question_ids: [0] }, 'question_ids'], [{ question_ids: ['1'] }, 'question_ids'],
    [{ question_ids: Array.from({ length: 101 }, (_, i) => i + 1) }, 'question_ids']]) {
    const e = await mod.request('questions.similar', fields);
    assert.equal(e.type, 'error', JSON.stringify(fields));
    assert.equal(e.code, 'bad_request');
    assert.equal(e.field, field);
  }
  const nf = await mod.request('questions.similar', { question_ids: [oldQ] });
  assert.equal(nf.code, 'not_found');

  // the indexes are rebuilt from the log after a restart
  const before = (await mod.ok('questions.similar', { question_ids: [b2] })).similar;
  for (const c of [mod, alice, bob, old, prod, earlier.producer]) await c.close();
  await srv.stop();
  const again = await h.startServer({ dbPath: srv.dbPath, producerKey: srv.producerKey });
  const mod2 = await h.moderator(again, code, moderatorKey);
  assert.deepEqual((await mod2.ok('questions.similar', { question_ids: [b2] })).similar, before);
  assert.ok(before[0].hints.length > 0);
});
