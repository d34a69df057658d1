// Running forumd as a service: the descriptor limit raised at start, SIGHUP (re-read the config,
// reopen the log file, never stop), readiness (/readyz) apart from liveness (/healthz), systemd's
// notify protocol, log levels and the journal's priority prefixes, /metrics on a private port.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { RawWs } from '../reliability/rawws.js';
import { FORUMD, harness, makeTempDir, newToken, ServerProcess, setupSession, sleep, withTimeout } from './lib.js';

async function get(port, p, timeoutMs = 3000) {
  const r = await fetch(`http://127.0.0.1:${port}${p}`, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: r.status, text: await r.text() };
}
const metric = (text, name) => Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1]);

/** Waits until f() is truthy (polling), or fails with message. */
async function until(f, message, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timeout: ${message}`);
    await sleep(50);
  }
}

test('the soft descriptor limit is raised to the hard one; the capacity is printed and in /metrics', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = h.track(new ServerProcess({ args: [], bin: 'bash', rawArgs: ['-c', 'ulimit -S -n 512 && ulimit -H -n 4096 && exec "$0" "$@"',
    FORUMD, '--port', '0', '--bind', '127.0.0.1', '--db', path.join(makeTempDir(), 'f.db'), '--no-demo', '--producer-key', newToken() + newToken()] }));
  await srv.ready(10000);
  assert.match(srv.stdout, /^descriptor limit: 4096 \(raised from 512\)$/m, srv.describe());
  assert.match(srv.stdout, /^capacity: 4032 WebSocket connections at once$/m);
  const m = (await get(srv.port, '/metrics')).text;
  assert.equal(metric(m, 'forum_connections_max'), 4032);
  assert.equal(metric(m, 'process_max_fds'), 4096);
  assert.ok(metric(m, 'process_open_fds') > 0);
  const limits = readFileSync(`/proc/${srv.pid}/limits`, 'utf8');
  assert.match(limits, /Max open files\s+4096\s+4096/, limits);
});

test('SIGHUP re-reads the config: live settings apply, the rest is reported; it never stops the server', { timeout: 40000 }, async (t) => {
  const h = harness(t);
  const dir = makeTempDir();
  const cfg = path.join(dir, 'forumd.conf');
  const log = path.join(dir, 'forumd.log');
  writeFileSync(cfg, 'max-connections-per-address = 50\nrate-votes-per-sec = 10\n');
  const srv = await h.startServer({ args: ['--config', cfg, '--log-file', log] });
  const { code } = await setupSession(h, srv);
  const viewer = await h.viewer(srv, code, { name: '老观众' });
  const q = (await viewer.ok('question.submit', { text: '重载以后还能投票吗？' })).question.id;

  // one of each kind of change: live (limits, origins, log level), and one that needs a restart
  writeFileSync(cfg, [
    'max-connections-per-address = 4', 'rate-votes-per-sec = 1', 'origin = https://studio.example.org',
    'log-level = debug', 'max-question-chars = 100', '# a comment', '',
  ].join('\n'));
  srv.proc.kill('SIGHUP');
  await until(() => existsSync(log) && /reload: \d+ changes? applied/.test(readFileSync(log, 'utf8')), 'reload logged');
  let text = readFileSync(log, 'utf8');
  assert.match(text, /info: reload: --max-connections-per-address 50 -> 4/);
  assert.match(text, /info: reload: --rate-votes-per-sec 10 -> 1/);
  assert.match(text, /info: reload: --origin \(none\) -> https:\/\/studio\.example\.org/);
  assert.match(text, /warning: reload: --max-question-chars changed \(500 -> 100\) but needs a restart; still 500/);
  assert.match(text, /reload: 4 changes applied, 1 needs a restart/);
  assert.ok(srv.running, 'still running');
  assert.ok(viewer.isOpen, 'the viewer stayed connected');
  // the new values are in force
  const fresh = await h.viewer(srv, code, { name: '新观众' });
  assert.equal((await fresh.request('vote.add', { question_id: q })).type, 'ack');
  const second = await fresh.request('vote.remove', { question_id: q });
  assert.equal(second.code, 'rate_limited', `1 vote per second now: ${JSON.stringify(second)}`);
  const more = [];
  for (let i = 0; i < 4; i++) more.push(await h.connect(srv).then(() => 'ok', () => 'refused'));
  assert.deepEqual(more.filter((x) => x === 'refused').length >= 1, true, `4 per address: ${more}`);
  assert.equal(await h.connect(srv, { origin: 'https://studio.example.org' }).then(() => 'ok', () => 'refused'), 'refused',
    'per-address cap still applies');

  // logrotate: the file is moved, SIGHUP reopens the path
  renameSync(log, `${log}.1`);
  srv.proc.kill('SIGHUP');
  await until(() => existsSync(log) && /reload: SIGHUP received/.test(readFileSync(log, 'utf8')), 'a new log file');
  assert.match(readFileSync(`${log}.1`, 'utf8'), /reload: 4 changes applied/, 'the old file keeps its lines');

  // a config that does not parse: logged, nothing changes, still serving
  writeFileSync(cfg, 'max-connections-per-address = many\n');
  srv.proc.kill('SIGHUP');
  await until(() => /reload: --max-connections-per-address wants a number.*nothing changed/.test(readFileSync(log, 'utf8')), 'bad config logged');
  assert.ok(srv.running);
  assert.equal((await get(srv.port, '/healthz')).status, 200);
  // many SIGHUPs in a row
  for (let i = 0; i < 20; i++) srv.proc.kill('SIGHUP');
  await sleep(300);
  assert.ok(srv.running, 'a burst of SIGHUPs');
  assert.ok(viewer.isOpen);
  text = readFileSync(log, 'utf8');
  assert.doesNotMatch(text, /Sanitizer|runtime error/);
  assert.equal(srv.stdout.includes('reload'), false, 'log lines go to the log file, not stdout');
});

test('/readyz is 503 while draining; /healthz stays 200 (liveness)', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  assert.deepEqual([(await get(srv.port, '/readyz')).status, (await get(srv.port, '/healthz')).status], [200, 200]);
  assert.equal(JSON.parse((await get(srv.port, '/readyz')).text).ready, true);
  const { code } = await setupSession(h, srv);
  // a client that never answers the close frame keeps the drain going for up to 3 s
  const raw = await RawWs.open(srv.port);
  raw.autoCloseReply = false;
  await raw.hello(code, 'viewer', newToken());
  srv.proc.kill('SIGTERM');
  const seen = await until(async () => {
    const r = await get(srv.port, '/readyz').catch(() => null);
    return r && r.status === 503 ? r : null;
  }, '/readyz 503 while draining', 2500);
  assert.equal(JSON.parse(seen.text).ready, false);
  assert.equal((await get(srv.port, '/healthz')).status, 200, 'still alive while draining');
  raw.destroy();
  const exit = await withTimeout(srv.exited, 6000, 'exit');
  assert.equal(exit.code, 0);
});

test('systemd notify protocol: READY=1 once listening, RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 on SIGTERM', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const dir = makeTempDir();
  const sock = path.join(dir, 'notify');
  // a datagram socket like systemd's NOTIFY_SOCKET, printing each message on one line
  const listener = spawn('python3', ['-u', '-c', `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
while True:
    print(s.recv(4096).decode().replace("\\n", "|"), flush=True)
`, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => listener.kill());
  let messages = '';
  listener.stdout.setEncoding('utf8');
  listener.stdout.on('data', (d) => { messages += d; });
  await until(() => messages.includes('bound'), 'notify socket bound');
  const srv = await h.startServer({ env: { NOTIFY_SOCKET: sock } });
  await until(() => /READY=1/.test(messages), 'READY=1');
  assert.match(messages, /READY=1\|STATUS=serving on port \d+/);
  srv.proc.kill('SIGHUP');
  await until(() => /RELOADING=1[^\n]*\n[^\n]*READY=1/.test(messages), 'RELOADING=1 then READY=1');
  assert.match(messages, /RELOADING=1\|STATUS=reloading\|MONOTONIC_USEC=\d+/);
  await srv.stop();
  assert.match(messages, /STOPPING=1/);
});

test('log lines carry a level; --log-level filters; under the journal they carry its priority prefixes', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const plain = await h.startServer();
  await plain.stop();
  assert.match(plain.stderr, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} info: SIGTERM received, shutting down$/m, plain.stderr);

  const quiet = await h.startServer({ args: ['--log-level', 'warning'] });
  await quiet.stop();
  assert.doesNotMatch(quiet.stderr, /SIGTERM received/, '--log-level warning drops info lines');

  // JOURNAL_STREAM names stderr's device:inode (as systemd sets it)
  const dir = makeTempDir();
  const journal = new ServerProcess({
    bin: 'bash',
    rawArgs: ['-c', 'export JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) && exec "$0" "$@"', FORUMD, '--port', '0',
      '--bind', '127.0.0.1', '--db', path.join(dir, 'j.db'), '--no-demo', '--producer-key', newToken() + newToken()],
  });
  h.track(journal);
  await journal.ready(10000);
  await h.connect(journal, { origin: 'https://evil.example' }).catch(() => {});
  await journal.stop();
  assert.match(journal.stderr, /^<4>refused a WebSocket from a page at "https:\/\/evil\.example"/m, journal.stderr);
  assert.match(journal.stderr, /^<6>SIGTERM received, shutting down$/m);
  assert.doesNotMatch(journal.stderr, /^\d{4}-/m, 'no timestamps: the journal adds its own');

  const bad = await h.startServer({ args: ['--log-level', 'loud'] }).then(() => 'started', (e) => e.message);
  assert.match(bad, /--log-level is error, warning, info or debug/);
});

test('--metrics-bind: /metrics on the private address only', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer({ args: ['--metrics-bind', '127.0.0.1:0'] });
  const metricsPort = Number(srv.stdout.match(/^metrics: http:\/\/127\.0\.0\.1:(\d+)\/metrics/m)?.[1]);
  assert.ok(metricsPort > 0 && metricsPort !== srv.port, srv.stdout);
  const m = await get(metricsPort, '/metrics');
  assert.equal(m.status, 200);
  assert.match(m.text, /forum_build_info/);
  assert.ok(metricsPort, 'a private listener serves /metrics');
  assert.equal((await get(srv.port, '/metrics')).status, 404, 'not on the public port');
  assert.equal((await get(srv.port, '/healthz')).status, 200, '/healthz stays public');
  assert.equal((await get(metricsPort, '/healthz')).status, 200);
  assert.equal((await get(metricsPort, '/')).status, 404, 'the private port serves nothing else');
  assert.equal((await get(metricsPort, '/producer')).status, 404);
  const ws = await h.connect(metricsPort).then(() => 'upgraded', () => 'refused');
  assert.equal(ws, 'refused', 'no WebSocket on the metrics port');
  const bad = await h.startServer({ args: ['--metrics-bind', 'localhost'] }).then(() => 'started', (e) => e.message);
  assert.match(bad, /--metrics-bind wants ADDR:PORT/);
});
