// moderator.js — the moderator console /m/<code>#key=<moderator key>: live columns (incoming,
// published, up next with the question on air, answered, dismissed), one click or one key per
// action (several at once for the pending and published ones), restoring dismissed questions,
// panel control, questions entered by phone/paper/visit (through the durable outbox, like
// viewers' questions), commitments (action items) recorded from the question on air, polls,
// bans (with "ban and clear their pending"), who did what (activity), and the live viewer
// count (presence messages).
// The key is read from the URL fragment (never sent over HTTP) or typed in; the moderator's
// name is asked on the first join and kept on the device (it names them in the transcript and
// scopes their undo).
import { initI18n, t, onLangChange } from './i18n.js';
import { ForumClient } from './client.js';
import { SessionStore } from './store.js';
import {
  h, mount, $, $$, icon, bindCounter, errorText, toast, bindConnection, relTime, codeFromPath,
  storageGet, storageSet, openDialog, confirmDialog, codePoints,
} from './ui.js';
import { actionRow, actionDialog, actionChanges, actionFields } from './actions.js';
import { SimilarHints } from './similar-hints.js';

const MAX_CHARS = 500;
const code = codeFromPath();
const store = new SessionStore();
const ui = {
  selected: null,          // selected question id
  sort: 'votes',
  search: '',
  kind: '',
  to: '',
  entrySource: 'phone',
  panelDirty: false,
  columns: {},             // column name -> ordered question ids (for keyboard navigation)
  picked: new Set(),       // question ids ticked for a bulk approve / dismiss
  lastPicked: null,        // for shift-click ranges
  activity: [],            // who did what since this console joined, newest first (bounded)
};
const ACTIVITY_MAX = 200;
let client = null;
let renderConn = () => {};
let hints = null; // similar-question hints (similar-hints.js)

initI18n();
$('#brand-mark').append(icon('mic'));
$('#login-emblem').append(icon('key'));
$('#search-icon').append(icon('search'));
$('#session-code').textContent = code;

// ---- key and name --------------------------------------------------------------------------
function keyFromFragment() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  return params.get('key');
}

/** The moderator's name on this device, or null before they gave one. */
function moderatorName() {
  return storageGet('forum.modname') || null;
}

function start(key) {
  if (client) client.stop();
  // Questions entered for callers, letter writers and visited residents go through the outbox:
  // kept in localStorage until the server answers, resent with the same id (staff submissions
  // are idempotent on (moderator, id)), so a flaky studio network loses none.
  client = new ForumClient({ session: code, role: 'moderator', token: key, name: moderatorName(), outboxKey: `forum.modoutbox.${code}` });
  renderConn = bindConnection(client, $('#conn'));
  hints = new SimilarHints({ client, store, send, onChange: () => { if (store.session) renderColumns(); } });
  client.addEventListener('presence', (e) => store.setViewers(e.detail.viewers));
  client.addEventListener('outbox-change', () => renderEntryPending());
  client.addEventListener('outbox-ack', (e) => { if (e.detail.reply.question) store.upsertFromAck(e.detail.reply.question); toast(t('mod.entry_done'), 'ok', 2200); });
  client.addEventListener('outbox-error', (e) => toast(t('mod.entry_failed', { reason: errorText(e.detail.error) }), 'error', 6000));
  client.addEventListener('welcome', (e) => {
    if (e.detail.snapshot) {
      store.reset(e.detail.snapshot);
      hints.reset();
      loadAllQuestions();
    }
    $('#login').hidden = true;
    $('#app').hidden = false;
    $('#shortcuts').hidden = false;
    $('#mod-name-btn').hidden = false;
    storageSet(`forum.modkey.${code}`, key);
  });
  client.addEventListener('event', (e) => { noteActivity(e.detail); store.apply(e.detail); hints.onEvent(e.detail); });
  client.addEventListener('status', (e) => {
    if (e.detail.status === 'failed') showLogin(errorText(e.detail.error));
  });
  client.start();
  renderName();
  renderEntryPending(); // questions still waiting from an earlier page load
}

/* Staff need every question (review, search, merge): a large session's welcome names the most
 * urgent ones, and the rest is read in pages in the background, with a progress note. */
async function loadAllQuestions() {
  const started = store;
  try {
    while (started === store && await store.loadMoreQuestions(client, 300)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (started === store && hints) hints.askMissing();
  } catch (_) {
    // offline or refused: the next welcome starts again
  }
}

/** The sign-in form; key (from the link) is filled in when known, so a first join from a
 *  moderator link only asks for the name. */
function showLogin(message, key = null) {
  $('#app').hidden = true;
  $('#shortcuts').hidden = true;
  $('#login').hidden = false;
  $('#login-error').textContent = message || '';
  $('#login-name').value = storageGet('forum.modname') || '';
  if (key) $('#login-key').value = key;
  $('#login-key-field').hidden = Boolean(key) && !message;
  const intro = $('#login-intro'); // data-i18n keeps it right when the language changes
  intro.dataset.i18n = key && !message ? 'mod.name_first' : 'mod.login_body';
  intro.textContent = t(intro.dataset.i18n);
  (key && !message ? $('#login-name') : $('#login-key')).focus();
}

$('#login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const key = $('#login-key').value.trim();
  const name = $('#login-name').value.trim();
  if (!key) { $('#login-key-field').hidden = false; $('#login-error').textContent = t('mod.key_missing'); return; }
  if (!name) { $('#login-error').textContent = t('mod.name_missing'); $('#login-name').focus(); return; }
  storageSet('forum.modname', name);
  // Keep the key in the fragment so a reload stays signed in; fragments never reach the server.
  history.replaceState(null, '', `${location.pathname}#key=${encodeURIComponent(key)}`);
  start(key);
});

function renderName() {
  mount($('#mod-name-btn'), icon('user'), moderatorName() || '');
  $('#mod-name-btn').title = t('mod.change_name');
}

$('#mod-name-btn').addEventListener('click', async () => {
  const name = await openDialog((close) => {
    const input = h('input', { class: 'input', maxlength: 40, value: moderatorName() || '' });
    return h('form', { class: 'dialog-body', onsubmit: (e) => { e.preventDefault(); close(input.value.trim()); } },
      h('h2', { class: 'dialog-title' }, t('mod.change_name')), h('p', { class: 'dialog-text' }, t('mod.name_hint')), input,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => close(null) }, t('common.cancel')),
        h('button', { type: 'submit', class: 'btn btn-primary' }, t('common.save'))));
  });
  if (!name) return;
  storageSet('forum.modname', name);
  client.setName(name);
  client.reconnect();
  renderName();
});

// ---- requests ------------------------------------------------------------------------------
async function send(type, fields = {}, okMessage = null) {
  try {
    const ack = await client.request(type, fields);
    if (ack.question) store.upsertFromAck(ack.question);
    if (okMessage) toast(okMessage, 'ok', 2200);
    return ack;
  } catch (err) {
    toast(errorText(err), 'error', 5000);
    return null;
  }
}

const q = (id) => store.questions.get(id);

const actions = {
  approve(item) { if (item && item.state === 'pending') send('question.approve', { question_id: item.id }); },
  async dismiss(item, withReason = false) {
    if (!item || !['pending', 'published'].includes(item.state)) return;
    let reason;
    if (withReason) {
      reason = await openDialog((close) => {
        const ta = h('textarea', { class: 'textarea', rows: 3, placeholder: t('mod.dismiss_reason_placeholder') });
        return h('form', { class: 'dialog-body', onsubmit: (e) => { e.preventDefault(); close(ta.value.trim()); } },
          h('h2', { class: 'dialog-title' }, t('mod.dismiss_title')), h('p', { class: 'dialog-quote' }, item.text), ta,
          h('div', { class: 'dialog-actions' },
            h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => close(null) }, t('common.cancel')),
            h('button', { type: 'submit', class: 'btn btn-danger' }, t('mod.dismiss'))));
      });
      if (reason === null || reason === undefined) return;
    }
    moveSelectionAfter(item.id);
    send('question.dismiss', reason ? { question_id: item.id, reason } : { question_id: item.id });
  },
  restore(item, state = 'published') {
    if (item && item.state === 'dismissed') send('question.restore', { question_id: item.id, state }, t(state === 'pending' ? 'mod.restored_pending' : 'mod.restored'));
  },
  star(item) { if (item) send('question.star', { question_id: item.id, starred: !item.starred }); },
  async edit(item) {
    if (!item) return;
    const text = await openDialog((close) => {
      const ta = h('textarea', { class: 'textarea', rows: 6 });
      ta.value = item.text;
      const counter = h('span', { class: 'counter' });
      bindCounter(ta, counter, MAX_CHARS);
      return h('form', { class: 'dialog-body', onsubmit: (e) => { e.preventDefault(); close(ta.value.trim()); } },
        h('h2', { class: 'dialog-title' }, t('mod.edit_title', { id: item.id })),
        h('p', { class: 'dialog-text' }, t('mod.edit_hint')), ta, h('div', { class: 'side-row' }, h('span', { class: 'topbar-spacer' }), counter),
        h('div', { class: 'dialog-actions' },
          h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => close(null) }, t('common.cancel')),
          h('button', { type: 'submit', class: 'btn btn-primary' }, t('common.save'))));
    });
    if (text && text !== item.text) send('question.edit', { question_id: item.id, text });
  },
  async merge(item) {
    if (!item || ['dismissed', 'withdrawn'].includes(item.state)) return;
    const candidates = store.list((c) => c.id !== item.id && ['pending', 'published', 'on_air', 'answered'].includes(c.state))
      .sort((a, b) => b.votes - a.votes);
    const into = await openDialog((close) => {
      const list = h('div', { class: 'merge-list' });
      const input = h('input', { class: 'input', type: 'search', placeholder: t('mod.merge_search') });
      const draw = () => {
        const needle = input.value.trim().toLowerCase();
        const shown = candidates.filter((c) => !needle || c.text.toLowerCase().includes(needle) || String(c.id) === needle).slice(0, 50);
        mount(list, shown.length ? shown.map((c) => h('button', { type: 'button', class: 'merge-item', onclick: () => close(c.id) },
          h('span', { class: 'merge-id num' }, `#${c.id}`), h('span', { class: 'merge-text' }, c.text),
          h('span', { class: 'merge-votes num' }, icon('thumb'), String(c.votes || 0)))) : h('p', { class: 'empty' }, t('mod.merge_none')));
      };
      input.addEventListener('input', draw);
      draw();
      return h('div', { class: 'dialog-body' },
        h('h2', { class: 'dialog-title' }, t('mod.merge_title', { id: item.id })),
        h('p', { class: 'dialog-quote' }, item.text),
        h('p', { class: 'dialog-text' }, t('mod.merge_hint')), input, list,
        h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => close(null) }, t('common.cancel'))));
    }, { className: 'dialog-wide' });
    if (into) { moveSelectionAfter(item.id); send('question.merge', { question_id: item.id, into_id: into }, t('mod.merged')); }
  },
  onAir(item) {
    if (item && (item.state === 'published' || item.state === 'answered')) send('onair.set', { question_id: item.id });
  },
  clearAir() { send('onair.clear'); },
  next() {
    if (!(store.panel.up_next || []).length) { toast(t('mod.queue_empty'), 'info'); return; }
    send('onair.next');
  },
  async answered(item) {
    // The hot path is the question on air; with nothing on air, the selected published one.
    const target = store.onAirQuestion() || (item && item.state === 'published' ? item : null);
    if (!target) { toast(t('mod.nothing_on_air'), 'info'); return; }
    const note = await openDialog((close) => {
      const ta = h('textarea', { class: 'textarea', rows: 4, placeholder: t('mod.answer_placeholder') });
      return h('form', { class: 'dialog-body', onsubmit: (e) => { e.preventDefault(); close(ta.value.trim()); } },
        h('h2', { class: 'dialog-title' }, t('mod.answer_title')), h('p', { class: 'dialog-quote' }, target.text),
        h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('mod.answer_note')), ta),
        h('div', { class: 'dialog-actions' },
          h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => close(null) }, t('common.cancel')),
          h('button', { type: 'submit', class: 'btn btn-primary' }, t('mod.mark_answered'))));
    });
    if (note === null || note === undefined) return;
    send('question.answered', note ? { question_id: target.id, note } : { question_id: target.id });
  },
  toggleQueue(item) {
    if (!item) return;
    const queue = (store.panel.up_next || []).slice();
    const at = queue.indexOf(item.id);
    if (at >= 0) queue.splice(at, 1);
    else if (item.state === 'published') queue.push(item.id);
    else return;
    setQueue(queue);
  },
  moveInQueue(item, delta) {
    const queue = (store.panel.up_next || []).slice();
    const at = queue.indexOf(item.id);
    const to = at + delta;
    if (at < 0 || to < 0 || to >= queue.length) return;
    queue.splice(at, 1);
    queue.splice(to, 0, item.id);
    setQueue(queue);
  },
  undo() { send('question.undo', {}, t('mod.undone')); },
  async ban(item) {
    if (!item || !item.viewer_id) { toast(t('mod.ban_unavailable'), 'info'); return; }
    // Under a spam wave: ban and clear what they have waiting for review in one go.
    const pending = store.list((x) => x.viewer_id === item.viewer_id && x.state === 'pending').length;
    const choice = await openDialog((close) => {
      const clear = h('input', { type: 'checkbox', id: 'ban-clear', checked: pending > 0, disabled: pending === 0 });
      return h('form', { class: 'dialog-body', onsubmit: (e) => { e.preventDefault(); close({ clear: clear.checked }); } },
        h('h2', { class: 'dialog-title' }, t('mod.ban_title')),
        h('p', { class: 'dialog-text' }, t('mod.ban_body', { who: item.author || t('common.anonymous') })),
        h('p', { class: 'dialog-quote' }, item.text),
        h('label', { class: 'check' }, clear, h('span', {}, pending ? t('mod.ban_clear', { n: pending }) : t('mod.ban_clear_none'))),
        h('div', { class: 'dialog-actions' },
          h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => close(null) }, t('common.cancel')),
          h('button', { type: 'submit', class: 'btn btn-danger', id: 'ban-confirm' }, t('mod.ban'))));
    });
    if (!choice) return;
    const ack = await send('viewer.ban', choice.clear ? { viewer_id: item.viewer_id, dismiss_pending: true } : { viewer_id: item.viewer_id });
    if (!ack) return;
    const n = (ack.dismissed || []).length;
    toast(n ? t('mod.banned_cleared', { n }) : t('mod.banned'), 'ok', 3000);
  },
  async commit(item) {
    // Linked to the question on air; with nothing on air, to the selected question.
    const target = store.onAirQuestion() || (item && ['published', 'answered', 'on_air'].includes(item.state) ? item : null);
    if (!target) { toast(t('mod.commit_none'), 'info'); return; }
    const result = await actionDialog({ question: target, panelists: store.session.panelists });
    if (!result) return;
    const ack = await send('action.create', { ...actionFields(result), question_id: target.id }, t('act.created'));
    if (ack && ack.action) store.upsertAction(ack.action);
  },
};

// ---- several at once (a spam wave, a batch of good questions) -----------------------------
function togglePick(item, range = false) {
  if (!item) return;
  const col = columnOf(item.id);
  if (range && ui.lastPicked != null && columnOf(ui.lastPicked) === col && ui.columns[col]) {
    const ids = ui.columns[col];
    const [a, b] = [ids.indexOf(ui.lastPicked), ids.indexOf(item.id)].sort((x, y) => x - y);
    for (const id of ids.slice(a, b + 1)) ui.picked.add(id);
  } else if (ui.picked.has(item.id)) {
    ui.picked.delete(item.id);
  } else {
    ui.picked.add(item.id);
  }
  ui.lastPicked = item.id;
  render();
}

function pickable(x) { return x && (x.state === 'pending' || x.state === 'published'); }

/** Sends one bulk request per 100 questions; resolves with {changed, skipped} counts. */
async function bulk(type, ids, extra = {}) {
  let changed = 0;
  let skipped = 0;
  for (let i = 0; i < ids.length; i += 100) {
    const ack = await send(type, { question_ids: ids.slice(i, i + 100), ...extra });
    if (!ack) break;
    for (const x of ack.questions || []) store.upsertFromAck(x);
    changed += (ack.questions || []).length;
    skipped += (ack.skipped || []).length;
  }
  return { changed, skipped };
}

async function bulkApprove() {
  const ids = [...ui.picked].filter((id) => q(id) && q(id).state === 'pending');
  if (!ids.length) return;
  const r = await bulk('questions.approve', ids);
  for (const id of ids) ui.picked.delete(id);
  toast(t('mod.bulk_approved', { n: r.changed }) + (r.skipped ? t('mod.bulk_skipped', { n: r.skipped }) : ''), 'ok', 3000);
  render();
}

async function bulkDismiss() {
  const ids = [...ui.picked].filter((id) => pickable(q(id)));
  if (!ids.length) return;
  const reason = await openDialog((close) => {
    const ta = h('textarea', { class: 'textarea', rows: 3, placeholder: t('mod.dismiss_reason_placeholder') });
    return h('form', { class: 'dialog-body', onsubmit: (e) => { e.preventDefault(); close(ta.value.trim()); } },
      h('h2', { class: 'dialog-title' }, t('mod.bulk_dismiss_title', { n: ids.length })), ta,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => close(null) }, t('common.cancel')),
        h('button', { type: 'submit', class: 'btn btn-danger', id: 'bulk-dismiss-confirm' }, t('mod.dismiss'))));
  });
  if (reason === null || reason === undefined) return;
  const r = await bulk('questions.dismiss', ids, reason ? { reason } : {});
  for (const id of ids) ui.picked.delete(id);
  toast(t('mod.bulk_dismissed', { n: r.changed }) + (r.skipped ? t('mod.bulk_skipped', { n: r.skipped }) : ''), 'ok', 3000);
  render();
}

function renderBulkBar() {
  for (const id of [...ui.picked]) if (!pickable(q(id))) ui.picked.delete(id);
  const picked = [...ui.picked].map((id) => q(id));
  const pending = picked.filter((x) => x.state === 'pending').length;
  const bar = $('#bulk-bar');
  bar.hidden = picked.length === 0;
  if (bar.hidden) return;
  mount(bar, h('span', { class: 'bulk-count' }, t('mod.bulk_picked', { n: picked.length })),
    h('button', { type: 'button', class: 'btn btn-primary btn-sm', id: 'bulk-approve', disabled: !pending, onclick: () => bulkApprove() },
      icon('check'), t('mod.bulk_approve', { n: pending })),
    h('button', { type: 'button', class: 'btn btn-danger btn-sm', id: 'bulk-dismiss', onclick: () => bulkDismiss() },
      icon('x'), t('mod.bulk_dismiss', { n: picked.length })),
    h('button', { type: 'button', class: 'btn btn-ghost btn-sm', id: 'bulk-clear', onclick: () => { ui.picked.clear(); render(); } }, t('mod.bulk_clear')));
}
$('#pick-all-incoming').addEventListener('click', () => {
  const ids = ui.columns.incoming || [];
  const all = ids.length && ids.every((id) => ui.picked.has(id));
  for (const id of ids) { if (all) ui.picked.delete(id); else ui.picked.add(id); }
  render();
});

// ---- who did what --------------------------------------------------------------------------
/** The name of an event's actor as people say it ("小王", "制作方"), or null for viewers and
 *  the system (the activity lists what staff did). */
function actorName(actor) {
  if (!actor) return null;
  if (actor.startsWith('moderator:')) return actor.slice('moderator:'.length);
  if (actor === 'producer') return t('mod.actor_producer');
  return null;
}

/** Records a staff event in the activity list. Runs before the store applies the event, so the
 *  question as it was is still there to compare with. */
function noteActivity(ev) {
  const who = actorName(ev.actor);
  if (!who) return;
  const before = ev.question ? q(ev.question.id) : null;
  const ref = (x) => (x ? `#${x.id}` : '');
  let what = null;
  switch (ev.kind) {
    case 'question.submitted': what = t('log.entered', { q: ref(ev.question) }); break;
    case 'question.published':
      if (ev.restored) what = t('log.restored', { q: ref(ev.question) });
      else if (before && before.state === 'pending') what = t('log.approved', { q: ref(ev.question) });
      break;
    case 'question.dismissed':
      what = t('log.dismissed', { q: ref(ev.question) }) + (ev.question.dismiss_reason ? t('log.reason', { reason: ev.question.dismiss_reason }) : '');
      break;
    case 'question.merged': what = t('log.merged', { q: ref(ev.question), into: ref(ev.into) }); break;
    case 'question.answered': what = t('log.answered', { q: ref(ev.question) }); break;
    case 'question.updated':
      if (ev.undo) what = t('log.undone', { q: ref(ev.question) });
      else if (ev.restored) what = t('log.restored_pending', { q: ref(ev.question) });
      else if (before && before.text !== ev.question.text) what = t('log.edited', { q: ref(ev.question) });
      else if (before && before.starred !== ev.question.starred) what = t(ev.question.starred ? 'log.starred' : 'log.unstarred', { q: ref(ev.question) });
      break;
    case 'onair.changed': what = ev.question_id ? t('log.on_air', { q: `#${ev.question_id}` }) : t('log.off_air'); break;
    case 'queue.changed': what = t('log.queue', { n: (ev.up_next || []).length }); break;
    case 'panel.changed': what = t('log.panel'); break;
    case 'viewer.banned': what = t('log.banned', { id: ev.viewer_id }); break;
    case 'viewer.unbanned': what = t('log.unbanned', { id: ev.viewer_id }); break;
    case 'poll.changed': what = ev.poll ? t(`log.poll_${ev.poll.state}`, { title: ev.poll.title }) : null; break;
    case 'action.changed': what = ev.action ? t('log.action', { text: ev.action.text }) : null; break;
    default: break;
  }
  if (!what) return;
  ui.activity.unshift({ at: ev.at, who, what, text: ev.question ? ev.question.text : '' });
  if (ui.activity.length > ACTIVITY_MAX) ui.activity.length = ACTIVITY_MAX;
}

function renderActivity() {
  mount($('#activity-list'), ui.activity.length ? ui.activity.map((a) => h('li', { class: 'activity-item' },
    h('span', { class: 'activity-time num' }, clockOf(a.at)),
    h('span', { class: 'activity-body' }, h('b', { class: 'activity-who' }, a.who), ' ', a.what,
      a.text ? h('span', { class: 'activity-text' }, a.text) : null))) : h('li', { class: 'empty' }, t('mod.activity_none')));
}

function clockOf(ms) {
  const d = new Date(ms || Date.now());
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:${String(d.getSeconds()).padStart(2, '0')}`;
}

async function newActionFree() {
  const questions = store.list((x) => ['published', 'on_air', 'answered'].includes(x.state)).sort((a, b) => a.id - b.id);
  const result = await actionDialog({ questions, panelists: store.session.panelists });
  if (!result) return;
  const ack = await send('action.create', actionFields(result), t('act.created'));
  if (ack && ack.action) store.upsertAction(ack.action);
}

async function updateAction(a, fields) {
  const ack = await send('action.update', { action_id: a.id, ...fields }, t('act.updated'));
  if (ack && ack.action) store.upsertAction(ack.action);
}

async function editAction(a, earlier, preset = {}) {
  const questions = earlier ? null : store.list((x) => ['published', 'on_air', 'answered'].includes(x.state)).sort((x, y) => x.id - y.id);
  const result = await actionDialog({ action: a, preset, questions, panelists: earlier ? null : store.session.panelists });
  if (!result) return;
  const changes = actionChanges(a, result);
  if (Object.keys(changes).length) await updateAction(a, changes);
}
$('#action-new').addEventListener('click', () => newActionFree());

async function setQueue(ids) {
  const before = (store.panel.up_next || []).slice();
  store.panel.up_next = ids.slice(); // optimistic; queue.changed confirms
  render();
  const ack = await send('queue.set', { question_ids: ids });
  if (!ack && JSON.stringify(store.panel.up_next) === JSON.stringify(ids)) {
    store.panel.up_next = before; // refused: show the server's order again
    render();
  }
}

// ---- selection and keyboard ----------------------------------------------------------------
function select(id, scroll = true) {
  ui.selected = id;
  for (const el of $$('.m-q.is-selected')) el.classList.remove('is-selected');
  const el = document.querySelector(`.m-q[data-qid="${id}"]`);
  if (el) {
    el.classList.add('is-selected');
    if (scroll) el.scrollIntoView({ block: 'nearest' });
  }
}

function columnOf(id) {
  for (const [name, ids] of Object.entries(ui.columns)) if (ids.includes(id)) return name;
  return null;
}

function moveSelectionAfter(id) {
  const col = columnOf(id);
  if (!col) return;
  const ids = ui.columns[col];
  const at = ids.indexOf(id);
  const next = ids[at + 1] ?? ids[at - 1] ?? null;
  ui.selected = next;
}

function moveSelection(dRow, dCol) {
  const order = ['incoming', 'published', 'queue', 'answered', 'dismissed'].filter((c) => (ui.columns[c] || []).length);
  if (!order.length) return;
  let col = columnOf(ui.selected);
  if (!col) { select(ui.columns[order[0]][0]); return; }
  if (dCol) {
    const ci = Math.max(0, Math.min(order.length - 1, order.indexOf(col) + dCol));
    col = order[ci];
    select(ui.columns[col][0]);
    return;
  }
  const ids = ui.columns[col];
  const at = Math.max(0, Math.min(ids.length - 1, ids.indexOf(ui.selected) + dRow));
  select(ids[at]);
}

document.addEventListener('keydown', (e) => {
  if (!client || !client.connected && e.key !== 'Escape') return;
  if (document.querySelector('dialog[open]')) return;
  const tag = (e.target.tagName || '').toLowerCase();
  const typing = tag === 'input' || tag === 'textarea' || tag === 'select' || e.target.isContentEditable;
  if (typing) {
    if (e.key === 'Escape') e.target.blur();
    return;
  }
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const item = ui.selected != null ? q(ui.selected) : null;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  const handlers = {
    a: () => actions.approve(item),
    d: () => actions.dismiss(item, e.shiftKey),
    s: () => actions.star(item),
    e: () => actions.edit(item),
    m: () => actions.merge(item),
    o: () => actions.onAir(item),
    n: () => actions.next(),
    r: () => actions.answered(item),
    u: () => actions.undo(),
    q: () => actions.toggleQueue(item),
    b: () => actions.ban(item),
    c: () => actions.commit(item),
    x: () => { if (pickable(item)) togglePick(item, e.shiftKey); },
    '/': () => $('#search').focus(),
    j: () => moveSelection(1, 0),
    k: () => moveSelection(-1, 0),
    ArrowDown: () => moveSelection(1, 0),
    ArrowUp: () => moveSelection(-1, 0),
    ArrowLeft: () => moveSelection(0, -1),
    ArrowRight: () => moveSelection(0, 1),
    Escape: () => select(null),
  };
  const fn = handlers[key];
  if (!fn) return;
  e.preventDefault();
  fn();
});

// ---- toolbar, side panes -------------------------------------------------------------------
$('#search').addEventListener('input', (e) => { ui.search = e.target.value.trim().toLowerCase(); render(); });
$('#filter-kind').addEventListener('change', (e) => { ui.kind = e.target.value; render(); });
$('#filter-to').addEventListener('change', (e) => { ui.to = e.target.value; render(); });
for (const btn of $$('#pub-sort button')) {
  btn.addEventListener('click', () => {
    ui.sort = btn.dataset.sort;
    for (const b of $$('#pub-sort button')) b.setAttribute('aria-pressed', String(b === btn));
    render();
  });
}
for (const tab of $$('.side-tabs [role=tab]')) {
  tab.addEventListener('click', () => {
    for (const other of $$('.side-tabs [role=tab]')) other.setAttribute('aria-selected', String(other === tab));
    for (const pane of $$('.side-pane')) pane.hidden = pane.dataset.pane !== tab.dataset.tab;
  });
}

// Panel control.
$('#panel-form').addEventListener('input', () => { ui.panelDirty = true; });
$('#panel-form').addEventListener('change', () => { ui.panelDirty = true; });
$('#panel-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const seg = $('#panel-segment').value;
  const fields = {
    segment_id: seg ? Number(seg) : null,
    speaker_ids: $$('#panel-speakers input:checked').map((i) => Number(i.value)),
    banner: $('#panel-banner').value.trim(),
  };
  const ack = await send('panel.set', fields, t('mod.panel_updated'));
  if (ack) ui.panelDirty = false;
});

// Questions entered on behalf of callers, letter writers and visited residents.
for (const btn of $$('#entry-source button')) {
  btn.addEventListener('click', () => {
    ui.entrySource = btn.dataset.source;
    for (const b of $$('#entry-source button')) b.setAttribute('aria-pressed', String(b === btn));
  });
}
const updateEntryCounter = bindCounter($('#entry-text'), $('#entry-counter'), MAX_CHARS);
$('#entry-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = $('#entry-text').value.trim();
  if (!text) { toast(t('viewer.err_empty'), 'error'); return; }
  if (codePoints(text) > MAX_CHARS) { toast(t('error.too_long'), 'error'); return; }
  const author = $('#entry-author').value.trim();
  const fields = { text, category: $('#entry-kind').value, source: ui.entrySource, author: author || null, anonymous: !author };
  const to = $('#entry-to').value;
  if (to) fields.to = Number(to);
  // Durable: the form is cleared at once, the question waits in the outbox until acked.
  const pending = client.request('question.submit', fields, { durable: true });
  $('#entry-text').value = '';
  $('#entry-author').value = '';
  updateEntryCounter();
  if (!client.connected) toast(t('mod.entry_queued'), 'info', 4000);
  try {
    const ack = await pending;
    if (ack.question) store.upsertFromAck(ack.question);
    toast(t('mod.entry_done'), 'ok', 2200);
  } catch (err) {
    toast(t('mod.entry_failed', { reason: errorText(err) }), 'error', 6000);
  }
});

function renderEntryPending() {
  const list = client ? client.pendingOutbox().filter((r) => r.type === 'question.submit') : [];
  mount($('#entry-pending'), list.length ? h('div', { class: 'entry-pending', role: 'status' },
    h('span', { class: 'entry-pending-title' }, t('mod.entry_pending', { n: list.length })),
    list.map((r) => h('span', { class: 'entry-pending-item' }, icon(r.source || 'phone'), ' ', r.text))) : null);
}

// Polls.
function pollOptionRow(value = '') {
  const input = h('input', { class: 'input input-sm', maxlength: 200, value, placeholder: t('mod.poll_option_placeholder') });
  const row = h('div', { class: 'poll-option-row' }, input,
    h('button', { type: 'button', class: 'btn btn-ghost btn-icon', 'aria-label': t('mod.poll_remove_option'), onclick: () => {
      if ($$('#poll-options .poll-option-row').length > 2) row.remove();
    } }, icon('x')));
  return row;
}
function resetPollForm() {
  $('#poll-title').value = '';
  $('#poll-multi').checked = false;
  mount($('#poll-options'), pollOptionRow(), pollOptionRow());
}
resetPollForm();
$('#poll-add-option').addEventListener('click', () => {
  if ($$('#poll-options .poll-option-row').length < 10) $('#poll-options').append(pollOptionRow());
});
$('#poll-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const title = $('#poll-title').value.trim();
  const options = $$('#poll-options input').map((i) => i.value.trim()).filter(Boolean);
  if (!title || options.length < 2) { toast(t('mod.poll_incomplete'), 'error'); return; }
  const ack = await send('poll.create', { title, options, multi: $('#poll-multi').checked }, t('mod.poll_created'));
  if (ack) resetPollForm();
});

// ---- rendering -----------------------------------------------------------------------------
function authorOf(item) { return item.author || t('common.anonymous'); }

function matchesFilters(item) {
  if (ui.kind && item.category !== ui.kind) return false;
  if (ui.to === 'all' && item.to != null) return false;
  if (ui.to && ui.to !== 'all' && String(item.to) !== ui.to) return false;
  if (ui.search && !(`${item.text} ${item.author || ''} #${item.id}`.toLowerCase().includes(ui.search))) return false;
  return true;
}

function actionButton(label, iconName, onclick, { kbd = null, cls = '' } = {}) {
  return h('button', { type: 'button', class: `m-act ${cls}`, title: kbd ? `${label} (${kbd})` : label, onclick: (e) => { e.stopPropagation(); onclick(); } },
    icon(iconName), h('span', {}, label), kbd ? h('span', { class: 'kbd' }, kbd) : null);
}

/** Dismiss with a reason (the asker sees it; the CSV and the minutes keep it): a button of its
 *  own, so the reason is not only for those who know Shift+D. */
function reasonButton(item) {
  return actionButton(t('mod.dismiss_with_reason'), 'paper', () => actions.dismiss(item, true), { kbd: '⇧D', cls: 'm-act-reason' });
}

function card(item, { column, queueIndex = -1 } = {}) {
  const to = store.panelist(item.to);
  const parent = item.parent_id ? q(item.parent_id) : null;
  const acts = [];
  if (item.state === 'pending') {
    acts.push(actionButton(t('mod.approve'), 'check', () => actions.approve(item), { kbd: 'A', cls: 'm-act-primary' }));
    acts.push(actionButton(t('mod.dismiss'), 'x', () => actions.dismiss(item), { kbd: 'D' }));
    acts.push(reasonButton(item));
    acts.push(actionButton(t('mod.edit'), 'edit', () => actions.edit(item), { kbd: 'E' }));
    acts.push(actionButton(t('mod.merge'), 'merge', () => actions.merge(item), { kbd: 'M' }));
  } else if (item.state === 'published' && column === 'queue') {
    acts.push(actionButton(t('mod.on_air'), 'air', () => actions.onAir(item), { kbd: 'O', cls: 'm-act-primary' }));
    acts.push(actionButton(t('mod.up'), 'up', () => actions.moveInQueue(item, -1)));
    acts.push(actionButton(t('mod.down'), 'down', () => actions.moveInQueue(item, 1)));
    acts.push(actionButton(t('mod.unqueue'), 'x', () => actions.toggleQueue(item), { kbd: 'Q' }));
  } else if (item.state === 'published') {
    const queued = (store.panel.up_next || []).includes(item.id);
    acts.push(actionButton(t('mod.on_air'), 'air', () => actions.onAir(item), { kbd: 'O', cls: 'm-act-primary' }));
    acts.push(actionButton(queued ? t('mod.unqueue') : t('mod.queue'), 'queue', () => actions.toggleQueue(item), { kbd: 'Q' }));
    acts.push(actionButton(item.starred ? t('mod.unstar') : t('mod.star'), 'star', () => actions.star(item), { kbd: 'S' }));
    acts.push(actionButton(t('mod.merge'), 'merge', () => actions.merge(item), { kbd: 'M' }));
    acts.push(actionButton(t('mod.edit'), 'edit', () => actions.edit(item), { kbd: 'E' }));
    acts.push(actionButton(t('mod.dismiss'), 'x', () => actions.dismiss(item), { kbd: 'D' }));
    acts.push(reasonButton(item));
  } else if (item.state === 'answered') {
    acts.push(actionButton(t('mod.reair'), 'air', () => actions.onAir(item), { kbd: 'O', cls: 'm-act-labelled' }));
    acts.push(actionButton(t('mod.commit'), 'check', () => actions.commit(item), { kbd: 'C', cls: 'm-act-labelled' }));
  } else if (item.state === 'dismissed') {
    // A dismissal is never final: bring it back to the wall, or back to review.
    acts.push(actionButton(t('mod.restore'), 'undo', () => actions.restore(item), { cls: 'm-act-labelled m-act-restore' }));
    acts.push(actionButton(t('mod.restore_pending'), 'undo', () => actions.restore(item, 'pending'), { cls: 'm-act-labelled m-act-restore-pending' }));
  }
  if (item.viewer_id && item.source === 'web' && ['pending', 'published'].includes(item.state)) {
    const banned = store.banned.has(item.viewer_id);
    if (!banned) acts.push(actionButton(t('mod.ban'), 'ban', () => actions.ban(item), { kbd: 'B', cls: 'm-act-danger' }));
  }
  const draggable = item.state === 'published';
  const el = h('article', {
    class: `m-q m-q-${item.state}${item.starred ? ' is-starred' : ''}${ui.selected === item.id ? ' is-selected' : ''}${ui.picked.has(item.id) ? ' is-picked' : ''}`,
    dataset: { qid: item.id, state: item.state },
    tabindex: '-1',
    draggable,
    onclick: () => select(item.id, false),
  },
  h('div', { class: 'm-q-top' },
    (column === 'incoming' || column === 'published') ? h('input', {
      type: 'checkbox', class: 'm-pick', checked: ui.picked.has(item.id), 'aria-label': t('mod.pick'),
      onclick: (e) => { e.stopPropagation(); e.preventDefault(); togglePick(item, e.shiftKey); },
    }) : null,
    column === 'queue' ? h('span', { class: 'm-q-pos num' }, String(queueIndex + 1)) : null,
    h('span', { class: 'm-q-id num' }, `#${item.id}`),
    h('span', { class: `chip chip-${item.category || 'question'}` }, t(`kind.${item.category || 'question'}`)),
    item.source && item.source !== 'web' ? h('span', { class: 'chip' }, icon(item.source), t(`source.${item.source}`)) : null,
    item.source === 'carried' && item.carried_source && item.carried_source !== 'web'
      ? h('span', { class: 'chip chip-origin' }, icon(item.carried_source), t(`source.${item.carried_source}`)) : null,
    item.phase === 'pre' ? h('span', { class: 'chip' }, t('mod.pre_show')) : null,
    hints ? hints.chip(item) : null,
    h('span', { class: 'topbar-spacer' }),
    item.starred ? h('span', { class: 'm-star', title: t('mod.starred') }, icon('star')) : null,
    h('span', { class: 'm-votes num' }, icon('thumb'), String(item.votes || 0))),
  // Why it waits for review: the blocked word, at a glance (not shown to the asker).
  item.state === 'pending' && item.held_for ? h('p', { class: 'm-q-held' },
    h('span', { class: 'chip chip-held', title: t('mod.held_for_hint') }, t('mod.held_for', { word: item.held_for }))) : null,
  parent ? h('p', { class: 'm-q-parent' }, icon('reply'), t('mod.follow_up_of', { id: parent.id }), ' ', h('span', {}, parent.text)) : null,
  h('p', { class: 'm-q-text' }, item.text),
  hints ? hints.list(item) : null,
  h('div', { class: 'm-q-meta' },
    h('span', { class: 'm-q-author' }, authorOf(item)),
    to ? h('span', {}, `→ ${to.name}`) : h('span', {}, `→ ${t('viewer.to_all')}`),
    h('span', {}, relTime(item.created_at)),
    item.viewer_id && store.banned.has(item.viewer_id) ? h('span', { class: 'm-banned' }, t('mod.is_banned')) : null),
  item.state === 'answered' && item.answer_note ? h('p', { class: 'm-q-note' }, item.answer_note) : null,
  item.state === 'dismissed' && item.merged_into ? h('p', { class: 'm-q-note m-q-note-grey' }, t('mod.merged_into', { id: item.merged_into })) : null,
  item.state === 'dismissed' && item.dismiss_reason ? h('p', { class: 'm-q-note m-q-note-grey m-q-reason' }, t('mod.dismiss_reason', { reason: item.dismiss_reason })) : null,
  item.state === 'withdrawn' ? h('p', { class: 'm-q-note m-q-note-grey' }, t('state.withdrawn')) : null,
  acts.length ? h('div', { class: 'm-q-actions' }, acts) : null);
  if (draggable) {
    el.addEventListener('dragstart', (e) => {
      e.dataTransfer.setData('text/plain', String(item.id));
      e.dataTransfer.effectAllowed = 'move';
      el.classList.add('is-dragging');
      document.body.classList.add('is-dragging-question');
    });
    el.addEventListener('dragend', () => {
      el.classList.remove('is-dragging');
      document.body.classList.remove('is-dragging-question');
      for (const x of $$('.drop-before, .drop-after')) x.classList.remove('drop-before', 'drop-after');
    });
  }
  return el;
}

// Drag and drop into / within the up-next queue.
function dropIndex(list, y) {
  const cards = $$('.m-q', list);
  for (let i = 0; i < cards.length; i++) {
    const r = cards[i].getBoundingClientRect();
    if (y < r.top + r.height / 2) return i;
  }
  return cards.length;
}
const queueList = $('#list-queue');
queueList.addEventListener('dragover', (e) => {
  e.preventDefault();
  e.dataTransfer.dropEffect = 'move';
  const at = dropIndex(queueList, e.clientY);
  const cards = $$('.m-q', queueList);
  for (const x of cards) x.classList.remove('drop-before', 'drop-after');
  if (cards[at]) cards[at].classList.add('drop-before');
  else if (cards.length) cards[cards.length - 1].classList.add('drop-after');
  queueList.classList.add('is-drop-target');
});
queueList.addEventListener('dragleave', (e) => {
  if (!queueList.contains(e.relatedTarget)) queueList.classList.remove('is-drop-target');
});
queueList.addEventListener('drop', (e) => {
  e.preventDefault();
  queueList.classList.remove('is-drop-target');
  const id = Number(e.dataTransfer.getData('text/plain'));
  const item = q(id);
  if (!item || item.state !== 'published') return;
  const queue = (store.panel.up_next || []).slice();
  let at = dropIndex(queueList, e.clientY);
  const from = queue.indexOf(id);
  if (from >= 0) {
    queue.splice(from, 1);
    if (from < at) at -= 1;
  }
  queue.splice(at, 0, id);
  setQueue(queue);
});

function emptyState(key, iconName = 'check') {
  return h('div', { class: 'empty' }, icon(iconName), t(key));
}

function renderOnAir() {
  const item = store.onAirQuestion();
  const queueLen = (store.panel.up_next || []).length;
  const nextBtn = h('button', { type: 'button', class: 'btn btn-secondary btn-sm', disabled: !queueLen, onclick: () => actions.next() }, icon('next'), t('mod.next'), h('span', { class: 'kbd' }, 'N'));
  if (!item) {
    mount($('#onair'), h('div', { class: 'onair-card is-empty' },
      h('div', { class: 'onair-head' }, h('span', { class: 'onair-tag is-off' }, t('mod.on_air_label'))),
      h('p', { class: 'onair-empty' }, t('mod.on_air_none')),
      h('div', { class: 'onair-actions' }, nextBtn)));
    return;
  }
  const to = store.panelist(item.to);
  const parent = item.parent_id != null ? q(item.parent_id) : null;
  mount($('#onair'), h('div', { class: 'onair-card', dataset: { qid: item.id } },
    h('div', { class: 'onair-head' }, h('span', { class: 'onair-tag' }, h('span', { class: 'v-live-dot' }), t('mod.on_air_label')),
      h('span', { class: 'onair-id num' }, `#${item.id}`), h('span', { class: 'topbar-spacer' }),
      h('span', { class: 'm-votes num' }, icon('thumb'), String(item.votes || 0))),
    parent ? h('p', { class: 'onair-parent' }, icon('reply'), t('mod.follow_up_of', { id: parent.id }), ' ', h('span', {}, parent.text)) : null,
    h('p', { class: 'onair-text' }, item.text),
    h('p', { class: 'onair-meta' }, authorOf(item), ' · ', to ? `→ ${to.name}` : `→ ${t('viewer.to_all')}`),
    h('div', { class: 'onair-actions' },
      h('button', { type: 'button', class: 'btn btn-light btn-sm', onclick: () => actions.answered(item) }, t('mod.mark_answered'), h('span', { class: 'kbd' }, 'R')),
      h('button', { type: 'button', class: 'btn btn-ghost-light btn-sm', onclick: () => actions.clearAir() }, t('mod.clear_air')),
      h('span', { class: 'topbar-spacer' }),
      h('button', { type: 'button', class: 'btn btn-ghost-light btn-sm', disabled: !queueLen, onclick: () => actions.next() }, t('mod.next'), h('span', { class: 'kbd' }, 'N'))),
    // Commitments are made while the question is on air: one click records one, linked to it.
    h('button', { type: 'button', class: 'btn btn-ghost-light btn-sm onair-commit', id: 'onair-commit', onclick: () => actions.commit(item) },
      icon('check'), t('mod.commit'), h('span', { class: 'kbd' }, 'C'))));
}

function renderColumns() {
  const all = store.list();
  const byVotes = (a, b) => (b.votes - a.votes) || (a.created_at - b.created_at);
  const newest = (a, b) => b.created_at - a.created_at;
  const oldest = (a, b) => a.created_at - b.created_at;
  const queueIds = (store.panel.up_next || []).filter((id) => q(id));
  const incoming = all.filter((x) => x.state === 'pending').sort(oldest);
  const published = all.filter((x) => x.state === 'published' && !queueIds.includes(x.id) && matchesFilters(x))
    .sort((a, b) => (b.starred - a.starred) || (ui.sort === 'votes' ? byVotes(a, b) : newest(a, b)));
  const answered = all.filter((x) => x.state === 'answered').sort((a, b) => (b.updated_at || b.created_at) - (a.updated_at || a.created_at));
  const dismissed = all.filter((x) => x.state === 'dismissed' || x.state === 'withdrawn').sort(newest);
  const queue = queueIds.map((id) => q(id));

  ui.columns = {
    incoming: incoming.map((x) => x.id), published: published.map((x) => x.id), queue: queueIds,
    answered: answered.map((x) => x.id), dismissed: dismissed.map((x) => x.id),
  };
  const totalPublished = all.filter((x) => x.state === 'published' && !queueIds.includes(x.id)).length;
  $('#n-incoming').textContent = incoming.length;
  $('#pick-all-incoming').hidden = incoming.length === 0;
  $('#n-published').textContent = published.length === totalPublished ? totalPublished : `${published.length}/${totalPublished}`;
  $('#n-queue').textContent = queue.length;
  $('#n-answered').textContent = answered.length;
  $('#n-dismissed').textContent = dismissed.length;
  const premod = store.session && store.session.premoderation;
  mount($('#list-incoming'), incoming.length ? incoming.map((x) => card(x, { column: 'incoming' })) : emptyState(premod ? 'mod.empty_incoming' : 'mod.empty_incoming_off'));
  mount($('#list-published'), published.length ? published.map((x) => card(x, { column: 'published' })) : emptyState(ui.search || ui.kind || ui.to ? 'mod.empty_filtered' : 'mod.empty_published', 'search'));
  mount($('#list-queue'), queue.length ? queue.map((x, i) => card(x, { column: 'queue', queueIndex: i })) : h('div', { class: 'empty queue-empty' }, icon('queue'), t('mod.empty_queue')));
  mount($('#list-answered'), answered.length ? answered.map((x) => card(x, { column: 'answered' })) : emptyState('mod.empty_answered', 'mic'));
  mount($('#list-dismissed'), dismissed.length ? dismissed.map((x) => card(x, { column: 'dismissed' })) : emptyState('mod.empty_dismissed', 'x'));
  if (ui.selected != null && !columnOf(ui.selected)) ui.selected = null;
  if (ui.selected != null) select(ui.selected, false);
}

function renderHeader() {
  const s = store.session;
  $('#program-name').textContent = s.program || t('mod.title');
  $('#session-title').textContent = s.title;
  const badge = $('#status-badge');
  badge.hidden = false;
  badge.dataset.status = s.status;
  badge.textContent = t(`status.${s.status}`);
  document.title = `${t('mod.doc_title')} · ${s.title}`;
  const counts = { pending: 0, published: 0, answered: 0 };
  for (const x of store.questions.values()) if (counts[x.state] !== undefined) counts[x.state] += 1;
  mount($('#stats'),
    h('span', { class: 'c-stat c-stat-viewers', id: 'stat-viewers' }, h('b', { class: 'num' }, store.viewers == null ? '–' : String(store.viewers)), t('mod.stat_viewers')),
    h('span', { class: 'c-stat' }, h('b', { class: 'num' }, String(counts.pending)), t('mod.stat_pending')),
    h('span', { class: 'c-stat' }, h('b', { class: 'num' }, String(counts.answered)), t('mod.stat_answered')),
    s.premoderation ? h('span', { class: 'chip chip-pending' }, t('mod.premod_on')) : h('span', { class: 'chip' }, t('mod.premod_off')),
    store.questionsComplete ? null : h('span', { class: 'chip', id: 'loading-questions' },
      t('mod.loading_questions', { n: String(store.questions.size), total: String(store.questionsTotal ?? '?') })));
}

function renderFilters() {
  const s = store.session;
  const kind = $('#filter-kind');
  const to = $('#filter-to');
  mount(kind, h('option', { value: '' }, t('mod.filter_all_kinds')), ['question', 'need', 'suggestion'].map((k) => h('option', { value: k }, t(`kind.${k}`))));
  kind.value = ui.kind;
  mount(to, h('option', { value: '' }, t('mod.filter_all_panelists')), h('option', { value: 'all' }, t('viewer.to_all')),
    (s.panelists || []).map((p) => h('option', { value: String(p.id) }, p.name)));
  to.value = ui.to;
  const entryKind = $('#entry-kind');
  const ek = entryKind.value || 'question';
  mount(entryKind, ['question', 'need', 'suggestion'].map((k) => h('option', { value: k }, t(`kind.${k}`))));
  entryKind.value = ek;
  const entryTo = $('#entry-to');
  const et = entryTo.value;
  mount(entryTo, h('option', { value: '' }, t('viewer.to_all')), (s.panelists || []).map((p) => h('option', { value: String(p.id) }, [p.name, p.affiliation].filter(Boolean).join(' · '))));
  entryTo.value = et;
}

function renderPanelControl() {
  if (ui.panelDirty) return;
  const s = store.session;
  const seg = $('#panel-segment');
  mount(seg, h('option', { value: '' }, t('mod.segment_none')), (s.segments || []).map((x, i) => h('option', { value: String(x.id) }, `${i + 1}. ${x.title}`)));
  seg.value = store.panel.segment_id != null ? String(store.panel.segment_id) : '';
  const speaking = new Set(store.panel.speaker_ids || []);
  mount($('#panel-speakers'), (s.panelists || []).length ? (s.panelists || []).map((p) => h('label', { class: 'check side-check' },
    h('input', { type: 'checkbox', value: String(p.id), checked: speaking.has(p.id) }),
    h('span', {}, h('b', {}, p.name), ' ', h('span', { class: 'muted' }, [p.affiliation, p.role].filter(Boolean).join(' · '))))) :
    h('p', { class: 'field-hint' }, t('mod.no_panelists')));
  $('#panel-banner').value = store.panel.banner || '';
}

function renderPolls() {
  const polls = [...store.polls.values()].sort((a, b) => b.id - a.id);
  mount($('#poll-list'), polls.length ? polls.map((poll) => {
    const total = poll.options.reduce((n, o) => n + (o.votes || 0), 0);
    return h('div', { class: 'side-card poll-card', dataset: { pollId: poll.id, state: poll.state } },
      h('div', { class: 'side-row' }, h('span', { class: `chip poll-state-${poll.state}` }, t(`poll.state_${poll.state}`)),
        poll.multi ? h('span', { class: 'chip' }, t('mod.poll_multi')) : null, h('span', { class: 'topbar-spacer' }),
        h('span', { class: 'field-hint num' }, t('poll.total', { n: total }))),
      h('h4', { class: 'poll-card-title' }, poll.title),
      h('div', { class: 'poll-bars' }, poll.options.map((o) => {
        const pct = total ? Math.round(((o.votes || 0) * 100) / total) : 0;
        return h('div', { class: 'poll-bar-row' }, h('span', { class: 'poll-bar-label' }, o.text), h('span', { class: 'poll-bar-num num' }, `${o.votes || 0} · ${pct}%`),
          h('span', { class: 'poll-bar' }, h('span', { class: 'poll-bar-fill', style: { width: `${pct}%` } })));
      })),
      poll.state === 'draft' ? h('button', { type: 'button', class: 'btn btn-primary btn-sm', onclick: () => send('poll.open', { poll_id: poll.id }, t('mod.poll_opened')) }, t('mod.poll_open')) : null,
      poll.state === 'open' ? h('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: () => send('poll.close', { poll_id: poll.id }, t('mod.poll_closed')) }, t('mod.poll_close')) : null);
  }) : h('p', { class: 'field-hint' }, t('mod.no_polls')));
}

function renderBans() {
  const bans = [...store.banned.keys()];
  $('#n-bans').textContent = bans.length ? String(bans.length) : '';
  mount($('#ban-list'), bans.length ? bans.map((id) => {
    const asked = store.list((x) => x.viewer_id === id);
    const who = asked.find((x) => x.author)?.author || t('common.anonymous');
    return h('div', { class: 'side-card ban-row', dataset: { viewerId: id } },
      h('div', {}, h('b', {}, who), h('p', { class: 'field-hint num' }, id),
        asked[0] ? h('p', { class: 'field-hint ban-text' }, asked[0].text) : h('p', { class: 'field-hint ban-text' }, t('mod.ban_no_questions'))),
      h('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: () => send('viewer.unban', { viewer_id: id }, t('mod.unbanned')) }, t('mod.unban')));
  }) : h('p', { class: 'empty' }, t('mod.no_bans')));
}

function renderActions() {
  const readOnly = store.session && store.session.status === 'archived';
  const byDue = (a, b) => (a.status === 'done') - (b.status === 'done') || String(a.due || '9999').localeCompare(String(b.due || '9999')) || a.id - b.id;
  const own = [...store.actions.values()].sort(byDue);
  const old = [...store.openActions.values()].sort(byDue);
  $('#n-actions').textContent = own.length ? String(own.length) : '';
  const row = (a, earlier) => actionRow(a, {
    question: earlier ? null : q(a.question_id),
    earlier,
    readOnly,
    panelists: earlier ? null : store.session.panelists,
    onStatus: (status) => updateAction(a, { status }),
    onEdit: (preset) => editAction(a, earlier, preset),
  });
  mount($('#action-list'), own.length ? own.map((a) => row(a, false)) : h('p', { class: 'empty' }, t('act.none')));
  mount($('#open-action-list'), old.length ? old.map((a) => row(a, true)) : h('p', { class: 'field-hint' }, t('act.none_earlier')));
  $('#action-new').disabled = readOnly;
}

// ---- ratings' comments ----------------------------------------------------------------------
function ratedItemText(r) {
  if (r.question_id) {
    const item = q(r.question_id);
    return item ? t('mod.rating_on_question', { id: r.question_id, text: item.text }) : t('act.for_question_id', { id: r.question_id });
  }
  const a = store.actions.get(r.action_id) || store.openActions.get(r.action_id);
  return t('mod.rating_on_action', { text: a ? a.text : `#${r.action_id}` });
}

function renderRatings() {
  const list = [...store.ratings.values()].filter((r) => r.comment);
  const pending = list.filter((r) => r.comment_state === 'pending').length;
  $('#n-ratings').textContent = pending ? String(pending) : '';
  list.sort((a, b) => (b.comment_state === 'pending') - (a.comment_state === 'pending') || b.updated_at - a.updated_at);
  const readOnly = store.session && store.session.status === 'archived';
  mount($('#rating-list'), list.length ? list.map((r) => h('div', { class: 'side-card rating-row', dataset: { ratingId: r.id, state: r.comment_state } },
    h('div', { class: 'rating-row-head' },
      h('span', { class: `chip rate-chip-${r.value}` }, t(`rating.${r.value}`)),
      h('span', { class: `chip chip-${r.comment_state === 'published' ? 'answered' : r.comment_state}` }, t(`mod.comment_${r.comment_state}`)),
      h('span', {}, ratedItemText(r))),
    h('p', { class: 'rating-row-comment' }, r.comment),
    readOnly ? null : h('div', { class: 'rating-row-actions' },
      r.comment_state === 'pending' ? h('button', { type: 'button', class: 'btn btn-dark btn-sm', onclick: () => send('rating.approve', { rating_id: r.id }, t('mod.comment_approved')) }, icon('check'), t('mod.approve')) : null,
      r.comment_state !== 'dismissed' ? h('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: () => send('rating.dismiss', { rating_id: r.id }, t('mod.comment_dismissed_toast')) }, icon('x'), t('mod.comment_dismiss')) : null)))
    : h('p', { class: 'empty' }, t('mod.no_rating_comments')));
}

function renderShortcuts() {
  const keys = [['A', 'mod.approve'], ['D', 'mod.dismiss'], ['X', 'mod.pick'], ['S', 'mod.star'], ['E', 'mod.edit'], ['M', 'mod.merge'], ['Q', 'mod.queue'],
    ['O', 'mod.on_air'], ['N', 'mod.next'], ['R', 'mod.mark_answered'], ['C', 'mod.commit'], ['U', 'mod.undo'], ['B', 'mod.ban'], ['/', 'mod.search_label'], ['↑↓←→', 'mod.navigate']];
  mount($('#shortcuts'), h('span', { class: 'sc-title' }, t('mod.shortcuts')),
    keys.map(([k, label]) => h('span', { class: 'sc-item' }, h('span', { class: 'kbd' }, k), t(label))),
    h('span', { class: 'topbar-spacer' }),
    h('button', { type: 'button', class: 'btn btn-ghost btn-sm', onclick: () => actions.undo() }, icon('undo'), t('mod.undo'), h('span', { class: 'kbd' }, 'U')));
}

function render() {
  if (!store.session) return;
  renderHeader();
  renderFilters();
  renderOnAir();
  renderColumns();
  renderPanelControl();
  renderPolls();
  renderBans();
  renderActions();
  renderRatings();
  renderBulkBar();
  renderActivity();
}

store.addEventListener('change', render);
function renderStaticButtons() {
  $('#poll-add-option').replaceChildren(icon('plus'), t('mod.poll_add_option'));
  $('#action-new').replaceChildren(icon('plus'), t('mod.actions_new'));
}
onLangChange(() => { renderConn(); renderName(); renderShortcuts(); renderStaticButtons(); renderEntryPending(); render(); });
renderShortcuts();
renderStaticButtons();
setInterval(() => { if (store.session) renderColumns(); }, 60_000);

const initialKey = keyFromFragment() || storageGet(`forum.modkey.${code}`);
if (initialKey && moderatorName()) start(initialKey);
else showLogin('', initialKey); // first join on this device: who is moderating?
