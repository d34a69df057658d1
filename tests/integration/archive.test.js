// The archive of a show over the real server: the minutes (transcript.md, Chinese and
// English) checked line by line, questions.csv read back with Python's csv module,
// transcript.json complete, action items followed up in the next session, carry-over, and
// archived sessions refusing every write.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

import { harness, marker, newToken, setupSession, short, sleep } from './lib.js';

const auth = (srv) => ({ authorization: `Bearer ${srv.producerKey}` });

async function get(srv, p, headers = auth(srv)) {
  const res = await fetch(`${srv.url}${p}`, { headers, signal: AbortSignal.timeout(5000) });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body, text: body.toString('utf8') };
}

const pad = (n) => String(n).padStart(2, '0');
/** hh:mm:ss of a duration in ms, as the minutes print it. */
function hms(ms) {
  const s = Math.floor(ms / 1000);
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}
const utcDate = (ms) => new Date(ms).toISOString().slice(0, 10);

/**
 * A whole show: pre-show questions (named, anonymous, by phone, one held by a blocked word, one
 * published then dismissed with a reason), three segments, questions put on air with answers,
 * a follow-up, a poll, action items.
 */
async function runShow(h, srv) {
  const s = await setupSession(h, srv, { blocked_words: ['广告'] });
  const { producer, code, moderatorKey } = s;
  const mod = await h.moderator(srv, code, moderatorKey, '主持人小李');
  const aunt = await h.viewer(srv, code, { name: '张阿姨' });
  const anon = await h.viewer(srv, code, { name: '路人' });
  const qA = (await aunt.ok('question.submit', { text: '加装电梯的补贴什么时候发放？', to: 1 })).question;
  const qB = (await anon.ok('question.submit', {
    text: '小区停车位太少，晚上回家找不到车位', category: 'need', to: 2, anonymous: true,
  })).question;
  const qC = (await aunt.ok('question.submit', {
    text: '建议增设"垃圾分类督导员", 每栋楼一名\n谢谢', category: 'suggestion',
  })).question;
  const qE = (await anon.ok('question.submit', { text: '卖房广告，请联系我' })).question;
  assert.equal(qE.state, 'pending');
  await mod.ok('question.dismiss', { question_id: qE.id, reason: '广告' });
  const qF = (await mod.ok('question.submit', {
    text: '老旧小区外墙什么时候修？', source: 'phone', author: '王大爷',
  })).question;
  await anon.ok('vote.add', { question_id: qC.id });
  const qG = (await anon.ok('question.submit', { text: '小区里的路灯太暗' })).question;
  await mod.ok('question.dismiss', { question_id: qG.id, reason: '已转交街道办处理' });

  await producer.ok('session.start', { session: code });
  await sleep(1100); // the first answer comes at least a second into the stream
  await mod.ok('panel.set', { segment_id: 1 });
  await mod.ok('onair.set', { question_id: qA.id });
  await mod.ok('question.answered', { question_id: qA.id, note: '今年九月起发放，每台补贴二十万元' });
  const qA1 = (await anon.ok('question.submit', {
    text: '补贴需要准备哪些材料？', parent_id: qA.id, anonymous: true,
  })).question;
  await mod.ok('onair.set', { question_id: qA1.id });
  await mod.ok('question.answered', { question_id: qA1.id, note: '带房产证和业主签字' });
  await mod.ok('panel.set', { segment_id: 2 });
  await mod.ok('onair.set', { question_id: qB.id });
  await mod.ok('onair.clear');
  await mod.ok('onair.set', { question_id: qF.id });
  await mod.ok('question.answered', { question_id: qF.id, note: '已列入明年计划' });
  await mod.ok('panel.set', { segment_id: 3 });
  const poll = (await mod.ok('poll.create', { title: '您最关心哪个问题？', options: ['加装电梯', '停车难'] })).poll;
  await mod.ok('poll.open', { poll_id: poll.id });
  await aunt.ok('poll.vote', { poll_id: poll.id, option_ids: [1] });
  await anon.ok('poll.vote', { poll_id: poll.id, option_ids: [2] });
  await mod.ok('poll.create', { title: '没有开放的投票', options: ['甲', '乙'] }); // drafts stay out
  await mod.ok('poll.close', { poll_id: poll.id });
  const act1 = (await mod.ok('action.create', {
    question_id: qA.id, text: '公布加装电梯补贴申领流程', owner: '区住建局', due: '2024-09-01',
  })).action;
  const act2 = (await producer.ok('action.create', { session: code, text: '回访停车难小区' })).action;
  await mod.ok('action.update', { action_id: act2.id, status: 'in_progress' });
  await producer.ok('session.end', { session: code });
  await marker(mod, [mod], 'show-done');
  await sleep(250); // the peak audience is recorded by the 100 ms flush
  return { ...s, mod, aunt, anon, qA, qB, qC, qE, qF, qG, qA1, act1, act2 };
}

/** Facts the minutes are derived from, taken from transcript.json (independently). */
function factsFrom(doc) {
  const start = doc.session.started_at;
  const aired = new Map(); // id -> {at, offset}
  for (const ev of doc.events) {
    if (ev.kind === 'onair.changed' && ev.question_id && !aired.has(ev.question_id)) {
      aired.set(ev.question_id, { at: ev.at, offset: ev.offset_ms });
    }
  }
  const created = new Map(doc.questions.map((q) => [q.id, q.created_at]));
  const waits = [...aired].map(([id, a]) => a.at - created.get(id)).sort((x, y) => x - y);
  const m = waits.length % 2 ? waits[(waits.length - 1) / 2]
    : Math.floor((waits[waits.length / 2 - 1] + waits[waits.length / 2]) / 2);
  return { start, aired, median: hms(m), offset: (q) => hms(aired.get(q.id).offset) };
}

test('archive: minutes, CSV and transcript of a show', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer({ env: { TZ: 'UTC' } });
  const show = await runShow(h, srv);
  const { code, qA, qB, qF, qA1 } = show;

  const json = await get(srv, `/api/sessions/${code}/transcript.json`);
  assert.equal(json.status, 200);
  const doc = JSON.parse(json.text);
  const f = factsFrom(doc);
  assert.ok(f.aired.get(qA.id).offset >= 1000, 'the first question went on air a second in');

  await t.test('transcript.md (Chinese, the default) line by line', async () => {
    const r = await get(srv, `/api/sessions/${code}/transcript.md`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/markdown; charset=utf-8/);
    const want = [
      '# 书记论坛：第十二期：老旧小区改造与加装电梯',
      '',
      '- 节目：书记论坛',
      '- 标题：第十二期：老旧小区改造与加装电梯',
      `- 日期：${utcDate(f.start)}`,
      '- 主题：老旧小区改造、停车难与垃圾分类',
      '',
      '## 嘉宾',
      '',
      '- 王书记（区委，区委书记）',
      '- 李主任（区住建局，局长）',
      '- 张教授（城市规划学院，特邀专家）',
      '',
      '## 议程',
      '',
      '1. 开场介绍',
      '2. 民生热点',
      '3. 现场互动',
      '',
      '## 问答',
      '',
      '### 1. 开场介绍',
      '',
      `1. [${f.offset(qA)}] 加装电梯的补贴什么时候发放？`,
      '   - 提问：张阿姨',
      '   - 对象：王书记',
      '   - 答复：今年九月起发放，每台补贴二十万元',
      '   - 追问：',
      `     - [${f.offset(qA1)}] 补贴需要准备哪些材料？（匿名）`,
      '       答复：带房产证和业主签字',
      '',
      '### 2. 民生热点',
      '',
      `2. [${f.offset(qB)}] 小区停车位太少，晚上回家找不到车位`,
      '   - 提问：匿名',
      '   - 对象：李主任',
      '   - 答复：（无记录）',
      `3. [${f.offset(qF)}] 老旧小区外墙什么时候修？`,
      '   - 提问：王大爷',
      '   - 对象：全体嘉宾',
      '   - 答复：已列入明年计划',
      '',
      '### 3. 现场互动',
      '',
      '（本环节没有上屏的问题）',
      '',
      '## 需求与建议',
      '',
      '### 需求（1）',
      '',
      '1. 小区停车位太少，晚上回家找不到车位（匿名） — 0 票；已上屏（第 2 问）',
      '',
      '### 建议（1）',
      '',
      '1. 建议增设"垃圾分类督导员", 每栋楼一名 谢谢（张阿姨） — 1 票；待回应',
      '',
      '### 未入选的问题',
      '',
      '1. 小区里的路灯太暗（路人） — 0 票；未入选：已转交街道办处理',
      '',
      '## 现场投票',
      '',
      '1. 您最关心哪个问题？ — 共 2 票',
      '   - 加装电梯：1 票（50%）',
      '   - 停车难：1 票（50%）',
      '',
      '## 承诺事项',
      '',
      '1. 公布加装电梯补贴申领流程 — 负责人：区住建局；期限：2024-09-01；状态：未开始（第 1 问）',
      '2. 回访停车难小区 — 负责人：待定；期限：未定；状态：进行中',
      '',
      '## 数据',
      '',
      '- 观看人数峰值：2',
      '- 收到问题：7（提问 5，需求 1，建议 1）',
      '- 通过审核：6',
      '- 已答复：3',
      `- 从提交到上屏的中位时间：${f.median}`,
      `- 图表报告（制作人员）：[/report/${code}](/report/${code})`,
      '',
    ];
    const got = r.text.split('\n');
    for (let i = 0; i < Math.max(want.length, got.length); i++) {
      assert.equal(got[i], want[i], `line ${i + 1} of the minutes`);
    }
  });

  await t.test('transcript.md?lang=en line by line', async () => {
    const r = await get(srv, `/api/sessions/${code}/transcript.md?lang=en`);
    assert.equal(r.status, 200);
    const want = [
      '# 书记论坛: 第十二期：老旧小区改造与加装电梯',
      '',
      '- Programme: 书记论坛',
      '- Title: 第十二期：老旧小区改造与加装电梯',
      `- Date: ${utcDate(f.start)}`,
      '- Topic: 老旧小区改造、停车难与垃圾分类',
      '',
      '## Panelists',
      '',
      '- 王书记 (区委, 区委书记)',
      '- 李主任 (区住建局, 局长)',
      '- 张教授 (城市规划学院, 特邀专家)',
      '',
      '## Agenda',
      '',
      '1. 开场介绍',
      '2. 民生热点',
      '3. 现场互动',
      '',
      '## Questions and answers',
      '',
      '### 1. 开场介绍',
      '',
      `1. [${f.offset(qA)}] 加装电梯的补贴什么时候发放？`,
      '   - Asked by: 张阿姨',
      '   - To: 王书记',
      '   - Answer: 今年九月起发放，每台补贴二十万元',
      '   - Follow-ups:',
      `     - [${f.offset(qA1)}] 补贴需要准备哪些材料？ (anonymous)`,
      '       Answer: 带房产证和业主签字',
      '',
      '### 2. 民生热点',
      '',
      `2. [${f.offset(qB)}] 小区停车位太少，晚上回家找不到车位`,
      '   - Asked by: anonymous',
      '   - To: 李主任',
      '   - Answer: (none recorded)',
      `3. [${f.offset(qF)}] 老旧小区外墙什么时候修？`,
      '   - Asked by: 王大爷',
      '   - To: the whole panel',
      '   - Answer: 已列入明年计划',
      '',
      '### 3. 现场互动',
      '',
      '(no questions went on air in this part)',
      '',
      '## Needs and suggestions',
      '',
      '### Needs (1)',
      '',
      '1. 小区停车位太少，晚上回家找不到车位 (anonymous) — 0 votes; went on air (question 2)',
      '',
      '### Suggestions (1)',
      '',
      '1. 建议增设"垃圾分类督导员", 每栋楼一名 谢谢 (张阿姨) — 1 vote; awaiting a response',
      '',
      '### Questions not taken up',
      '',
      '1. 小区里的路灯太暗 (路人) — 0 votes; not taken up: 已转交街道办处理',
      '',
      '## Polls',
      '',
      '1. 您最关心哪个问题？ — 2 votes in all',
      '   - 加装电梯: 1 vote (50%)',
      '   - 停车难: 1 vote (50%)',
      '',
      '## Commitments',
      '',
      '1. 公布加装电梯补贴申领流程 — owner: 区住建局; due: 2024-09-01; status: open (question 1)',
      '2. 回访停车难小区 — owner: to be decided; due: none; status: in progress',
      '',
      '## Numbers',
      '',
      '- Peak viewers: 2',
      '- Questions received: 7 (questions 5, needs 1, suggestions 1)',
      '- Approved: 6',
      '- Answered: 3',
      `- Median time from submission to on air: ${f.median}`,
      `- Charts (staff): [/report/${code}](/report/${code})`,
      '',
    ];
    const got = r.text.split('\n');
    for (let i = 0; i < Math.max(want.length, got.length); i++) {
      assert.equal(got[i], want[i], `line ${i + 1} of the English minutes`);
    }
  });

  await t.test('questions.csv opens in Python\'s csv module with Chinese intact', async () => {
    const r = await get(srv, `/api/sessions/${code}/questions.csv`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/csv; charset=utf-8/);
    assert.deepEqual([...r.body.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM');
    assert.ok(r.text.includes('\r\n'), 'CRLF line ends');
    const py = `
import csv, io, json, sys
data = sys.stdin.buffer.read()
assert data.startswith(b'\\xef\\xbb\\xbf')
rows = list(csv.DictReader(io.StringIO(data.decode('utf-8-sig'), newline='')))
print(json.dumps(rows, ensure_ascii=False))
`;
    const rows = JSON.parse(execFileSync('python3', ['-c', py], { input: r.body }).toString('utf8'));
    assert.equal(rows.length, 7, 'one row per question');
    const byId = new Map(rows.map((row) => [Number(row.id), row]));
    const a = byId.get(qA.id);
    assert.equal(a.text, '加装电梯的补贴什么时候发放？');
    assert.equal(a.author, '张阿姨');
    assert.equal(a.to_name, '王书记');
    assert.equal(a.state, 'answered');
    assert.equal(a.answer_note, '今年九月起发放，每台补贴二十万元');
    assert.equal(a.segment, '开场介绍');
    assert.equal(a.on_air_offset, f.offset(qA));
    assert.equal(a.phase, 'pre');
    assert.equal(a.session, code);
    const c = byId.get(show.qC.id);
    assert.equal(c.text, '建议增设"垃圾分类督导员", 每栋楼一名\n谢谢', 'quotes, comma and newline survive');
    assert.equal(c.category, 'suggestion');
    assert.equal(c.votes, '1');
    assert.equal(c.on_air_offset, '');
    assert.equal(byId.get(qB.id).author, '', 'anonymous has no author');
    assert.equal(byId.get(qB.id).segment, '民生热点');
    assert.equal(byId.get(qF.id).source, 'phone');
    assert.equal(byId.get(qA1.id).parent_id, String(qA.id));
    assert.equal(byId.get(show.qE.id).state, 'dismissed');
    assert.equal(byId.get(show.qE.id).dismiss_reason, '广告', 'the reason given when dismissing');
    assert.equal(byId.get(show.qG.id).dismiss_reason, '已转交街道办处理');
    assert.equal(a.dismiss_reason, '');
    assert.equal(new Date(a.created_at).getTime(), qA.created_at, 'ISO 8601 timestamps');
  });

  await t.test('transcript.json holds every event and the final state with actions', async () => {
    const py = `
import sqlite3, sys, json
db = sqlite3.connect(sys.argv[1])
print(json.dumps(db.execute("select count(*), max(seq) from events where session = ?", (sys.argv[2],)).fetchone()))
`;
    // The server keeps the database open; a read in WAL mode sees everything committed.
    const [count, maxSeq] = JSON.parse(execFileSync('python3', ['-c', py, srv.dbPath, code]).toString());
    assert.equal(doc.events.length, count, 'every stored event is in the transcript');
    assert.equal(doc.events.at(-1).seq, maxSeq);
    doc.events.forEach((ev, i) => assert.equal(ev.seq, i + 1, 'gap-free, in order'));
    const kinds = new Set(doc.events.map((e) => e.kind));
    for (const k of ['session.changed', 'question.submitted', 'vote.added', 'votes.changed',
      'onair.changed', 'question.answered', 'panel.changed', 'action.changed', 'viewers.peak']) {
      assert.ok(kinds.has(k), `transcript has ${k} events`);
    }
    assert.equal(doc.session.status, 'ended');
    assert.deepEqual(doc.actions.map((a) => [a.text, a.status]),
      [['公布加装电梯补贴申领流程', 'open'], ['回访停车难小区', 'in_progress']]);
    assert.equal(doc.peak_viewers, 2);
    assert.equal(doc.questions.length, 7);
  });

  await t.test('exports need the producer key', async () => {
    for (const p of ['transcript.md', 'questions.csv', 'transcript.md?lang=en']) {
      assert.equal((await get(srv, `/api/sessions/${code}/${p}`, {})).status, 401, p);
      assert.equal((await get(srv, `/api/sessions/${code}/${p}`,
        { authorization: `Bearer ${show.moderatorKey}` })).status, 401, p);
    }
    assert.equal((await get(srv, '/api/sessions/NOSUCH/transcript.md')).status, 404);
  });
});

test('commitments reach the next show; carry-over moves unanswered questions', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const show = await runShow(h, srv);
  const { producer, programId, code, qB, qC, act1, act2 } = show;

  const next = await setupSession(h, srv, {
    producer, programId, title: '第十三期：停车难怎么办', scheduled_at: Date.now() + 7 * 86400000,
  });
  const nextMod = await h.moderator(srv, next.code, next.moderatorKey, '主持人小李');
  const snap = nextMod.welcome.snapshot;
  assert.deepEqual(snap.open_actions.map((a) => [a.id, a.text, a.status, a.session]),
    [[act1.id, '公布加装电梯补贴申领流程', 'open', code], [act2.id, '回访停车难小区', 'in_progress', code]],
    'the next show starts with the last one\'s open commitments');
  assert.deepEqual(snap.actions, []);
  const viewer = await h.viewer(srv, next.code, { name: '新观众' });
  assert.equal(viewer.welcome.snapshot.open_actions, undefined, 'commitments are for staff');

  // Reporting on the last show: marking one done in this show.
  const from = nextMod.mark();
  const upd = await nextMod.ok('action.update', { action_id: act1.id, status: 'done' });
  assert.equal(upd.action.status, 'done');
  assert.equal(upd.action.session, code, 'it stays the last show\'s commitment');
  const ev = await nextMod.waitEvent('action.changed', (e) => e.action.id === act1.id, 5000, from);
  assert.equal(ev.action.status, 'done');
  await marker(nextMod, [nextMod, viewer], 'after-action');
  // the last show ended, so its commitments are public: viewers get the public view, without
  // what is for staff only
  const seen = viewer.events('action.changed');
  assert.equal(seen.length, 1);
  assert.equal(seen[0].action.status, 'done');
  assert.equal(seen[0].action.note, undefined);
  assert.equal(seen[0].action.publication, undefined);
  const again = await h.moderator(srv, next.code, next.moderatorKey, '主持人小王');
  assert.deepEqual(again.welcome.snapshot.open_actions.map((a) => a.id), [act2.id]);

  await t.test('carry-over', async () => {
    const vFrom = viewer.mark();
    const r = await producer.ok('session.carry_over', { from: code, to: next.code });
    // unanswered public questions of the show: qB (aired, not answered) and qC (never aired)
    assert.equal(r.question_ids.length, 2, short(r));
    const copies = r.questions;
    assert.deepEqual(copies.map((q) => q.carried_question_id), [qB.id, qC.id]);
    for (const q of copies) {
      assert.equal(q.source, 'carried');
      assert.equal(q.carried_from, code);
      assert.equal(q.phase, 'pre');
      assert.equal(q.state, 'published');
      assert.equal(q.votes, 0, 'votes reset');
      assert.equal(q.session, next.code);
    }
    assert.equal(copies[0].text, qB.text);
    assert.equal(copies[0].author, null, 'still anonymous');
    assert.equal(copies[0].to, 2, '李主任 is on the next panel too');
    assert.equal(copies[1].author, '张阿姨');
    // viewers of the next show see them arrive
    const seen = await viewer.waitEvent('question.published', (e) => e.question.id === copies[1].id, 5000, vFrom);
    assert.equal(seen.question.carried_from, code);
    const fresh = await h.viewer(srv, next.code, { name: '又一位' });
    assert.deepEqual(fresh.welcome.snapshot.questions.map((q) => q.id).sort(), [...r.question_ids].sort());

    const twice = await producer.ok('session.carry_over', { from: code, to: next.code });
    assert.deepEqual(twice.question_ids, [], 'carrying twice adds nothing');
    assert.deepEqual(twice.already_carried, [qB.id, qC.id]);
    const back = await producer.request('session.carry_over', { from: next.code, to: code });
    assert.equal(back.code, 'conflict', 'only into a later session');
    const modTry = await nextMod.request('session.carry_over', { from: code, to: next.code });
    assert.equal(modTry.code, 'forbidden');
  });
});

test('archived sessions refuse every write', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const s = await setupSession(h, srv, {});
  const { producer, code, moderatorKey } = s;
  const mod = await h.moderator(srv, code, moderatorKey, '主持人');
  const token = newToken();
  const viewer = await h.viewer(srv, code, { name: '观众', token });
  const q = (await viewer.ok('question.submit', { text: '存档之前的问题' })).question;
  const q2 = (await viewer.ok('question.submit', { text: '另一个问题' })).question;
  const poll = (await mod.ok('poll.create', { title: '满意吗', options: ['满意', '不满意'] })).poll;
  const act = (await mod.ok('action.create', { question_id: q.id, text: '跟进' })).action;
  await producer.ok('session.start', { session: code });
  await producer.ok('session.end', { session: code });
  const later = await setupSession(h, srv, { producer, programId: s.programId, scheduled_at: Date.now() + 86400000 });
  await producer.ok('session.archive', { session: code });

  const before = (await get(srv, `/api/sessions/${code}/transcript.json`)).text;
  const vid = viewer.viewerId;
  const viewerRequests = [
    ['question.submit', { text: '新问题' }],
    ['question.edit', { question_id: q.id, text: '改' }],
    ['question.withdraw', { question_id: q.id }],
    ['vote.add', { question_id: q.id }],
    ['vote.remove', { question_id: q.id }],
    ['poll.vote', { poll_id: poll.id, option_ids: [1] }],
  ];
  const staffRequests = [
    ['question.submit', { text: '电话', source: 'phone' }],
    ['question.edit', { question_id: q.id, text: '改' }],
    ['question.approve', { question_id: q.id }],
    ['question.dismiss', { question_id: q.id }],
    ['question.star', { question_id: q.id, starred: true }],
    ['question.merge', { question_id: q2.id, into_id: q.id }],
    ['question.answered', { question_id: q.id }],
    ['question.undo', {}],
    ['onair.set', { question_id: q.id }],
    ['onair.clear', {}],
    ['onair.next', {}],
    ['queue.set', { question_ids: [q.id] }],
    ['panel.set', { banner: 'x' }],
    ['viewer.ban', { viewer_id: vid }],
    ['viewer.unban', { viewer_id: vid }],
    ['poll.create', { title: 't', options: ['a', 'b'] }],
    ['poll.open', { poll_id: poll.id }],
    ['poll.close', { poll_id: poll.id }],
    ['action.create', { text: '新承诺' }],
    ['action.update', { action_id: act.id, status: 'done' }],
  ];
  const producerRequests = [
    ['session.update', { session: code, title: '改名' }],
    ['session.open', { session: code }],
    ['session.start', { session: code }],
    ['session.end', { session: code }],
    ['session.archive', { session: code }],
    ['session.rotate_key', { session: code }],
    ['action.create', { session: code, text: '新承诺' }],
    ['action.update', { action_id: act.id, status: 'done' }], // names no session: its own
    ['session.carry_over', { from: later.code, to: code }],
  ];
  const problems = [];
  const expectClosed = async (client, list, who) => {
    for (const [type, fields] of list) {
      const r = await client.request(type, fields);
      if (r.type !== 'error' || r.code !== 'session_closed') problems.push(`${who} ${type}: ${short(r)}`);
    }
  };
  await expectClosed(viewer, viewerRequests, 'viewer');
  await expectClosed(mod, staffRequests, 'moderator');
  const studio = producer;
  await expectClosed(studio, producerRequests, 'producer');
  const sessionProducer = await h.producer(srv, code);
  await expectClosed(sessionProducer, staffRequests, 'producer in the session');
  assert.deepEqual(problems, [], 'every write on an archived session gets session_closed');

  // Nothing changed; reading still works.
  await marker(await h.moderator(srv, later.code, later.moderatorKey), [], 'sync');
  const after = (await get(srv, `/api/sessions/${code}/transcript.json`)).text;
  assert.equal(after, before, 'the archived transcript is unchanged');
  const again = await h.viewer(srv, code, { name: '回看' });
  assert.equal(again.welcome.snapshot.session.status, 'archived');
  assert.equal((await get(srv, `/api/sessions/${code}/transcript.md`)).status, 200);
});
