// Bad input: every malformed request gets the documented error, changes nothing, and the
// connection stays open.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { chineseText, cpLength, harness, marker, newToken, setupSession, short } from './lib.js';

test('bad input is refused with the documented codes and changes nothing', { timeout: 40000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { code, moderatorKey } = await setupSession(h, srv);
  const mod = await h.moderator(srv, code, moderatorKey);
  const v = await h.viewer(srv, code, { name: '乱发的人' });
  const control = await h.viewer(srv, code, { name: '对照组' });

  // limits: 500 code points accepted (Chinese counts one per character), also after trimming
  const t500 = chineseText(500);
  assert.equal(cpLength(t500), 500);
  assert.ok(Buffer.byteLength(t500) === 1500);
  const ok500 = await v.ok('question.submit', { text: t500 });
  assert.equal(ok500.question.text, t500);
  const padded = await v.ok('question.submit', { text: `  \n\t${chineseText(499)}好 \n ` });
  assert.equal(padded.question.text, `${chineseText(499)}好`, 'surrounding white space is trimmed');
  const emoji = '🏠'.repeat(500); // astral-plane code points, 2 UTF-16 units each
  const okEmoji = await v.ok('question.submit', { text: emoji });
  assert.equal(okEmoji.question.text, emoji);
  const qid = ok500.question.id;
  await mod.ok('poll.create', { title: '草稿', options: ['甲', '乙'] });

  await marker(mod, [control, v], 'baseline');
  const ctlBaseline = (await h.viewer(srv, code, { token: control.token, name: '对照组' })).welcome.snapshot;
  const modBaseline = (await h.moderator(srv, code, moderatorKey, '核对')).welcome.snapshot;
  const vFrom = v.mark();

  const problems = [];
  const expectError = async (type, fields, code_, field) => {
    const r = await v.request(type, fields);
    if (r.type !== 'error' || r.code !== code_ || (field && r.field !== field) || typeof r.message !== 'string') {
      problems.push(`${type} ${short(fields, 120)} -> expected ${code_}${field ? `/${field}` : ''}, got ${short(r, 300)}`);
    }
    return r;
  };
  /** Sends a raw frame; the next message without `re` (or with re=id) must be the error. */
  const expectRawError = async (raw, code_, re) => {
    const from = v.mark();
    v.sendRaw(raw);
    let r;
    try {
      r = await v.waitFor((m) => m.type === 'error' || m.type === 'ack', 5000, from, `error for ${raw.slice(0, 40)}`);
    } catch (e) {
      problems.push(`raw ${short(raw, 80)} -> ${e.message}`);
      return;
    }
    const codes = Array.isArray(code_) ? code_ : [code_];
    if (r.type !== 'error' || !codes.includes(r.code) || (re !== undefined && r.re !== re) ||
        (re === undefined && r.re !== undefined)) {
      problems.push(`raw ${short(raw, 80)} -> expected ${codes.join('|')}${re ? ` re=${re}` : ' without re'}, got ${short(r)}`);
    }
  };

  // malformed JSON
  await expectRawError('{"type":"question.submit","text":"没有闭合', 'bad_json');
  await expectRawError('这不是JSON', 'bad_json');
  await expectRawError('', 'bad_json');
  // unknown type
  await expectError('question.delete', { question_id: qid }, 'unknown_type');
  // a missing type is a missing field (docs do not say; unknown_type is tolerated)
  await expectRawError('{"id":"no-type","text":"缺少type"}', ['bad_request', 'unknown_type'], 'no-type');
  // missing / ill-typed fields
  await expectError('question.submit', {}, 'bad_request', 'text');
  await expectError('question.submit', { text: 42 }, 'bad_request', 'text');
  await expectError('question.submit', { text: null }, 'bad_request', 'text');
  await expectError('question.submit', { text: ['数组'] }, 'bad_request', 'text');
  await expectError('question.submit', { text: '好问题', category: 'complaint' }, 'bad_request', 'category');
  await expectError('question.submit', { text: '好问题', to: 'panelist' }, 'bad_request', 'to');
  await expectError('question.submit', { text: '好问题', parent_id: 0 }, 'bad_request', 'parent_id');
  await expectError('question.submit', { text: '好问题', anonymous: 'yes' }, 'bad_request', 'anonymous');
  await expectError('vote.add', {}, 'bad_request', 'question_id');
  await expectError('vote.add', { question_id: 'abc' }, 'bad_request', 'question_id');
  await expectError('vote.add', { question_id: 1.5 }, 'bad_request', 'question_id');
  await expectError('vote.add', { question_id: -3 }, 'bad_request', 'question_id');
  await expectError('vote.add', { question_id: 0 }, 'bad_request', 'question_id');
  await expectError('vote.add', { question_id: 2 ** 53 }, 'bad_request', 'question_id');
  await expectError('vote.add', { question_id: String(qid) }, 'bad_request', 'question_id');
  await expectError('poll.vote', { poll_id: 1, option_ids: 'all' }, 'bad_request', 'option_ids');
  await expectError('question.edit', { question_id: qid }, 'bad_request', 'text');
  // lengths
  await expectError('question.submit', { text: chineseText(501) }, 'too_long', 'text');
  await expectError('question.submit', { text: '🏠'.repeat(501) }, 'too_long', 'text');
  await expectError('question.edit', { question_id: qid, text: chineseText(501) }, 'too_long', 'text');
  // empty after trimming; control characters
  await expectError('question.submit', { text: '' }, 'bad_request', 'text');
  await expectError('question.submit', { text: '   \n\t  ' }, 'bad_request', 'text');
  await expectError('question.submit', { text: '响铃\u0007字符' }, 'bad_request', 'text');
  // unknown ids
  await expectError('vote.add', { question_id: 987654 }, 'not_found');
  await expectError('question.edit', { question_id: 987654, text: '不存在' }, 'not_found');
  await expectError('question.submit', { text: '问一位不存在的嘉宾', to: 99 }, 'not_found', 'to');
  await expectError('question.submit', { text: '追问不存在的问题', parent_id: 987654 }, 'not_found', 'parent_id');
  await expectError('poll.vote', { poll_id: 987654, option_ids: [1] }, 'not_found');
  // a viewer sending moderator requests
  await expectError('question.approve', { question_id: qid }, 'forbidden');
  await expectError('onair.set', { question_id: qid }, 'forbidden');
  await expectError('panel.set', { banner: '观众不能改横幅' }, 'forbidden');
  // a second hello
  await expectError('hello', { session: code, role: 'viewer', token: v.token }, 'conflict');
  // a request without id gets only an error reply, without re
  await expectRawError(JSON.stringify({ type: 'vote.add', question_id: 'x' }), 'bad_request');
  // an error reply carries the request id
  await expectRawError(JSON.stringify({ type: 'vote.add', id: 'with-id', question_id: 'x' }), 'bad_request', 'with-id');

  // before hello, on another connection
  const fresh = await h.connect(srv, { label: 'fresh' });
  const r = await fresh.request('question.submit', { text: '还没打招呼' });
  if (r.code !== 'unauthorized') problems.push(`request before hello -> ${short(r)}`);
  const r2 = await fresh.request('vote.add', { question_id: qid });
  if (r2.code !== 'unauthorized') problems.push(`request before hello -> ${short(r2)}`);
  assert.ok(fresh.isOpen, 'a request before hello does not close the connection');

  assert.deepEqual(problems, [], `${problems.length} bad requests answered differently from docs/protocol.md`);

  // nothing changed
  assert.ok(v.isOpen, 'bad requests never close the connection');
  assert.equal(v.events(null, vFrom).length, 0, `no event followed any bad request: ${short(v.events(null, vFrom))}`);
  const ctlAfter = (await h.viewer(srv, code, { token: control.token, name: '对照组' })).welcome.snapshot;
  assert.deepEqual(ctlAfter, ctlBaseline, "the control viewer's snapshot is unchanged");
  const modAfter = (await h.moderator(srv, code, moderatorKey, '核对')).welcome.snapshot;
  const { viewers: _a, ...modA } = modAfter;
  const { viewers: _b, ...modB } = modBaseline;
  assert.deepEqual(modA, modB, "the moderator's snapshot is unchanged");
  // and the connection still works
  const vote = await v.request('vote.add', { question_id: qid });
  assert.equal(vote.type, 'ack', short(vote));
  assert.deepEqual(v.badFrames, []);
});

test('protocol abuse closes the connection with the documented close codes', { timeout: 20000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { code } = await setupSession(h, srv);

  const cases = [
    ['binary frame', (c) => c.sendRaw(Buffer.from('{"type":"hello"}'), { binary: true }), 1003],
    ['invalid UTF-8', (c) => c.sendRaw(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), { binary: false }), 1007],
    ['oversize frame', (c) => c.sendRaw(JSON.stringify({ type: 'question.submit', text: 'x'.repeat(70 * 1024) })), 1009],
  ];
  for (const [what, act, want] of cases) {
    const c = await h.viewer(srv, code, { label: what });
    act(c);
    const info = await Promise.race([c.closed, new Promise((r) => setTimeout(() => r(null), 5000))]);
    assert.ok(info, `${what}: the server did not close the connection`);
    assert.equal(info.code, want, `${what}: close code`);
  }
  // the server is fine afterwards
  const ok = await h.viewer(srv, code, { token: newToken() });
  await ok.ok('question.submit', { text: '服务器还好吗？' });
});

test('a connection that sends no hello is closed with 1008', { timeout: 20000 }, async (t) => {
  const h = harness(t);
  // docs: 10 s by default; --hello-timeout shortens it for the test
  const srv = await h.startServer({ args: ['--hello-timeout', '1'] });
  const idle = await h.connect(srv, { label: 'idle' });
  const t0 = Date.now();
  const info = await Promise.race([idle.closed, new Promise((r) => setTimeout(() => r(null), 5000))]);
  assert.ok(info, 'the server did not close a connection without hello');
  assert.equal(info.code, 1008);
  assert.ok(Date.now() - t0 >= 800, `closed too early: ${Date.now() - t0} ms`);
  // a connection that said hello stays
  const { code } = await setupSession(h, srv);
  const v = await h.viewer(srv, code, {});
  await new Promise((r) => setTimeout(r, 1500));
  assert.ok(v.isOpen, 'a connection after hello is not closed by the hello timeout');
});

test('odd but legal framing, and odd JSON', { timeout: 20000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { code, moderatorKey } = await setupSession(h, srv);
  const mod = await h.moderator(srv, code, moderatorKey);
  const v = await h.viewer(srv, code, { name: '边界' });
  const control = await h.viewer(srv, code, { name: '对照' });

  // a message in three WebSocket fragments
  const msg = JSON.stringify({ type: 'question.submit', id: 'frag', text: '分成三段发送的问题' });
  const b = Buffer.from(msg);
  const cut1 = 10;
  const cut2 = b.length - 7; // inside the UTF-8 of the Chinese text is fine for fragments
  v.ws.send(b.subarray(0, cut1), { fin: false, binary: false });
  v.ws.send(b.subarray(cut1, cut2), { fin: false, binary: false });
  v.ws.send(b.subarray(cut2), { fin: true, binary: false });
  const fr = await v.waitFor((m) => m.re === 'frag', 5000, 0, 'reply to the fragmented message');
  assert.equal(fr.type, 'ack', `fragmented message: ${short(fr)}`);
  assert.equal(fr.question.text, '分成三段发送的问题');

  // a frame just under 64 KiB (JSON white space is legal padding)
  const padded = `{"type":"vote.add","id":"big",${' '.repeat(64 * 1024 - 200)}"question_id":${fr.question.id}}`;
  assert.ok(Buffer.byteLength(padded) < 64 * 1024);
  v.sendRaw(padded);
  const big = await v.waitFor((m) => m.re === 'big', 5000, 0, 'reply to a 64 KiB frame');
  assert.equal(big.type, 'ack', `frame just under the limit: ${short(big)}`);

  await marker(mod, [control, v], 'before');
  const snapBefore = (await h.viewer(srv, code, { token: control.token })).welcome.snapshot;
  const problems = [];
  const raw = async (text, codes, re) => {
    const from = v.mark();
    v.sendRaw(text);
    const r = await v.waitFor((m) => m.type === 'error' || m.type === 'ack', 5000, from).catch((e) => ({ type: 'timeout', message: e.message }));
    // bad_json: the id may be unreadable, so re is optional there
    if (r.type !== 'error' || !codes.includes(r.code) || (re && r.code !== 'bad_json' && r.re !== re)) problems.push(`${text.slice(0, 80)} -> expected ${codes.join('|')}, got ${short(r)}`);
  };
  // a lone surrogate escape is not a Unicode scalar value: never stored, never echoed
  await raw('{"type":"question.submit","id":"s1","text":"问题\\ud800结尾"}', ['bad_request', 'bad_json'], 's1');
  await raw('{"type":"question.submit","id":"s2","text":"\\udc00"}', ['bad_request', 'bad_json'], 's2');
  // NUL and other control characters
  await raw('{"type":"question.submit","id":"n1","text":"空\\u0000字符"}', ['bad_request'], 'n1');
  await raw('{"type":"question.submit","id":"n2","text":"退格\\b"}', ['bad_request'], 'n2');
  // deep nesting
  await raw(`{"type":"vote.add","id":"deep","x":${'['.repeat(200)}${']'.repeat(200)},"question_id":1}`, ['bad_json']);
  await raw(`{"type":"vote.add","id":"deep20","x":${'['.repeat(20)}${']'.repeat(20)},"question_id":1}`, ['bad_json']);
  // not one JSON value: trailing bytes, raw control characters in strings
  await raw('{"type":"vote.add","id":"t1","question_id":1} {"type":"vote.add"}', ['bad_json']);
  await raw('{"type":"question.submit","id":"t2","text":"raw\u0001 control"}', ['bad_json']); // a raw U+0001 byte
  // duplicate keys, a JSON array of requests, a bare string
  await raw('[{"type":"vote.add","id":"arr","question_id":1}]', ['bad_json', 'bad_request']);
  await raw('"hello"', ['bad_json', 'bad_request']);
  await raw('null', ['bad_json', 'bad_request']);
  assert.deepEqual(problems, []);
  assert.ok(v.isOpen);
  await marker(mod, [control, v], 'after');
  const snapAfter = (await h.viewer(srv, code, { token: control.token })).welcome.snapshot;
  assert.deepEqual(snapAfter, { ...snapBefore, panel: snapAfter.panel }, 'nothing but the marker banner changed');
  for (const c of [v, control]) assert.deepEqual(c.badFrames, [], `${c.label} received a frame that is not valid JSON`);
});
