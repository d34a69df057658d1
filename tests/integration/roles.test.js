// The role matrix: every request type from every kind of connection gets the documented result.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { harness, marker, newToken, setupSession, short } from './lib.js';

const VIEWER_TYPES = ['question.submit', 'question.edit', 'question.withdraw', 'vote.add', 'vote.remove', 'poll.vote'];
const STAFF_TYPES = [
  'question.approve', 'question.dismiss', 'question.star', 'question.merge', 'onair.set', 'onair.clear',
  'onair.next', 'question.answered', 'queue.set', 'panel.set', 'viewer.ban', 'viewer.unban', 'question.undo',
  'poll.create', 'poll.open', 'poll.close',
];
const PRODUCER_TYPES = [
  'program.create', 'program.update', 'session.create', 'session.update', 'session.open', 'session.start',
  'session.end', 'session.archive', 'session.list', 'session.rotate_key',
];
const ALL_TYPES = [...VIEWER_TYPES, ...STAFF_TYPES, ...PRODUCER_TYPES];

/** Records mismatches instead of stopping at the first, so one run reports the whole matrix. */
class Matrix {
  constructor() { this.problems = []; this.count = 0; }
  async expect(client, type, fields, want, why = '') {
    this.count++;
    let r;
    try {
      r = await client.request(type, fields);
    } catch (e) {
      this.problems.push(`${client.label}: ${type} ${short(fields, 160)} -> ${e.message}`);
      return undefined;
    }
    const got = r.type === 'ack' ? 'ack' : r.type === 'error' ? r.code : `?${r.type}`;
    const wants = Array.isArray(want) ? want : [want];
    if (!wants.includes(got)) {
      this.problems.push(`${client.label}: ${type} ${short(fields, 160)} -> expected ${wants.join('|')}${why ? ` (${why})` : ''}, got ${short(r, 300)}`);
    }
    return r;
  }
  assertClean(what) {
    assert.deepEqual(this.problems, [], `${what}: ${this.problems.length} of ${this.count} results differ from docs/protocol.md`);
  }
}

function stateOf(snapshot) {
  // everything but the volatile connection count
  const { viewers, ...rest } = snapshot;
  return rest;
}

test('role matrix', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const studio = await h.producer(srv);
  const A = await setupSession(h, srv, { producer: studio, blocked_words: ['违禁'], title: '会场A' });
  const B = await setupSession(h, srv, { producer: studio, programId: A.programId, title: '会场B' });
  const C = await setupSession(h, srv, { producer: studio, programId: A.programId, title: '会场C', open: false });
  const programId = A.programId;

  const mod = await h.moderator(srv, A.code, A.moderatorKey, '甲主持');
  const modB = await h.moderator(srv, B.code, B.moderatorKey, '乙主持');
  const prodA = await h.producer(srv, A.code, '制片人');
  const viewer = await h.viewer(srv, A.code, { name: '观众小王', label: 'viewer' });
  const banned = await h.viewer(srv, A.code, { name: '观众小李', label: 'banned' });
  const helper = await h.viewer(srv, A.code, { name: '观众小赵', label: 'helper' });
  const helper2 = await h.viewer(srv, A.code, { name: '观众小钱', label: 'helper2' });
  const viewerC = await h.viewer(srv, C.code, { name: '会场C观众', label: 'viewerC' });
  const allViewers = [viewer, banned, helper, helper2, viewerC];

  // seed: published questions (staff submissions), pending questions (blocked word), polls
  let seedN = 0;
  const seed = async (by = mod) => (await by.ok('question.submit', {
    text: `热线问题${++seedN}：小区绿化带被占用怎么办？`, source: 'phone', author: '热线听众',
  })).question.id;
  const qPub = await seed();
  const qPub2 = await seed();
  const pendingFor = [];
  for (let i = 0; i < 3; i++) {
    const r = await helper.ok('question.submit', { text: `含违禁内容的提问${i}` });
    assert.equal(r.question.state, 'pending');
    pendingFor.push(r.question.id);
  }
  const pollOpen = (await mod.ok('poll.create', { title: '投票', options: ['好', '不好'] })).poll.id;
  await mod.ok('poll.open', { poll_id: pollOpen });
  const pollDraft = (await mod.ok('poll.create', { title: '草稿投票', options: ['甲', '乙'] })).poll.id;
  const bannedOwn = (await banned.ok('question.submit', { text: '被禁言之前提的问题' })).question.id;

  // valid fields for every type (used where the answer must be a refusal)
  const F = {
    'question.submit': { text: '随便问问' },
    'question.edit': { question_id: qPub, text: '改一改' },
    'question.withdraw': { question_id: qPub },
    'vote.add': { question_id: qPub },
    'vote.remove': { question_id: qPub },
    'poll.vote': { poll_id: pollOpen, option_ids: [1] },
    'question.approve': { question_id: pendingFor[0] },
    'question.dismiss': { question_id: qPub, reason: '测试' },
    'question.star': { question_id: qPub, starred: true },
    'question.merge': { question_id: qPub2, into_id: qPub },
    'onair.set': { question_id: qPub },
    'onair.clear': {},
    'onair.next': {},
    'question.answered': { question_id: qPub, note: '答' },
    'queue.set': { question_ids: [qPub] },
    'panel.set': { banner: '横幅' },
    'viewer.ban': { viewer_id: helper2.viewerId },
    'viewer.unban': { viewer_id: helper2.viewerId },
    'question.undo': {},
    'poll.create': { title: '新投票', options: ['一', '二'] },
    'poll.open': { poll_id: pollDraft },
    'poll.close': { poll_id: pollOpen },
    'program.create': { title: '新节目' },
    'program.update': { program_id: programId, title: '改名的节目' },
    'session.create': { program_id: programId, title: '新一期' },
    'session.update': { session: A.code, title: '改名的一期' },
    'session.open': { session: C.code },
    'session.start': { session: A.code },
    'session.end': { session: A.code },
    'session.archive': { session: A.code },
    'session.list': {},
    'session.rotate_key': { session: A.code },
  };
  assert.deepEqual(Object.keys(F).sort(), [...ALL_TYPES].sort());

  let rotatedKey = null;
  const snapA = async () => stateOf((await h.moderator(srv, A.code, A.moderatorKey, '核对')).welcome.snapshot);
  const baseline = await snapA();

  await t.test('no hello: unauthorized', async () => {
    const m = new Matrix();
    const anon = await h.connect(srv, { label: 'no-hello' });
    for (const type of ALL_TYPES) await m.expect(anon, type, F[type], 'unauthorized');
    // failed hellos
    await m.expect(anon, 'hello', { session: 'ZZZZZZ', role: 'viewer', token: newToken() }, 'not_found');
    await m.expect(anon, 'hello', { session: A.code, role: 'moderator', token: B.moderatorKey }, 'unauthorized');
    await m.expect(anon, 'hello', { session: A.code, role: 'moderator', token: 'x'.repeat(24) }, 'unauthorized');
    await m.expect(anon, 'hello', { session: A.code, role: 'producer', token: 'wrong-producer-key-000000' }, 'unauthorized');
    await m.expect(anon, 'hello', { session: null, role: 'producer', token: A.moderatorKey }, 'unauthorized');
    await m.expect(anon, 'hello', { session: A.code, role: 'viewer', token: 'short' }, ['bad_request', 'unauthorized'],
      'device token must be 22..128 characters');
    // still usable afterwards
    await m.expect(anon, 'vote.add', F['vote.add'], 'unauthorized');
    const w = await anon.hello(A.code, 'viewer', newToken());
    assert.equal(w.type, 'welcome', short(w));
    m.assertClean('no hello');
    assert.deepEqual(await snapA(), baseline, 'refused requests changed nothing');
  });

  await t.test('viewer: viewer requests acked, everything else forbidden', async () => {
    const m = new Matrix();
    for (const type of [...STAFF_TYPES, ...PRODUCER_TYPES]) await m.expect(viewer, type, F[type], 'forbidden');
    // someone else's question
    await m.expect(viewer, 'question.edit', { question_id: qPub, text: '别人的问题' }, 'forbidden', 'not the author');
    await m.expect(viewer, 'question.withdraw', { question_id: qPub }, 'forbidden', 'not the author');
    m.assertClean('viewer refusals');
    assert.deepEqual(await snapA(), baseline, 'refused requests changed nothing');

    const sub = await m.expect(viewer, 'question.submit', { text: '我自己的问题：路灯什么时候修？' }, 'ack');
    const own = sub?.question?.id;
    await m.expect(viewer, 'question.edit', { question_id: own, text: '我自己的问题：坏了三个月的路灯什么时候修？' }, 'ack');
    await m.expect(viewer, 'vote.add', { question_id: qPub }, 'ack');
    await m.expect(viewer, 'vote.remove', { question_id: qPub }, 'ack');
    await m.expect(viewer, 'poll.vote', { poll_id: pollOpen, option_ids: [1] }, 'ack');
    await m.expect(viewer, 'question.withdraw', { question_id: own }, 'ack');
    m.assertClean('viewer requests');
  });

  await t.test('banned viewer: writes get banned', async () => {
    const m = new Matrix();
    const from = helper.mark();
    await mod.ok('viewer.ban', { viewer_id: banned.viewerId });
    await mod.waitEvent('viewer.banned', (e) => e.viewer_id === banned.viewerId);
    await marker(mod, [helper, banned], 'after-ban');
    assert.equal(helper.events('viewer.banned', from).length, 0, 'viewer.banned is staff-only');
    assert.equal(banned.events('viewer.banned').length, 0, 'viewer.banned is staff-only');

    const bannedAgain = await h.viewer(srv, A.code, { token: banned.token, label: 'banned-reconnected' });
    for (const who of [banned, bannedAgain]) {
      await m.expect(who, 'question.submit', { text: '禁言后提问' }, 'banned');
      await m.expect(who, 'question.edit', { question_id: bannedOwn, text: '禁言后修改' }, 'banned');
      await m.expect(who, 'question.withdraw', { question_id: bannedOwn }, 'banned');
      await m.expect(who, 'vote.add', { question_id: qPub }, 'banned');
      await m.expect(who, 'vote.remove', { question_id: qPub }, 'banned');
      await m.expect(who, 'poll.vote', { poll_id: pollOpen, option_ids: [2] }, 'banned');
    }
    // not staff either (docs leave the order of the two checks open)
    for (const type of [...STAFF_TYPES, ...PRODUCER_TYPES]) await m.expect(banned, type, F[type], ['forbidden', 'banned']);
    // bans are per session: the same device in session B may write
    const inB = await h.viewer(srv, B.code, { token: banned.token, label: 'banned-in-B' });
    await m.expect(inB, 'question.submit', { text: '在另一个会场提问' }, 'ack', 'bans are per session');
    m.assertClean('banned viewer');

    await mod.ok('viewer.unban', { viewer_id: banned.viewerId });
    await mod.waitEvent('viewer.unbanned', (e) => e.viewer_id === banned.viewerId);
    const after = await banned.request('vote.add', { question_id: qPub });
    assert.equal(after.type, 'ack', `after unban: ${short(after)}`);
  });

  await t.test('moderator of another session: its own session only', async () => {
    const m = new Matrix();
    const before = await snapA();
    await m.expect(await h.connect(srv, { label: 'modB-into-A' }), 'hello',
      { session: A.code, role: 'moderator', token: B.moderatorKey }, 'unauthorized');
    // questions of session A named on a session-B connection
    const wrongSession = ['not_found', 'forbidden'];
    await m.expect(modB, 'question.approve', { question_id: pendingFor[0] }, wrongSession);
    await m.expect(modB, 'question.dismiss', { question_id: qPub }, wrongSession);
    await m.expect(modB, 'question.star', { question_id: qPub, starred: true }, wrongSession);
    await m.expect(modB, 'question.edit', { question_id: qPub, text: '跨会场修改' }, wrongSession);
    await m.expect(modB, 'onair.set', { question_id: qPub }, wrongSession);
    await m.expect(modB, 'question.answered', { question_id: qPub }, wrongSession);
    await m.expect(modB, 'queue.set', { question_ids: [qPub] }, wrongSession);
    await m.expect(modB, 'poll.close', { poll_id: pollOpen }, wrongSession);
    await m.expect(modB, 'poll.open', { poll_id: pollDraft }, wrongSession);
    for (const type of PRODUCER_TYPES) await m.expect(modB, type, F[type], 'forbidden');
    for (const type of ['vote.add', 'vote.remove', 'poll.vote', 'question.withdraw']) {
      await m.expect(modB, type, F[type], ['forbidden', 'not_found']);
    }
    // its own session works
    await m.expect(modB, 'panel.set', { banner: '会场B的横幅' }, 'ack');
    m.assertClean('moderator of another session');
    assert.deepEqual(await snapA(), before, 'session A unchanged by the other moderator');
  });

  /** Every staff request acked, viewer-only and producer requests forbidden. */
  async function staffMatrix(actor, pendingId, label) {
    const m = new Matrix();
    for (const type of ['vote.add', 'vote.remove', 'poll.vote', 'question.withdraw']) {
      await m.expect(actor, type, F[type], 'forbidden', 'viewer-only request');
    }
    const q = [];
    for (let i = 0; i < 6; i++) {
      const r = await m.expect(actor, 'question.submit', {
        text: `${label}代提问${i}：社区养老服务点的开放时间？`, source: i % 2 ? 'paper' : 'visit', author: i === 3 ? null : '来访居民',
      }, 'ack');
      if (r?.type === 'ack') {
        assert.equal(r.question.state, 'published', 'staff submissions are published directly');
        assert.equal(r.question.source, i % 2 ? 'paper' : 'visit');
      }
      q.push(r?.question?.id);
    }
    await m.expect(actor, 'question.approve', { question_id: pendingId }, 'ack');
    await m.expect(actor, 'question.edit', { question_id: q[0], text: `${label}改过的问题` }, 'ack');
    await m.expect(actor, 'question.star', { question_id: q[0], starred: true }, 'ack');
    await m.expect(actor, 'question.undo', {}, 'ack');
    await m.expect(actor, 'question.merge', { question_id: q[1], into_id: q[0] }, 'ack');
    await m.expect(actor, 'question.dismiss', { question_id: q[2], reason: '重复' }, 'ack');
    await m.expect(actor, 'onair.set', { question_id: q[3] }, 'ack');
    await m.expect(actor, 'onair.clear', {}, 'ack');
    await m.expect(actor, 'queue.set', { question_ids: [q[4], q[5]] }, 'ack');
    await m.expect(actor, 'onair.next', {}, 'ack');
    await m.expect(actor, 'question.answered', { question_id: q[4], note: `${label}的答复` }, 'ack');
    await m.expect(actor, 'panel.set', { segment_id: 1, speaker_ids: [1, 2], banner: `${label}的横幅` }, 'ack');
    await m.expect(actor, 'viewer.ban', { viewer_id: helper2.viewerId }, 'ack');
    await m.expect(actor, 'viewer.unban', { viewer_id: helper2.viewerId }, 'ack');
    const pc = await m.expect(actor, 'poll.create', { title: `${label}的投票`, options: ['同意', '反对'], multi: true }, 'ack');
    await m.expect(actor, 'poll.open', { poll_id: pc?.poll?.id }, 'ack');
    await m.expect(actor, 'poll.close', { poll_id: pc?.poll?.id }, 'ack');
    return m;
  }

  await t.test('moderator: staff requests acked; viewer-only and producer requests forbidden', async () => {
    const m = await staffMatrix(mod, pendingFor[1], '主持人');
    for (const type of PRODUCER_TYPES) await m.expect(mod, type, F[type], 'forbidden');
    m.assertClean('moderator');
  });

  await t.test('producer: staff requests and producer requests acked', async () => {
    const m = await staffMatrix(prodA, pendingFor[2], '制片人');
    // the studio-wide connection names the session
    await m.expect(studio, 'panel.set', { session: A.code, banner: '演播室的横幅' }, 'ack');
    const p = await m.expect(studio, 'program.create', { title: '新节目：社区议事厅', description: '每月一期' }, 'ack');
    assert.ok(Number.isInteger(p?.program?.id), short(p));
    await m.expect(studio, 'program.update', { program_id: p?.program?.id, title: '社区议事厅' }, 'ack');
    const s = await m.expect(studio, 'session.create', { program_id: p?.program?.id, title: '第一期' }, 'ack');
    assert.equal(typeof s?.moderator_key, 'string');
    const sc = s?.session?.code;
    await m.expect(studio, 'session.update', { session: sc, title: '第一期（改期）', premoderation: true }, 'ack');
    await m.expect(studio, 'session.open', { session: C.code }, 'ack');
    const rot = await m.expect(studio, 'session.rotate_key', { session: C.code }, 'ack');
    assert.equal(typeof rot?.moderator_key, 'string');
    assert.notEqual(rot.moderator_key, C.moderatorKey);
    rotatedKey = rot.moderator_key;
    await m.expect(studio, 'session.start', { session: C.code }, 'ack');
    await m.expect(studio, 'session.start', { session: C.code }, 'conflict', 'wrong transition');
    await m.expect(studio, 'session.end', { session: C.code }, 'ack');
    await m.expect(studio, 'session.archive', { session: C.code }, 'ack');
    // docs: "In archived every write gets session_closed" and "Wrong transitions: conflict"
    await m.expect(studio, 'session.open', { session: C.code }, ['session_closed', 'conflict'], 'archived cannot reopen');
    const list = await m.expect(studio, 'session.list', {}, 'ack');
    assert.ok(Array.isArray(list?.programs) && Array.isArray(list?.sessions), short(list));
    assert.ok(list.sessions.some((x) => x.code === C.code && x.status === 'archived'));
    m.assertClean('producer');

    // the rotated key works, the old one no longer does
    const oldKey = await (await h.connect(srv)).hello(C.code, 'moderator', C.moderatorKey);
    assert.equal(oldKey.code, 'unauthorized', `old key after rotation: ${short(oldKey)}`);
    const newKey = await (await h.connect(srv)).hello(C.code, 'moderator', rot.moderator_key);
    assert.equal(newKey.type, 'welcome', `new key after rotation: ${short(newKey)}`);
    // a producer on a session-bound connection acts on that session without naming it
    const prodB = await h.producer(srv, B.code);
    const st = await prodB.request('session.start', {});
    assert.equal(st.type, 'ack', `session.start on a session-bound producer connection: ${short(st)}`);
    assert.equal(st.session?.status, 'live');
  });

  await t.test('keys never reach a viewer', async () => {
    await marker(mod, [viewer, banned, helper, helper2], 'final');
    await viewerC.waitEvent('session.changed', (e) => e.session?.status === 'archived');
    const secrets = [A.moderatorKey, B.moderatorKey, C.moderatorKey, srv.producerKey, rotatedKey]
      .filter(Boolean);
    for (const v of allViewers) {
      assert.ok(v.raw.length > 0);
      for (const frame of v.raw) {
        for (const s of secrets) {
          assert.equal(frame.includes(s), false, `${v.label} received a key in: ${frame.slice(0, 300)}`);
        }
        assert.equal(/moderator_key|key_hash|producer_key/.test(frame), false, `${v.label}: key field in ${frame.slice(0, 300)}`);
      }
    }
  });
});
