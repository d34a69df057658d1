// The nginx configuration of docs/cluster.md, run by nginx in front of two nodes: viewers
// connect through one address, land on both nodes, and a viewer whose node dies reconnects
// through the same address to the other node and resumes where it was.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { fileURLToPath } from 'node:url';

import { harness, makeTempDir, newToken, setupSession, sleep, withTimeout } from '../integration/lib.js';
import { freePort, metrics, Redis, startNode, waitLeader } from './clib.js';

const NGINX = process.env.NGINX || '/usr/sbin/nginx';
const KEY = `cluster-${newToken()}`;
const docs = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../docs/cluster.md');

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
  const nodes = [await startNode(redis, 'a', { producerKey: KEY }), await startNode(redis, 'b', { producerKey: KEY })];
  const h = harness(t);
  nodes.forEach((n) => h.track(n));
  t.after(() => redis.stop('SIGKILL'));
  await waitLeader(nodes);

  // The documented config, with this test's ports: the three upstream lines become our two
  // nodes, the listen port a free one; everything else is used as written.
  const port = await freePort();
  let conf = documentedConfig();
  const upstreams = [...conf.matchAll(/server 127\.0\.0\.1:(\d+)/g)];
  assert.equal(upstreams.length, 3);
  conf = conf.replace(/server 127\.0\.0\.1:8081/, `server 127.0.0.1:${nodes[0].port}`)
    .replace(/server 127\.0\.0\.1:8082/, `server 127.0.0.1:${nodes[1].port}`)
    .replace(/\n\s*server 127\.0\.0\.1:8083[^\n]*/, '')
    .replace('listen 8080;', `listen 127.0.0.1:${port};`)
    .replace('worker_connections 65536;', 'worker_connections 1024;');
  const dir = makeTempDir('forum-nginx-');
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
    const r = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null);
    if (r?.status === 200) break;
    if (i > 100) throw new Error(`nginx did not come up:\n${log}`);
    await sleep(50);
  }
  const viaNginx = { port, producerKey: KEY };

  const { code, moderatorKey } = await setupSession(h, viaNginx);
  const mod = await h.moderator(viaNginx, code, moderatorKey);
  const viewers = [];
  for (let i = 0; i < 6; i++) viewers.push(await h.viewer(viaNginx, code, { name: `观众${i}` }));
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
