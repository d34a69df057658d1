// moderator.js — the moderator console /m/<code>#key=<moderator key>: live columns (incoming,
// published, up next with the question on air, answered, dismissed), one click or one key per
// action, panel control, questions entered by phone/paper/visit (through the durable outbox,
// like viewers' questions), commitments (action items) recorded from the question on air,
// polls, bans, and the live viewer count (presence messages).
// The key is read from the URL fragment (never sent over HTTP) or typed in.
import { initI18n, t, onLangChange } from './i18n.js';
import { ForumClient } from './client.js';
import { SessionStore } from './store.js';
import {
  h, mount, $, $$, icon, bindCounter, errorText, toast, bindConnection, relTime, codeFromPath,
  storageGet, storageSet, openDialog, confirmDialog, codePoints,
} from './ui.js';
import { actionRow, actionDialog, actionChanges } from './actions.js';
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
};
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

function moderatorName() {
  return storageGet('forum.modname') || t('mod.default_name');
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
  client.addEventListener('event', (e) => { store.apply(e.detail); hints.onEvent(e.detail); });
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

function showLogin(message) {
  $('#app').hidden = true;
  $('#shortcuts').hidden = true;
  $('#login').hidden = false;
  $('#login-error').textContent = message || '';
  $('#login-name').value = storageGet('forum.modname') || '';
  $('#login-key').focus();
}

$('#login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const key = $('#login-key').value.trim();
  const name = $('#login-name').value.trim();
  if (!key) { $('#login-error').textContent = t('mod.key_missing'); return; }
  if (name) storageSet('forum.modname', name);
  // Keep the key in the fragment so a reload stays signed in; fragments never reach the server.
  history.replaceState(null, '', `${location.pathname}#key=${encodeURIComponent(key)}`);
  start(key);
});

function renderName() {
  mount($('#mod-name-btn'), icon('user'), moderatorName());
  $('#mod-name-btn').title = t('mod.change_name');
}

$('#mod-name-btn').addEventListener('click', async () => {
  const name = await openDialog((close) => {
    const input = h('input', { class: 'input', maxlength: 40, value: moderatorName() });
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
    const ok = await confirmDialog(t('mod.ban_title'), t('mod.ban_body', { who: item.author || t('common.anonymous') }), t('mod.ban'), { danger: true });
    if (ok) send('viewer.ban', { viewer_id: item.viewer_id }, t('mod.banned'));
  },
  async commit(item) {
    // Linked to the question on air; with nothing on air, to the selected question.
    const target = store.onAirQuestion() || (item && ['published', 'answered', 'on_air'].includes(item.state) ? item : null);
    if (!target) { toast(t('mod.commit_none'), 'info'); return; }
    const result = await actionDialog({ question: target });
    if (!result) return;
    const fields = { question_id: target.id, text: result.text, status: result.status };
    if (result.owner) fields.owner = result.owner;
    if (result.due) fields.due = result.due;
    const ack = await send('action.create', fields, t('act.created'));
    if (ack && ack.action) store.upsertAction(ack.action);
  },
};

async function newActionFree() {
  const questions = store.list((x) => ['published', 'on_air', 'answered'].includes(x.state)).sort((a, b) => a.id - b.id);
  const result = await actionDialog({ questions });
  if (!result) return;
  const fields = { text: result.text, status: result.status };
  if (result.owner) fields.owner = result.owner;
  if (result.due) fields.due = result.due;
  if (result.question_id) fields.question_id = result.question_id;
  const ack = await send('action.create', fields, t('act.created'));
  if (ack && ack.action) store.upsertAction(ack.action);
}

async function updateAction(a, fields) {
  const ack = await send('action.update', { action_id: a.id, ...fields }, t('act.updated'));
  if (ack && ack.action) store.upsertAction(ack.action);
}

async function editAction(a, earlier) {
  const questions = earlier ? null : store.list((x) => ['published', 'on_air', 'answered'].includes(x.state)).sort((x, y) => x.id - y.id);
  const result = await actionDialog({ action: a, questions });
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

function card(item, { column, queueIndex = -1 } = {}) {
  const to = store.panelist(item.to);
  const parent = item.parent_id ? q(item.parent_id) : null;
  const acts = [];
  if (item.state === 'pending') {
    acts.push(actionButton(t('mod.approve'), 'check', () => actions.approve(item), { kbd: 'A', cls: 'm-act-primary' }));
    acts.push(actionButton(t('mod.dismiss'), 'x', () => actions.dismiss(item), { kbd: 'D' }));
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
  } else if (item.state === 'answered') {
    acts.push(actionButton(t('mod.reair'), 'air', () => actions.onAir(item), { kbd: 'O', cls: 'm-act-labelled' }));
    acts.push(actionButton(t('mod.commit'), 'check', () => actions.commit(item), { kbd: 'C', cls: 'm-act-labelled' }));
  }
  if (item.viewer_id && item.source === 'web' && ['pending', 'published'].includes(item.state)) {
    const banned = store.banned.has(item.viewer_id);
    if (!banned) acts.push(actionButton(t('mod.ban'), 'ban', () => actions.ban(item), { kbd: 'B', cls: 'm-act-danger' }));
  }
  const draggable = item.state === 'published';
  const el = h('article', {
    class: `m-q m-q-${item.state}${item.starred ? ' is-starred' : ''}${ui.selected === item.id ? ' is-selected' : ''}`,
    dataset: { qid: item.id, state: item.state },
    tabindex: '-1',
    draggable,
    onclick: () => select(item.id, false),
  },
  h('div', { class: 'm-q-top' },
    column === 'queue' ? h('span', { class: 'm-q-pos num' }, String(queueIndex + 1)) : null,
    h('span', { class: 'm-q-id num' }, `#${item.id}`),
    h('span', { class: `chip chip-${item.category || 'question'}` }, t(`kind.${item.category || 'question'}`)),
    item.source && item.source !== 'web' ? h('span', { class: 'chip' }, icon(item.source), t(`source.${item.source}`)) : null,
    item.phase === 'pre' ? h('span', { class: 'chip' }, t('mod.pre_show')) : null,
    hints ? hints.chip(item) : null,
    h('span', { class: 'topbar-spacer' }),
    item.starred ? h('span', { class: 'm-star', title: t('mod.starred') }, icon('star')) : null,
    h('span', { class: 'm-votes num' }, icon('thumb'), String(item.votes || 0))),
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
  mount($('#onair'), h('div', { class: 'onair-card', dataset: { qid: item.id } },
    h('div', { class: 'onair-head' }, h('span', { class: 'onair-tag' }, h('span', { class: 'v-live-dot' }), t('mod.on_air_label')),
      h('span', { class: 'onair-id num' }, `#${item.id}`), h('span', { class: 'topbar-spacer' }),
      h('span', { class: 'm-votes num' }, icon('thumb'), String(item.votes || 0))),
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
    onStatus: (status) => updateAction(a, { status }),
    onEdit: () => editAction(a, earlier),
  });
  mount($('#action-list'), own.length ? own.map((a) => row(a, false)) : h('p', { class: 'empty' }, t('act.none')));
  mount($('#open-action-list'), old.length ? old.map((a) => row(a, true)) : h('p', { class: 'field-hint' }, t('act.none_earlier')));
  $('#action-new').disabled = readOnly;
}

function renderShortcuts() {
  const keys = [['A', 'mod.approve'], ['D', 'mod.dismiss'], ['S', 'mod.star'], ['E', 'mod.edit'], ['M', 'mod.merge'], ['Q', 'mod.queue'],
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
if (initialKey) start(initialKey);
else showLogin('');
