// question.submit is idempotent on (viewer, request id).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { harness, marker, setupSession, short } from './lib.js';

function countText(snapshot, text) {
  return snapshot.questions.filter((q) => q.text === text).length;
}

test('question.submit with the same id: one question, the same ack', { timeout: 40000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  // resends go through the rate limiter too; keep it out of the way here
  const { code, moderatorKey } = await setupSession(h, srv, { extra: { question_rate_per_min: 1000 } });
  const mod = await h.moderator(srv, code, moderatorKey);
  const control = await h.viewer(srv, code, { name: '旁观者' });
  const v = await h.viewer(srv, code, { name: '重发的人' });

  const text = '小区门口的红绿灯时间太短，老人过不去马路。';
  const a1 = await v.request('question.submit', { text }, { id: 'outbox-1' });
  assert.equal(a1.type, 'ack', short(a1));
  assert.equal(a1.re, 'outbox-1');
  const qid = a1.question.id;

  // the same request again on the same connection
  const a2 = await v.request('question.submit', { text }, { id: 'outbox-1' });
  assert.equal(a2.type, 'ack', short(a2));
  assert.equal(a2.re, 'outbox-1');
  assert.equal(a2.question.id, qid, 'a resend gets the original question');

  // after a reconnect with the same device token
  await v.close();
  const v2 = await h.viewer(srv, code, { token: v.token, name: '重发的人' });
  const mineInSnap = v2.welcome.snapshot.questions.filter((q) => q.mine);
  assert.deepEqual(mineInSnap.map((q) => q.id), [qid]);
  const a3 = await v2.request('question.submit', { text }, { id: 'outbox-1' });
  assert.equal(a3.type, 'ack', short(a3));
  assert.equal(a3.question.id, qid, 'a resend after reconnecting gets the original question');

  // two sends of the same id in flight at once
  const text2 = '能不能在小区里设一个快递柜？';
  const [p1, p2] = await Promise.all([
    v2.request('question.submit', { text: text2 }, { id: 'outbox-2' }),
    v2.request('question.submit', { text: text2 }, { id: 'outbox-2' }),
  ]);
  assert.equal(p1.type, 'ack', short(p1));
  assert.equal(p2.type, 'ack', short(p2));
  assert.equal(p1.question.id, p2.question.id, 'pipelined duplicates get one question');

  // different ids: different questions, even with the same text
  const b = await v2.request('question.submit', { text }, { id: 'outbox-3' });
  assert.equal(b.type, 'ack', short(b));
  assert.notEqual(b.question.id, qid);
  // the same id from another viewer is another question
  const w = await h.viewer(srv, code, { name: '另一位' });
  const c = await w.request('question.submit', { text }, { id: 'outbox-1' });
  assert.equal(c.type, 'ack', short(c));
  assert.notEqual(c.question.id, qid, 'idempotency is per viewer');
  assert.notEqual(c.question.id, b.question.id);

  await marker(mod, [control], 'check');
  const snap = (await h.moderator(srv, code, moderatorKey, '核对')).welcome.snapshot;
  assert.equal(countText(snap, text), 3, `questions with the text: ${short(snap.questions)}`);
  assert.equal(countText(snap, text2), 1);
  assert.equal(snap.questions.length, 4);
  assert.equal(control.events('question.published').filter((e) => e.question.id === qid).length, 1,
    'published once');

  // and after a server restart
  await srv.stop();
  const srv2 = await h.startServer({ dbPath: srv.dbPath, producerKey: srv.producerKey });
  const v3 = await h.viewer(srv2, code, { token: v.token, name: '重发的人' });
  const a4 = await v3.request('question.submit', { text }, { id: 'outbox-1' });
  assert.equal(a4.type, 'ack', short(a4));
  assert.equal(a4.question.id, qid, 'a resend after a server restart gets the original question');
  const snap2 = (await h.moderator(srv2, code, moderatorKey, '核对')).welcome.snapshot;
  assert.equal(countText(snap2, text), 3);
  assert.equal(snap2.questions.length, 4);
  for (const cl of [v, v2, v3, w]) assert.deepEqual(cl.strayReplies, [], `${cl.label}: stray replies`);
});
