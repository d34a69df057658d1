// board.test.js — the public commitment board /p/<id> and what links to it, in a real browser
// against the real forumd: the programme page with its episodes, the commitment cards (question,
// asker or 匿名, history, follow-ups, ratings) on a phone in Chinese and English and on a laptop,
// a status change made by a moderator appearing on the open board without a reload, the filters,
// nothing staff-only in the page, the front page's live and upcoming lists, the viewer page's
// "上期承诺进展" with its rating buttons, and the overlay showing one commitment on air.
// Screenshots go to tests/browser/artifacts/ (look at them).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WsClient, shot, waitFor, PHONE, LAPTOP, STUDIO, useShow } from './helpers.js';

const Q_LIFT = '加装电梯的补贴什么时候发放？老人等不起了';
const Q_PARK = '小区停车位太少，晚上回家找不到车位';
const P_LIFT = '两周内公布加装电梯补贴申领流程';
const P_PARK = '利用边角地块增设夜间临时停车位';
const P_BENCH = '中心广场增设座椅和树荫';
const NOTE = '内部备注：施工队联系人13800000000';
const HELD = '暂不公开：拆迁补偿标准再议';

const fx = useShow({ premoderation: false });
const { errors, openPage } = fx;
let server;
let show;
before(async () => { ({ server, show } = await fx.setup()); });
after(() => fx.teardown());

const token = (n) => `board-test-viewer-token-${n}`.padEnd(32, 'x');

test('the commitment board: episodes, commitments, live updates, filters, front page, viewer, overlay', async (t) => {
  const { code, moderatorKey, producer, programId } = show;
  const mod = await WsClient.connect(server.url, { session: code, role: 'moderator', token: moderatorKey, name: '主持人' });
  const aunt = await WsClient.connect(server.url, { session: code, role: 'viewer', token: token(1), name: '张阿姨' });
  const anon = await WsClient.connect(server.url, { session: code, role: 'viewer', token: token(2) });
  const qLift = (await aunt.ok({ type: 'question.submit', text: Q_LIFT, to: 1 })).question;
  const qPark = (await anon.ok({ type: 'question.submit', text: Q_PARK, anonymous: true, category: 'need', to: 3 })).question;
  await producer.ok({ type: 'session.start', session: code });
  for (const [q, note] of [[qLift, '九月起开始受理申请'], [qPark, '正在排查可利用的地块']]) {
    await mod.ok({ type: 'onair.set', question_id: q.id });
    await mod.ok({ type: 'question.answered', question_id: q.id, note });
  }
  const aLift = (await mod.ok({ type: 'action.create', question_id: qLift.id, text: P_LIFT, owner: '区住建局', due: '2020-09-15', promised_by: 1, note: NOTE })).action;
  const aPark = (await mod.ok({ type: 'action.create', question_id: qPark.id, text: P_PARK, owner: '菊园新区社区自治办', due: '2099-12-31', promised_by: 1 })).action;
  const aBench = (await mod.ok({ type: 'action.create', text: P_BENCH, owner: '菊园新区社区自治办', promised_by: 3 })).action;
  await producer.ok({ type: 'action.create', session: code, text: HELD, publication: 'staff' });
  await mod.ok({ type: 'action.update', action_id: aPark.id, status: 'in_progress', reason: '已完成三处地块的现场踏勘' });
  await mod.ok({ type: 'action.update', action_id: aBench.id, status: 'withdrawn', reason: '广场已列入整体改造，座椅随改造一并设置' });
  for (const [who, q, value] of [[aunt, qLift, 'satisfied'], [anon, qLift, 'basically_satisfied'], [anon, qPark, 'dissatisfied']]) {
    await who.ok({ type: 'rating.set', question_id: q.id, value });
  }
  await aunt.ok({ type: 'rating.set', question_id: qPark.id, value: 'basically_satisfied', comment: '希望尽快落实，晚上停车太难了' });
  await producer.ok({ type: 'session.end', session: code }); // its commitments become public

  // the next episode: open for questions, the follow-up recorded there; one coming up later
  const next = (await producer.ok({
    type: 'session.create', program_id: programId, title: '第五期 · 停车难，怎么解', topic: '夜间停车与共享车位',
    scheduled_at: Date.now() + 2 * 86400000, panelists: [{ name: '薄燕飞', affiliation: '菊园新区社区自治办' }],
  })).session;
  await producer.ok({ type: 'session.open', session: next.code });
  const follow = (await producer.ok({
    type: 'action.create', session: next.code, follows_action_id: aLift.id, text: '申领流程已在区政府网站和各居委公示', status: 'done', owner: '区住建局', publication: 'public',
  })).action;
  const later = (await producer.ok({ type: 'session.create', program_id: programId, title: '第六期 · 垃圾分类回头看', scheduled_at: Date.now() + 9 * 86400000 })).session;
  await producer.ok({ type: 'session.open', session: later.code });
  const nextViewer = await WsClient.connect(server.url, { session: next.code, role: 'viewer', token: token(3) });
  await nextViewer.ok({ type: 'rating.set', action_id: aLift.id, value: 'satisfied', comment: '电梯已经在装了，谢谢' });
  const nextMod = await WsClient.connect(server.url, { session: next.code, role: 'moderator', token: (await producer.ok({ type: 'session.rotate_key', session: next.code })).moderator_key, name: '主持人' });
  const pending = nextMod.welcome.snapshot.ratings.find((r) => r.comment === '电梯已经在装了，谢谢');
  if (pending && pending.comment_state === 'pending') await nextMod.ok({ type: 'rating.approve', rating_id: pending.id });

  const board = await openPage('board', PHONE, `/p/${programId}`);
  await t.test('the programme page on a phone, in Chinese', async () => {
    await board.locator('.conn[data-status="connected"]').waitFor();
    await board.locator(`.b-card[data-id="${aLift.id}"]`).waitFor();
    assert.equal(await board.locator('#title').textContent(), '书记论坛');
    assert.equal(await board.locator('.b-card').count(), 3);
    const lift = board.locator(`.b-card[data-id="${aLift.id}"]`);
    assert.equal(await lift.getAttribute('data-status'), 'done', 'the follow-up reports it done');
    assert.match(await lift.textContent(), /张阿姨/);
    assert.match(await lift.textContent(), /后续节目中的跟进/);
    assert.match(await lift.textContent(), /申领流程已在区政府网站和各居委公示/);
    const park = board.locator(`.b-card[data-id="${aPark.id}"]`);
    assert.match(await park.textContent(), /居民提问 · 匿名/);
    assert.match(await park.textContent(), /已完成三处地块的现场踏勘/);
    assert.match(await park.textContent(), /希望尽快落实/);
    const bench = board.locator(`.b-card[data-id="${aBench.id}"]`);
    assert.match(await bench.textContent(), /撤回原因/);
    assert.equal(await board.locator('.b-ep', { hasText: '第五期' }).count(), 1);
    assert.match(await board.locator('.b-ep', { hasText: '第四期' }).textContent(), /纪要整理中/);
    const html = await board.content();
    assert.ok(!html.includes(NOTE) && !html.includes(HELD), 'nothing staff-only in the page');
    assert.ok(!/v[0-9a-f]{16}/.test(html), 'no viewer id in the page');
    await board.evaluate(() => window.scrollTo(0, 0)); // the sticky top bar stays at the top of the picture
    await shot(board, 'board-phone-zh', { fullPage: true });
  });

  await t.test('a status change in a console appears without a reload', async () => {
    await board.evaluate(() => { window.__sameDocument = true; });
    await board.locator(`.b-card[data-id="${aPark.id}"]`).scrollIntoViewIfNeeded();
    await nextMod.ok({ type: 'action.update', action_id: aPark.id, status: 'done', reason: '新增夜间临时停车位 46 个' });
    const park = board.locator(`.b-card[data-id="${aPark.id}"]`);
    await waitFor(async () => (await park.getAttribute('data-status')) === 'done', { message: 'the card shows done' });
    assert.match(await park.textContent(), /新增夜间临时停车位 46 个/);
    assert.equal(await board.evaluate(() => window.__sameDocument), true, 'the page was not reloaded');
    await shot(board, 'board-phone-live-update', { fullPage: false });
  });

  await t.test('filters and the table download', async () => {
    await board.locator('#stats .b-stat-withdrawn').click();
    await waitFor(async () => (await board.locator('.b-card').count()) === 1, { message: 'one withdrawn' });
    assert.match(await board.locator('.b-card').textContent(), new RegExp(P_BENCH));
    assert.match(board.url(), /status=withdrawn/);
    await board.locator('#stats .b-stat-total').click();
    await waitFor(async () => (await board.locator('.b-card').count()) === 3, { message: 'all again' });
    await board.selectOption('#owner-filter', '区住建局');
    await waitFor(async () => (await board.locator('.b-card').count()) === 1, { message: 'one of 区住建局' });
    const href = await board.locator('#csv-link').getAttribute('href');
    assert.match(href, /commitments\.csv\?owner=/);
    const res = await fetch(`${server.url}${href}`);
    const text = await res.text();
    assert.match(text, new RegExp(P_LIFT));
    assert.ok(!text.includes(P_PARK));
    await board.selectOption('#owner-filter', '');
  });

  await t.test('the same page in English, and on a laptop', async () => {
    await board.locator('[data-lang-toggle]').click();
    await board.locator('#commitments-title', { hasText: 'Commitment board' }).waitFor();
    assert.match(await board.locator(`.b-card[data-id="${aBench.id}"]`).textContent(), /Why withdrawn/);
    await board.evaluate(() => window.scrollTo(0, 0));
    await shot(board, 'board-phone-en', { fullPage: true });
    const wide = await openPage('board-laptop', LAPTOP, `/p/${programId}#commitments`);
    await wide.locator(`.b-card[data-id="${aLift.id}"]`).waitFor();
    await shot(wide, 'board-laptop-zh', { fullPage: false });
  });

  await t.test('the front page lists what is coming up and links to the programme', async () => {
    const home = await openPage('home', PHONE, '/');
    await home.locator('.b-ep', { hasText: '第五期' }).waitFor();
    assert.equal(await home.locator('.b-ep', { hasText: '第六期' }).count(), 1);
    assert.equal(await home.locator(`a[href="/p/${programId}"]`).count(), 1);
    await shot(home, 'front-page-zh', { fullPage: true });
  });

  await t.test('the next episode\'s viewer page links to the last one\'s commitments and rates them', async () => {
    const viewer = await openPage('next-viewer', PHONE, `/s/${next.code}#rate-a${aPark.id}`);
    const section = viewer.locator('#commitments');
    await section.locator('h2', { hasText: '上期承诺进展' }).waitFor();
    assert.equal(await section.locator(`a[href^="/p/${programId}"]`).count(), 1);
    const item = section.locator(`#commitment-${aPark.id}`);
    await item.locator('.rate-btn', { hasText: '基本满意' }).click();
    await viewer.locator('.toast', { hasText: '感谢您的评价' }).waitFor();
    await waitFor(async () => (await item.locator('.rate-btn.is-chosen').count()) === 1, { message: 'the choice is shown' });
    await shot(viewer, 'viewer-commitments-zh', { fullPage: false });
    // the board hears the count
    await waitFor(async () => /基本满意 1/.test(await board.locator(`.b-card[data-id="${aPark.id}"]`).textContent()) ||
      /Basically satisfied 1/.test(await board.locator(`.b-card[data-id="${aPark.id}"]`).textContent()), { message: 'the board shows the new rating' });
  });

  await t.test('the overlay shows one commitment on air', async () => {
    const overlay = await openPage('overlay', STUDIO, `/overlay/${next.code}?show=commitment&id=${aPark.id}`);
    await overlay.locator(`#lower.is-visible[data-action-id="${aPark.id}"]`).waitFor();
    assert.match(await overlay.locator('#lower-text').textContent(), new RegExp(P_PARK));
    assert.match(await overlay.locator('#lower-tag').textContent(), /承诺公示 · 已完成/);
    await shot(overlay, 'overlay-commitment-zh', { omitBackground: false });
  });

  for (const c of [mod, aunt, anon, nextViewer, nextMod]) c.close();
  assert.deepEqual(errors, []);
});
