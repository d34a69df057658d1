// Helpers for the reliability and security suite. Builds on tests/integration/lib.js (whose
// launcher already picks the binary and the fd limit) and adds: process probes (RSS, open
// descriptors, CPU), the sqlite3 CLI, percentiles, and a lightweight
// WebSocket viewer for high-volume tests.
import './env.js';

import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

import {
  Client, connect, harness, makeTempDir, newToken, ServerProcess, setupSession, short, sleep, withTimeout,
} from '../integration/lib.js';
import { FORUMD, FORUMD_ASAN, ROOT, SOAK } from './env.js';

export * from '../integration/lib.js';
export { FORUMD, FORUMD_ASAN, ROOT, SOAK };

/**
 * A forumd process: lib.js's ServerProcess (opts: bin, args, dbPath, producerKey, demo, ulimitN,
 * env, rawArgs) plus process probes: rss(), fds(), cpuMs().
 */
export class Forumd extends ServerProcess {
  /** Resident set size in KiB (VmRSS). */
  rss() { return rssKb(this.pid); }
  /** Number of open file descriptors. */
  fds() { return fdCount(this.pid); }
  /** CPU time used so far (user + system), ms. */
  cpuMs() { return cpuMs(this.pid); }
}

/** Starts a Forumd and waits for its listening line. */
export async function startForumd(opts = {}) {
  const s = new Forumd(opts);
  try {
    await s.ready(opts.timeoutMs ?? (opts.bin && opts.bin === FORUMD_ASAN ? 30000 : 15000));
  } catch (e) {
    await s.kill().catch(() => {});
    throw e;
  }
  return s;
}

export function rssKb(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)\s+kB/);
    return m ? Number(m[1]) : NaN;
  } catch { return NaN; }
}

export function cpuMs(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms (USER_HZ 100)
  } catch { return NaN; }
}

export function fdCount(pid) {
  try { return readdirSync(`/proc/${pid}/fd`).length; } catch { return NaN; }
}

/** Runs a query with the sqlite3 CLI; returns stdout lines. */
export function sqlite(dbPath, sql) {
  const out = execFileSync('sqlite3', ['-batch', '-noheader', dbPath, sql], { encoding: 'utf8', timeout: 30000 });
  return out.split('\n').filter((l) => l.length > 0);
}

/** p in [0,100] of an array of numbers (nearest rank). */
export function percentile(values, p) {
  if (!values.length) return NaN;
  const a = Float64Array.from(values).sort();
  const k = Math.min(a.length - 1, Math.max(0, Math.ceil((p / 100) * a.length) - 1));
  return a[k];
}

/** Fetches a URL path from the server; {status, text}. */
export async function httpGet(srv, p, headers = {}, timeoutMs = 5000) {
  const r = await fetch(`http://127.0.0.1:${srv.port}${p}`, { headers, signal: AbortSignal.timeout(timeoutMs) });
  return { status: r.status, text: await r.text() };
}

/** Reads a Prometheus metric value (first sample with that name and optional label text). */
export async function metric(srv, name) {
  const { text } = await httpGet(srv, '/metrics');
  const re = new RegExp(`^${name.replace(/[{}"=]/g, (c) => `\\${c}`)}\\s+([0-9.eE+-]+)$`, 'm');
  const m = text.match(re);
  return m ? Number(m[1]) : NaN;
}

/** Waits until fn() is truthy (polling), or throws after timeoutMs with message. */
export async function until(fn, timeoutMs, message, everyMs = 50) {
  const t0 = performance.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (performance.now() - t0 > timeoutMs) throw new Error(`timeout after ${timeoutMs} ms: ${message}`);
    await sleep(everyMs);
  }
}

/** Runs fn over items with at most n in flight. */
export async function pool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }));
  return out;
}

/**
 * A lean viewer for load tests: no per-message objects kept. It parses only frames that contain
 * `needle` (a string), and calls onMatch(text, receivedAt) for them; everything else is counted.
 */
export class LeanViewer {
  static async join(port, code, { token = newToken(), name, needle, onMatch, label = 'lean' } = {}) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, ['forum.v1'], { perMessageDeflate: false, handshakeTimeout: 10000 });
    const v = new LeanViewer(ws, label, needle, onMatch);
    await withTimeout(new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    }), 12000, `${label} connect`);
    ws.send(JSON.stringify({ type: 'hello', id: 'h', session: code, role: 'viewer', token, ...(name ? { name } : {}) }));
    await withTimeout(v.welcomed, 10000, `${label} welcome`);
    return v;
  }

  constructor(ws, label, needle, onMatch) {
    this.ws = ws;
    this.label = label;
    this.frames = 0;
    this.bytes = 0;
    this.closeInfo = null;
    this.needle = needle ? Buffer.from(needle) : null;
    this.onMatch = onMatch;
    let welcomed;
    this.welcomed = new Promise((r) => { welcomed = r; });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => { this.closeInfo = { code, reason: reason.toString() }; resolve(this.closeInfo); });
    });
    ws.on('error', () => {});
    ws.on('message', (data) => {
      const t = performance.now();
      const buf = Buffer.isBuffer(data) ? data : Buffer.concat(data);
      this.frames++;
      this.bytes += buf.length;
      if (!this.welcome) {
        const s = buf.toString('utf8');
        if (s.includes('"welcome"')) {
          const m = JSON.parse(s);
          this.welcome = (Array.isArray(m) ? m : [m]).find((x) => x.type === 'welcome');
          if (this.welcome) welcomed(this.welcome);
        }
      }
      if (this.needle && this.onMatch && buf.indexOf(this.needle) >= 0) this.onMatch(buf, t, this);
    });
  }

  close() {
    try { this.ws.close(1000); } catch { /* ignore */ }
    return withTimeout(this.closed, 3000, `${this.label} close`).catch(() => { this.ws.terminate(); });
  }
}

export { Client, connect, harness, makeTempDir, newToken, setupSession, short, sleep, withTimeout };

/**
 * The leanest viewer: a raw socket that said hello, then only scans the byte stream for
 * `marker` + digits + `#` (markers never straddle a message, and messages are never split
 * across frames, so frame headers can be ignored) and calls onMarker(n, receivedAt). Counts
 * bytes. Its TCP end (server close) sets `ended`.
 */
export async function rawLeanViewer(port, code, { token = newToken(), marker = 'b#', onMarker } = {}) {
  const { RawWs } = await import('./rawws.js');
  const ws = await RawWs.open(port);
  const w = await ws.hello(code, 'viewer', token);
  if (w.type !== 'welcome') throw new Error(`hello: ${short(w)}`);
  const sock = ws.sock;
  sock.removeAllListeners('data');
  const v = { sock, ws, bytes: 0, markers: 0, get ended() { return ws.ended; } };
  const m = Buffer.from(marker);
  let carry = Buffer.alloc(0);
  sock.on('data', (d) => {
    const t = performance.now();
    v.bytes += d.length;
    const buf = carry.length ? Buffer.concat([carry, d]) : d;
    let at = 0;
    let lastEnd = 0;
    for (;;) {
      const k = buf.indexOf(m, at);
      if (k < 0) break;
      let j = k + m.length;
      let n = 0;
      while (j < buf.length && buf[j] >= 48 && buf[j] <= 57) n = n * 10 + (buf[j++] - 48);
      if (j >= buf.length) break; // incomplete: keep for the next chunk
      if (buf[j] === 35 /* # */ && j > k + m.length) {
        v.markers++;
        onMarker?.(n, t);
      }
      at = j;
      lastEnd = j;
    }
    const keepFrom = Math.max(lastEnd, buf.length - (m.length + 20));
    carry = Buffer.from(buf.subarray(keepFrom));
  });
  return v;
}
