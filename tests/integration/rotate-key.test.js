// A leaked moderator key is revoked by rotating it: connections that joined with the old key
// stop acting and stop receiving the staff stream at once, not only later hellos.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { harness, setupSession, short, sleep } from './lib.js';

test('rotating the moderator key closes every connection that joined with the old key', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { producer, code, moderatorKey } = await setupSession(h, srv, { premoderation: true });
  const leaked = await h.moderator(srv, code, moderatorKey, '泄露的密钥');
  const viewer = await h.viewer(srv, code, { name: '居民' });
  const q = (await viewer.ok('question.submit', { text: '小区电梯什么时候修？' })).question;
  // the old key works before the rotation
  await leaked.ok('question.star', { question_id: q.id, starred: true });

  const rotated = await producer.ok('session.rotate_key', { session: code });
  assert.notEqual(rotated.moderator_key, moderatorKey);
  const closed = await Promise.race([leaked.closed, sleep(3000).then(() => null)]);
  assert.ok(closed, 'the old-key connection is closed after the rotation');
  assert.equal(closed.code, 1008, short(closed));
  assert.match(closed.reason, /rotated/);

  // nothing it sent after the rotation took effect: the question is still pending, unstarred
  // only by the star it made before
  const fresh = await h.moderator(srv, code, rotated.moderator_key, '新主持人');
  const seen = fresh.welcome.snapshot.questions.find((x) => x.id === q.id);
  assert.equal(seen.state, 'pending');
  // the old key cannot join again; the new one acts
  const again = await (await h.connect(srv)).hello(code, 'moderator', moderatorKey, { name: 'x' });
  assert.equal(again.code, 'unauthorized', short(again));
  await fresh.ok('question.approve', { question_id: q.id });
  // a moderator that joined with the new key is not closed by a later unrelated session change
  await producer.ok('session.update', { session: code, topic: '加装电梯' });
  await sleep(300);
  assert.equal(fresh.closeInfo, null, 'the current key stays connected');
  await fresh.ok('question.star', { question_id: q.id, starred: false });
});

test('a request racing the rotation on an old-key connection is refused, not applied', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { producer, code, moderatorKey } = await setupSession(h, srv, { premoderation: true });
  const leaked = await h.moderator(srv, code, moderatorKey, '泄露的密钥');
  const viewer = await h.viewer(srv, code, { name: '居民' });
  const q = (await viewer.ok('question.submit', { text: '菜市场噪音问题' })).question;
  // the rotation and a dismissal from the old key are sent at the same time
  const [rot, dismissal] = await Promise.allSettled([
    producer.ok('session.rotate_key', { session: code }),
    leaked.request('question.dismiss', { question_id: q.id, reason: '垃圾信息' }),
  ]);
  assert.equal(rot.status, 'fulfilled');
  const staff = await h.moderator(srv, code, rot.value.moderator_key, '新主持人');
  const state = staff.welcome.snapshot.questions.find((x) => x.id === q.id).state;
  if (dismissal.status === 'fulfilled' && dismissal.value.type === 'ack') {
    // it was applied before the rotation (allowed: it came first)
    assert.equal(state, 'dismissed');
  } else {
    assert.equal(state, 'pending', 'a refused or unanswered dismissal changed nothing');
  }
});
