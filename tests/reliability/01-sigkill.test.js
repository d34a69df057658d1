// 1. SIGKILL during 1,000 concurrent question submissions from 100 viewers: after a restart every
// acknowledged question is present exactly once, PRAGMA integrity_check is ok, and clients that
// resend their outbox (every request not acknowledged, with the same id) create no duplicates.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { test } from 'node:test';

import { OP, RawWs, frame } from './rawws.js';
import { SOAK, harness, setupSession, short, sleep, sqlite, startForumd } from './rlib.js';

const N_VIEWERS = 100;
const PER_VIEWER = 10;
const ROUNDS = SOAK ? 5 : 1; // FORUM_SOAK=1: kill and restart five times in a row

test(`SIGKILL during ${N_VIEWERS * PER_VIEWER} concurrent submissions: acked questions survive exactly once`, { timeout: SOAK ? 600000 : 120000 }, async (t) => {
  const h = harness(t);
  // All 100 viewers share 127.0.0.1: the per-address question budget (600 a minute) is not what
  // this test is about.
  const args = ['--rate-questions-per-address-per-min', '0'];
  let srv = h.track(await startForumd({ args }));
  // The default per-viewer limit (6 questions a minute) would refuse most of the ten; the session
  // setting question_rate_per_min raises it.
  // Premoderation on, so that the submissions are not broadcast to the other 99 viewers: the
  // test client then keeps up with the acks instead of parsing 100,000 events.
  const { code, moderatorKey } = await setupSession(h, srv, { premoderation: true, extra: { question_rate_per_min: 1000 } });
  const tokens = Array.from({ length: N_VIEWERS }, () => crypto.randomUUID().replace(/-/g, ''));
  const textOf = (v, k) => `观众${v}的第${k}个问题：楼道灯坏了三个月没人修，物业说归社区管，社区说归物业管，到底谁管？`;
  const acked = new Map(); // request id -> question id (from the first ack, before any crash)

  // A round whose kill came after the server had acknowledged the whole burst (it commits in a
  // few large group commits) still checks durability, but does not count as a kill "during"
  // the submissions: rounds repeat until ROUNDS of them split the burst (at most ROUNDS + 7).
  let split = 0;
  let submittedTotal = 0;
  let round = 0;
  for (; split < ROUNDS && round < ROUNDS + 7; round++) {
    const viewers = [];
    for (let i = 0; i < N_VIEWERS; i++) {
      const ws = await RawWs.open(srv.port);
      const w = await ws.hello(code, 'viewer', tokens[i], { name: `居民${i}` });
      assert.equal(w.type, 'welcome', short(w));
      viewers.push(ws);
    }
    // each viewer's outbox: its ten requests; the frames are built (and masked) beforehand so
    // that all 1,000 reach the server within a few milliseconds
    const outbox = [];
    const burst = viewers.map((ws, i) => {
      const frames = [];
      for (let k = 0; k < PER_VIEWER; k++) {
        const o = { i, id: `r${round}-v${i}-q${k}`, text: textOf(i, `${round}-${k}`) };
        outbox.push(o);
        frames.push(frame({ opcode: OP.TEXT, payload: JSON.stringify({ type: 'question.submit', id: o.id, text: o.text }) }));
      }
      return Buffer.concat(frames);
    });
    const total = outbox.length;
    const errors = [];
    let killed = false;
    let firstAck;
    const firstAckP = new Promise((r) => { firstAck = r; });
    viewers.forEach((ws) => {
      ws.onObject = (o) => {
        // an ack read after the kill was still sent by the server before it died: it counts
        if (o.type === 'ack') {
          acked.set(o.re, o.question.id);
          firstAck();
        } else if (o.type === 'error' && !killed) errors.push(o);
      };
    });
    // SIGKILL lands while the server is committing the burst (it needs ~100-300 ms for it):
    // a random 0-40 ms after the first acknowledgement arrived
    const killAfterMs = Math.random() * 40;
    viewers.forEach((ws, i) => ws.write(burst[i]));
    await Promise.race([firstAckP, sleep(5000)]);
    await sleep(killAfterMs);
    killed = true;
    srv.proc.kill('SIGKILL');
    await Promise.all(viewers.map((ws) => ws.endedP)); // every ack the server sent has been read
    const exit = await srv.exited;
    assert.equal(exit.signal, 'SIGKILL');
    assert.deepEqual(errors, [], 'no submission was refused before the kill');
    const ackedThisRound = outbox.filter((o) => acked.has(o.id)).length;
    console.log(`# round ${round}: SIGKILL ${killAfterMs.toFixed(0)} ms after the first of ${total} acknowledgements: ${ackedThisRound} acknowledged, ${total - ackedThisRound} left in the outboxes`);
    if (ackedThisRound > 0 && ackedThisRound < total) split++;
    submittedTotal += total;
    for (const ws of viewers) ws.destroy();

    const integrity = sqlite(srv.dbPath, 'PRAGMA integrity_check;');
    assert.deepEqual(integrity, ['ok'], 'PRAGMA integrity_check after SIGKILL');

    srv = h.track(await startForumd({ dbPath: srv.dbPath, producerKey: srv.producerKey, args }));
    const check = await h.moderator(srv, code, moderatorKey, `核对${round}`);
    const qs = check.welcome.snapshot.questions;
    const byId = new Map(qs.map((q) => [q.id, q]));
    const missing = [...acked.entries()].filter(([, qid]) => !byId.has(qid));
    assert.deepEqual(missing, [], `${missing.length} acknowledged questions lost after SIGKILL`);
    assert.equal(byId.size, qs.length, 'question ids are unique');

    // clients resend their outbox: every request without an ack, same id, same text
    const again = await Promise.all(tokens.map((token, i) => h.viewer(srv, code, { token, name: `居民${i}`, label: `again${i}` })));
    const pending = outbox.filter((o) => !acked.has(o.id));
    const resent = await Promise.all(pending.map(({ i, id, text }) => again[i].request('question.submit', { text }, { id, timeoutMs: 15000 })));
    const notAcked = resent.filter((r) => r.type !== 'ack');
    assert.deepEqual(notAcked.slice(0, 5), [], `${notAcked.length} resends were refused`);
    pending.forEach((o, k) => acked.set(o.id, resent[k].question.id));
    // a resend of an already acknowledged request gets the original question back
    const sample = outbox.filter((o) => !pending.includes(o)).slice(0, 20);
    for (const o of sample) {
      const r = await again[o.i].request('question.submit', { text: o.text }, { id: o.id });
      assert.equal(r.type, 'ack', short(r));
      assert.equal(r.question.id, acked.get(o.id), `resend of acknowledged ${o.id} maps to the original question`);
    }
    for (const c of again) await c.close();

    // exactly once: in the live state, and in the database
    const final = (await h.moderator(srv, code, moderatorKey, `终审${round}`)).welcome.snapshot.questions;
    const texts = final.map((q) => q.text);
    const dupTexts = texts.filter((x, k) => texts.indexOf(x) !== k);
    assert.deepEqual(dupTexts.slice(0, 5), [], `${dupTexts.length} questions present more than once`);
    assert.equal(final.length, submittedTotal, 'every submission is present exactly once after the resends');
    for (const [id, qid] of acked) {
      const q = final.find((x) => x.id === qid);
      assert.ok(q, `request ${id} -> question ${qid} present`);
    }
    const rows = sqlite(srv.dbPath, `SELECT count(*), count(DISTINCT text) FROM questions WHERE session='${code}';`);
    assert.deepEqual(rows, [`${final.length}|${final.length}`], 'the questions table holds each question once');
    const submitted = sqlite(srv.dbPath, `SELECT count(*), count(DISTINCT request_id) FROM events WHERE session='${code}' AND kind='question.submitted';`);
    assert.deepEqual(submitted, [`${final.length}|${final.length}`], 'one question.submitted event per request id');
  }
  assert.equal(split, ROUNDS, `in ${round} rounds, ${split} kills landed between the first and the last acknowledgement`);
  const stopped = await srv.stop();
  assert.equal(stopped.code, 0, srv.describe());
  assert.deepEqual(sqlite(srv.dbPath, 'PRAGMA integrity_check;'), ['ok']);
});
