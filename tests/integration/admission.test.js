// Who gets in, and as whom: same-origin pages on any address the server has (a phone on the
// LAN), refused origins logged once each, the client address behind a trusted reverse proxy
// (X-Forwarded-For, X-Real-IP) for per-address limits and logs, wrong producer keys over HTTP
// throttled per client address, and the printed links when bound to every interface.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

import { FORUMD, harness, makeTempDir, newToken, runForumd, ServerProcess, setupSession, sleep } from './lib.js';

const outcome = (p) => p.then((c) => { c.close(); return 'accepted'; }, (e) => `refused ${e.statusCode ?? e.message}`);

test('a page the server served itself is let in whatever address the browser used; others are refused and logged once', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  for (const args of [[], ['--origin', 'https://studio.example.org']]) {
    const srv = await h.startServer({ args });
    const P = srv.port;
    const lan = { host: `192.168.1.20:${P}`, origin: `http://192.168.1.20:${P}` };
    // what a phone sends for a page loaded from http://192.168.1.20:PORT
    assert.equal(await outcome(h.connect(srv, { origin: lan.origin, headers: { Host: lan.host } })), 'accepted',
      `same-origin page on a LAN address (${args.join(' ') || 'default allowlist'})`);
    assert.equal(await outcome(h.connect(srv, { origin: `http://Forum.Example.org:${P}`, headers: { Host: `forum.example.org:${P}` } })),
      'accepted', 'host names compare case-insensitively');
    const refused = [
      ['the LAN origin asked for another host', lan.origin, `127.0.0.1:${P}`],
      ['another port', `http://192.168.1.20:${P + 1}`, lan.host],
      ['https on a plain server', `https://192.168.1.20:${P}`, lan.host],
      ['userinfo', `http://x@192.168.1.20:${P}`, lan.host],
      ['a path', `${lan.origin}/`, lan.host],
      ['a list', `https://evil.example, ${lan.origin}`, lan.host],
    ];
    for (const [label, origin, host] of refused) {
      assert.match(await outcome(h.connect(srv, { origin, headers: { Host: host } })), /^refused/, label);
    }
  }

  // refusals are logged, once per origin, with the client address
  const srv = await h.startServer();
  for (let i = 0; i < 3; i++) await outcome(h.connect(srv, { origin: 'https://evil.example' }));
  await outcome(h.connect(srv, { origin: 'https://other.example' }));
  await sleep(200);
  const lines = srv.stderr.split('\n').filter((l) => /refused a WebSocket from a page at/.test(l));
  assert.equal(lines.filter((l) => l.includes('"https://evil.example"')).length, 1, `one line for evil.example:\n${srv.stderr}`);
  assert.equal(lines.filter((l) => l.includes('"https://other.example"')).length, 1, `one line for other.example:\n${srv.stderr}`);
  assert.ok(lines.every((l) => l.includes('client 127.0.0.1') && l.includes('--origin')), lines.join('\n'));
});

test('behind a trusted proxy the client address comes from X-Forwarded-For / X-Real-IP', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const conns = [];
  const open = async (srv, headers) => {
    const r = await h.connect(srv, { headers }).then((c) => { conns.push(c); return 'accepted'; }, (e) => `refused ${e.statusCode ?? e.message}`);
    return r;
  };
  const trusting = await h.startServer({ args: ['--trusted-proxy', '127.0.0.0/8', '--trusted-proxy', '10.0.0.0/8', '--max-connections-per-address', '2'] });
  const A = { 'X-Forwarded-For': '203.0.113.5' };
  assert.equal(await open(trusting, A), 'accepted');
  assert.equal(await open(trusting, A), 'accepted');
  assert.match(await open(trusting, A), /^refused/, 'a third from 203.0.113.5 is over its limit');
  assert.equal(await open(trusting, { 'X-Forwarded-For': '203.0.113.6' }), 'accepted', 'another viewer behind the same proxy');
  // a client cannot pick its address: what it sent is left of what the proxy appended
  assert.match(await open(trusting, { 'X-Forwarded-For': '198.51.100.99, 203.0.113.5' }), /^refused/, 'spoofed left part ignored');
  // proxies in the chain that are trusted themselves are skipped
  assert.match(await open(trusting, { 'X-Forwarded-For': '203.0.113.5, 10.1.2.3' }), /^refused/, 'trusted hops skipped');
  assert.equal(await open(trusting, { 'X-Real-IP': '203.0.113.7' }), 'accepted');
  assert.equal(await open(trusting, { 'X-Real-IP': '203.0.113.7' }), 'accepted');
  assert.match(await open(trusting, { 'X-Real-IP': '203.0.113.7' }), /^refused/, 'X-Real-IP when there is no X-Forwarded-For');
  assert.equal(await open(trusting, { 'X-Forwarded-For': '::ffff:203.0.113.8' }), 'accepted', 'IPv4-mapped is the IPv4 address');
  assert.equal(await open(trusting, { 'X-Forwarded-For': '203.0.113.8' }), 'accepted');
  assert.match(await open(trusting, { 'X-Forwarded-For': '203.0.113.8' }), /^refused/, 'counted as one address');
  // the refusal log names the client, not the proxy
  await outcome(h.connect(trusting, { origin: 'https://evil.example', headers: { 'X-Forwarded-For': '203.0.113.9' } }));
  await sleep(100);
  assert.match(trusting.stderr, /evil\.example.*client 203\.0\.113\.9/, trusting.stderr);

  // without --trusted-proxy the headers are ignored: every connection is 127.0.0.1's
  const plain = await h.startServer({ args: ['--max-connections-per-address', '2'] });
  assert.equal(await open(plain, { 'X-Forwarded-For': '203.0.113.1' }), 'accepted');
  assert.equal(await open(plain, { 'X-Forwarded-For': '203.0.113.2' }), 'accepted');
  assert.match(await open(plain, { 'X-Forwarded-For': '203.0.113.3' }), /^refused/, 'an untrusted peer cannot choose its address');
  for (const c of conns) c.close();
});

test('wrong producer keys over HTTP are throttled per client address (429 with Retry-After)', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer({ args: ['--trusted-proxy', '127.0.0.1'] });
  const get = (key, from) => fetch(`${srv.url}/api/search?q=x`, {
    headers: { authorization: `Bearer ${key}`, 'x-forwarded-for': from },
    signal: AbortSignal.timeout(5000),
  }).then(async (r) => ({ status: r.status, retry: r.headers.get('retry-after'), body: await r.text() }));
  const statuses = {};
  let retry = null;
  for (let i = 0; i < 300; i++) {
    const r = await get(`wrong-key-${i}-xxxxxxxx`, '203.0.113.50');
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    if (r.status === 429) retry = r;
  }
  console.log(`# 300 wrong keys from one address: ${JSON.stringify(statuses)}`);
  assert.ok((statuses[401] ?? 0) <= 12, `at most a handful of guesses are checked: ${JSON.stringify(statuses)}`);
  assert.ok((statuses[429] ?? 0) >= 280, `the rest are refused: ${JSON.stringify(statuses)}`);
  assert.ok(Number(retry.retry) >= 1, `Retry-After: ${retry.retry}`);
  assert.equal(JSON.parse(retry.body).error, 'rate_limited');
  // the throttled address does not get its keys checked, even the right one, until then
  assert.equal((await get(srv.producerKey, '203.0.113.50')).status, 429);
  // another client behind the same proxy is not affected
  assert.equal((await get(srv.producerKey, '203.0.113.51')).status, 200);
  assert.equal((await get('wrong-key-yyyyyyyyyyyy', '203.0.113.51')).status, 401);
  // an IPv6 client counts by its /64: another address in it shares the budget
  for (let i = 0; i < 12; i++) await get(`wrong-v6-${i}-xxxxxxxx`, '2001:db8:1:2::1');
  assert.equal((await get('wrong-v6-zzzzzzzzzzz', '2001:db8:1:2::99')).status, 429, 'same /64');
  assert.equal((await get('wrong-v6-zzzzzzzzzzz', '2001:db8:1:3::1')).status, 401, 'another /64');
  await sleep(100);
  assert.match(srv.stderr, /too many wrong producer keys over HTTP from 203\.0\.113\.50/);
  assert.equal(srv.stderr.includes(srv.producerKey), false, 'keys are not logged');
});

test('bound to every interface, the printed links use the LAN address, not 0.0.0.0', { timeout: 30000 }, async (t) => {
  // In a network namespace of its own (loopback plus a bridge holding a documentation
  // address), so that nothing listens on a real network.
  const probe = spawnSync('unshare', ['--net', 'true']);
  if (probe.status !== 0 || spawnSync('ip', ['-V']).status !== 0) {
    t.skip('needs unshare --net (root) and ip (iproute2)');
    return;
  }
  const dir = makeTempDir();
  const script = 'ip link set lo up && ip link add forum0 type bridge && ip addr add 198.51.100.7/24 dev forum0 && '
    + 'ip link set forum0 up && exec "$0" "$@"';
  for (const [bind, expect] of [['0.0.0.0', '198.51.100.7'], ['127.0.0.1', '127.0.0.1']]) {
    const srv = new ServerProcess({
      rawArgs: ['--net', 'sh', '-c', script, FORUMD, '--port', '0', '--bind', bind, '--db', `${dir}/${bind}.db`, '--producer-key', newToken() + newToken()],
      bin: 'unshare',
    });
    try {
      await srv.ready(10000);
      const links = srv.stdout.match(/^(viewer page|moderator page|overlay \(OBS\)|producer page): +(\S+)/gm) ?? [];
      assert.ok(links.length >= 4, srv.describe());
      for (const l of links) {
        const url = new URL(l.split(/: +/)[1]);
        assert.equal(url.hostname, expect, `--bind ${bind}: ${l}`);
      }
      assert.match(srv.stdout, new RegExp(`listening on http://${bind.replace(/\./g, '\\.')}:\\d+`));
    } finally {
      await srv.stop();
    }
  }
});

test('fresh viewer tokens do not multiply one address\'s questions; another client behind the proxy is not affected', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer({ args: ['--trusted-proxy', '127.0.0.1', '--rate-questions-per-address-per-min', '5'] });
  const { code } = await setupSession(h, srv);
  const from = (addr) => ({ headers: { 'X-Forwarded-For': addr } });
  const joinFrom = async (addr) => {
    const c = await h.connect(srv, from(addr));
    const w = await c.hello(code, 'viewer', newToken());
    assert.equal(w.type, 'welcome', JSON.stringify(w));
    return c;
  };
  // a troll's script: a new token (a new viewer) for every question, all from one address
  const answers = [];
  for (let i = 0; i < 8; i++) {
    const troll = await joinFrom('203.0.113.70');
    answers.push(await troll.request('question.submit', { text: `刷屏问题第${i}条` }));
  }
  const codes = answers.map((r) => (r.type === 'ack' ? 'ack' : r.code));
  assert.deepEqual(codes, ['ack', 'ack', 'ack', 'ack', 'ack', 'rate_limited', 'rate_limited', 'rate_limited'], JSON.stringify(answers.slice(5)));
  assert.ok(answers[5].retry_after_ms > 0, JSON.stringify(answers[5]));
  // a resident behind the same proxy, on another address, still gets through
  const resident = await joinFrom('203.0.113.71');
  assert.equal((await resident.request('question.submit', { text: '楼道照明什么时候修？' })).type, 'ack');
  const metrics = await (await fetch(`${srv.url}/metrics`)).text();
  assert.match(metrics, /^forum_address_limited_total 3$/m);
  // what was refused changed nothing: five of the troll's questions and the resident's
  const mod = await h.producer(srv, code);
  const listed = await mod.ok('questions.list', { limit: 100 });
  assert.equal(listed.questions.length, 6, JSON.stringify(listed.questions.map((q) => q.text)));
});

test('--max-questions-per-session: past the cap a question is refused as rate_limited and nothing is stored; other sessions are not affected', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer({ args: ['--max-questions-per-session', '3', '--rate-questions-per-address-per-min', '0'] });
  const { code, producer, programId } = await setupSession(h, srv);
  const answers = [];
  for (let i = 0; i < 5; i++) {
    const v = await h.viewer(srv, code);
    answers.push(await v.request('question.submit', { text: `第${i + 1}个问题：小区停车位怎么分配？` }));
  }
  assert.deepEqual(answers.map((r) => (r.type === 'ack' ? 'ack' : r.code)), ['ack', 'ack', 'ack', 'rate_limited', 'rate_limited'],
    JSON.stringify(answers.slice(3)));
  assert.match(answers[3].message, /3/, 'the message names the cap');
  const staff = await h.producer(srv, code);
  assert.equal((await staff.ok('questions.list', { limit: 100 })).questions.length, 3);
  // the cap is per session
  const other = await setupSession(h, srv, { producer, programId, title: '第十三期：垃圾分类' });
  const v = await h.viewer(srv, other.code);
  assert.equal((await v.request('question.submit', { text: '另一期的问题' })).type, 'ack');
  // out of range is refused at start, with the option named
  const bad = await runForumd(['--max-questions-per-session', '0', '--no-demo', '--port', '0']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /max-questions-per-session/);
});
