// 3. A barrage of bad frames: truncated JSON, 10,000-deep nesting, wrong types, huge numbers,
// invalid UTF-8, oversize and fragmented-oversize frames, binary frames, unknown types, a flood
// of garbage before hello. Each gets the documented error (connection stays open) or close code,
// and a control viewer of the same session sees nothing change and keeps receiving events.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { OP, RawWs, frame } from './rawws.js';
import { harness, newToken, setupSession, short, sleep, startForumd } from './rlib.js';

test('bad-frame barrage: documented errors and close codes, the control viewer is unaffected', { timeout: 90000 }, async (t) => {
  const h = harness(t);
  const srv = h.track(await startForumd());
  const { code, moderatorKey } = await setupSession(h, srv);
  const mod = await h.moderator(srv, code, moderatorKey);
  const author = await h.viewer(srv, code, { name: '提问者' });
  const q = (await author.ok('question.submit', { text: '小区停车位什么时候能增加？' })).question;
  const control = await h.viewer(srv, code, { name: '对照组' });
  const baseline = (await h.viewer(srv, code, { token: control.token, name: '对照组' })).welcome.snapshot;

  // The moderator keeps the show going: a marker event every 100 ms that the control must see.
  const sentMarkers = [];
  let stopMarkers = false;
  const controlFrom = control.mark();
  const markerLoop = (async () => {
    for (let i = 0; !stopMarkers; i++) {
      const banner = `marker-${i}`;
      await mod.ok('panel.set', { banner });
      sentMarkers.push(banner);
      await sleep(100);
    }
  })();

  const problems = [];
  let cases = 0;
  // ---- errors: one abusive viewer connection, every request answered, the connection stays
  const abuser = await RawWs.open(srv.port);
  const w = await abuser.hello(code, 'viewer', newToken(), { name: '捣乱的人' });
  assert.equal(w.type, 'welcome', short(w));
  let n = 0;
  /** Sends payload (object: JSON with an id added; string/Buffer: raw) and checks the error. */
  const expectError = async (name, payload, codes, field) => {
    cases++;
    const id = `bad${++n}`;
    const from = abuser.objects().length;
    let raw = payload;
    let withId = false;
    if (typeof payload === 'object' && !Buffer.isBuffer(payload)) {
      raw = JSON.stringify({ id, ...payload });
      withId = true;
    }
    abuser.send({ opcode: OP.TEXT, payload: raw });
    let r;
    try {
      r = await abuser.waitObject((o) => (withId ? o.re === id : o.type === 'error' || o.type === 'ack'), 5000, from, name);
    } catch {
      problems.push(`${name}: no reply (close ${short(abuser.closeFrame)})`);
      return;
    }
    const want = Array.isArray(codes) ? codes : [codes];
    if (r.type !== 'error' || !want.includes(r.code) || (field && r.field !== field) || typeof r.message !== 'string') {
      problems.push(`${name}: expected error ${want.join('|')}${field ? ` field ${field}` : ''}, got ${short(r, 300)}`);
    }
  };
  const JSONISH = ['bad_json', 'bad_request'];
  await expectError('truncated JSON', '{"type":"question.submit","id":"t1","text":"半截', 'bad_json');
  await expectError('truncated after a comma', '{"type":"question.submit","id":"t2",', 'bad_json');
  await expectError('trailing garbage', '{"type":"question.submit","text":"x"} trailing', 'bad_json');
  await expectError('not JSON at all', '这不是JSON', 'bad_json');
  await expectError('NaN literal', '{"type":"vote.add","question_id":NaN}', 'bad_json');
  await expectError('single quotes', "{'type':'vote.add'}", 'bad_json');
  await expectError('raw NUL byte', Buffer.from('{"type":"question.submit","text":"a\u0000b"}'), JSONISH);
  await expectError('raw control character in a string', '{"type":"question.submit","text":"a\u0007b"}', JSONISH);
  await expectError('JSON array', '[1,2,3]', JSONISH);
  await expectError('JSON string', '"question.submit"', JSONISH);
  await expectError('JSON number', '42', JSONISH);
  await expectError('JSON null', 'null', JSONISH);
  await expectError('10,000-deep arrays', '['.repeat(10000) + ']'.repeat(10000), JSONISH);
  await expectError('10,000-deep unclosed arrays', '['.repeat(10000), JSONISH);
  await expectError('10,000-deep objects in a field', `{"type":"question.submit","text":${'{"a":'.repeat(10000)}1${'}'.repeat(10000)}}`, JSONISH);
  await expectError('17-deep nesting', `{"type":"question.submit","text":"x","extra":${'['.repeat(16)}${']'.repeat(16)}}`, JSONISH);
  await expectError('wrong type: text is a number', { type: 'question.submit', text: 42 }, 'bad_request', 'text');
  await expectError('wrong type: text is an object', { type: 'question.submit', text: { zh: '问题' } }, 'bad_request', 'text');
  await expectError('wrong type: text is null', { type: 'question.submit', text: null }, 'bad_request', 'text');
  await expectError('wrong type: anonymous is a string', { type: 'question.submit', text: '问题', anonymous: 'yes' }, 'bad_request', 'anonymous');
  await expectError('wrong type: question_id is a string', { type: 'vote.add', question_id: String(q.id) }, 'bad_request', 'question_id');
  await expectError('wrong type: question_id is an array', { type: 'vote.add', question_id: [q.id] }, 'bad_request', 'question_id');
  await expectError('wrong type: option_ids is a number', { type: 'poll.vote', poll_id: 1, option_ids: 1 }, 'bad_request', 'option_ids');
  await expectError('wrong type: type is a number', '{"type":42,"id":"tn"}', ['bad_request', 'unknown_type']);
  await expectError('wrong type: id is a number', '{"type":"question.submit","id":7,"text":42}', ['bad_request']);
  await expectError('missing type', { text: '没有类型' }, ['bad_request', 'unknown_type']);
  for (const [what, lit] of [['1e308', '1e308'], ['1e400 (infinite)', '1e400'], ['2^53 + 1', '9007199254740993'],
    ['2^53', '9007199254740992'], ['a 300-digit integer', '1' + '0'.repeat(300)], ['-1', '-1'], ['0', '0'],
    ['-0', '-0'], ['1.5', '1.5'], ['1e-300', '1e-300'], ['-1e308', '-1e308']]) {
    await expectError(`huge or bad number: question_id ${what}`, `{"type":"vote.add","id":"num${++n}","question_id":${lit}}`, 'bad_request', 'question_id');
  }
  await expectError('huge number: poll option id', `{"type":"poll.vote","id":"po","poll_id":1,"option_ids":[${'9'.repeat(400)}]}`, 'bad_request', 'option_ids');
  await expectError('unknown type', { type: 'question.delete', question_id: q.id }, 'unknown_type');
  await expectError('unknown type, 1,000 characters', { type: 'x'.repeat(1000) }, ['unknown_type', 'bad_request']);
  await expectError('unknown type with a prefix of a known one', { type: 'question.submitX', text: '问题' }, 'unknown_type');
  await expectError('NUL escape in the text', { type: 'question.submit', text: '前\u0000后' }, 'bad_request', 'text');
  await expectError('control character escape in the text', { type: 'question.submit', text: '响铃\u0007' }, 'bad_request', 'text');
  await expectError('text over 500 code points', { type: 'question.submit', text: '长'.repeat(501) }, 'too_long', 'text');
  await expectError('empty text after trimming', { type: 'question.submit', text: ' \n\t ' }, 'bad_request', 'text');
  await expectError('request id over 64 characters', `{"type":"question.submit","id":"${'i'.repeat(65)}","text":42}`, 'bad_request');
  await expectError('a second hello', { type: 'hello', session: code, role: 'viewer', token: newToken() }, 'conflict');
  await expectError('staff request from a viewer', { type: 'question.dismiss', question_id: q.id }, 'forbidden');
  await expectError('vote on a question that does not exist', { type: 'vote.add', question_id: 987654321 }, 'not_found');
  assert.ok(!abuser.closeFrame && !abuser.ended, `bad requests never close the connection (close ${short(abuser.closeFrame)})`);
  // and the abuser's connection still works (removing a vote it never cast: acked, no change)
  const fine = await abuser.request('vote.remove', { question_id: q.id });
  assert.equal(fine.type, 'ack', `the abuser's connection still works: ${short(fine)}`);

  // ---- protocol abuse: each on its own connection, closed with the documented code
  const closeCases = [
    ['invalid UTF-8 (ff fe)', (ws) => ws.send({ opcode: OP.TEXT, payload: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) }), 1007],
    ['invalid UTF-8 split across fragments', (ws) => {
      ws.send({ opcode: OP.TEXT, fin: false, payload: Buffer.from([0x7b, 0x22, 0xe4]) });
      ws.send({ opcode: OP.CONT, fin: true, payload: Buffer.from([0x41, 0x22, 0x7d]) });
    }, 1007],
    ['oversize frame (70 KiB)', (ws) => ws.json({ type: 'question.submit', text: 'x'.repeat(70 * 1024) }), 1009],
    ['fragmented oversize (40 x 4 KiB)', (ws) => {
      for (let i = 0; i < 40; i++) ws.send({ opcode: i ? OP.CONT : OP.TEXT, fin: i === 39, payload: 'y'.repeat(4096) });
    }, 1009],
    ['fragmented oversize without FIN (never ends)', (ws) => {
      for (let i = 0; i < 20; i++) ws.send({ opcode: i ? OP.CONT : OP.TEXT, fin: false, payload: 'z'.repeat(8192) });
    }, 1009],
    ['binary frame', (ws) => ws.send({ opcode: OP.BINARY, payload: Buffer.from('{"type":"vote.add"}') }), 1003],
    ['binary frame before hello', (ws) => ws.send({ opcode: OP.BINARY, payload: Buffer.from([1, 2, 3]) }), 1003, false],
  ];
  for (const [name, act, want, hello = true] of closeCases) {
    cases++;
    const ws = await RawWs.open(srv.port);
    if (hello) await ws.hello(code, 'viewer', newToken());
    act(ws);
    const c = await ws.waitClose(5000);
    if (c.timedOut) problems.push(`${name}: expected close ${want}, the connection stayed open`);
    else if (c.code !== want) problems.push(`${name}: expected close ${want}, got ${c.closeFrame ? c.code : 'TCP close without a close frame'}`);
    ws.destroy();
  }

  // ---- non-JSON floods (docs/protocol.md: "Only protocol abuse (non-JSON floods, oversize frames, no
  // hello within 10 s) closes it"): 2,000 garbage frames at once, before and after hello. Each
  // must be throttled like any request (--rate-messages-per-sec, burst 2x: at most ~100 answered
  // with bad_json, the rest rate_limited) or end with a close (1008); answering all 2,000 at
  // full speed is neither.
  for (const helloFirst of [false, true]) {
    cases++;
    const name = `2,000 non-JSON frames ${helloFirst ? 'after' : 'before'} hello`;
    const flooder = await RawWs.open(srv.port);
    if (helloFirst) await flooder.hello(code, 'viewer', newToken());
    const from = flooder.objects().length;
    // a viewer after hello also receives the session's events (the moderator's markers run
    // meanwhile): those are not answers to the garbage
    const answers = (x) => x.objects().slice(from).filter((o) => o.type !== 'event');
    flooder.write(Buffer.concat(Array.from({ length: 2000 }, (_, i) => frame({ opcode: OP.TEXT, payload: `garbage ${i} {{{` }))));
    await flooder.waitUntil((x) => answers(x).length >= 2000 || x.closeFrame || x.ended, 15000, 'flood answered').catch(() => {});
    const replies = answers(flooder);
    const tally = {};
    for (const o of replies) tally[o.code ?? o.type] = (tally[o.code ?? o.type] ?? 0) + 1;
    const closed = flooder.closeFrame ? `close ${flooder.closeFrame.code}` : flooder.ended ? 'TCP close' : 'still open';
    console.log(`# ${name}: replies ${JSON.stringify(tally)}, ${closed}`);
    const odd = Object.keys(tally).filter((k) => !['bad_json', 'rate_limited'].includes(k));
    if (odd.length) problems.push(`${name}: replies other than bad_json/rate_limited: ${odd.join(', ')}`);
    const throttled = (tally.bad_json ?? 0) <= 150 || flooder.closeFrame?.code === 1008;
    if (!throttled) problems.push(`${name}: ${tally.bad_json} bad_json replies and ${closed}: the flood is neither throttled nor closed (1008)`);
    flooder.destroy();
  }
  abuser.destroy();

  // ---- the control viewer: saw exactly the moderator's markers, all of them, nothing else
  stopMarkers = true;
  await markerLoop;
  const last = sentMarkers[sentMarkers.length - 1];
  await control.waitEvent('panel.changed', (e) => e.panel?.banner === last, 5000, controlFrom);
  const seen = control.events(null, controlFrom);
  const other = seen.filter((e) => e.kind !== 'panel.changed');
  assert.deepEqual(other.map((e) => e.kind), [], `the control viewer saw events caused by the barrage: ${short(other)}`);
  assert.deepEqual(seen.map((e) => e.panel.banner), sentMarkers, 'the control viewer received every marker, in order');
  assert.ok(control.isOpen, 'the control viewer is still connected');
  assert.deepEqual(control.badFrames, []);
  const after = (await h.viewer(srv, code, { token: control.token, name: '对照组' })).welcome.snapshot;
  const strip = (s) => ({ ...s, panel: { ...s.panel, banner: undefined } });
  assert.deepEqual(strip(after), strip(baseline), "the control viewer's snapshot is unchanged (apart from the markers' banner)");
  console.log(`# barrage: ${cases} cases, ${sentMarkers.length} marker events reached the control viewer`);
  assert.deepEqual(problems, [], `${problems.length} of ${cases} bad frames handled differently from docs/protocol.md:\n  - ${problems.join('\n  - ')}`);
});
