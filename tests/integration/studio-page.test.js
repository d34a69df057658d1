// The viewer page's studio side over HTTP: share tags rendered and escaped for links pasted into
// WeChat or a browser, the page's own Content-Security-Policy (the session's stream, the sites
// that may frame it), the stream setting refused when it could carry a script or another host,
// and the join QR code decoded back to the link.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';

import { harness, makeTempDir, runForumd, setupSession } from './lib.js';
import { decodeQrPng, pngSize } from './qr.js';

async function get(srv, p, init = {}) {
  const res = await fetch(`${srv.url}${p}`, { ...init, signal: AbortSignal.timeout(5000) });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body, text: body.toString('utf8') };
}

/** The CSP's directives as a map: name -> [sources]. */
function policy(res) {
  const header = res.headers.get('content-security-policy');
  assert.ok(header, 'a Content-Security-Policy header');
  const out = {};
  for (const part of header.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) out[name] = sources;
  }
  return out;
}

const unescape = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"')
  .replace(/&#39;/g, "'").replace(/&amp;/g, '&');

/** The content of <meta {attr}="{name}" content="..."> (unescaped), or null. */
function metaOf(html, attr, name) {
  const m = html.match(new RegExp(`<meta ${attr}="${name.replace(/[.:]/g, '\\$&')}" content="([^"]*)">`));
  return m ? unescape(m[1]) : null;
}

const HLS = 'https://live.example.com/jiading/show.m3u8?token=a1b2';
const PLAYER = 'https://player.bilibili.com/player.html?bvid=BV1xx411c7mD&page=1';

test('share tags: title, programme and topic, escaped', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const title = '第五期</title><script>alert(1)</script>"onload="x\' & <b>';
  const programTitle = '书记论坛 "特别版" <img src=x onerror=alert(2)>';
  const topic = '加装电梯</TITLE><meta http-equiv="refresh" content="0;url=https://evil.example/">';
  const { code } = await setupSession(h, srv, { title, programTitle, topic });

  const r = await get(srv, `/s/${code}`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  const html = r.text;
  // nothing of the titles gets out of its text or attribute
  assert.equal(html.includes('<script>alert(1)'), false, 'no script element from the title');
  assert.equal(html.includes('<img src=x'), false, 'no element from the programme title');
  assert.equal(html.includes('http-equiv="refresh"'), false, 'no meta element from the topic');
  assert.equal((html.match(/<title>/g) || []).length, 1, 'one <title>');
  assert.equal((html.match(/<\/title>/gi) || []).length, 1, 'one </title>');
  const shown = html.match(/<title>([^<]*)<\/title>/);
  assert.ok(shown, 'the title element holds text only');
  assert.equal(unescape(shown[1]), `${title} · ${programTitle}`);
  assert.equal(metaOf(html, 'property', 'og:title'), title);
  assert.equal(metaOf(html, 'property', 'og:site_name'), programTitle);
  assert.ok(metaOf(html, 'property', 'og:description').startsWith(topic), 'the topic describes it');
  assert.match(metaOf(html, 'property', 'og:description'), /嘉宾：王书记、李主任、张教授/);
  assert.equal(metaOf(html, 'name', 'description'), metaOf(html, 'property', 'og:description'));
  assert.equal(metaOf(html, 'property', 'og:url'), `${srv.url.replace('127.0.0.1', '127.0.0.1')}/s/${code}`);
  const image = metaOf(html, 'property', 'og:image');
  assert.match(image, /^http:\/\/127\.0\.0\.1:\d+\/img\/share-card\.png$/);
  assert.equal(metaOf(html, 'itemprop', 'name'), title);
  // the images the tags name are served
  for (const img of [image, metaOf(html, 'itemprop', 'image')]) {
    const res = await fetch(img.replace(/^http:\/\/[^/]+/, srv.url));
    assert.equal(res.status, 200, img);
    assert.equal(res.headers.get('content-type'), 'image/png');
  }
  // the page itself is still the viewer page
  assert.match(html, /<script type="module" src="\/js\/viewer\.js"><\/script>/);

  // a code in lower case is the same session; HEAD has the length and no body
  const lower = await get(srv, `/s/${code.toLowerCase()}`);
  assert.equal(metaOf(lower.text, 'property', 'og:title'), title);
  const head = await get(srv, `/s/${code}`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(Number(head.headers.get('content-length')), r.body.length);
  assert.equal(head.body.length, 0);

  // no session: 404, the page (which says so), no share tags
  const none = await get(srv, '/s/NOSUCH');
  assert.equal(none.status, 404);
  assert.match(none.text, /viewer\.js/);
  assert.equal(metaOf(none.text, 'property', 'og:title'), null);
});

test('the viewer page names the session\'s stream in its policy, and nothing else', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { code, producer } = await setupSession(h, srv);

  let r = await get(srv, `/s/${code}`);
  let csp = policy(r);
  assert.deepEqual(csp['frame-ancestors'], ["'none'"]);
  assert.deepEqual(csp['connect-src'], ["'self'", 'ws:', 'wss:']);
  assert.deepEqual(csp['script-src'], ["'self'"]);
  assert.equal(csp['media-src'], undefined, 'no stream: no media sources');
  assert.equal(csp['frame-src'], undefined, 'no stream: no frames');
  assert.equal(r.headers.get('x-frame-options'), 'DENY');
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(metaOf(r.text, 'name', 'forum-stream'), '');

  const hls = await producer.ok('session.update', { session: code, stream: { kind: 'hls', url: HLS } });
  assert.deepEqual(hls.session.stream, { kind: 'hls', url: HLS });
  r = await get(srv, `/s/${code}`);
  csp = policy(r);
  assert.deepEqual(csp['media-src'], ['blob:', 'https://live.example.com']);
  assert.deepEqual(csp['connect-src'], ["'self'", 'ws:', 'wss:', 'https://live.example.com']);
  assert.equal(csp['frame-src'], undefined);
  assert.deepEqual(csp['script-src'], ["'self'"], 'a stream never adds script sources');
  assert.equal(metaOf(r.text, 'name', 'forum-stream'), `hls ${HLS}`);

  await producer.ok('session.update', { session: code, stream: { kind: 'embed', url: PLAYER } });
  r = await get(srv, `/s/${code}`);
  csp = policy(r);
  assert.deepEqual(csp['frame-src'], ['https://player.bilibili.com']);
  assert.equal(csp['media-src'], undefined);
  assert.deepEqual(csp['connect-src'], ["'self'", 'ws:', 'wss:']);
  assert.equal(metaOf(r.text, 'name', 'forum-stream'), `embed ${PLAYER}`);

  // viewers see it in the snapshot; a null clears it
  const viewer = await h.viewer(srv, code, {});
  assert.deepEqual(viewer.welcome.snapshot.session.stream, { kind: 'embed', url: PLAYER });
  await producer.ok('session.update', { session: code, stream: null });
  r = await get(srv, `/s/${code}`);
  assert.equal(policy(r)['frame-src'], undefined);

  // every other answer keeps the fixed policy
  for (const p of ['/producer', '/healthz', `/m/${code}`, `/overlay/${code}`, '/no-such-file', '/css/main.css']) {
    const other = await get(srv, p);
    const c = policy(other);
    assert.deepEqual(c['frame-ancestors'], ["'none'"], p);
    assert.equal(c['media-src'], undefined, p);
    assert.equal(other.headers.get('x-frame-options'), 'DENY', p);
  }
});

test('a leaked producer key cannot turn the stream into a script or another site', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { code, producer } = await setupSession(h, srv);
  await producer.ok('session.update', { session: code, stream: { kind: 'hls', url: HLS } });
  const attempts = [
    { kind: 'hls', url: 'javascript:alert(document.domain)' },
    { kind: 'hls', url: 'data:application/vnd.apple.mpegurl;base64,I0VYVE0zVQ==' },
    { kind: 'hls', url: 'https://live.example.com/x.m3u8"><script src=//evil.example/x.js></script>' },
    { kind: 'hls', url: "https://live.example.com/x.m3u8' onerror='alert(1)" },
    { kind: 'hls', url: 'https://live.example.com; script-src *' },
    { kind: 'hls', url: 'https://user:pw@live.example.com/x.m3u8' },
    { kind: 'hls', url: '//evil.example/x.m3u8' },
    { kind: 'embed', url: 'https://evil.example/player.html' },
    { kind: 'embed', url: 'https://player.bilibili.com.evil.example/player.html' },
    { kind: 'embed', url: 'http://player.bilibili.com/player.html' },
    { kind: 'embed', url: 'javascript:alert(1)//player.bilibili.com' },
    { kind: 'script', url: 'https://live.example.com/x.js' },
    { kind: 'hls' },
    'https://live.example.com/x.m3u8',
  ];
  for (const stream of attempts) {
    const r = await producer.request('session.update', { session: code, stream });
    assert.equal(r.type, 'error', JSON.stringify(stream));
    assert.equal(r.code, 'bad_request', JSON.stringify(stream));
    assert.equal(r.field, 'stream', JSON.stringify(stream));
  }
  const r = await get(srv, `/s/${code}`);
  assert.equal(metaOf(r.text, 'name', 'forum-stream'), `hls ${HLS}`, 'nothing changed');
  assert.deepEqual(policy(r)['media-src'], ['blob:', 'https://live.example.com']);
});

test('configuration: stream and player hosts, the sites that may frame the page, the public URL', { timeout: 40000 }, async (t) => {
  const h = harness(t);
  const dbPath = path.join(makeTempDir(), 'forum.db');
  let srv = await h.startServer({
    dbPath,
    args: ['--stream-hosts', 'live.example.com,*.cdn.example.net', '--embed-hosts', 'player.bilibili.com',
      '--frame-ancestors', 'https://www.jiading.gov.cn, https://*.jiading.gov.cn:8443',
      '--public-url', 'https://forum.jiading.gov.cn/live/'],
  });
  const producerKey = srv.producerKey;
  const { code, producer } = await setupSession(h, srv);
  assert.equal((await producer.request('session.update', { session: code, stream: { kind: 'hls', url: 'https://other.example/a.m3u8' } })).field, 'stream');
  await producer.ok('session.update', { session: code, stream: { kind: 'hls', url: 'https://edge1.cdn.example.net/a.m3u8' } });
  await producer.ok('session.update', { session: code, stream: { kind: 'embed', url: PLAYER } });
  const yt = await producer.request('session.update', { session: code, stream: { kind: 'embed', url: 'https://www.youtube.com/embed/x' } });
  assert.equal(yt.field, 'stream');
  assert.match(yt.message, /--embed-hosts/);

  let r = await get(srv, `/s/${code}`);
  assert.deepEqual(policy(r)['frame-ancestors'], ["'self'", 'https://www.jiading.gov.cn', 'https://*.jiading.gov.cn:8443']);
  assert.equal(r.headers.get('x-frame-options'), null, 'the portal may frame the viewer page');
  assert.equal(metaOf(r.text, 'property', 'og:url'), `https://forum.jiading.gov.cn/live/s/${code}`);
  assert.equal(metaOf(r.text, 'property', 'og:image'), 'https://forum.jiading.gov.cn/live/img/share-card.png');
  assert.equal(decodeQrPng((await get(srv, `/s/${code}/qr.png`)).body), `https://forum.jiading.gov.cn/live/s/${code}`);
  const producerPage = await get(srv, '/producer');
  assert.equal(producerPage.headers.get('x-frame-options'), 'DENY', 'consoles are never framed');
  assert.deepEqual(policy(producerPage)['frame-ancestors'], ["'none'"]);
  await srv.stop();

  // the player host is taken off the list: the session still replays, the page drops the player
  srv = await h.startServer({ dbPath, producerKey, args: ['--embed-hosts', ''] });
  const viewer = await h.viewer(srv, code, {});
  assert.deepEqual(viewer.welcome.snapshot.session.stream, { kind: 'embed', url: PLAYER });
  r = await get(srv, `/s/${code}`);
  assert.equal(policy(r)['frame-src'], undefined);
  assert.equal(metaOf(r.text, 'name', 'forum-stream'), '');

  for (const [flag, value] of [['--frame-ancestors', "https://a.example 'unsafe-inline'"],
    ['--frame-ancestors', 'javascript:alert(1)'], ['--frame-ancestors', 'https://a.example/path'],
    ['--public-url', 'ftp://forum.example'], ['--public-url', 'https://forum.example/?x=1'],
    ['--embed-hosts', 'a.example b.example'], ['--stream-hosts', 'https://a.example']]) {
    const run = await runForumd([flag, value, '--db', path.join(makeTempDir(), 'x.db'), '--no-demo'], 5000);
    assert.equal(run.timedOut, false, `${flag} ${value} must not start`);
    assert.notEqual(run.code, 0, `${flag} ${value}`);
    assert.match(run.stderr, new RegExp(flag.slice(2)), `${flag} ${value}: the message names the flag`);
  }
});

test('join QR code: SVG and PNG of the viewer link', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { code } = await setupSession(h, srv);
  const link = `${srv.url}/s/${code}`;

  const png = await get(srv, `/s/${code}/qr.png`);
  assert.equal(png.status, 200);
  assert.equal(png.headers.get('content-type'), 'image/png');
  assert.equal(decodeQrPng(png.body), link);
  const big = await get(srv, `/s/${code}/qr.png?scale=24`);
  assert.equal(decodeQrPng(big.body), link);
  assert.ok(pngSize(big.body).width > 2 * pngSize(png.body).width, 'scale makes it bigger');
  for (const bad of ['0', '41', 'abc', '5x', '-3']) {
    const r = await get(srv, `/s/${code}/qr.png?scale=${bad}`);
    assert.equal(r.status, 400, `scale=${bad}`);
  }

  const svg = await get(srv, `/s/${code}/qr.svg`);
  assert.equal(svg.status, 200);
  assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
  assert.match(svg.text, /^<\?xml[^>]*>\s*<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal(/<script|on\w+=/i.test(svg.text), false);

  const share = JSON.parse((await get(srv, `/s/${code}/share.json`)).text);
  assert.deepEqual(share, { code, url: link, qr_svg: `/s/${code}/qr.svg`, qr_png: `/s/${code}/qr.png` });

  for (const p of ['/s/NOSUCH/qr.png', '/s/NOSUCH/qr.svg', '/s/NOSUCH/share.json', `/s/${code}/qr.gif`]) {
    assert.equal((await get(srv, p)).status, 404, p);
  }
  assert.equal(decodeQrPng((await get(srv, `/s/${code.toLowerCase()}/qr.png`)).body), link);
});
