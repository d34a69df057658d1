// TLS: with --tls-cert/--tls-key forumd serves https:// and
// wss:// on the same port; the Origin allowlist then names https://; a plaintext client gets no
// WebSocket. Uses a throwaway self-signed certificate made with the openssl CLI (skipped without it).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { test } from 'node:test';
import tls from 'node:tls';
import WebSocket from 'ws';

import { RawWs } from './rawws.js';
import { harness, makeTempDir, newToken, sleep, startForumd, withTimeout } from './rlib.js';

let openssl = null;
try { execFileSync('openssl', ['version'], { stdio: 'pipe' }); openssl = 'openssl'; } catch { /* none */ }

function httpsGet(port, p) {
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path: p, rejectUnauthorized: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

function wss(port, origin) {
  const ws = new WebSocket(`wss://127.0.0.1:${port}/ws`, ['forum.v1'], { rejectUnauthorized: false, origin, perMessageDeflate: false });
  return withTimeout(new Promise((resolve) => {
    ws.once('open', () => resolve({ ok: true, ws }));
    ws.once('unexpected-response', (_q, res) => resolve({ ok: false, status: res.statusCode }));
    ws.once('error', (e) => resolve({ ok: false, error: e.code ?? e.message }));
  }), 8000, 'wss connect');
}

test('TLS: https:// and wss:// with --tls-cert/--tls-key', { timeout: 60000, skip: openssl ? false : 'no openssl CLI to make a certificate' }, async (t) => {
  const h = harness(t);
  const dir = makeTempDir('forum-tls-');
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync(openssl, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'pipe' });
  const srv = h.track(await startForumd({ args: ['--tls-cert', cert, '--tls-key', key] }));
  assert.match(srv.stdout, /listening on https:\/\//, 'the listening line names https');

  const health = await httpsGet(srv.port, '/healthz');
  assert.equal(health.status, 200);
  assert.match(health.body, /"ok":\s*true/);

  // wss: a studio-wide producer creates a session; a viewer joins with the https origin
  const prod = await wss(srv.port);
  assert.ok(prod.ok, `wss connect: ${JSON.stringify(prod)}`);
  const reply = (ws, msg) => new Promise((resolve) => {
    const on = (d) => {
      const arr = [].concat(JSON.parse(d.toString()));
      const r = arr.find((m) => m.re === msg.id);
      if (r) { ws.off('message', on); resolve(r); }
    };
    ws.on('message', on);
    ws.send(JSON.stringify(msg));
  });
  const w = await reply(prod.ws, { type: 'hello', id: 'h', session: null, role: 'producer', token: srv.producerKey });
  assert.equal(w.type, 'welcome');
  const p = await reply(prod.ws, { type: 'program.create', id: 'p', title: '加密直播' });
  const s = await reply(prod.ws, { type: 'session.create', id: 's', program_id: p.program.id, title: '第一期' });
  await reply(prod.ws, { type: 'session.open', id: 'o', session: s.session.code });
  const v = await wss(srv.port, `https://127.0.0.1:${srv.port}`);
  assert.ok(v.ok, 'wss with the https own origin is accepted');
  const vw = await reply(v.ws, { type: 'hello', id: 'h', session: s.session.code, role: 'viewer', token: newToken() });
  assert.equal(vw.type, 'welcome');
  const q = await reply(v.ws, { type: 'question.submit', id: 'q', text: '加密连接上的提问' });
  assert.equal(q.type, 'ack');
  const foreign = await wss(srv.port, `http://127.0.0.1:${srv.port}`);
  assert.equal(foreign.ok, false, 'the http:// origin is foreign to a TLS server');

  // plaintext WebSocket on the TLS port: no upgrade
  const plain = await RawWs.handshake(srv.port, { timeoutMs: 3000 }).catch(() => ({ ok: false }));
  assert.equal(plain.ok, false, 'no plaintext WebSocket on a TLS port');
  if (plain.ws) plain.ws.destroy();
  prod.ws.close();
  v.ws.close();
});

/** The certificate the server presents to a new TLS client (its subject CN). */
function servedCN(port) {
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'forum.test' }, () => {
      const cn = sock.getPeerCertificate().subject?.CN;
      sock.end();
      resolve(cn);
    });
    sock.on('error', reject);
    sock.setTimeout(5000, () => sock.destroy(new Error('TLS handshake timeout')));
  });
}

test('SIGHUP loads a renewed certificate; a broken one is refused and the old one stays', { timeout: 60000, skip: openssl ? false : 'no openssl CLI to make a certificate' }, async (t) => {
  const h = harness(t);
  const dir = makeTempDir('forum-tls-');
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const make = (cn, k = key, c = cert) => execFileSync(openssl, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', k, '-out', c, '-days', '1', '-subj', `/CN=${cn}`], { stdio: 'pipe' });
  make('first.forum.test');
  const srv = h.track(await startForumd({ args: ['--tls-cert', cert, '--tls-key', key] }));
  assert.equal(await servedCN(srv.port), 'first.forum.test');
  const prod = await wss(srv.port);
  assert.ok(prod.ok, 'a connection before the renewal');

  make('renewed.forum.test'); // as certbot would: new files at the same paths
  srv.proc.kill('SIGHUP');
  await sleep(300);
  assert.equal(await servedCN(srv.port), 'renewed.forum.test', `the renewed certificate is served:\n${srv.stderr}`);
  assert.match(srv.stderr, /reload: TLS certificate loaded again from/);
  assert.equal(prod.ws.readyState, WebSocket.OPEN, 'connections made before stay');

  // a certificate that does not match its key: refused, the renewed one stays in use
  make('mismatch.forum.test', path.join(dir, 'other-key.pem'), cert);
  srv.proc.kill('SIGHUP');
  await sleep(300);
  assert.match(srv.stderr, /reload: cannot load the TLS certificate .* the previous certificate stays in use/, srv.stderr);
  assert.equal(await servedCN(srv.port), 'renewed.forum.test');
  writeFileSync(cert, 'not a certificate\n');
  srv.proc.kill('SIGHUP');
  await sleep(300);
  assert.equal(await servedCN(srv.port), 'renewed.forum.test');
  assert.ok(srv.running, 'SIGHUP never stops the server');
  prod.ws.close();
});
