// The forum protocol subset that benchmark scenario 1 (fan-out) uses, as a team would write it
// for a Node.js or Bun WebSocket server: all state in memory, each event serialized to JSON once
// per audience (staff / public) and handed to the transport's broadcast.
//
// Supported: hello (producer studio-wide, moderator, viewer; welcome with a snapshot),
// program.create, session.create, session.start, question.submit (staff: published at once),
// onair.set (question.updated x2 + onair.changed), panel.set (panel.changed). Anything else gets
// an `unknown_type` error. No persistence, no rate limits, no resume: this is the baseline a
// competent team would ship first, not the forum.
import crypto from 'node:crypto';

const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

function joinCode() {
  const b = crypto.randomBytes(6);
  let s = '';
  for (let i = 0; i < 6; i++) s += CODE_ALPHABET[b[i] % CODE_ALPHABET.length];
  return s;
}

export function parseArgs(argv) {
  const o = { port: 8080, bind: '127.0.0.1', producerKey: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') o.port = Number(argv[++i]);
    else if (a === '--bind') o.bind = argv[++i];
    else if (a === '--producer-key') o.producerKey = argv[++i];
    else throw new Error(`unknown option ${a}`);
  }
  if (!o.producerKey) o.producerKey = crypto.randomBytes(16).toString('hex');
  return o;
}

const err = (re, code, message, field) => {
  const m = { type: 'error', code, message };
  if (re !== undefined) m.re = re;
  if (field) m.field = field;
  return m;
};

/**
 * transport: { send(conn, text), subscribe(conn, session, staff), publish(session, staff, text) }
 * `publish(session, true, text)` goes to staff subscribers, `(session, false, text)` to viewers.
 */
export class Forum {
  constructor(producerKey, transport) {
    this.producerKey = producerKey;
    this.t = transport;
    this.programs = new Map();
    this.sessions = new Map();
    this.nextProgram = 1;
    this.nextQuestion = 1;
  }

  // conn.state: { role, session, viewerId } — owned by the transport, set here.
  onMessage(conn, text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      this.t.send(conn, JSON.stringify(err(undefined, 'bad_json', 'not JSON')));
      return;
    }
    if (!msg || typeof msg !== 'object' || Array.isArray(msg) || typeof msg.type !== 'string') {
      this.t.send(conn, JSON.stringify(err(msg?.id, 'bad_request', 'not a request', 'type')));
      return;
    }
    const st = conn.state;
    const re = msg.id;
    if (msg.type === 'hello') return this.hello(conn, msg);
    if (!st.role) return this.t.send(conn, JSON.stringify(err(re, 'unauthorized', 'say hello first')));
    let reply;
    try {
      reply = this.request(conn, msg);
    } catch (e) {
      reply = err(re, 'internal', String(e?.message ?? e));
    }
    if (reply && re !== undefined) {
      reply.re = re;
      this.t.send(conn, JSON.stringify(reply));
    } else if (reply && reply.type === 'error') {
      this.t.send(conn, JSON.stringify(reply));
    }
  }

  hello(conn, msg) {
    const st = conn.state;
    const re = msg.id;
    if (st.role) return this.t.send(conn, JSON.stringify(err(re, 'conflict', 'already said hello')));
    if (msg.role === 'producer') {
      if (msg.token !== this.producerKey)
        return this.t.send(conn, JSON.stringify(err(re, 'unauthorized', 'wrong key')));
      st.role = 'producer';
      if (msg.session == null) {
        st.session = null;
        const snapshot = {
          programs: [...this.programs.values()],
          sessions: [...this.sessions.values()].map((s) => s.info),
        };
        return this.t.send(conn, JSON.stringify({ type: 'welcome', re, role: 'producer', seq: 0, snapshot }));
      }
    }
    const s = this.sessions.get(msg.session);
    if (!s) return this.t.send(conn, JSON.stringify(err(re, 'not_found', 'no such session', 'session')));
    let staff = false;
    if (msg.role === 'moderator') {
      if (msg.token !== s.moderatorKey)
        return this.t.send(conn, JSON.stringify(err(re, 'unauthorized', 'wrong key')));
      st.role = 'moderator';
      staff = true;
    } else if (msg.role === 'producer') {
      staff = true;
    } else if (msg.role === 'viewer') {
      if (typeof msg.token !== 'string' || msg.token.length < 22 || msg.token.length > 128)
        return this.t.send(conn, JSON.stringify(err(re, 'bad_request', 'bad device token', 'token')));
      st.role = 'viewer';
      st.viewerId = 'v' + crypto.createHash('sha256').update(msg.token).digest('hex').slice(0, 16);
    } else {
      return this.t.send(conn, JSON.stringify(err(re, 'bad_request', 'unknown role', 'role')));
    }
    st.session = s.info.code;
    const questions = [...s.questions.values()].filter((q) => staff || q.state !== 'pending');
    const snapshot = {
      session: s.info,
      panel: s.panel,
      polls: [],
      questions: questions.map((q) => this.view(q, staff)),
    };
    if (!staff) snapshot.my_votes = [];
    const welcome = { type: 'welcome', re, role: st.role, seq: s.seq, snapshot };
    if (st.viewerId) welcome.viewer_id = st.viewerId;
    this.t.send(conn, JSON.stringify(welcome));
    this.t.subscribe(conn, s.info.code, staff);
  }

  view(q, staff) {
    const { viewer_id, ...pub } = q;
    return staff ? q : pub;
  }

  sessionOf(conn, msg) {
    const code = conn.state.session ?? msg.session;
    return this.sessions.get(code);
  }

  // Appends an event to the session and broadcasts it: once serialized for staff, once for the
  // public when viewers may see it.
  emit(s, kind, payload, publicToo) {
    const ev = { type: 'event', seq: ++s.seq, at: Date.now(), kind, ...payload };
    if (s.info.started_at) ev.offset_ms = ev.at - s.info.started_at;
    const text = JSON.stringify(ev);
    this.t.publish(s.info.code, true, text);
    if (publicToo) this.t.publish(s.info.code, false, text);
  }

  request(conn, msg) {
    const st = conn.state;
    const staff = st.role === 'moderator' || st.role === 'producer';
    switch (msg.type) {
      case 'program.create': {
        if (st.role !== 'producer') return err(msg.id, 'forbidden', 'producers only');
        const p = { id: this.nextProgram++, title: String(msg.title ?? ''), description: msg.description ?? null };
        this.programs.set(p.id, p);
        return { type: 'ack', program: p };
      }
      case 'session.create': {
        if (st.role !== 'producer') return err(msg.id, 'forbidden', 'producers only');
        const prog = this.programs.get(msg.program_id);
        if (!prog) return err(msg.id, 'not_found', 'no such programme', 'program_id');
        let code;
        do code = joinCode(); while (this.sessions.has(code));
        const info = {
          code, program_id: prog.id, program: prog.title, title: String(msg.title ?? ''),
          topic: msg.topic ?? null, status: 'draft', premoderation: !!msg.premoderation,
          anonymous_allowed: msg.anonymous_allowed ?? true, scheduled_at: msg.scheduled_at ?? null,
          started_at: null, ended_at: null,
          panelists: (msg.panelists ?? []).map((p, i) => ({
            id: i + 1, name: p.name, affiliation: p.affiliation ?? null, role: p.role ?? null,
          })),
          segments: (msg.segments ?? []).map((t, i) => ({ id: i + 1, title: typeof t === 'string' ? t : t.title })),
        };
        const s = {
          info, seq: 0, moderatorKey: crypto.randomBytes(18).toString('base64url'),
          panel: { segment_id: null, speaker_ids: [], banner: null, on_air: null, up_next: [] },
          questions: new Map(),
        };
        this.sessions.set(code, s);
        return { type: 'ack', session: info, moderator_key: s.moderatorKey };
      }
      case 'session.start': {
        if (st.role !== 'producer') return err(msg.id, 'forbidden', 'producers only');
        const s = this.sessionOf(conn, msg);
        if (!s) return err(msg.id, 'not_found', 'no such session', 'session');
        if (s.info.status === 'live') return err(msg.id, 'conflict', 'already live');
        s.info.status = 'live';
        s.info.started_at = Date.now();
        this.emit(s, 'session.changed', { session: s.info }, true);
        return { type: 'ack', session: s.info };
      }
      case 'question.submit': {
        const s = this.sessionOf(conn, msg);
        if (!s) return err(msg.id, 'not_found', 'no such session', 'session');
        const text = typeof msg.text === 'string' ? msg.text.trim() : '';
        if (!text) return err(msg.id, 'bad_request', 'text is required', 'text');
        if ([...text].length > 500) return err(msg.id, 'too_long', 'at most 500 characters', 'text');
        const q = {
          id: this.nextQuestion++, session: s.info.code, text,
          author: staff ? (msg.author ?? null) : null, category: msg.category ?? 'question',
          to: null, parent_id: null,
          state: staff || !s.info.premoderation ? 'published' : 'pending', votes: 0,
          created_at: Date.now(), phase: s.info.status === 'live' ? 'live' : 'pre',
          answer_note: null, starred: false, mine: false, source: staff ? (msg.source ?? 'web') : 'web',
          carried_from: null, merged_into: null, viewer_id: st.viewerId ?? null,
        };
        s.questions.set(q.id, q);
        this.emit(s, 'question.submitted', { question: q }, false);
        if (q.state === 'published') this.emit(s, 'question.published', { question: this.view(q, false) }, true);
        return { type: 'ack', question: this.view(q, staff) };
      }
      case 'onair.set': {
        if (!staff) return err(msg.id, 'forbidden', 'staff only');
        const s = this.sessionOf(conn, msg);
        const q = s?.questions.get(msg.question_id);
        if (!q) return err(msg.id, 'not_found', 'no such question', 'question_id');
        if (s.panel.on_air === q.id) return err(msg.id, 'conflict', 'already on air', 'question_id');
        if (q.state !== 'published' && q.state !== 'answered')
          return err(msg.id, 'conflict', 'not published', 'question_id');
        const prev = s.panel.on_air ? s.questions.get(s.panel.on_air) : null;
        if (prev && prev.state === 'on_air') {
          prev.state = 'published';
          this.emit(s, 'question.updated', { question: this.view(prev, false) }, true);
        }
        if (q.state === 'published') {
          q.state = 'on_air';
          this.emit(s, 'question.updated', { question: this.view(q, false) }, true);
        }
        s.panel.on_air = q.id;
        s.panel.up_next = s.panel.up_next.filter((id) => id !== q.id);
        this.emit(s, 'onair.changed', { question_id: q.id }, true);
        return { type: 'ack', question_id: q.id };
      }
      case 'panel.set': {
        if (!staff) return err(msg.id, 'forbidden', 'staff only');
        const s = this.sessionOf(conn, msg);
        if (!s) return err(msg.id, 'not_found', 'no such session', 'session');
        if ('segment_id' in msg) s.panel.segment_id = msg.segment_id;
        if ('speaker_ids' in msg) s.panel.speaker_ids = msg.speaker_ids;
        if ('banner' in msg) s.panel.banner = msg.banner;
        this.emit(s, 'panel.changed', { panel: s.panel }, true);
        return { type: 'ack', panel: s.panel };
      }
      default:
        return err(msg.id, 'unknown_type', `unknown request type ${msg.type}`, 'type');
    }
  }
}
