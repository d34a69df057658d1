// 4. Role matrix and secrets. Every request type from every role (no hello, viewer, banned viewer,
// moderator of another session, moderator, producer) gets the documented result: refusals are
// exact (unauthorized / forbidden / banned), and what a role may do is never refused for its role.
// A moderator bound to session B cannot touch session A whatever it names. Keys (producer key,
// moderator keys, rotated keys) and device tokens never appear in any frame a viewer receives,
// nor in forumd's stdout/stderr after the start-up banner (which prints a generated producer key
// once, by design), nor in HTTP answers anyone can fetch; the database holds none of them.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { harness, httpGet, marker, newToken, setupSession, short, sqlite, startForumd } from './rlib.js';

const VIEWER_ONLY = ['vote.add', 'vote.remove', 'poll.vote', 'question.withdraw'];
const VIEWER_TYPES = ['question.submit', 'question.edit', ...VIEWER_ONLY];
const STAFF_TYPES = [
  'question.approve', 'question.dismiss', 'question.star', 'question.merge', 'onair.set', 'onair.clear',
  'onair.next', 'question.answered', 'queue.set', 'panel.set', 'viewer.ban', 'viewer.unban', 'question.undo',
  'poll.create', 'poll.open', 'poll.close', 'action.create', 'action.update',
];
const PRODUCER_TYPES = [
  'program.create', 'program.update', 'session.create', 'session.update', 'session.open', 'session.start',
  'session.end', 'session.archive', 'session.list', 'session.rotate_key', 'session.carry_over', 'search',
  'backup', 'viewer.erase',
];
const ALL = [...VIEWER_TYPES, ...STAFF_TYPES, ...PRODUCER_TYPES];
const REFUSALS = new Set(['unauthorized', 'forbidden', 'banned']);

test('role matrix: every request type from every role; keys never leak', { timeout: 90000 }, async (t) => {
  const h = harness(t);
  // no --producer-key: forumd generates one and prints it once in the start-up banner
  const srv = h.track(await startForumd({ producerKey: null }));
  const banner = srv.stdout.slice(0, srv.startupStdoutLen);
  const pk = banner.match(/producer key: (\S+)/)?.[1];
  assert.ok(pk && pk.length >= 16, `a generated producer key is printed at start-up:\n${banner}`);
  srv.producerKey = pk;

  const studio = await h.producer(srv);
  const A = await setupSession(h, srv, { producer: studio, blocked_words: ['违禁'], title: '会场A' });
  const B = await setupSession(h, srv, { producer: studio, programId: A.programId, title: '会场B' });
  const D = await setupSession(h, srv, { producer: studio, programId: A.programId, title: '会场D', open: false });
  const E = await setupSession(h, srv, { producer: studio, programId: A.programId, title: '会场E' });
  const prodA = await h.producer(srv, A.code, '制片人');
  const mod = await h.moderator(srv, A.code, A.moderatorKey, '甲主持');
  const modB = await h.moderator(srv, B.code, B.moderatorKey, '乙主持');
  const viewer = await h.viewer(srv, A.code, { name: '观众小王', label: 'viewer' });
  const banned = await h.viewer(srv, A.code, { name: '观众小李', label: 'banned' });
  const helper = await h.viewer(srv, A.code, { name: '观众小赵', label: 'helper' });
  const viewerB = await h.viewer(srv, B.code, { name: '会场B观众', label: 'viewerB' });
  const watchers = [viewer, banned, helper, viewerB];

  // objects of session A to act on
  const seed = async (n) => (await mod.ok('question.submit', { text: `热线问题${n}：小区绿化带被占用怎么办？`, source: 'phone', author: '热线听众' })).question.id;
  const qs = [];
  for (let i = 0; i < 12; i++) qs.push(await seed(i));
  const pending = [];
  for (let i = 0; i < 3; i++) pending.push((await helper.ok('question.submit', { text: `含违禁内容的提问${i}` })).question.id);
  const own = (await viewer.ok('question.submit', { text: '我自己的问题：路灯什么时候修？' })).question.id;
  const bannedOwn = (await banned.ok('question.submit', { text: '被禁言之前提的问题' })).question.id;
  const pollOpen = (await mod.ok('poll.create', { title: '投票', options: ['好', '不好'] })).poll.id;
  await mod.ok('poll.open', { poll_id: pollOpen });
  const pollDraft = (await mod.ok('poll.create', { title: '草稿投票', options: ['甲', '乙'] })).poll.id;
  const action = (await mod.ok('action.create', { text: '一周内修好路灯', owner: '街道办' })).action.id;
  await mod.ok('viewer.ban', { viewer_id: banned.viewerId });

  /** Valid fields for each type, aimed at session A's objects; `s` names a session for producers. */
  const fields = (type, s = {}) => ({
    'question.submit': { text: '随便问问' },
    'question.edit': { question_id: own, text: '改一改我的问题' },
    'question.withdraw': { question_id: own },
    'vote.add': { question_id: qs[0] },
    'vote.remove': { question_id: qs[0] },
    'poll.vote': { poll_id: pollOpen, option_ids: [1] },
    'question.approve': { question_id: s.pending ?? pending[0] },
    'question.dismiss': { question_id: s.q?.[0] ?? qs[1], reason: '测试' },
    'question.star': { question_id: s.q?.[1] ?? qs[2], starred: true },
    'question.merge': { question_id: s.q?.[2] ?? qs[3], into_id: s.q?.[3] ?? qs[4] },
    'onair.set': { question_id: s.q?.[4] ?? qs[5] },
    'onair.clear': {},
    'onair.next': {},
    'question.answered': { question_id: s.q?.[5] ?? qs[6], note: '答' },
    'queue.set': { question_ids: [s.q?.[6] ?? qs[7]] },
    'panel.set': { banner: '横幅' },
    'viewer.ban': { viewer_id: helper.viewerId },
    'viewer.unban': { viewer_id: helper.viewerId },
    'question.undo': {},
    'poll.create': { title: '新投票', options: ['一', '二'] },
    'poll.open': { poll_id: pollDraft },
    'poll.close': { poll_id: pollOpen },
    'action.create': { text: '下周回访', owner: '居委会' },
    'action.update': { action_id: action, status: 'in_progress' },
    'program.create': { title: '新节目' },
    'program.update': { program_id: A.programId, title: '改名的节目' },
    'session.create': { program_id: A.programId, title: '新一期' },
    'session.update': { session: D.code, title: '改名的一期' },
    'session.open': { session: D.code },
    'session.start': { session: D.code },
    'session.end': { session: D.code },
    'session.archive': { session: D.code },
    'session.list': {},
    'session.rotate_key': { session: D.code },
    'session.carry_over': { from: A.code, to: E.code },
    search: { q: '绿化带' },
    backup: { path: `roles-${Math.random().toString(36).slice(2)}.db` },
    'viewer.erase': { session: A.code, viewer_id: helper.viewerId },
  }[type]);
  assert.deepEqual(ALL.filter((x) => !fields(x)), [], 'fields for every type');

  const problems = [];
  let count = 0;
  const results = {};
  const check = async (who, role, type, f, ok) => {
    count++;
    let r;
    try {
      r = await who.request(type.split(' ')[0], f); // "question.edit (not the author)" -> question.edit
    } catch (e) {
      problems.push(`${role}: ${type} -> ${e.message}`);
      return undefined;
    }
    const got = r.type === 'ack' ? 'ack' : r.type === 'error' ? r.code : `?${r.type}`;
    (results[role] ??= {})[type] = got;
    const why = ok(got);
    if (why) problems.push(`${role}: ${type} ${short(f, 120)} -> expected ${why}, got ${short(r, 240)}`);
    return r;
  };
  const exactly = (...codes) => (got) => (codes.includes(got) ? null : codes.join('|'));
  const permitted = (got) => (REFUSALS.has(got) ? 'not a refusal (the role may do this)' : null);
  const stateOf = async (code, key) => {
    const c = await h.moderator(srv, code, key, '核对');
    const { viewers: _v, ...rest } = c.welcome.snapshot;
    await c.close();
    return rest;
  };

  // --- no hello: everything unauthorized, and no hello with someone else's key succeeds
  const anon = await h.connect(srv, { label: 'no-hello' });
  for (const type of ALL) await check(anon, 'none', type, fields(type), exactly('unauthorized'));
  for (const [what, hello] of [
    ['moderator key of B for A', { session: A.code, role: 'moderator', token: B.moderatorKey }],
    ['producer key as moderator key', { session: A.code, role: 'moderator', token: pk }],
    ['moderator key as producer key', { session: null, role: 'producer', token: A.moderatorKey }],
    ['viewer token as moderator key', { session: A.code, role: 'moderator', token: viewer.token }],
    ['empty moderator key', { session: A.code, role: 'moderator', token: '' }],
    ['key with a trailing space', { session: A.code, role: 'moderator', token: `${A.moderatorKey} ` }],
    ['key prefix', { session: A.code, role: 'moderator', token: A.moderatorKey.slice(0, -1) }],
    ['producer key, case changed', { session: null, role: 'producer', token: pk.toUpperCase() === pk ? pk.toLowerCase() : pk.toUpperCase() }],
    ['unknown role', { session: A.code, role: 'admin', token: pk }],
  ]) {
    await check(anon, 'none', `hello (${what})`, hello, exactly('unauthorized', 'bad_request'));
    const r = await anon.request('hello', hello).catch(() => null);
    if (r?.type === 'welcome') problems.push(`none: hello (${what}) was welcomed`);
  }

  // --- viewer: viewer requests permitted, everything else forbidden
  for (const type of [...STAFF_TYPES, ...PRODUCER_TYPES]) await check(viewer, 'viewer', type, fields(type), exactly('forbidden'));
  await check(viewer, 'viewer', 'question.edit (not the author)', { question_id: qs[0], text: '别人的问题' }, exactly('forbidden'));
  await check(viewer, 'viewer', 'question.withdraw (not the author)', { question_id: qs[0] }, exactly('forbidden'));
  await check(viewer, 'viewer', 'panel.set naming its own session', { session: A.code, banner: 'x' }, exactly('forbidden'));
  for (const type of VIEWER_TYPES) await check(viewer, 'viewer', type, fields(type), exactly('ack'));

  // --- banned viewer: its writes get banned, staff and producer requests forbidden (or banned)
  for (const type of VIEWER_TYPES) {
    const f = type === 'question.edit' || type === 'question.withdraw' ? { ...fields(type), question_id: bannedOwn } : fields(type);
    await check(banned, 'banned', type, f, exactly('banned'));
  }
  for (const type of [...STAFF_TYPES, ...PRODUCER_TYPES]) await check(banned, 'banned', type, fields(type), exactly('forbidden', 'banned'));

  // --- moderator of session B (connected to B) reaching into A: never permitted
  const OWN_SESSION = ['onair.clear', 'onair.next', 'panel.set', 'question.undo', 'poll.create', 'action.create', 'viewer.ban', 'viewer.unban'];
  const baselineA = await stateOf(A.code, A.moderatorKey);
  // (action.update is the exception, below: docs let a later session follow up an earlier one's items)
  for (const type of STAFF_TYPES.filter((x) => x !== 'action.update')) {
    await check(modB, 'moderator of B', `${type} on A's objects`, fields(type), (got) => {
      // requests without object ids, and bans (per session), act on B itself: fine, as long as
      // A is untouched (checked below)
      if (OWN_SESSION.includes(type)) return null;
      return ['not_found', 'forbidden'].includes(got) ? null : 'not_found|forbidden';
    });
    await check(modB, 'moderator of B', `${type} naming session A`, { ...fields(type), session: A.code }, (got) =>
      (got === 'ack' && !OWN_SESSION.includes(type)
        ? 'not an ack' : null));
  }
  for (const type of PRODUCER_TYPES) await check(modB, 'moderator of B', type, fields(type), exactly('forbidden'));
  for (const type of VIEWER_ONLY) await check(modB, 'moderator of B', type, fields(type), exactly('forbidden', 'not_found'));
  await check(modB, 'moderator of B', 'question.submit naming session A', { session: A.code, text: '跨会场提问', source: 'phone' }, () => null);
  const afterB = await stateOf(A.code, A.moderatorKey);
  assert.deepEqual(afterB, baselineA, "session A is unchanged by everything B's moderator sent");
  await modB.ok('viewer.ban', { viewer_id: helper.viewerId });
  await check(helper, 'viewer', "vote.add in A while banned in B (bans are per session)", { question_id: qs[0] }, exactly('ack'));
  await modB.ok('viewer.unban', { viewer_id: helper.viewerId });
  // docs: action.update acts on items of this session or of an earlier session of the programme
  await check(modB, 'moderator of B', "action.update on an earlier session's item", fields('action.update'), exactly('ack'));
  const F = await setupSession(h, srv, { producer: studio, programId: A.programId, title: '会场F' });
  const laterAction = (await (await h.moderator(srv, F.code, F.moderatorKey)).ok('action.create', { text: '后一期的事项' })).action.id;
  await check(mod, 'moderator', "action.update on a later session's item", { action_id: laterAction, status: 'done' }, exactly('not_found'));

  // --- moderator of A: staff requests permitted, viewer-only and producer requests forbidden
  for (const type of VIEWER_ONLY) await check(mod, 'moderator', type, fields(type), exactly('forbidden'));
  for (const type of PRODUCER_TYPES) await check(mod, 'moderator', type, fields(type), exactly('forbidden'));
  await check(mod, 'moderator', 'question.submit', { text: '代电话观众提问', source: 'phone', author: '热线' }, exactly('ack'));
  await check(mod, 'moderator', 'question.edit (any)', { question_id: qs[0], text: '主持人改过的问题' }, exactly('ack'));
  for (const type of STAFF_TYPES) await check(mod, 'moderator', type, fields(type), permitted);

  // --- producer (session-bound and studio-wide): staff and producer requests permitted
  const more = [];
  for (let i = 0; i < 8; i++) more.push(await seed(100 + i));
  for (const type of VIEWER_ONLY) await check(prodA, 'producer', type, fields(type), exactly('forbidden'));
  for (const type of STAFF_TYPES) {
    await check(prodA, 'producer', type, fields(type, { q: more, pending: pending[1] }), permitted);
  }
  for (const type of PRODUCER_TYPES) await check(studio, 'producer', type, fields(type), permitted);
  await check(studio, 'producer', 'panel.set naming A (studio-wide)', { session: A.code, banner: '演播室' }, exactly('ack'));

  // the matrix must show real permissions, not just the absence of refusals
  const acks = (role) => Object.values(results[role] ?? {}).filter((x) => x === 'ack').length;
  console.log(`# roles: ${count} requests; acks: viewer ${acks('viewer')}, moderator ${acks('moderator')}, producer ${acks('producer')}`);
  for (const [role, res] of Object.entries(results)) {
    console.log(`#   ${role}: ${Object.entries(res).map(([k, v]) => `${k}=${v}`).join(' ')}`.slice(0, 2000));
  }
  assert.ok(acks('moderator') >= STAFF_TYPES.length - 3, `the moderator's staff requests are mostly acked (${acks('moderator')})`);
  assert.ok(acks('producer') >= STAFF_TYPES.length + PRODUCER_TYPES.length - 6, `the producer's requests are mostly acked (${acks('producer')})`);
  assert.deepEqual(problems, [], `${problems.length} of ${count} results differ from docs/protocol.md:\n  - ${problems.join('\n  - ')}`);

  // --- secrets
  const rotated = (await studio.ok('session.rotate_key', { session: B.code })).moderator_key;
  await marker(mod, [viewer, banned, helper], 'final');
  const secrets = {
    'producer key': pk, 'moderator key A': A.moderatorKey, 'moderator key B': B.moderatorKey,
    'moderator key D': D.moderatorKey, 'moderator key E': E.moderatorKey, 'rotated key B': rotated,
  };
  for (const v of watchers) {
    assert.ok(v.raw.length > 0, `${v.label} received frames`);
    const others = watchers.filter((w) => w !== v).map((w) => w.token);
    for (const frame of v.raw) {
      for (const [name, s] of Object.entries(secrets)) {
        assert.equal(frame.includes(s), false, `${v.label} received the ${name} in ${frame.slice(0, 200)}`);
      }
      for (const tok of [v.token, ...others]) assert.equal(frame.includes(tok), false, `${v.label} received a device token`);
      assert.equal(/moderator_key|key_hash|producer_key|"token"/.test(frame), false, `${v.label}: key field in ${frame.slice(0, 200)}`);
    }
    for (const m of v.log) {
      for (const q of [m.question, m.into, ...(m.snapshot?.questions ?? [])].filter(Boolean)) {
        assert.equal('viewer_id' in q, false, `${v.label} received a question with viewer_id: ${short(q)}`);
      }
    }
  }
  // HTTP answers anyone can fetch
  for (const p of ['/metrics', '/healthz', `/api/sessions/${A.code}/transcript.json`, `/s/${A.code}`, '/api/search?q=x']) {
    for (const auth of [{}, { Authorization: `Bearer ${A.moderatorKey}` }, { Authorization: `Bearer ${pk}x` }]) {
      const r = await httpGet(srv, p, auth);
      for (const [name, s] of Object.entries(secrets)) assert.equal(r.text.includes(s), false, `GET ${p} (${short(auth)}) shows the ${name}`);
      if (auth.Authorization && p.startsWith('/api/')) assert.equal(r.status, 401, `GET ${p} with a moderator key or a wrong key: 401`);
    }
  }
  // even the producer's export carries no key
  const tj = await httpGet(srv, `/api/sessions/${A.code}/transcript.json`, { Authorization: `Bearer ${pk}` });
  assert.equal(tj.status, 200);
  for (const [name, s] of Object.entries(secrets)) assert.equal(tj.text.includes(s), false, `transcript.json contains the ${name}`);

  // logs: after the start-up banner, no key and no device token on stdout or stderr
  await srv.stop();
  const later = srv.stdout.slice(srv.startupStdoutLen);
  const logs = { 'stdout after start-up': later, stderr: srv.stderr, 'start-up banner': banner };
  for (const [where, text] of Object.entries(logs)) {
    for (const [name, s] of Object.entries(secrets)) {
      if (where === 'start-up banner' && name === 'producer key') continue; // printed once by design
      assert.equal(text.includes(s), false, `the ${name} appears in forumd's ${where}`);
    }
    for (const v of watchers) assert.equal(text.includes(v.token), false, `a device token appears in forumd's ${where}`);
  }
  assert.equal(banner.split(pk).length - 1, 1, 'the generated producer key is printed exactly once');
  // the database stores hashes only
  const dump = readFileSync(srv.dbPath).toString('latin1') + sqlite(srv.dbPath, '.dump').join('\n');
  for (const [name, s] of Object.entries(secrets)) assert.equal(dump.includes(s), false, `the database contains the ${name} in clear`);
  for (const v of watchers) assert.equal(dump.includes(v.token), false, 'the database contains a device token in clear');
});
