// A database written by an earlier forumd (before events were typed: tests/compat/v0.1, made by
// tests/compat/make-fixture.mjs with every kind of event that forumd knew) replays into today's
// forumd as the same show: every session, question, vote, poll, ban, undo record, commitment and
// erasure, and the show goes on from there.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { harness, makeTempDir } from './lib.js';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), '../compat/v0.1');
const expected = JSON.parse(readFileSync(path.join(fixture, 'expected.json'), 'utf8'));

/* Fields today's forumd adds to what the old one showed (and the order of the questions, which
 * welcomes now give most useful first). */
function comparable(snapshot) {
  const copy = structuredClone(snapshot);
  // sessions now say which stream the viewer page plays: none for the old ones
  for (const s of [copy.session, ...(copy.sessions ?? [])]) {
    if (s && s.stream === null) delete s.stream;
  }
  // the studio list now names the outgoing webhooks: none in an old database
  if (Array.isArray(copy.webhooks) && copy.webhooks.length === 0) delete copy.webhooks;
  delete copy.viewers;
  delete copy.questions_total;
  delete copy.questions_complete;
  copy.questions?.sort((a, b) => a.id - b.id);
  // a viewer's votes are listed for the questions the welcome names (its votes on a question it
  // can no longer see, withdrawn by its author, are not)
  if (copy.my_votes) copy.my_votes = copy.my_votes.filter((id) => copy.questions.some((q) => q.id === id));
  for (const list of [copy.actions, copy.open_actions]) {
    for (const a of list ?? []) {
      delete a.follows_action_id;
      // commitments' public board: publication, reasons, staff notes, who promised
      for (const k of ['published', 'publication', 'reason', 'note', 'promised_by']) delete a[k];
    }
  }
  // satisfaction ratings
  for (const k of ['rating_counts', 'ratings', 'ratings_complete', 'my_ratings']) delete copy[k];
  // programmes can be kept off the front page
  for (const p of copy.programs ?? []) delete p.listed;
  return copy;
}

test('a database written by forumd 0.1 replays into the same show', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const dbPath = path.join(makeTempDir(), 'forum.db');
  execFileSync('sqlite3', [dbPath], { input: readFileSync(path.join(fixture, 'forum.sql')) });
  const srv = await h.startServer({ dbPath, producerKey: expected.producerKey });
  for (const code of expected.codes) {
    const snap = (await h.producer(srv, code)).welcome.snapshot;
    assert.deepEqual(comparable(snap), comparable(expected.snapshots[code]), `session ${code}`);
  }
  assert.deepEqual(comparable((await h.producer(srv, null)).welcome.snapshot), comparable(expected.studio));
  const ann = await h.viewer(srv, expected.codes[0], { token: 'a'.repeat(32) });
  assert.deepEqual(comparable(ann.welcome.snapshot), comparable(expected.viewer),
    'a viewer sees what she saw');

  // the show goes on: the next session takes questions, ids continue, exports work
  const [, next] = expected.codes;
  const viewer = await h.viewer(srv, next, { name: '新观众' });
  const q = (await viewer.ok('question.submit', { text: '上期的电梯补贴公布了吗？' })).question;
  const maxId = Math.max(...Object.values(expected.snapshots).flatMap((s) => s.questions.map((x) => x.id)));
  assert.equal(q.id, maxId + 1);
  const res = await fetch(`${srv.url}/api/sessions/${expected.codes[0]}/transcript.md`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /老旧小区加装电梯/);
  await srv.stop();
  // and what today's forumd wrote on top replays too
  const again = await h.startServer({ dbPath, producerKey: expected.producerKey });
  const snap = (await h.producer(again, next)).welcome.snapshot;
  assert.ok(snap.questions.some((x) => x.id === q.id && x.text === q.text));
});
