// Idle connections: forumd pings a WebSocket that has sent nothing for --ping-secs and hangs
// up one that stays silent (no pong either) for --hangup-secs; a client that answers pings
// stays connected however long it says nothing else.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import test from 'node:test';

import { harness, newToken, runForumd, setupSession, sleep } from './lib.js';

/** A raw WebSocket client that reads everything and never answers a ping. */
function silentClient(port, hello) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const key = crypto.randomBytes(16).toString('base64');
    let buf = Buffer.alloc(0);
    let upgraded = false;
    const state = { socket: s, pings: 0, closedAt: null, openedAt: null };
    s.on('error', () => {});
    s.on('close', () => { state.closedAt = Date.now(); });
    s.on('connect', () => s.write(`GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
      'Sec-WebSocket-Protocol: forum.v1\r\n\r\n'));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!buf.subarray(0, 12).toString().includes('101')) return reject(new Error(buf.toString()));
        upgraded = true;
        buf = buf.subarray(end + 4);
        state.openedAt = Date.now();
        const payload = Buffer.from(JSON.stringify(hello));
        const mask = crypto.randomBytes(4);
        const head = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length])
          : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 255]);
        const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
        s.write(Buffer.concat([head, mask, body]));
        resolve(state);
      }
      // count ping frames (opcode 9) among what arrives; never answer them
      while (buf.length >= 2) {
        let len = buf[1] & 127;
        let off = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
        else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        if (buf.length < off + len) return;
        if ((buf[0] & 0x0f) === 9) state.pings++;
        buf = buf.subarray(off + len);
      }
    });
  });
}

test('a silent connection is pinged and hung up; one that answers pings stays', async (t) => {
  const h = harness(t);
  const srv = await h.startServer({ args: ['--ping-secs', '1', '--hangup-secs', '3'] });
  const { code } = await setupSession(h, srv);
  const answering = await h.viewer(srv, code);            // the ws library answers pings
  const silent = await silentClient(srv.port, { type: 'hello', id: 'h', session: code, role: 'viewer', token: newToken() });
  const deadline = Date.now() + 8000;
  while (silent.closedAt === null && Date.now() < deadline) await sleep(100);
  assert.ok(silent.closedAt !== null, 'the silent connection was hung up');
  const after = silent.closedAt - silent.openedAt;
  assert.ok(after >= 2500 && after <= 5500, `hung up ${after} ms after it went silent (hang-up 3 s, 1 s sweep)`);
  assert.ok(silent.pings >= 1, `it was pinged first (${silent.pings} pings)`);
  await sleep(1000);
  assert.ok(answering.isOpen, 'the connection that answers pings is still open');
  const r = await answering.request('question.submit', { text: '还在线吗？这条连接没有被断开。' });
  assert.equal(r.type, 'ack');
});

test('--hangup-secs must be longer than --ping-secs', async () => {
  const r = await runForumd(['--ping-secs', '70', '--no-demo']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--hangup-secs must be longer than --ping-secs/);
});
