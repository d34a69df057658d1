// A viewer who has used up the questions-per-minute limit and then resends a question that was
// already accepted (its outbox after a reconnect) gets the original ack, not rate_limited; a
// new question is still refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { harness, setupSession } from './lib.js';

test('a resend of an accepted question is answered even when the viewer is rate limited', async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { code } = await setupSession(h, srv);
  const viewer = await h.viewer(srv, code, { name: '王大爷' });
  const first = await viewer.ok('question.submit', { text: '第一个问题：垃圾分类站什么时候建好？' }, { id: 'outbox-1' });
  for (let i = 2; i <= 6; i++) await viewer.ok('question.submit', { text: `第${i}个问题` });
  const refused = await viewer.request('question.submit', { text: '第七个问题' });
  assert.equal(refused.type, 'error');
  assert.equal(refused.code, 'rate_limited');
  assert.ok(refused.retry_after_ms > 0);

  const again = await viewer.request('question.submit', { text: '第一个问题：垃圾分类站什么时候建好？' }, { id: 'outbox-1' });
  assert.equal(again.type, 'ack', `resend answered with ${JSON.stringify(again)}`);
  assert.equal(again.question.id, first.question.id);
});
