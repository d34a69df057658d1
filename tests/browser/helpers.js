// helpers.js — shared by the browser tests: start a real forumd on a free loopback port with a
// temporary database, talk to it as a producer over a WebSocket (npm ws), launch Debian's
// Chromium through playwright-core, and save screenshots under tests/browser/artifacts/.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
export const artifactsDir = join(here, 'artifacts');
const FORUMD = process.env.FORUMD || join(repoRoot, 'build', 'forumd');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** Starts forumd (extraArgs: more flags); resolves with {url, producerKey, stop()} once it
 *  prints its listening line. */
export async function startServer(extraArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), 'forum-browser-'));
  const producerKey = randomBytes(18).toString('base64url');
  const proc = spawn(FORUMD, [
    '--port', '0', '--bind', '127.0.0.1', '--db', join(dir, 'f.db'),
    '--producer-key', producerKey, '--no-demo', '--web-root', join(repoRoot, 'web-client'),
    ...extraArgs,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`forumd did not start in time:\n${output}`)), 20_000);
    const onData = (chunk) => {
      output += chunk.toString();
      const m = output.match(/listening on (http:\/\/[^\s]+)/);
      if (m) {
        clearTimeout(timer);
        resolvePromise(m[1].replace(/\/$/, ''));
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', (chunk) => { output += chunk.toString(); });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`forumd exited (${code}):\n${output}`)); });
  });
  proc.removeAllListeners('exit');
  return {
    url,
    producerKey,
    output: () => output,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => {
          const t = setTimeout(() => { proc.kill('SIGKILL'); r(); }, 5000);
          proc.on('exit', () => { clearTimeout(t); r(); });
        });
      }
      rmSync(dir, { recursive: true, force: true });
      // Under ASan/UBSan (FORUMD=build-asan/forumd) a report fails the suite.
      if (/AddressSanitizer|LeakSanitizer|runtime error:/.test(output)) {
        throw new Error(`forumd reported a sanitizer error:\n${output.slice(-4000)}`);
      }
    },
  };
}

/** A minimal protocol client for test set-up and checks (no Origin header: allowed). */
export class WsClient {
  static async connect(baseUrl, hello) {
    const c = new WsClient();
    c.ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws`, 'forum.v1');
    c.events = [];
    c.waiters = new Map();
    c.nextId = 1;
    c.ws.on('message', (data) => {
      const parsed = JSON.parse(data.toString());
      for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
        if (m.re && c.waiters.has(m.re)) {
          const w = c.waiters.get(m.re);
          c.waiters.delete(m.re);
          w(m);
        } else if (m.type === 'event') {
          c.events.push(m);
        }
      }
    });
    await new Promise((r, j) => { c.ws.once('open', r); c.ws.once('error', j); });
    c.welcome = await c.send({ type: 'hello', ...hello });
    if (c.welcome.type !== 'welcome') throw new Error(`hello failed: ${JSON.stringify(c.welcome)}`);
    return c;
  }

  /** Sends a request with a fresh id; resolves with the reply (ack or error). */
  send(msg) {
    const id = `t${this.nextId++}`;
    return new Promise((r) => {
      this.waiters.set(id, r);
      this.ws.send(JSON.stringify({ ...msg, id }));
    });
  }

  /** Like send, but throws unless the reply is an ack. */
  async ok(msg) {
    const reply = await this.send(msg);
    if (reply.type !== 'ack') throw new Error(`${msg.type} failed: ${JSON.stringify(reply)}`);
    return reply;
  }

  close() { this.ws.close(); }
}

/** Creates a programme and a session of the 书记论坛 with panel and agenda; returns
 *  {code, moderatorKey, producer} (the studio-wide producer connection, still open). */
export async function createShow(server, { premoderation = true, open = true } = {}) {
  const producer = await WsClient.connect(server.url, { session: null, role: 'producer', token: server.producerKey });
  const { program } = await producer.ok({ type: 'program.create', title: '书记论坛', description: '社区书记、居民代表和专家走进直播间，共商社区治理。' });
  const created = await producer.ok({
    type: 'session.create',
    program_id: program.id,
    title: '第四期 · 社区微改造，听听居民怎么说',
    topic: '社区微更新、微改造、微建设',
    scheduled_at: Date.now() + 3600_000,
    premoderation,
    anonymous_allowed: true,
    blocked_words: ['广告'],
    panelists: [
      { name: '薄燕飞', affiliation: '菊园新区社区自治办', role: '负责人' },
      { name: '石沂波', affiliation: '嘉定区教师进修学院', role: '区政协委员' },
      { name: '徐晓峰', affiliation: '上海江南建筑设计院', role: '设计专家' },
    ],
    segments: ['微改造的前期征询', '设计与落地', '居民点评'],
  });
  const code = created.session.code;
  if (open) await producer.ok({ type: 'session.open', session: code });
  return { code, moderatorKey: created.moderator_key, producer, programId: program.id };
}

/** All questions of a session as the staff sees them (fresh snapshot). */
export async function staffQuestions(server, code) {
  const c = await WsClient.connect(server.url, { session: code, role: 'producer', token: server.producerKey });
  const questions = c.welcome.snapshot.questions;
  c.close();
  return questions;
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}

export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN' };
export const LAPTOP = { viewport: { width: 1440, height: 900 }, locale: 'zh-CN' };
export const STUDIO = { viewport: { width: 1920, height: 1080 }, locale: 'zh-CN' };

/** Saves a screenshot as artifacts/<name>.png. */
export async function shot(page, name, options = {}) {
  mkdirSync(artifactsDir, { recursive: true });
  // Transient toasts are not part of the page: take them away, so the picture shows the page
  // itself (quicker than waiting for them to fade).
  await page.evaluate(() => { for (const el of document.querySelectorAll('.toast')) el.remove(); }).catch(() => {});
  await page.screenshot({ path: join(artifactsDir, `${name}.png`), ...options });
}

/** Collects console errors and page errors of a page (asserted empty at the end). */
export function watchErrors(page, label, sink) {
  page.on('pageerror', (e) => sink.push(`${label}: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') sink.push(`${label}: console: ${m.text()}`); });
}

export async function waitFor(fn, { timeout = 10_000, interval = 100, message = 'condition' } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${message}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

/**
 * The fixture every show test shares: setup() starts forumd, launches Chromium and creates a
 * programme with an open session (fx.server, fx.browser, fx.show); teardown() undoes it. Also
 * errors (page errors collected by watchErrors), pages (name -> {context, page}) and
 * openPage(name, contextOptions, path).
 */
export function useShow({ premoderation = true } = {}) {
  const fx = { server: null, browser: null, show: null, errors: [], pages: {} };
  fx.setup = async () => {
    fx.server = await startServer();
    fx.browser = await launchBrowser();
    fx.show = await createShow(fx.server, { premoderation });
    return fx;
  };
  fx.teardown = async () => {
    if (fx.show) fx.show.producer.close();
    if (fx.browser) await fx.browser.close();
    if (fx.server) await fx.server.stop();
  };
  fx.openPage = async (name, options, path) => {
    const context = await fx.browser.newContext(options);
    const page = await context.newPage();
    watchErrors(page, name, fx.errors);
    await page.goto(`${fx.server.url}${path}`);
    fx.pages[name] = { context, page };
    return page;
  };
  return fx;
}
