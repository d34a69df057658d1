// Peer server for the forum benchmark, scenario 1: Bun's built-in WebSocket server
// (uWebSockets inside), the way a competent team would write it: in-memory state (core.mjs) and
// Bun's native pub/sub — each event serialized once and published to a topic per session and
// audience; uWS does the per-subscriber sends in native code.
//   bun bun-server.mjs --port 0 --bind 127.0.0.1 --producer-key KEY
// Prints `listening on http://ADDR:PORT` once it accepts connections.
import { Forum, parseArgs } from './core.mjs';

const opt = parseArgs(process.argv.slice(2));
let server;

const transport = {
  send(ws, text) {
    ws.send(text);
  },
  subscribe(ws, code, staff) {
    ws.subscribe(`${code}:${staff ? 'staff' : 'public'}`);
  },
  publish(code, staff, text) {
    server.publish(`${code}:${staff ? 'staff' : 'public'}`, text);
  },
};
const forum = new Forum(opt.producerKey, transport);

server = Bun.serve({
  hostname: opt.bind,
  port: opt.port,
  fetch(req, srv) {
    const url = new URL(req.url);
    if (url.pathname === '/ws') {
      const protos = (req.headers.get('sec-websocket-protocol') ?? '').split(',').map((s) => s.trim());
      if (!protos.includes('forum.v1')) return new Response('subprotocol forum.v1 required', { status: 400 });
      const ok = srv.upgrade(req, {
        data: { role: null, session: null, viewerId: null },
        headers: { 'Sec-WebSocket-Protocol': 'forum.v1' },
      });
      return ok ? undefined : new Response('upgrade failed', { status: 400 });
    }
    if (url.pathname === '/healthz') return Response.json({ ok: true });
    return new Response('not found', { status: 404 });
  },
  websocket: {
    perMessageDeflate: false,
    maxPayloadLength: 64 * 1024,
    backpressureLimit: 8 << 20,
    closeOnBackpressureLimit: true,
    idleTimeout: 120,
    publishToSelf: true,
    open(ws) {
      ws.state = ws.data;
    },
    message(ws, message) {
      if (typeof message !== 'string') return ws.close(1003, 'text frames only');
      if (!ws.state) ws.state = ws.data;
      forum.onMessage(ws, message);
    },
  },
});
console.log(`listening on http://${server.hostname}:${server.port}`);
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
