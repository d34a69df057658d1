// HTTP requests of every method, with and without bodies, as a script or a studio controller
// sends them: every one is answered with a body and a correct content-length (no client is left
// waiting), bodies are read up to 64 KiB and must come with a Content-Length, methods a route
// does not take get a JSON 405, and POST /api/search reads its JSON body.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';

import { harness, setupSession, sleep } from './lib.js';

/**
 * Sends raw request bytes (a string or Buffer, or an array of them written with a pause in
 * between) on one socket and reads the responses that arrive. Resolves with
 * {responses: [{status, headers, body}], closed, interim: [1xx statuses]} once `count` complete responses were read and
 * the socket either closed or stayed open for 300 ms.
 */
function rawHttp(port, request, { count = 1, pauseMs = 100, timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const responses = [];
    const interim = [];
    const parts = Array.isArray(request) ? request : [request];
    // an answer to HEAD has a content-length but no body
    const heads = parts.filter((p) => typeof p === 'string' && /^[A-Z]+ /.test(p)).map((p) => p.startsWith('HEAD '));
    let closed = false;
    let settle = null;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms; got ${JSON.stringify(buf.toString())}`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      clearTimeout(settle);
      sock.destroy();
      resolve({ responses, closed, interim });
    };
    const parse = () => {
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
        if (/^HTTP\/1\.1 1\d\d /.test(lines[0])) { // an interim answer (100 Continue): no body
          interim.push(Number(lines[0].split(' ')[1]));
          buf = buf.subarray(end + 4);
          continue;
        }
        const headers = {};
        for (const l of lines.slice(1)) {
          const i = l.indexOf(':');
          headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        const length = Number(headers['content-length'] ?? NaN);
        assert.ok(Number.isInteger(length), `every answer has a content-length: ${lines.join(' | ')}`);
        if (buf.length < end + 4 + length) return;
        const bodyLen = heads[responses.length] ? 0 : length;
        const body = buf.subarray(end + 4, end + 4 + bodyLen).toString('utf8');
        const statusLine = /^HTTP\/1\.[01] (\d{3}) /.exec(lines[0]);
        if (!statusLine) {
          sock.destroy();
          clearTimeout(timer);
          reject(new Error(`bytes where an answer should start: ${JSON.stringify(lines[0])}`));
          return;
        }
        responses.push({ status: Number(statusLine[1]), headers, body });
        buf = buf.subarray(end + 4 + bodyLen);
        if (responses.length >= count && !settle) settle = setTimeout(finish, 300);
      }
    };
    sock.on('data', (d) => { buf = Buffer.concat([buf, d]); parse(); });
    sock.on('end', () => { closed = true; if (responses.length >= count) finish(); });
    sock.on('close', () => { closed = true; if (responses.length >= count) finish(); });
    sock.on('error', () => { closed = true; });
    sock.on('connect', async () => {
      for (const [i, part] of parts.entries()) {
        if (i > 0) await sleep(pauseMs);
        if (!sock.destroyed) sock.write(part);
      }
    });
  });
}

const req = (method, path, headers = {}, body = '') => {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
};

function assertJsonError(r, status, error) {
  assert.equal(r.status, status, JSON.stringify(r));
  assert.match(r.headers['content-type'] ?? '', /application\/json/);
  assert.equal(Buffer.byteLength(r.body), Number(r.headers['content-length']), 'content-length is the body\'s');
  const doc = JSON.parse(r.body);
  assert.equal(doc.error, error);
  assert.ok(typeof doc.message === 'string' && doc.message.length > 0, 'says why');
}

test('HTTP requests with bodies and every method are answered', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const auth = { authorization: `Bearer ${srv.producerKey}` };

  await t.test('a POST with a body gets a JSON 405 with its length, and the connection goes on', async () => {
    const body = JSON.stringify({ note: '下一题' });
    const { responses, closed } = await rawHttp(srv.port, [
      req('POST', '/', { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, body),
      req('GET', '/healthz'),
    ], { count: 2 });
    assertJsonError(responses[0], 405, 'method_not_allowed');
    assert.equal(responses[0].headers.allow, 'GET, HEAD');
    assert.equal(responses[1].status, 200, 'the next request on the same connection is answered');
    assert.deepEqual(JSON.parse(responses[1].body), { ok: true });
    assert.equal(closed, false, 'keep-alive');
  });

  await t.test('routes answer the methods they do not take with 405', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      for (const path of ['/healthz', '/metrics', '/api/sessions/ABCDEF/transcript.json', '/s/ABCDEF', '/no-such-file']) {
        const { responses } = await rawHttp(srv.port, req(method, path, { 'content-length': 2 }, '{}'));
        assertJsonError(responses[0], 405, 'method_not_allowed');
        assert.match(responses[0].headers.allow, /^GET, HEAD/, `${method} ${path}`);
      }
    }
    const { responses } = await rawHttp(srv.port, req('DELETE', '/api/search'));
    assertJsonError(responses[0], 405, 'method_not_allowed');
    assert.equal(responses[0].headers.allow, 'GET, HEAD, POST');
  });

  await t.test('HEAD gets the headers of the answer without its body', async () => {
    const { responses, closed } = await rawHttp(srv.port, [req('HEAD', '/healthz'), req('GET', '/healthz')], { count: 2 });
    assert.equal(responses[0].status, 200);
    assert.equal(Number(responses[0].headers['content-length']), '{"ok":true}'.length);
    assert.equal(responses[1].body, '{"ok":true}', 'no stray body before the next answer');
    assert.equal(closed, false);
  });

  await t.test('a POST without Content-Length has an empty body: answered, then closed', async () => {
    const { responses, closed } = await rawHttp(srv.port, req('POST', '/healthz'));
    assertJsonError(responses[0], 405, 'method_not_allowed');
    assert.equal(responses[0].headers.connection, 'close');
    assert.equal(closed, true);
  });

  await t.test('a chunked body is refused with 411, a bad length with 400', async () => {
    let r = await rawHttp(srv.port, req('POST', '/api/search', { ...auth, 'transfer-encoding': 'chunked', 'content-type': 'application/json' }, '2\r\n{}\r\n0\r\n\r\n'));
    assertJsonError(r.responses[0], 411, 'length_required');
    assert.equal(r.closed, true);
    for (const length of ['abc', '-1', '2, 2', '1e3', '+2', '99999999999999999999']) {
      r = await rawHttp(srv.port, req('POST', '/api/search', { ...auth, 'content-length': length, 'content-type': 'application/json' }, '{}'));
      assertJsonError(r.responses[0], 400, 'bad_request');
      assert.equal(r.closed, true, `Content-Length: ${length}`);
    }
    r = await rawHttp(srv.port, req('POST', '/api/search', { ...auth, 'content-length': 2, 'transfer-encoding': 'chunked' }, '{}'));
    assertJsonError(r.responses[0], 400, 'bad_request');
  });

  await t.test('bodies are bounded at 64 KiB', async () => {
    const pad = (n) => `{"q":"停车"${' '.repeat(n - Buffer.byteLength('{"q":"停车"}'))}}`;
    const exact = pad(65536);
    assert.equal(Buffer.byteLength(exact), 65536);
    let res = await fetch(`${srv.url}/api/search`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: exact, signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200, 'a body of exactly 64 KiB is read');
    assert.equal((await res.json()).q, '停车');
    const over = pad(65537);
    const r = await rawHttp(srv.port, [req('POST', '/api/search', { ...auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(over) }, over), req('GET', '/healthz')], { count: 2 });
    assertJsonError(r.responses[0], 413, 'too_large');
    assert.equal(r.responses[1].status, 200, 'a body a little over is dropped and the connection goes on');
    // A length far past the bound: answered at once (the body is never sent), then closed.
    const big = await rawHttp(srv.port, req('POST', '/api/search', { ...auth, 'content-type': 'application/json', 'content-length': 10 * 1024 * 1024 }, '{"q":'));
    assertJsonError(big.responses[0], 413, 'too_large');
    assert.equal(big.closed, true);
    res = await fetch(`${srv.url}/healthz`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200, 'the server is fine');
  });

  await t.test('a client that expects 100-continue gets it, then its answer', async () => {
    const body = JSON.stringify({ q: '加装电梯' });
    const head = req('POST', '/api/search', { ...auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' });
    const r = await rawHttp(srv.port, [head, body], { pauseMs: 300 });
    assert.deepEqual(r.interim, [100], 'the go-ahead comes before the body is sent');
    assert.equal(r.responses[0].status, 200);
    assert.equal(JSON.parse(r.responses[0].body).q, '加装电梯');
    const over = await rawHttp(srv.port, req('POST', '/api/search', { ...auth, 'content-type': 'application/json', 'content-length': 70000, expect: '100-continue' }));
    assert.deepEqual(over.interim, [], 'no go-ahead for a body that is too large');
    assertJsonError(over.responses[0], 413, 'too_large');
    assert.equal(over.closed, true);
  });

  await t.test('POST /api/search reads the search request from its JSON body', async () => {
    const { code } = await setupSession(h, srv);
    const viewer = await h.viewer(srv, code, { name: '张阿姨' });
    await viewer.ok('question.submit', { text: '小区停车&充电桩什么时候装？' });
    const search = (body, headers = {}) => fetch(`${srv.url}/api/search`, {
      method: 'POST', headers: { ...auth, 'content-type': 'application/json; charset=utf-8', ...headers }, body, signal: AbortSignal.timeout(5000),
    });
    // GET /api/search does not wait for the index: wait until the question is found.
    let doc;
    for (let i = 0; i < 50; i++) {
      const res = await search(JSON.stringify({ q: '停车&充电桩', limit: 5 }));
      assert.equal(res.status, 200);
      doc = await res.json();
      if (doc.results.length) break;
      await sleep(100);
    }
    assert.equal(doc.q, '停车&充电桩', 'an & in the terms is part of them (it splits a query string)');
    assert.equal(doc.results[0]?.question_text, '小区停车&充电桩什么时候装？');
    // A body split across packets is put together.
    const body = Buffer.from(JSON.stringify({ q: '充电桩', limit: 5 }));
    const split = await rawHttp(srv.port, [
      Buffer.concat([Buffer.from(req('POST', '/api/search', { ...auth, 'content-type': 'application/json', 'content-length': body.length })), body.subarray(0, 7)]),
      body.subarray(7, 8), body.subarray(8)], { pauseMs: 150 });
    assert.equal(split.responses[0].status, 200);
    assert.equal(JSON.parse(split.responses[0].body).results.length, 1);
    let res = await search(JSON.stringify({ q: '充电桩' }), { 'content-type': 'text/plain' });
    assert.equal(res.status, 415);
    assert.equal((await res.json()).error, 'unsupported_media_type');
    res = await search('{"q":"充电桩"');
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error, 'bad_json');
    res = await search('{"q":"充电桩"} trailing');
    assert.equal(res.status, 400);
    res = await search('["充电桩"]');
    assert.equal(res.status, 400);
    res = await search(JSON.stringify({ q: '充电桩', limit: 'all' }));
    assert.equal(res.status, 400);
    assert.equal((await res.json()).field, 'limit');
    res = await fetch(`${srv.url}/api/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"q":"充电桩"}', signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 401, 'the producer key is needed');
  });
});
