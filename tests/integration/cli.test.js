// The command line: --help, bad flags, a busy port, first start with the demo session.
import assert from 'node:assert/strict';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { harness, makeTempDir, newToken, runForumd, short } from './lib.js';

const FLAGS = ['--port', '--bind', '--db', '--web-root', '--producer-key', '--origin', '--synchronous', '--config', '--no-demo',
  '--public-url', '--frame-ancestors', '--stream-hosts', '--embed-hosts'];

test('--help exits 0 and names every flag', async () => {
  const r = await runForumd(['--help'], 5000);
  assert.equal(r.timedOut, false, '--help must not start the server');
  assert.equal(r.code, 0, `exit code; stderr: ${r.stderr}`);
  const out = r.stdout + r.stderr;
  const missing = FLAGS.filter((f) => !out.includes(f));
  assert.deepEqual(missing, [], `--help output lacks flags:\n${out}`);
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
  const modKey = (await srv.waitForStdout(/moderator key:\s*(\S+)/i, 3000))[1];
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
