// The public commitment board over the real server: what a programme's board shows (published
// commitments with their question, status history and follow-ups), when a commitment becomes
// public, that nothing staff-only reaches it (staff notes, viewer ids, unpublished items, hidden
// questions), the filters, commitments.csv read back with Python's csv module, the programme
// page and front page listings, and the live board connection.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

import { harness, marker, newToken, setupSession, sleep } from './lib.js';

async function get(srv, p) {
  const res = await fetch(`${srv.url}${p}`, { signal: AbortSignal.timeout(5000) });
  const body = Buffer.from(await res.arrayBuffer());
  const text = body.toString('utf8');
  let json = null;
  try { json = JSON.parse(text); } catch { /* CSV */ }
  return { status: res.status, headers: res.headers, body, text, json };
}

const NOTE = '内部备注：联系人手机13800000000';
const HELD = '暂不公开：拆迁补偿标准再议';
const HIDDEN_Q = '这是被驳回的问题，不应出现在公示里';

/** A show with commitments of every kind; the session is live at the end. */
async function showWithCommitments(h, srv) {
  const s = await setupSession(h, srv, { blocked_words: ['广告'] });
  const { producer, code, moderatorKey } = s;
  const mod = await h.moderator(srv, code, moderatorKey, '主持人小李');
  const aunt = await h.viewer(srv, code, { name: '张阿姨' });
  const anon = await h.viewer(srv, code, { name: '路人' });
  const qA = (await aunt.ok('question.submit', { text: '加装电梯的补贴什么时候发放？', to: 2 })).question;
  const qB = (await anon.ok('question.submit', { text: '小区停车位太少', anonymous: true, category: 'need' })).question;
  const qH = (await anon.ok('question.submit', { text: HIDDEN_Q })).question;
  await mod.ok('question.dismiss', { question_id: qH.id });
  await producer.ok('session.start', { session: code });
  await mod.ok('onair.set', { question_id: qA.id });
  await mod.ok('question.answered', { question_id: qA.id, note: '九月起发放' });
  const a1 = (await mod.ok('action.create', {
    question_id: qA.id, text: '公布加装电梯补贴申领流程', owner: '区住建局', due: '2020-09-01',
    promised_by: 2, note: NOTE,
  })).action;
  const a2 = (await mod.ok('action.create', { question_id: qB.id, text: '增设夜间临时停车位', owner: '街道办' })).action;
  const a3 = (await producer.ok('action.create', { session: code, text: HELD, publication: 'staff' })).action;
  const a4 = (await mod.ok('action.create', { question_id: qH.id, text: '核实被驳回问题反映的情况' })).action;
  return { ...s, mod, aunt, anon, qA, qB, qH, a1, a2, a3, a4 };
}

/** Checks text for everything staff-only. What a viewer's connection received (viewer: its
 *  client) may hold its own id, and the dismissed question (public until it was dismissed: the
 *  show runs without premoderation). */
function assertNothingStaffOnly(text, s, { viewer = null } = {}) {
  if (viewer) text = text.split(viewer.welcome.viewer_id).join('');
  assert.ok(!text.includes(NOTE), 'a staff note leaked');
  assert.ok(!text.includes(HELD), 'an unpublished commitment leaked');
  if (!viewer) assert.ok(!text.includes(HIDDEN_Q), 'a dismissed question leaked');
  assert.ok(!/\bv[0-9a-f]{16}\b/.test(text), 'a viewer id leaked');
  assert.ok(!text.includes(s.moderatorKey), 'the moderator key leaked');
  assert.ok(!text.includes('"publication"'), 'the publication setting leaked');
  assert.ok(!text.includes('广告'), 'blocked words leaked');
}

test('commitments become public when published or when their session ends, never staff-only parts', async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const s = await showWithCommitments(h, srv);
  const board = (q = '') => get(srv, `/api/programs/${s.programId}/commitments${q}`);

  // during the show nothing is public yet (default: public once the session ends)
  let r = await board();
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.commitments, []);
  assert.equal(r.json.counts.total, 0);

  // a moderator may not publish; the producer may, at once
  const refused = await s.mod.request('action.update', { action_id: s.a2.id, publication: 'public' });
  assert.equal(refused.type, 'error');
  assert.equal(refused.code, 'forbidden');
  assert.equal(refused.field, 'publication');
  await s.producer.ok('action.update', { session: s.code, action_id: s.a2.id, publication: 'public' });
  r = await board();
  assert.deepEqual(r.json.commitments.map((c) => c.id), [s.a2.id]);
  assert.equal(r.json.commitments[0].question.author, null); // anonymous asker: 匿名 on the page
  assertNothingStaffOnly(r.text, s);

  await s.producer.ok('session.end', { session: s.code });
  r = await board();
  assert.equal(r.status, 200);
  const ids = r.json.commitments.map((c) => c.id).sort((a, b) => a - b);
  assert.deepEqual(ids, [s.a1.id, s.a2.id, s.a4.id]); // a3 stays staff-only
  assertNothingStaffOnly(r.text, s);
  const c1 = r.json.commitments.find((c) => c.id === s.a1.id);
  assert.equal(c1.text, '公布加装电梯补贴申领流程');
  assert.equal(c1.owner, '区住建局');
  assert.equal(c1.due, '2020-09-01');
  assert.equal(c1.overdue, true);
  assert.equal(c1.current.overdue, true);
  assert.equal(c1.promised_by.name, '李主任');
  assert.equal(c1.question.text, '加装电梯的补贴什么时候发放？');
  assert.equal(c1.question.author, '张阿姨');
  assert.equal(c1.question.to.name, '李主任');
  assert.equal(c1.question.answer_note, '九月起发放');
  assert.equal(c1.session, s.code);
  assert.equal(c1.minutes_url, null); // not archived yet
  assert.deepEqual(c1.history.map((e) => e.status), ['open']);
  assert.ok(!('note' in c1));
  const c4 = r.json.commitments.find((c) => c.id === s.a4.id);
  assert.equal(c4.question, null, 'a commitment linked to a dismissed question shows no question');
  assert.equal(r.json.counts.total, 3);
  assert.equal(r.json.counts.overdue, 1);
  assert.deepEqual(r.json.owners, ['区住建局', '街道办']);

  // the producer can hold one back after all
  await s.producer.ok('action.update', { session: s.code, action_id: s.a4.id, publication: 'staff' });
  r = await board();
  assert.ok(!r.json.commitments.some((c) => c.id === s.a4.id));

  // the staff snapshot still has everything, notes included
  const staffSnap = (await h.producer(srv, s.code)).welcome.snapshot;
  const staffA1 = staffSnap.actions.find((a) => a.id === s.a1.id);
  assert.equal(staffA1.note, NOTE);
  assert.equal(staffA1.publication, 'auto');
  assert.equal(staffA1.published, true);
  // viewers' snapshots never hold action items
  const v = await h.viewer(srv, s.code);
  assert.equal(v.welcome.snapshot.actions, undefined);
});

test('status history, withdrawal with a reason, follow-ups in later sessions, filters', async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const s = await showWithCommitments(h, srv);
  await s.mod.ok('action.update', { action_id: s.a1.id, status: 'in_progress', reason: '已完成政策起草' });
  const noReason = await s.mod.request('action.update', { action_id: s.a2.id, status: 'withdrawn' });
  assert.equal(noReason.type, 'error');
  assert.equal(noReason.code, 'bad_request');
  assert.equal(noReason.field, 'reason');
  await s.mod.ok('action.update', { action_id: s.a2.id, status: 'withdrawn', reason: '地块已规划为绿地' });
  await s.producer.ok('session.end', { session: s.code });
  await s.producer.ok('session.archive', { session: s.code });
  // archived: read-only; the next show follows up with a new item
  const next = await setupSession(h, srv, { producer: s.producer, programId: s.programId, title: '第十三期', scheduled_at: Date.now() + 86400000 });
  const ro = await s.producer.request('action.update', { session: next.code, action_id: s.a1.id, status: 'done' });
  assert.equal(ro.code, 'session_closed');
  const f1 = (await s.producer.ok('action.create', {
    session: next.code, follows_action_id: s.a1.id, text: '申领流程已在区政府网站公布', status: 'done', owner: '区住建局',
  })).action;
  await s.producer.ok('action.update', { session: next.code, action_id: f1.id, publication: 'public' });

  const r = await get(srv, `/api/programs/${s.programId}/commitments`);
  assert.equal(r.status, 200);
  const c1 = r.json.commitments.find((c) => c.id === s.a1.id);
  assert.deepEqual(c1.history.map((e) => [e.status, e.reason]), [['open', null], ['in_progress', '已完成政策起草']]);
  assert.ok(c1.history.every((e) => typeof e.at === 'number' && e.session === s.code));
  assert.equal(c1.status, 'in_progress');
  assert.equal(c1.minutes_url, `/s/${s.code}#minutes`);
  assert.equal(c1.follow_ups.length, 1);
  assert.equal(c1.follow_ups[0].id, f1.id);
  assert.equal(c1.follow_ups[0].session, next.code);
  assert.equal(c1.current.status, 'done');
  assert.equal(c1.current.overdue, false);
  assert.ok(!r.json.commitments.some((c) => c.id === f1.id), 'a follow-up is shown under its commitment');
  const c2 = r.json.commitments.find((c) => c.id === s.a2.id);
  assert.equal(c2.status, 'withdrawn');
  assert.equal(c2.reason, '地块已规划为绿地');
  assert.deepEqual(r.json.counts, { total: 3, open: 1, in_progress: 0, done: 1, withdrawn: 1, overdue: 0 });

  const ids = async (q) => (await get(srv, `/api/programs/${s.programId}/commitments?${q}`)).json.commitments.map((c) => c.id).sort((a, b) => a - b);
  assert.deepEqual(await ids('status=done'), [s.a1.id]);
  assert.deepEqual(await ids('status=withdrawn,open'), [s.a2.id, s.a4.id].sort((a, b) => a - b));
  assert.deepEqual(await ids(`owner=${encodeURIComponent('区住建局')}`), [s.a1.id]);
  assert.deepEqual(await ids(`session=${s.code}`), [s.a1.id, s.a2.id, s.a4.id].sort((a, b) => a - b));
  assert.deepEqual(await ids(`session=${next.code}`), []);
  assert.deepEqual(await ids(`id=${f1.id}`), [s.a1.id]);
  const bad = await get(srv, `/api/programs/${s.programId}/commitments?status=finished`);
  assert.equal(bad.status, 400);
  assert.equal(bad.json.field, 'status');
  assert.equal((await get(srv, '/api/programs/999/commitments')).status, 404);
  assert.equal((await get(srv, `/api/programs/${s.programId}/nothing`)).status, 404);
  assert.equal((await get(srv, '/api/programs/abc')).status, 404);

  // the CSV: BOM, header, one row per commitment and follow-up, read back by Python
  const csv = await get(srv, `/api/programs/${s.programId}/commitments.csv`);
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-type'), /^text\/csv/);
  assert.deepEqual([...csv.body.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const rows = JSON.parse(execFileSync('python3', ['-c',
    'import csv,io,json,sys; print(json.dumps(list(csv.DictReader(io.StringIO(sys.stdin.buffer.read().decode("utf-8-sig"))))))'],
  { input: csv.body }).toString());
  assert.equal(rows.length, 4);
  const row1 = rows.find((x) => x.id === String(s.a1.id));
  assert.equal(row1.text, '公布加装电梯补贴申领流程');
  assert.equal(row1.question_text, '加装电梯的补贴什么时候发放？');
  assert.equal(row1.asker, '张阿姨');
  assert.equal(row1.addressed_to, '李主任');
  assert.equal(row1.promised_by, '李主任');
  assert.equal(row1.status, 'in_progress');
  assert.equal(row1.current_status, 'done');
  assert.match(row1.history, /^open \d{4}-\d\d-\d\d; in_progress \d{4}-\d\d-\d\d \(已完成政策起草\)$/);
  const rowF = rows.find((x) => x.id === String(f1.id));
  assert.equal(rowF.follows_action_id, String(s.a1.id));
  assert.equal(rows.find((x) => x.id === String(s.a2.id)).asker, '匿名');
  assertNothingStaffOnly(csv.text, s);
  const filtered = await get(srv, `/api/programs/${s.programId}/commitments?format=csv&status=withdrawn`);
  assert.equal(filtered.text.trim().split('\r\n').length, 2);
});

test('the programme page lists its episodes; the front page what is live and coming up, unlisted programmes left out', async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const producer = await h.producer(srv);
  const listed = (await producer.ok('program.create', { title: '书记论坛' })).program;
  assert.equal(listed.listed, true);
  const hidden = (await producer.ok('program.create', { title: '内部试播', listed: false })).program;
  assert.equal(hidden.listed, false);
  const live = await setupSession(h, srv, { producer, programId: listed.id, title: '第一期', scheduled_at: Date.now() - 3600000 });
  await producer.ok('session.start', { session: live.code });
  const soon = await setupSession(h, srv, { producer, programId: listed.id, title: '第二期', topic: '停车难', scheduled_at: Date.now() + 86400000 });
  const draft = await setupSession(h, srv, { producer, programId: listed.id, title: '草稿中的一期', open: false });
  const past = await setupSession(h, srv, { producer, programId: listed.id, title: '第零期', scheduled_at: Date.now() - 7 * 86400000 });
  await producer.ok('session.start', { session: past.code });
  await producer.ok('session.end', { session: past.code });
  await producer.ok('session.archive', { session: past.code });
  const secret = await setupSession(h, srv, { producer, programId: hidden.id, title: '内部测试场' });

  const front = await get(srv, '/api/programs');
  assert.equal(front.status, 200);
  assert.deepEqual(front.json.live.map((e) => e.code), [live.code]);
  assert.deepEqual(front.json.upcoming.map((e) => e.code), [soon.code]);
  assert.deepEqual(front.json.programs.map((p) => p.id), [listed.id]);
  assert.equal(front.json.upcoming[0].join_url, `/s/${soon.code}`);
  assert.equal(front.json.upcoming[0].topic, '停车难');
  assert.equal(front.json.upcoming[0].program, '书记论坛');
  assert.ok(!front.text.includes(draft.code) && !front.text.includes(secret.code));
  assert.ok(!front.text.includes('草稿中的一期') && !front.text.includes('内部'));

  const page = await get(srv, `/api/programs/${listed.id}`);
  assert.equal(page.status, 200);
  assert.equal(page.json.program.title, '书记论坛');
  assert.deepEqual(page.json.live.map((e) => e.code), [live.code]);
  assert.deepEqual(page.json.upcoming.map((e) => e.code), [soon.code]);
  assert.deepEqual(page.json.past.map((e) => e.code), [past.code]);
  assert.equal(page.json.past[0].minutes_url, `/s/${past.code}#minutes`);
  assert.ok(!page.text.includes(draft.code));
  assert.ok(!page.text.includes('blocked_words') && !page.text.includes('moderator'));
  // an unlisted programme is reachable by its link
  const hiddenPage = await get(srv, `/api/programs/${hidden.id}`);
  assert.equal(hiddenPage.status, 200);
  assert.deepEqual(hiddenPage.json.upcoming.map((e) => e.code), [secret.code]);
  // listing is the producer's to change
  await producer.ok('program.update', { program_id: hidden.id, listed: true });
  assert.ok((await get(srv, '/api/programs')).json.programs.some((p) => p.id === hidden.id));
  // read-only: other methods are refused
  const post = await fetch(`${srv.url}/api/programs/${listed.id}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  assert.equal(post.status, 405);
  await post.arrayBuffer();
});

test('a board connection receives status changes live, the public view only, and cannot write', async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const s = await showWithCommitments(h, srv);
  await s.producer.ok('session.end', { session: s.code });

  const board = await h.connect(srv, { label: 'board' });
  const refused = await board.request('hello', { role: 'board', program_id: 999 });
  assert.equal(refused.type, 'error');
  assert.equal(refused.code, 'not_found');
  const welcome = await board.request('hello', { role: 'board', program_id: s.programId });
  assert.equal(welcome.type, 'welcome');
  assert.equal(welcome.role, 'board');
  assert.equal(welcome.snapshot.program_id, s.programId);
  const other = await setupSession(h, srv, { programTitle: '另一个节目' });
  const otherBoard = await h.connect(srv, { label: 'other-board' });
  await otherBoard.request('hello', { role: 'board', program_id: other.programId });

  const from = board.mark();
  await s.mod.ok('action.update', { action_id: s.a1.id, status: 'done', note: `${NOTE}（已更新）` });
  const ev = await board.waitEvent('action.changed', (e) => e.action.id === s.a1.id, 5000, from);
  assert.equal(ev.action.status, 'done');
  assert.equal(ev.action.published, true);
  assert.equal(ev.action.note, undefined);
  assert.equal(ev.action.publication, undefined);
  // the unpublished item's changes never reach boards; a retraction says only that
  await s.producer.ok('action.update', { session: s.code, action_id: s.a3.id, status: 'in_progress' });
  await s.producer.ok('action.update', { session: s.code, action_id: s.a2.id, publication: 'staff', text: '改为：另行研究' });
  const gone = await board.waitEvent('action.changed', (e) => e.action.id === s.a2.id, 5000, from);
  assert.deepEqual(gone.action, { id: s.a2.id, session: s.code, published: false });
  await marker(s.mod, [s.mod], 'after-changes');
  await sleep(200);
  const seen = board.raw.slice(0).join('\n');
  assert.ok(!seen.includes(HELD) && !seen.includes(NOTE) && !seen.includes('另行研究'));
  assert.ok(!/\bv[0-9a-f]{16}\b/.test(seen));
  assert.equal(otherBoard.events('action.changed').length, 0, 'another programme\'s board hears nothing');

  // read-only: any request is refused, the connection stays
  const write = await board.request('question.submit', { text: '我能提问吗' });
  assert.equal(write.code, 'forbidden');
  const list = await board.request('questions.list', { session: s.code });
  assert.equal(list.code, 'forbidden');
  assert.ok(board.isOpen);
  // boards are counted apart in /metrics
  const metrics = await get(srv, '/metrics');
  assert.match(metrics.text, /forum_connections\{role="board"\} 2/);
});

test('a commitment of an archived session cannot be re-published; search finds commitments by their new status', async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const s = await showWithCommitments(h, srv);
  await s.mod.ok('action.update', { action_id: s.a2.id, status: 'withdrawn', reason: '地块已规划为绿地' });
  await s.producer.ok('session.end', { session: s.code });
  await s.producer.ok('session.archive', { session: s.code });
  const r = await s.producer.request('action.update', { session: s.code, action_id: s.a3.id, publication: 'public' });
  assert.equal(r.code, 'session_closed');
  const found = await s.producer.ok('search', { q: '停车位', state: 'withdrawn' });
  assert.ok(found.results.some((x) => x.kind === 'action' && x.action_id === s.a2.id && x.state === 'withdrawn'));
  const tokenless = newToken(); // a viewer may not search
  const v = await h.viewer(srv, s.code, { token: tokenless });
  assert.equal((await v.request('search', { q: '停车位' })).code, 'forbidden');
});

test('staff-only notes and held commitments reach no viewer and no anonymous reader, minutes included', async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const s = await showWithCommitments(h, srv); // s.aunt and s.anon watched every change so far
  const program = `/api/programs/${s.programId}`;
  // more staff-only text while the viewers watch: a note changed, a held item edited, a public
  // one held back with a note of its own
  await s.mod.ok('action.update', { action_id: s.a1.id, status: 'in_progress', note: `${NOTE}（二）` });
  await s.producer.ok('action.update', { session: s.code, action_id: s.a3.id, status: 'in_progress', owner: '暂不公开的单位' });
  await s.producer.ok('action.update', { session: s.code, action_id: s.a2.id, publication: 'public' });
  await s.producer.ok('action.update', { session: s.code, action_id: s.a2.id, publication: 'staff', note: NOTE });

  // a viewer cannot ask for them: writes and staff reads are refused, ratings of held items too
  for (const [type, fields] of [
    ['action.update', { action_id: s.a1.id, note: '观众写的备注' }],
    ['action.create', { text: '观众创建的承诺' }],
    ['search', { q: '备注' }],
  ]) {
    const r = await s.aunt.request(type, fields);
    assert.equal(r.type, 'error', `${type} by a viewer`);
    assert.equal(r.code, 'forbidden', `${type} by a viewer`);
  }
  await s.producer.ok('session.end', { session: s.code });
  const heldRating = await s.aunt.request('rating.set', { action_id: s.a3.id, value: 'satisfied' });
  assert.equal(heldRating.type, 'error');
  assert.ok(!JSON.stringify(heldRating).includes(HELD));
  await marker(s.mod, [s.mod, s.aunt, s.anon], 'ended');

  // what the viewers received on the wire, and what a new one is welcomed with
  const late = await h.viewer(srv, s.code, { name: '后来的观众' });
  for (const c of [s.aunt, s.anon, late]) {
    const seen = c.raw.join('\n');
    assertNothingStaffOnly(seen, s, { viewer: c });
    assert.ok(!seen.includes('暂不公开的单位'), `${c.label}: a held item's owner leaked`);
  }
  // the next episode's viewers (the programme's earlier commitments are theirs to rate)
  const next = await setupSession(h, srv, { producer: s.producer, programId: s.programId, title: '第十三期' });
  const nextViewer = await h.viewer(srv, next.code);
  assertNothingStaffOnly(nextViewer.raw.join('\n'), s, { viewer: nextViewer });

  // anonymous HTTP readers: the board as JSON and CSV (also asked for the held items by id),
  // the programme page, the front page, and the minutes once they are public
  await s.producer.ok('session.archive', { session: s.code });
  const reads = [
    `${program}/commitments`, `${program}/commitments.csv`, `${program}/commitments?format=csv`,
    `${program}/commitments?id=${s.a3.id}`, `${program}/commitments.csv?id=${s.a2.id}`,
    `${program}/commitments?status=in_progress`, program, '/api/programs',
    `/api/sessions/${s.code}/transcript.md`, `/api/sessions/${s.code}/transcript.md?lang=en`,
  ];
  for (const p of reads) {
    const r = await get(srv, p);
    assert.equal(r.status, 200, p);
    assertNothingStaffOnly(r.text, s);
    assert.ok(!r.text.includes('暂不公开的单位'), `${p}: a held item's owner leaked`);
  }
  const byId = await get(srv, `${program}/commitments?id=${s.a3.id}`);
  assert.deepEqual(byId.json.commitments, []);
  // the rest of the archive stays behind the producer key
  for (const p of ['transcript.json', 'questions.csv']) {
    assert.equal((await get(srv, `/api/sessions/${s.code}/${p}`)).status, 401, p);
  }
});
