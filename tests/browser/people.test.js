// people.test.js — what a show's people trip over (issue 15), each played in Chromium as they
// would do it, against the real forumd: restoring a dismissed question (and its reason on the
// card, to the asker, in the CSV and the minutes); asking with a name and anonymously on a
// healthy connection; a merged duplicate seen by its asker; the residents' list and the poll
// in the public minutes; a follow-up on air with its question (phone and overlay); moderators'
// names, who did what, and an overlay that is no audience; moderation under a spam wave; and
// carry-over by pick, keeping the source. Screenshots in Chinese and English go to
// tests/browser/artifacts/people-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  createShow, staffQuestions, shot, waitFor, WsClient, PHONE, LAPTOP, STUDIO, useShow,
} from './helpers.js';

const fx = useShow({ premoderation: false });
const { errors, openPage } = fx;
let server;
before(async () => { ({ server } = await fx.setup()); });
after(() => fx.teardown());

const wallCard = (page, text) => page.locator('#list .v-q', { hasText: text });
const mineCard = (page, text) => page.locator('#mine .v-q', { hasText: text });
const modCard = (page, column, text) => page.locator(`#list-${column} .m-q`, { hasText: text });
const modLink = (show) => `/m/${show.code}#key=${encodeURIComponent(show.moderatorKey)}`;

/** Screenshots of page in Chinese, then English (the page's own language toggle), then back;
 *  scrollTo (a selector) is brought into view before each. */
async function shotBoth(page, name, { scrollTo, ...options } = {}) {
  const bring = () => scrollTo && page.evaluate((sel) => document.querySelector(sel)?.scrollIntoView({ block: 'center' }), scrollTo);
  await bring();
  await shot(page, `people-${name}-zh`, options);
  await page.click('[data-lang-toggle]');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
  await page.waitForTimeout(150); // the re-render is coalesced into the next frame
  await bring();
  await shot(page, `people-${name}-en`, options);
  await page.click('[data-lang-toggle]');
  await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
}

async function ask(page, text, { name, anonymous = false, kind } = {}) {
  if (name !== undefined) await page.fill('#q-name', name);
  if (anonymous) await page.check('#q-anon');
  if (kind) await page.click(`#kind-seg button[data-kind="${kind}"]`);
  await page.fill('#q-text', text);
  await page.click('#q-submit');
  await page.locator('.toast', { hasText: '提交成功' }).first().waitFor();
}

async function connected(page) {
  await page.locator('.conn[data-status="connected"]').waitFor();
}

async function producerGet(path) {
  const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${server.producerKey}` } });
  assert.equal(res.status, 200, path);
  return res.text();
}

test('1. a dismissed question is restored; its reason shows on the card, to the asker, in the CSV and the minutes', async () => {
  const show = await createShow(server, { premoderation: false });
  const Q = '小区东门的路灯坏了半个月，晚上回家很不安全。';
  const OTHER = '垃圾分类点位能否挪到离住户远一点的地方？';
  const REASON = '已转交街道办，本周内修复';
  const viewer = await openPage('p1-viewer', PHONE, `/s/${show.code}`);
  await connected(viewer);
  await ask(viewer, Q, { name: '周阿姨' });
  await ask(viewer, OTHER);
  const mod = await openPage('p1-mod', LAPTOP, modLink(show), { modName: '小李' });
  // The reason has a button of its own (not only Shift+D), on the selected card.
  await modCard(mod, 'published', Q).locator('.m-q-text').click();
  await modCard(mod, 'published', Q).locator('button.m-act-reason', { hasText: '说明原因后不予采用' }).click();
  const dialog = mod.locator('dialog[open]');
  await dialog.locator('textarea').fill(REASON);
  await dialog.locator('button[type="submit"]').click();
  const dismissed = modCard(mod, 'dismissed', Q);
  await dismissed.locator('.m-q-reason', { hasText: REASON }).waitFor();
  // Another action: the one-level undo no longer reaches the dismissal.
  await modCard(mod, 'published', OTHER).locator('.m-q-text').click();
  await mod.keyboard.press('s');
  await modCard(mod, 'published', OTHER).locator('.m-star').waitFor();

  // The asker sees why.
  await viewer.click('#tab-mine');
  const mine = mineCard(viewer, Q);
  await mine.locator('.chip-dismissed').waitFor();
  await mine.locator('.v-dismiss-reason', { hasText: REASON }).waitFor();
  await shotBoth(viewer, '1-asker-sees-reason', { scrollTo: '#mine .v-q[data-state="dismissed"]' });

  await dismissed.locator('.m-q-text').click();
  await mod.evaluate(() => document.querySelector('#list-dismissed .m-q.is-selected')?.scrollIntoView());
  await shotBoth(mod, '1-dismissed-card');
  await dismissed.locator('button.m-act-restore').click();
  await modCard(mod, 'published', Q).waitFor();
  assert.equal(await modCard(mod, 'dismissed', Q).count(), 0);
  await viewer.click('#tab-all');
  await wallCard(viewer, Q).waitFor();
  // Undoable: U dismisses it again, with its reason.
  await mod.keyboard.press('u');
  await modCard(mod, 'dismissed', Q).locator('.m-q-reason', { hasText: REASON }).waitFor();
  await wallCard(viewer, Q).waitFor({ state: 'detached' });
  // And the activity says who did what.
  await mod.click('.side-tabs [data-tab="activity"]');
  await mod.locator('#activity-list .activity-item', { hasText: '恢复了' }).locator('.activity-who', { hasText: '小李' }).waitFor();

  const csv = await producerGet(`/api/sessions/${show.code}/questions.csv`);
  assert.ok(csv.split('\r\n')[0].endsWith(',dismiss_reason,carried_source'), csv.split('\r\n')[0]);
  assert.ok(csv.includes(REASON), 'the reason is in the CSV');
  const minutes = await producerGet(`/api/sessions/${show.code}/transcript.md`);
  assert.ok(minutes.includes(`${Q}（周阿姨） — 0 票；未入选：${REASON}`), minutes);
});

test('2. asking with a name and anonymously: no reconnect, no false "unstable network", the box does not stay ticked', async () => {
  const show = await createShow(server, { premoderation: false });
  const v = await openPage('p2-viewer', PHONE, `/s/${show.code}`);
  const sockets = [];
  v.on('websocket', (ws) => sockets.push(ws.url()));
  await connected(v);
  const mod = await openPage('p2-mod', LAPTOP, modLink(show), { modName: '小李' });
  await connected(mod);
  const seen = [];
  await v.exposeFunction('noteToast', (text) => seen.push(text));
  await v.evaluate(() => new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) if (n.classList && n.classList.contains('toast')) window.noteToast(n.textContent);
  }).observe(document.body, { childList: true, subtree: true }));

  await v.fill('#q-name', '王大爷');
  await v.locator('#q-identity[data-mode="named"]', { hasText: '王大爷' }).waitFor();
  await v.fill('#q-text', '第一次提问：小区能不能多装几个充电桩？');
  await shotBoth(v, '2-composer-named', { scrollTo: '#q-identity' });
  await v.click('#q-submit');
  await v.locator('.toast', { hasText: '提交成功' }).waitFor();
  await modCard(mod, 'published', '第一次提问').locator('.m-q-author', { hasText: '王大爷' }).waitFor();

  await ask(v, '换了称呼再问：充电桩收费标准是什么？', { name: '王师傅' });
  await modCard(mod, 'published', '换了称呼再问').locator('.m-q-author', { hasText: '王师傅' }).waitFor();

  await v.check('#q-anon');
  await v.locator('#q-identity[data-mode="anonymous"]').waitFor();
  await v.fill('#q-text', '匿名问一句：物业费是不是太高了？');
  await shotBoth(v, '2-composer-anonymous', { scrollTo: '#q-identity' });
  await v.click('#q-submit');
  await v.locator('.toast', { hasText: '提交成功' }).nth(0).waitFor();
  await modCard(mod, 'published', '匿名问一句').locator('.m-q-author', { hasText: '匿名' }).waitFor();
  // After an anonymous question the box is unticked again, and the line says so.
  assert.equal(await v.isChecked('#q-anon'), false);
  await v.locator('#q-identity[data-mode="named"]', { hasText: '王师傅' }).waitFor();

  // A follow-up afterwards goes out with the name.
  await wallCard(v, '第一次提问').waitFor();
  await mod.locator('#list-published .m-q', { hasText: '第一次提问' }).locator('button', { hasText: '上屏' }).click();
  await mod.locator('#onair .onair-text', { hasText: '第一次提问' }).waitFor();
  await mod.locator('#onair button', { hasText: '已回答' }).click();
  await mod.locator('dialog[open] button[type="submit"]').click();
  await wallCard(v, '第一次提问').locator('.v-follow-btn').click();
  await v.fill('#q-text', '追问：充电桩装在哪里？');
  await v.click('#q-submit');
  await modCard(mod, 'published', '追问：充电桩装在哪里').locator('.m-q-author', { hasText: '王师傅' }).waitFor();

  await v.waitForTimeout(300);
  assert.deepEqual(seen.filter((x) => x.includes('网络不太稳定')), [], 'no false "unstable network" message');
  assert.equal(sockets.length, 1, `one WebSocket for the whole visit: ${sockets.join(', ')}`);
});

test('3. a merged duplicate tells its asker it was combined, points to the question, and her support went with it', async () => {
  const show = await createShow(server, { premoderation: false });
  const ORIGINAL = '菜市场门口早上堵得厉害，能不能划出临时停车位？';
  const DUP = '早上菜场门口车太多了，建议设置临时停车区。';
  const a = await openPage('p3-a', PHONE, `/s/${show.code}`);
  const b = await openPage('p3-b', PHONE, `/s/${show.code}`);
  await connected(a);
  await connected(b);
  await ask(a, ORIGINAL, { name: '陈老师' });
  await ask(b, DUP, { name: '刘阿姨' });
  const mod = await openPage('p3-mod', LAPTOP, modLink(show), { modName: '小李' });
  await modCard(mod, 'published', DUP).locator('.m-q-text').click();
  await mod.keyboard.press('m');
  await mod.locator('dialog[open] .merge-item', { hasText: ORIGINAL }).click();
  await modCard(mod, 'dismissed', DUP).waitFor();
  await modCard(mod, 'published', ORIGINAL).locator('.m-votes', { hasText: '1' }).waitFor();

  await b.click('#tab-mine');
  const mine = mineCard(b, DUP);
  await mine.locator('.chip-merged', { hasText: '已合并' }).waitFor();
  assert.equal(await mine.locator('.chip', { hasText: '未入选' }).count(), 0, 'not shown as a rejection');
  await mine.locator('.v-merged-text', { hasText: ORIGINAL }).waitFor();
  await mine.locator('.v-mine-explain', { hasText: '赞同已一并计入' }).waitFor();
  await shotBoth(b, '3-merged-asker', { scrollTo: '#mine .v-q[data-state="merged"]' });
  await mine.locator('.v-merged-go').click();
  const target = wallCard(b, ORIGINAL);
  await b.locator('#list .v-q.is-highlighted', { hasText: ORIGINAL }).waitFor();
  await target.locator('.v-vote.is-voted .v-vote-count', { hasText: '1' }).waitFor();
  await shot(b, 'people-3-merged-target-zh');
});

test('4. the public minutes list every published need and suggestion and every poll; one word 需求', async () => {
  const show = await createShow(server, { premoderation: false });
  const { producer, code } = show;
  const v = await openPage('p4-viewer', PHONE, `/s/${code}`);
  await connected(v);
  await ask(v, '希望社区食堂延长营业时间到晚上七点。', { name: '孙奶奶', kind: 'need' });
  await ask(v, '小区需要一个室内活动室给老人下棋。', { kind: 'need' });
  await ask(v, '建议每月办一次“居民议事会”，公开讨论改造进度。', { kind: 'suggestion' });
  await ask(v, '想要一个宠物便便箱。', { kind: 'need' });
  const mod = await openPage('p4-mod', LAPTOP, modLink(show), { modName: '小李' });
  await modCard(mod, 'published', '宠物便便箱').waitFor();
  const qs = await staffQuestions(server, code);
  const id = (text) => qs.find((q) => q.text.includes(text)).id;
  await v.locator('#list .v-q', { hasText: '活动室' }).locator('.v-vote').click();
  await producer.ok({ type: 'session.start', session: code });
  const m = await WsClient.connect(server.url, { session: code, role: 'moderator', token: show.moderatorKey, name: '小李' });
  await m.ok({ type: 'onair.set', question_id: id('社区食堂') });
  await m.ok({ type: 'question.answered', question_id: id('社区食堂'), note: '下月起延长到晚七点' });
  await m.ok({ type: 'question.dismiss', question_id: id('宠物便便箱'), reason: '已由物业统一采购' });
  const { poll } = await m.ok({ type: 'poll.create', title: '先改造哪一处？', options: ['中心广场', '东门道路'] });
  await m.ok({ type: 'poll.open', poll_id: poll.id });
  await v.locator('.v-poll-option', { hasText: '中心广场' }).click();
  await v.locator('.v-poll-option.is-chosen', { hasText: '中心广场' }).waitFor();
  await m.ok({ type: 'poll.close', poll_id: poll.id });
  m.close();
  await producer.ok({ type: 'session.end', session: code });
  await producer.ok({ type: 'session.archive', session: code });

  await v.locator('#minutes-link').click();
  const doc = v.locator('#minutes-doc[data-state="ready"]');
  await doc.waitFor();
  await doc.locator('.md-h2', { hasText: '需求与建议' }).waitFor();
  await doc.locator('.md-h3', { hasText: '需求（3）' }).waitFor();
  await doc.locator('li', { hasText: '希望社区食堂延长营业时间到晚上七点。（孙奶奶） — 0 票；已答复（第 1 问）' }).waitFor();
  await doc.locator('li', { hasText: '小区需要一个室内活动室给老人下棋。（孙奶奶） — 1 票；待回应' }).waitFor();
  await doc.locator('li', { hasText: '想要一个宠物便便箱。（孙奶奶） — 0 票；未入选：已由物业统一采购' }).waitFor();
  await doc.locator('.md-h3', { hasText: '建议（1）' }).waitFor();
  await doc.locator('.md-h2', { hasText: '现场投票' }).waitFor();
  await doc.locator('li li', { hasText: '中心广场：1 票（100%）' }).waitFor();
  await doc.locator('li', { hasText: '收到问题：4（提问 0，需求 3，建议 1）' }).waitFor();
  assert.ok(!(await doc.textContent()).includes('诉求'), 'one word: 需求');
  await v.evaluate(() => [...document.querySelectorAll('#minutes-doc .md-h2')].find((x) => x.textContent.includes('需求与建议')).scrollIntoView({ block: 'center' }));
  await shot(v, 'people-4-minutes-residents-zh');
  await shot(v, 'people-4-minutes-full-zh', { fullPage: true });
  await v.click('[data-lang-toggle]');
  await doc.locator('.md-h2', { hasText: 'Needs and suggestions' }).waitFor();
  await doc.locator('li', { hasText: '1 vote; awaiting a response' }).waitFor();
  await v.evaluate(() => [...document.querySelectorAll('#minutes-doc .md-h2')].find((x) => x.textContent.includes('Needs and suggestions')).scrollIntoView({ block: 'center' }));
  await shot(v, 'people-4-minutes-residents-en');
  await v.click('[data-lang-toggle]');
});

test('5. a follow-up goes on air with its question, to the panelist the question went to', async () => {
  const show = await createShow(server, { premoderation: false });
  const PARENT = '改造方案里的座椅会用什么材料？夏天会不会太烫？';
  const FOLLOW = '那冬天呢？能不能加个挡风的设计？';
  const v = await openPage('p5-viewer', PHONE, `/s/${show.code}`);
  await connected(v);
  await v.selectOption('#q-to', { label: '徐晓峰 · 上海江南建筑设计院' });
  await ask(v, PARENT, { name: '赵先生' });
  await show.producer.ok({ type: 'session.start', session: show.code });
  const mod = await openPage('p5-mod', LAPTOP, modLink(show), { modName: '小李' });
  await modCard(mod, 'published', PARENT).locator('button', { hasText: '上屏' }).click();
  await mod.locator('#onair button', { hasText: '已回答' }).click();
  await mod.locator('dialog[open] textarea').fill('会用防腐木，夏天不烫手。');
  await mod.locator('dialog[open] button[type="submit"]').click();
  await modCard(mod, 'answered', PARENT).waitFor();

  await wallCard(v, PARENT).locator('.v-follow-btn').click();
  // The follow-up goes to whom the question went, unless the viewer picks another.
  assert.equal(await v.locator('#q-to option:checked').textContent(), '徐晓峰 · 上海江南建筑设计院');
  await v.fill('#q-text', FOLLOW);
  await v.click('#q-submit');
  await v.locator('.toast', { hasText: '提交成功' }).last().waitFor(); // the first may still show

  const ovZh = await openPage('p5-overlay', STUDIO, `/overlay/${show.code}`);
  const ovEn = await openPage('p5-overlay-en', STUDIO, `/overlay/${show.code}?lang=en`);
  await modCard(mod, 'published', FOLLOW).locator('.m-q-meta', { hasText: '徐晓峰' }).waitFor();
  await modCard(mod, 'published', FOLLOW).locator('button', { hasText: '上屏' }).click();
  await mod.locator('#onair .onair-parent', { hasText: PARENT }).waitFor();

  const now = v.locator('#now .v-onair.is-follow-up');
  await now.locator('.v-onair-parent-text', { hasText: PARENT }).waitFor();
  await now.locator('.v-onair-text', { hasText: FOLLOW }).waitFor();
  await now.locator('.v-onair-to', { hasText: '徐晓峰' }).waitFor();
  await v.evaluate(() => window.scrollTo(0, 0));
  await shotBoth(v, '5-phone-follow-up-on-air');

  for (const [ov, lang] of [[ovZh, 'zh'], [ovEn, 'en']]) {
    await ov.locator('#lower.is-visible.is-follow-up').waitFor();
    await ov.locator('#lower-parent', { hasText: PARENT }).waitFor();
    await ov.locator('#lower-text', { hasText: FOLLOW }).waitFor();
    await ov.locator('#lower-to', { hasText: '徐晓峰' }).waitFor();
    await ov.waitForTimeout(900); // the animation
    await ov.evaluate(() => { document.documentElement.style.setProperty('background', 'linear-gradient(135deg,#2b3a4a,#5a6b7a 60%,#8a7a6a)', 'important'); });
    await shot(ov, `people-5-overlay-follow-up-${lang}`);
  }
  await shot(mod, 'people-5-moderator-on-air-zh');
});

test('6. moderators are asked their name once; activity shows who did what; the overlay is not counted', async () => {
  const show = await createShow(server, { premoderation: true });
  const li = await openPage('p6-li', LAPTOP, modLink(show), { modName: null });
  // First join on this device: the key came with the link, the name is asked.
  await li.locator('#login:not([hidden])').waitFor();
  assert.equal(await li.locator('#login-key-field').isHidden(), true);
  await shotBoth(li, '6-name-first-join');
  await li.click('#login-form button[type="submit"]');
  await li.locator('#login-error', { hasText: '请填写您的称呼' }).waitFor();
  await li.fill('#login-name', '小李');
  await li.click('#login-form button[type="submit"]');
  await connected(li);
  await li.locator('#mod-name-btn', { hasText: '小李' }).waitFor();
  const wang = await openPage('p6-wang', LAPTOP, modLink(show), { modName: null });
  await wang.fill('#login-name', '小王');
  await wang.click('#login-form button[type="submit"]');
  await connected(wang);

  // The overlay joins first, then one viewer: one viewer is what the consoles show.
  const ov = await openPage('p6-overlay', STUDIO, `/overlay/${show.code}`);
  await waitFor(() => ov.evaluate(() => document.documentElement.dataset.conn === 'connected'), { message: 'overlay connected' });
  const v = await openPage('p6-viewer', PHONE, `/s/${show.code}`);
  await connected(v);
  await waitFor(async () => (await li.locator('#stat-viewers b').textContent()) === '1', { timeout: 5000, message: 'one viewer' });
  await li.waitForTimeout(1500);
  assert.equal(await li.locator('#stat-viewers b').textContent(), '1', 'the overlay is not a viewer');

  await ask(v, '楼道灯什么时候修？', { name: '钱阿姨' });
  await modCard(li, 'incoming', '楼道灯').locator('button', { hasText: '通过' }).click();
  await modCard(wang, 'published', '楼道灯').locator('.m-q-text').click();
  await wang.keyboard.press('d');
  await modCard(li, 'dismissed', '楼道灯').waitFor();
  // Undo is each one's own: 小李's U has nothing of 小王's to undo.
  await li.locator('body').click({ position: { x: 5, y: 5 } });
  await li.keyboard.press('u');
  await li.locator('.toast', { hasText: '当前状态下无法进行这项操作' }).waitFor();
  await modCard(li, 'dismissed', '楼道灯').waitFor();
  await wang.keyboard.press('u');
  await modCard(li, 'published', '楼道灯').waitFor();

  await li.click('.side-tabs [data-tab="activity"]');
  const items = li.locator('#activity-list .activity-item');
  await items.filter({ hasText: '不予采用' }).locator('.activity-who', { hasText: '小王' }).waitFor();
  await items.filter({ hasText: '通过了' }).locator('.activity-who', { hasText: '小李' }).waitFor();
  await items.filter({ hasText: '撤销了' }).locator('.activity-who', { hasText: '小王' }).waitFor();
  await shotBoth(li, '6-activity');
  // Remembered on this device: a reload goes straight in.
  await li.reload();
  await connected(li);
  await li.locator('#mod-name-btn', { hasText: '小李' }).waitFor();
  assert.equal(await li.locator('#login').isHidden(), true);
  const doc = await (await fetch(`${server.url}/api/sessions/${show.code}/transcript.json`, { headers: { authorization: `Bearer ${server.producerKey}` } })).json();
  assert.deepEqual([...new Set(doc.events.filter((e) => e.actor.startsWith('moderator:')).map((e) => e.actor))].sort(), ['moderator:小李', 'moderator:小王']);
});

test('7. moderation under abuse: the blocked word on the card, several at once, ban and clear', async () => {
  const show = await createShow(server, { premoderation: true });
  const troll = await openPage('p7-troll', PHONE, `/s/${show.code}`);
  const good = await openPage('p7-good', PHONE, `/s/${show.code}`);
  await connected(troll);
  await connected(good);
  for (let i = 1; i <= 3; i++) await ask(troll, `刷屏第${i}条：加微信领红包`, { name: '路过的' });
  await ask(troll, '低价广告，代办各种证件');
  for (let i = 1; i <= 3; i++) await ask(good, `第${i}个真问题：小区绿化什么时候补种？`, { name: '吴先生' });
  const mod = await openPage('p7-mod', LAPTOP, modLink(show), { modName: '小李' });
  const held = modCard(mod, 'incoming', '低价广告');
  await held.locator('.chip-held', { hasText: '屏蔽词：广告' }).waitFor();

  // Several at once: tick the residents' three, approve them together.
  for (let i = 1; i <= 3; i++) await modCard(mod, 'incoming', `第${i}个真问题`).locator('.m-pick').click();
  await mod.locator('#bulk-bar:not([hidden])', { hasText: '已选 3 个问题' }).waitFor();
  await shotBoth(mod, '7-held-and-picked');
  await mod.click('#bulk-approve');
  for (let i = 1; i <= 3; i++) await modCard(mod, 'published', `第${i}个真问题`).waitFor();
  await good.locator('#list .v-q', { hasText: '第3个真问题' }).waitFor();
  await mod.locator('#bulk-bar').waitFor({ state: 'hidden' });

  // Ban and clear everything of theirs still waiting.
  await modCard(mod, 'incoming', '刷屏第1条').locator('.m-q-text').click();
  await mod.keyboard.press('b');
  const dialog = mod.locator('dialog[open]');
  await dialog.locator('label', { hasText: '同时不予采用 TA 的 4 个待审核问题' }).waitFor();
  assert.equal(await dialog.locator('#ban-clear').isChecked(), true);
  await shot(mod, 'people-7-ban-and-clear-zh');
  await dialog.locator('button', { hasText: '取消' }).click();
  await mod.click('[data-lang-toggle]');
  await mod.keyboard.press('b');
  await dialog.locator('label', { hasText: 'Also dismiss their 4 questions waiting for review' }).waitFor();
  await shot(mod, 'people-7-ban-and-clear-en');
  await dialog.locator('button', { hasText: 'Cancel' }).click();
  await mod.click('[data-lang-toggle]');
  await mod.keyboard.press('b');
  await dialog.locator('#ban-confirm').click();
  await mod.locator('.toast', { hasText: '清除了 TA 的 4 个待审核问题' }).waitFor();
  await mod.locator('#list-incoming .empty').waitFor();
  await mod.click('.side-tabs [data-tab="bans"]');
  await mod.locator('#ban-list .ban-row', { hasText: '路过的' }).waitFor();
  await ask(good, '新的真问题：能否增加快递柜？');
  await troll.fill('#q-text', '还想再刷');
  await troll.click('#q-submit');
  await troll.locator('.toast', { hasText: '您已被主持人禁言' }).waitFor();

  // Select all pending, dismiss together (with one reason).
  await modCard(mod, 'incoming', '快递柜').waitFor();
  await mod.click('#pick-all-incoming');
  await mod.click('#bulk-dismiss');
  await mod.locator('dialog[open] textarea').fill('与本期主题无关');
  await mod.click('#bulk-dismiss-confirm');
  await modCard(mod, 'dismissed', '快递柜').locator('.m-q-reason', { hasText: '与本期主题无关' }).waitFor();
});

test('8. carry-over: the producer picks the questions; a hotline question stays one', async () => {
  const showA = await createShow(server, { premoderation: false });
  const PHONE_Q = '热线来电：老年助餐点能否增加送餐上门？';
  const WEB_Q = '网上留言：小区停车收费能否公示？';
  const SETTLED = '网上留言：已在会后解决的问题';
  const m = await WsClient.connect(server.url, { session: showA.code, role: 'moderator', token: showA.moderatorKey, name: '小李' });
  await m.ok({ type: 'question.submit', text: PHONE_Q, source: 'phone', author: '顾先生' });
  await m.ok({ type: 'question.submit', text: WEB_Q, source: 'web' });
  await m.ok({ type: 'question.submit', text: SETTLED, source: 'web' });
  m.close();
  const TITLE_B = '第五期 · 助餐与停车';
  const created = await showA.producer.ok({ type: 'session.create', program_id: showA.programId, title: TITLE_B, scheduled_at: Date.now() + 14 * 86400_000 });
  const codeB = created.session.code;
  await showA.producer.ok({ type: 'session.open', session: codeB });

  const prod = await openPage('p8-producer', LAPTOP, '/producer');
  await prod.fill('#login-key', server.producerKey);
  await prod.click('#login-form button[type="submit"]');
  await prod.locator('.prod-session-link', { hasText: TITLE_B }).click();
  await prod.locator('.prod-title', { hasText: TITLE_B }).waitFor();
  await prod.selectOption('#carry-from', showA.code);
  const pick = prod.locator('#carry-pick');
  await pick.locator('.carry-item', { hasText: PHONE_Q }).locator('.chip', { hasText: '热线电话' }).waitFor();
  // Everything is ticked at first; the one settled off air is left out.
  await pick.locator('.carry-item', { hasText: SETTLED }).locator('input').uncheck();
  await prod.locator('#carry-go', { hasText: '转入所选的 2 个问题' }).waitFor();
  await prod.evaluate(() => document.getElementById('carry-card').scrollIntoView());
  await shotBoth(prod, '8-carry-pick');
  await prod.click('#carry-go');
  const result = prod.locator('#carry-result');
  await result.locator('li', { hasText: PHONE_Q }).waitFor();
  assert.equal(await result.locator('li', { hasText: SETTLED }).count(), 0);
  await pick.locator('.carry-item.is-done', { hasText: PHONE_Q }).waitFor();
  // The one left out can follow later; nothing is ticked now.
  await prod.locator('#carry-go:disabled', { hasText: '转入所选的 0 个问题' }).waitFor();
  await pick.locator('.carry-item:not(.is-done)', { hasText: SETTLED }).waitFor();

  const mod = await openPage('p8-mod', LAPTOP, `/m/${codeB}#key=${encodeURIComponent(created.moderator_key)}`, { modName: '小李' });
  const carried = modCard(mod, 'published', PHONE_Q);
  await carried.locator('.chip', { hasText: '往期转入' }).waitFor();
  await carried.locator('.chip-origin', { hasText: '热线电话' }).waitFor();
  const v = await openPage('p8-viewer', PHONE, `/s/${codeB}`);
  const vcard = wallCard(v, PHONE_Q);
  await vcard.locator('.chip', { hasText: '往期转入' }).waitFor();
  await vcard.locator('.chip-origin', { hasText: '热线电话' }).waitFor();
  await shotBoth(v, '8-viewer-carried-source', { scrollTo: '#list .v-q' });
  await shot(mod, 'people-8-moderator-carried-zh');
});

test('no script errors on any page', () => {
  assert.deepEqual(errors, []);
});
