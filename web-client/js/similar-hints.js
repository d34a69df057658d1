// similar-hints.js — similar-question hints in the moderator console. Asks the server
// (questions.similar, staff only) for each question that arrives or changes its text, and for
// the questions of the welcome in batches; a card then shows a "相似 3" chip that expands to the
// similar questions with their scores. M on a focused hint merges the card's question into it
// (question.merge, like the merge dialog); hints from the programme's earlier sessions are shown
// with their session code and cannot be merged. Hints are advice: when the request fails, a
// card simply shows none.
import { t } from './i18n.js';
import { h, icon } from './ui.js';

const BATCH = 100;         // ids per questions.similar request (the server's limit)
const DEBOUNCE_MS = 150;   // arrivals are asked for together
const INITIAL_MAX = 1000;  // questions asked for after a welcome (10 requests)
const HINT_STATES = new Set(['pending', 'published', 'on_air', 'answered']);

export class SimilarHints {
  /**
   * client: the ForumClient; store: the SessionStore; onChange(): re-render the columns;
   * send(type, fields, okMessage): the console's request helper (toasts errors).
   */
  constructor({ client, store, onChange, send }) {
    this.client = client;
    this.store = store;
    this.onChange = onChange;
    this.send = send;
    this.hints = new Map();     // question id -> [{id, session, score, state, text, votes}]
    this.expanded = new Set();  // question ids whose hint list is open
    this.wanted = new Set();    // ids to ask for at the next flush
    this.timer = null;
    this.focused = null;        // {qid, hid}: the hint with keyboard focus, kept across renders
  }

  /** After a welcome: ask again for the questions still to be moderated. */
  reset() {
    this.hints.clear();
    this.askMissing();
  }

  /** Asks for the pending and published questions not asked for yet (after pages of questions
   *  arrive), newest first, at most INITIAL_MAX: older ones are asked for when they change. */
  askMissing() {
    const ids = [...this.store.questions.values()]
      .filter((x) => (x.state === 'pending' || x.state === 'published') && !this.hints.has(x.id))
      .map((x) => x.id).sort((a, b) => b - a).slice(0, INITIAL_MAX);
    for (const id of ids) this.want(id);
  }

  /** An event from the server: ask for new questions, forget merged or dismissed ones. */
  onEvent(ev) {
    const x = ev.question;
    if (!x) return;
    if (ev.kind === 'question.submitted' || ev.kind === 'question.updated' || ev.kind === 'question.published') {
      if (HINT_STATES.has(x.state)) this.want(x.id);
    }
    if (!HINT_STATES.has(x.state)) {
      let changed = this.hints.delete(x.id);
      for (const [qid, list] of this.hints) {
        const kept = list.filter((hint) => hint.id !== x.id);
        if (kept.length !== list.length) { this.hints.set(qid, kept); changed = true; }
      }
      if (changed) this.onChange();
    }
  }

  want(id) {
    this.wanted.add(id);
    if (!this.timer) this.timer = setTimeout(() => this.flush(), DEBOUNCE_MS);
  }

  async flush() {
    this.timer = null;
    const ids = [...this.wanted].filter((id) => this.store.questions.has(id));
    this.wanted.clear();
    for (let i = 0; i < ids.length; i += BATCH) {
      let ack;
      try {
        ack = await this.client.request('questions.similar', { question_ids: ids.slice(i, i + BATCH) });
      } catch (_) {
        continue; // offline or refused: no hints for these
      }
      for (const r of ack.similar || []) this.hints.set(r.question_id, r.hints || []);
      this.onChange();
    }
  }

  /** Hints of question id still worth showing (targets that exist and may be merged into). */
  of(id) {
    return (this.hints.get(id) || []).filter((x) => {
      const local = this.store.questions.get(x.id);
      return !local || HINT_STATES.has(local.state);
    });
  }

  /** The "相似 n" chip for a card, or null. */
  chip(item) {
    const list = this.of(item.id);
    if (!list.length) return null;
    const open = this.expanded.has(item.id);
    return h('button', {
      type: 'button', class: `chip chip-similar${open ? ' is-open' : ''}`,
      'aria-expanded': String(open), title: t('sim.chip_title'),
      dataset: { similarOf: item.id },
      onclick: (e) => {
        e.stopPropagation();
        if (open) this.expanded.delete(item.id);
        else {
          this.expanded.add(item.id);
          this.focused = { qid: item.id, hid: list[0].id };
        }
        this.onChange();
      },
    }, icon('merge'), t('sim.chip', { n: list.length }));
  }

  /** The expanded list of a card's hints, or null. */
  list(item) {
    if (!this.expanded.has(item.id)) return null;
    const list = this.of(item.id);
    if (!list.length) return null;
    const session = this.store.session && this.store.session.code;
    return h('ul', { class: 'm-similar', 'aria-label': t('sim.list_label') }, list.map((x) => {
      const here = x.session === session;
      const el = h('li', {
        class: `m-similar-item${here ? '' : ' is-elsewhere'}`, tabindex: '0',
        dataset: { hint: x.id, hintOf: item.id },
        title: here ? t('sim.merge_hint', { from: item.id, into: x.id }) : t('sim.elsewhere', { session: x.session }),
        onclick: (e) => { e.stopPropagation(); el.focus(); },
        onfocus: () => { this.focused = { qid: item.id, hid: x.id }; },
        onblur: () => { if (this.focused && this.focused.hid === x.id && this.focused.qid === item.id) this.focused = null; },
        onkeydown: (e) => this.key(e, item, x, here),
      },
      h('span', { class: 'm-similar-score num' }, `${Math.round(x.score * 100)}%`),
      h('span', { class: 'm-similar-id num' }, here ? `#${x.id}` : `${x.session} #${x.id}`),
      h('span', { class: 'm-similar-text' }, x.text),
      h('span', { class: 'chip' }, t(`state.${x.state}`)),
      here ? h('span', { class: 'kbd', title: t('mod.merge') }, 'M') : null);
      if (this.focused && this.focused.qid === item.id && this.focused.hid === x.id) {
        queueMicrotask(() => { if (el.isConnected) el.focus({ preventScroll: true }); });
      }
      return el;
    }));
  }

  key(e, item, hint, here) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    const items = [...e.currentTarget.parentElement.children];
    const at = items.indexOf(e.currentTarget);
    if (k === 'm') {
      e.preventDefault();
      e.stopPropagation(); // not the card's own M (the merge dialog)
      if (!here) return;
      this.focused = null;
      this.expanded.delete(item.id);
      this.send('question.merge', { question_id: item.id, into_id: hint.id }, t('mod.merged'));
    } else if (k === 'ArrowDown' || k === 'j' || k === 'ArrowUp' || k === 'k') {
      e.preventDefault();
      e.stopPropagation();
      const next = items[at + (k === 'ArrowDown' || k === 'j' ? 1 : -1)];
      if (next) next.focus();
    } else if (k === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      this.focused = null;
      this.expanded.delete(item.id);
      this.onChange();
    }
  }
}
