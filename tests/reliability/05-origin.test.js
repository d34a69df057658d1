// 5. Origin check on the WebSocket upgrade: same-origin pages (Origin = the Host the browser
// asked for) and the allowlist (exact match, no wildcards, no prefixes) are accepted, and so are
// native clients (no Origin header); a foreign origin is refused at the handshake (no 101), and
// the refusals leave the server serving.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { RawWs } from './rawws.js';
import { harness, metric, newToken, setupSession, startForumd } from './rlib.js';

async function tryOrigin(port, origin, opts = {}) {
  const r = await RawWs.handshake(port, { origin, ...opts });
  if (r.ok) {
    // an accepted connection must also work
    const w = await r.ws.hello(opts.code ?? 'AAAAAA', 'viewer', newToken()).catch((e) => ({ error: e.message }));
    r.ws.destroy();
    return { accepted: true, reply: w };
  }
  return { accepted: false, status: r.status, reset: r.reset };
}

test('Origin: foreign origins refused at the handshake, allowed ones accepted', { timeout: 60000 }, async (t) => {
  const h = harness(t);
  const problems = [];
  let cases = 0;
  const expect = async (srv, label, origin, accepted, opts = {}) => {
    cases++;
    const r = await tryOrigin(srv.port, origin, opts);
    if (r.accepted !== accepted) {
      problems.push(`${label} (Origin: ${origin === undefined ? '(none)' : JSON.stringify(origin)}): expected ${accepted ? 'accepted' : 'refused'}, got ${r.accepted ? 'accepted' : `refused (${r.status ?? 'connection closed'})`}`);
    } else if (accepted && r.reply?.type !== 'welcome') {
      problems.push(`${label}: accepted but hello failed: ${JSON.stringify(r.reply)}`);
    } else if (!accepted && r.status !== null && r.status < 400) {
      problems.push(`${label}: refused with HTTP ${r.status} (expected a 4xx or a closed connection)`);
    }
    return r;
  };

  // --- default allowlist: the server's own origins
  const srv = h.track(await startForumd());
  const { code } = await setupSession(h, srv);
  const P = srv.port;
  const refusedBefore = await metric(srv, 'forum_refused_connections_total');
  await expect(srv, 'own origin 127.0.0.1', `http://127.0.0.1:${P}`, true, { code });
  await expect(srv, 'own origin localhost', `http://localhost:${P}`, true, { code });
  await expect(srv, 'no Origin header (native client)', undefined, true, { code });
  const foreign = [
    ['another site', 'https://evil.example'],
    ['another port', `http://127.0.0.1:${P + 1}`],
    ['https instead of http', `https://127.0.0.1:${P}`],
    ['own origin as a prefix', `http://127.0.0.1:${P}.evil.example`],
    ['own origin with a path', `http://127.0.0.1:${P}/evil`],
    ['own origin with a trailing slash', `http://127.0.0.1:${P}/`],
    ['own origin with userinfo', `http://attacker@127.0.0.1:${P}`],
    ['own origin without port', 'http://127.0.0.1'],
    ['"null" (sandboxed iframe, file://)', 'null'],
    ['suffix of own origin', `//127.0.0.1:${P}`],
    ['own origin after another', `https://evil.example, http://127.0.0.1:${P}`],
    ['oversized origin', `http://${'a'.repeat(300)}.example`],
    ['localhost subdomain', `http://evil.localhost:${P}`],
  ];
  for (const [label, origin] of foreign) await expect(srv, label, origin, false);
  // the refusals are counted and the server keeps serving
  const refusedAfter = await metric(srv, 'forum_refused_connections_total');
  assert.ok(refusedAfter - refusedBefore >= foreign.length, `refusals counted: ${refusedAfter - refusedBefore} of ${foreign.length}`);
  const ok = await h.viewer(srv, code, {});
  await ok.ok('question.submit', { text: '跨站请求之后服务器还在吗？' });
  // the upgrade only exists on /ws
  cases++;
  const other = await RawWs.handshake(P, { path: '/not-ws' });
  if (other.ok) problems.push('an upgrade on /not-ws was accepted');

  // --- configured allowlist: exact values only, the defaults no longer apply, no wildcards
  const srv2 = h.track(await startForumd({ args: ['--origin', 'https://studio.example.org', '--origin', 'https://*.example.com'] }));
  const s2 = await setupSession(h, srv2);
  await expect(srv2, 'configured origin', 'https://studio.example.org', true, { code: s2.code });
  await expect(srv2, 'configured literal with *', 'https://*.example.com', true, { code: s2.code });
  await expect(srv2, 'no wildcard matching', 'https://evil.example.com', false);
  await expect(srv2, 'same-origin page (Origin = the Host asked for) stays allowed with --origin', `http://127.0.0.1:${srv2.port}`, true, { code: s2.code });
  await expect(srv2, 'localhost default no longer applies once --origin is given', `http://localhost:${srv2.port}`, false);
  await expect(srv2, 'same-origin page on a LAN address', `http://192.168.1.20:${srv2.port}`, true, { code: s2.code, hostHeader: `192.168.1.20:${srv2.port}` });
  await expect(srv2, 'LAN origin with another Host', `http://192.168.1.20:${srv2.port}`, false);
  await expect(srv2, 'configured origin over http', 'http://studio.example.org', false);
  await expect(srv2, 'configured origin with another port', 'https://studio.example.org:8443', false);
  await expect(srv2, 'configured origin in upper case', 'HTTPS://STUDIO.EXAMPLE.ORG', false);
  await expect(srv2, 'no Origin header (native client)', undefined, true, { code: s2.code });

  console.log(`# origin: ${cases} handshakes, ${problems.length} differ`);
  assert.deepEqual(problems, [], `${problems.length} of ${cases} origin cases differ:\n  - ${problems.join('\n  - ')}`);
});
