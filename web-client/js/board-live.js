// board-live.js — the live connection of a programme's public board (the /p/<id> page and the
// overlay's commitment card): one WebSocket to /ws, hello {role: "board", program_id}, no key,
// nothing sent after the hello. It receives the programme's public events (action.changed,
// ratings.changed, session.changed, program.changed) from every session of the programme, so
// their seq numbers interleave and are not de-duplicated here. Reconnects with backoff; after a
// reconnect the page reloads its data (there is no resume for boards).
//
// Events dispatched (CustomEvent, detail as noted):
//   status   {status: 'connecting'|'connected'|'reconnecting'|'failed'}
//   welcome  the welcome (also after every reconnect: reload what the page shows)
//   event    one server event object

import { newRequestId, socketUrl } from './client.js';

const RECONNECT_BASE_MS = 1000;
const RECONNECT_MAX_MS = 30000;

export class BoardLive extends EventTarget {
  constructor(programId, { url = socketUrl() } = {}) {
    super();
    this.programId = programId;
    this.url = url;
    this.ws = null;
    this.attempt = 0;
    this.stopped = true;
    this.timer = null;
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this._connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) {
      this.ws.onclose = null;
      try { this.ws.close(1000); } catch (_) { /* closed */ }
      this.ws = null;
    }
  }

  _status(status) {
    this.dispatchEvent(new CustomEvent('status', { detail: { status } }));
  }

  _connect() {
    this._status(this.attempt ? 'reconnecting' : 'connecting');
    let ws;
    try {
      ws = new WebSocket(this.url, 'forum.v1');
    } catch (_) {
      this._retry();
      return;
    }
    this.ws = ws;
    const helloId = newRequestId('b');
    ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', id: helloId, role: 'board', program_id: this.programId }));
    ws.onmessage = (msg) => {
      let data;
      try { data = JSON.parse(msg.data); } catch (_) { return; }
      for (const m of Array.isArray(data) ? data : [data]) {
        if (!m || typeof m !== 'object') continue;
        if (m.type === 'welcome' && m.re === helloId) {
          this.attempt = 0;
          this._status('connected');
          this.dispatchEvent(new CustomEvent('welcome', { detail: m }));
        } else if (m.type === 'error' && m.re === helloId) {
          this.stopped = true; // no such programme: nothing to wait for
          this._status('failed');
        } else if (m.type === 'event') {
          this.dispatchEvent(new CustomEvent('event', { detail: m }));
        }
      }
    };
    ws.onclose = () => { if (this.ws === ws) this._retry(); };
    ws.onerror = () => { /* onclose follows */ };
  }

  _retry() {
    this.ws = null;
    if (this.stopped) return;
    const base = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** this.attempt);
    this.attempt += 1;
    this._status('reconnecting');
    // jitter spreads the reconnects of many boards after a restart
    this.timer = setTimeout(() => this._connect(), base * (0.5 + Math.random()));
  }
}

/** The current state of a commitment chain (root item and follow-ups): the newest item's
 *  status, and the owner and due date most recently given; overdue against today. */
export function chainCurrent(chain, today) {
  const items = [chain, ...(chain.follow_ups || [])];
  const cur = { status: chain.status, owner: null, due: null, overdue: false };
  for (const it of items) {
    cur.status = it.status;
    if (it.owner) cur.owner = it.owner;
    if (it.due) cur.due = it.due;
  }
  cur.overdue = !!(today && cur.due && cur.due < today && (cur.status === 'open' || cur.status === 'in_progress'));
  return cur;
}

/** Applies a public action.changed to a board document (as /api/programs/<id>/commitments
 *  returns it). Returns 'patched' when the item was shown and is updated in place, or 'reload'
 *  when the page should fetch the board again (a new item, one taken off the board). */
export function applyActionEvent(board, ev) {
  const a = ev.action;
  if (!a || !board) return 'reload';
  for (const chain of board.commitments) {
    const items = [chain, ...(chain.follow_ups || [])];
    const item = items.find((x) => x.id === a.id);
    if (!item) continue;
    if (a.published === false) return 'reload';
    if (a.updated_at !== undefined && item.updated_at > a.updated_at) return 'patched'; // older news
    const last = item.history && item.history[item.history.length - 1];
    if (!last || last.status !== a.status || (last.reason || null) !== (a.reason || null)) {
      item.history = [...(item.history || []), { status: a.status, at: a.updated_at, reason: a.reason || null, session: ev.session || null }];
    }
    for (const k of ['text', 'owner', 'due', 'status', 'reason', 'updated_at']) if (k in a) item[k] = a[k];
    item.overdue = !!(board.today && item.due && item.due < board.today && (item.status === 'open' || item.status === 'in_progress'));
    chain.current = chainCurrent(chain, board.today);
    return 'patched';
  }
  return a.published === false ? 'patched' : 'reload';
}

/** Applies a ratings.changed to a board document: the counts of its commitments and of their
 *  questions' answers. */
export function applyRatingCounts(board, ev) {
  if (!board) return;
  const names = ['satisfied', 'basically_satisfied', 'dissatisfied'];
  const pick = (c) => Object.fromEntries(names.map((n) => [n, c[n] || 0]));
  for (const c of ev.ratings || []) {
    for (const chain of board.commitments) {
      for (const item of [chain, ...(chain.follow_ups || [])]) {
        if (c.action_id && item.id === c.action_id) item.ratings = pick(c);
        if (c.question_id && item.question && item.question.id === c.question_id) item.question.ratings = pick(c);
      }
    }
  }
}
