// Cluster test helpers: a redis-server of the test's own on loopback and forumd nodes joined
// through it. Everything started here is stopped by the harness (t.after) or on exit.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

import { makeTempDir, newToken, sleep, startServer, withTimeout } from '../integration/lib.js';

export const REDIS_SERVER = process.env.REDIS_SERVER || 'redis-server';
/** The nodes' lease (forumd's default is 3000 ms; shorter here so failover tests are quick). */
export const LEASE_MS = Number(process.env.CLUSTER_LEASE_MS || 1500);

/** A free TCP port on 127.0.0.1 (for servers that cannot take port 0: Redis, nginx). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/**
 * A redis-server with AOF (appendfsync always) in its own directory, on a free port. opts:
 * args (more redis-server arguments, e.g. ACL users), auth ([user, password] for its own
 * health checks).
 */
export class Redis {
  constructor(dir, port, opts = {}) {
    this.dir = dir;
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this.proc = null;
    this.args = opts.args ?? [];
    this.auth = opts.auth ?? null;
  }

  static async start(opts = {}) {
    const r = new Redis(makeTempDir('forum-redis-'), await freePort(), opts);
    await r.restart();
    return r;
  }

  async restart() {
    this.log = '';
    this.proc = spawn(REDIS_SERVER, [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir,
      '--appendonly', 'yes', '--appendfsync', 'always', '--save', '',
      '--protected-mode', 'no', '--daemonize', 'no', ...this.args,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (d) => { this.log += d; });
    this.exited = new Promise((resolve) => this.proc.on('exit', resolve));
    const deadline = Date.now() + 10000;
    for (;;) {
      if (await this.ping()) return;
      if (Date.now() > deadline) throw new Error(`redis-server did not start:\n${this.log}`);
      await sleep(50);
    }
  }

  async ping() {
    const r = await this.command(['PING']).catch(() => null);
    return r === 'PONG';
  }

  /**
   * Sends one command (after AUTH and SELECT db when asked) and resolves with its reply: a
   * string, a number, null, or an Error for an error reply. Only what the tests need of RESP.
   */
  command(args, { db = 0 } = {}) {
    const cmds = [];
    if (this.auth) cmds.push(['AUTH', ...this.auth]);
    if (db) cmds.push(['SELECT', String(db)]);
    cmds.push(args);
    const wire = cmds.map((c) => `*${c.length}\r\n${c.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`).join('');
    return new Promise((resolve, reject) => {
      const s = net.connect(this.port, '127.0.0.1');
      let buf = '';
      s.setTimeout(3000, () => { s.destroy(); reject(new Error('redis timeout')); });
      s.on('error', reject);
      s.on('connect', () => s.write(wire));
      s.on('data', (d) => {
        buf += d.toString();
        const lines = buf.split('\r\n');
        const replies = [];
        for (let i = 0; i < lines.length - 1; i++) {
          const l = lines[i];
          if (l[0] === '+') replies.push(l.slice(1));
          else if (l[0] === '-') replies.push(new Error(l.slice(1)));
          else if (l[0] === ':') replies.push(Number(l.slice(1)));
          else if (l[0] === '$') { replies.push(l === '$-1' ? null : lines[i + 1]); if (l !== '$-1') i++; }
        }
        if (replies.length >= cmds.length) {
          s.destroy();
          resolve(replies[cmds.length - 1]);
        }
      });
    });
  }

  async stop(signal = 'SIGTERM') {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode) return;
    this.proc.kill(signal);
    await withTimeout(this.exited, 10000, 'redis-server exit');
  }
}

/** Starts a forumd node of the cluster (opts: producerKey shared by all nodes, leaseMs). */
export async function startNode(redis, name, opts = {}) {
  const node = await startServer({
    dbPath: opts.dbPath ?? path.join(makeTempDir(`forum-node-${name}-`), 'forum.db'),
    producerKey: opts.producerKey,
    args: ['--cluster', redis.url, '--node', name, '--lease-ms', String(opts.leaseMs ?? LEASE_MS),
      ...(opts.args ?? [])],
    timeoutMs: opts.timeoutMs ?? 15000,
  });
  node.name = name;
  return node;
}

export async function metrics(node) {
  const res = await fetch(`${node.url}/metrics`);
  const text = await res.text();
  const get = (name) => {
    const m = text.match(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm'));
    return m ? Number(m[1]) : undefined;
  };
  return { text, get };
}

/** Waits until one of nodes reports itself leader; returns it. */
export async function waitLeader(nodes, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const n of nodes) {
      if (!n.running) continue;
      try {
        if ((await metrics(n)).get('forum_cluster_leader') === 1) return n;
      } catch { /* not up */ }
    }
    if (Date.now() > deadline) throw new Error('no node became leader');
    await sleep(100);
  }
}

export { newToken };
