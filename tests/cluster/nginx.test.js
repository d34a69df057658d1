// The nginx configuration of docs/cluster.md, run by nginx in front of two nodes: viewers
// connect through one TLS address, land on both nodes, and a viewer whose node dies reconnects
// through the same address to the other node and resumes where it was. Plain HTTP redirects to
// HTTPS, /metrics is not served on the public side, and the nodes (--trusted-proxy) see the
// viewers' addresses and accept pages served through nginx as same-origin.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

import { harness, makeTempDir, newToken, setupSession, sleep, withTimeout } from '../integration/lib.js';
import { freePort, metrics, Redis, startNode, waitLeader } from './clib.js';

const NGINX = process.env.NGINX || '/usr/sbin/nginx';
const KEY = `cluster-${newToken()}`;
const docs = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../docs/cluster.md');

function httpsGet(port, p, headers = {}) {
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path: p, headers, rejectUnauthorized: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

/** The config block that follows the nginx-example marker in docs/cluster.md. */
function documentedConfig() {
  const text = readFileSync(docs, 'utf8');
  const m = text.match(/<!-- nginx-example[^>]*-->\s*```nginx\n([\s\S]*?)```/);
  assert.ok(m, 'docs/cluster.md has the nginx example');
  return m[1];
}

test('the documented nginx configuration spreads viewers over the nodes and survives a node', async (t) => {
  assert.equal(spawnSync(NGINX, ['-v']).status, 0, `${NGINX} runs (scripts/install-deps.sh --test installs nginx-light)`);
  const redis = await Redis.start();
  const args = ['--trusted-proxy', '127.0.0.1', '--max-connections-per-address', '4'];
  const nodes = [await startNode(redis, 'a', { producerKey: KEY, args }), await startNode(redis, 'b', { producerKey: KEY, args })];
  const h = harness(t);
  nodes.forEach((n) => h.track(n));
  t.after(() => redis.stop('SIGKILL'));
  await waitLeader(nodes);

  // The documented config, with this test's ports and a throwaway certificate: the three
  // upstream lines become our two nodes, the listen ports free ones; everything else is used as
  // written.
  const port = await freePort();
  const plainPort = await freePort();
  const dir = makeTempDir('forum-nginx-');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'),
    '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'pipe' });
  let conf = documentedConfig();
  const upstreams = [...conf.matchAll(/server 127\.0\.0\.1:(\d+)/g)];
  assert.equal(upstreams.length, 3);
  for (const needed of ['listen 80;', 'listen 443 ssl;', 'ssl_certificate ', 'ssl_certificate_key ', 'location = /metrics']) {
    assert.ok(conf.includes(needed), `the documented config has ${needed}`);
  }
  conf = conf.replace(/server 127\.0\.0\.1:8081/, `server 127.0.0.1:${nodes[0].port}`)
    .replace(/server 127\.0\.0\.1:8082/, `server 127.0.0.1:${nodes[1].port}`)
    .replace(/\n\s*server 127\.0\.0\.1:8083[^\n]*/, '')
    .replace('listen 80;', `listen 127.0.0.1:${plainPort};`)
    .replace('listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`)
    .replace(/ssl_certificate +\S+;/, `ssl_certificate ${path.join(dir, 'cert.pem')};`)
    .replace(/ssl_certificate_key +\S+;/, `ssl_certificate_key ${path.join(dir, 'key.pem')};`)
    .replace('worker_connections 65536;', 'worker_connections 1024;');
  writeFileSync(path.join(dir, 'nginx.conf'), conf);
  // nginx in a process group of its own: its master and workers are stopped together (a
  // worker left behind would keep this test's pipes, and the test, alive).
  const proc = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', 'stderr',
    '-g', `daemon off; pid ${dir}/nginx.pid;`], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((r) => proc.on('exit', r));
  t.after(async () => {
    try { process.kill(-proc.pid, 'SIGTERM'); } catch { /* gone */ }
    await withTimeout(exited, 5000, 'nginx exit').catch(() => process.kill(-proc.pid, 'SIGKILL'));
    await sleep(100);
    try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* all gone */ }
    proc.stderr.destroy();
  });
  for (let i = 0; ; i++) {
    const r = await httpsGet(port, '/healthz').catch(() => null);
    if (r?.status === 200) break;
    if (i > 100) throw new Error(`nginx did not come up:\n${log}`);
    await sleep(50);
  }
  const viaNginx = { port, producerKey: KEY, secure: true };
  const redirect = await fetch(`http://127.0.0.1:${plainPort}/s/ABCDEF`, { redirect: 'manual' });
  assert.equal(redirect.status, 301, 'plain HTTP redirects');
  assert.equal(redirect.headers.get('location'), `https://127.0.0.1:${plainPort}/s/ABCDEF`.replace(`:${plainPort}`, ''));
  assert.equal((await httpsGet(port, '/metrics')).status, 404, '/metrics is not public');
  assert.equal((await metrics(nodes[0])).text.includes('forum_build_info'), true, 'but each node serves it');

  const { code, moderatorKey } = await setupSession(h, viaNginx);
  const mod = await h.moderator(viaNginx, code, moderatorKey);
  const viewers = [];
  // six viewers from six addresses, past the nodes' limit of 4 per address: the limit counts
  // each viewer's address, not nginx's (here the test's own address is loopback, a trusted
  // proxy too, so the address each viewer sends stands for the one nginx would have seen)
  for (let i = 0; i < 6; i++) {
    const c = await h.connect(viaNginx, { headers: { 'X-Forwarded-For': `203.0.113.${i + 1}` }, label: `观众${i}` });
    const token = newToken();
    const w = await c.hello(code, 'viewer', token, { name: `观众${i}` });
    assert.equal(w.type, 'welcome', JSON.stringify(w));
    viewers.push(Object.assign(c, { token }));
  }
  // a page served through nginx is same-origin for the nodes (https Origin, Host passed on)
  const page = await h.connect(viaNginx, { origin: `https://127.0.0.1:${port}`, headers: { Host: `127.0.0.1:${port}` } })
    .then(() => 'accepted', (e) => `refused ${e.statusCode ?? e.message}`);
  assert.equal(page, 'accepted', 'same-origin through the proxy');
  const counts = await Promise.all(nodes.map(async (n) => (await metrics(n)).text.match(/^forum_connections\{role="viewer"\} (\d+)$/m)[1]));
  assert.ok(counts.every((c) => Number(c) >= 2), `viewers spread over the nodes: ${counts}`);
  await mod.ok('panel.set', { banner: '第一段' });
  for (const v of viewers) await v.waitEvent('panel.changed', (e) => e.panel?.banner === '第一段');

  // Kill the node that is not the leader: its viewers reconnect through nginx and resume.
  const leader = await waitLeader(nodes);
  const victim = nodes.find((n) => n !== leader);
  await victim.kill();
  await sleep(200);
  const dropped = viewers.filter((v) => !v.isOpen);
  assert.ok(dropped.length >= 1, 'some viewers were on the killed node');
  const resumed = [];
  for (const v of dropped) {
    resumed.push(await withTimeout(h.viewer(viaNginx, code, { token: v.token, resume_from: v.lastSeq() }), 10000, 'resume through nginx'));
  }
  await mod.ok('panel.set', { banner: '第二段' });
  for (const v of [...resumed, ...viewers.filter((x) => x.isOpen)]) {
    await v.waitEvent('panel.changed', (e) => e.panel?.banner === '第二段', 10000);
  }
  for (const v of resumed) assert.equal(v.welcome.snapshot, undefined, 'resumed, not a fresh snapshot');
});
