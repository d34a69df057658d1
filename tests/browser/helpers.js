// helpers.js — shared by the browser tests: a real forumd on a free loopback port with a
// temporary database and a protocol client for set-up (both tests/integration/lib.js's, the one
// place that starts forumd and speaks the protocol), Debian's Chromium through playwright-core,
// and screenshots under tests/browser/artifacts/.
import { mkdirSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { connect, startServer as startForumd } from '../integration/lib.js';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
export const artifactsDir = join(here, 'artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** Starts forumd (FORUMD, default build/forumd; extraArgs: more flags) serving the source tree's
 *  web client; resolves with {url, producerKey, process, output(), stop()} once it listens. */
export async function startServer(extraArgs = []) {
  const srv = await startForumd({
    args: ['--web-root', join(repoRoot, 'web-client'), ...extraArgs],
    timeoutMs: 20_000,
  });
  const output = () => srv.stdout + srv.stderr;
  return {
    url: srv.url,
    producerKey: srv.producerKey,
    process: srv,
    output,
    async stop() {
      await srv.stop(5000);
      // Under ASan/UBSan (FORUMD=build-asan/forumd) a report fails the suite.
      if (/AddressSanitizer|LeakSanitizer|runtime error:/.test(output())) {
        throw new Error(`forumd reported a sanitizer error:\n${output().slice(-4000)}`);
      }
    },
  };
}

/** A protocol client for test set-up and checks (lib.js's Client, no Origin header: allowed),
 *  with requests written as whole messages: send({type, ...fields}). */
export class WsClient {
  static async connect(baseUrl, hello) {
    const { session, role, token, ...extra } = hello;
    const c = new WsClient();
    c.client = await connect(Number(new URL(baseUrl).port), { label: `${role}-setup` });
    c.welcome = await c.client.hello(session, role, token, extra);
    if (c.welcome.type !== 'welcome') {
      c.client.close();
      throw new Error(`hello failed: ${JSON.stringify(c.welcome)}`);
    }
    return c;
  }

  /** Events received so far. */
  get events() { return this.client.events(); }

  /** Sends a request with a fresh id; resolves with the reply (ack or error). */
  send(msg) {
    const { type, ...fields } = msg;
    return this.client.request(type, fields, { timeoutMs: 15_000 });
  }

  /** Like send, but throws unless the reply is an ack. */
  async ok(msg) {
    const reply = await this.send(msg);
    if (reply.type !== 'ack') throw new Error(`${msg.type} failed: ${JSON.stringify(reply)}`);
    return reply;
  }

  close() { this.client.close(); }
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
 * openPage(name, contextOptions, path, {modName}). The moderator console asks a moderator's
 * name on the first join on a device: for /m/ pages openPage gives the device one (modName,
 * default 主持人; null to meet the question).
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
  fx.openPage = async (name, options, path, { modName = '主持人' } = {}) => {
    const context = await fx.browser.newContext(options);
    if (path.startsWith('/m/') && modName) {
      await context.addInitScript((n) => {
        if (!localStorage.getItem('forum.modname')) localStorage.setItem('forum.modname', n);
      }, modName);
    }
    const page = await context.newPage();
    watchErrors(page, name, fx.errors);
    await page.goto(`${fx.server.url}${path}`);
    fx.pages[name] = { context, page };
    return page;
  };
  return fx;
}
