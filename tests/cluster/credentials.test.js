// --cluster redis://USER:PASSWORD@HOST:PORT/DB: AUTH and SELECT on every connection to a Redis
// that requires them, and the password in no log line, no HTTP answer and no reload report.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { harness, makeTempDir, runForumd, sleep } from '../integration/lib.js';
import { newToken, Redis, startNode, waitLeader } from './clib.js';

const PASSWORD = 'Pa55:w@rd/with%symbols';
const encoded = encodeURIComponent(PASSWORD);

test('a Redis with an ACL user and a database number: nodes log in, select, and never show the password', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const redis = await Redis.start({
    args: ['--user', 'default', 'off', '--user', 'forum', 'on', `>${PASSWORD}`, '~*', '&*', '+@all'],
    auth: ['forum', PASSWORD],
  });
  t.after(() => redis.stop());
  const url = `redis://forum:${encoded}@127.0.0.1:${redis.port}/3`;
  const key = newToken() + newToken();
  // one node takes the URL from its config file (so that it is not in `ps`), one from the flag
  const dir = makeTempDir();
  const cfg = path.join(dir, 'a.conf');
  writeFileSync(cfg, `cluster = ${url}\n`, { mode: 0o600 });
  const nodeA = await h.startServer({ producerKey: key, args: ['--config', cfg, '--node', 'a', '--lease-ms', '1500'], timeoutMs: 15000 });
  const nodeB = h.track(await startNode({ url }, 'b', { producerKey: key }));
  const leader = await waitLeader([nodeA, nodeB]);
  const follower = leader === nodeA ? nodeB : nodeA;

  // the show goes through: created on one node, seen on the other
  const producer = await h.producer(follower);
  const prog = await producer.ok('program.create', { title: '书记论坛' });
  const created = await producer.ok('session.create', { program_id: prog.program.id, title: '密码测试' });
  const viewerNode = leader;
  let seen = false;
  for (let i = 0; i < 50 && !seen; i++) {
    const p2 = await h.producer(viewerNode);
    seen = (await p2.ok('session.list')).sessions.some((s) => s.code === created.session.code);
    await p2.close();
    if (!seen) await sleep(100);
  }
  assert.ok(seen, 'the session reached the other node through Redis');

  // SELECT 3: the log is in database 3, database 0 holds nothing of ours
  assert.ok(await redis.command(['XLEN', 'forum:log'], { db: 3 }) > 0, 'the log is in db 3');
  assert.equal(await redis.command(['EXISTS', 'forum:log'], { db: 0 }), 0, 'nothing in db 0');

  // the password is nowhere to be seen
  for (const n of [nodeA, nodeB]) {
    for (const p of ['/metrics', '/healthz', '/readyz']) {
      const body = await (await fetch(`${n.url}${p}`)).text();
      assert.equal(body.includes(PASSWORD) || body.includes(encoded), false, `${p} of ${n.args.join(' ')}`);
    }
  }
  writeFileSync(cfg, `cluster = redis://forum:${encodeURIComponent('another-secret')}@127.0.0.1:${redis.port}/3\n`);
  nodeA.proc.kill('SIGHUP');
  await sleep(300);
  assert.match(nodeA.stderr, /reload: --cluster changed \(redis:\/\/forum:\*\*\*@127\.0\.0\.1:\d+\/3 -> \(a different secret\)\) but needs a restart/, nodeA.stderr);
  for (const n of [nodeA, nodeB]) {
    const out = n.stdout + n.stderr;
    assert.equal(out.includes(PASSWORD) || out.includes(encoded) || out.includes('another-secret'), false, `logs of a node:\n${out}`);
  }
  assert.match(nodeA.stdout, /cluster: node a, log in Redis at redis:\/\/forum:\*\*\*@127\.0\.0\.1:\d+\/3/);

  // a wrong password: a clear error at start, without the password
  const wrong = await runForumd(['--cluster', `redis://forum:not-it-${encoded}@127.0.0.1:${redis.port}/3`, '--node', 'c',
    '--db', path.join(makeTempDir(), 'c.db'), '--port', '0', '--producer-key', key], 15000);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /refused the credentials in --cluster for user forum/, wrong.stderr);
  assert.equal(wrong.stderr.includes(PASSWORD) || wrong.stderr.includes('not-it'), false, wrong.stderr);
  const malformed = await runForumd(['--cluster', `redis://forum@127.0.0.1:${redis.port}`, '--node', 'd',
    '--db', path.join(makeTempDir(), 'd.db'), '--port', '0'], 10000);
  assert.match(malformed.stderr, /credentials must be USER:PASSWORD@/);
});
