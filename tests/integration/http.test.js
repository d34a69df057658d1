// HTTP on the WebSocket port: health, metrics, exports, the static web client.
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';

import { harness, makeTempDir, marker, setupSession, short } from './lib.js';

async function get(srv, p, headers = {}) {
  const res = await fetch(`${srv.url}${p}`, { headers, signal: AbortSignal.timeout(5000) });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body, text: body.toString('utf8') };
}

/** GET without URL normalisation (fetch would resolve "..") */
function rawGet(srv, p) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: srv.port, path: p, timeout: 5000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

test('HTTP endpoints', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const webRoot = makeTempDir('forum-web-');
  const page = '<!doctype html><html><head><meta charset="utf-8"><title>书记论坛</title></head><body>论坛</body></html>';
  writeFileSync(path.join(webRoot, 'index.html'), page);
  const srv = await h.startServer({ args: ['--web-root', webRoot] });

  await t.test('GET /healthz', async () => {
    const r = await get(srv, '/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.text), { ok: true });
  });

  const { code, moderatorKey } = await setupSession(h, srv, {});
  const mod = await h.moderator(srv, code, moderatorKey);
  const viewer = await h.viewer(srv, code, { name: '导出测试' });
  const q1 = (await viewer.ok('question.submit', { text: '第一问：学校门口的交通拥堵怎么解决？' })).question.id;
  await mod.ok('onair.set', { question_id: q1 });
  await mod.ok('question.answered', { question_id: q1, note: '增派交警' });
  const q2 = (await viewer.ok('question.submit', { text: '追问：放学时段能否限行？', parent_id: q1 })).question.id;
  await marker(mod, [viewer], 'export');

  await t.test('GET /metrics', async () => {
    const r = await get(srv, '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/plain/);
    for (const needle of ['forum_connections{role="viewer"}', 'forum_events_committed_total', 'forum_commit_latency_seconds_bucket']) {
      assert.ok(r.text.includes(needle), `/metrics lacks ${needle}:\n${r.text.slice(0, 1500)}`);
    }
    const m = r.text.match(/^forum_connections\{role="viewer"\}\s+(\d+(?:\.\d+)?)/m);
    assert.ok(m, 'forum_connections{role="viewer"} has a value');
    assert.ok(Number(m[1]) >= 1, `one viewer is connected: ${m[0]}`);
    const ev = r.text.match(/^forum_events_committed_total\s+(\d+)/m);
    assert.ok(ev && Number(ev[1]) > 0, 'events were committed');
    assert.match(r.text, /forum_commit_latency_seconds_bucket\{le="\+Inf"\}/);
  });

  await t.test('/metrics follows the Prometheus conventions', async () => {
    const text = (await get(srv, '/metrics')).text;
    const help = new Set(), type = new Map(), samples = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      let m;
      if ((m = line.match(/^# HELP (\S+) \S/))) help.add(m[1]);
      else if ((m = line.match(/^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/))) type.set(m[1], m[2]);
      else if ((m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.e+]+|\+Inf|NaN)$/))) samples.push(m[1]);
      else assert.fail(`not a Prometheus text line: ${line}`);
    }
    const family = (name) => name.replace(/_(bucket|sum|count)$/, (x) => (type.get(name.slice(0, -x.length)) === 'histogram' ? '' : x));
    for (const s of samples) {
      const f = family(s);
      assert.ok(type.has(f), `${s}: no # TYPE for its family ${f}`);
      assert.ok(help.has(f), `${s}: no # HELP for its family ${f}`);
      assert.doesNotMatch(f, /_ms($|_)|_millis/, `${f}: durations are in seconds`);
      if (type.get(f) === 'counter') assert.match(f, /_total$/, `${f}: a counter ends in _total`);
    }
    assert.match(text, /^forum_build_info\{version="\d+\.\d+\.\d+",commit="(?:[0-9a-f]{7,40}|unknown)"\} 1$/m, 'build info');
    for (const f of ['forum_commit_latency_seconds', 'forum_loop_stall_seconds']) {
      assert.equal(type.get(f), 'histogram', `${f} is a histogram`);
      assert.match(text, new RegExp(`^${f}_bucket\\{le="\\+Inf"\\} \\d+$`, 'm'));
      assert.match(text, new RegExp(`^${f}_sum [0-9.]+$`, 'm'));
      assert.match(text, new RegExp(`^${f}_count \\d+$`, 'm'));
    }
    const value = (name) => Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1]);
    assert.ok(value('process_open_fds') > 5, 'open descriptors');
    assert.ok(value('process_max_fds') >= value('process_open_fds'), 'the descriptor limit');
    assert.ok(value('forum_connections_max') > 0 && value('forum_connections_max') < value('process_max_fds'), 'capacity below the limit');
  });

  await t.test('/metrics: the viewer gauge follows connections', async () => {
    const gauge = async () => Number((await get(srv, '/metrics')).text.match(/^forum_connections\{role="viewer"\}\s+(\d+)/m)?.[1]);
    const before = await gauge();
    const extra = await Promise.all([1, 2, 3].map(() => h.viewer(srv, code, {})));
    assert.equal(await gauge(), before + 3);
    await Promise.all(extra.map((c) => c.close()));
    let now;
    for (let i = 0; i < 50; i++) {
      now = await gauge();
      if (now === before) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(now, before, 'closed connections are no longer counted');
  });

  await t.test('transcript.json needs the producer key', async () => {
    const p = `/api/sessions/${code}/transcript.json`;
    assert.equal((await get(srv, p)).status, 401, 'no Authorization');
    assert.equal((await get(srv, p, { authorization: 'Bearer wrong-key' })).status, 401, 'wrong key');
    assert.equal((await get(srv, p, { authorization: `Bearer ${moderatorKey}` })).status, 401, 'a moderator key is not the producer key');
    assert.equal((await get(srv, p, { authorization: srv.producerKey })).status, 401, 'missing Bearer scheme');
    const r = await get(srv, p, { authorization: `Bearer ${srv.producerKey}` });
    assert.equal(r.status, 200, r.text.slice(0, 300));
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    const doc = JSON.parse(r.text);
    assert.equal(doc.session?.code, code);
    assert.ok(Array.isArray(doc.events) && doc.events.length > 0, 'events');
    for (let i = 1; i < doc.events.length; i++) {
      assert.ok(doc.events[i].seq > doc.events[i - 1].seq, `events in seq order at ${i}`);
    }
    // the session's log is gap-free and the staff rendering holds every event
    assert.deepEqual(doc.events.map((e) => e.seq), Array.from({ length: doc.events.length }, (_, i) => i + 1),
      'transcript seqs are 1..n without gaps');
    assert.ok(doc.events.every((e) => typeof e.kind === 'string' && typeof e.at === 'number'));
    assert.ok(doc.events.some((e) => e.kind === 'vote.added' || e.kind === 'question.submitted' || e.kind === 'question.published'));
    assert.ok(doc.events.some((e) => e.kind === 'question.answered'), 'answered event in the transcript');
    assert.ok(Array.isArray(doc.questions), 'questions');
    const byId = Object.fromEntries(doc.questions.map((q) => [q.id, q]));
    assert.equal(byId[q1]?.state, 'answered');
    assert.equal(byId[q1]?.answer_note, '增派交警');
    assert.equal(byId[q2]?.parent_id, q1);
    assert.equal(r.text.includes(moderatorKey), false, 'the moderator key is not exported');
    assert.equal(r.text.includes(srv.producerKey), false, 'the producer key is not exported');
  });

  await t.test('unknown session: 404', async () => {
    const r = await get(srv, '/api/sessions/ZZZZZZ/transcript.json', { authorization: `Bearer ${srv.producerKey}` });
    assert.equal(r.status, 404);
  });

  await t.test('transcript.md and questions.csv', async () => {
    const auth = { authorization: `Bearer ${srv.producerKey}` };
    assert.equal((await get(srv, `/api/sessions/${code}/questions.csv`)).status, 401);
    // docs/protocol.md (Exports) lists these two beside transcript.json
    const md = await get(srv, `/api/sessions/${code}/transcript.md`, auth);
    assert.equal(md.status, 200, `GET transcript.md with the producer key -> ${md.status} ${md.text.slice(0, 100)}`);
    assert.ok(md.text.includes('学校门口的交通拥堵'), 'minutes list the questions');
    assert.ok(md.text.includes('增派交警'), 'and the answers');
    const csv = await get(srv, `/api/sessions/${code}/questions.csv`, auth);
    assert.equal(csv.status, 200, `GET questions.csv with the producer key -> ${csv.status} ${csv.text.slice(0, 100)}`);
    assert.deepEqual([...csv.body.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM');
    assert.ok(csv.text.includes('放学时段能否限行'), short(csv.text.slice(0, 200)));
  });

  await t.test('GET / serves the web client', async () => {
    const r = await get(srv, '/');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/html/);
    assert.ok(/<html|<!doctype html/i.test(r.text));
    assert.equal(r.text, page);
    const missing = await get(srv, '/no-such-file.js');
    assert.equal(missing.status, 404);
    for (const p of ['/../../../../etc/passwd', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2f..%2fetc%2fpasswd']) {
      const escape = await rawGet(srv, p).catch((e) => ({ status: e.message, text: '' }));
      assert.ok(!escape.text.includes('root:'), `path traversal with ${p}`);
    }
  });
});

test('static files are served from beneath the web root only, symbolic links included', { timeout: 20000 }, async (t) => {
  const h = harness(t);
  const dir = makeTempDir('forum-web-links-');
  const real = path.join(dir, 'site');
  mkdirSync(path.join(real, 'js'), { recursive: true });
  writeFileSync(path.join(real, 'index.html'), '<!doctype html><title>论坛</title>');
  writeFileSync(path.join(real, 'js', 'app.js'), 'export const app = 1;\n');
  writeFileSync(path.join(dir, 'secret.txt'), 'not for the web\n');
  symlinkSync('/', path.join(real, 'rootfs'));                       // the attack: a link to /
  symlinkSync('../secret.txt', path.join(real, 'secret.txt'));       // a file outside
  symlinkSync(dir, path.join(real, 'parent'));                       // a directory outside
  symlinkSync('js/app.js', path.join(real, 'same.js'));              // stays inside: fine
  symlinkSync('site', path.join(dir, 'www'));                        // the root given through a link
  const srv = await h.startServer({ args: ['--web-root', path.join(dir, 'www')] });

  for (const p of ['/rootfs/etc/passwd', '/rootfs/etc/hostname', '/secret.txt', '/parent/secret.txt', '/rootfs/']) {
    const r = await get(srv, p);
    assert.equal(r.status, 404, `${p} -> ${r.status}`);
    assert.ok(!r.text.includes('root:') && !r.text.includes('not for the web'), p);
  }
  const index = await get(srv, '/');
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type') ?? '', /text\/html/);
  assert.equal(index.text, '<!doctype html><title>论坛</title>');
  const same = await get(srv, '/same.js');
  assert.equal(same.status, 200, 'a link that stays inside the web root is followed');
  assert.equal(same.text, 'export const app = 1;\n');
  assert.match(same.headers.get('content-type') ?? '', /text\/javascript/);
});

test('a WebSocket handshake must name the forum.v1 subprotocol', { timeout: 20000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  for (const protocols of [[], ['chat'], ['Forum.V1'], ['forum.v2']]) {
    const refused = await h.connect(srv, { protocols }).then(() => 'accepted', (e) => e.statusCode ?? e.message);
    assert.equal(refused, 400, `protocols ${JSON.stringify(protocols)}`);
  }
  const raw = await new Promise((resolve, reject) => {
    const r = http.get({
      host: '127.0.0.1', port: srv.port, path: '/ws', timeout: 5000,
      headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], text: Buffer.concat(chunks).toString('utf8') }));
    });
    r.on('upgrade', () => reject(new Error('upgraded without naming the subprotocol')));
    r.on('timeout', () => r.destroy(new Error('timeout')));
    r.on('error', reject);
  });
  assert.equal(raw.status, 400);
  assert.match(raw.type ?? '', /application\/json/);
  assert.match(JSON.parse(raw.text).message, /forum\.v1/, 'the refusal says what is missing');
  const ok = await h.connect(srv, { protocols: ['chat', 'forum.v1'] });
  assert.equal(ok.ws.protocol, 'forum.v1');
  const viewer = await h.connect(srv);
  assert.equal(viewer.ws.protocol, 'forum.v1');
});

test('Origin check on the WebSocket upgrade', { timeout: 20000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer({ args: ['--origin', 'https://forum.example.org'] });
  const ok = await h.connect(srv, { origin: 'https://forum.example.org' });
  assert.ok(ok.isOpen);
  const own = await h.connect(srv, { origin: `http://127.0.0.1:${srv.port}` }).then(() => 'accepted', (e) => e.statusCode ?? e.message);
  assert.equal(own, 'accepted', 'a page the server served itself stays allowed with --origin given');
  const none = await h.connect(srv, {}).then(() => 'accepted', (e) => e.statusCode ?? e.message);
  assert.equal(none, 'accepted', 'clients without Origin are allowed');
  const evil = await h.connect(srv, { origin: 'https://evil.example.com' }).then(() => 'accepted', (e) => e.statusCode ?? e.message);
  assert.notEqual(evil, 'accepted', 'a foreign Origin is refused');
  console.log(`# origin: own host with --origin given -> ${own}; foreign -> ${evil}`);

  const srv2 = await h.startServer();
  const def = await h.connect(srv2, { origin: `http://127.0.0.1:${srv2.port}` }).then(() => 'accepted', (e) => e.statusCode ?? e.message);
  assert.equal(def, 'accepted', 'default: the server\'s own origin is allowed');
  const defLocal = await h.connect(srv2, { origin: `http://localhost:${srv2.port}` }).then(() => 'accepted', (e) => e.statusCode ?? e.message);
  assert.equal(defLocal, 'accepted', 'default: localhost:<port> is allowed');
  const defEvil = await h.connect(srv2, { origin: 'https://evil.example.com' }).then(() => 'accepted', (e) => e.statusCode ?? e.message);
  assert.notEqual(defEvil, 'accepted', 'default: a foreign Origin is refused');
});
