// The show's report (report.json): every number is recomputed here, independently, from
// transcript.json by the definitions in docs/archive.md, and the audience curve (viewers.sampled
// events) survives a restart. A programme report sums its sessions within a date range.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { harness, marker, setupSession, sleep } from './lib.js';

const auth = (srv) => ({ authorization: `Bearer ${srv.producerKey}` });

async function getJson(srv, path, headers = auth(srv)) {
  const res = await fetch(`${srv.url}${path}`, { headers, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const PUBLIC = new Set(['published', 'on_air', 'answered']);

/** The report's numbers from a transcript document, written from the documented definitions. */
export function recompute(doc) {
  const qs = doc.questions;
  const count = (names, f) => Object.fromEntries(names.map((n) => [n, qs.filter((q) => f(q) === n).length]));
  const everPublic = new Set();
  const firstAir = new Map();
  const curve = [];
  for (const ev of doc.events) {
    if (ev.kind.startsWith('question.') && PUBLIC.has(ev.question.state)) everPublic.add(ev.question.id);
    if (ev.kind === 'onair.changed' && ev.question_id && !firstAir.has(ev.question_id)) firstAir.set(ev.question_id, ev.at);
    if (ev.kind === 'viewers.sampled') curve.push({ at: ev.at, viewers: ev.viewers });
  }
  const approved = qs.filter((q) => everPublic.has(q.id) || PUBLIC.has(q.state)).length;
  const answered = qs.filter((q) => q.state === 'answered').length;
  const waits = [...firstAir].map(([id, at]) => at - qs.find((q) => q.id === id).created_at).sort((a, b) => a - b);
  const panelists = doc.session.panelists.map((p) => ({
    id: p.id, name: p.name,
    addressed: qs.filter((q) => q.to === p.id).length,
    answered: qs.filter((q) => q.to === p.id && q.state === 'answered').length,
  }));
  return {
    questions: {
      total: qs.length,
      by_category: count(['question', 'need', 'suggestion'], (q) => q.category),
      by_source: count(['web', 'phone', 'paper', 'visit', 'carried'], (q) => q.source),
      by_phase: count(['pre', 'live'], (q) => q.phase),
      by_state: count(['pending', 'published', 'on_air', 'answered', 'dismissed', 'withdrawn'], (q) => q.state),
      approved,
      aired: firstAir.size,
      answered,
      merged: qs.filter((q) => q.merged_into).length,
      approved_share: approved / qs.length,
      answered_share: answered / qs.length,
      answered_of_approved: answered / approved,
    },
    waits,
    panelists,
    whole_panel: {
      addressed: qs.filter((q) => !q.to).length,
      answered: qs.filter((q) => !q.to && q.state === 'answered').length,
    },
    commitments: {
      total: doc.actions.length,
      by_status: Object.fromEntries(['open', 'in_progress', 'done'].map((s) => [s, doc.actions.filter((a) => a.status === s).length])),
    },
    curve,
  };
}

function checkReport(report, doc) {
  const want = recompute(doc);
  assert.equal(report.format, 'forum.report.v1');
  assert.equal(report.session.code, doc.session.code);
  for (const [k, v] of Object.entries(want.questions)) {
    if (typeof v === 'number' && !Number.isInteger(v)) assert.ok(Math.abs(report.questions[k] - v) < 1e-9, `${k}: ${report.questions[k]} vs ${v}`);
    else assert.deepEqual(report.questions[k], v, k);
  }
  const w = want.waits;
  assert.equal(report.time_to_air.count, w.length);
  const n = w.length;
  assert.equal(report.time_to_air.median_ms, n % 2 ? w[(n - 1) / 2] : Math.trunc((w[n / 2 - 1] + w[n / 2]) / 2));
  assert.equal(report.time_to_air.max_ms, w[w.length - 1]);
  assert.equal(report.time_to_air.min_ms, w[0]);
  assert.equal(report.time_to_air.p90_ms, w[Math.ceil(w.length * 0.9) - 1]);
  assert.equal(report.time_to_air.mean_ms, Math.trunc(w.reduce((a, b) => a + b, 0) / w.length));
  assert.deepEqual(report.panelists, want.panelists);
  assert.deepEqual(report.whole_panel, want.whole_panel);
  assert.deepEqual(report.commitments, want.commitments);
  assert.deepEqual(report.audience.curve, want.curve);
  assert.equal(report.audience.samples, want.curve.length);
  assert.equal(report.audience.peak, doc.peak_viewers);
}

test('report.json recomputes from transcript.json; the audience curve survives a restart', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  let srv = await h.startServer({ args: ['--sample-secs', '1'] });
  const { code, moderatorKey, session, producer, programId } = await setupSession(h, srv, { scheduled_at: Date.parse('2026-03-10T10:00:00Z') });
  const [wang, li] = session.panelists;
  const mod = await h.moderator(srv, code, moderatorKey);
  const v1 = await h.viewer(srv, code, { name: '王大妈' });
  const v2 = await h.viewer(srv, code);
  const q1 = (await v1.ok('question.submit', { text: '老旧小区加装电梯，政府补贴多少？', to: wang.id })).question.id;
  const q2 = (await v2.ok('question.submit', { text: '小区停车位太少了，晚上回来没地方停', category: 'need' })).question.id;
  const q3 = (await v2.ok('question.submit', { text: '建议垃圾分类投放点延长开放时间', category: 'suggestion', to: li.id })).question.id;
  const q4 = (await v1.ok('question.submit', { text: '加装电梯政府能补多少钱', to: wang.id })).question.id;
  await mod.ok('question.submit', { text: '电话来访：菜市场什么时候重新开', source: 'phone', author: '刘先生' });
  await producer.ok('session.start', { session: code });
  const q6 = (await v2.ok('question.submit', { text: '直播中提问：路灯坏了谁来修' })).question.id;
  await mod.ok('question.merge', { question_id: q4, into_id: q1 });
  await mod.ok('question.dismiss', { question_id: q6 });
  await mod.ok('onair.set', { question_id: q1 });
  await mod.ok('question.answered', { question_id: q1, note: '每台最高补贴20万元' });
  await mod.ok('onair.set', { question_id: q2 });
  await mod.ok('onair.set', { question_id: q3 });
  await mod.ok('question.answered', { question_id: q3 });
  const a1 = (await mod.ok('action.create', { question_id: q1, text: '一个月内公布补贴细则', owner: '区住建局', due: '2026-04-30' })).action.id;
  await mod.ok('action.create', { question_id: q2, text: '排查小区停车位', owner: '街道' });
  await mod.ok('action.update', { action_id: a1, status: 'in_progress' });
  await sleep(2300); // two or more audience samples, with both viewers watching
  await marker(mod, [v1], 'report');

  const tr = await getJson(srv, `/api/sessions/${code}/transcript.json`);
  const rep = await getJson(srv, `/api/sessions/${code}/report.json`);
  assert.equal(rep.status, 200);
  checkReport(rep.body, tr.body);
  // the values themselves, so a recomputation that agrees by accident still fails
  assert.equal(rep.body.questions.total, 6);
  assert.deepEqual(rep.body.questions.by_category, { question: 4, need: 1, suggestion: 1 });
  assert.equal(rep.body.questions.by_source.phone, 1);
  assert.deepEqual(rep.body.questions.by_phase, { pre: 5, live: 1 });
  assert.equal(rep.body.questions.answered, 2);
  assert.equal(rep.body.questions.aired, 3);
  assert.deepEqual(rep.body.commitments.by_status, { open: 1, in_progress: 1, done: 0 });
  assert.ok(rep.body.audience.samples >= 2, 'audience sampled every second');
  assert.ok(rep.body.audience.curve.some((s) => s.viewers >= 2), 'the curve counts the viewers');
  assert.equal(rep.body.panelists.find((p) => p.id === wang.id).addressed, 2);
  assert.equal(rep.body.panelists.find((p) => p.id === wang.id).answered, 1);

  // without the producer key: nothing
  assert.equal((await getJson(srv, `/api/sessions/${code}/report.json`, {})).status, 401);
  assert.equal((await getJson(srv, `/api/sessions/${code}/report.json`, { authorization: `Bearer ${moderatorKey}` })).status, 401);
  assert.equal((await getJson(srv, '/api/sessions/NOPE99/report.json')).status, 404);

  // restart: the samples taken before are still there, and sampling goes on
  const samplesBefore = rep.body.audience.curve;
  await mod.close();
  await v1.close();
  await v2.close();
  await producer.close();
  const dbPath = srv.dbPath;
  await srv.stop();
  srv = await h.startServer({ dbPath, producerKey: srv.producerKey, args: ['--sample-secs', '1'] });
  const after = await getJson(srv, `/api/sessions/${code}/report.json`);
  assert.deepEqual(after.body.audience.curve.slice(0, samplesBefore.length), samplesBefore);
  checkReport(after.body, (await getJson(srv, `/api/sessions/${code}/transcript.json`)).body);

  // the programme over a date range: this session in March, nothing in April
  const march = await getJson(srv, `/api/programs/${programId}/report.json?from=2026-03-01&to=2026-03-31`);
  assert.equal(march.status, 200);
  assert.deepEqual(march.body.sessions.map((s) => s.code), [code]);
  assert.equal(march.body.questions.total, 6);
  assert.equal(march.body.questions.answered, 2);
  assert.equal(march.body.commitments.total, 2);
  assert.deepEqual(march.body.panelists.map((p) => [p.name, p.addressed]), [['王书记', 2], ['李主任', 1], ['张教授', 0]]);
  const april = await getJson(srv, `/api/programs/${programId}/report.json?from=2026-04-01&to=2026-04-30`);
  assert.deepEqual(april.body.sessions, []);
  assert.equal(april.body.questions.total, 0);
  assert.equal((await getJson(srv, `/api/programs/${programId}/report.json?from=2026-13-01`)).body.field, 'from');
  assert.equal((await getJson(srv, `/api/programs/${programId}/report.json?to=soon`)).status, 400);
  assert.equal((await getJson(srv, '/api/programs/999/report.json')).status, 404);
  for (const bad of ['from=2026-02-29', 'from=2026-02-30', 'to=2026-3-1', 'from=2026-03-01x', `from=${'9'.repeat(300)}`]) {
    assert.equal((await getJson(srv, `/api/programs/${programId}/report.json?${bad}`)).status, 400, bad);
  }
  for (const path of ['/api/programs/0/report.json', '/api/programs/x1/report.json', '/api/programs/1x/report.json',
    '/api/programs/99999999999999999999999/report.json', '/api/programs//report.json']) {
    assert.equal((await getJson(srv, path)).status, 404, path);
  }
  assert.equal((await getJson(srv, `/api/programs/${programId}/report.json?from=2024-02-29`)).status, 200);
  assert.equal((await getJson(srv, `/api/programs/${programId}/report.json`, {})).status, 401);
});
