// outbox.test.js — nothing a viewer typed is lost: a question whose ack never came back is
// resent with the same id after a reconnect and exists once; a question typed while the server
// was unreachable survives closing the page and is sent by the next page load.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, createShow, staffQuestions, launchBrowser, watchErrors, waitFor, PHONE, useShow } from './helpers.js';

const fx = useShow({ premoderation: false });
const { errors } = fx;
let server;
let browser;
let show;
before(async () => { ({ server, browser, show } = await fx.setup()); });
after(() => fx.teardown());

test('a lost ack: the submit is resent with the same id and the question exists once', async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  watchErrors(page, 'viewer', errors);
  const submitIds = [];
  let dropped = false;
  // Forward everything, but the first time the server acks a question.submit, swallow the
  // ack and cut the connection: the server has committed the question, the page never heard.
  await page.routeWebSocket(/\/ws$/, (ws) => {
    const upstream = ws.connectToServer();
    ws.onMessage((m) => {
      const msg = JSON.parse(m);
      if (msg.type === 'question.submit') submitIds.push(msg.id);
      upstream.send(m);
    });
    upstream.onMessage((m) => {
      const parsed = JSON.parse(m);
      const list = Array.isArray(parsed) ? parsed : [parsed];
      if (!dropped && list.some((x) => x.type === 'ack' && submitIds.includes(x.re))) {
        dropped = true;
        ws.close({ code: 4000, reason: 'test drops the ack' });
        upstream.close();
        return;
      }
      ws.send(m);
    });
  });
  await page.goto(`${server.url}/s/${show.code}`);
  await page.locator('.conn[data-status="connected"]').waitFor();
  const text = '回执丢失的问题：小区停车位紧张，能否错时共享周边单位的车位？';
  await page.fill('#q-text', text);
  await page.click('#q-submit');
  await waitFor(() => dropped, { message: 'the ack to be dropped' });
  await page.locator('.toast', { hasText: '提交成功，问题已公开' }).waitFor({ timeout: 15_000 });
  assert.equal(submitIds.length, 2, 'sent twice');
  assert.equal(submitIds[0], submitIds[1], 'with the same id');
  const questions = (await staffQuestions(server, show.code)).filter((q) => q.text === text);
  assert.equal(questions.length, 1, 'one question on the server');
  await page.click('#tab-mine');
  assert.equal(await page.locator('#mine .v-q', { hasText: text }).count(), 1);
  await page.click('#tab-all');
  assert.equal(await page.locator('#list .v-q', { hasText: text }).count(), 1);
  await context.close();
});

test('refused for a passing reason (a cluster changing leader): resent after the delay, lands once', async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  watchErrors(page, 'viewer-retry', errors);
  const submits = [];
  let refused = 0;
  // The first two times the page sends the question, the "server" answers with the retryable
  // error a cluster node gives while the leader changes; the third goes through.
  await page.routeWebSocket(/\/ws$/, (ws) => {
    const upstream = ws.connectToServer();
    ws.onMessage((m) => {
      const msg = JSON.parse(m);
      if (msg.type === 'question.submit') {
        submits.push({ id: msg.id, at: Date.now() });
        if (refused < 2) {
          refused++;
          ws.send(JSON.stringify({ type: 'error', re: msg.id, code: 'internal', retry_after_ms: 400,
            message: 'the server leading the show did not answer; please try again' }));
          return;
        }
      }
      upstream.send(m);
    });
    upstream.onMessage((m) => ws.send(m));
  });
  await page.goto(`${server.url}/s/${show.code}`);
  await page.locator('.conn[data-status="connected"]').waitFor();
  const text = '换主节点时提交的问题：老旧小区的雨污分流什么时候改造？';
  await page.fill('#q-text', text);
  await page.click('#q-submit');
  await page.locator('.toast', { hasText: '提交成功，问题已公开' }).waitFor({ timeout: 15_000 });
  assert.equal(submits.length, 3, 'sent three times');
  assert.ok(submits.every((x) => x.id === submits[0].id), 'always with the same id');
  assert.ok(submits[1].at - submits[0].at >= 350, 'after the delay the server asked for');
  assert.equal((await staffQuestions(server, show.code)).filter((q) => q.text === text).length, 1);
  await context.close();
});

test('typed while the server is unreachable: kept across a page close, sent by the next load', async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  watchErrors(page, 'viewer-blocked', errors);
  // The first page never reaches the server: every WebSocket is closed at once.
  await page.routeWebSocket(/\/ws$/, (ws) => { ws.close({ code: 1011, reason: 'unreachable' }); });
  await page.goto(`${server.url}/s/${show.code}`);
  await page.locator('.conn[data-status="reconnecting"]').waitFor();
  const text = '离线保存的问题：电梯加装的费用怎么分摊？';
  await page.fill('#q-text', text);
  await page.click('#q-submit');
  await page.click('#tab-mine');
  await page.locator('.v-q.is-sending', { hasText: text }).waitFor();
  await page.close();
  assert.equal((await staffQuestions(server, show.code)).filter((q) => q.text === text).length, 0);

  const again = await context.newPage();
  watchErrors(again, 'viewer-again', errors);
  await again.goto(`${server.url}/s/${show.code}`);
  await again.locator('#list .v-q', { hasText: text }).waitFor({ timeout: 15_000 });
  await waitFor(async () => (await staffQuestions(server, show.code)).filter((q) => q.text === text).length === 1, { message: 'the question on the server' });
  // Reloading once more sends nothing twice.
  await again.reload();
  await again.locator('.conn[data-status="connected"]').waitFor();
  await again.waitForTimeout(500);
  assert.equal((await staffQuestions(server, show.code)).filter((q) => q.text === text).length, 1);
  await context.close();
});

test('errors are shown in plain language; the counter counts code points', async () => {
  const context = await browser.newContext(PHONE);
  const page = await context.newPage();
  watchErrors(page, 'viewer-errors', errors);
  await page.goto(`${server.url}/s/${show.code}`);
  await page.locator('.conn[data-status="connected"]').waitFor();
  // 498 Chinese characters and two emoji = 500 code points: allowed, 0 left.
  const long = '问'.repeat(498) + '😀😀';
  await page.fill('#q-text', long);
  await page.locator('#q-counter', { hasText: '还可输入 0 字' }).waitFor();
  await page.fill('#q-text', `${long}多`);
  await page.locator('#q-counter.is-over', { hasText: '已超出 1 字' }).waitFor();
  await page.click('#q-submit');
  await page.locator('.toast', { hasText: '内容太长了' }).waitFor();
  // Rate limit: the server allows 6 questions a minute by default; the 7th is refused with
  // the wait in seconds, and its text comes back into the box.
  for (let i = 1; i <= 7; i++) {
    await page.fill('#q-text', `第 ${i} 个测试问题`);
    await page.click('#q-submit');
    if (i < 7) await page.locator('.toast', { hasText: '提交成功' }).nth(0).waitFor();
  }
  await page.locator('.toast', { hasText: /操作太频繁了，请 \d+ 秒后再试/ }).waitFor();
  await waitFor(async () => (await page.inputValue('#q-text')) === '第 7 个测试问题', { message: 'text restored' });
  await context.close();
});

test('no script errors', () => {
  assert.deepEqual(errors.filter((e) => !/WebSocket|net::/.test(e)), []);
});
