// pages.test.js — the join page and the producer console in a real browser: sign in with the
// producer key, create a programme and a session with its panel and agenda, take the moderator
// link (it works), edit, rotate the key, watch live counts, download exports, run the session
// through open / live / ended / archived.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  startServer, launchBrowser, shot, watchErrors, waitFor, createShow, WsClient, PHONE, LAPTOP,
} from './helpers.js';

let server;
let browser;
const errors = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

test('producer console: programme, session, links, counts, exports, lifecycle', async (t) => {
  const context = await browser.newContext({ ...LAPTOP, acceptDownloads: true });
  const page = await context.newPage();
  watchErrors(page, 'producer', errors);
  let code;
  let moderatorLink;

  await t.test('the key is asked once; a wrong key is refused in plain language', async () => {
    await page.goto(`${server.url}/producer`);
    await page.locator('#login-form').waitFor();
    await shot(page, 'producer-login');
    await page.fill('#login-key', 'not-the-key-at-all');
    await page.click('#login-form button[type="submit"]');
    await page.locator('#login-error', { hasText: '密钥无效' }).waitFor();
    await page.fill('#login-key', server.producerKey);
    await page.click('#login-form button[type="submit"]');
    await page.locator('.prod-empty', { hasText: '欢迎使用节目制作台' }).waitFor();
    await shot(page, 'producer-empty');
    await page.reload();
    await page.locator('.prod-empty').waitFor(); // remembered in localStorage
  });

  await t.test('create a programme and a session with panel and agenda', async () => {
    await page.click('.prod-nav-head button');
    await page.fill('form[data-form="program"] input', '书记论坛');
    await page.fill('form[data-form="program"] textarea', '社区书记、居民代表和专家走进直播间，共商社区治理。');
    await page.click('form[data-form="program"] button[type="submit"]');
    const form = page.locator('form[data-form="session"]');
    await form.waitFor();
    await form.locator('input[name="title"]').fill('第四期 · 社区微改造，听听居民怎么说');
    await form.locator('input[name="topic"]').fill('社区微更新、微改造、微建设');
    await form.locator('input[name="scheduled_at"]').fill('2030-07-05T19:30');
    const rows = form.locator('.row-panelist');
    const panel = [['薄燕飞', '菊园新区社区自治办', '负责人'], ['石沂波', '嘉定区教师进修学院', '区政协委员'], ['徐晓峰', '上海江南建筑设计院', '设计专家']];
    await form.locator('button', { hasText: '添加嘉宾' }).click();
    for (let i = 0; i < panel.length; i++) {
      await rows.nth(i).locator('[data-f="name"]').fill(panel[i][0]);
      await rows.nth(i).locator('[data-f="affiliation"]').fill(panel[i][1]);
      await rows.nth(i).locator('[data-f="role"]').fill(panel[i][2]);
    }
    await form.locator('button', { hasText: '添加环节' }).click();
    await form.locator('button', { hasText: '添加环节' }).click();
    const segs = form.locator('.row-segment input');
    await segs.nth(0).fill('微改造的前期征询');
    await segs.nth(1).fill('设计与落地');
    await segs.nth(2).fill('居民点评');
    await form.locator('textarea[name="blocked_words"]').fill('广告、推销');
    await shot(page, 'producer-session-form', { fullPage: true });
    await form.locator('button[type="submit"]').click();

    await page.locator('.prod-title', { hasText: '第四期 · 社区微改造，听听居民怎么说' }).waitFor();
    await page.locator('.prod-key-new').waitFor();
    code = (await page.locator('.prod-kicker .c-code').textContent()).trim();
    assert.match(code, /^[A-Z2-9]{6}$/);
    moderatorLink = await page.locator('.prod-link-row', { hasText: '主持人链接' }).locator('.prod-link').textContent();
    assert.ok(moderatorLink.includes(`/m/${code}#key=`), moderatorLink);
    await page.locator('.prod-panelist', { hasText: '薄燕飞' }).waitFor();
    await page.locator('.prod-agenda li', { hasText: '居民点评' }).waitFor();
    await page.locator('.prod-settings', { hasText: '先审后发' }).waitFor();
  });

  await t.test('the moderator link opens the console', async () => {
    const mctx = await browser.newContext(LAPTOP);
    const mod = await mctx.newPage();
    watchErrors(mod, 'moderator', errors);
    await mod.goto(moderatorLink);
    // First join on this device: the key came with the link, the console asks who is moderating.
    await mod.locator('#login-name').fill('小李');
    await mod.click('#login-form button[type="submit"]');
    await mod.locator('.conn[data-status="connected"]').waitFor();
    await mod.locator('#session-title', { hasText: '社区微改造' }).waitFor();
    await mctx.close();
  });

  await t.test('open for questions; live counts follow the questions', async () => {
    await page.click('button[data-action="session.open"]');
    await page.locator('.prod-kicker .status-badge[data-status="open"]').waitFor();
    const vctx = await browser.newContext(PHONE);
    const viewer = await vctx.newPage();
    watchErrors(viewer, 'viewer', errors);
    await viewer.goto(`${server.url}/s/${code}`);
    await viewer.fill('#q-text', '小区里坐的地方都没有，能不能在中心广场添些座椅？');
    await viewer.click('#q-submit');
    await viewer.locator('.toast', { hasText: '提交成功' }).waitFor();
    const counts = page.locator('#counts');
    await waitFor(async () => (await counts.locator('.prod-count', { hasText: '待审核' }).locator('b').textContent()) === '1', { message: 'pending count 1' });
    await waitFor(async () => (await counts.locator('.prod-count', { hasText: '问题总数' }).locator('b').textContent()) === '1', { message: 'total 1' });
    await vctx.close();
  });

  await t.test('edit the session', async () => {
    await page.click('.prod-lifecycle button:has-text("编辑场次")');
    const form = page.locator('form[data-form="session"]');
    await form.locator('input[name="topic"]').fill('社区微改造：前期征询、设计与落地');
    await form.locator('button[type="submit"]').click();
    await page.locator('.prod-topic', { hasText: '前期征询、设计与落地' }).waitFor();
    await page.locator('.prod-panelist', { hasText: '徐晓峰' }).waitFor();
  });

  await t.test('rotate the moderator key: the old link stops working, the new one works', async () => {
    await page.click('.prod-link-row button:has-text("重新生成密钥")');
    await page.locator('dialog[open] button[type="submit"]').click();
    await page.locator('.toast', { hasText: '已生成新的主持人密钥' }).waitFor();
    const newLink = await page.locator('.prod-link-row', { hasText: '主持人链接' }).locator('.prod-link').textContent();
    assert.notEqual(newLink, moderatorLink);
    const mctx = await browser.newContext(LAPTOP);
    const oldMod = await mctx.newPage();
    watchErrors(oldMod, 'moderator-old', errors);
    await oldMod.goto(moderatorLink);
    await oldMod.locator('#login-name').fill('小李');
    await oldMod.click('#login-form button[type="submit"]');
    await oldMod.locator('#login-error', { hasText: '密钥无效' }).waitFor();
    const newMod = await mctx.newPage();
    await newMod.goto(newLink);
    await newMod.locator('.conn[data-status="connected"]').waitFor();
    await mctx.close();
  });

  await t.test('exports: transcript.json downloads with a readable file name', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button[data-export="transcript.json"]')]);
    assert.match(download.suggestedFilename(), new RegExp(`^第四期_·_社区微改造，听听居民怎么说-2030-07-05-${code}-transcript\\.json$`));
    const body = JSON.parse(readFileSync(await download.path(), 'utf8'));
    assert.equal(body.format, 'forum.transcript.v1');
  });

  await t.test('go live, end, archive', async () => {
    await page.click('button[data-action="session.start"]');
    await page.locator('dialog[open] button[type="submit"]').click();
    await page.locator('.prod-kicker .status-badge[data-status="live"]').waitFor();
    await page.waitForTimeout(300);
    await shot(page, 'producer-session');
    await page.click('button[data-action="session.end"]');
    await page.locator('dialog[open] button[type="submit"]').click();
    await page.locator('.prod-kicker .status-badge[data-status="ended"]').waitFor();
    await page.click('button[data-action="session.archive"]');
    await page.locator('dialog[open] button[type="submit"]').click();
    await page.locator('.prod-kicker .status-badge[data-status="archived"]').waitFor();
    await page.locator('.prod-session-link[aria-current="true"] .status-badge[data-status="archived"]').waitFor();
  });
  await context.close();
});

test('join page: a code opens the viewer page; a wrong one is explained', async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  watchErrors(page, 'join', errors);
  await page.goto(`${server.url}/`);
  await page.locator('.join-title', { hasText: '进入直播间' }).waitFor();
  await shot(page, 'join');
  await page.fill('#code', 'abc');
  await page.click('#join-form button[type="submit"]');
  await page.locator('#join-error', { hasText: '6 位' }).waitFor();
  await page.fill('#code', 'zzzz99');
  await page.click('#join-form button[type="submit"]');
  await page.waitForURL(/\/s\/ZZZZ99$/);
  await page.locator('.v-failure-title', { hasText: '没有找到这场论坛' }).waitFor();
  await shot(page, 'viewer-not-found');
  await context.close();
});

test('English follows the browser language', async () => {
  const context = await browser.newContext({ ...PHONE, locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(`${server.url}/`);
  await page.locator('.join-title', { hasText: 'Join the live forum' }).waitFor();
  await context.close();
});

test('the minutes view shows typed Markdown punctuation as typed, not as markup', async () => {
  const title = '# 第六期 **加粗** <b>粗</b> [链接](javascript:alert(1)) \\ #';
  const question = '1. *停车* _难_ | 怎么办？ &amp; `代码`';
  const { code, moderatorKey, producer } = await createShow(server, { premoderation: false });
  await producer.ok({ type: 'session.update', session: code, title });
  const viewer = await WsClient.connect(server.url, { session: code, role: 'viewer', token: randomBytes(16).toString('hex'), name: '**王**' });
  const { question: q } = await viewer.ok({ type: 'question.submit', text: question });
  const mod = await WsClient.connect(server.url, { session: code, role: 'moderator', token: moderatorKey, name: '主持人' });
  await mod.ok({ type: 'onair.set', question_id: q.id });
  viewer.close();
  mod.close();
  producer.close();
  const context = await browser.newContext(LAPTOP);
  const page = await context.newPage();
  watchErrors(page, 'minutes', errors);
  await page.goto(`${server.url}/`);
  const shown = await page.evaluate(async ({ code, key }) => {
    const { renderMarkdown } = await import('/js/markdown.js');
    const res = await fetch(`/api/sessions/${code}/transcript.md`, { headers: { authorization: `Bearer ${key}` } });
    const doc = document.createElement('div');
    doc.append(renderMarkdown(await res.text()));
    return {
      heading: doc.querySelector('h2.md-h1').textContent,
      items: [...doc.querySelectorAll('li')].map((li) => li.textContent),
      elements: [...doc.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()),
    };
  }, { code, key: server.producerKey });
  assert.equal(shown.heading, `书记论坛：${title}`);
  assert.ok(shown.items.some((t) => t.includes(question)), `the question as typed in ${JSON.stringify(shown.items)}`);
  assert.ok(shown.items.some((t) => t.includes('**王**')), 'the name as typed');
  assert.deepEqual([...new Set(shown.elements)].filter((t) => !['h2', 'h3', 'h4', 'ul', 'ol', 'li', 'p', 'span', 'br'].includes(t)), []);
  await context.close();
});

test('no script errors', () => {
  assert.deepEqual(errors.filter((e) => !/WebSocket|net::|401|404/.test(e)), []);
});
