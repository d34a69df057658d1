// The command line: --help, bad flags, a busy port, first start with the demo session.
import assert from 'node:assert/strict';
import net from 'node:net';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { harness, makeTempDir, newToken, runForumd, short } from './lib.js';

const FLAGS = ['--port', '--bind', '--db', '--web-root', '--producer-key', '--producer-key-file', '--origin',
  '--trusted-proxy', '--synchronous', '--config', '--no-demo', '--metrics-bind', '--log-level', '--log-file',
  '--cluster', '--tls-cert', '--public-url', '--frame-ancestors', '--stream-hosts', '--embed-hosts'];

test('--help exits 0 and names every flag; the man page documents the same ones', async () => {
  const r = await runForumd(['--help'], 5000);
  assert.equal(r.timedOut, false, '--help must not start the server');
  assert.equal(r.code, 0, `exit code; stderr: ${r.stderr}`);
  const out = r.stdout + r.stderr;
  const missing = FLAGS.filter((f) => !out.includes(f));
  assert.deepEqual(missing, [], `--help output lacks flags:\n${out}`);
  assert.ok(out.split('\n').every((l) => l.length <= 100), 'lines fit 100 columns');
  const man = await runForumd(['--man-page'], 5000);
  assert.equal(man.code, 0);
  assert.match(man.stdout, /^\.TH FORUMD 8 /m);
  const inHelp = [...new Set(out.match(/^ {2}--[a-z-]+/gm).map((f) => f.trim()))].sort();
  const inMan = [...new Set([...man.stdout.matchAll(/^\\fB(\\-\\-(?:\\-|[a-z])+)\\fR/gm)].map((m) => m[1].replace(/\\-/g, '-')))].sort();
  assert.deepEqual(inMan, inHelp, 'the man page and --help come from one table');
  for (const section of ['SIGNALS', 'ENVIRONMENT', 'FILES']) assert.match(man.stdout, new RegExp(`^\\.SH ${section}$`, 'm'));
  assert.match(out, /\[reload\]/, 'options SIGHUP applies are marked');
  const version = await runForumd(['--version'], 5000);
  assert.match(version.stdout, /^forumd \d+\.\d+\.\d+ \(commit ([0-9a-f]{7,}|unknown)\)$/m);
});

test('an unknown flag exits non-zero with a message', async () => {
  const r = await runForumd(['--frobnicate', '--db', path.join(makeTempDir(), 'x.db')], 5000);
  assert.equal(r.timedOut, false, 'must exit, not start');
  assert.notEqual(r.code, 0);
  assert.ok((r.stderr + r.stdout).trim().length > 0, 'prints a message');
  assert.match(r.stderr + r.stdout, /frobnicate/, 'the message names the flag');
});

test('a port already in use: non-zero exit with a clear message', async (t) => {
  const blocker = net.createServer();
  await new Promise((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => blocker.close(resolve)));
  const { port } = blocker.address();
  const r = await runForumd(['--port', String(port), '--bind', '127.0.0.1', '--db', path.join(makeTempDir(), 'f.db'),
    '--no-demo', '--producer-key', newToken()], 10000);
  assert.equal(r.timedOut, false, `forumd kept running on a busy port:\n${r.stdout}\n${r.stderr}`);
  assert.notEqual(r.code, 0, 'exit code');
  assert.equal(r.signal, null, `exited by a signal (crash?): ${r.signal}\n${r.stderr}`);
  const out = r.stdout + r.stderr;
  assert.ok(/in use|EADDRINUSE/i.test(out) || out.includes(String(port)), `message: ${out}`);
  assert.equal(/listening on/.test(r.stdout), false);
});

test('first start prints the demo session and a generated producer key; a second start keeps them', { timeout: 40000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer({ producerKey: null, demo: true });
  const code = (await srv.waitForStdout(/join code:\s*([A-Z0-9]{6})/i, 3000))[1].toUpperCase();
  // the demo session's moderator key is printed once, in its link (docs/security.md)
  const modKey = (await srv.waitForStdout(/^moderator page: +http:\/\/\S+\/m\/([A-Z0-9]{6})#key=(\S+)$/m, 3000))[2];
  assert.equal(srv.stdout.split(modKey).length - 1, 1, `the moderator key is printed exactly once:\n${srv.stdout}`);
  const prodKey = (await srv.waitForStdout(/producer key:\s*(\S+)/i, 3000))[1];
  assert.ok(prodKey.length >= 16, `generated producer key looks strong: ${prodKey}`);

  const viewer = await h.viewer(srv, code, { name: '演示观众' });
  const s = viewer.welcome.snapshot.session;
  assert.equal(s.status, 'open', `demo session status: ${short(s)}`);
  assert.ok(JSON.stringify(s).includes('书记论坛'), `the demo session is the 书记论坛 one: ${short(s)}`);
  const q = await viewer.ok('question.submit', { text: '演示：这个论坛怎么用？' });
  const mod = await h.moderator(srv, code, modKey);
  assert.ok(mod.welcome.snapshot.questions.some((x) => x.id === q.question.id));
  const studio = await h.join(srv, null, 'producer', prodKey);
  const list1 = await studio.ok('session.list');
  await studio.close();
  await viewer.close();
  await mod.close();
  const exit = await srv.stop();
  assert.equal(exit.code, 0, `SIGTERM exit\n${srv.describe()}`);

  const srv2 = await h.startServer({ dbPath: srv.dbPath, producerKey: null, demo: true });
  await new Promise((r) => setTimeout(r, 300)); // let any late start-up lines arrive
  const again = srv2.stdout.match(/producer key:\s*([A-Za-z0-9_\-+/=]{16,})/i);
  assert.equal(again, null, `a second start printed a new producer key:\n${srv2.stdout}`);
  assert.doesNotMatch(srv2.stdout, /moderator page|#key=/, 'nor the moderator link');
  const studio2 = await h.join(srv2, null, 'producer', prodKey);
  assert.equal(studio2.welcome.type, 'welcome', 'the first producer key still works');
  const list2 = await studio2.ok('session.list');
  assert.equal(list2.sessions.length, list1.sessions.length, 'no second demo session');
  const mod2 = await h.moderator(srv2, code, modKey);
  assert.ok(mod2.welcome.snapshot.questions.some((x) => x.id === q.question.id), 'demo data persisted');
});

test('--producer-key given: the key is not echoed', { timeout: 20000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer({ demo: true });
  await srv.waitForStdout(/join code:/i, 3000);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(srv.stdout.includes(srv.producerKey), false, 'the configured producer key is never echoed');
});

test('--config FILE sets options; command-line flags win', { timeout: 20000 }, async (t) => {
  const h = harness(t);
  const dir = makeTempDir();
  const cfgKey = newToken() + newToken();
  const cfg = path.join(dir, 'forumd.conf');
  writeFileSync(cfg, `# forumd test config\nproducer-key = ${cfgKey}\nsynchronous = normal\nno-demo = true\n`);
  const srv = await h.startServer({ producerKey: null, demo: true, args: ['--config', cfg], dbPath: path.join(dir, 'a.db') });
  const ok = await (await h.connect(srv)).hello(null, 'producer', cfgKey);
  assert.equal(ok.type, 'welcome', `producer key from the config file: ${short(ok)}\n${srv.describe()}`);
  assert.deepEqual(ok.snapshot.sessions, [], 'no-demo from the config file');

  const flagKey = newToken() + newToken();
  const srv2 = await h.startServer({ producerKey: flagKey, args: ['--config', cfg], dbPath: path.join(dir, 'b.db') });
  const viaFlag = await (await h.connect(srv2)).hello(null, 'producer', flagKey);
  assert.equal(viaFlag.type, 'welcome', `the command-line key wins: ${short(viaFlag)}`);
  const viaCfg = await (await h.connect(srv2)).hello(null, 'producer', cfgKey);
  assert.equal(viaCfg.code, 'unauthorized', 'the config key is overridden');

  const bad = await runForumd(['--config', path.join(dir, 'missing.conf'), '--db', path.join(dir, 'c.db')], 5000);
  assert.notEqual(bad.code, 0, 'a missing config file is an error');
  assert.ok((bad.stderr + bad.stdout).includes('missing.conf'), `names the file: ${bad.stderr}`);
});

test('the producer key from a file or FORUM_PRODUCER_KEY: never on the command line', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const dir = makeTempDir();
  const key = newToken() + newToken();
  const keyFile = path.join(dir, 'producer.key');
  writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
  const srv = await h.startServer({ producerKey: null, args: ['--producer-key-file', keyFile] });
  assert.equal(readFileSync(`/proc/${srv.pid}/cmdline`, 'utf8').includes(key), false, 'not in ps');
  assert.equal((await (await h.connect(srv)).hello(null, 'producer', key)).type, 'welcome', 'the key from the file');
  assert.doesNotMatch(srv.stdout, /producer key:/, 'a configured key is never printed');

  const envKey = newToken() + newToken();
  const srv2 = await h.startServer({ producerKey: null, env: { FORUM_PRODUCER_KEY: envKey } });
  assert.equal((await (await h.connect(srv2)).hello(null, 'producer', envKey)).type, 'welcome', 'the key from the environment');
  assert.equal(readFileSync(`/proc/${srv2.pid}/environ`, 'utf8').includes(envKey), true, 'sanity: the variable was set');
  assert.doesNotMatch(srv2.stdout + srv2.stderr, new RegExp(envKey));
  srv2.proc.kill('SIGHUP'); // the variable is read again: no change to report
  for (let i = 0; i < 50 && !/reload: \d+ changes? applied/.test(srv2.stderr); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(srv2.stderr, /reload: 0 changes applied, 0 need a restart/, srv2.stderr);
  // the file wins over the variable, the command line over the config file
  const srv3 = await h.startServer({ producerKey: null, args: ['--producer-key-file', keyFile], env: { FORUM_PRODUCER_KEY: envKey } });
  assert.equal((await (await h.connect(srv3)).hello(null, 'producer', key)).type, 'welcome');

  // bad files: named in a clear error, nothing starts
  writeFileSync(path.join(dir, 'short.key'), 'tooshort\n');
  writeFileSync(path.join(dir, 'open.key'), `${key}\n`, { mode: 0o644 });
  chmodSync(path.join(dir, 'open.key'), 0o644);
  for (const [file, re] of [['short.key', /short\.key must hold a key of 12/], ['missing.key', /cannot read the producer key file .*missing\.key/]]) {
    const r = await runForumd(['--producer-key-file', path.join(dir, file), '--db', path.join(dir, 'x.db'), '--port', '0'], 5000);
    assert.equal(r.code, 2, `${file}: exit 2\n${r.stderr}`);
    assert.match(r.stderr, re);
  }
  const weak = await runForumd(['--producer-key', 'short', '--db', path.join(dir, 'y.db')], 5000);
  assert.match(weak.stderr, /at least 12 characters/);
  const open = await h.startServer({ producerKey: null, args: ['--producer-key-file', path.join(dir, 'open.key')] });
  assert.match(open.stderr, /open\.key is readable by every user/, 'a world-readable key file is warned about');
});
