// A welcome stays bounded whatever the session holds: a session filled with long questions
// (free viewer tokens make that cheap for a troll) can neither lock staff out of their own show
// (a welcome larger than the send queue would get the connection dropped) nor send every phone
// tens of MiB. The rest of the questions is read page by page with questions.list.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { harness, setupSession } from './lib.js';

const QUEUE_BYTES = 262144;
const longText = (i) => `第${i}问` + '𠀀'.repeat(490); // 4-byte characters: ~2 KB of JSON each

async function fill(mod, n) {
  const ids = [];
  for (let i = 0; i < n; i += 20) {
    const batch = [];
    for (let k = i; k < Math.min(n, i + 20); k++) {
      batch.push(mod.ok('question.submit', { text: longText(k), source: 'phone', author: '热线' }));
    }
    for (const r of await Promise.all(batch)) ids.push(r.question.id);
  }
  return ids;
}

async function pageAll(client, extra = {}) {
  const seen = [];
  let before;
  for (let pages = 0; pages < 100; pages++) {
    const r = await client.ok('questions.list', { ...extra, ...(before ? { before } : {}), limit: 100 });
    seen.push(...r.questions);
    if (!r.more) return { seen, pages: pages + 1 };
    assert.ok(r.next_before < (before ?? Infinity), 'pages move towards older questions');
    before = r.next_before;
  }
  throw new Error('paging did not end');
}

test('staff and viewers can always join a session full of long questions', { timeout: 120000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer({
    args: ['--queue-max-bytes', String(QUEUE_BYTES), '--rate-messages-per-sec', '1000', '--rate-questions-per-address-per-min', '0'],
  });
  const { code, moderatorKey } = await setupSession(h, srv, {});
  const filler = await h.moderator(srv, code, moderatorKey, '值班');
  const ids = await fill(filler, 300);
  const viewer0 = await h.viewer(srv, code, { name: '居民' });
  const mine = (await viewer0.ok('question.submit', { text: '我自己的问题' })).question;
  await filler.ok('question.dismiss', { question_id: ids[5] }); // not public any more
  await filler.ok('onair.set', { question_id: ids[10] });
  await filler.ok('queue.set', { question_ids: [ids[20], ids[30]] });

  // a moderator joins: welcomed (not dropped), bounded, the on-air and up-next questions first
  const mod = await h.moderator(srv, code, moderatorKey, '新主持人');
  const welcomeText = mod.raw.find((f) => f.includes('"type":"welcome"'));
  assert.ok(welcomeText.length < QUEUE_BYTES / 2, `staff welcome is ${welcomeText.length} bytes`);
  const snap = mod.welcome.snapshot;
  assert.equal(snap.questions_total, 301);
  assert.equal(snap.questions_complete, false);
  assert.deepEqual(snap.questions.slice(0, 3).map((q) => q.id), [ids[10], ids[20], ids[30]]);
  const staffPages = await pageAll(mod);
  const staffIds = new Set(staffPages.seen.map((q) => q.id));
  assert.equal(staffIds.size, 301, 'every question, once');
  assert.equal(staffPages.seen.length, 301);
  assert.ok(staffPages.seen.every((q) => 'viewer_id' in q), 'staff rendering');

  // a viewer joins: a small welcome; its own question is there; pages hold only what it may see
  const viewer = await h.viewer(srv, code, { name: '又一位居民', token: viewer0.token });
  const vText = viewer.raw.find((f) => f.includes('"type":"welcome"'));
  assert.ok(vText.length < 256 * 1024, `viewer welcome is ${vText.length} bytes`);
  const vs = viewer.welcome.snapshot;
  assert.equal(vs.questions_total, 300, 'public ones and its own');
  assert.ok(vs.questions.some((q) => q.id === mine.id && q.mine === true));
  assert.equal(vs.questions[0].id, ids[10], 'on air first');
  const viewerPages = await pageAll(viewer);
  assert.equal(viewerPages.seen.length, 300);
  assert.ok(!viewerPages.seen.some((q) => q.id === ids[5]), 'no dismissed question');
  assert.ok(viewerPages.seen.every((q) => !('viewer_id' in q)));
  // filters and bad input
  const pending = await mod.ok('questions.list', { state: 'dismissed' });
  assert.deepEqual(pending.questions.map((q) => q.id), [ids[5]]);
  const bad = await viewer.request('questions.list', { limit: 0 });
  assert.equal(bad.code, 'bad_request');
  const bad2 = await viewer.request('questions.list', { state: 'secret' });
  assert.equal(bad2.code, 'bad_request');
});
