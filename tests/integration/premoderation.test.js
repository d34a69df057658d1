// Premoderation and blocked words: who sees a question before it is approved.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { eventsAbout, harness, marker, setupSession, short } from './lib.js';

test('premoderation on: pending questions are seen by staff and the author only', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { code, moderatorKey } = await setupSession(h, srv, { premoderation: true });
  const mod = await h.moderator(srv, code, moderatorKey, '审核员');
  const author = await h.viewer(srv, code, { name: '张阿姨' });
  const other = await h.viewer(srv, code, { name: '刘师傅' });
  assert.equal(author.welcome.snapshot.session.premoderation, true);

  // a viewer's question is pending
  const text = '楼道里的电线老化严重，什么时候能改造？';
  const r = await author.ok('question.submit', { text });
  const qid = r.question.id;
  assert.equal(r.question.state, 'pending');
  assert.equal(r.question.mine, true);
  assert.equal('viewer_id' in r.question, false);

  // the moderator sees question.submitted with the asker's viewer id; so does the author
  const sub = await mod.waitEvent('question.submitted', (e) => e.question?.id === qid);
  assert.equal(sub.question.viewer_id, author.viewerId);
  assert.equal(sub.question.state, 'pending');
  assert.equal(sub.question.text, text);
  const own = await author.waitEvent('question.submitted', (e) => e.question?.id === qid);
  assert.equal(own.question.mine, true);
  assert.equal('viewer_id' in own.question, false);

  // other viewers see nothing of it: no event ...
  await marker(mod, [author, other, mod], 'after-submit');
  assert.deepEqual(eventsAbout(other, qid), [], 'another viewer received an event about a pending question');
  assert.equal(mod.events('question.published').some((e) => e.question?.id === qid), false, 'not published yet');
  // ... and not in their snapshot
  const late = await h.viewer(srv, code, { name: '后来的观众' });
  assert.equal(late.welcome.snapshot.questions.some((q) => q.id === qid), false,
    `pending question in another viewer's snapshot: ${short(late.welcome.snapshot.questions)}`);
  // the author sees it in its own snapshot, marked mine, pending
  const author2 = await h.viewer(srv, code, { token: author.token, name: '张阿姨' });
  const mine = author2.welcome.snapshot.questions.find((q) => q.id === qid);
  assert.ok(mine, 'the author sees its pending question in its snapshot');
  assert.equal(mine.state, 'pending');
  assert.equal(mine.mine, true);
  assert.equal('viewer_id' in mine, false);
  // staff snapshot has it, with the viewer id
  const modSnapQ = (await h.moderator(srv, code, moderatorKey, '审核员二')).welcome.snapshot.questions.find((q) => q.id === qid);
  assert.equal(modSnapQ?.state, 'pending');
  assert.equal(modSnapQ?.viewer_id, author.viewerId);

  // approval publishes it to everyone
  const viewersNow = [author, other, late, author2];
  const froms = viewersNow.map((c) => c.mark());
  const ap = await mod.ok('question.approve', { question_id: qid });
  assert.equal(ap.question?.state ?? 'published', 'published');
  const pubs = await Promise.all(viewersNow.map((c, i) => c.waitEvent('question.published', (e) => e.question?.id === qid, 5000, froms[i])));
  assert.equal(pubs[0].question.mine, true, "author's copy is mine");
  assert.equal(pubs[1].question.mine, false, "other's copy is not mine");
  for (const p of pubs) {
    assert.equal(p.question.state, 'published');
    assert.equal('viewer_id' in p.question, false);
  }
  await mod.waitEvent('question.published', (e) => e.question?.id === qid);

  // dismissing a pending question: only staff and the author hear of it
  const r2 = await author.ok('question.submit', { text: '我想推销一下我家的保健品。' });
  const q2 = r2.question.id;
  assert.equal(r2.question.state, 'pending');
  const from2 = viewersNow.map((c) => c.mark());
  const reason = '与本期主题无关';
  await mod.ok('question.dismiss', { question_id: q2, reason });
  const dm = await mod.waitEvent('question.dismissed', (e) => e.question?.id === q2);
  assert.equal(dm.question.state, 'dismissed');
  const da = await author.waitEvent('question.dismissed', (e) => e.question?.id === q2, 5000, from2[0]);
  assert.equal(da.question.mine, true);
  assert.equal(da.question.state, 'dismissed');
  await marker(mod, viewersNow, 'after-dismiss');
  assert.deepEqual(eventsAbout(other, q2), [], 'another viewer heard of a dismissed pending question');
  assert.deepEqual(eventsAbout(late, q2), [], 'another viewer heard of a dismissed pending question');

  // withdrawing a pending question: same audience
  const r3 = await author.ok('question.submit', { text: '算了，这个问题我不问了。' });
  const q3 = r3.question.id;
  const w = await author.ok('question.withdraw', { question_id: q3 });
  assert.equal(w.question?.state ?? 'withdrawn', 'withdrawn');
  await mod.waitEvent('question.withdrawn', (e) => e.question?.id === q3);
  await marker(mod, viewersNow, 'after-withdraw');
  assert.deepEqual(eventsAbout(other, q3), [], 'another viewer heard of a withdrawn pending question');

  // staff submissions (on behalf of a caller) are published directly even with premoderation on
  const phone = await mod.ok('question.submit', { text: '热线来电：菜市场什么时候重新开放？', source: 'phone', author: '赵先生' });
  assert.equal(phone.question.state, 'published');
  assert.equal(phone.question.source, 'phone');
  assert.equal(phone.question.author, '赵先生');
  await other.waitEvent('question.published', (e) => e.question?.id === phone.question.id);
});

test('blocked words hold a question for review with premoderation off', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { code, moderatorKey } = await setupSession(h, srv, {
    premoderation: false, blocked_words: ['拆迁款', 'Spam'],
  });
  const mod = await h.moderator(srv, code, moderatorKey, '审核员');
  const asker = await h.viewer(srv, code, { name: '老周' });
  const other = await h.viewer(srv, code, { name: '小林' });
  assert.deepEqual((mod.welcome.snapshot.session.blocked_words ?? []).map((w) => w.toLowerCase()).sort(),
    ['spam', '拆迁款'].sort(), 'staff snapshot carries blocked_words');
  assert.equal('blocked_words' in other.welcome.snapshot.session, false, 'viewers do not get blocked_words');

  const held = await asker.ok('question.submit', { text: '请问我们村的拆迁款什么时候发放？' });
  assert.equal(held.question.state, 'pending', 'Chinese blocked word (substring) holds the question');
  const held2 = await asker.ok('question.submit', { text: 'buy SPAM now, cheap' });
  assert.equal(held2.question.state, 'pending', 'blocked words match case-insensitively');
  const ok = await asker.ok('question.submit', { text: '社区食堂能不能延长营业时间？' });
  assert.equal(ok.question.state, 'published');

  const sub = await mod.waitEvent('question.submitted', (e) => e.question?.id === held.question.id);
  assert.equal(sub.question.viewer_id, asker.viewerId);
  await other.waitEvent('question.published', (e) => e.question?.id === ok.question.id);
  await marker(mod, [other, asker], 'after-blocked');
  assert.deepEqual(eventsAbout(other, held.question.id), []);
  assert.deepEqual(eventsAbout(other, held2.question.id), []);
  const late = await h.viewer(srv, code, { name: '晚到的' });
  assert.deepEqual(late.welcome.snapshot.questions.map((q) => q.id), [ok.question.id]);

  // the moderator may still publish it after review
  await mod.ok('question.approve', { question_id: held.question.id });
  await other.waitEvent('question.published', (e) => e.question?.id === held.question.id);
});
