// Makes tests/compat/v0.1/: a database written by forumd as it was before events were typed
// (commit 85170df), as an SQL dump, and what that forumd showed of it (expected.json). The
// compatibility test restores the dump and checks that today's forumd replays it into the same
// state. Run it with the old binary:
//   git worktree add /tmp/old 85170df && cmake -S /tmp/old -B /tmp/old/build && \
//     cmake --build /tmp/old/build --target forumd
//   FORUMD=/tmp/old/build/forumd node tests/compat/make-fixture.mjs
// It plays a show that makes every kind of event the old server knew.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { connect, setupSession, sleep, startServer } from '../integration/lib.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'v0.1');
const producerKey = 'compat-fixture-producer-key-0001';

const clients = [];
const h = {
  async connect(srv, opts) { const c = await connect(srv.port, opts); clients.push(c); return c; },
  async join(srv, session, role, token, extra = {}) {
    const c = await h.connect(srv, { label: `${role}-${extra.name ?? ''}` });
    const r = await c.hello(session, role, token, extra);
    if (r.type !== 'welcome') throw new Error(`hello refused: ${JSON.stringify(r)}`);
    return c;
  },
  producer(srv, session = null) { return h.join(srv, session, 'producer', producerKey); },
  moderator(srv, code, key, name) { return h.join(srv, code, 'moderator', key, { name }); },
  viewer(srv, code, name, token) { return h.join(srv, code, 'viewer', token, name ? { name } : {}); },
};

const srv = await startServer({ producerKey });
try {
  const first = await setupSession(h, srv, { blocked_words: ['广告'] });
  const { producer, code, moderatorKey } = first;
  await producer.ok('program.update', { program_id: first.programId, description: '每周一期' });
  const second = await setupSession(h, srv, {
    producer, programId: first.programId, title: '第十三期：停车难', open: true,
    scheduled_at: Date.now() + 7 * 86400000,
  });
  const mod = await h.moderator(srv, code, moderatorKey, '主持人甲');
  const ann = await h.viewer(srv, code, '王阿姨', 'a'.repeat(32));
  const ben = await h.viewer(srv, code, '李先生', 'b'.repeat(32));
  const cat = await h.viewer(srv, code, null, 'c'.repeat(32));
  await producer.ok('session.start', { session: code });
  const q1 = (await ann.ok('question.submit', { text: '老旧小区加装电梯，补贴怎么申请？', to: 2 })).question;
  const q2 = (await ben.ok('question.submit', { text: '停车位太少了，晚上回家没地方停', category: 'need' })).question;
  const q3 = (await cat.ok('question.submit', { text: '建议菜市场延长营业时间', category: 'suggestion', anonymous: true })).question;
  const q4 = (await ben.ok('question.submit', { text: '这里有广告' })).question; // held: blocked word
  const q5 = (await ann.ok('question.submit', { text: '加装电梯补贴在哪里申请？' })).question;
  const q6 = (await mod.ok('question.submit', { text: '热线来电：供暖不热', source: 'phone', author: '张师傅' })).question;
  for (const [v, q] of [[ben, q1], [cat, q1], [ann, q2], [cat, q5]]) await v.ok('vote.add', { question_id: q.id });
  await cat.ok('vote.remove', { question_id: q1.id });
  await mod.ok('question.approve', { question_id: q4.id });
  await mod.ok('question.star', { question_id: q2.id, starred: true });
  await mod.ok('question.edit', { question_id: q3.id, text: '建议菜市场延长营业时间到晚上八点' });
  await mod.ok('question.merge', { question_id: q5.id, into_id: q1.id });
  await mod.ok('queue.set', { question_ids: [q2.id, q6.id] });
  await mod.ok('onair.set', { question_id: q1.id });
  await mod.ok('panel.set', { banner: '正在回答：加装电梯', speaker_ids: [2], segment_id: 2 });
  await mod.ok('question.answered', { question_id: q1.id, note: '区住建局下月公布补贴细则' });
  await mod.ok('onair.next', {});
  await mod.ok('onair.clear', {});
  await mod.ok('question.dismiss', { question_id: q4.id, reason: '广告' });
  await mod.ok('question.undo', {});
  await mod.ok('question.dismiss', { question_id: q4.id, reason: '广告' });
  const follow = (await ann.ok('question.submit', { text: '那补贴有上限吗？', parent_id: q1.id })).question;
  const poll = (await mod.ok('poll.create', { title: '您最关心哪个问题？', options: ['电梯', '停车', '菜场'] })).poll;
  await mod.ok('poll.open', { poll_id: poll.id });
  await ann.ok('poll.vote', { poll_id: poll.id, option_ids: [1] });
  await ben.ok('poll.vote', { poll_id: poll.id, option_ids: [2] });
  await mod.ok('poll.close', { poll_id: poll.id });
  await mod.ok('viewer.ban', { viewer_id: cat.viewerId });
  await mod.ok('viewer.unban', { viewer_id: cat.viewerId });
  await mod.ok('viewer.ban', { viewer_id: cat.viewerId });
  const action = (await mod.ok('action.create', { question_id: q1.id, text: '公布加装电梯补贴细则', owner: '区住建局', due: '2027-01-31' })).action;
  await mod.ok('action.update', { action_id: action.id, status: 'in_progress' });
  await ben.ok('question.withdraw', { question_id: q2.id }).catch(() => {});
  await sleep(300); // votes.changed and viewers.peak
  await producer.ok('viewer.erase', { session: code, viewer_id: ben.viewerId });
  await producer.ok('session.end', { session: code });
  await producer.ok('session.carry_over', { from: code, to: second.code });
  await producer.ok('session.archive', { session: code });
  await producer.ok('session.rotate_key', { session: second.code });
  await sleep(300);

  const expected = { producerKey, codes: [code, second.code], follow: follow.id, snapshots: {} };
  for (const c of [code, second.code]) {
    expected.snapshots[c] = (await h.producer(srv, c)).welcome.snapshot;
  }
  expected.studio = (await h.producer(srv, null)).welcome.snapshot;
  expected.viewer = (await h.viewer(srv, code, null, 'a'.repeat(32))).welcome.snapshot;
  for (const c of clients) await c.close();
  await srv.stop();
  mkdirSync(out, { recursive: true });
  // .dump leaves out PRAGMA user_version, which records the schema migrations applied
  const version = execFileSync('sqlite3', [srv.dbPath, 'PRAGMA user_version']).toString().trim();
  const dump = execFileSync('sqlite3', [srv.dbPath, '.dump']).toString() +
    `PRAGMA user_version = ${version};\n`;
  writeFileSync(path.join(out, 'forum.sql'), dump);
  writeFileSync(path.join(out, 'expected.json'), JSON.stringify(expected, null, 1) + '\n');
  console.log(`wrote ${out}: ${dump.length} bytes of SQL, ${(dump.match(/INSERT INTO events/g) ?? []).length} events`);
} finally {
  for (const c of clients) await c.close().catch(() => {});
  await srv.stop().catch(() => {});
}
