// store.js — the client-side picture of one session: built from the welcome snapshot, then
// kept current by applying events in order. Pages read it and re-render on 'change'.
// Knows the event kinds of the protocol; knows nothing of HTML.

export const PUBLIC_STATES = new Set(['published', 'on_air', 'answered']);

function emptyPanel() {
  return { segment_id: null, speaker_ids: [], banner: '', on_air: null, up_next: [] };
}

/** The key of a rated item (a rating or a count): "q<question id>" or "a<action id>". */
export function itemKey(x) {
  return x.question_id ? `q${x.question_id}` : `a${x.action_id}`;
}

export class SessionStore extends EventTarget {
  constructor() {
    super();
    this.reset(null);
    this._scheduled = false;
    this._kinds = new Set();
  }

  /** Replaces everything with a snapshot (null: empty store). */
  reset(snapshot) {
    this.session = null;
    this.panel = emptyPanel();
    this.polls = new Map();
    this.questions = new Map();
    this.myVotes = new Set();
    this.myBallots = new Map();
    this.myIds = this.myIds || new Set();
    this.viewers = null;
    this.banned = this.banned || new Map(); // viewer_id -> {at}; staff snapshots list them
    this.actions = new Map();     // staff: this session's action items, by id
    this.openActions = new Map(); // staff: not-done items of earlier sessions of the programme
    this.ratingCounts = new Map(); // "q<id>" / "a<id>" -> {satisfied, basically_satisfied, dissatisfied}
    this.myRatings = new Map();    // viewer: "q<id>" / "a<id>" -> its own rating
    this.ratings = new Map();      // staff: this session's ratings with a comment, by id
    this.loaded = false;
    // A welcome names the most useful questions; the rest is read page by page (questions.list,
    // newest first). pageBefore is where the next page starts (undefined: at the newest).
    this.questionsTotal = null;
    this.questionsComplete = true;
    this.pageBefore = undefined;
    this.paging = false;
    if (!snapshot) return;
    this.loaded = true;
    this.session = snapshot.session || null;
    this.panel = { ...emptyPanel(), ...(snapshot.panel || {}) };
    for (const p of snapshot.polls || []) {
      this.polls.set(p.id, p);
      if (Array.isArray(p.my_option_ids)) this.myBallots.set(p.id, p.my_option_ids.slice());
    }
    for (const q of snapshot.questions || []) this._upsert(q);
    if (typeof snapshot.questions_total === 'number') this.questionsTotal = snapshot.questions_total;
    this.questionsComplete = snapshot.questions_complete !== false;
    for (const id of snapshot.my_votes || []) this.myVotes.add(id);
    if (typeof snapshot.viewers === 'number') this.viewers = snapshot.viewers;
    if (Array.isArray(snapshot.banned)) this.banned = new Map(snapshot.banned.map((id) => [id, { at: null }]));
    for (const a of snapshot.actions || []) this.actions.set(a.id, a);
    for (const a of snapshot.open_actions || []) this.openActions.set(a.id, a);
    for (const c of snapshot.rating_counts || []) this.ratingCounts.set(itemKey(c), c);
    for (const r of snapshot.my_ratings || []) this.myRatings.set(itemKey(r), r);
    for (const r of snapshot.ratings || []) this.ratings.set(r.id, r);
    this._changed('snapshot');
  }

  /**
   * Reads the next page of questions (questions.list) into the store. Resolves true while more
   * remain. Pages are as current as the events before their ack, so entries replace what the
   * store holds.
   */
  async loadMoreQuestions(client, limit = 200) {
    if (this.questionsComplete || this.paging) return !this.questionsComplete;
    this.paging = true;
    try {
      const fields = { limit };
      if (this.pageBefore) fields.before = this.pageBefore;
      const page = await client.request('questions.list', fields);
      for (const q of page.questions || []) this._upsert(q);
      for (const id of page.my_votes || []) this.myVotes.add(id);
      this.pageBefore = page.next_before ?? undefined;
      if (!page.more) this.questionsComplete = true;
      this._changed('page');
    } finally {
      this.paging = false;
    }
    return !this.questionsComplete;
  }

  /** Applies one server event. */
  apply(ev) {
    switch (ev.kind) {
      case 'question.submitted':
      case 'question.published':
      case 'question.updated':
      case 'question.dismissed':
      case 'question.withdrawn':
      case 'question.answered':
        if (ev.question) this._upsert(ev.question);
        if (ev.kind === 'question.answered' && ev.question && this.panel.on_air === ev.question.id) {
          // Answering the question on air also clears the air (onair.changed follows too).
          this.panel.on_air = null;
        }
        break;
      case 'question.merged':
        if (ev.question) this._upsert(ev.question);
        if (ev.into && typeof ev.into === 'object') {
          this._upsert(ev.into);
          // Votes go with the merge, and so does the asker's own support (the server counts
          // her on the target): a viewer's picture of its own votes follows.
          const q = ev.question && this.questions.get(ev.question.id);
          if (q && (q.mine || this.myVotes.has(q.id))) {
            this.myVotes.delete(q.id);
            this.myVotes.add(ev.into.id);
          }
        }
        break;
      case 'votes.changed':
        for (const [id, n] of Object.entries(ev.counts || {})) {
          const q = this.questions.get(Number(id));
          if (q) q.votes = n;
        }
        break;
      case 'onair.changed':
        this._setOnAir(ev.question_id ?? null);
        break;
      case 'panel.changed':
        if (ev.panel) {
          const before = this.panel.on_air;
          this.panel = { ...emptyPanel(), ...ev.panel };
          if (before !== this.panel.on_air) this._fixOnAirStates(before, this.panel.on_air);
        }
        break;
      case 'queue.changed':
        this.panel.up_next = Array.isArray(ev.up_next) ? ev.up_next.slice() : [];
        break;
      case 'poll.changed':
        if (ev.poll) {
          const old = this.polls.get(ev.poll.id);
          this.polls.set(ev.poll.id, { ...(old || {}), ...ev.poll });
          if (Array.isArray(ev.poll.my_option_ids)) this.myBallots.set(ev.poll.id, ev.poll.my_option_ids.slice());
        }
        break;
      case 'session.changed':
        if (ev.session) this.session = { ...(this.session || {}), ...ev.session };
        break;
      case 'viewer.banned':
        if (ev.viewer_id) this.banned.set(ev.viewer_id, { at: ev.at });
        break;
      case 'viewer.unbanned':
        if (ev.viewer_id) this.banned.delete(ev.viewer_id);
        break;
      case 'viewer.erased':
        for (const q of ev.questions || []) if (q && typeof q === 'object') this._upsert(q);
        break;
      case 'action.changed':
        if (ev.action) this.upsertAction(ev.action, false);
        break;
      case 'ratings.changed':
        for (const c of ev.ratings || []) this.ratingCounts.set(itemKey(c), c);
        break;
      case 'rating.changed':
        if (ev.rating) this.upsertRating(ev.rating, false);
        break;
      default:
        break; // kinds this client does not show
    }
    this._changed(ev.kind);
  }

  /**
   * Makes sure question id is in the store (a follow-up on air needs the question it follows,
   * which a large session's welcome may not have named): reads it with questions.list. Resolves
   * with the question, or null when the client may not see it.
   */
  async ensureQuestion(client, id) {
    if (id == null || this.questions.has(id)) return this.questions.get(id) || null;
    this._asked = this._asked || new Set();
    if (this._asked.has(id) || !client.connected) return null; // asked once per page
    this._asked.add(id);
    try {
      const page = await client.request('questions.list', { before: id + 1, limit: 1 });
      const q = (page.questions || []).find((x) => x.id === id);
      if (q && !this.questions.has(id)) {
        this._upsert(q);
        this._changed('page');
      }
      return this.questions.get(id) || null;
    } catch (_) {
      return null;
    }
  }

  /** Records a question from an ack (own submission, edit, withdraw...). */
  upsertFromAck(q) {
    if (!q) return;
    this._upsert(q);
    this._changed('ack');
  }

  /** Records an action item (from an event or an ack): this session's, or an earlier one's
   *  (kept in openActions, also once done, so the follow-up stays visible). */
  upsertAction(a, notify = true) {
    if (!a || a.id == null) return;
    const own = !this.session || a.session === this.session.code;
    const map = own ? this.actions : this.openActions;
    map.set(a.id, { ...(map.get(a.id) || {}), ...a });
    if (notify) this._changed('action');
  }

  /** Records a rating (event or ack): staff renderings carry the rater's viewer_id and go to
   *  the moderation list, a viewer's own copy (no viewer_id) to myRatings. */
  upsertRating(r, notify = true) {
    if (!r || r.id == null) return;
    if ('viewer_id' in r) this.ratings.set(r.id, r);
    else this.myRatings.set(itemKey(r), r);
    if (notify) this._changed('rating');
  }

  /** The live viewer count from a presence message (staff). */
  setViewers(n) {
    if (typeof n !== 'number' || n === this.viewers) return;
    this.viewers = n;
    this._changed('presence');
  }

  /** Records the result of our own vote.add / vote.remove (optimistic or acked). */
  setMyVote(questionId, voted, adjustCount = false) {
    const had = this.myVotes.has(questionId);
    if (voted) this.myVotes.add(questionId); else this.myVotes.delete(questionId);
    const q = this.questions.get(questionId);
    if (adjustCount && q && had !== voted) q.votes = Math.max(0, (q.votes || 0) + (voted ? 1 : -1));
    this._changed('my_votes');
  }

  setMyBallot(pollId, optionIds) {
    this.myBallots.set(pollId, optionIds.slice());
    this._changed('my_ballot');
  }

  /** Questions matching filter, as an array. */
  list(filter = () => true) {
    const out = [];
    for (const q of this.questions.values()) if (filter(q)) out.push(q);
    return out;
  }

  onAirQuestion() {
    const id = this.panel.on_air;
    return id == null ? null : this.questions.get(id) || null;
  }

  panelist(id) {
    if (id == null || !this.session) return null;
    return (this.session.panelists || []).find((p) => p.id === id) || null;
  }

  segment(id) {
    if (id == null || !this.session) return null;
    return (this.session.segments || []).find((s) => s.id === id) || null;
  }

  /** Follow-ups of a question (public ones plus our own), oldest first. */
  followUps(parentId) {
    return this.list((q) => q.parent_id === parentId).sort((a, b) => a.created_at - b.created_at);
  }

  _upsert(q) {
    const old = this.questions.get(q.id);
    const merged = { ...(old || {}), ...q };
    if (q.mine) this.myIds.add(q.id);
    merged.mine = Boolean(q.mine || this.myIds.has(q.id));
    this.questions.set(q.id, merged);
  }

  _setOnAir(id) {
    const before = this.panel.on_air;
    this.panel.on_air = id;
    this._fixOnAirStates(before, id);
  }

  /** Keeps question states consistent with the air until the server's own question events
   *  arrive (they may come before or after onair.changed). */
  _fixOnAirStates(before, after) {
    if (before != null && before !== after) {
      const prev = this.questions.get(before);
      if (prev && prev.state === 'on_air') prev.state = 'published';
    }
    if (after != null) {
      const next = this.questions.get(after);
      if (next && next.state === 'published') next.state = 'on_air';
    }
  }

  /** Coalesces change notifications into one per animation frame. */
  _changed(kind) {
    this._kinds.add(kind);
    if (this._scheduled) return;
    this._scheduled = true;
    const fire = () => {
      this._scheduled = false;
      const kinds = this._kinds;
      this._kinds = new Set();
      this.dispatchEvent(new CustomEvent('change', { detail: { kinds } }));
    };
    if (typeof requestAnimationFrame === 'function' && document.visibilityState !== 'hidden') {
      requestAnimationFrame(fire);
    } else {
      setTimeout(fire, 0);
    }
  }
}
