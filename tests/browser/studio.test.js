// studio.test.js — the studio around the show, in a real browser: the session's HLS stream
// playing on the viewer page (served by a loopback HTTP server the test starts, as an encoder or
// CDN would), natively and through hls.js, with no Content-Security-Policy violation, and
// nothing else the page may load; a platform player in a sandboxed iframe (the player page is
// answered by the browser context itself: nothing leaves the machine); the producer console's
// stream setting, join QR code (decoded back to the link) and help; the overlay's QR corner;
// share titles. Screenshots in Chinese and English go to tests/browser/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startServer, createShow, launchBrowser, shot, watchErrors, waitFor, WsClient, repoRoot,
  PHONE, LAPTOP, STUDIO,
} from './helpers.js';
import { decodeQrPng } from '../integration/qr.js';

const FIXTURE = join(repoRoot, 'tests', 'browser', 'fixtures', 'hls');
const PLAYER_HOST = 'player.example.test';
const PLAYER_URL = `https://${PLAYER_HOST}/embed/show-4?autoplay=0`;
const NOWHERE = 'http://127.0.0.1:9'; // a port nothing listens on: only ever blocked

let server;
let browser;
let show;
let producer;
let hls; // {url, origin, requests, close}
const errors = [];
// Chromium reports a sandboxed frame's refused navigation of the page as a console error: that
// refusal is what the player test wants to see
const EXPECTED = /Unsafe attempt to initiate navigation|sandboxed and lacks the 'allow-top-navigation/;

/** Serves the HLS fixture (a 2-second 160x90 H.264 VOD playlist) on a loopback port, with the
 *  CORS header hls.js needs. Records the paths asked for. */
async function startHlsServer() {
  const requests = [];
  const types = { '.m3u8': 'application/vnd.apple.mpegurl', '.ts': 'video/mp2t' };
  const srv = http.createServer((req, res) => {
    const name = req.url.split('?')[0].replace(/^\/live\//, '');
    requests.push(name);
    const ext = name.slice(name.lastIndexOf('.'));
    if (!/^[a-z0-9]+\.(m3u8|ts)$/.test(name)) {
      res.writeHead(404).end();
      return;
    }
    let body;
    try { body = readFileSync(join(FIXTURE, name)); } catch (_) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': types[ext], 'access-control-allow-origin': '*', 'cache-control': 'no-cache' });
    res.end(body);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${srv.address().port}`;
  return { url: `${origin}/live/index.m3u8`, origin, requests, close: () => new Promise((r) => srv.close(r)) };
}

before(async () => {
  hls = await startHlsServer();
  server = await startServer(['--embed-hosts', PLAYER_HOST]);
  browser = await launchBrowser();
  show = await createShow(server, { premoderation: false });
  producer = show.producer;
});

after(async () => {
  if (producer) producer.close();
  if (browser) await browser.close();
  if (server) await server.stop();
  if (hls) await hls.close();
  assert.deepEqual(errors.filter((e) => !EXPECTED.test(e)), [], 'no page errors');
});

/** A page in its own context that records CSP violations in window.__csp. init: a script run
 *  before the page's own. */
async function openPage(name, options, path, { init, route, watch = true } = {}) {
  const context = await browser.newContext(options);
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.effectiveDirective} ${e.blockedURI}`));
  });
  if (init) await context.addInitScript(init);
  if (route) await route(context);
  const page = await context.newPage();
  if (watch) watchErrors(page, name, errors);
  const response = await page.goto(`${server.url}${path}`);
  return { context, page, response };
}

async function setStream(stream) {
  await producer.ok({ type: 'session.update', session: show.code, stream });
}

const violations = (page) => page.evaluate(() => window.__csp);

async function videoPlays(page) {
  await page.locator('#stream[data-state="playing"]').waitFor({ timeout: 15_000 });
  await waitFor(() => page.evaluate(() => {
    const v = document.querySelector('#stream video');
    return v && v.readyState >= 2 && v.videoWidth > 0;
  }), { timeout: 15_000, message: 'the video has frames' });
  return page.evaluate(() => {
    const v = document.querySelector('#stream video');
    return { width: v.videoWidth, height: v.videoHeight, mode: document.querySelector('#stream').dataset.mode };
  });
}

test('the HLS stream plays above the questions, natively where the browser can', async () => {
  await setStream({ kind: 'hls', url: hls.url });
  hls.requests.length = 0;
  const { page, response, context } = await openPage('viewer-hls', PHONE, `/s/${show.code}`);
  const csp = response.headers()['content-security-policy'];
  assert.match(csp, new RegExp(`media-src blob: ${hls.origin}(;|$)`));
  assert.match(csp, new RegExp(`connect-src 'self' ws: wss: ${hls.origin}(;|$)`));
  const native = await page.evaluate(() => Boolean(document.createElement('video').canPlayType('application/vnd.apple.mpegurl')));
  const played = await videoPlays(page);
  assert.deepEqual(played, { width: 160, height: 90, mode: native ? 'native' : 'hls.js' });
  assert.ok(hls.requests.includes('index.m3u8') && hls.requests.includes('seg0.ts'), `fetched ${hls.requests}`);
  // the video sits above the questions
  const [video, hero] = await Promise.all([page.locator('#stream').boundingBox(), page.locator('#hero').boundingBox()]);
  assert.ok(video.y < hero.y, 'the stream is above the session and its questions');
  await page.locator('.conn[data-status="connected"]').waitFor();
  await shot(page, 'studio-viewer-hls-zh');
  assert.deepEqual(await violations(page), []);
  await context.close();
});

test('hls.js plays it where the browser has no HLS of its own; on a phone the video moves aside while typing', async () => {
  await setStream({ kind: 'hls', url: hls.url });
  const loaded = [];
  const { page, context } = await openPage('viewer-hlsjs', { ...PHONE, locale: 'en-US' }, `/s/${show.code}`, {
    init: () => {
      const original = HTMLMediaElement.prototype.canPlayType;
      HTMLMediaElement.prototype.canPlayType = function canPlayType(type) {
        return /mpegurl/i.test(type) ? '' : original.call(this, type);
      };
    },
    route: (ctx) => ctx.on('request', (r) => loaded.push(new URL(r.url()).pathname)),
  });
  assert.deepEqual(await videoPlays(page), { width: 160, height: 90, mode: 'hls.js' });
  assert.ok(loaded.includes('/vendor/hls.light.min.mjs'), 'hls.js comes from forumd itself');
  await page.locator('.conn[data-status="connected"]').waitFor();
  assert.equal(await page.locator('#compose-title').textContent(), 'Ask the panel');
  await shot(page, 'studio-viewer-hls-en');
  await page.locator('#q-text').click();
  await page.locator('#stream.is-mini').waitFor();
  await page.locator('#q-text').fill('Could the square get benches before the summer?');
  const [mini, compose] = await Promise.all([page.locator('#stream').boundingBox(), page.locator('#q-text').boundingBox()]);
  assert.ok(mini.width < 390 * 0.6, `docked small (${mini.width}px)`);
  assert.ok(await page.evaluate(() => document.querySelector('#stream video').readyState >= 2), 'the same player goes on');
  await shot(page, 'studio-viewer-typing-en');
  assert.ok(compose.width > 0);
  await page.locator('#q-text').blur();
  await waitFor(async () => !(await page.locator('#stream').getAttribute('class')).includes('is-mini'), { message: 'undocked' });
  assert.deepEqual(await violations(page), []);
  await context.close();
});

test('the viewer page may load the stream and nothing else', async () => {
  await setStream({ kind: 'hls', url: hls.url });
  // (Chromium logs each refusal as a console error: expected here)
  const { page, context } = await openPage('viewer-csp', PHONE, `/s/${show.code}`, { watch: false });
  await videoPlays(page);
  // what an injected script would try: data to another host, a frame, a script from elsewhere
  await page.evaluate((nowhere) => {
    fetch(`${nowhere}/collect`).catch(() => {});
    const frame = document.createElement('iframe');
    frame.src = `${nowhere}/frame.html`;
    document.body.append(frame);
    const script = document.createElement('script');
    script.src = `${nowhere}/x.js`;
    document.head.append(script);
    const video = document.createElement('video');
    video.src = `${nowhere}/other.m3u8`;
    document.body.append(video);
  }, NOWHERE);
  await waitFor(async () => (await violations(page)).length >= 4, { message: 'four violations' });
  const seen = (await violations(page)).map((v) => v.split(' ')[0]).sort();
  assert.deepEqual(seen, ['connect-src', 'frame-src', 'media-src', 'script-src-elem']);
  await context.close();
});

test('a platform player plays in a sandboxed frame; a stream set after the page opened offers a reload', async () => {
  await setStream(null);
  const player = (ctx) => ctx.route(`https://${PLAYER_HOST}/**`, (route) => route.fulfill({
    contentType: 'text/html; charset=utf-8',
    body: '<!doctype html><body style="margin:0;display:flex;align-items:center;justify-content:center;height:100vh;background:#1f2937;color:#fff;font:600 28px sans-serif">'
      + '<p id="p">▶ 平台播放器</p><script>try { top.location.href = "about:blank"; } catch (e) { document.getElementById("p").dataset.blocked = "1"; }</script></body>',
  }));
  const { page, context } = await openPage('viewer-embed', PHONE, `/s/${show.code}`, { route: player });
  await page.locator('.conn[data-status="connected"]').waitFor();
  assert.equal(await page.locator('#stream').isHidden(), true, 'no stream: no player');

  await setStream({ kind: 'embed', url: PLAYER_URL });
  await page.locator('#stream[data-mode="reload"]').waitFor();
  await page.fill('#q-text', '直播画面换了以后，我写的问题还在吗？');
  await shot(page, 'studio-viewer-reload-zh');
  await page.click('#stream-reload');
  await page.locator('#stream[data-mode="embed"]').waitFor();
  assert.equal(await page.inputValue('#q-text'), '直播画面换了以后，我写的问题还在吗？', 'the draft survives the reload');
  const frame = page.locator('#stream iframe');
  assert.equal(await frame.getAttribute('src'), PLAYER_URL);
  const sandbox = (await frame.getAttribute('sandbox')).split(/\s+/);
  assert.ok(sandbox.includes('allow-scripts'));
  assert.equal(sandbox.some((s) => s.startsWith('allow-top-navigation')), false, 'the player cannot navigate the page');
  await page.frameLocator('#stream iframe').locator('#p').waitFor();
  await page.waitForTimeout(300);
  assert.equal(new URL(page.url()).pathname, `/s/${show.code}`, 'still on the viewer page');
  await shot(page, 'studio-viewer-embed-zh');
  assert.deepEqual(await violations(page), []);
  await context.close();
  await setStream(null);
});

test('share titles: the page is named after the session, and a hostile title stays text', async () => {
  const title = '第六期 <img src=x onerror="window.__pwned=1"> “居民议事厅”';
  const created = await producer.ok({ type: 'session.create', program_id: show.programId, title, topic: '</title><script>window.__pwned=2</script>' });
  const code = created.session.code;
  // what a link preview reads: the page as served, before any script runs
  const context = await browser.newContext({ ...PHONE, javaScriptEnabled: false });
  const bare = await context.newPage();
  await bare.goto(`${server.url}/s/${code}`);
  const served = await bare.evaluate(() => ({
    title: document.title,
    og: document.querySelector('meta[property="og:title"]').content,
    description: document.querySelector('meta[name="description"]').content,
    image: document.querySelector('meta[property="og:image"]').content,
  }));
  assert.deepEqual(served, {
    title: `${title} · 书记论坛`, og: title, description: '</title><script>window.__pwned=2</script>',
    image: `${server.url}/img/share-card.png`,
  });
  await context.close();
  const { page } = await openPage('viewer-title', PHONE, `/s/${code}`);
  await page.locator('#session-title').waitFor();
  await waitFor(async () => (await page.locator('#session-title').textContent()) === title, { message: 'title rendered' });
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'nothing in the title ran');
  assert.equal(await page.evaluate(() => document.title), `${title} · 书记论坛`);
  await page.context().close();
});

test('producer console: the stream setting, the join QR code for poster and screen, help', async () => {
  await setStream(null);
  const { page, context } = await openPage('producer', { ...LAPTOP, acceptDownloads: true }, '/producer');
  await page.fill('#login-key', server.producerKey);
  await page.click('#login-form button[type="submit"]');
  await page.locator('.prod-session-link', { hasText: show.code }).first().click();
  const card = page.locator('#qr-card');
  await card.waitFor();
  const link = `${server.url}/s/${show.code}`;
  await waitFor(async () => (await page.locator('#join-link').textContent()) === link, { message: 'the public join link' });
  await waitFor(() => page.evaluate(() => document.querySelector('#qr-image').complete && document.querySelector('#qr-image').naturalWidth > 0), { message: 'QR image loaded' });
  assert.equal(decodeQrPng(await page.locator('#qr-image').screenshot()), link, 'the QR code on the screen opens the viewer page');
  await card.scrollIntoViewIfNeeded();
  await shot(page, 'studio-producer-qr-zh');
  const png = await Promise.all([page.waitForEvent('download'), page.click('#qr-card a[data-qr="png"]')]);
  assert.equal(png[0].suggestedFilename(), `扫码提问-${show.code}.png`);
  assert.equal(decodeQrPng(readFileSync(await png[0].path())), link, 'the poster PNG too');

  await page.click('#qr-screen');
  await page.locator('.qr-screen').waitFor();
  await shot(page, 'studio-producer-qr-screen-zh');
  const big = await page.locator('.qr-screen-code').boundingBox();
  assert.ok(big.height > 500, `the screen view is big (${big.height}px)`);
  await page.keyboard.press('Escape');
  await waitFor(async () => (await page.locator('.qr-screen').count()) === 0, { message: 'closed' });

  // the stream setting: a watch-page link becomes the player's; a host the server does not allow is refused
  await page.click('button:has-text("编辑场次")');
  const form = page.locator('form[data-form="session"]');
  await form.locator('select[name="stream_kind"]').selectOption('embed');
  await form.locator('input[name="stream_url"]').fill('https://www.bilibili.com/video/BV1xx411c7mD?p=1');
  await form.locator('input[name="stream_url"]').blur();
  assert.equal(await form.locator('input[name="stream_url"]').inputValue(), 'https://player.bilibili.com/player.html?bvid=BV1xx411c7mD&autoplay=0');
  await form.locator('[data-section="stream"]').scrollIntoViewIfNeeded();
  await shot(page, 'studio-producer-stream-form-zh');
  await form.locator('button[type="submit"]').click();
  await page.locator('.toast', { hasText: '--embed-hosts' }).waitFor();
  await form.locator('select[name="stream_kind"]').selectOption('hls');
  await form.locator('input[name="stream_url"]').fill(hls.url);
  await form.locator('button[type="submit"]').click();
  await page.locator('.chip-stream[data-stream="hls"]').waitFor();
  const check = await WsClient.connect(server.url, { session: show.code, role: 'viewer', token: 'b'.repeat(32) });
  assert.deepEqual(check.welcome.snapshot.session.stream, { kind: 'hls', url: hls.url });
  check.close();

  await page.click('.prod-tool-link[data-view="help"]');
  await page.locator('.prod-help h2', { hasText: '直播画面' }).waitFor();
  await shot(page, 'studio-producer-help-zh', { fullPage: true });
  await page.click('[data-lang-toggle]');
  await page.locator('.prod-help h2', { hasText: 'Live video on the viewer page' }).waitFor();
  await shot(page, 'studio-producer-help-en', { fullPage: true });
  await page.locator('.prod-session-link', { hasText: show.code }).first().click();
  await page.locator('#qr-card .qr-card-scan', { hasText: 'Scan to ask' }).waitFor();
  await page.locator('#qr-card').scrollIntoViewIfNeeded();
  await shot(page, 'studio-producer-qr-en');
  await page.click('[data-lang-toggle]');
  assert.deepEqual(await violations(page), []);
  await context.close();
});

test('overlay: the join QR code with 扫码提问 and the code in a corner of the broadcast', async () => {
  for (const [query, name, corner] of [['?show=qr', 'studio-overlay-qr-zh', 'bottom-right'],
    ['?show=lower,poll,qr&lang=en&corner=top-left', 'studio-overlay-qr-en', 'top-left']]) {
    const { page, context } = await openPage(name, STUDIO, `/overlay/${show.code}${query}`);
    const qr = page.locator('#qr.is-visible');
    await qr.waitFor();
    const lang = query.includes('lang=en') ? 'en' : 'zh';
    assert.equal(await page.locator('#qr-scan').textContent(), lang === 'en' ? 'Scan to ask' : '扫码提问');
    assert.match(await page.locator('#qr-session').textContent(), new RegExp(show.code));
    const box = await qr.boundingBox();
    const right = box.x + box.width > 1920 / 2;
    const bottom = box.y + box.height > 1080 / 2;
    assert.equal(`${bottom ? 'bottom' : 'top'}-${right ? 'right' : 'left'}`, corner);
    assert.equal(decodeQrPng(await page.locator('#qr-code').screenshot()), `${server.url}/s/${show.code}`);
    await page.waitForTimeout(500); // the fade-in
    await shot(page, name);
    assert.deepEqual(await violations(page), []);
    await context.close();
  }
});
