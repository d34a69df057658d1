// Integration test helpers: start the real forumd on a free loopback port with a temporary
// database, and talk to it with real WebSocket clients (npm `ws`, subprotocol forum.v1).
//
// Every wait has a timeout. Use harness(t) in a test: servers and clients created through it
// are closed/stopped in t.after(), clients first.
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

export const FORUMD = process.env.FORUMD ||
  fileURLToPath(new URL('../../build/forumd', import.meta.url));
export const SUBPROTOCOL = 'forum.v1';
export const REQUEST_TIMEOUT_MS = 5000;
export const JOIN_CODE_RE = /^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{6}$/;
export const VIEWER_ID_RE = /^v[0-9a-f]{16}$/;

/** A fresh viewer device token: 32 hex characters (128 bits). */
export function newToken() {
  return crypto.randomBytes(16).toString('hex');
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Rejects with an Error(message) after ms unless promise settles first. */
export function withTimeout(promise, ms, message) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${message}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------
// Server process

const liveProcs = new Set();
const tempDirs = new Set();
process.on('exit', () => {
  for (const p of liveProcs) {
    try { p.kill('SIGKILL'); } catch { /* gone */ }
  }
  for (const d of tempDirs) {
    try { rmSync(d, { recursive: true, force: true }); } catch { /* ignore */ }
  }
});

export function makeTempDir(prefix = 'forum-it-') {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/**
 * Spawns forumd and waits for `listening on http://ADDR:PORT` on stdout.
 * opts: args (extra argv), env, dbPath (reuse a database: restarts), producerKey (string; null
 * to leave --producer-key out; default a random key), demo (true: leave --no-demo out),
 * port (default 0), timeoutMs (10000), rawArgs (replace the whole argv).
 */
export async function startServer(opts = {}) {
  const srv = new ServerProcess(opts);
  try {
    await srv.ready(opts.timeoutMs ?? 10000);
  } catch (e) {
    await srv.kill();
    throw e;
  }
  return srv;
}

/**
 * A forumd process (see startServer for opts; also bin: the binary, default FORUMD, and
 * ulimitN: run it under `ulimit -n N`).
 */
export class ServerProcess {
  constructor(opts = {}) {
    this.bin = opts.bin ?? FORUMD;
    this.dbPath = opts.dbPath ?? path.join(makeTempDir(), 'forum.db');
    this.producerKey = opts.producerKey === undefined ? newToken() + newToken() : opts.producerKey;
    let args = opts.rawArgs;
    if (!args) {
      args = ['--port', String(opts.port ?? 0), '--bind', '127.0.0.1', '--db', this.dbPath];
      if (this.producerKey) args.push('--producer-key', this.producerKey);
      if (!opts.demo) args.push('--no-demo');
      args.push(...(opts.args ?? []));
    }
    this.args = args;
    let cmd = this.bin;
    let argv = args;
    if (opts.ulimitN) {
      cmd = 'bash';
      argv = ['-c', `ulimit -n ${Number(opts.ulimitN)} && exec "$0" "$@"`, this.bin, ...args];
    }
    this.stdout = '';
    this.stderr = '';
    this.exitInfo = null;
    this.proc = spawn(cmd, argv, {
      env: { ...process.env, ...(opts.env ?? {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.pid = this.proc.pid;
    liveProcs.add(this.proc);
    this.proc.stdout.setEncoding('utf8');
    this.proc.stderr.setEncoding('utf8');
    this.proc.stdout.on('data', (d) => { this.stdout += d; this._poke(); });
    this.proc.stderr.on('data', (d) => { this.stderr += d; });
    this.exited = new Promise((resolve) => {
      const finish = (info) => {
        this.exitInfo = info;
        liveProcs.delete(this.proc);
        // let the pipes drain before anyone reads stdout/stderr
        setTimeout(() => { this._poke(); resolve(this.exitInfo); }, 50);
      };
      // 'close': the process ended and its stdout/stderr are read to the end
      this.proc.on('close', (code, signal) => finish({ code, signal }));
      this.proc.on('error', (err) => finish({ code: null, signal: null, error: err }));
    });
    this._waiters = [];
  }

  _poke() {
    for (const w of [...this._waiters]) w();
  }

  /** Waits until stdout matches re (returns the match) or times out / the process exits. */
  waitForStdout(re, timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.stdout.match(re);
        if (m) return done(() => resolve(m));
        if (this.exitInfo) {
          return done(() => reject(new Error(
            `forumd exited (${JSON.stringify(this.exitInfo)}) before stdout matched ${re}\n` +
            this.describe())));
        }
      };
      const timer = setTimeout(() => done(() => reject(new Error(
        `timeout after ${timeoutMs} ms waiting for stdout ${re}\n${this.describe()}`))), timeoutMs);
      const done = (f) => {
        clearTimeout(timer);
        this._waiters = this._waiters.filter((w) => w !== check);
        f();
      };
      this._waiters.push(check);
      check();
    });
  }

  async ready(timeoutMs) {
    const m = await this.waitForStdout(/listening on https?:\/\/(\[[^\]]+\]|[^\s:/]+):(\d+)/, timeoutMs);
    this.startupStdoutLen = this.stdout.indexOf(m[0]) + m[0].length;
    this.host = m[1];
    this.port = Number(m[2]);
    this.url = `http://127.0.0.1:${this.port}`;
    this.wsUrl = `ws://127.0.0.1:${this.port}/ws`;
    return this;
  }

  describe() {
    const tail = (s) => (s.length > 4000 ? '…' + s.slice(-4000) : s);
    return `${this.bin} ${this.args.join(' ')}\n--- stdout ---\n${tail(this.stdout)}\n--- stderr ---\n${tail(this.stderr)}`;
  }

  get running() {
    return this.exitInfo === null;
  }

  /** SIGTERM, wait for exit (SIGKILL after timeoutMs). Returns {code, signal}. */
  async stop(timeoutMs = 10000) {
    if (!this.running) return this.exitInfo;
    this.proc.kill('SIGTERM');
    try {
      return await withTimeout(this.exited, timeoutMs, 'forumd exit after SIGTERM');
    } catch {
      this.proc.kill('SIGKILL');
      await this.exited;
      this.exitInfo.sigtermTimedOut = true;
      return this.exitInfo;
    }
  }

  /** SIGKILL, wait for exit. */
  async kill() {
    if (!this.running) return this.exitInfo;
    this.proc.kill('SIGKILL');
    return withTimeout(this.exited, 10000, 'forumd exit after SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------
// WebSocket client

let clientCounter = 0;
let requestCounter = 0; // process-wide: automatic request ids never repeat, even across connections
const runTag = crypto.randomBytes(3).toString('hex');

/**
 * Opens ws://127.0.0.1:PORT/ws with subprotocol forum.v1. opts: origin, label, protocols,
 * headers, timeoutMs, secure (wss://, any certificate). Resolves with a Client once open;
 * rejects on refusal with the HTTP status.
 */
export function connect(port, opts = {}) {
  const url = `${opts.secure ? 'wss' : 'ws'}://127.0.0.1:${port}/ws`;
  const wsOpts = { handshakeTimeout: opts.timeoutMs ?? 5000, perMessageDeflate: false };
  if (opts.secure) wsOpts.rejectUnauthorized = false;
  if (opts.origin) wsOpts.origin = opts.origin;
  if (opts.headers) wsOpts.headers = opts.headers;
  const protocols = opts.protocols ?? [SUBPROTOCOL];
  const ws = new WebSocket(url, protocols, wsOpts);
  const client = new Client(ws, opts.label ?? `client${++clientCounter}`);
  return withTimeout(new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (req, res) => {
      reject(Object.assign(new Error(`WebSocket upgrade refused: HTTP ${res.statusCode}`),
        { statusCode: res.statusCode }));
      res.resume();
      req.destroy();
    });
    ws.once('error', (e) => reject(e));
  }), (opts.timeoutMs ?? 5000) + 1000, `connect ${url}`);
}

export class Client {
  constructor(ws, label) {
    this.ws = ws;
    this.label = label;
    this.log = [];          // every message object received, in order (array frames flattened)
    this.times = [];        // performance.now() at receipt, parallel to log
    this.raw = [];          // raw text of every frame
    this.badFrames = [];    // frames that were not JSON object/array of objects
    this.strayReplies = []; // replies whose `re` matched no outstanding request
    this.pending = new Map();
    this.waiters = new Set();
    this.closeInfo = null;
    this.welcome = null;
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        for (const [id, q] of this.pending) {
          for (const p of q) {
            clearTimeout(p.timer);
            p.reject(new Error(`${this.label}: connection closed (${code}) before reply to ${p.type} id=${id}`));
          }
        }
        this.pending.clear();
        this._check();
        resolve(this.closeInfo);
      });
    });
    ws.on('error', () => { /* surfaced through close */ });
    ws.on('message', (data, isBinary) => this._onFrame(data, isBinary));
  }

  _onFrame(data, isBinary) {
    const t = performance.now();
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data).toString('utf8');
    this.raw.push(text);
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.badFrames.push({ text, isBinary });
      return;
    }
    const msgs = Array.isArray(parsed) ? parsed : [parsed];
    for (const m of msgs) {
      if (m === null || typeof m !== 'object' || Array.isArray(m)) {
        this.badFrames.push({ text, isBinary });
        continue;
      }
      this.log.push(m);
      this.times.push(t);
      if (m.re !== undefined && (m.type === 'ack' || m.type === 'error' || m.type === 'welcome')) {
        const q = this.pending.get(m.re);
        if (q && q.length) {
          const p = q.shift();
          if (q.length === 0) this.pending.delete(m.re);
          clearTimeout(p.timer);
          p.resolve(m);
        } else {
          this.strayReplies.push(m);
        }
      }
    }
    this._check();
  }

  _check() {
    for (const w of [...this.waiters]) w();
  }

  get isOpen() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Current log length: pass as `from` to waitFor to look only at later messages. */
  mark() {
    return this.log.length;
  }

  sendRaw(data, opts) {
    this.ws.send(data, opts);
  }

  send(obj) {
    this.ws.send(JSON.stringify(obj));
  }

  /**
   * Sends {type, id, ...fields} and resolves with the reply (ack, error or welcome) carrying
   * re == id. Rejects after timeoutMs. opts.id overrides the automatic id.
   */
  request(type, fields = {}, opts = {}) {
    const id = opts.id ?? `${this.label.slice(0, 12)}-${runTag}-${++requestCounter}`;
    const timeoutMs = opts.timeoutMs ?? REQUEST_TIMEOUT_MS;
    const msg = { type, id, ...fields };
    return new Promise((resolve, reject) => {
      if (!this.isOpen) {
        reject(new Error(`${this.label}: ${type}: connection not open (close ${JSON.stringify(this.closeInfo)})`));
        return;
      }
      // Several requests may share an id (idempotency tests): replies are matched in order.
      const queue = this.pending.get(id) ?? [];
      const entry = { resolve, reject, type };
      entry.timer = setTimeout(() => {
        const q = this.pending.get(id) ?? [];
        const i = q.indexOf(entry);
        if (i >= 0) q.splice(i, 1);
        if (q.length === 0) this.pending.delete(id);
        reject(new Error(`${this.label}: no reply within ${timeoutMs} ms to ${JSON.stringify(msg).slice(0, 300)}`));
      }, timeoutMs);
      queue.push(entry);
      this.pending.set(id, queue);
      this.ws.send(JSON.stringify(msg));
    });
  }

  /** request() that must be acked; throws with what was sent and what came back otherwise. */
  async ok(type, fields = {}, opts = {}) {
    const r = await this.request(type, fields, opts);
    if (r.type !== 'ack') {
      throw new Error(`${this.label}: expected ack for ${type} ${short(fields)}, got ${short(r)}`);
    }
    return r;
  }

  /** hello; stores the welcome in this.welcome. Resolves with the reply (welcome or error). */
  async hello(session, role, token, extra = {}) {
    const r = await this.request('hello', { session, role, token, ...extra });
    if (r.type === 'welcome') {
      this.welcome = r;
      this.role = role;
      this.viewerId = r.viewer_id;
    }
    return r;
  }

  /** Resolves with the first message (from index `from`) matching pred; rejects on timeout. */
  waitFor(pred, timeoutMs = 5000, from = 0, what = 'message') {
    return new Promise((resolve, reject) => {
      let i = from;
      const check = () => {
        for (; i < this.log.length; i++) {
          if (pred(this.log[i])) {
            const m = this.log[i];
            finish();
            resolve(m);
            return;
          }
        }
        if (this.closeInfo) {
          finish();
          reject(new Error(`${this.label}: closed (${this.closeInfo.code}) while waiting for ${what}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${this.label}: timeout after ${timeoutMs} ms waiting for ${what}; ` +
          `last messages: ${short(this.log.slice(-5), 800)}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Waits for an event of `kind` (optionally matching pred). */
  waitEvent(kind, pred = () => true, timeoutMs = 5000, from = 0) {
    return this.waitFor((m) => m.type === 'event' && m.kind === kind && pred(m), timeoutMs, from,
      `event ${kind}`);
  }

  /** Events received (optionally of one kind, from log index `from`). */
  events(kind, from = 0) {
    return this.log.slice(from).filter((m) => m.type === 'event' && (!kind || m.kind === kind));
  }

  /** Receipt time (performance.now()) of a logged message object. */
  timeOf(msg) {
    const i = this.log.indexOf(msg);
    return i < 0 ? undefined : this.times[i];
  }

  /** Highest seq seen (welcome or events). */
  lastSeq() {
    let s = this.welcome?.seq ?? 0;
    for (const m of this.log) if (m.type === 'event' && typeof m.seq === 'number' && m.seq > s) s = m.seq;
    return s;
  }

  async close() {
    if (this.ws.readyState === WebSocket.CLOSED) return this.closeInfo;
    try {
      this.ws.close(1000);
    } catch { /* ignore */ }
    try {
      return await withTimeout(this.closed, 2000, `${this.label} close`);
    } catch {
      this.ws.terminate();
      return withTimeout(this.closed, 2000, `${this.label} terminate`).catch(() => null);
    }
  }

  terminate() {
    this.ws.terminate();
  }
}

export function short(x, n = 400) {
  let s;
  try { s = JSON.stringify(x); } catch { s = String(x); }
  return s && s.length > n ? s.slice(0, n) + '…' : s;
}

// ---------------------------------------------------------------------------------------------
// Harness: resources cleaned up after the test

export function harness(t) {
  const clients = new Set();
  const servers = new Set();
  const h = {
    clients,
    servers,
    async startServer(opts) {
      const s = await startServer(opts);
      servers.add(s);
      return s;
    },
    track(x) {
      if (x instanceof Client) clients.add(x);
      else servers.add(x);
      return x;
    },
    async connect(srvOrPort, opts) {
      const port = typeof srvOrPort === 'number' ? srvOrPort : srvOrPort.port;
      const c = await connect(port, { secure: srvOrPort.secure, ...opts });
      clients.add(c);
      return c;
    },
    /** Connect + hello; throws unless welcomed. Returns the client (client.welcome set). */
    async join(srv, session, role, token, extra = {}, connOpts = {}) {
      const c = await h.connect(srv, { label: connOpts.label ?? `${role}-${extra.name ?? ''}`, ...connOpts });
      const r = await c.hello(session, role, token, extra);
      if (r.type !== 'welcome') {
        throw new Error(`${c.label}: hello ${role} ${session} refused: ${short(r)}`);
      }
      return c;
    },
    viewer(srv, code, { name, token = newToken(), label, resume_from } = {}) {
      const extra = {};
      if (name !== undefined) extra.name = name;
      if (resume_from !== undefined) extra.resume_from = resume_from;
      return h.join(srv, code, 'viewer', token, extra, { label: label ?? `viewer-${name ?? token.slice(0, 6)}` })
        .then((c) => Object.assign(c, { token }));
    },
    moderator(srv, code, key, name = '主持人') {
      return h.join(srv, code, 'moderator', key, { name }, { label: `moderator-${name}` });
    },
    /** Producer connection: session null = studio-wide. */
    producer(srv, session = null, name) {
      const extra = name ? { name } : {};
      return h.join(srv, session, 'producer', srv.producerKey, extra, { label: `producer-${session ?? 'studio'}` });
    },
  };
  t.after(async () => {
    await Promise.all([...clients].map((c) => c.close().catch(() => {})));
    await Promise.all([...servers].map((s) => s.stop().catch(() => {})));
  });
  return h;
}

// ---------------------------------------------------------------------------------------------
// Studio setup

export const DEFAULT_PANELISTS = [
  { name: '王书记', affiliation: '区委', role: '区委书记' },
  { name: '李主任', affiliation: '区住建局', role: '局长' },
  { name: '张教授', affiliation: '城市规划学院', role: '特邀专家' },
];
export const DEFAULT_SEGMENTS = ['开场介绍', '民生热点', '现场互动'];

/**
 * Creates a programme and a session through a studio-wide producer connection (created with
 * the harness unless opts.producer is given), and opens it unless opts.open === false.
 * Returns {producer, programId, code, moderatorKey, session (the create ack's), opened}.
 */
export async function setupSession(h, srv, opts = {}) {
  const producer = opts.producer ?? (await h.producer(srv));
  let programId = opts.programId;
  if (!programId) {
    const p = await producer.ok('program.create', {
      title: opts.programTitle ?? '书记论坛',
      description: '区委书记与居民面对面的直播论坛',
    });
    programId = p.program.id;
  }
  const fields = {
    program_id: programId,
    title: opts.title ?? '第十二期：老旧小区改造与加装电梯',
    topic: opts.topic ?? '老旧小区改造、停车难与垃圾分类',
    scheduled_at: opts.scheduled_at ?? Date.now() + 3600 * 1000,
    premoderation: opts.premoderation ?? false,
    anonymous_allowed: opts.anonymous_allowed ?? true,
    panelists: opts.panelists ?? DEFAULT_PANELISTS,
    segments: opts.segments ?? DEFAULT_SEGMENTS,
    ...(opts.blocked_words ? { blocked_words: opts.blocked_words } : {}),
    ...(opts.extra ?? {}),
  };
  const created = await producer.ok('session.create', fields);
  const code = created.session.code;
  let opened = null;
  if (opts.open !== false) {
    opened = await producer.ok('session.open', { session: code });
  }
  return { producer, programId, code, moderatorKey: created.moderator_key, session: created.session, created, opened };
}

// ---------------------------------------------------------------------------------------------
// Client-side view of a session (welcome snapshot + events), for consistency checks

const PUBLIC_STATES = new Set(['published', 'on_air', 'answered']);

export class ViewState {
  constructor(snapshot) {
    this.questions = new Map();
    this.onAir = null;
    this.upNext = [];
    this.panel = null;
    if (snapshot) this.reset(snapshot);
  }

  reset(snapshot) {
    this.questions = new Map();
    for (const q of snapshot.questions ?? []) this.questions.set(q.id, { ...q });
    this.panel = snapshot.panel ? { ...snapshot.panel } : null;
    this.onAir = snapshot.panel?.on_air ?? null;
    this.upNext = [...(snapshot.panel?.up_next ?? [])];
  }

  apply(ev) {
    if (ev.type !== 'event') return;
    if (ev.question && typeof ev.question === 'object' && ev.kind.startsWith('question.')) {
      const prev = this.questions.get(ev.question.id);
      this.questions.set(ev.question.id, { ...prev, ...ev.question });
    }
    if (ev.into && typeof ev.into === 'object') this.questions.set(ev.into.id, { ...ev.into });
    if (ev.kind === 'votes.changed') {
      for (const [id, n] of Object.entries(ev.counts ?? {})) {
        const q = this.questions.get(Number(id));
        if (q) q.votes = n;
      }
    }
    if (ev.kind === 'onair.changed') this.onAir = ev.question_id ?? null;
    if (ev.kind === 'queue.changed') this.upNext = [...ev.up_next];
    if (ev.kind === 'panel.changed') {
      this.panel = { ...ev.panel };
      this.onAir = ev.panel.on_air ?? null;
      this.upNext = [...(ev.panel.up_next ?? [])];
    }
  }

  /** Comparable public summary: visible questions (id, text, votes, state with on_air folded
   *  into published, since the air is tracked separately), the air and the queue. */
  summary({ viewerOnly = true } = {}) {
    const qs = [...this.questions.values()]
      .filter((q) => !viewerOnly || PUBLIC_STATES.has(q.state) || q.mine)
      .map((q) => ({ id: q.id, text: q.text, votes: q.votes, state: q.state === 'on_air' ? 'published' : q.state }))
      .sort((a, b) => a.id - b.id);
    return { questions: qs, on_air: this.onAir, up_next: this.upNext };
  }
}

export function snapshotSummary(snapshot) {
  return new ViewState(snapshot).summary();
}

/** Checks that event seqs in a list are strictly increasing; returns a problem string or null. */
export function seqProblem(events) {
  for (let i = 1; i < events.length; i++) {
    if (!(events[i].seq > events[i - 1].seq)) {
      return `seq not strictly increasing at ${i}: ${events[i - 1].seq} then ${events[i].seq} (${events[i].kind})`;
    }
  }
  return null;
}

/** Folds votes.changed counts from a client's log into {id: n}. */
export function foldVotes(client, from = 0) {
  const counts = {};
  for (const ev of client.events('votes.changed', from)) Object.assign(counts, ev.counts);
  return counts;
}

/**
 * Moderator action that every given client must see before it resolves: panel.set with a
 * unique banner. Because events of a session reach each client in seq order, any event
 * committed before the marker has been delivered once the marker has.
 */
export async function marker(staff, clients, label = 'marker') {
  const banner = `${label}-${crypto.randomBytes(4).toString('hex')}`;
  const froms = clients.map((c) => c.mark());
  await staff.ok('panel.set', { banner });
  const evs = await Promise.all(clients.map((c, i) =>
    c.waitEvent('panel.changed', (e) => e.panel?.banner === banner, 5000, froms[i])));
  return { banner, seq: evs[0]?.seq };
}

/** Does the client's log mention question id qid in any event? */
export function eventsAbout(client, qid, from = 0) {
  return client.events(null, from).filter((e) =>
    e.question?.id === qid || e.into?.id === qid || e.question_id === qid ||
    (e.counts && Object.prototype.hasOwnProperty.call(e.counts, String(qid))));
}

/** Code points of a string. */
export const cpLength = (s) => [...s].length;

/** n Chinese characters (code points), cycling through a sentence. */
export function chineseText(n) {
  const base = '请问书记我们小区老旧房屋加装电梯的补贴政策什么时候落实停车难的问题如何解决垃圾分类投放点能否增设';
  const chars = [...base];
  let s = '';
  for (let i = 0; i < n; i++) s += chars[i % chars.length];
  return s;
}

/** Runs forumd to completion (for --help and start-up failures). Kills it after timeoutMs. */
export function runForumd(args, timeoutMs = 10000) {
  return new Promise((resolve) => {
    const proc = spawn(FORUMD, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    liveProcs.add(proc);
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; proc.kill('SIGKILL'); }, timeoutMs);
    const finish = (code, signal, error) => {
      clearTimeout(timer);
      liveProcs.delete(proc);
      resolve({ code, signal, stdout, stderr, timedOut, error });
    };
    proc.on('exit', (code, signal) => {
      // let the pipes drain
      setTimeout(() => finish(code, signal), 50);
    });
    proc.on('error', (e) => finish(null, null, e));
  });
}

/**
 * Collects mismatches instead of stopping at the first, so one run reports a whole table of
 * results. expect() resolves with the reply (or undefined if none came).
 */
export class Expectations {
  constructor() { this.problems = []; this.count = 0; }
  async expect(client, type, fields, want, why = '', check) {
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
    let ok = wants.includes(got);
    if (ok && typeof want === 'string' && want !== 'ack' && check?.field !== undefined && r.field !== check.field) ok = false;
    if (!ok) {
      this.problems.push(`${client.label}: ${type} ${short(fields, 160)} -> expected ${wants.join('|')}` +
        `${check?.field ? ` (field ${check.field})` : ''}${why ? ` [${why}]` : ''}, got ${short(r, 300)}`);
    }
    return r;
  }
  fail(msg) { this.count++; this.problems.push(msg); }
  check(cond, msg) { this.count++; if (!cond) this.problems.push(msg); }
  assertClean(what) {
    if (this.problems.length) {
      throw new Error(`${what}: ${this.problems.length} of ${this.count} checks differ from docs/protocol.md:\n  - ` +
        this.problems.join('\n  - '));
    }
  }
}
