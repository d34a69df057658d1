// producer-tools.test.js — the producer console's studio tools in a real browser: registering
// outgoing webhooks (the signing secret shown once and verifying the test message a loopback
// receiver gets; a failing receiver's error shown in the list), and importing questions from a
// spreadsheet (a GBK CSV as Chinese spreadsheet programs save it, and an XLSX file the test
// builds): a preview with per-row errors before anything is written, and a second import of the
// same file adds nothing. Screenshots in tests/browser/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { startServer, createShow, launchBrowser, shot, watchErrors, waitFor, staffQuestions, LAPTOP } from './helpers.js';

let server;
let browser;
let show;
let rx;
const errors = [];

async function receiver() {
  const got = [];
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({ path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (req.url === '/broken') { res.writeHead(500); res.end('down for maintenance'); return; }
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { got, url: `http://127.0.0.1:${srv.address().port}`, close: () => new Promise((r) => srv.close(r)) };
}

before(async () => {
  rx = await receiver();
  server = await startServer(['--webhook-timeout-ms', '2000']);
  browser = await launchBrowser();
  show = await createShow(server, { premoderation: false });
});

after(async () => {
  if (show) show.producer.close();
  if (browser) await browser.close();
  if (server) await server.stop();
  if (rx) await rx.close();
  assert.deepEqual(errors, [], 'no page errors');
});

async function producerPage(name) {
  const context = await browser.newContext({ ...LAPTOP });
  const page = await context.newPage();
  watchErrors(page, name, errors);
  await page.goto(`${server.url}/producer`);
  await page.fill('#login-key', server.producerKey);
  await page.click('#login-form button[type="submit"]');
  await page.locator('#nav').waitFor();
  return { context, page };
}

test('producer console: webhooks are registered, tested and their failures shown', async () => {
  const { context, page } = await producerPage('producer-webhooks');
  await page.click('.prod-tool-link[data-view="webhooks"]');
  const form = page.locator('#hook-form');
  await form.waitFor();
  // a host on the LAN is refused with the server's reason
  await page.fill('#hook-url', 'http://192.168.1.20/hook');
  await page.click('#hook-save');
  await waitFor(async () => (await page.locator('.toast').allTextContents()).some((x) => /只能推送到本机/.test(x)), { message: 'the refusal' });
  assert.equal(await page.locator('.hook-item').count(), 0);

  await page.fill('#hook-url', `${rx.url}/newsroom`);
  await page.fill('#hook-name', '新闻中心');
  await page.click('#hook-save');
  const once = page.locator('#hook-secret-once');
  await once.waitFor();
  const secret = (await once.locator('.prod-link').textContent()).trim();
  assert.match(secret, /^[A-Za-z0-9]{32}$/);
  const item = page.locator('.hook-item', { hasText: '新闻中心' });
  await item.waitFor();
  await item.locator('button', { hasText: '发送测试' }).click();
  await waitFor(() => rx.got.find((g) => g.path === '/newsroom'), { message: 'the test message' });
  const msg = rx.got.find((g) => g.path === '/newsroom');
  const [, ts, mac] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(msg.headers['x-forum-signature']);
  assert.equal(crypto.createHmac('sha256', secret).update(`${ts}.${msg.body}`).digest('hex'), mac, 'the shown secret verifies the signature');
  assert.equal(JSON.parse(msg.body).event, 'webhook.test');
  await waitFor(async () => /已送达 1/.test(await item.textContent()), { timeout: 15_000, message: 'delivered count' });

  // a receiver that fails: its error is shown, and the show is not held up
  await page.fill('#hook-url', `${rx.url}/broken`);
  await page.fill('#hook-name', '街道群');
  await page.selectOption('#hook-preset', 'wecom');
  await page.click('#hook-save');
  const broken = page.locator('.hook-item', { hasText: '街道群' });
  await broken.waitFor();
  await broken.locator('button', { hasText: '发送测试' }).click();
  await waitFor(async () => /HTTP 500/.test(await broken.textContent()), { timeout: 15_000, message: 'the failure in the list' });
  await shot(page, 'producer-webhooks-zh');
  await page.click('[data-lang-toggle]');
  await waitFor(async () => /Last error/.test(await broken.textContent()), { message: 'English' });
  await shot(page, 'producer-webhooks-en');
  await page.click('[data-lang-toggle]');

  // removing it
  await broken.locator('button', { hasText: '删除' }).click();
  await page.locator('.dialog-actions .btn-danger').click();
  await waitFor(async () => (await page.locator('.hook-item', { hasText: '街道群' }).count()) === 0, { message: 'removed' });
  await context.close();
});
