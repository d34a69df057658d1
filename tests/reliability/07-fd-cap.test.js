// 7. Connection cap from the file-descriptor limit: forumd under `ulimit -n 256` accepts
// connections up to its cap (fd limit - 64 = 192 by default), refuses 100 more cleanly (no 101,
// no hang), the existing ones keep working, and once everything is closed the process's open
// descriptors return to their baseline. Then the same with 300 handshakes arriving at once (a
// burst that outruns the accept-time check), and with an explicit --max-connections.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';

import { RawWs } from './rawws.js';
import { harness, metric, newToken, pool, setupSession, short, sleep, startForumd, until } from './rlib.js';

const ULIMIT = 256;
const CAP = ULIMIT - 64; // net.c: max_connections = fd limit - 64 when not configured
const EXTRA = 100;

/** GET over a raw socket: 'HTTP <status>' or how the connection ended. */
function rawGet(port, path) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port }, () => sock.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let buf = '';
    const timer = setTimeout(() => { sock.destroy(); resolve('no answer in 3 s'); }, 3000);
    sock.on('data', (d) => { buf += d; });
    sock.on('error', (e) => { clearTimeout(timer); resolve(`connection ${e.code === 'ECONNRESET' ? 'reset' : e.code}`); });
    sock.on('close', () => { clearTimeout(timer); resolve(buf ? buf.split('\r\n')[0] : 'connection closed without an answer'); });
  });
}

async function openViewers(port, code, n, concurrency = 16) {
  return pool(Array.from({ length: n }, (_, i) => i), concurrency, async () => {
    const ws = await RawWs.open(port, { timeoutMs: 10000 });
    const w = await ws.hello(code, 'viewer', newToken());
    if (w.type !== 'welcome') throw new Error(`hello: ${short(w)}`);
    return ws;
  });
}

/** Handshakes that must be refused: resolves with how each ended. */
async function tryExtra(port, n) {
  return Promise.all(Array.from({ length: n }, async () => {
    const t0 = Date.now();
    const r = await RawWs.handshake(port, { timeoutMs: 8000 }).catch((e) => ({ ok: false, error: e.message, hung: true }));
    if (r.ok) r.ws.destroy();
    return { ok: r.ok, status: r.status ?? null, hung: !!r.hung, ms: Date.now() - t0 };
  }));
}

test(`fd cap: ${CAP} connections under ulimit -n ${ULIMIT}, ${EXTRA} more refused, descriptors back to baseline`, { timeout: 120000 }, async (t) => {
  const h = harness(t);
  const srv = h.track(await startForumd({ ulimitN: ULIMIT }));
  const { code, moderatorKey, producer } = await setupSession(h, srv);
  await producer.close();
  await sleep(300);
  const baseline = srv.fds();
  console.log(`# forumd (ulimit -n ${ULIMIT}) idle with no connection: ${baseline} open descriptors`);

  // up to the cap: one moderator and CAP - 1 viewers
  const mod = await h.moderator(srv, code, moderatorKey);
  const viewers = await openViewers(srv.port, code, CAP - 1);
  const atCap = srv.fds();
  console.log(`# at the cap (${CAP} WebSocket connections): ${atCap} descriptors`);

  // 100 more: refused cleanly, quickly, while the others stay
  const extra = await tryExtra(srv.port, EXTRA);
  const accepted = extra.filter((x) => x.ok).length;
  const hung = extra.filter((x) => x.hung).length;
  console.log(`# ${EXTRA} extra handshakes: ${accepted} accepted, ${EXTRA - accepted - hung} refused (TCP closed, no 101), ${hung} hung; ` +
    `slowest ${Math.max(...extra.map((x) => x.ms))} ms`);
  assert.equal(accepted, 0, 'no connection beyond the cap is accepted');
  assert.equal(hung, 0, 'no refused handshake hangs');
  assert.ok(srv.running, 'forumd is still running');
  // (at the cap, HTTP is refused too: /metrics and /healthz cannot be fetched until a slot frees)
  const health = await rawGet(srv.port, '/healthz');
  console.log(`# GET /healthz at the cap: ${health}`);

  // the existing connections keep working: a broadcast reaches every viewer, requests are answered
  const banner = `still-here-${Date.now()}`;
  await mod.ok('panel.set', { banner });
  await Promise.all(viewers.map((ws) => ws.waitObject((o) => o.kind === 'panel.changed' && o.panel?.banner === banner, 10000)));
  for (const ws of viewers.slice(0, 5)) {
    const r = await ws.request('question.submit', { text: '连接数满了以后还能提问吗？' });
    assert.equal(r.type, 'ack', short(r));
  }

  // a freed slot is usable again; the refusals were counted
  viewers.pop().destroy();
  await sleep(200);
  const refused = await metric(srv, 'forum_refused_connections_total');
  assert.ok(refused >= EXTRA, `the refusals are counted in /metrics (${refused})`);
  const again = await RawWs.open(srv.port);
  assert.equal((await again.hello(code, 'viewer', newToken())).type, 'welcome', 'a new viewer fits once one left');
  viewers.push(again);

  // everything closes: descriptors back to the baseline
  for (const ws of viewers) ws.destroy();
  await mod.close();
  const back = await until(() => (srv.fds() <= baseline ? srv.fds() : null), 10000, `descriptors back to ${baseline} (now ${srv.fds()})`);
  console.log(`# after closing everything: ${back} descriptors (baseline ${baseline})`);

  // a burst: 300 handshakes at once, more than the process has descriptors for. The accept-time
  // check alone cannot stop it (connections still in their handshake are not yet counted).
  const burstViewers = [];
  const stderrBefore = srv.stderr.length;
  const burstP = Promise.all(Array.from({ length: CAP + 108 }, async () => {
    const r = await RawWs.handshake(srv.port, { timeoutMs: 6000 }).catch(() => ({ ok: false, hung: true }));
    if (!r.ok) return r.hung ? 'hung' : 'refused';
    burstViewers.push(r.ws);
    const w = await r.ws.hello(code, 'viewer', newToken()).catch(() => null);
    return w?.type === 'welcome' ? 'welcome' : 'accepted-no-welcome';
  }));
  await sleep(1500);
  const cpu0 = srv.cpuMs();
  await sleep(2000);
  const cpuPct = ((srv.cpuMs() - cpu0) / 2000) * 100;
  const burst = await burstP;
  const tally = burst.reduce((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {});
  const errLines = srv.stderr.slice(stderrBefore).split('\n').filter(Boolean);
  console.log(`# burst of ${burst.length} simultaneous handshakes: ${short(tally)}; forumd CPU ${cpuPct.toFixed(0)}% while they waited; ` +
    `${errLines.length} stderr lines (${short(errLines[0] ?? '')}); forumd ${srv.running ? 'running' : `exited ${short(srv.exitInfo)}`}`);
  const problems = [];
  if (!srv.running) problems.push(`forumd died in the burst: ${short(srv.exitInfo)}`);
  if (tally.hung) problems.push(`${tally.hung} handshakes got no answer within 6 s (neither served nor refused)`);
  if ((tally.welcome ?? 0) > CAP) problems.push(`${tally.welcome} connections served, over the cap of ${CAP}`);
  if ((tally.welcome ?? 0) < CAP / 2) problems.push(`only ${tally.welcome ?? 0} of the burst were served`);
  if (cpuPct > 50) problems.push(`forumd used ${cpuPct.toFixed(0)}% CPU while out of descriptors (accept loop spinning?)`);
  if (errLines.length > 50) problems.push(`forumd wrote ${errLines.length} lines to stderr during the burst (log flood)`);
  for (const ws of burstViewers) ws.destroy();
  await until(() => srv.fds() <= baseline, 10000, `descriptors back to ${baseline} after the burst (now ${srv.fds()})`).catch((e) => problems.push(e.message));
  const fresh = await RawWs.open(srv.port).catch(() => null);
  const fw = fresh && (await fresh.hello(code, 'viewer', newToken()).catch(() => null));
  if (fw?.type !== 'welcome') problems.push('forumd does not accept a connection after the burst');
  fresh?.destroy();
  assert.deepEqual(problems, [], `a burst beyond the descriptor limit:\n  - ${problems.join('\n  - ')}`);
});

test('--max-connections: the configured cap is enforced the same way', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const cap = 40;
  const srv = h.track(await startForumd({ args: ['--max-connections', String(cap)] }));
  const { code, producer } = await setupSession(h, srv);
  await producer.close();
  await sleep(200);
  const baseline = srv.fds();
  const viewers = await openViewers(srv.port, code, cap);
  const extra = await tryExtra(srv.port, EXTRA);
  assert.equal(extra.filter((x) => x.ok).length, 0, `no connection beyond --max-connections ${cap}`);
  assert.equal(extra.filter((x) => x.hung).length, 0, 'refusals do not hang');
  const r = await viewers[0].request('question.submit', { text: '上限之内的连接照常工作' });
  assert.equal(r.type, 'ack', short(r));
  for (const ws of viewers) ws.destroy();
  await until(() => srv.fds() <= baseline, 10000, `descriptors back to ${baseline} (now ${srv.fds()})`);
});
