// producer.js — the producer console /producer: programmes and sessions (create, edit,
// open / go live / end / archive), moderator links and keys, live counts of the selected
// session (viewers from presence messages), export downloads, action items (this session's and
// the programme's open commitments), carrying questions over, erasing a viewer's data, and the
// studio-wide archive search and backup, outgoing webhooks (producer-webhooks.js) and question
// imports from spreadsheets (producer-import.js). The producer key is typed once and kept in
// localStorage.
import { initI18n, t, onLangChange } from './i18n.js';
import { ForumClient } from './client.js';
import { SessionStore } from './store.js';
import {
  h, mount, $, $$, icon, errorText, toast, bindConnection, storageGet, storageSet, copyText,
  confirmDialog, openDialog, dateText, clockTime,
} from './ui.js';
import { actionRow, actionDialog, actionChanges, actionFields } from './actions.js';
import { streamFields, streamSummary, qrCard, helpView } from './studio.js';
import { importCard } from './producer-import.js';
import { renderWebhooks, refreshWebhookList, webhooksViewKey, leaveWebhooks, applyWebhook } from './producer-webhooks.js';

const KEY_STORAGE = 'forum.producerKey';
const VIEWER_ID_RE = /^v[0-9a-f]{16}$/;

const studio = { programs: new Map(), sessions: new Map(), webhooks: new Map() };
const ui = {
  view: 'home', code: null, programId: null, newKey: null,
  carry: null,   // {code, ack} the last carry-over into the shown session
  carryPick: null, // {to, from, loading, error, candidates: [question], picked: Set<id>}
  erase: null,   // {code, ack} the last erasure in the shown session
  search: { q: '', program_id: '', from: '', to: '', category: '', state: '', results: null, busy: false, error: '' },
  backups: [],   // acks of the backups made from this page
  backupBusy: false,
};
let key = storageGet(KEY_STORAGE);
let client = null;
let renderConn = () => {};
let sessionClient = null;
let sessionStore = null;

initI18n();
$('#brand-mark').append(icon('mic'));
$('#login-emblem').append(icon('key'));

// ---- connection ----------------------------------------------------------------------------
function start() {
  if (client) client.stop();
  client = new ForumClient({ session: null, role: 'producer', token: key });
  renderConn = bindConnection(client, $('#conn'));
  client.addEventListener('welcome', (e) => {
    const snap = e.detail.snapshot;
    if (snap) {
      studio.programs = new Map((snap.programs || []).map((p) => [p.id, p]));
      studio.sessions = new Map((snap.sessions || []).map((s) => [s.code, s]));
      studio.webhooks = new Map((snap.webhooks || []).map((w) => [w.id, w]));
    }
    $('#login').hidden = true;
    $('#app').hidden = false;
    $('#logout').hidden = false;
    readHash();
    render();
  });
  client.addEventListener('event', (e) => {
    const ev = e.detail;
    if (ev.kind === 'program.changed' && ev.program) studio.programs.set(ev.program.id, { ...(studio.programs.get(ev.program.id) || {}), ...ev.program });
    if (ev.kind === 'webhook.changed') applyWebhook(studio.webhooks, ev.webhook);
    if (ev.kind === 'session.changed' && ev.session && ev.session.code) studio.sessions.set(ev.session.code, { ...(studio.sessions.get(ev.session.code) || {}), ...ev.session });
    render();
  });
  client.addEventListener('status', (e) => {
    if (e.detail.status === 'failed') {
      storageSet(KEY_STORAGE, null);
      showLogin(errorText(e.detail.error));
    }
  });
  client.start();
}

function showLogin(message = '') {
  $('#app').hidden = true;
  $('#logout').hidden = true;
  $('#login').hidden = false;
  $('#login-error').textContent = message;
  $('#login-key').focus();
}

$('#login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const value = $('#login-key').value.trim();
  if (!value) { $('#login-error').textContent = t('prod.key_missing'); return; }
  key = value;
  storageSet(KEY_STORAGE, key);
  start();
});

$('#logout').addEventListener('click', () => {
  storageSet(KEY_STORAGE, null);
  key = null;
  if (client) client.stop();
  watchSession(null);
  showLogin('');
});

async function send(type, fields = {}, okMessage = null) {
  try {
    const ack = await client.request(type, fields);
    if (ack.program) studio.programs.set(ack.program.id, ack.program);
    if (ack.session && ack.session.code) studio.sessions.set(ack.session.code, { ...(studio.sessions.get(ack.session.code) || {}), ...ack.session });
    if (okMessage) toast(okMessage, 'ok');
    return ack;
  } catch (err) {
    toast(errorText(err), 'error', 5200);
    return null;
  }
}

// The selected session gets its own producer connection: live question counts, the viewer
// count (presence messages) and the session's action items.
function watchSession(code) {
  if (sessionClient && sessionClient.session === code) return;
  if (sessionClient) sessionClient.stop();
  sessionClient = null;
  sessionStore = null;
  if (!code) return;
  sessionStore = new SessionStore();
  sessionClient = new ForumClient({ session: code, role: 'producer', token: key });
  sessionClient.addEventListener('welcome', (e) => { if (e.detail.snapshot) sessionStore.reset(e.detail.snapshot); });
  sessionClient.addEventListener('event', (e) => sessionStore.apply(e.detail));
  sessionClient.addEventListener('presence', (e) => sessionStore.setViewers(e.detail.viewers));
  sessionStore.addEventListener('change', (e) => {
    renderCounts();
    renderActions();
    // What was carried before is read from this session's questions: mark it once they are in.
    if (e.detail.kinds.has('snapshot') || e.detail.kinds.has('page')) refreshCarryCard();
  });
  sessionClient.start();
}

/** A request in the selected session (its own connection), e.g. action items. */
async function sessionSend(type, fields = {}, okMessage = null) {
  if (!sessionClient) return null;
  try {
    const ack = await sessionClient.request(type, fields);
    if (ack.action && sessionStore) sessionStore.upsertAction(ack.action);
    if (okMessage) toast(okMessage, 'ok');
    return ack;
  } catch (err) {
    toast(errorText(err), 'error', 5200);
    return null;
  }
}

// ---- navigation ----------------------------------------------------------------------------
function readHash() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  if (params.get('session') && studio.sessions.has(params.get('session'))) {
    ui.view = 'session';
    ui.code = params.get('session');
  }
}

const importCtx = {
  key: () => key,
  render: () => render(),
  // the refs of questions this page has seen in the session (the server is idempotent anyway)
  existingRefs: (code) => new Set(sessionStore && sessionClient && sessionClient.session === code
    ? [...sessionStore.questions.values()].map((q) => q.external_ref).filter(Boolean) : []),
};

const webhooksCtx = {
  key: () => key,
  webhooks: () => studio.webhooks,
  programs: () => studio.programs,
  send: (type, fields, okMessage) => send(type, fields, okMessage),
  request: (type, fields) => client.request(type, fields),
  render: () => render(),
  visible: () => ui.view === 'webhooks' && !document.hidden,
};

function go(view, { code = null, programId = null } = {}) {
  if (view !== 'webhooks') leaveWebhooks();
  ui.view = view;
  ui.code = code;
  ui.programId = programId;
  if (view !== 'session') ui.newKey = null;
  if (code !== ui.carry?.code) ui.carry = null;
  if (code !== ui.erase?.code) ui.erase = null;
  history.replaceState(null, '', code && view === 'session' ? `#session=${code}` : location.pathname);
  render();
}

window.addEventListener('hashchange', () => { readHash(); render(); });

// ---- rendering -----------------------------------------------------------------------------
function sessionsOf(programId) {
  return [...studio.sessions.values()].filter((s) => s.program_id === programId)
    .sort((a, b) => (b.scheduled_at || 0) - (a.scheduled_at || 0) || String(a.code).localeCompare(String(b.code)));
}

function whenText(ms) {
  return ms ? `${dateText(ms)} ${clockTime(ms).split(' ').pop()}` : t('prod.unscheduled');
}

function renderNav() {
  const programs = [...studio.programs.values()].sort((a, b) => a.id - b.id);
  const orphans = [...studio.sessions.values()].filter((s) => !studio.programs.has(s.program_id));
  mount($('#nav'),
    h('div', { class: 'prod-tools' },
      h('button', { type: 'button', class: 'prod-tool-link', dataset: { view: 'search' }, 'aria-current': String(ui.view === 'search'), onclick: () => go('search') }, icon('search'), t('prod.search_nav')),
      h('button', { type: 'button', class: 'prod-tool-link', dataset: { view: 'webhooks' }, 'aria-current': String(ui.view === 'webhooks'), onclick: () => go('webhooks') }, icon('link'), t('hooks.nav')),
      h('button', { type: 'button', class: 'prod-tool-link', dataset: { view: 'backup' }, 'aria-current': String(ui.view === 'backup'), onclick: () => go('backup') }, icon('download'), t('prod.backup_nav')),
      h('button', { type: 'button', class: 'prod-tool-link', dataset: { view: 'help' }, 'aria-current': String(ui.view === 'help'), onclick: () => go('help') }, icon('info'), t('help.nav'))),
    h('div', { class: 'prod-nav-head' }, h('h2', {}, t('prod.programs')),
      h('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: () => go('new-program') }, icon('plus'), t('prod.new_program'))),
    programs.length ? programs.map((p) => h('section', { class: 'prod-program' },
      h('div', { class: 'prod-program-title' }, h('span', {}, p.title),
        h('a', { class: 'btn btn-ghost btn-icon', href: `/report/program/${p.id}`, target: '_blank', rel: 'noopener', title: t('prod.report_program'), 'aria-label': t('prod.report_program'), dataset: { programReport: p.id } }, icon('chart')),
        h('button', { type: 'button', class: 'btn btn-ghost btn-icon', title: t('prod.edit_program'), 'aria-label': t('prod.edit_program'), onclick: () => go('edit-program', { programId: p.id }) }, icon('edit'))),
      sessionsOf(p.id).map((s) => sessionLink(s)),
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm prod-add-session', onclick: () => go('new-session', { programId: p.id }) }, icon('plus'), t('prod.new_session')))) :
      h('p', { class: 'field-hint' }, t('prod.no_programs')),
    orphans.length ? h('section', { class: 'prod-program' }, h('div', { class: 'prod-program-title' }, t('prod.other_sessions')), orphans.map((s) => sessionLink(s))) : null);
}

function sessionLink(s) {
  return h('button', { type: 'button', class: 'prod-session-link', 'aria-current': String(ui.view === 'session' && ui.code === s.code), onclick: () => go('session', { code: s.code }) },
    h('span', { class: 'prod-session-name' }, s.title),
    h('span', { class: 'prod-session-sub' }, h('span', { class: 'status-badge', dataset: { status: s.status } }, t(`status.${s.status}`)),
      h('span', { class: 'num' }, s.code), s.scheduled_at ? h('span', {}, dateText(s.scheduled_at)) : null));
}

function render() {
  if (!client) return;
  renderNav();
  const view = $('#view');
  if (ui.view === 'session' && studio.sessions.has(ui.code)) {
    watchSession(ui.code);
    mount(view, renderSession(studio.sessions.get(ui.code)));
    renderCounts();
    renderActions();
  } else if (ui.view === 'search') {
    watchSession(null);
    if (!view.querySelector('[data-view="search"]')) mount(view, renderSearch());
    else renderSearchResults();
    return;
  } else if (ui.view === 'webhooks') {
    watchSession(null);
    const viewKey = `webhooks:${webhooksViewKey()}`;
    if (view.querySelector('[data-view="webhooks"]') && view.dataset.formFor === viewKey) {
      refreshWebhookList(webhooksCtx);
    } else {
      mount(view, renderWebhooks(webhooksCtx));
      view.dataset.formFor = viewKey;
    }
    return;
  } else if (ui.view === 'backup') {
    watchSession(null);
    mount(view, renderBackup());
  } else if (ui.view === 'help') {
    watchSession(null);
    mount(view, helpView());
  } else if (ui.view === 'new-program' || ui.view === 'edit-program') {
    watchSession(null);
    mount(view, renderProgramForm(ui.view === 'edit-program' ? studio.programs.get(ui.programId) : null));
  } else if (ui.view === 'new-session' || ui.view === 'edit-session') {
    watchSession(null);
    const s = ui.view === 'edit-session' ? studio.sessions.get(ui.code) : null;
    if (!view.querySelector('form[data-form="session"]') || view.dataset.formFor !== `${ui.view}:${ui.code}:${ui.programId}`) {
      mount(view, renderSessionForm(s, s ? s.program_id : ui.programId));
      view.dataset.formFor = `${ui.view}:${ui.code}:${ui.programId}`;
    }
    return;
  } else {
    watchSession(null);
    mount(view, h('div', { class: 'prod-empty' }, h('span', { class: 'join-emblem' }, icon('mic')),
      h('h2', {}, studio.programs.size ? t('prod.pick_session') : t('prod.welcome_title')),
      h('p', {}, studio.programs.size ? t('prod.pick_session_body') : t('prod.welcome_body')),
      studio.programs.size ? null : h('button', { type: 'button', class: 'btn btn-primary', onclick: () => go('new-program') }, icon('plus'), t('prod.new_program'))));
  }
  view.dataset.formFor = '';
}

function lifecycleButtons(s) {
  const b = [];
  const act = (type, label, cls, confirmKey) => h('button', {
    type: 'button', class: `btn ${cls}`, dataset: { action: type },
    onclick: async () => {
      if (confirmKey && !(await confirmDialog(t(`${confirmKey}_title`), t(`${confirmKey}_body`), label, { danger: type === 'session.end' }))) return;
      send(type, { session: s.code }, t('prod.status_changed'));
    },
  }, label);
  if (s.status === 'draft') b.push(act('session.open', t('prod.open'), 'btn-secondary'));
  if (s.status === 'draft' || s.status === 'open') b.push(act('session.start', t('prod.start'), 'btn-primary', 'prod.confirm_start'));
  if (s.status === 'live') b.push(act('session.end', t('prod.end'), 'btn-danger', 'prod.confirm_end'));
  if (s.status === 'ended') b.push(act('session.archive', t('prod.archive'), 'btn-secondary', 'prod.confirm_archive'));
  return b;
}

function linkRow(label, url, { open = true, extra = null } = {}) {
  return h('div', { class: 'prod-link-row' },
    h('span', { class: 'prod-link-label' }, label),
    h('span', { class: 'prod-link', title: url }, url),
    h('span', { class: 'prod-link-actions' },
      h('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: async () => toast((await copyText(url)) ? t('prod.copied') : t('prod.copy_failed'), 'ok', 1800) }, icon('copy'), t('prod.copy')),
      open ? h('a', { class: 'btn btn-ghost btn-sm', href: url, target: '_blank', rel: 'noopener' }, t('prod.open_link')) : null,
      extra));
}

function renderSession(s) {
  const origin = location.origin;
  const modKey = storageGet(`forum.modkey.${s.code}`);
  const program = studio.programs.get(s.program_id);
  const rotate = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', onclick: () => rotateKey(s) }, icon('key'), t('prod.rotate_key'));
  return [
    h('header', { class: 'prod-head' },
      h('div', { class: 'prod-head-text' },
        h('div', { class: 'prod-kicker' }, h('span', { class: 'status-badge', dataset: { status: s.status } }, t(`status.${s.status}`)),
          h('span', {}, program ? program.title : ''), h('span', { class: 'c-code num' }, s.code), h('span', {}, whenText(s.scheduled_at))),
        h('h1', { class: 'prod-title' }, s.title),
        s.topic ? h('p', { class: 'prod-topic' }, s.topic) : null),
      h('div', { class: 'prod-lifecycle' },
        lifecycleButtons(s),
        h('button', { type: 'button', class: 'btn btn-ghost', disabled: s.status === 'archived', onclick: () => go('edit-session', { code: s.code }) }, icon('edit'), t('prod.edit_session')))),
    h('section', { class: 'card prod-card' },
      h('h2', { class: 'prod-card-title' }, icon('chart'), t('prod.live_counts')),
      h('div', { class: 'prod-counts', id: 'counts' })),
    h('section', { class: 'card prod-card' },
      h('h2', { class: 'prod-card-title' }, icon('link'), t('prod.links')),
      ui.newKey && ui.newKey.code === s.code ? h('p', { class: 'prod-key-new' }, t('prod.key_shown_once')) : null,
      linkRow(t('prod.link_viewer'), `${origin}/s/${s.code}`),
      modKey ? linkRow(t('prod.link_moderator'), `${origin}/m/${s.code}#key=${encodeURIComponent(modKey)}`, { extra: rotate }) :
        h('div', { class: 'prod-link-row' }, h('span', { class: 'prod-link-label' }, t('prod.link_moderator')),
          h('span', { class: 'field-hint' }, t('prod.key_unknown')), h('span', { class: 'prod-link-actions' }, rotate)),
      linkRow(t('prod.link_overlay'), `${origin}/overlay/${s.code}`),
      h('p', { class: 'field-hint' }, t('prod.overlay_hint')),
      linkRow(t('prod.link_board'), `${origin}/p/${s.program_id}`),
      h('p', { class: 'field-hint' }, t('prod.board_hint'))),
    qrCard(s),
    h('div', { class: 'prod-grid' },
      h('section', { class: 'card prod-card' },
        h('h2', { class: 'prod-card-title' }, icon('user'), t('prod.panelists')),
        (s.panelists || []).length ? h('div', { class: 'prod-panelists' }, s.panelists.map((p) => h('div', { class: 'prod-panelist' },
          h('span', { class: 'v-avatar' }, [...p.name][0]), h('span', {}, h('b', {}, p.name), ' ', h('span', { class: 'muted' }, [p.affiliation, p.role].filter(Boolean).join(' · ')))))) :
          h('p', { class: 'field-hint' }, t('prod.none')),
        h('h2', { class: 'prod-card-title' }, icon('queue'), t('prod.segments')),
        (s.segments || []).length ? h('ol', { class: 'prod-agenda' }, s.segments.map((x) => h('li', {}, x.title))) : h('p', { class: 'field-hint' }, t('prod.none'))),
      h('section', { class: 'card prod-card' },
        h('h2', { class: 'prod-card-title' }, icon('key'), t('prod.settings')),
        h('div', { class: 'prod-settings' },
          h('span', { class: `chip ${s.premoderation ? 'chip-pending' : ''}` }, s.premoderation ? t('prod.premod_on') : t('prod.premod_off')),
          h('span', { class: 'chip' }, s.anonymous_allowed === false ? t('prod.anon_off') : t('prod.anon_on')),
          streamSummary(s)),
        h('p', { class: 'field-hint' }, (s.blocked_words || []).length ? t('prod.blocked_n', { n: s.blocked_words.length, words: s.blocked_words.slice(0, 8).join('、') }) : t('prod.blocked_none')),
        h('h2', { class: 'prod-card-title' }, icon('download'), t('prod.exports')),
        h('div', { class: 'prod-downloads' },
          downloadButton(s, 'transcript.md', t('prod.export_md')),
          downloadButton(s, 'transcript.md?lang=en', t('prod.export_md_en')),
          downloadButton(s, 'questions.csv', t('prod.export_csv')),
          downloadButton(s, 'transcript.json', t('prod.export_json')),
          h('a', { class: 'btn btn-secondary btn-sm', href: `/report/${encodeURIComponent(s.code)}`, target: '_blank', rel: 'noopener', dataset: { report: s.code } }, icon('chart'), t('prod.report'))),
        h('p', { class: 'field-hint' }, t('prod.exports_hint')))),
    renderActionsCard(s),
    importCard(importCtx, s),
    h('div', { class: 'prod-grid' }, renderCarryCard(s), renderEraseCard(s)),
  ];
}

// ---- action items --------------------------------------------------------------------------
function renderActionsCard(s) {
  const closed = s.status === 'archived';
  return h('section', { class: 'card prod-card', id: 'actions-card' },
    h('div', { class: 'prod-card-head' },
      h('h2', { class: 'prod-card-title' }, icon('check'), t('act.title')),
      h('span', { class: 'topbar-spacer' }),
      h('button', { type: 'button', class: 'btn btn-secondary btn-sm', id: 'action-new', disabled: closed, onclick: () => newAction() }, icon('plus'), t('act.new'))),
    h('p', { class: 'field-hint' }, closed ? t('act.archived_hint') : t('act.hint')),
    h('div', { class: 'act-list', id: 'actions-list' }),
    h('h3', { class: 'prod-sub-title' }, t('act.open_earlier')),
    h('div', { class: 'act-list', id: 'open-actions-list' }));
}

function renderActions() {
  const list = document.getElementById('actions-list');
  const earlier = document.getElementById('open-actions-list');
  if (!list || !earlier) return;
  const s = studio.sessions.get(ui.code);
  const readOnly = !s || s.status === 'archived';
  if (!sessionStore || !sessionStore.loaded) {
    mount(list, h('p', { class: 'field-hint' }, t('act.loading')));
    mount(earlier);
    return;
  }
  const byDue = (a, b) => (a.status === 'done') - (b.status === 'done') || String(a.due || '9999').localeCompare(String(b.due || '9999')) || a.id - b.id;
  const row = (a, isEarlier) => actionRow(a, {
    question: isEarlier ? null : sessionStore.questions.get(a.question_id),
    earlier: isEarlier,
    readOnly,
    panelists: isEarlier ? null : s.panelists,
    onStatus: (status) => sessionSend('action.update', { action_id: a.id, status }, t('act.updated')),
    onEdit: (preset) => editAction(a, isEarlier, preset),
    onCopyOverlay: () => copyOverlayLink(s, a),
  });
  const own = [...sessionStore.actions.values()].sort(byDue);
  const old = [...sessionStore.openActions.values()].sort(byDue);
  mount(list, own.length ? own.map((a) => row(a, false)) : h('p', { class: 'empty act-empty' }, t('act.none')));
  mount(earlier, old.length ? old.map((a) => row(a, true)) : h('p', { class: 'empty act-empty' }, t('act.none_earlier')));
}

function linkableQuestions() {
  return sessionStore ? sessionStore.list((x) => ['published', 'on_air', 'answered'].includes(x.state)).sort((a, b) => a.id - b.id) : [];
}

async function newAction() {
  const s = studio.sessions.get(ui.code);
  const result = await actionDialog({ questions: linkableQuestions(), panelists: s && s.panelists, canPublish: true });
  if (!result) return;
  await sessionSend('action.create', actionFields(result), t('act.created'));
}

async function editAction(a, isEarlier, preset = {}) {
  const s = studio.sessions.get(ui.code);
  const result = await actionDialog({
    action: a, preset, questions: isEarlier ? null : linkableQuestions(), panelists: isEarlier ? null : s && s.panelists, canPublish: true,
  });
  if (!result) return;
  const changes = actionChanges(a, result);
  if (Object.keys(changes).length) await sessionSend('action.update', { action_id: a.id, ...changes }, t('act.updated'));
}

/** Copies the overlay address that shows commitment a on air, for this session's OBS. */
async function copyOverlayLink(s, a) {
  const url = `${location.origin}/overlay/${encodeURIComponent(s.code)}?show=commitment&id=${a.id}`;
  toast(await copyText(url) ? t('act.overlay_copied') : url, 'ok', 4000);
}

// ---- carry-over ----------------------------------------------------------------------------
function sessionDay(s) {
  const ms = s.started_at || s.scheduled_at;
  return ms ? isoDate(ms) : '';
}

function isoDate(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function renderCarryCard(s) {
  const canReceive = ['draft', 'open', 'live'].includes(s.status);
  const when = (x) => x.started_at || x.scheduled_at || 0;
  // Questions are carried forward only: from earlier sessions (by date when both have one).
  const sources = sessionsOf(s.program_id).filter((x) => x.code !== s.code && (!when(x) || !when(s) || when(x) <= when(s)));
  // The most recent earlier session first: the usual source.
  sources.sort((a, b) => {
    const ea = when(a) <= when(s);
    const eb = when(b) <= when(s);
    return ea !== eb ? (ea ? -1 : 1) : when(b) - when(a);
  });
  const chosen = ui.carryPick && ui.carryPick.to === s.code && sources.some((x) => x.code === ui.carryPick.from)
    ? ui.carryPick.from : sources[0] && sources[0].code;
  const pick = h('select', {
    class: 'select', id: 'carry-from', disabled: !canReceive || !sources.length,
    onchange: () => loadCarryCandidates(s, pick.value),
  }, sources.map((x) => h('option', { value: x.code }, `${x.title} · ${sessionDay(x) || t('prod.unscheduled')} · ${t(`status.${x.status}`)}`)));
  if (chosen) pick.value = chosen;
  if (canReceive && chosen && (!ui.carryPick || ui.carryPick.to !== s.code || ui.carryPick.from !== chosen)) {
    queueMicrotask(() => loadCarryCandidates(s, chosen));
  }
  const cp = ui.carryPick && ui.carryPick.to === s.code && ui.carryPick.from === chosen ? ui.carryPick : null;
  const carried = carriedFrom(chosen);
  const open = cp ? cp.candidates.filter((x) => !carried.has(x.id)) : [];
  const n = open.filter((x) => cp.picked.has(x.id)).length;
  const result = ui.carry && ui.carry.code === s.code ? ui.carry.ack : null;
  return h('section', { class: 'card prod-card', id: 'carry-card' },
    h('h2', { class: 'prod-card-title' }, icon('carried'), t('carry.title')),
    h('p', { class: 'field-hint' }, canReceive ? t('carry.hint') : t('carry.closed')),
    sources.length ? [
      h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('carry.from')), pick),
      canReceive ? renderCarryPicker(cp, carried, open) : null,
      h('div', { class: 'form-actions form-actions-start' },
        h('button', { type: 'button', class: 'btn btn-primary', id: 'carry-go', disabled: !canReceive || !n, onclick: () => carryOver(s, chosen) },
          icon('carried'), cp && !cp.loading ? t('carry.go_n', { n }) : t('carry.go'))),
    ] : h('p', { class: 'empty act-empty' }, t('carry.no_sources')),
    result ? carryResult(result) : null);
}

/** Draws the carry-over card again (its picker depends on this session's questions). */
function refreshCarryCard() {
  const el = document.getElementById('carry-card');
  const s = studio.sessions.get(ui.code);
  if (el && s && ui.view === 'session') el.replaceWith(renderCarryCard(s));
}

/** Ids of the questions of session from already carried into the shown session. */
function carriedFrom(from) {
  const ids = new Set();
  if (sessionStore) for (const x of sessionStore.questions.values()) if (x.carried_from === from) ids.add(x.carried_question_id);
  return ids;
}

/** The unanswered public questions of from, each with a tick (all ticked at first); the ones
 *  carried before are shown, marked, without one. */
function renderCarryPicker(cp, carried, open) {
  if (!cp || cp.loading) return h('p', { class: 'field-hint' }, t('carry.loading'));
  if (cp.error) return h('p', { class: 'c-login-error' }, cp.error);
  if (!cp.candidates.length) return h('p', { class: 'field-hint' }, t('carry.none_open'));
  const all = open.length > 0 && open.every((x) => cp.picked.has(x.id));
  const toggleAll = () => {
    for (const x of open) { if (all) cp.picked.delete(x.id); else cp.picked.add(x.id); }
    render();
  };
  return h('div', { class: 'carry-pick', id: 'carry-pick' },
    h('div', { class: 'carry-pick-head' },
      h('span', { class: 'field-label' }, t('carry.pick', { n: open.length })),
      h('span', { class: 'topbar-spacer' }),
      open.length ? h('button', { type: 'button', class: 'btn btn-ghost btn-sm', id: 'carry-all', onclick: toggleAll }, all ? t('carry.pick_none') : t('carry.pick_all')) : null),
    h('ul', { class: 'carry-list' }, cp.candidates.map((x) => {
      const done = carried.has(x.id);
      const box = h('input', {
        type: 'checkbox', checked: !done && cp.picked.has(x.id), disabled: done,
        onchange: () => { if (box.checked) cp.picked.add(x.id); else cp.picked.delete(x.id); render(); },
      });
      const source = x.source === 'carried' ? x.carried_source : x.source;
      return h('li', { class: `carry-item${done ? ' is-done' : ''}`, dataset: { qid: x.id } },
        h('label', { class: 'carry-label' }, box,
          h('span', { class: 'carry-text' }, x.text),
          h('span', { class: 'carry-meta' },
            h('span', { class: `chip chip-${x.category || 'question'}` }, t(`kind.${x.category || 'question'}`)),
            source && source !== 'web' ? h('span', { class: 'chip chip-origin' }, icon(source), t(`source.${source}`)) : null,
            h('span', { class: 'muted num' }, t('viewer.votes_n', { n: x.votes || 0 })),
            done ? h('span', { class: 'chip' }, t('carry.done_before')) : null)));
    })));
}

/** Reads the unanswered public questions (published, on air) of session from, page by page. */
async function loadCarryCandidates(s, from) {
  const cp = { to: s.code, from, loading: true, error: '', candidates: [], picked: new Set() };
  ui.carryPick = cp;
  render();
  try {
    for (const state of ['on_air', 'published']) {
      let before;
      for (;;) {
        const page = await client.request('questions.list', { session: from, state, limit: 500, ...(before ? { before } : {}) });
        cp.candidates.push(...(page.questions || []));
        if (!page.more || !page.next_before) break;
        before = page.next_before;
      }
    }
    cp.candidates.sort((a, b) => a.id - b.id);
    for (const x of cp.candidates) cp.picked.add(x.id);
  } catch (err) {
    cp.error = errorText(err);
  }
  cp.loading = false;
  if (ui.carryPick === cp) render();
}

function carryResult(ack) {
  const added = ack.questions || [];
  const already = Array.isArray(ack.already_carried) ? ack.already_carried.length : Number(ack.already_carried) || 0;
  const from = studio.sessions.get(ack.from);
  return h('div', { class: 'prod-result', id: 'carry-result', role: 'status' },
    h('p', { class: 'prod-result-title' }, added.length ? t('carry.done', { n: added.length, from: from ? from.title : ack.from }) : t('carry.nothing')),
    added.length ? h('ul', { class: 'prod-result-list' }, added.map((x) => h('li', {}, x.text))) : null,
    already ? h('p', { class: 'field-hint' }, t('carry.already', { n: already })) : null);
}

async function carryOver(s, from) {
  if (!from) return;
  const cp = ui.carryPick && ui.carryPick.to === s.code && ui.carryPick.from === from ? ui.carryPick : null;
  const carried = carriedFrom(from);
  const ids = cp ? cp.candidates.filter((x) => cp.picked.has(x.id) && !carried.has(x.id)).map((x) => x.id) : [];
  if (cp && !ids.length) return;
  // Everything ticked: no list (a session's worth of ids could outgrow a message).
  const every = !cp || cp.candidates.every((x) => carried.has(x.id) || cp.picked.has(x.id));
  const ack = await send('session.carry_over', every ? { from, to: s.code } : { from, to: s.code, question_ids: ids });
  if (!ack) return;
  for (const x of ack.questions || []) if (sessionStore) sessionStore.upsertFromAck(x);
  ui.carry = { code: s.code, ack };
  toast(t('carry.toast', { n: (ack.questions || []).length }), 'ok');
  render();
}

// ---- erasing a viewer's data ---------------------------------------------------------------
function renderEraseCard(s) {
  const input = h('input', { class: 'input num', id: 'erase-id', maxlength: 17, spellcheck: false, autocomplete: 'off', placeholder: 'v0123456789abcdef' });
  const error = h('p', { class: 'c-login-error', role: 'alert' });
  const result = ui.erase && ui.erase.code === s.code ? ui.erase.ack : null;
  return h('section', { class: 'card prod-card', id: 'erase-card' },
    h('h2', { class: 'prod-card-title' }, icon('user'), t('erase.title')),
    h('p', { class: 'field-hint' }, t('erase.hint')),
    h('form', { class: 'prod-inline-form', onsubmit: (e) => { e.preventDefault(); eraseViewer(s, input, error); } },
      h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('erase.label')), input),
      h('button', { type: 'submit', class: 'btn btn-danger', id: 'erase-go' }, t('erase.go'))),
    error,
    result ? h('div', { class: 'prod-result', id: 'erase-result', role: 'status' },
      h('p', { class: 'prod-result-title' }, t('erase.done', { n: (result.question_ids || []).length })),
      h('p', { class: 'field-hint' }, t('erase.placeholder', { id: result.placeholder })),
      (result.other_sessions || []).length ? h('p', { class: 'field-hint' }, t('erase.others', { codes: result.other_sessions.join('、') })) : null) : null);
}

async function eraseViewer(s, input, error) {
  const id = input.value.trim().toLowerCase();
  error.textContent = '';
  if (!VIEWER_ID_RE.test(id)) { error.textContent = t('erase.bad_id'); input.focus(); return; }
  const ok = await openDialog((close) => h('form', { class: 'dialog-body', onsubmit: (e) => { e.preventDefault(); close(true); } },
    h('h2', { class: 'dialog-title' }, t('erase.confirm_title')),
    h('p', { class: 'dialog-text' }, t('erase.confirm_body', { id, session: s.title })),
    h('ul', { class: 'dialog-list' },
      h('li', {}, h('b', {}, t('erase.removed_label')), t('erase.removed')),
      h('li', {}, h('b', {}, t('erase.kept_label')), t('erase.kept')),
      h('li', {}, h('b', {}, t('erase.not_label')), t('erase.not'))),
    h('div', { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => close(false) }, t('common.cancel')),
      h('button', { type: 'submit', class: 'btn btn-danger' }, t('erase.confirm_ok')))));
  if (!ok) return;
  const ack = await send('viewer.erase', { session: s.code, viewer_id: id });
  if (!ack) return;
  ui.erase = { code: s.code, ack };
  toast(t('erase.toast'), 'ok');
  render();
}

// ---- archive search ------------------------------------------------------------------------
const QUESTION_STATES = ['pending', 'published', 'on_air', 'answered', 'dismissed', 'withdrawn'];

function renderSearch() {
  const st = ui.search;
  const q = h('input', { class: 'input', type: 'search', id: 'search-q', maxlength: 200, value: st.q, placeholder: t('search.placeholder'), autocomplete: 'off' });
  const program = h('select', { class: 'select', id: 'search-program' }, h('option', { value: '' }, t('search.all_programs')),
    [...studio.programs.values()].sort((a, b) => a.id - b.id).map((p) => h('option', { value: String(p.id) }, p.title)));
  program.value = st.program_id;
  const from = h('input', { class: 'input', type: 'date', id: 'search-from', value: st.from });
  const to = h('input', { class: 'input', type: 'date', id: 'search-to', value: st.to });
  const category = h('select', { class: 'select', id: 'search-category' }, h('option', { value: '' }, t('search.all_kinds')),
    ['question', 'need', 'suggestion'].map((k) => h('option', { value: k }, t(`kind.${k}`))));
  category.value = st.category;
  const state = h('select', { class: 'select', id: 'search-state' }, h('option', { value: '' }, t('search.all_states')),
    h('optgroup', { label: t('search.question_states') }, QUESTION_STATES.map((k) => h('option', { value: k }, t(`state.${k}`)))),
    h('optgroup', { label: t('search.action_states') }, ['open', 'in_progress', 'done'].map((k) => h('option', { value: k }, t(`act.status_${k}`)))));
  state.value = st.state;
  return h('div', { class: 'prod-search', dataset: { view: 'search' } },
    h('header', { class: 'prod-head' }, h('div', { class: 'prod-head-text' },
      h('h1', { class: 'prod-title' }, t('search.title')), h('p', { class: 'prod-topic' }, t('search.subtitle')))),
    h('form', { class: 'card prod-card search-form', id: 'search-form', onsubmit: (e) => {
      e.preventDefault();
      Object.assign(st, { q: q.value.trim(), program_id: program.value, from: from.value, to: to.value, category: category.value, state: state.value });
      runSearch();
    } },
    h('div', { class: 'search-bar' },
      h('label', { class: 'search-q' }, h('span', { class: 'sr-only' }, t('search.q_label')), icon('search'), q),
      h('button', { type: 'submit', class: 'btn btn-primary', id: 'search-go' }, t('search.go'))),
    h('div', { class: 'search-filters' },
      h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('search.program')), program),
      h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('search.from')), from),
      h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('search.to')), to),
      h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('search.kind')), category),
      h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('search.state')), state)),
    h('p', { class: 'field-hint' }, t('search.hint'))),
    h('section', { class: 'search-results', id: 'search-results', 'aria-live': 'polite' }, searchResultsContent()));
}

function renderSearchResults() {
  const el = document.getElementById('search-results');
  if (el) mount(el, searchResultsContent());
}

async function runSearch() {
  const st = ui.search;
  if (!st.q) { st.error = t('search.empty_q'); st.results = null; renderSearchResults(); return; }
  const fields = { q: st.q, limit: 50 };
  if (st.program_id) fields.program_id = Number(st.program_id);
  if (st.from) fields.from = st.from;
  if (st.to) fields.to = st.to;
  if (st.category) fields.category = st.category;
  if (st.state) fields.state = st.state;
  st.busy = true;
  st.error = '';
  renderSearchResults();
  try {
    const ack = await client.request('search', fields);
    st.results = ack.results || [];
    st.searched = st.q;
  } catch (err) {
    st.results = null;
    st.error = errorText(err);
  }
  st.busy = false;
  renderSearchResults();
}

function searchResultsContent() {
  const st = ui.search;
  if (st.busy) return h('p', { class: 'field-hint' }, t('search.busy'));
  if (st.error) return h('p', { class: 'prod-error', role: 'alert' }, st.error);
  if (!st.results) return h('div', { class: 'prod-empty prod-empty-sm' }, h('span', { class: 'join-emblem' }, icon('search')), h('p', {}, t('search.intro')));
  if (!st.results.length) return h('p', { class: 'empty search-none' }, t('search.none', { q: st.searched }));
  const terms = (st.searched || '').split(/\s+/).filter(Boolean);
  return [
    h('p', { class: 'search-summary' }, t('search.count', { n: st.results.length, q: st.searched })),
    st.results.map((r) => searchResult(r, terms)),
  ];
}

function searchResult(r, terms) {
  const isAction = r.kind === 'action';
  const stateKey = isAction ? `act.status_${r.state}` : `state.${r.state}`;
  return h('article', { class: 'card search-result', dataset: { kind: r.kind, session: r.session } },
    h('div', { class: 'sr-top' },
      h('span', { class: `chip sr-kind sr-kind-${r.kind}` }, t(`search.kind_${r.kind}`)),
      r.state ? h('span', { class: `chip chip-${isAction ? r.state : r.state}` }, t(stateKey)) : null,
      r.category ? h('span', { class: `chip chip-${r.category}` }, t(`kind.${r.category}`)) : null,
      h('span', { class: 'topbar-spacer' }),
      !isAction ? h('span', { class: 'm-votes num' }, icon('thumb'), String(r.votes || 0)) : null),
    h('p', { class: 'sr-text' }, highlight(snippet(r.text || '', terms), terms)),
    r.kind !== 'question' && r.question_text ? h('p', { class: 'sr-question' }, h('span', { class: 'sr-label' }, t('search.question_label')), highlight(snippet(r.question_text, terms, 80), terms)) : null,
    isAction ? h('p', { class: 'sr-meta' }, `${t('act.owner_label')}：${r.owner || t('act.owner_none')} · ${r.due ? t('act.due_on', { due: r.due }) : t('act.due_none')}`) : null,
    h('div', { class: 'sr-foot' },
      h('span', { class: 'sr-session' }, [r.program, r.session_title].filter(Boolean).join(' · ')),
      h('span', { class: 'num' }, r.session_date ? (typeof r.session_date === 'number' ? isoDate(r.session_date) : String(r.session_date)) : ''),
      r.kind !== 'action' ? h('span', {}, r.author || t('common.anonymous')) : null,
      h('span', { class: 'topbar-spacer' }),
      studio.sessions.has(r.session) ? h('button', { type: 'button', class: 'btn btn-ghost btn-sm', onclick: () => go('session', { code: r.session }) }, t('search.open_session'), ' ', h('span', { class: 'num' }, r.session)) :
        h('span', { class: 'num muted' }, r.session)));
}

/** A window of text around the first match (whole text when short). */
function snippet(text, terms, width = 140) {
  const cps = [...text];
  if (cps.length <= width) return text;
  const lower = text.toLowerCase();
  let first = -1;
  for (const term of terms) {
    const at = lower.indexOf(term.toLowerCase());
    if (at >= 0 && (first < 0 || at < first)) first = at;
  }
  const firstCp = first < 0 ? 0 : [...text.slice(0, first)].length;
  const start = Math.max(0, Math.min(firstCp - Math.floor(width / 3), cps.length - width));
  return `${start > 0 ? '…' : ''}${cps.slice(start, start + width).join('')}${start + width < cps.length ? '…' : ''}`;
}

/** Text with every occurrence of the terms (case-insensitive) in <mark>; text nodes only. */
function highlight(text, terms) {
  const lower = text.toLowerCase();
  const marks = [];
  for (const term of terms) {
    const needle = term.toLowerCase();
    if (!needle) continue;
    for (let at = lower.indexOf(needle); at >= 0; at = lower.indexOf(needle, at + needle.length)) marks.push([at, at + needle.length]);
  }
  marks.sort((a, b) => a[0] - b[0]);
  const out = [];
  let pos = 0;
  for (const [a, b] of marks) {
    if (b <= pos) continue;
    const from = Math.max(a, pos);
    if (from > pos) out.push(text.slice(pos, from));
    out.push(h('mark', {}, text.slice(from, b)));
    pos = b;
  }
  if (pos < text.length) out.push(text.slice(pos));
  return out;
}

// ---- backup --------------------------------------------------------------------------------
function sizeText(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} B`;
}

function renderBackup() {
  const name = h('input', { class: 'input num', id: 'backup-name', maxlength: 100, spellcheck: false, placeholder: t('backup.name_placeholder') });
  return h('div', { class: 'prod-backup', dataset: { view: 'backup' } },
    h('header', { class: 'prod-head' }, h('div', { class: 'prod-head-text' },
      h('h1', { class: 'prod-title' }, t('backup.title')), h('p', { class: 'prod-topic' }, t('backup.subtitle')))),
    h('form', { class: 'card prod-card', id: 'backup-form', onsubmit: async (e) => {
      e.preventDefault();
      const path = name.value.trim();
      if (path && !/^[A-Za-z0-9._-]+$/.test(path)) { toast(t('backup.bad_name'), 'error', 5000); return; }
      ui.backupBusy = true;
      render();
      const ack = await send('backup', path ? { path } : {});
      ui.backupBusy = false;
      if (ack) { ui.backups.unshift(ack); toast(t('backup.toast'), 'ok'); }
      render();
    } },
    h('h2', { class: 'prod-card-title' }, icon('download'), t('backup.now_title')),
    h('p', { class: 'field-hint' }, t('backup.hint')),
    h('div', { class: 'prod-inline-form' },
      h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('backup.name_label')), name),
      h('button', { type: 'submit', class: 'btn btn-primary', id: 'backup-go', disabled: ui.backupBusy }, ui.backupBusy ? t('backup.busy') : t('backup.go')))),
    ui.backups.length ? h('section', { class: 'card prod-card', id: 'backup-results' },
      h('h2', { class: 'prod-card-title' }, icon('check'), t('backup.done_title')),
      ui.backups.map((b) => h('div', { class: 'prod-result backup-result', role: 'status' },
        h('p', { class: 'prod-result-title' }, t('backup.done')),
        h('p', { class: 'prod-link num' }, b.path),
        h('p', { class: 'field-hint' }, t('backup.stats', { size: sizeText(b.bytes || 0), events: b.events ?? 0, ms: b.elapsed_ms ?? 0 }))))) : null,
    h('section', { class: 'card prod-card' },
      h('h2', { class: 'prod-card-title' }, icon('key'), t('backup.restore_title')),
      h('p', { class: 'field-hint' }, t('backup.restore')),
      h('p', { class: 'field-hint' }, t('backup.erase_note'))));
}

function renderCounts() {
  const el = document.getElementById('counts');
  if (!el) return;
  const counts = { pending: 0, published: 0, on_air: 0, answered: 0, dismissed: 0, withdrawn: 0 };
  let total = 0;
  if (sessionStore && sessionStore.loaded) {
    for (const x of sessionStore.questions.values()) { counts[x.state] = (counts[x.state] || 0) + 1; total += 1; }
  }
  const cell = (n, label, accent = false) => h('div', { class: `prod-count${accent ? ' is-accent' : ''}` }, h('b', {}, n == null ? '–' : String(n)), h('span', {}, label));
  const loaded = sessionStore && sessionStore.loaded;
  mount(el,
    cell(loaded ? sessionStore.viewers : null, t('prod.count_viewers'), true),
    cell(loaded ? sessionStore.actions.size : null, t('prod.count_actions')),
    cell(loaded ? total : null, t('prod.count_total')),
    cell(loaded ? counts.pending : null, t('state.pending')),
    cell(loaded ? counts.published + counts.on_air : null, t('state.published')),
    cell(loaded ? counts.answered : null, t('state.answered')),
    cell(loaded ? counts.dismissed : null, t('my_state.dismissed')),
    cell(loaded ? counts.withdrawn : null, t('state.withdrawn')),
    cell(loaded ? [...sessionStore.polls.values()].length : null, t('prod.count_polls')));
}

async function rotateKey(s) {
  const hadKey = Boolean(storageGet(`forum.modkey.${s.code}`));
  if (hadKey && !(await confirmDialog(t('prod.rotate_title'), t('prod.rotate_body'), t('prod.rotate_key'), { danger: true }))) return;
  const ack = await send('session.rotate_key', { session: s.code }, t('prod.key_rotated'));
  if (ack && ack.moderator_key) {
    storageSet(`forum.modkey.${s.code}`, ack.moderator_key);
    ui.newKey = { code: s.code };
    render();
  }
}

function downloadButton(s, file, label) {
  return h('button', { type: 'button', class: 'btn btn-secondary btn-sm', dataset: { export: file }, onclick: () => download(s, file) }, icon('download'), label);
}

/** A file name people recognise: title, date, code and what it is, without characters that
 *  file systems refuse. */
export function exportFileName(s, file) {
  const kinds = {
    'transcript.md': `${t('prod.file_minutes')}.md`,
    'transcript.md?lang=en': 'minutes-en.md',
    'questions.csv': `${t('prod.file_questions')}.csv`,
    'transcript.json': 'transcript.json',
  };
  const title = [...String(s.title || '').replace(/[\\/:*?"<>|\u0000-\u001f]+/g, ' ').replace(/\s+/g, ' ').trim()].slice(0, 40).join('').replace(/ /g, '_');
  return [title, sessionDay(s), s.code, kinds[file] || file].filter(Boolean).join('-');
}

async function download(s, file) {
  let res;
  try {
    res = await fetch(`/api/sessions/${encodeURIComponent(s.code)}/${file}`, { headers: { Authorization: `Bearer ${key}` }, cache: 'no-store' });
  } catch (_) {
    toast(t('prod.export_offline'), 'error', 5000);
    return;
  }
  if (res.status === 404) { toast(t('prod.export_missing'), 'error', 5000); return; }
  if (res.status === 401 || res.status === 403) { toast(t('prod.export_unauthorized'), 'error', 5000); return; }
  if (!res.ok) { toast(t('prod.export_failed', { status: res.status }), 'error', 5000); return; }
  let blob;
  try { blob = await res.blob(); } catch (_) { toast(t('prod.export_offline'), 'error', 5000); return; }
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: exportFileName(s, file) });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  toast(t('prod.export_done'), 'ok', 2000);
}

// ---- forms ---------------------------------------------------------------------------------
function renderProgramForm(p) {
  const title = h('input', { class: 'input', maxlength: 200, required: true, value: p ? p.title : '', placeholder: t('prod.program_title_placeholder') });
  const desc = h('textarea', { class: 'textarea', rows: 3, placeholder: t('prod.program_desc_placeholder') });
  desc.value = p ? p.description || '' : '';
  const listed = h('input', { type: 'checkbox', name: 'program-listed', checked: !p || p.listed !== false });
  return h('form', { class: 'card form-card', dataset: { form: 'program' }, onsubmit: async (e) => {
    e.preventDefault();
    if (!title.value.trim()) { toast(t('prod.title_required'), 'error'); return; }
    const fields = { title: title.value.trim(), description: desc.value.trim(), listed: listed.checked };
    const ack = p ? await send('program.update', { program_id: p.id, ...fields }, t('prod.saved')) : await send('program.create', fields, t('prod.program_created'));
    if (ack) go(p ? 'home' : 'new-session', { programId: ack.program ? ack.program.id : p.id });
  } },
  h('h1', { class: 'form-title' }, p ? t('prod.edit_program') : t('prod.new_program')),
  h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('prod.program_title')), title),
  h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('prod.program_desc')), desc),
  h('label', { class: 'check' }, listed, h('span', {}, t('prod.program_listed'))),
  h('p', { class: 'field-hint' }, t('prod.program_listed_hint')),
  h('div', { class: 'form-actions' },
    h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => go('home') }, t('common.cancel')),
    h('button', { type: 'submit', class: 'btn btn-primary' }, p ? t('common.save') : t('prod.create_program'))));
}

function toLocalInput(ms) {
  if (!ms) return '';
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

function panelistRow(p = {}) {
  const row = h('div', { class: 'row-edit row-panelist' },
    h('input', { class: 'input input-sm', maxlength: 40, value: p.name || '', placeholder: t('prod.panelist_name'), dataset: { f: 'name' } }),
    h('input', { class: 'input input-sm', maxlength: 200, value: p.affiliation || '', placeholder: t('prod.panelist_affiliation'), dataset: { f: 'affiliation' } }),
    h('input', { class: 'input input-sm', maxlength: 200, value: p.role || '', placeholder: t('prod.panelist_role'), dataset: { f: 'role' } }),
    h('button', { type: 'button', class: 'btn btn-ghost btn-icon', 'aria-label': t('prod.remove'), onclick: () => row.remove() }, icon('x')));
  return row;
}

function segmentRow(title = '') {
  const row = h('div', { class: 'row-edit row-segment' },
    h('span', { class: 'row-num', 'aria-hidden': 'true' }),
    h('input', { class: 'input input-sm', maxlength: 200, value: title, placeholder: t('prod.segment_placeholder'), dataset: { f: 'title' } }),
    h('button', { type: 'button', class: 'btn btn-ghost btn-icon', 'aria-label': t('prod.remove'), onclick: () => row.remove() }, icon('x')));
  return row;
}

function renderSessionForm(s, programId) {
  const program = studio.programs.get(programId);
  const title = h('input', { class: 'input', maxlength: 200, value: s ? s.title : '', placeholder: t('prod.session_title_placeholder'), name: 'title' });
  const topic = h('input', { class: 'input', maxlength: 200, value: s ? s.topic || '' : '', placeholder: t('prod.session_topic_placeholder'), name: 'topic' });
  const when = h('input', { class: 'input', type: 'datetime-local', value: s ? toLocalInput(s.scheduled_at) : '', name: 'scheduled_at' });
  const premod = h('input', { type: 'checkbox', checked: s ? Boolean(s.premoderation) : true, name: 'premoderation' });
  const anon = h('input', { type: 'checkbox', checked: s ? s.anonymous_allowed !== false : true, name: 'anonymous_allowed' });
  const blocked = h('textarea', { class: 'textarea textarea-sm', rows: 2, placeholder: t('prod.blocked_placeholder'), name: 'blocked_words' });
  blocked.value = s ? (s.blocked_words || []).join('\n') : '';
  const panelists = h('div', { class: 'rows', id: 'panelist-rows' }, (s && s.panelists && s.panelists.length ? s.panelists : [{}, {}]).map((p) => panelistRow(p)));
  const segments = h('div', { class: 'rows', id: 'segment-rows' }, (s && s.segments && s.segments.length ? s.segments.map((x) => x.title) : ['']).map((x) => segmentRow(x)));
  const stream = streamFields(s);
  return h('form', { class: 'card form-card', dataset: { form: 'session' }, onsubmit: async (e) => {
    e.preventDefault();
    if (!title.value.trim()) { toast(t('prod.title_required'), 'error'); title.focus(); return; }
    const streamSetting = stream.read();
    if (streamSetting === undefined) return;
    const fields = {
      title: title.value.trim(),
      topic: topic.value.trim(),
      scheduled_at: when.value ? new Date(when.value).getTime() : null,
      premoderation: premod.checked,
      anonymous_allowed: anon.checked,
      blocked_words: blocked.value.split(/[\n,，、；;]+/).map((w) => w.trim()).filter(Boolean),
      panelists: $$('.row-panelist', panelists).map((row) => {
        const get = (f) => row.querySelector(`[data-f="${f}"]`).value.trim();
        const p = { name: get('name') };
        if (get('affiliation')) p.affiliation = get('affiliation');
        if (get('role')) p.role = get('role');
        return p;
      }).filter((p) => p.name),
      segments: $$('.row-segment input', segments).map((i) => i.value.trim()).filter(Boolean),
      stream: streamSetting,
    };
    if (s) {
      const ack = await send('session.update', { session: s.code, ...fields }, t('prod.saved'));
      if (ack) go('session', { code: s.code });
    } else {
      const ack = await send('session.create', { program_id: programId, ...fields }, t('prod.session_created'));
      if (ack && ack.session) {
        if (ack.moderator_key) storageSet(`forum.modkey.${ack.session.code}`, ack.moderator_key);
        go('session', { code: ack.session.code });
        ui.newKey = { code: ack.session.code };
        render();
      }
    }
  } },
  h('h1', { class: 'form-title' }, s ? t('prod.edit_session') : t('prod.new_session_in', { program: program ? program.title : '' })),
  h('div', { class: 'form-grid' },
    h('label', { class: 'field span-2' }, h('span', { class: 'field-label' }, t('prod.session_title')), title),
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('prod.session_topic')), topic),
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('prod.session_when')), when)),
  h('section', { class: 'form-section' },
    h('div', { class: 'form-section-head' }, h('span', { class: 'field-label' }, t('prod.panelists_edit')),
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm', onclick: () => panelists.append(panelistRow()) }, icon('plus'), t('prod.add_panelist'))),
    panelists),
  h('section', { class: 'form-section' },
    h('div', { class: 'form-section-head' }, h('span', { class: 'field-label' }, t('prod.segments_edit')),
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm', onclick: () => segments.append(segmentRow()) }, icon('plus'), t('prod.add_segment'))),
    segments),
  h('section', { class: 'form-section' },
    h('span', { class: 'field-label' }, t('prod.settings')),
    h('div', { class: 'switch-row' },
      h('label', { class: 'check' }, premod, h('span', {}, t('prod.premod_label'))),
      h('label', { class: 'check' }, anon, h('span', {}, t('prod.anon_label')))),
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('prod.blocked_label')), blocked, h('span', { class: 'field-hint' }, t('prod.blocked_hint')))),
  stream.section,
  h('div', { class: 'form-actions' },
    h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => (s ? go('session', { code: s.code }) : go('home')) }, t('common.cancel')),
    h('button', { type: 'submit', class: 'btn btn-primary' }, s ? t('common.save') : t('prod.create_session'))));
}

onLangChange(() => { renderConn(); const v = $('#view'); v.dataset.formFor = ''; render(); });

if (key) start();
else showLogin('');
