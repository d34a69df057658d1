// producer.js — the producer console /producer: programmes and sessions (create, edit,
// open / go live / end / archive), moderator links and keys, live counts of the selected
// session, and export downloads. The producer key is typed once and kept in localStorage.
import { initI18n, t, onLangChange } from './i18n.js';
import { ForumClient } from './client.js';
import { SessionStore } from './store.js';
import {
  h, mount, $, $$, icon, errorText, toast, bindConnection, storageGet, storageSet, copyText,
  confirmDialog, dateText, clockTime,
} from './ui.js';

const KEY_STORAGE = 'forum.producerKey';
const VIEWER_REFRESH_MS = 20_000;

const studio = { programs: new Map(), sessions: new Map() };
const ui = { view: 'home', code: null, programId: null, newKey: null };
let key = storageGet(KEY_STORAGE);
let client = null;
let renderConn = () => {};
let sessionClient = null;
let sessionStore = null;
let viewerTimer = null;

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

// The selected session gets its own producer connection for live question counts.
function watchSession(code) {
  if (sessionClient && sessionClient.session === code) return;
  if (sessionClient) sessionClient.stop();
  clearInterval(viewerTimer);
  sessionClient = null;
  sessionStore = null;
  if (!code) return;
  sessionStore = new SessionStore();
  sessionClient = new ForumClient({ session: code, role: 'producer', token: key });
  sessionClient.addEventListener('welcome', (e) => { if (e.detail.snapshot) sessionStore.reset(e.detail.snapshot); });
  sessionClient.addEventListener('event', (e) => sessionStore.apply(e.detail));
  sessionStore.addEventListener('change', () => renderCounts());
  sessionClient.start();
  // The viewer count comes with a fresh snapshot: ask for one now and then.
  viewerTimer = setInterval(() => {
    if (document.visibilityState === 'visible' && sessionClient && sessionClient.connected) {
      sessionClient.lastSeq = 0;
      sessionClient.reconnect();
    }
  }, VIEWER_REFRESH_MS);
}

// ---- navigation ----------------------------------------------------------------------------
function readHash() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  if (params.get('session') && studio.sessions.has(params.get('session'))) {
    ui.view = 'session';
    ui.code = params.get('session');
  }
}

function go(view, { code = null, programId = null } = {}) {
  ui.view = view;
  ui.code = code;
  ui.programId = programId;
  if (view !== 'session') ui.newKey = null;
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
    h('div', { class: 'prod-nav-head' }, h('h2', {}, t('prod.programs')),
      h('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: () => go('new-program') }, icon('plus'), t('prod.new_program'))),
    programs.length ? programs.map((p) => h('section', { class: 'prod-program' },
      h('div', { class: 'prod-program-title' }, h('span', {}, p.title),
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
      h('p', { class: 'field-hint' }, t('prod.overlay_hint'))),
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
          h('span', { class: 'chip' }, s.anonymous_allowed === false ? t('prod.anon_off') : t('prod.anon_on'))),
        h('p', { class: 'field-hint' }, (s.blocked_words || []).length ? t('prod.blocked_n', { n: s.blocked_words.length, words: s.blocked_words.slice(0, 8).join('、') }) : t('prod.blocked_none')),
        h('h2', { class: 'prod-card-title' }, icon('download'), t('prod.exports')),
        h('div', { class: 'prod-downloads' },
          downloadButton(s, 'transcript.json', t('prod.export_json')),
          downloadButton(s, 'transcript.md', t('prod.export_md')),
          downloadButton(s, 'questions.csv', t('prod.export_csv'))),
        h('p', { class: 'field-hint' }, t('prod.exports_hint')))),
  ];
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

async function download(s, file) {
  let res;
  try {
    res = await fetch(`/api/sessions/${encodeURIComponent(s.code)}/${file}`, { headers: { Authorization: `Bearer ${key}` } });
  } catch (_) {
    toast(t('error.offline'), 'error');
    return;
  }
  if (res.status === 404) { toast(t('prod.export_missing'), 'error', 5000); return; }
  if (res.status === 401 || res.status === 403) { toast(t('error.unauthorized'), 'error'); return; }
  if (!res.ok) { toast(t('prod.export_failed', { status: res.status }), 'error'); return; }
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: `${s.code}-${file}` });
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
  return h('form', { class: 'card form-card', dataset: { form: 'program' }, onsubmit: async (e) => {
    e.preventDefault();
    if (!title.value.trim()) { toast(t('prod.title_required'), 'error'); return; }
    const fields = { title: title.value.trim(), description: desc.value.trim() };
    const ack = p ? await send('program.update', { program_id: p.id, ...fields }, t('prod.saved')) : await send('program.create', fields, t('prod.program_created'));
    if (ack) go(p ? 'home' : 'new-session', { programId: ack.program ? ack.program.id : p.id });
  } },
  h('h1', { class: 'form-title' }, p ? t('prod.edit_program') : t('prod.new_program')),
  h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('prod.program_title')), title),
  h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('prod.program_desc')), desc),
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
  return h('form', { class: 'card form-card', dataset: { form: 'session' }, onsubmit: async (e) => {
    e.preventDefault();
    if (!title.value.trim()) { toast(t('prod.title_required'), 'error'); title.focus(); return; }
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
  h('div', { class: 'form-actions' },
    h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => (s ? go('session', { code: s.code }) : go('home')) }, t('common.cancel')),
    h('button', { type: 'submit', class: 'btn btn-primary' }, s ? t('common.save') : t('prod.create_session'))));
}

onLangChange(() => { renderConn(); const v = $('#view'); v.dataset.formFor = ''; render(); });

if (key) start();
else showLogin('');
