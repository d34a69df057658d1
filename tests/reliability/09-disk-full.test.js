// 9. Disk full: the database lives on a 4 MiB tmpfs that a filler file fills while viewers keep
// submitting. Every reply is an ack or an `internal` error (never an ack for what was not
// committed); errored submissions are in neither the live state nor the database; once space is
// freed, submissions succeed again; every acknowledged question is present, live and after a
// restart, and PRAGMA integrity_check is ok. Needs root (mount); skipped with a message otherwise.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { harness, setupSession, short, sleep, sqlite, startForumd } from './rlib.js';

function mountTmpfs() {
  const dir = mkdtempSync(path.join(tmpdir(), 'forum-diskfull-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return { error: (e.stderr?.toString() || e.message).trim() };
  }
}

function umount(dir) {
  for (const args of [[dir], ['-l', dir]]) {
    try {
      execFileSync('umount', args, { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
      return;
    } catch { /* busy: try lazily */ }
  }
}

/** Writes a filler file until the file system is full; returns its path and size. */
function fill(dir) {
  const p = path.join(dir, 'filler');
  const fd = openSync(p, 'w');
  const chunk = Buffer.alloc(16384, 0x5a);
  let size = 0;
  try {
    for (;;) size += writeSync(fd, chunk);
  } catch (e) {
    if (e.code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  // the last partial pages too
  const fd2 = openSync(p, 'a');
  try { for (;;) size += writeSync(fd2, Buffer.alloc(512, 0x5a)); } catch { /* full */ } finally { closeSync(fd2); }
  return { p, size };
}

test('disk full during submissions: errors, not acks; recovery after space is freed', { timeout: 120000 }, async (t) => {
  const mounted = mountTmpfs();
  if (mounted.error) {
    t.skip(`cannot mount a tmpfs (${mounted.error}); run as root to test a full disk`);
    return;
  }
  const dir = mounted.dir;
  let srv;
  t.after(async () => {
    if (srv?.running) await srv.kill();
    umount(dir);
  });
  const h = harness(t);
  srv = h.track(await startForumd({ dbPath: path.join(dir, 'forum.db') }));
  const { code, moderatorKey } = await setupSession(h, srv, { extra: { question_rate_per_min: 1000 } });
  const viewers = await Promise.all(Array.from({ length: 5 }, (_, i) => h.viewer(srv, code, { name: `观众${i}`, label: `v${i}` })));
  const long = (n) => `第${n}个问题：${'小区的老旧管网改造什么时候开始，施工期间停水怎么安排，费用由谁来承担？'.repeat(4)}`.slice(0, 140);

  const acked = new Map(); // question id -> text
  const failed = [];       // texts answered with internal
  const other = [];
  let n = 0;
  /** Each viewer submits `per` questions one after another; tallies the replies. */
  const round = async (per, label) => {
    const tally = { ack: 0, internal: 0, other: 0 };
    await Promise.all(viewers.map(async (v) => {
      for (let k = 0; k < per; k++) {
        const text = long(++n);
        const r = await v.request('question.submit', { text }, { timeoutMs: 15000 });
        if (r.type === 'ack') {
          acked.set(r.question.id, text);
          tally.ack++;
        } else if (r.type === 'error' && r.code === 'internal') {
          failed.push(text);
          tally.internal++;
        } else {
          other.push(r);
          tally.other++;
        }
        await sleep(20);
      }
    }));
    console.log(`# ${label}: ${short(tally)}`);
    return tally;
  };

  const before = await round(4, 'with free space');
  assert.equal(before.ack, 20, 'submissions are acked while there is space');

  // fill the disk while the viewers are submitting, keep submitting until commits fail
  let filler;
  const [during] = await Promise.all([round(6, 'filling the disk meanwhile'), sleep(40).then(() => { filler = fill(dir); })]);
  const df = statfsSync(dir);
  console.log(`# filled: filler ${filler.size} bytes, ${df.bavail * df.bsize} bytes left`);
  let full = { ack: during.ack, internal: during.internal, other: during.other };
  for (let i = 0; i < 10 && full.internal < 10; i++) {
    const r = await round(6, `disk full, round ${i + 1}`);
    full = { ack: full.ack + r.ack, internal: full.internal + r.internal, other: full.other + r.other };
  }
  assert.deepEqual(other.slice(0, 3), [], 'with a full disk, every reply is an ack or an internal error');
  assert.ok(full.internal >= 10, `commits fail with internal once the disk is full (${short(full)})`);
  assert.ok(srv.running, `forumd survives a full disk\n${srv.describe()}`);

  // the live state holds nothing that failed
  const live = async () => (await h.moderator(srv, code, moderatorKey, '核对')).welcome.snapshot.questions;
  await sleep(500); // the reload after a failed commit runs on the loop
  let q1 = await live().catch((e) => { throw new Error(`hello while the disk is full: ${e.message}`); });
  const liveTexts = new Set(q1.map((q) => q.text));
  const ghost = failed.filter((x) => liveTexts.has(x));
  assert.deepEqual(ghost.slice(0, 3).map((x) => x.slice(0, 20)), [], `${ghost.length} questions answered with internal are in the live state`);

  // free the space: submissions succeed again (after the server reloads its state)
  rmSync(filler.p);
  let recovered = false;
  for (let i = 0; i < 20 && !recovered; i++) {
    const r = await round(1, `after freeing space, try ${i + 1}`);
    recovered = r.ack === viewers.length;
    if (!recovered) await sleep(500);
  }
  assert.ok(recovered, 'submissions succeed again once space is freed');
  const after = await round(4, 'recovered');
  assert.equal(after.ack, 20, 'every submission is acked after recovery');

  // every acked question present, live and after a restart; nothing that failed
  q1 = await live();
  const check = (qs, where) => {
    const byText = new Map(qs.map((q) => [q.text, q]));
    const missing = [...acked.values()].filter((x) => !byText.has(x));
    assert.deepEqual(missing.map((x) => x.slice(0, 20)), [], `${missing.length} acknowledged questions missing ${where}`);
    const present = failed.filter((x) => byText.has(x));
    assert.deepEqual(present.map((x) => x.slice(0, 20)), [], `${present.length} failed submissions present ${where}`);
    assert.equal(new Set(qs.map((q) => q.text)).size, qs.length, `no duplicates ${where}`);
  };
  check(q1, 'in the live state');
  const stopped = await srv.stop();
  assert.equal(stopped.code, 0, srv.describe());
  assert.deepEqual(sqlite(srv.dbPath, 'PRAGMA integrity_check;'), ['ok']);
  srv = h.track(await startForumd({ dbPath: srv.dbPath, producerKey: srv.producerKey }));
  const q2 = await live();
  check(q2, 'after a restart');
  assert.deepEqual(q2.map((q) => [q.id, q.text, q.state]), q1.map((q) => [q.id, q.text, q.state]), 'the restarted state equals the live state before');
  console.log(`# disk full: ${acked.size} acked, ${failed.length} refused with internal, all consistent after recovery and restart`);
});
