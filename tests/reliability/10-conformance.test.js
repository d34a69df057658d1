// 10. Raw-frame conformance: hand-written frames over a raw socket covering the areas of the
// Autobahn test suite sections 1-7 (framing, ping/pong, reserved bits, opcodes, fragmentation,
// UTF-8, close handling). Each case runs on its own connection; every mismatch is collected so
// one run reports the whole table.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { OP, RawWs, closePayload, frame } from './rawws.js';
import { harness, newToken, setupSession, short, startForumd } from './rlib.js';

const probe = (id, pad = '') => JSON.stringify({ type: 'x.probe', id, pad });
/** A probe request of exactly n bytes. */
function probeOfLength(id, n) {
  const base = probe(id, '').length;
  if (n < base) throw new Error(`probe cannot be ${n} bytes`);
  return probe(id, 'p'.repeat(n - base));
}

test('raw-frame conformance (Autobahn sections 1-7 areas)', { timeout: 90000 }, async (t) => {
  const h = harness(t);
  const srv = h.track(await startForumd());
  const { code } = await setupSession(h, srv);
  const problems = [];
  let cases = 0;

  /** A fresh raw connection that said hello as a viewer. */
  const fresh = async () => {
    const ws = await RawWs.open(srv.port);
    const w = await ws.hello(code, 'viewer', newToken());
    if (w.type !== 'welcome') throw new Error(`hello: ${short(w)}`);
    return ws;
  };
  /** The reply to a probe with id must arrive (the connection still works). */
  const replied = (ws, id, ms = 3000) =>
    ws.waitObject((o) => o.re === id, ms, 0, `reply to ${id}`).then(() => true, () => false);

  /**
   * Case expecting the server to close with one of `codes`: a close frame with that status
   * code, null for a close frame without a status, 'tcp' for _Fail the WebSocket Connection_
   * by dropping TCP without a close frame (RFC 6455 7.1.7 allows it where the spec says "fail").
   */
  const expectClose = async (name, act, codes) => {
    cases++;
    const ws = await fresh();
    try {
      await act(ws);
      const c = await ws.waitClose(4000);
      const want = Array.isArray(codes) ? codes : [codes];
      const got = c.closeFrame ? c.code : 'tcp';
      if (c.closeFrame && c.closeFrame.payload.length === 1) {
        problems.push(`${name}: the server's close frame has a 1-byte payload (${c.closeFrame.payload.toString('hex')}), which RFC 6455 5.5.1 forbids`);
      } else if (c.timedOut) problems.push(`${name}: expected close ${want.join('|')}, the connection stayed open`);
      else if (!want.includes(got)) {
        problems.push(`${name}: expected close ${want.join('|')}, got ${c.closeFrame ? `close frame ${c.code} "${c.reason}"` : 'TCP close without a close frame'}`);
      }
    } finally {
      ws.destroy();
    }
  };
  /** Case expecting the connection to stay open and the check to pass. */
  const expectOk = async (name, act, check) => {
    cases++;
    const ws = await fresh();
    try {
      await act(ws);
      const why = await check(ws);
      if (why) problems.push(`${name}: ${why}`);
      if (ws.closeFrame) problems.push(`${name}: unexpected close ${ws.closeFrame.code} "${ws.closeFrame.reason}"`);
    } finally {
      ws.destroy();
    }
  };
  const mustReply = (id) => async (ws) => ((await replied(ws, id)) ? null : `no reply to request ${id} (close ${short(ws.closeFrame)})`);
  const pongWith = (payload) => async (ws) => {
    try {
      await ws.waitUntil((s) => s.frames.find((f) => f.opcode === OP.PONG && f.payload.equals(payload)), 3000, 'pong');
      return null;
    } catch {
      return `no pong with the ${payload.length}-byte payload; frames: ${short(ws.frames.map((f) => [f.opcode, f.payload.length]))}`;
    }
  };

  // --- 1. framing: text messages of every length encoding; binary refused (1003, documented)
  for (const n of [125, 126, 127, 65535, 65536]) {
    await expectOk(`1 text ${n} bytes`, (ws) => ws.text(probeOfLength(`len${n}`, n)), mustReply(`len${n}`));
  }
  await expectOk('1 empty text frame', (ws) => ws.text(''), async (ws) => {
    try {
      await ws.waitObject((o) => o.type === 'error', 3000);
      return ws.objects().find((o) => o.type === 'error').code === 'bad_json' ? null : 'error code is not bad_json';
    } catch { return 'no bad_json error for an empty text message'; }
  });
  await expectOk('1 text with forced 16-bit length', (ws) => ws.send({ opcode: OP.TEXT, payload: probe('l16'), len16: true }), mustReply('l16'));
  await expectClose('1 text 65537 bytes (over --max-frame)', (ws) => ws.text(probeOfLength('big', 65537)), 1009);
  await expectClose('1 binary frame', (ws) => ws.send({ opcode: OP.BINARY, payload: Buffer.from(probe('b')) }), 1003);
  await expectClose('1 empty binary frame', (ws) => ws.send({ opcode: OP.BINARY, payload: Buffer.alloc(0) }), 1003);
  // RFC 6455 5.1: a server MUST close on an unmasked client frame. libwebsockets 4.1.6 does not
  // check the mask bit (its parser only records it), so this is reported, not asserted.
  {
    const ws = await fresh();
    ws.send({ opcode: OP.TEXT, payload: probe('unmasked'), mask: false });
    const c = await ws.waitClose(1500);
    console.log(`# note: unmasked client frame -> ${c.timedOut ? 'accepted, connection stays open (RFC 6455 5.1 says close with 1002; lws 4.1.6 does not check)' : `close ${c.code}`}`);
    ws.destroy();
  }

  // --- 2. ping/pong
  await expectOk('2 ping without payload', (ws) => ws.send({ opcode: OP.PING }), pongWith(Buffer.alloc(0)));
  const p125 = Buffer.alloc(125, 0xfe);
  await expectOk('2 ping with 125-byte binary payload', (ws) => ws.send({ opcode: OP.PING, payload: p125 }), pongWith(p125));
  const bin = Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]);
  await expectOk('2 ping with binary payload', (ws) => ws.send({ opcode: OP.PING, payload: bin }), pongWith(bin));
  await expectOk('2 ping with text payload', (ws) => ws.send({ opcode: OP.PING, payload: Buffer.from('Hello, world!') }), pongWith(Buffer.from('Hello, world!')));
  await expectClose('2 ping with 126-byte payload', (ws) => ws.send({ opcode: OP.PING, payload: Buffer.alloc(126, 1) }), [1002, 'tcp']);
  await expectOk('2 unsolicited pong is ignored', (ws) => { ws.send({ opcode: OP.PONG, payload: Buffer.from('unsolicited') }); ws.text(probe('afterpong')); }, mustReply('afterpong'));
  // RFC 6455 5.5.3 lets an endpoint answer only some of a burst of pings. libwebsockets 4.1.6
  // keeps one pending pong and may answer an earlier ping of the burst rather than the last
  // (docs/security.md, known gaps), so what is asserted is that the burst is answered, with
  // payloads echoed exactly, and that the connection still works afterwards.
  await expectOk('2 ten pings in a row are answered with echoed payloads', (ws) => {
    for (let i = 0; i < 10; i++) ws.send({ opcode: OP.PING, payload: Buffer.from(`ping-${i}`) });
  }, async (ws) => {
    const sent = new Set(Array.from({ length: 10 }, (_, i) => `ping-${i}`));
    try {
      await ws.waitUntil((s) => s.frames.find((f) => f.opcode === OP.PONG), 3000, 'pong');
    } catch {
      return `no pong at all; frames: ${short(ws.frames.map((f) => [f.opcode, f.payload.length]))}`;
    }
    const bad = ws.frames.filter((f) => f.opcode === OP.PONG && !sent.has(f.payload.toString()));
    if (bad.length) return `pong with a payload no ping carried: ${bad[0].payload.toString('hex')}`;
    ws.text(probe('afterpings'));
    return mustReply('afterpings')(ws);
  });
  await expectOk('2 ping split into 1-byte TCP writes', async (ws) => {
    const f = frame({ opcode: OP.PING, payload: Buffer.from('chopped') });
    for (const b of f) { ws.write(Buffer.from([b])); await new Promise((r) => setTimeout(r, 2)); }
  }, pongWith(Buffer.from('chopped')));

  // --- 3. reserved bits
  for (const [rsv, op, name] of [[4, OP.TEXT, 'RSV1 text'], [2, OP.TEXT, 'RSV2 text'], [1, OP.TEXT, 'RSV3 text'],
    [7, OP.TEXT, 'RSV1-3 text'], [3, OP.PING, 'RSV2+3 ping'], [5, OP.BINARY, 'RSV1+3 binary'], [6, OP.CLOSE, 'RSV1+2 close']]) {
    const payload = op === OP.CLOSE ? closePayload(1000) : Buffer.from(probe('rsv'));
    await expectClose(`3 ${name}`, (ws) => ws.send({ opcode: op, rsv, payload }), 1002);
  }
  await expectClose('3 valid text, then RSV1 text', (ws) => { ws.text(probe('before')); ws.send({ opcode: OP.TEXT, rsv: 4, payload: probe('x') }); }, 1002);

  // --- 4. opcodes
  for (const op of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    await expectClose(`4 reserved opcode ${op}`, (ws) => ws.send({ opcode: op, payload: Buffer.from('reserved') }), 1002);
  }

  // --- 5. fragmentation
  await expectOk('5 text in two fragments', (ws) => {
    const s = probe('frag2');
    ws.send({ opcode: OP.TEXT, fin: false, payload: s.slice(0, 10) });
    ws.send({ opcode: OP.CONT, fin: true, payload: s.slice(10) });
  }, mustReply('frag2'));
  await expectOk('5 text in 1-byte fragments', (ws) => {
    const s = Buffer.from(probe('frag1'));
    for (let i = 0; i < s.length; i++) ws.send({ opcode: i === 0 ? OP.TEXT : OP.CONT, fin: i === s.length - 1, payload: s.subarray(i, i + 1) });
  }, mustReply('frag1'));
  await expectOk('5 empty fragments around the text', (ws) => {
    ws.send({ opcode: OP.TEXT, fin: false, payload: '' });
    ws.send({ opcode: OP.CONT, fin: false, payload: probe('fragE') });
    ws.send({ opcode: OP.CONT, fin: true, payload: '' });
  }, mustReply('fragE'));
  await expectOk('5 ping interleaved in a fragmented text', (ws) => {
    const s = probe('fragping');
    ws.send({ opcode: OP.TEXT, fin: false, payload: s.slice(0, 8) });
    ws.send({ opcode: OP.PING, payload: Buffer.from('between') });
    ws.send({ opcode: OP.CONT, fin: true, payload: s.slice(8) });
  }, async (ws) => (await pongWith(Buffer.from('between'))(ws)) ?? (await mustReply('fragping')(ws)));
  await expectOk('5 pong interleaved in a fragmented text', (ws) => {
    const s = probe('fragpong');
    ws.send({ opcode: OP.TEXT, fin: false, payload: s.slice(0, 8) });
    ws.send({ opcode: OP.PONG, payload: Buffer.from('between') });
    ws.send({ opcode: OP.CONT, fin: true, payload: s.slice(8) });
  }, mustReply('fragpong'));
  await expectClose('5 fragmented ping', (ws) => {
    ws.send({ opcode: OP.PING, fin: false, payload: Buffer.from('frag') });
    ws.send({ opcode: OP.CONT, fin: true, payload: Buffer.from('ment') });
  }, 1002);
  await expectClose('5 fragmented pong', (ws) => {
    ws.send({ opcode: OP.PONG, fin: false, payload: Buffer.from('frag') });
    ws.send({ opcode: OP.CONT, fin: true, payload: Buffer.from('ment') });
  }, 1002);
  await expectClose('5 continuation without start (fin)', (ws) => ws.send({ opcode: OP.CONT, fin: true, payload: probe('c') }), 1002);
  await expectClose('5 continuation without start (not fin)', (ws) => ws.send({ opcode: OP.CONT, fin: false, payload: probe('c') }), 1002);
  await expectClose('5 new text frame inside a fragmented text', (ws) => {
    ws.send({ opcode: OP.TEXT, fin: false, payload: '{"type":' });
    ws.send({ opcode: OP.TEXT, fin: true, payload: probe('n') });
  }, 1002);
  await expectClose('5 continuation after a complete text', (ws) => {
    ws.text(probe('done'));
    ws.send({ opcode: OP.CONT, fin: true, payload: probe('late') });
  }, 1002);
  await expectClose('5 fragmented text over --max-frame (2 x 40 KiB)', (ws) => {
    const s = probeOfLength('fbig', 80 * 1024);
    ws.send({ opcode: OP.TEXT, fin: false, payload: s.slice(0, 40 * 1024) });
    ws.send({ opcode: OP.CONT, fin: true, payload: s.slice(40 * 1024) });
  }, 1009);
  await expectClose('5 binary in fragments', (ws) => {
    ws.send({ opcode: OP.BINARY, fin: false, payload: Buffer.from('ab') });
    ws.send({ opcode: OP.CONT, fin: true, payload: Buffer.from('cd') });
  }, 1003);

  // --- 6. UTF-8
  const utf8Cases = [
    ['0xff byte', Buffer.from([0xff])],
    ['lone continuation byte', Buffer.from([0x80])],
    ['overlong "/" (c0 af)', Buffer.from([0xc0, 0xaf])],
    ['overlong NUL (e0 80 80)', Buffer.from([0xe0, 0x80, 0x80])],
    ['UTF-16 surrogate (ed a0 80)', Buffer.from([0xed, 0xa0, 0x80])],
    ['code point > U+10FFFF (f4 90 80 80)', Buffer.from([0xf4, 0x90, 0x80, 0x80])],
    ['truncated 3-byte sequence at the end', Buffer.from([0xe4, 0xb8])],
  ];
  for (const [name, bad] of utf8Cases) {
    const msg = Buffer.concat([Buffer.from('{"type":"x.probe","id":"u","pad":"'), bad, Buffer.from('"}')]);
    await expectClose(`6 invalid UTF-8: ${name}`, (ws) => ws.send({ opcode: OP.TEXT, payload: msg }), 1007);
  }
  await expectClose('6 invalid UTF-8 in the second fragment', (ws) => {
    ws.send({ opcode: OP.TEXT, fin: false, payload: '{"type":"x.probe","id":"u2","pad":"好' });
    ws.send({ opcode: OP.CONT, fin: true, payload: Buffer.concat([Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]) });
  }, 1007);
  await expectClose('6 invalid UTF-8 split across fragments (e4 | 28)', (ws) => {
    ws.send({ opcode: OP.TEXT, fin: false, payload: Buffer.concat([Buffer.from('{"type":"x.probe","id":"u3","pad":"'), Buffer.from([0xe4])]) });
    ws.send({ opcode: OP.CONT, fin: true, payload: Buffer.concat([Buffer.from([0x28]), Buffer.from('"}')]) });
  }, 1007);
  await expectClose('6 truncated sequence at the end of the last fragment', (ws) => {
    ws.send({ opcode: OP.TEXT, fin: false, payload: '{"type":"x.probe","id":"u4"}' });
    ws.send({ opcode: OP.CONT, fin: true, payload: Buffer.from([0xe4, 0xb8]) });
  }, 1007);
  await expectOk('6 valid code points split across fragments', (ws) => {
    const s = Buffer.from(probe('split', '书记论坛🏠κόσμε'));
    const cuts = [35, 36, 37, 41, 52];
    let prev = 0;
    cuts.forEach((c, i) => { ws.send({ opcode: i === 0 ? OP.TEXT : OP.CONT, fin: false, payload: s.subarray(prev, c) }); prev = c; });
    ws.send({ opcode: OP.CONT, fin: true, payload: s.subarray(prev) });
  }, mustReply('split'));
  await expectOk('6 valid UTF-8 (all planes) in one frame', (ws) => ws.text(probe('valid', 'κόσμε 书记 𝄞 \u{10FFFF} \u00e9')), mustReply('valid'));

  // --- 7. close handling
  await expectClose('7 close without payload', (ws) => ws.send({ opcode: OP.CLOSE }), [null, 1000]);
  await expectClose('7 close 1000 with reason', (ws) => ws.send({ opcode: OP.CLOSE, payload: closePayload(1000, 'bye') }), 1000);
  await expectClose('7 close with a 1-byte payload', (ws) => ws.send({ opcode: OP.CLOSE, payload: Buffer.from([0x03]) }), 1002);
  await expectClose('7 close with a 126-byte payload', (ws) => ws.send({ opcode: OP.CLOSE, payload: closePayload(1000, 'x'.repeat(124)) }), [1002, 'tcp']);
  await expectClose('7 close reason with invalid UTF-8', (ws) => ws.send({ opcode: OP.CLOSE, payload: Buffer.concat([closePayload(1000), Buffer.from([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64])]) }), [1007, 'tcp']);
  await expectClose('7 close with a 123-byte reason', (ws) => ws.send({ opcode: OP.CLOSE, payload: closePayload(1000, 'r'.repeat(123)) }), 1000);
  for (const c of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999]) {
    await expectClose(`7 valid close code ${c} is echoed`, (ws) => ws.send({ opcode: OP.CLOSE, payload: closePayload(c) }), c);
  }
  for (const c of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999]) {
    await expectClose(`7 invalid close code ${c}`, (ws) => ws.send({ opcode: OP.CLOSE, payload: closePayload(c) }), [1002, 'tcp']);
  }
  // 1012-1014 were registered after RFC 6455 and codes >= 5000 are outside every range: Autobahn
  // treats these as informational, so either an echo or 1002 passes.
  for (const c of [1012, 1013, 1014, 5000, 65535]) {
    await expectClose(`7 close code ${c}`, (ws) => ws.send({ opcode: OP.CLOSE, payload: closePayload(c) }), [c, 1002, 'tcp']);
  }
  // after our close, anything else we send is ignored; the server still answers with its close
  await expectClose('7 text after close is ignored', (ws) => {
    ws.send({ opcode: OP.CLOSE, payload: closePayload(1000) });
    ws.text(probe('after-close'));
  }, 1000);
  await expectClose('7 close in the middle of a fragmented text', (ws) => {
    ws.send({ opcode: OP.TEXT, fin: false, payload: '{"type":' });
    ws.send({ opcode: OP.CLOSE, payload: closePayload(1000) });
  }, 1000);

  // the server is unharmed
  const ok = await fresh();
  ok.text(probe('final'));
  assert.ok(await replied(ok, 'final'), 'the server still answers after the conformance run');
  ok.destroy();

  console.log(`# conformance: ${cases} cases, ${problems.length} differ`);
  assert.deepEqual(problems, [], `${problems.length} of ${cases} conformance cases failed:\n  - ${problems.join('\n  - ')}`);
});
