// Durability: acknowledged votes, ballots and moderation survive SIGKILL. (Questions: 1,000
// concurrent submissions killed mid-stream, with resends, are tests/reliability/01-sigkill.test.js.)
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { harness, setupSession } from './lib.js';

test('acknowledged votes, ballots and moderation survive SIGKILL', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { code, moderatorKey } = await setupSession(h, srv);
  const mod = await h.moderator(srv, code, moderatorKey, '导播');
  const viewers = await Promise.all(Array.from({ length: 30 }, (_, i) => h.viewer(srv, code, { name: `投票${i}` })));
  const qs = [];
  for (let i = 0; i < 4; i++) qs.push((await viewers[i].ok('question.submit', { text: `崩溃前的问题${i}` })).question.id);
  const poll = (await mod.ok('poll.create', { title: '崩溃前的投票', options: ['甲', '乙', '丙'] })).poll.id;
  await mod.ok('poll.open', { poll_id: poll });

  // votes: q0 gets 30, q1 gets 20 then 5 removed, q2 gets 10; ballots 20 (replacing 5 of them)
  await Promise.all(viewers.map((v) => v.ok('vote.add', { question_id: qs[0] })));
  await Promise.all(viewers.slice(0, 20).map((v) => v.ok('vote.add', { question_id: qs[1] })));
  await Promise.all(viewers.slice(0, 5).map((v) => v.ok('vote.remove', { question_id: qs[1] })));
  await Promise.all(viewers.slice(10, 20).map((v) => v.ok('vote.add', { question_id: qs[2] })));
  await Promise.all(viewers.slice(0, 20).map((v, i) => v.ok('poll.vote', { poll_id: poll, option_ids: [(i % 3) + 1] })));
  await Promise.all(viewers.slice(0, 5).map((v) => v.ok('poll.vote', { poll_id: poll, option_ids: [3] })));
  // moderation
  await mod.ok('queue.set', { question_ids: [qs[2], qs[1]] });
  await mod.ok('onair.set', { question_id: qs[0] });
  await mod.ok('question.star', { question_id: qs[3], starred: true });
  await mod.ok('panel.set', { segment_id: 2, speaker_ids: [2, 3], banner: '崩溃前的横幅' });
  await mod.ok('question.dismiss', { question_id: qs[3], reason: '测试' });
  await srv.kill();

  const want = { [qs[0]]: 30, [qs[1]]: 15, [qs[2]]: 10 };
  // ballots: viewers 0..19 chose (i%3)+1, then 0..4 switched to 3
  const ballot = (i) => (i < 5 ? 3 : (i % 3) + 1);
  const wantPoll = [1, 2, 3].map((o) => Array.from({ length: 20 }, (_, i) => ballot(i)).filter((b) => b === o).length);

  const srv2 = await h.startServer({ dbPath: srv.dbPath, producerKey: srv.producerKey });
  const mod2 = await h.moderator(srv2, code, moderatorKey, '核对');
  const snap = mod2.welcome.snapshot;
  const byId = Object.fromEntries(snap.questions.map((q) => [q.id, q]));
  for (const [id, n] of Object.entries(want)) assert.equal(byId[id]?.votes, n, `votes of question ${id} after SIGKILL`);
  const p = snap.polls.find((x) => x.id === poll);
  assert.deepEqual(p?.options.map((o) => o.votes), wantPoll, 'poll counts after SIGKILL');
  assert.equal(snap.panel.on_air, qs[0]);
  assert.deepEqual(snap.panel.up_next, [qs[2], qs[1]]);
  assert.equal(snap.panel.segment_id, 2);
  assert.deepEqual(snap.panel.speaker_ids, [2, 3]);
  assert.equal(snap.panel.banner, '崩溃前的横幅');
  assert.equal(byId[qs[0]].state, 'on_air');
  assert.equal(byId[qs[3]].state, 'dismissed');
  assert.equal(byId[qs[3]].starred, true);
  // a viewer's own votes and ballot are remembered
  const v7 = await h.viewer(srv2, code, { token: viewers[7].token });
  assert.deepEqual([...v7.welcome.snapshot.my_votes].sort((a, b) => a - b), [qs[0], qs[1]].sort((a, b) => a - b));
  assert.deepEqual(v7.welcome.snapshot.polls.find((x) => x.id === poll)?.my_option_ids, [ballot(7)]);
  // one vote per viewer still holds after the restart
  const again = await v7.ok('vote.add', { question_id: qs[1] });
  assert.equal(again.voted, true);
  await mod2.ok('panel.set', { banner: '重启后' });
  const mod3 = await h.moderator(srv2, code, moderatorKey, '再核对');
  assert.equal(Object.fromEntries(mod3.welcome.snapshot.questions.map((q) => [q.id, q.votes]))[qs[1]], 15);
});
