// Archiving publishes the minutes: before that transcript.md needs the producer key, after it
// a viewer's browser can read it without one. The other exports stay behind the key.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { harness, setupSession } from './lib.js';

async function status(srv, path, headers = {}) {
  const res = await fetch(`${srv.url}${path}`, { headers, signal: AbortSignal.timeout(5000) });
  await res.arrayBuffer();
  return res.status;
}

test('minutes become public when the session is archived, other exports do not', async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { producer, code } = await setupSession(h, srv);
  const md = `/api/sessions/${code}/transcript.md`;
  assert.equal(await status(srv, md), 401, 'minutes of an open session need the key');

  await producer.ok('session.start', { session: code });
  await producer.ok('session.end', { session: code });
  assert.equal(await status(srv, md), 401, 'minutes of an ended, unarchived session need the key');

  await producer.ok('session.archive', { session: code });
  assert.equal(await status(srv, md), 200, 'archived minutes are public');
  assert.equal(await status(srv, `/api/sessions/${code}/questions.csv`), 401);
  assert.equal(await status(srv, `/api/sessions/${code}/transcript.json`), 401);
  assert.equal(await status(srv, md, { authorization: 'Bearer wrong' }), 200,
    'a wrong key does not hide public minutes');
});
