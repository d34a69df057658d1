// Full-text search across every session's questions, answer notes and action items, over the
// protocol (producers) and GET /api/search: Chinese two-character words and English words,
// the programme / date / kind / state filters, and a sensible ranking.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { harness, setupSession, short, sleep } from './lib.js';

const JAN = Date.UTC(2024, 0, 10, 11, 0); // scheduled show dates
const FEB = Date.UTC(2024, 1, 10, 11, 0);

async function get(srv, p, headers = { authorization: `Bearer ${srv.producerKey}` }) {
  const res = await fetch(`${srv.url}${p}`, { headers, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  return { status: res.status, text, json: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null };
}

/** "kind:id" per hit, best first (id: the question's, or the action's for action hits). */
const hits = (results) => results.map((r) => `${r.kind}:${r.kind === 'action' ? r.action_id : r.question_id}`);

test('search finds Chinese and English across sessions, filters and ranks', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const jan = await setupSession(h, srv, { scheduled_at: JAN, title: '一月：停车与电梯' });
  const { producer } = jan;
  const feb = await setupSession(h, srv, { producer, programId: jan.programId, scheduled_at: FEB, title: '二月：社区环境' });
  const other = await setupSession(h, srv, { producer, programTitle: '另一个节目', scheduled_at: FEB });

  const janMod = await h.moderator(srv, jan.code, jan.moderatorKey);
  const febMod = await h.moderator(srv, feb.code, feb.moderatorKey);
  const otherMod = await h.moderator(srv, other.code, other.moderatorKey);
  const ask = async (mod, text, extra = {}) =>
    (await mod.ok('question.submit', { text, source: 'phone', ...extra })).question.id;

  const q1 = await ask(janMod, '小区停车难，晚上回家没有车位', { category: 'need' });
  const q2 = await ask(janMod, 'Will the elevator subsidy cover old buildings?');
  const q3 = await ask(febMod, '停车收费太贵了');
  const q4 = await ask(febMod, '垃圾分类投放点太少');
  const q5 = await ask(febMod, '垃圾分类投放点太远了');
  const q6 = await ask(febMod, '我们楼里老人多，孩子也多，大家希望社区多组织活动，另外想顺便问问垃圾分类怎么做');
  const q7 = await ask(otherMod, '别的节目也有停车问题');
  await janMod.ok('question.answered', { question_id: q1, note: '新建立体停车库，明年投入使用' });
  await janMod.ok('question.answered', { question_id: q2, note: 'Yes, the elevator subsidy covers them.' });
  const a1 = (await janMod.ok('action.create', { question_id: q1, text: '调研停车位改造方案', owner: '街道' })).action.id;
  // votes: q4 gets three, q5 one, q6 many (it must still rank last for 垃圾分类)
  const voters = [];
  for (let i = 0; i < 5; i++) voters.push(await h.viewer(srv, feb.code, { name: `居民${i}` }));
  for (const [i, v] of voters.entries()) {
    if (i < 3) await v.ok('vote.add', { question_id: q4 });
    if (i < 1) await v.ok('vote.add', { question_id: q5 });
    await v.ok('vote.add', { question_id: q6 });
  }
  await sleep(300); // coalesced counts reach the projection

  const search = async (fields) => {
    const r = await producer.request('search', fields);
    assert.equal(r.type, 'ack', `search ${short(fields)}: ${short(r)}`);
    return r.results;
  };

  await t.test('a two-character Chinese word, in questions, answers and actions', async () => {
    const results = await search({ q: '停车' });
    assert.deepEqual(new Set(hits(results)),
      new Set([`question:${q1}`, `answer:${q1}`, `action:${a1}`, `question:${q3}`, `question:${q7}`]));
    const r1 = results.find((r) => r.kind === 'question' && r.question_id === q1);
    assert.equal(r1.text, '小区停车难，晚上回家没有车位');
    assert.equal(r1.session, jan.code);
    assert.equal(r1.session_title, '一月：停车与电梯');
    assert.equal(r1.program, '书记论坛');
    assert.equal(r1.session_date, JAN);
    assert.equal(r1.category, 'need');
    assert.equal(r1.state, 'answered');
    const act = results.find((r) => r.kind === 'action');
    assert.equal(act.text, '调研停车位改造方案');
    assert.equal(act.question_text, '小区停车难，晚上回家没有车位');
    assert.equal(act.owner, '街道');
    assert.equal(act.state, 'open');
    const ans = results.find((r) => r.kind === 'answer');
    assert.equal(ans.text, '新建立体停车库，明年投入使用');
  });

  await t.test('an English word, case-insensitive, all terms required', async () => {
    assert.deepEqual(new Set(hits(await search({ q: 'Elevator' }))), new Set([`question:${q2}`, `answer:${q2}`]));
    assert.deepEqual(hits(await search({ q: 'subsidy covers' })), [`answer:${q2}`]);
    assert.deepEqual(hits(await search({ q: 'elevator nowhere' })), []);
  });

  await t.test('filters: programme, date range, kind, state, limit', async () => {
    const prog = hits(await search({ q: '停车', program_id: jan.programId }));
    assert.ok(!prog.includes(`question:${q7}`) && prog.length === 4, short(prog));
    assert.deepEqual(hits(await search({ q: '停车', program_id: other.programId })), [`question:${q7}`]);
    const febOnly = hits(await search({ q: '停车', from: '2024-02-01', to: '2024-02-29' }));
    assert.deepEqual(new Set(febOnly), new Set([`question:${q3}`, `question:${q7}`]));
    const janMs = hits(await search({ q: '停车', from: JAN - 1000, to: JAN + 1000 }));
    assert.equal(janMs.length, 3, short(janMs));
    assert.deepEqual(hits(await search({ q: '停车', category: 'need' })).sort(),
      [`action:${a1}`, `answer:${q1}`, `question:${q1}`].sort());
    assert.deepEqual(hits(await search({ q: '停车', state: 'published' })).sort(),
      [`question:${q3}`, `question:${q7}`].sort());
    assert.deepEqual(hits(await search({ q: '停车', state: 'open' })), [`action:${a1}`]);
    assert.equal((await search({ q: '停车', limit: 2 })).length, 2);
  });

  await t.test('ranking: relevance first, then votes', async () => {
    // q4 and q5 are about it (short texts), q6 mentions it in passing: q6 comes last despite
    // the most votes; between the two equally relevant ones, more votes first.
    assert.deepEqual(hits(await search({ q: '垃圾分类' })), [`question:${q4}`, `question:${q5}`, `question:${q6}`]);
    // Two-character queries cannot use the index's relevance: votes decide.
    const short2 = hits(await search({ q: '垃圾' }));
    assert.deepEqual(short2, [`question:${q6}`, `question:${q4}`, `question:${q5}`]);
  });

  await t.test('a write acknowledged before the search is found by it', async () => {
    const id = (await producer.ok('question.submit', { session: feb.code, text: '井盖松动很危险', source: 'visit' })).question.id;
    assert.deepEqual(hits(await search({ q: '井盖' })), [`question:${id}`]);
  });

  await t.test('only producers search', async () => {
    const r = await janMod.request('search', { q: '停车' });
    assert.equal(r.code, 'forbidden');
    const v = await voters[0].request('search', { q: '停车' });
    assert.equal(v.code, 'forbidden');
    const bad = await producer.request('search', { q: '停车', from: 'last week' });
    assert.equal(bad.code, 'bad_request');
    assert.equal(bad.field, 'from');
    const empty = await producer.request('search', { q: '   ' });
    assert.equal(empty.code, 'bad_request');
  });

  await t.test('GET /api/search', async () => {
    const r = await get(srv, `/api/search?q=${encodeURIComponent('停车')}&program_id=${jan.programId}&state=answered`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(hits(r.json.results).sort(), [`answer:${q1}`, `question:${q1}`].sort());
    const en = await get(srv, '/api/search?q=elevator+subsidy&limit=1');
    assert.equal(en.status, 200, en.text);
    assert.equal(en.json.results.length, 1);
    const dated = await get(srv, `/api/search?q=${encodeURIComponent('停车')}&from=2024-02-01`);
    assert.deepEqual(new Set(hits(dated.json.results)), new Set([`question:${q3}`, `question:${q7}`]));
    assert.equal((await get(srv, '/api/search?q=x', {})).status, 401);
    assert.equal((await get(srv, '/api/search?q=x', { authorization: `Bearer ${jan.moderatorKey}` })).status, 401);
    const bad = await get(srv, '/api/search?q=x&category=rumour');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.field, 'category');
    assert.equal((await get(srv, '/api/search')).status, 400);
  });
});
