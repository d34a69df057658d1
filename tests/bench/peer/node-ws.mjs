// Peer server for the forum benchmark, scenario 1: Node.js + the `ws` package, the way a
// competent team would write it: in-memory state (core.mjs), every event serialized once to a
// Buffer and sent to each subscriber, slow consumers cut off at a send-buffer bound.
//   node node-ws.mjs --port 0 --bind 127.0.0.1 --producer-key KEY
// Prints `listening on http://ADDR:PORT` once it accepts connections.
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { Forum, parseArgs } from './core.mjs';

const opt = parseArgs(process.argv.slice(2));
const SLOW_CONSUMER_BYTES = 8 << 20;

const subs = new Map(); // session code -> { staff: Set<ws>, public: Set<ws> }
function subsOf(code) {
  let s = subs.get(code);
  if (!s) subs.set(code, (s = { staff: new Set(), public: new Set() }));
  return s;
}

const transport = {
  send(ws, text) {
    ws.send(text);
  },
  subscribe(ws, code, staff) {
    const s = subsOf(code);
    (staff ? s.staff : s.public).add(ws);
    ws.state.sub = { code, staff };
  },
  publish(code, staff, text) {
    const s = subs.get(code);
    if (!s) return;
    const set = staff ? s.staff : s.public;
    if (set.size === 0) return;
    const buf = Buffer.from(text); // serialize once, send many
    for (const ws of set) {
      if (ws.bufferedAmount > SLOW_CONSUMER_BYTES) ws.terminate();
      else ws.send(buf, { binary: false });
    }
  },
};

const forum = new Forum(opt.producerKey, transport);

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  } else {
    res.writeHead(404);
    res.end();
  }
});
const wss = new WebSocketServer({
  server,
  path: '/ws',
  perMessageDeflate: false,
  maxPayload: 64 * 1024,
  clientTracking: false,
  handleProtocols: (protocols) => (protocols.has('forum.v1') ? 'forum.v1' : false),
});
wss.on('connection', (ws) => {
  ws.state = { role: null, session: null, viewerId: null, sub: null };
  ws.on('message', (data, isBinary) => {
    if (isBinary) return ws.close(1003, 'text frames only');
    forum.onMessage(ws, data.toString());
  });
  ws.on('close', () => {
    const sub = ws.state.sub;
    if (sub) {
      const s = subs.get(sub.code);
      (sub.staff ? s.staff : s.public).delete(ws);
    }
  });
  ws.on('error', () => {});
});
server.listen(opt.port, opt.bind, () => {
  const a = server.address();
  console.log(`listening on http://${a.address}:${a.port}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
