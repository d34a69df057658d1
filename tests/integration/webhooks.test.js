// Outgoing webhooks, as a newsroom, the district's group chats and an attacker see them: a
// receiver on this machine gets the show's moments as signed JSON (X-Forum-Signature over
// "t.body"), in order; a receiver that answers 500 or is down gets them later (retries with
// backoff), and so after a restart of forumd; failures show in /metrics and in the producer's
// view of the webhooks. Only loopback and configured hosts may be registered; redirects are not
// followed, long answers are cut off, slow receivers time out, and none of it holds up the show.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';

import { harness, makeTempDir, setupSession, sleep } from './lib.js';

/** A receiver on 127.0.0.1: records each request; handler(req, res, body) may answer (else 200). */
async function receiver(t, handler, port = 0) {
  const got = [];
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const entry = { path: req.url, headers: req.headers, body, at: Date.now() };
      got.push(entry);
      if (handler && handler(req, res, entry) !== false) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"errcode":0}');
    });
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const close = () => new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
  t.after(close);
  return { got, port: server.address().port, url: `http://127.0.0.1:${server.address().port}`, close };
}

async function waitUntil(pred, ms, what) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function verify(secret, entry) {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(entry.headers['x-forum-signature'] ?? '');
  assert.ok(m, `signature header: ${entry.headers['x-forum-signature']}`);
  const mac = crypto.createHmac('sha256', secret).update(`${m[1]}.${entry.body}`).digest('hex');
  assert.equal(m[2], mac, 'the signature verifies with the secret');
  assert.ok(Math.abs(Number(m[1]) - Date.now() / 1000) < 300, 'timestamped now');
}

async function metric(srv, name) {
  const text = await (await fetch(`${srv.url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

async function deliveries(srv) {
  const res = await fetch(`${srv.url}/api/webhooks`, { headers: { authorization: `Bearer ${srv.producerKey}` } });
  assert.equal(res.status, 200);
  return (await res.json()).webhooks;
}

test('a webhook gets the show\'s moments signed and in order, and a receiver that fails gets them later', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  let fail = 2;
  const rx = await receiver(t, (req, res) => {
    if (fail > 0) { fail--; res.writeHead(500); res.end('busy'); return; }
    return false;
  });
  const srv = await h.startServer();
  const studio = await h.producer(srv);
  const { code, moderatorKey, producer } = await setupSession(h, srv, { producer: studio });
  const created = await studio.ok('webhook.create', {
    url: `${rx.url}/forum`, name: '新闻中心',
    events: ['question.on_air', 'question.answered', 'commitment.created', 'session.started', 'session.ended', 'session.archived'],
  });
  const secret = created.secret;
  assert.match(secret, /^[A-Za-z0-9]{32}$/);
  // a host on the LAN (or the cloud's metadata service) is refused, and nothing is registered
  for (const url of ['http://10.0.0.8/hook', 'http://169.254.169.254/latest', 'http://127.0.0.1.nip.io/x']) {
    const r = await studio.request('webhook.create', { url, events: ['session.started'] });
    assert.equal(r.type, 'error');
    assert.equal(r.code, 'forbidden', url);
  }

  await producer.ok('session.start', { session: code });
  const mod = await h.moderator(srv, code, moderatorKey);
  const q = (await mod.ok('question.submit', { text: '加装电梯的补贴什么时候发？<@all> [点我](http://x)', author: '刘阿姨', to: 2 })).question;
  await mod.ok('onair.set', { question_id: q.id }).catch(() => mod.ok('onair.next'));
  await mod.ok('question.answered', { question_id: q.id, note: '三季度发放' });
  await producer.ok('action.create', { session: code, text: '三季度发放补贴', owner: '区住建局', question_id: q.id });
  await producer.ok('session.end', { session: code });
  await producer.ok('session.archive', { session: code });

  const want = ['session.started', 'question.on_air', 'question.answered', 'commitment.created', 'session.ended', 'session.archived'];
  await waitUntil(() => rx.got.filter((e) => e.path === '/forum').length >= want.length + 2, 20000,
    'every moment, after two 500s');
  const bodies = rx.got.slice(2).map((e) => JSON.parse(e.body));
  assert.deepEqual(bodies.map((b) => b.event), want, 'in order, none lost, none twice');
  for (const e of rx.got) verify(secret, e);
  // the first attempt and its retry carry the same delivery id
  assert.equal(rx.got[0].headers['x-forum-delivery'], rx.got[2].headers['x-forum-delivery']);
  assert.equal(rx.got[2].headers['x-forum-event'], 'session.started');
  const onAir = bodies[1];
  assert.equal(onAir.session.code, code);
  assert.equal(onAir.question.text, q.text);
  assert.equal(onAir.question.author, '刘阿姨');
  assert.equal(onAir.question.to.name, '李主任');
  assert.ok(!JSON.stringify(bodies).includes('viewer_id'), 'no viewer ids leave the studio');
  assert.equal(bodies[2].question.answer_note, '三季度发放');
  assert.equal(bodies[3].commitment.owner, '区住建局');

  assert.ok(await metric(srv, 'forum_webhook_failures_total') >= 2);
  assert.equal(await metric(srv, 'forum_webhook_outbox_pending'), 0);
  const [status] = await deliveries(srv);
  assert.equal(status.id, created.webhook.id);
  assert.equal(status.delivery.delivered, want.length);
  assert.equal(status.delivery.pending, 0);
  assert.equal(status.delivery.last_status, 200);
  // the view needs the producer key
  assert.equal((await fetch(`${srv.url}/api/webhooks`)).status, 401);
});

test('deliveries owed while the receiver is down survive a restart of forumd and go out after it', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const dbPath = path.join(makeTempDir(), 'forum.db');
  // a port nobody listens on (yet)
  const probe = await receiver(t);
  const port = probe.port;
  await probe.close();
  let srv = await h.startServer({ dbPath });
  const key = srv.producerKey;
  const studio = await h.producer(srv);
  const created = await studio.ok('webhook.create', { url: `http://127.0.0.1:${port}/down`, events: ['session.started'] });
  const { code, producer } = await setupSession(h, srv, { producer: studio });
  await producer.ok('session.start', { session: code });
  await waitUntil(async () => (await deliveries(srv))[0].delivery.last_error, 10000, 'a failed attempt');
  const [status] = await deliveries(srv);
  assert.equal(status.delivery.pending, 1);
  assert.match(status.delivery.last_error, /connect/i);
  assert.ok(await metric(srv, 'forum_webhook_outbox_pending') >= 1);
  assert.ok(await metric(srv, 'forum_webhook_failures_total') >= 1);
  await srv.stop();

  const rx = await receiver(t, null, port);
  srv = await h.startServer({ dbPath, producerKey: key });
  await waitUntil(() => rx.got.length >= 1, 15000, 'the delivery after the restart');
  const body = JSON.parse(rx.got[0].body);
  assert.equal(body.event, 'session.started');
  assert.equal(body.session.code, code);
  verify(created.secret, rx.got[0]);
  await waitUntil(async () => (await metric(srv, 'forum_webhook_outbox_pending')) === 0, 5000, 'an empty outbox');
  await sleep(1500);
  assert.equal(rx.got.length, 1, 'delivered once');
});

test('robots get markdown without links or mentions from residents; configured hosts only', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const rx = await receiver(t);
  const srv = await h.startServer({ args: ['--webhook-hosts', 'qyapi.weixin.qq.com,*.feishu.cn'] });
  const studio = await h.producer(srv);
  // configured hosts may be registered (they are not called here), others not
  await studio.ok('webhook.create', { url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k', preset: 'wecom', events: ['session.ended'], enabled: false });
  await studio.ok('webhook.create', { url: 'https://open.feishu.cn/open-apis/bot/v2/hook/x', preset: 'feishu', events: ['session.ended'], enabled: false });
  const refused = await studio.request('webhook.create', { url: 'https://oapi.dingtalk.com/robot/send?access_token=x', preset: 'dingtalk', events: ['session.ended'] });
  assert.equal(refused.code, 'forbidden');

  for (const preset of ['wecom', 'dingtalk', 'feishu']) {
    await studio.ok('webhook.create', { url: `${rx.url}/${preset}`, preset, events: ['question.on_air'], ...(preset === 'wecom' ? {} : { secret: 'robot-secret' }) });
  }
  const { code, moderatorKey, producer } = await setupSession(h, srv, { producer: studio });
  await producer.ok('session.start', { session: code });
  const mod = await h.moderator(srv, code, moderatorKey);
  const q = (await mod.ok('question.submit', { text: '物业费\n## 标题 <@all> [链接](http://evil.example) @所有人', author: '王*' })).question;
  await mod.ok('onair.set', { question_id: q.id }).catch(() => mod.ok('onair.next'));
  await waitUntil(() => rx.got.length >= 3, 10000, 'three robot messages');
  const by = Object.fromEntries(rx.got.map((e) => [e.path.split('?')[0].slice(1), e]));
  const wecom = JSON.parse(by.wecom.body);
  assert.equal(wecom.msgtype, 'markdown');
  const md = wecom.markdown.content;
  assert.match(md, /正在回答/);
  assert.match(md, /物业费/);
  for (const bad of ['<@all>', '](', '\n## ', '@所有人']) assert.ok(!md.includes(bad), `no ${JSON.stringify(bad)} in ${md}`);
  const ding = JSON.parse(by.dingtalk.body);
  assert.equal(ding.msgtype, 'markdown');
  assert.ok(ding.markdown.title && ding.markdown.text.includes('物业费'));
  const u = new URL(by.dingtalk.path, rx.url);
  const ts = u.searchParams.get('timestamp');
  const sign = crypto.createHmac('sha256', 'robot-secret').update(`${ts}\nrobot-secret`).digest('base64');
  assert.equal(u.searchParams.get('sign'), sign, 'DingTalk signature');
  const feishu = JSON.parse(by.feishu.body);
  assert.equal(feishu.msg_type, 'interactive');
  assert.match(feishu.card.elements[0].content, /物业费/);
  const fsign = crypto.createHmac('sha256', `${feishu.timestamp}\nrobot-secret`).update('').digest('base64');
  assert.equal(feishu.sign, fsign, 'Feishu signature');
});

test('redirects are not followed, long answers are cut off, slow receivers time out, and the show goes on', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  let hugeClosedEarly = null;
  const rx = await receiver(t, (req, res, entry) => {
    if (entry.path === '/redirect') {
      res.writeHead(302, { location: `http://127.0.0.1:${rx.port}/target` });
      res.end();
      return;
    }
    if (entry.path === '/huge') {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let sent = 0;
      const pump = () => {
        while (sent < 50 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) { res.once('drain', pump); return; }
        }
        hugeClosedEarly = false;
        res.end();
      };
      res.on('close', () => { if (hugeClosedEarly === null) hugeClosedEarly = sent < 50 * 1024 * 1024; });
      pump();
      return;
    }
    if (entry.path === '/slow') return; // never answers
    return false;
  });
  const srv = await h.startServer({ args: ['--webhook-timeout-ms', '8000'] });
  const studio = await h.producer(srv);
  const ids = {};
  for (const p of ['redirect', 'huge', 'slow', 'fast']) {
    ids[p] = (await studio.ok('webhook.create', { url: `${rx.url}/${p}`, events: ['session.started', 'question.on_air'] })).webhook.id;
  }
  const { code, producer, moderatorKey } = await setupSession(h, srv, { producer: studio });
  await producer.ok('session.start', { session: code });
  // the show goes on while the receivers misbehave
  const mod = await h.moderator(srv, code, moderatorKey);
  const started = Date.now();
  for (let i = 0; i < 5; i++) await mod.ok('question.submit', { text: `现场问题 ${i}` });
  // (a delivery on the request path would hold them for the 8 s of the slow receiver)
  assert.ok(Date.now() - started < 6000, 'requests are answered while deliveries hang');
  await waitUntil(() => rx.got.some((e) => e.path === '/fast'), 5000, 'the well-behaved receiver');
  await waitUntil(async () => {
    const all = await deliveries(srv);
    const s = Object.fromEntries(all.map((w) => [w.id, w.delivery]));
    return s[ids.redirect].last_status === 302 && s[ids.slow].last_error && hugeClosedEarly !== null;
  }, 30000, 'the redirect, huge and slow attempts');
  assert.ok(!rx.got.some((e) => e.path === '/target'), 'the redirect was not followed');
  assert.equal(hugeClosedEarly, true, 'forumd stopped reading the endless answer');
  const s = Object.fromEntries((await deliveries(srv)).map((w) => [w.id, w.delivery]));
  assert.match(s[ids.redirect].last_error, /302/);
  assert.match(s[ids.slow].last_error, /time/i);
  assert.equal(s[ids.fast].pending, 0);
  assert.ok(await metric(srv, 'forum_webhook_failures_total') >= 2);
});
