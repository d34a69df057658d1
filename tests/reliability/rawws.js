// A raw-socket WebSocket client for hand-written frames (RFC 6455): the opening handshake is
// written by hand over node:net, then frames are built byte by byte with any FIN/RSV bits,
// opcode, mask (or none), length encoding and fragmentation. Incoming frames are parsed and
// kept in order; a close frame from the server is answered (unless told not to).
import crypto from 'node:crypto';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

export const OP = { CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa };

/**
 * Builds one frame. opts: fin (true), rsv (0..7, the three RSV bits), opcode, payload
 * (Buffer|string), mask (true), maskKey (4 bytes), len16/len64 (force a longer length
 * encoding than needed).
 */
export function frame({ fin = true, rsv = 0, opcode = OP.TEXT, payload = Buffer.alloc(0), mask = true, maskKey, len16 = false, len64 = false } = {}) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'utf8');
  const len = data.length;
  const head = [((fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f))];
  const mbit = mask ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (len64 || len > 0xffff) {
    head.push(mbit | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(BigInt(len));
  } else if (len16 || len > 125) {
    head.push(mbit | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(len);
  } else {
    head.push(mbit | len);
  }
  const parts = [Buffer.from(head), ext];
  if (mask) {
    const key = maskKey ?? crypto.randomBytes(4);
    const masked = Buffer.alloc(len);
    for (let i = 0; i < len; i++) masked[i] = data[i] ^ key[i & 3];
    parts.push(key, masked);
  } else {
    parts.push(data);
  }
  return Buffer.concat(parts);
}

/** Close frame payload: 2-byte code + reason (code null: empty payload). */
export function closePayload(code, reason = '') {
  if (code === null || code === undefined) return Buffer.alloc(0);
  const r = Buffer.isBuffer(reason) ? reason : Buffer.from(reason, 'utf8');
  const b = Buffer.alloc(2 + r.length);
  b.writeUInt16BE(code, 0);
  r.copy(b, 2);
  return b;
}

export class RawWs {
  /**
   * Opens a TCP connection and performs the handshake. opts: path ('/ws'), origin, protocol
   * ('forum.v1'; null for none), headers (extra), timeoutMs (5000), hostHeader (the Host sent,
   * default 127.0.0.1:PORT).
   * Resolves with {ok: true, ws} on 101, or {ok: false, status, head, reset} when refused
   * (status null if the server closed without an HTTP answer).
   */
  static handshake(port, opts = {}) {
    const { path = '/ws', origin, protocol = 'forum.v1', headers = {}, timeoutMs = 5000, host = '127.0.0.1', hostHeader } = opts;
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host, port });
      const key = crypto.randomBytes(16).toString('base64');
      let buf = Buffer.alloc(0);
      let done = false;
      const finish = (v, err) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) reject(err); else resolve(v);
      };
      const timer = setTimeout(() => {
        sock.destroy();
        finish(null, new Error(`handshake timeout after ${timeoutMs} ms (port ${port})`));
      }, timeoutMs);
      sock.on('error', (e) => finish({ ok: false, status: null, head: '', reset: true, error: e.code ?? e.message }));
      sock.on('close', () => {
        const head = buf.toString('latin1');
        const m = head.match(/^HTTP\/1\.1 (\d{3})/);
        finish({ ok: false, status: m ? Number(m[1]) : null, head, reset: false });
      });
      sock.on('connect', () => {
        const lines = [
          `GET ${path} HTTP/1.1`, `Host: ${hostHeader ?? `127.0.0.1:${port}`}`, 'Upgrade: websocket', 'Connection: Upgrade',
          `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13',
        ];
        if (protocol) lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
        if (origin !== undefined) lines.push(`Origin: ${origin}`);
        for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
        sock.write(lines.join('\r\n') + '\r\n\r\n');
      });
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        const rest = buf.subarray(end + 4);
        const m = head.match(/^HTTP\/1\.1 (\d{3})/);
        const status = m ? Number(m[1]) : null;
        if (status !== 101) {
          sock.destroy();
          finish({ ok: false, status, head, reset: false });
          return;
        }
        const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
        if (!new RegExp(`^sec-websocket-accept:\\s*${accept.replace(/[+/=]/g, (c) => `\\${c}`)}\\s*$`, 'im').test(head)) {
          sock.destroy();
          finish(null, new Error(`bad Sec-WebSocket-Accept in ${head}`));
          return;
        }
        sock.removeAllListeners('data');
        sock.removeAllListeners('close');
        sock.removeAllListeners('error');
        finish({ ok: true, status, head, ws: new RawWs(sock, rest) });
      });
    });
  }

  /** Handshake that must succeed; returns the RawWs. */
  static async open(port, opts) {
    const r = await RawWs.handshake(port, opts);
    if (!r.ok) throw new Error(`WebSocket handshake refused: ${r.status ?? 'connection closed'} ${r.head?.split('\r\n')[0] ?? ''}`);
    return r.ws;
  }

  constructor(sock, initial) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.frames = [];      // every frame received: {fin, rsv, opcode, payload, at}
    this.messages = [];    // reassembled data messages: {opcode, data (Buffer), text, json}
    this.closeFrame = null; // {code, reason, payload} of the server's close frame
    this.ended = false;     // TCP connection gone
    this.autoCloseReply = true;
    this.protocolErrors = [];
    this._frag = null;
    this.onObject = null;   // optional callback(object, receivedAt) for every JSON object
    this.parseJson = true;  // false: text messages are only counted (load tests)
    this._waiters = new Set();
    this.endedP = new Promise((resolve) => {
      sock.on('close', () => { this.ended = true; this._poke(); resolve(); });
    });
    sock.on('error', () => {});
    sock.on('data', (d) => this._data(d));
    if (initial.length) this._data(initial);
  }

  _poke() { for (const w of [...this._waiters]) w(); }

  _data(d) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      const b = this.buf;
      if (b.length < 2) break;
      const fin = (b[0] & 0x80) !== 0;
      const rsv = (b[0] >> 4) & 7;
      const opcode = b[0] & 0x0f;
      const masked = (b[1] & 0x80) !== 0;
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      if (masked) off += 4;
      if (b.length < off + len) break;
      let payload = Buffer.from(b.subarray(off, off + len));
      if (masked) {
        this.protocolErrors.push('server frame is masked');
        const key = b.subarray(off - 4, off);
        for (let i = 0; i < len; i++) payload[i] ^= key[i & 3];
      }
      this.buf = b.subarray(off + len);
      this._frame({ fin, rsv, opcode, payload, at: performance.now() });
    }
    this._poke();
  }

  _frame(f) {
    this.frames.push(f);
    if (f.rsv) this.protocolErrors.push(`server frame with RSV bits ${f.rsv}`);
    if (f.opcode === OP.CLOSE) {
      const code = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : null;
      this.closeFrame = { code, reason: f.payload.subarray(2).toString('utf8'), payload: f.payload };
      if (this.autoCloseReply && !this.closeSent) {
        this.closeSent = true;
        try { this.sock.write(frame({ opcode: OP.CLOSE, payload: f.payload.subarray(0, 2) })); } catch { /* gone */ }
      }
      return;
    }
    if (f.opcode === OP.PING || f.opcode === OP.PONG) return;
    if (f.opcode === OP.CONT) {
      if (!this._frag) { this.protocolErrors.push('server continuation without start'); return; }
      this._frag.parts.push(f.payload);
    } else {
      this._frag = { opcode: f.opcode, parts: [f.payload] };
    }
    if (f.fin) {
      const data = Buffer.concat(this._frag.parts);
      const m = { opcode: this._frag.opcode, data, at: f.at };
      if (m.opcode === OP.TEXT && !this.parseJson) {
        this.discarded = (this.discarded ?? 0) + 1; // count only: the text is not kept
        this._frag = null;
        return;
      }
      if (m.opcode === OP.TEXT) {
        m.text = data.toString('utf8');
        try {
          const j = JSON.parse(m.text);
          m.json = j;
        } catch { /* not JSON */ }
        if (m.json !== undefined && this.onObject) {
          for (const o of Array.isArray(m.json) ? m.json : [m.json]) this.onObject(o, m.at);
        }
      }
      this.messages.push(m);
      this._frag = null;
    }
  }

  /** Every JSON object received, array frames flattened. */
  objects() {
    const out = [];
    for (const m of this.messages) {
      if (m.json === undefined) continue;
      for (const o of Array.isArray(m.json) ? m.json : [m.json]) out.push(o);
    }
    return out;
  }

  write(buf) {
    if (!this.sock.destroyed) this.sock.write(buf);
  }

  /** Sends one frame (see frame()). */
  send(opts) { this.write(frame(opts)); }

  text(s, opts = {}) { this.send({ opcode: OP.TEXT, payload: s, ...opts }); }

  json(obj) { this.text(JSON.stringify(obj)); }

  /** Waits until pred(this) is truthy; rejects after timeoutMs. */
  waitUntil(pred, timeoutMs = 5000, what = 'condition') {
    return new Promise((resolve, reject) => {
      const check = () => {
        let v;
        try { v = pred(this); } catch (e) { finish(); reject(e); return; }
        if (v) { finish(); resolve(v); }
      };
      const timer = setTimeout(() => { finish(); reject(new Error(`timeout after ${timeoutMs} ms waiting for ${what}`)); }, timeoutMs);
      const finish = () => { clearTimeout(timer); this._waiters.delete(check); };
      this._waiters.add(check);
      check();
    });
  }

  /** Waits for the first JSON object (from index `from` of objects()) matching pred. */
  waitObject(pred, timeoutMs = 5000, from = 0, what = 'message') {
    return this.waitUntil((s) => s.objects().slice(from).find(pred), timeoutMs, what);
  }

  /** Sends hello and waits for the welcome (or error). */
  async hello(session, role, token, extra = {}) {
    const from = this.objects().length;
    this.json({ type: 'hello', id: 'hello', session, role, token, ...extra });
    return this.waitObject((o) => o.re === 'hello', 5000, from, 'welcome');
  }

  /** Sends a request with id and waits for its reply. */
  async request(type, fields = {}, id = `r${Math.random().toString(36).slice(2)}`) {
    const from = this.objects().length;
    this.json({ type, id, ...fields });
    return this.waitObject((o) => o.re === id, 5000, from, `reply to ${type}`);
  }

  /**
   * Waits until the server closed: resolves {code (null: no close frame / empty payload),
   * reason, ended, closeFrame}. A connection that ends without a close frame gives code null
   * and closeFrame null.
   */
  async waitClose(timeoutMs = 5000) {
    try {
      await this.waitUntil((s) => s.closeFrame || s.ended, timeoutMs, 'close');
    } catch {
      return { timedOut: true, code: undefined, closeFrame: null, ended: this.ended };
    }
    if (this.closeFrame) await Promise.race([this.endedP, new Promise((r) => setTimeout(r, 2000))]);
    return { code: this.closeFrame?.code ?? null, reason: this.closeFrame?.reason, closeFrame: this.closeFrame, ended: this.ended };
  }

  destroy() { this.sock.destroy(); }

  /** Polite close from our side: close frame, then wait for the server's and the TCP end. */
  async close(code = 1000) {
    if (this.ended) return;
    if (!this.closeSent) {
      this.closeSent = true;
      this.write(frame({ opcode: OP.CLOSE, payload: closePayload(code) }));
    }
    await Promise.race([this.endedP, new Promise((r) => setTimeout(r, 2000))]);
    this.destroy();
  }
}
