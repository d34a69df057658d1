// Online backup while the server keeps serving: the producer request `backup` and the command
// `forumd backup PATH`. A copy taken during 100 writes per second passes PRAGMA
// integrity_check and holds every event committed before it started.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { harness, makeTempDir, runForumd, setupSession, short, sleep } from './lib.js';

/** integrity_check verdict, the question ids and per-session event seqs of a database file. */
function inspect(file) {
  const py = `
import sqlite3, sys, json
db = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)
out = {
  'integrity': db.execute('pragma integrity_check').fetchone()[0],
  'questions': [r[0] for r in db.execute('select id from questions order by id')],
  'submitted': [r[0] for r in db.execute("select json_extract(payload, '$.question.id') from events where kind = 'question.submitted'")],
  'seqs': {},
}
for session, n, lo, hi in db.execute('select session, count(*), min(seq), max(seq) from events group by session'):
  out['seqs'][session] = [n, lo, hi]
print(json.dumps(out))
`;
  return JSON.parse(execFileSync('python3', ['-c', py, file]).toString());
}

/** Sends a staff question every 10 ms (100 writes per second) until stop(); records acks. */
function writer(mod, code) {
  const acked = []; // {id, at}
  const failures = [];
  let n = 0;
  const inflight = new Set();
  const timer = setInterval(() => {
    const p = mod.request('question.submit', { text: `热线来电第${++n}条：路灯不亮`, source: 'phone' }, { timeoutMs: 10000 })
      .then((r) => {
        if (r.type === 'ack') acked.push({ id: r.question.id, at: performance.now() });
        else failures.push(r);
      }, (e) => failures.push(e.message))
      .finally(() => inflight.delete(p));
    inflight.add(p);
  }, 10);
  return {
    acked,
    failures,
    sent: () => n,
    async stop() {
      clearInterval(timer);
      await Promise.all([...inflight]);
    },
  };
}

function assertConsistent(info, ackedBefore, code) {
  assert.equal(info.integrity, 'ok', 'PRAGMA integrity_check');
  const inCopy = new Set(info.questions);
  const missing = ackedBefore.filter((a) => !inCopy.has(a.id));
  assert.deepEqual(missing, [], 'every question acknowledged before the backup started is in it');
  const submitted = new Set(info.submitted);
  assert.ok(ackedBefore.every((a) => submitted.has(a.id)), 'and its event');
  const [count, lo, hi] = info.seqs[code];
  assert.equal(lo, 1);
  assert.equal(count, hi, 'the session\'s log in the copy is gap-free (one snapshot)');
  assert.equal(info.questions.length, info.submitted.length, 'projections match the events');
}

test('backup request during 100 writes per second', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const dir = makeTempDir('forum-backup-');
  const dbPath = path.join(dir, 'live', 'forum.db');
  const srv = await h.startServer({ dbPath, args: ['--rate-messages-per-sec', '1000'] });
  const { producer, code, moderatorKey } = await setupSession(h, srv, {});
  const mod = await h.moderator(srv, code, moderatorKey);
  const w = writer(mod, code);
  await sleep(1500);
  const ackedBefore = [...w.acked];
  const sentAt = performance.now();
  const r = await producer.request('backup', {}, { timeoutMs: 20000 });
  const doneAt = performance.now();
  await sleep(1000);
  await w.stop();
  assert.equal(r.type, 'ack', short(r));
  assert.deepEqual(w.failures, [], 'every write during the backup was acknowledged');
  assert.ok(ackedBefore.length >= 100, `writes were flowing: ${ackedBefore.length}`);
  assert.ok(w.acked.some((a) => a.at > doneAt), 'the server kept serving after the backup');
  assert.ok(w.acked.length >= 0.8 * w.sent(), `${w.acked.length} of ${w.sent()} acked`);
  assert.match(r.path, /\/live\/backups\/forum-\d{8}-\d{6}(-\d+)?\.db$/);
  assert.ok(r.path.startsWith(path.join(dir, 'live', 'backups')));
  assert.ok(r.pages > 0 && r.bytes > 0, short(r));
  // the database, its WAL and the copy hold every resident's words: readable by forumd's user only
  for (const f of [dbPath, `${dbPath}-wal`, r.path]) {
    assert.equal(statSync(f).mode & 0o077, 0, `${f} is mode ${(statSync(f).mode & 0o777).toString(8)}`);
  }
  const info = inspect(r.path);
  assertConsistent(info, ackedBefore, code);
  assert.ok(r.events >= ackedBefore.length, short(r));
  t.diagnostic(`backup: ${r.pages} pages, ${r.events} events, ${r.elapsed_ms} ms; ` +
    `${ackedBefore.length} questions acked before, ${info.questions.length} in the copy; ` +
    `round trip ${Math.round(doneAt - sentAt)} ms`);

  await t.test('named backups, refusals', async () => {
    const named = await producer.ok('backup', { path: 'vor-der-sendung.db' });
    assert.equal(named.path, path.join(dir, 'live', 'backups', 'vor-der-sendung.db'));
    assert.equal(inspect(named.path).integrity, 'ok');
    const again = await producer.request('backup', { path: 'vor-der-sendung.db' });
    assert.equal(again.code, 'conflict');
    assert.equal(again.field, 'path');
    const bad = await producer.request('backup', { path: '../escape.db' });
    assert.equal(bad.code, 'bad_request');
    assert.equal(bad.field, 'path');
    assert.ok(!existsSync(path.join(dir, 'live', 'escape.db')));
    const m = await mod.request('backup', {});
    assert.equal(m.code, 'forbidden');
  });
});

test('forumd backup PATH while the server runs', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const dir = makeTempDir('forum-backup-cli-');
  const dbPath = path.join(dir, 'forum.db');
  const srv = await h.startServer({ dbPath, args: ['--rate-messages-per-sec', '1000'] });
  const { code, moderatorKey } = await setupSession(h, srv, {});
  const mod = await h.moderator(srv, code, moderatorKey);
  const w = writer(mod, code);
  await sleep(1000);
  const ackedBefore = [...w.acked];
  const dest = path.join(dir, 'copies', 'nightly.db');
  const r = await runForumd(['backup', dest, '--db', dbPath], 20000);
  await sleep(300);
  await w.stop();
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^backed up ${dbPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} to ${dest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\d+ pages, \\d+ bytes, \\d+ events, \\d+ ms\\n$`));
  assert.deepEqual(w.failures, []);
  assertConsistent(inspect(dest), ackedBefore, code);

  // Run again to the same PATH: replaced atomically with a newer copy.
  const r2 = await runForumd(['backup', dest, '--db', dbPath], 20000);
  assert.equal(r2.code, 0, r2.stderr);
  const after = inspect(dest);
  assert.equal(after.integrity, 'ok');
  assert.ok(after.questions.length >= w.acked.length, 'the second copy holds everything');

  await t.test('failures exit non-zero with a clear message', async () => {
    const missing = await runForumd(['backup', path.join(dir, 'x.db'), '--db', path.join(dir, 'nope', 'forum.db')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /forumd: backup failed: cannot open database .*nope\/forum\.db/);
    const noPath = await runForumd(['backup']);
    assert.equal(noPath.code, 2);
    assert.match(noPath.stderr, /usage: forumd backup PATH/);
    const unwritable = await runForumd(['backup', '/proc/forum-backup.db', '--db', dbPath]);
    assert.equal(unwritable.code, 1);
    assert.match(unwritable.stderr, /forumd: backup failed: /);
  });
});
