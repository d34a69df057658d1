// client.js — the protocol client every page shares (wire contract forum.v1).
// Owns one WebSocket to /ws: hello, reconnect with backoff, resume from the last event seen,
// request/reply matching by id, and the outbox: durable requests (question.submit, votes,
// ballots) are written to localStorage before they are sent and removed only when the server
// answers them, so they are resent with the same id after a reconnect or a page reload
// (question.submit is idempotent on the id; votes and ballots are idempotent by nature).
//
// Events dispatched (CustomEvent, detail as noted):
//   status   {status: 'connecting'|'connected'|'reconnecting'|'offline'|'failed', error?}
//   welcome  the welcome message (snapshot present unless resumed)
//   event    one server event object (seq already de-duplicated)
//   outbox-ack    {request, reply}  a durable request from an earlier page load was acked
//   outbox-error  {request, error}  ... or refused
//   outbox-change {pending: [requests]}
//   presence {type:'presence', viewers}  staff: the live number of connected viewers
//   server-error  an error that answers no request of ours

const RECONNECT_BASE_MS = 500;
const RECONNECT_MAX_MS = 10000;
const HELLO_TIMEOUT_MS = 10000;
const REPLY_TIMEOUT_MS = 12000;
const MAX_DURABLE_RETRIES = 8;  // resends of a durable request refused with a retryable error

/** A fresh request id: short, unique enough across devices and page loads (<= 64 chars). */
export function newRequestId(prefix = 'r') {
  const rand = new Uint32Array(2);
  crypto.getRandomValues(rand);
  return `${prefix}${Date.now().toString(36)}${rand[0].toString(36)}${rand[1].toString(36)}`;
}

/** A random device token of 128 bits as 32 hex characters. */
export function newToken() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The viewer's device token, created once and kept in localStorage under key. */
export function deviceToken(key = 'forum.device') {
  let token = null;
  try { token = localStorage.getItem(key); } catch (_) { /* storage disabled */ }
  if (!token || token.length < 22) {
    token = newToken();
    try { localStorage.setItem(key, token); } catch (_) { /* keep it for this page only */ }
  }
  return token;
}

/** The WebSocket URL of the server that served this page. */
export function socketUrl() {
  return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
}

/** An error as the client reports it: server errors keep their code, message, field and
 *  retry_after_ms; local failures use code 'offline' or 'timeout'. */
export class ForumError extends Error {
  constructor(reply) {
    super(reply.message || reply.code);
    this.code = reply.code;
    this.field = reply.field;
    this.retryAfterMs = reply.retry_after_ms;
  }
}

export class ForumClient extends EventTarget {
  /**
   * @param {object} opts
   *   session   join code, or null for a studio-wide producer connection
   *   role      'viewer' | 'moderator' | 'producer'
   *   token     device token or key
   *   name      optional display name (sent in hello)
   *   outboxKey localStorage key for durable requests (null: durable requests live in memory)
   *   url       WebSocket URL (default: this page's server)
   *   hello     extra hello fields (e.g. {overlay: true} for a display that is no audience)
   */
  constructor({ session, role, token, name, outboxKey = null, url = socketUrl(), hello = null }) {
    super();
    this.helloExtra = hello || {};
    this.session = session;
    this.role = role;
    this.token = token;
    this.name = name || null;
    this.url = url;
    this.outboxKey = outboxKey;
    this.outbox = this._loadOutbox();
    this.pending = new Map(); // id -> {request, resolve, reject, timer}
    this.ws = null;
    this.welcomed = false;
    this.lastSeq = 0;
    this.attempt = 0;
    this.status = 'idle';
    this.stopped = true;
    this.reconnectTimer = null;
    this.helloTimer = null;
    this.helloId = null;
    this.viewerId = null;
    this._onOnline = () => { if (!this.stopped) this._connectSoon(0); };
    this._onOffline = () => { if (!this.stopped) this._drop('offline'); };
  }

  /** Opens the connection (and keeps it open until stop()). */
  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('online', this._onOnline);
    window.addEventListener('offline', this._onOffline);
    this._connect();
  }

  /** Closes the connection for good; pending requests fail with 'offline'. */
  stop() {
    this.stopped = true;
    window.removeEventListener('online', this._onOnline);
    window.removeEventListener('offline', this._onOffline);
    clearTimeout(this.reconnectTimer);
    this._drop('stopped');
  }

  /** Changes the display name used by the next hello (takes effect on reconnect; a viewer's
   *  questions name their author themselves, so no reconnect is needed for them). */
  setName(name) { this.name = name || null; }

  /** Drops the current connection and connects again at once (e.g. after a name change, so
   *  the next hello carries it). Durable requests wait in the outbox meanwhile. */
  reconnect() {
    if (this.stopped) return;
    this._drop('reconnect');
    clearTimeout(this.reconnectTimer);
    this.attempt = 0;
    this._connectSoon(0);
  }

  /** Whether the connection is up and welcomed. */
  get connected() { return this.welcomed; }

  /**
   * Sends a request and resolves with the ack (rejects with ForumError).
   * durable: keep it in the outbox until answered, resend with the same id after reconnects.
   * Non-durable requests fail at once with code 'offline' when not connected.
   */
  request(type, fields = {}, { durable = false } = {}) {
    const request = { type, id: newRequestId(durable ? 'o' : 'q'), ...fields };
    return new Promise((resolve, reject) => {
      if (!durable && !this.welcomed) {
        reject(new ForumError({ code: 'offline' }));
        return;
      }
      this.pending.set(request.id, { request, resolve, reject, durable, timer: null });
      if (durable) {
        this.outbox.push(request);
        this._saveOutbox();
      }
      if (this.welcomed) this._send(request);
    });
  }

  /** Durable requests not yet answered, oldest first. */
  pendingOutbox() { return this.outbox.slice(); }

  // ---- internals -------------------------------------------------------------------------

  _setStatus(status, error) {
    this.status = status;
    this.dispatchEvent(new CustomEvent('status', { detail: { status, error } }));
  }

  _loadOutbox() {
    if (!this.outboxKey) return [];
    try {
      const list = JSON.parse(localStorage.getItem(this.outboxKey) || '[]');
      return Array.isArray(list) ? list.filter((r) => r && r.type && r.id) : [];
    } catch (_) {
      return [];
    }
  }

  _saveOutbox() {
    if (this.outboxKey) {
      try {
        if (this.outbox.length) localStorage.setItem(this.outboxKey, JSON.stringify(this.outbox));
        else localStorage.removeItem(this.outboxKey);
      } catch (_) { /* full or disabled: the outbox still lives in memory */ }
    }
    this.dispatchEvent(new CustomEvent('outbox-change', { detail: { pending: this.outbox.slice() } }));
  }

  _removeFromOutbox(id) {
    const before = this.outbox.length;
    this.outbox = this.outbox.filter((r) => r.id !== id);
    if (this.outbox.length !== before) this._saveOutbox();
  }

  _connectSoon(delay) {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this._connect(), delay);
  }

  _connect() {
    if (this.stopped || this.ws) return;
    if (navigator.onLine === false) {
      this._setStatus('offline');
      return; // the 'online' event reconnects
    }
    this._setStatus(this.attempt === 0 && this.lastSeq === 0 ? 'connecting' : 'reconnecting');
    let ws;
    try {
      ws = new WebSocket(this.url, 'forum.v1');
    } catch (_) {
      this._scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.helloId = newRequestId('h');
      const hello = { ...this.helloExtra, type: 'hello', id: this.helloId, session: this.session, role: this.role, token: this.token };
      if (this.name) hello.name = this.name;
      // A studio-wide producer connection (session null) receives every session's
      // session.changed with that session's own seq, so its position cannot be resumed from
      // one number: it takes a fresh snapshot instead.
      if (this.lastSeq > 0 && this.session !== null) hello.resume_from = this.lastSeq;
      ws.send(JSON.stringify(hello));
      this.helloTimer = setTimeout(() => { if (this.ws === ws) this._drop('hello-timeout'); }, HELLO_TIMEOUT_MS);
    };
    ws.onmessage = (msg) => {
      if (this.ws !== ws) return;
      let data;
      try { data = JSON.parse(msg.data); } catch (_) { return; }
      const messages = Array.isArray(data) ? data : [data];
      for (const m of messages) {
        if (this.ws !== ws) return; // a message may have closed it
        if (m && typeof m === 'object') this._handle(m);
      }
    };
    ws.onclose = () => { if (this.ws === ws) this._drop('closed'); };
    ws.onerror = () => { /* onclose follows */ };
  }

  /** Forgets the current socket, fails what cannot be resent, and schedules a reconnect. */
  _drop(reason) {
    const ws = this.ws;
    this.ws = null;
    this.welcomed = false;
    clearTimeout(this.helloTimer);
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try { ws.close(reason === 'stopped' ? 1000 : 4000); } catch (_) { /* already closed */ }
    }
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.timer = null;
      if (!p.durable || reason === 'stopped') {
        this.pending.delete(id);
        p.reject(new ForumError({ code: 'offline' }));
      }
    }
    if (this.stopped || this.status === 'failed') return;
    if (reason === 'offline' || navigator.onLine === false) {
      this._setStatus('offline');
      return;
    }
    this._scheduleReconnect();
  }

  _scheduleReconnect() {
    this.ws = null;
    const base = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** this.attempt);
    this.attempt += 1;
    this._setStatus('reconnecting');
    this._connectSoon(base * (0.8 + Math.random() * 0.4));
  }

  _send(request) {
    if (!this.ws || !this.welcomed) return;
    try {
      this.ws.send(JSON.stringify(request));
    } catch (_) {
      this._drop('send-failed');
      return;
    }
    const p = this.pending.get(request.id);
    if (p) {
      clearTimeout(p.timer);
      // No answer in time: the connection is probably half dead. Durable requests are resent
      // on a fresh connection; others fail with 'timeout'.
      p.timer = setTimeout(() => {
        if (!this.pending.has(request.id)) return;
        if (p.durable) this._drop('reply-timeout');
        else {
          this.pending.delete(request.id);
          p.reject(new ForumError({ code: 'timeout' }));
        }
      }, REPLY_TIMEOUT_MS);
    }
  }

  _handle(m) {
    if (m.type === 'welcome' && m.re === this.helloId) {
      clearTimeout(this.helloTimer);
      this.welcomed = true;
      this.attempt = 0;
      if (m.viewer_id) this.viewerId = m.viewer_id;
      // A fresh snapshot resets our position; a resume keeps it and the missed events follow.
      if (!m.resumed) this.lastSeq = typeof m.seq === 'number' ? m.seq : 0;
      this.dispatchEvent(new CustomEvent('welcome', { detail: m }));
      this._setStatus('connected');
      for (const request of this.outbox) {
        if (!this.pending.has(request.id)) {
          // From an earlier page load: answered through outbox-ack / outbox-error.
          this.pending.set(request.id, { request, resolve: null, reject: null, durable: true, timer: null });
        }
        this._send(request);
      }
      return;
    }
    if (m.type === 'error' && m.re && m.re === this.helloId) {
      clearTimeout(this.helloTimer);
      const error = new ForumError(m);
      if (['unauthorized', 'not_found', 'forbidden', 'bad_request'].includes(m.code)) {
        this._setStatus('failed', error);
        this.stopped = true;
        const ws = this.ws;
        this.ws = null;
        if (ws) { ws.onclose = null; try { ws.close(1000); } catch (_) { /* ignore */ } }
      } else {
        this._drop('hello-error');
      }
      return;
    }
    if (m.type === 'event') {
      const ownLog = this.session !== null || m.kind !== 'session.changed';
      if (typeof m.seq === 'number' && ownLog) {
        if (m.seq <= this.lastSeq) return; // already applied (snapshot or an earlier delivery)
        this.lastSeq = m.seq;
      }
      this.dispatchEvent(new CustomEvent('event', { detail: m }));
      return;
    }
    if ((m.type === 'ack' || m.type === 'error') && m.re) {
      const p = this.pending.get(m.re);
      if (!p) return;
      // A durable request refused for a passing reason (the server could not save it just
      // now: a cluster changing leader, the database busy) is resent with the same id after
      // the delay the server asks for; the server recognises a resend, so it lands once.
      if (m.type === 'error' && p.durable && m.code === 'internal' && m.retry_after_ms > 0 &&
          (p.retries ?? 0) < MAX_DURABLE_RETRIES) {
        p.retries = (p.retries ?? 0) + 1;
        clearTimeout(p.timer);
        p.timer = setTimeout(() => { if (this.welcomed && this.pending.get(m.re) === p) this._send(p.request); },
          Math.min(m.retry_after_ms, 10000));
        return;
      }
      this.pending.delete(m.re);
      clearTimeout(p.timer);
      if (p.durable) this._removeFromOutbox(m.re);
      if (m.type === 'ack') {
        if (p.resolve) p.resolve(m);
        else this.dispatchEvent(new CustomEvent('outbox-ack', { detail: { request: p.request, reply: m } }));
      } else {
        const error = new ForumError(m);
        if (p.reject) p.reject(error);
        else this.dispatchEvent(new CustomEvent('outbox-error', { detail: { request: p.request, error } }));
      }
      return;
    }
    if (m.type === 'presence') {
      // Staff only: the number of viewers connected now (no seq, not in the transcript).
      this.dispatchEvent(new CustomEvent('presence', { detail: m }));
      return;
    }
    if (m.type === 'error') {
      this.dispatchEvent(new CustomEvent('server-error', { detail: new ForumError(m) }));
    }
  }
}
