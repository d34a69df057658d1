// viewer.js — the audience page /s/<code> (phones first): what is on stage now, asking
// (with follow-ups), voting, polls and "my questions". Everything a viewer sends that must not
// be lost (questions, votes, ballots) goes through the client's durable outbox.
import { initI18n, t, onLangChange, lang } from './i18n.js';
import { renderMarkdown } from './markdown.js';
import { ForumClient, deviceToken } from './client.js';
import { SessionStore, PUBLIC_STATES, itemKey } from './store.js';
import { StreamPlayer } from './stream.js';
import { ratingControl, commentDialog } from './ratings.js';
import {
  h, mount, $, $$, icon, codePoints, bindCounter, errorText, toast, bindConnection, relTime,
  dateText, clockTime, codeFromPath, storageGet, storageSet, openDialog,
} from './ui.js';

const MAX_CHARS = 500;
const code = codeFromPath();
const store = new SessionStore();
const ui = { kind: 'question', sort: 'popular', tab: 'all', replyTo: null };

initI18n();
$('#brand-mark').append(icon('mic'));

const client = new ForumClient({
  session: code,
  role: 'viewer',
  token: deviceToken(),
  name: storageGet('forum.name'),
  outboxKey: `forum.outbox.${code}`,
});
const renderConn = bindConnection(client, $('#conn'));
const player = new StreamPlayer($('#stream'), code);
player.dockWhileTyping($('#compose'));

client.addEventListener('welcome', (e) => { if (e.detail.snapshot) store.reset(e.detail.snapshot); });
client.addEventListener('event', (e) => store.apply(e.detail));
client.addEventListener('status', (e) => {
  if (e.detail.status === 'failed') renderFailure(e.detail.error);
});
client.addEventListener('outbox-change', () => renderLists());
client.addEventListener('outbox-ack', (e) => handleAck(e.detail.request, e.detail.reply));
client.addEventListener('outbox-error', (e) => handleRejected(e.detail.request, e.detail.error));
store.addEventListener('change', () => render());
onLangChange(() => { renderConn(); render(); player.relabel(); updateCounter(); if (showingMinutes()) renderMinutes(); });

// ---- composer ------------------------------------------------------------------------------
const textEl = $('#q-text');
const nameEl = $('#q-name');
const anonEl = $('#q-anon');
const toEl = $('#q-to');
const draftKey = `forum.draft.${code}`;
textEl.value = storageGet(draftKey, '');
nameEl.value = storageGet('forum.name', '');
// Anonymity is chosen for one question at a time: the box starts unticked on every page load
// and after every question, and the line under the form always says how the next one goes out.
anonEl.checked = false;
const updateCounter = bindCounter(textEl, $('#q-counter'), MAX_CHARS);
textEl.addEventListener('input', () => storageSet(draftKey, textEl.value));
anonEl.addEventListener('change', () => syncNameField());
nameEl.addEventListener('input', () => renderIdentity());
nameEl.addEventListener('change', () => storageSet('forum.name', nameEl.value.trim()));

function syncNameField() {
  nameEl.disabled = anonEl.checked;
  nameEl.closest('.field').classList.toggle('is-disabled', anonEl.checked);
  renderIdentity();
}

/** "Posting as 张阿姨" / "Posting anonymously": how the next question will be signed. */
function renderIdentity() {
  const el = $('#q-identity');
  const name = nameEl.value.trim();
  const anonymous = anonEl.checked && !$('#anon-wrap').hidden;
  el.dataset.mode = anonymous ? 'anonymous' : name ? 'named' : 'unnamed';
  el.textContent = anonymous ? t('viewer.identity_anonymous')
    : name ? t('viewer.identity_named', { name }) : t('viewer.identity_unnamed');
}
syncNameField();

function setKind(kind) {
  ui.kind = kind;
  for (const b of $$('#kind-seg button')) b.setAttribute('aria-pressed', String(b.dataset.kind === kind));
}
for (const btn of $$('#kind-seg button')) btn.addEventListener('click', () => setKind(btn.dataset.kind));
for (const btn of $$('#sort-seg button')) {
  btn.addEventListener('click', () => {
    ui.sort = btn.dataset.sort;
    for (const b of $$('#sort-seg button')) b.setAttribute('aria-pressed', String(b === btn));
    renderLists();
  });
}
$('#tab-all').addEventListener('click', () => setTab('all'));
$('#tab-mine').addEventListener('click', () => setTab('mine'));
$('#reply-cancel').addEventListener('click', () => setReplyTo(null));

function setTab(tab) {
  ui.tab = tab;
  $('#tab-all').setAttribute('aria-selected', String(tab === 'all'));
  $('#tab-mine').setAttribute('aria-selected', String(tab === 'mine'));
  $('#list').hidden = tab !== 'all';
  $('#mine').hidden = tab !== 'mine';
  $('#sort-seg').hidden = tab !== 'all';
  renderLists();
}

function setReplyTo(q) {
  ui.replyTo = q ? q.id : null;
  // A follow-up goes to whom its question went (the viewer may still pick someone else).
  if (q) toEl.value = q.to != null && [...toEl.options].some((o) => o.value === String(q.to)) ? String(q.to) : '';
  $('#reply-to').hidden = !q;
  $('#reply-text').textContent = q ? q.text : '';
  $('#compose-title').textContent = q ? t('viewer.compose_follow_up') : t('viewer.compose_title');
  if (q) {
    $('#compose').scrollIntoView({ behavior: 'smooth', block: 'start' });
    textEl.focus({ preventScroll: true });
  }
}

$('#ask-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = textEl.value.trim();
  if (!text) { toast(t('viewer.err_empty'), 'error'); textEl.focus(); return; }
  if (codePoints(text) > MAX_CHARS) { toast(t('error.too_long'), 'error'); return; }
  const session = store.session || {};
  const anonymous = anonEl.checked && session.anonymous_allowed !== false;
  const name = nameEl.value.trim();
  if (!anonymous && session.anonymous_allowed === false && !name) {
    toast(t('viewer.err_name_required'), 'error');
    nameEl.focus();
    return;
  }
  const fields = { text, category: ui.kind, anonymous };
  if (!anonymous && name) {
    // The question carries its author's name itself: no reconnect (the connection stays up,
    // and the outbox resends it with the same name). Later hellos carry it too.
    fields.name = name;
    storageSet('forum.name', name);
    client.setName(name);
  }
  const to = toEl.value ? Number(toEl.value) : null;
  // A follow-up names its panelist either way: "to": null asks the whole panel.
  if (to) fields.to = to;
  else if (ui.replyTo) fields.to = null;
  if (ui.replyTo) fields.parent_id = ui.replyTo;
  const offline = !client.connected;
  const promise = client.request('question.submit', fields, { durable: true });
  textEl.value = '';
  storageSet(draftKey, '');
  updateCounter();
  setReplyTo(null);
  setKind('question');
  toEl.value = '';
  anonEl.checked = false;
  syncNameField();
  if (offline) toast(t('viewer.saved_offline'), 'info', 5000);
  renderLists();
  promise.then((ack) => handleAck({ type: 'question.submit' }, ack))
    .catch((err) => handleRejected({ type: 'question.submit', ...fields }, err));
});

function handleAck(request, reply) {
  if (request.type === 'question.submit' && reply.question) {
    store.upsertFromAck(reply.question);
    toast(reply.question.state === 'pending' ? t('viewer.sent_pending') : t('viewer.sent_published'), 'ok');
  } else if ((request.type === 'vote.add' || request.type === 'vote.remove') && reply.question_id) {
    store.setMyVote(reply.question_id, Boolean(reply.voted));
  } else if (request.type === 'poll.vote' && reply.poll_id) {
    store.setMyBallot(reply.poll_id, reply.option_ids || []);
  }
}

function handleRejected(request, err) {
  if (err.code === 'offline') return; // still in the outbox: resent on reconnect
  toast(errorText(err), 'error', 5200);
  if (request.type === 'question.submit' && request.text && !textEl.value.trim()) {
    // Give the text back so nothing typed is lost.
    textEl.value = request.text;
    storageSet(draftKey, request.text);
    updateCounter();
  }
  if (request.type === 'vote.add' || request.type === 'vote.remove') {
    store.setMyVote(request.question_id, request.type === 'vote.remove', true);
  }
}

// ---- actions -------------------------------------------------------------------------------
function toggleVote(q) {
  const voted = store.myVotes.has(q.id);
  const type = voted ? 'vote.remove' : 'vote.add';
  store.setMyVote(q.id, !voted, true);
  client.request(type, { question_id: q.id }, { durable: true })
    .then((ack) => handleAck({ type }, ack))
    .catch((err) => handleRejected({ type, question_id: q.id }, err));
}

function castBallot(poll, optionIds) {
  store.setMyBallot(poll.id, optionIds);
  client.request('poll.vote', { poll_id: poll.id, option_ids: optionIds }, { durable: true })
    .then((ack) => { handleAck({ type: 'poll.vote' }, ack); toast(t('poll.voted'), 'ok', 2000); })
    .catch((err) => handleRejected({ type: 'poll.vote' }, err));
}

// ---- ratings (满意度) -------------------------------------------------------------------------
/** Ratings go on until the session is archived (the audience may rate after the show). */
function canRate() {
  const st = store.session && store.session.status;
  return st === 'open' || st === 'live' || st === 'ended';
}

/** Rates an item ({question_id} or {action_id}) with value, keeping any comment; comment
 *  (a string, '' = remove) replaces it. Durable like votes: a resend changes nothing. */
function rate(target, value, comment) {
  const fields = { ...target, value };
  if (comment !== undefined) fields.comment = comment || null;
  const key = itemKey(target);
  const before = store.myRatings.get(key) || null;
  store.myRatings.set(key, { ...(before || {}), ...target, value, ...(comment !== undefined ? { comment: comment || null, comment_state: comment ? 'pending' : null } : {}) });
  render();
  client.request('rating.set', fields, { durable: true })
    .then((ack) => {
      store.upsertRating(ack.rating);
      if (comment) toast(ack.rating.comment_state === 'pending' ? t('rate.comment_sent_pending') : t('rate.comment_sent'), 'ok');
      else toast(t('rate.thanks'), 'ok', 1800);
    })
    .catch((err) => {
      if (err.code === 'offline') return;
      if (before) store.myRatings.set(key, before); else store.myRatings.delete(key);
      render();
      toast(errorText(err), 'error', 5200);
    });
}

async function rateWithComment(target) {
  const mine = store.myRatings.get(itemKey(target));
  if (!mine) return;
  const text = await commentDialog(mine.comment || '');
  if (text === null || text === (mine.comment || '')) return;
  rate(target, mine.value, text);
}

function ratingFor(target, label, fallbackCounts = null) {
  const key = itemKey(target);
  return ratingControl({
    label,
    mine: store.myRatings.get(key) || null,
    counts: store.ratingCounts.get(key) || fallbackCounts,
    disabled: !canRate(),
    onRate: (v) => rate(target, v),
    onComment: () => rateWithComment(target),
  });
}

// ---- the programme's commitments ("上期承诺进展") ---------------------------------------------
const COMMITMENTS_SHOWN = 3;
const commitments = { board: null, program: null, loading: false, at: 0 };

async function loadCommitments() {
  const pid = store.session && store.session.program_id;
  if (!pid || commitments.loading) return;
  commitments.loading = true;
  try {
    const res = await fetch(`/api/programs/${pid}/commitments`, { cache: 'no-store' });
    if (res.ok) {
      commitments.board = await res.json();
      commitments.program = pid;
      commitments.at = Date.now();
    }
  } catch (_) { /* shown again on the next try */ }
  commitments.loading = false;
  renderCommitments();
}

function renderCommitments() {
  const el = $('#commitments');
  const b = commitments.board;
  const s = store.session;
  if (!b || !s || b.program.id !== s.program_id) { el.hidden = true; return; }
  // earlier episodes' commitments (this one's appear once it has ended)
  const earlier = b.commitments.filter((c) => c.session !== s.code);
  el.hidden = earlier.length === 0;
  if (!earlier.length) return;
  const wanted = /^#rate-a(\d+)$/.exec(location.hash);
  const focus = wanted ? Number(wanted[1]) : null;
  const shown = earlier.slice(0, COMMITMENTS_SHOWN);
  const target = focus && earlier.find((c) => c.id === focus);
  if (target && !shown.includes(target)) shown.unshift(target);
  const active = earlier.filter((c) => c.current.status === 'open' || c.current.status === 'in_progress').length;
  const done = earlier.filter((c) => c.current.status === 'done').length;
  mount(el,
    h('div', { class: 'v-commit-head' },
      h('h2', { class: 'v-section-title', id: 'commitments-title' }, t('viewer.commitments_title')),
      h('a', { class: 'v-commit-all', href: `/p/${s.program_id}?status=open,in_progress#commitments` }, t('viewer.commitments_all'), ' →')),
    h('p', { class: 'v-commit-summary' }, t('viewer.commitments_summary', { n: earlier.length, active, done })),
    h('ul', { class: 'v-commit-list' }, shown.map((c) => h('li', { class: `v-commit${c.id === focus ? ' is-focus' : ''}`, id: `commitment-${c.id}`, dataset: { id: c.id } },
      h('div', { class: 'v-commit-chips' },
        h('span', { class: `chip chip-${c.current.status}` }, t(`act.status_${c.current.status}`)),
        c.current.overdue ? h('span', { class: 'chip chip-overdue' }, t('act.overdue')) : null,
        h('span', { class: 'v-commit-where' }, c.session_title)),
      h('p', { class: 'v-commit-text' }, c.text),
      h('p', { class: 'v-commit-meta' }, [c.current.owner, c.current.due ? t('act.due_on', { due: c.current.due }) : null].filter(Boolean).join(' · ')),
      ratingFor({ action_id: c.id }, t('rate.delivery_question'), c.ratings)))));
  if (focus && el.querySelector(`#commitment-${focus}`) && !commitments.scrolled) {
    commitments.scrolled = true;
    el.querySelector(`#commitment-${focus}`).scrollIntoView({ block: 'center' });
  }
}

async function editQuestion(q) {
  const text = await openDialog((close) => {
    const ta = h('textarea', { class: 'textarea', rows: 5 });
    ta.value = q.text;
    const counter = h('span', { class: 'counter' });
    bindCounter(ta, counter, MAX_CHARS);
    return h('form', { class: 'dialog-body', onsubmit: (e) => { e.preventDefault(); close(ta.value.trim()); } },
      h('h2', { class: 'dialog-title' }, t('viewer.edit_title')),
      ta, h('div', { class: 'v-form-row v-form-row-end' }, counter),
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => close(null) }, t('common.cancel')),
        h('button', { type: 'submit', class: 'btn btn-primary' }, t('common.save'))));
  });
  if (!text || text === q.text) return;
  try {
    const ack = await client.request('question.edit', { question_id: q.id, text });
    store.upsertFromAck(ack.question);
    toast(t('viewer.edited'), 'ok');
  } catch (err) { toast(errorText(err), 'error'); }
}

async function withdrawQuestion(q) {
  const ok = await openDialog((close) => h('div', { class: 'dialog-body' },
    h('h2', { class: 'dialog-title' }, t('viewer.withdraw_title')),
    h('p', { class: 'dialog-quote' }, q.text),
    h('div', { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => close(false) }, t('common.cancel')),
      h('button', { type: 'button', class: 'btn btn-danger', onclick: () => close(true) }, t('viewer.withdraw')))));
  if (!ok) return;
  try {
    const ack = await client.request('question.withdraw', { question_id: q.id });
    store.upsertFromAck(ack.question);
    toast(t('viewer.withdrawn'), 'ok');
  } catch (err) { toast(errorText(err), 'error'); }
}

// ---- rendering -----------------------------------------------------------------------------
function panelistLabel(p) {
  return p ? p.name : '';
}

function authorLabel(q) {
  return q.author ? q.author : t('common.anonymous');
}

function renderFailure(error) {
  mount($('#main'), h('section', { class: 'card v-failure' },
    h('span', { class: 'v-failure-icon' }, icon('x')),
    h('h1', { class: 'v-failure-title' }, error && error.code === 'not_found' ? t('viewer.not_found_title') : t('viewer.failed_title')),
    h('p', { class: 'muted' }, error && error.code === 'not_found' ? t('viewer.not_found_body', { code }) : errorText(error)),
    h('a', { class: 'btn btn-secondary', href: '/' }, t('viewer.back_home'))));
}

function render() {
  const s = store.session;
  if (!s) return;
  // as the server titled the page for link previews (viewer_page.c)
  document.title = `${s.title} · ${s.program || t('app.name')}`;
  player.update(s.stream, s.status);
  $('#program-name').textContent = s.program || t('app.name');
  const badge = $('#status-badge');
  badge.dataset.status = s.status;
  badge.textContent = t(`status.${s.status}`);
  $('#schedule').textContent = s.status === 'live' && s.started_at ? t('viewer.started_at', { time: clockTime(s.started_at) })
    : s.scheduled_at ? `${dateText(s.scheduled_at)} ${clockTime(s.scheduled_at).split(' ').pop()}` : '';
  $('#session-title').textContent = s.title;
  $('#topic').textContent = s.topic || '';
  $('#topic').hidden = !s.topic;
  renderMinutes();
  if (showingMinutes()) return;
  renderPanelists();
  renderNotice();
  renderNow();
  renderPolls();
  renderCommitments();
  renderComposer();
  renderLists();
  // reload when the show changes status (its end publishes its commitments) or every 5 minutes
  if (s.program_id && (commitments.program !== s.program_id || commitments.status !== s.status ||
      Date.now() - commitments.at > 300_000)) {
    commitments.status = s.status;
    loadCommitments();
  }
}

function renderPanelists() {
  const list = (store.session.panelists || []);
  const speaking = new Set(store.panel.speaker_ids || []);
  mount($('#panelists'), list.length ? [
    h('span', { class: 'v-panelists-label' }, t('viewer.panelists')),
    h('ul', { class: 'v-panelist-list' }, list.map((p) => h('li', { class: `v-panelist${speaking.has(p.id) ? ' is-speaking' : ''}` },
      h('span', { class: 'v-avatar', 'aria-hidden': 'true' }, [...p.name][0] || '·'),
      h('span', { class: 'v-panelist-text' },
        h('span', { class: 'v-panelist-name' }, p.name),
        h('span', { class: 'v-panelist-role' }, [p.affiliation, p.role].filter(Boolean).join(' · ')))))),
  ] : []);
}

function renderNotice() {
  const s = store.session;
  const el = $('#notice');
  let content = null;
  if (s.status === 'draft') {
    content = [h('h2', { class: 'v-notice-title' }, t('viewer.notice_draft_title')), h('p', {}, t('viewer.notice_draft'))];
  } else if (s.status === 'open') {
    content = [
      h('h2', { class: 'v-notice-title' }, t('viewer.notice_open_title')),
      h('p', {}, s.scheduled_at ? t('viewer.notice_open_when', { when: `${dateText(s.scheduled_at)} ${clockTime(s.scheduled_at).split(' ').pop()}` }) : t('viewer.notice_open')),
    ];
  } else if (s.status === 'ended' || s.status === 'archived') {
    // The minutes are public once the session is archived; before that they are being prepared.
    content = [
      h('h2', { class: 'v-notice-title' }, t('viewer.notice_ended_title')),
      h('p', {}, t('viewer.notice_ended')),
      s.status === 'archived' ? h('a', { class: 'btn btn-secondary btn-sm v-minutes', id: 'minutes-link', href: '#minutes' }, icon('paper'), t('viewer.minutes_link')) :
        h('p', { class: 'v-minutes-pending' }, t('viewer.minutes_pending')),
    ];
  }
  el.hidden = !content;
  el.dataset.status = s.status;
  if (content) mount(el, h('span', { class: 'v-notice-icon' }, icon(s.status === 'open' ? 'clock' : s.status === 'draft' ? 'clock' : 'check')), h('div', { class: 'v-notice-body' }, content));
}

// The minutes view (#minutes): the archived session's transcript.md, in the page's language,
// rendered as a readable document (headings, lists, paragraphs; all text escaped).
const minutes = { lang: null, text: null, loading: false, error: false };

function minutesUrl() {
  const base = `/api/sessions/${encodeURIComponent((store.session && store.session.code) || code)}/transcript.md`;
  return lang() === 'en' ? `${base}?lang=en` : base;
}

async function loadMinutes() {
  const want = lang();
  if (minutes.loading || (minutes.text !== null && minutes.lang === want)) return;
  minutes.loading = true;
  minutes.error = false;
  renderMinutes();
  try {
    const res = await fetch(minutesUrl(), { cache: 'no-store' });
    if (!res.ok) throw new Error(String(res.status));
    minutes.text = await res.text();
    minutes.lang = want;
  } catch (_) {
    minutes.error = true;
  }
  minutes.loading = false;
  if (minutes.lang !== lang() && !minutes.error) { loadMinutes(); return; } // language changed meanwhile
  renderMinutes();
}

function showingMinutes() {
  return location.hash === '#minutes' && store.session && store.session.status === 'archived';
}

function renderMinutes() {
  const show = showingMinutes();
  $('#minutes-view').hidden = !show;
  $('#main').hidden = show;
  if (!show) return;
  const doc = $('#minutes-doc');
  const download = $('#minutes-download');
  download.href = minutesUrl();
  download.setAttribute('download', `${store.session.code || code}-${lang() === 'en' ? 'minutes-en' : t('viewer.minutes_title')}.md`);
  if (minutes.text !== null && minutes.lang === lang()) {
    doc.dataset.state = 'ready';
    mount(doc, renderMarkdown(minutes.text));
  } else if (minutes.error) {
    doc.dataset.state = 'error';
    mount(doc, h('div', { class: 'empty' }, h('p', {}, t('viewer.minutes_error')),
      h('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: () => loadMinutes() }, t('viewer.minutes_retry'))));
  } else {
    doc.dataset.state = 'loading';
    mount(doc, h('p', { class: 'empty' }, t('viewer.minutes_loading')));
    loadMinutes();
  }
}

window.addEventListener('hashchange', () => { renderMinutes(); if (!showingMinutes()) render(); window.scrollTo(0, 0); });
$('#minutes-back').addEventListener('click', (e) => {
  e.preventDefault();
  history.pushState(null, '', location.pathname + location.search);
  renderMinutes();
  render();
});

function renderNow() {
  const s = store.session;
  const el = $('#now');
  const live = s.status === 'live';
  const q = store.onAirQuestion();
  const segment = store.segment(store.panel.segment_id);
  const speakers = (store.panel.speaker_ids || []).map((id) => store.panelist(id)).filter(Boolean);
  const show = live;
  el.hidden = !show;
  if (!show) return;
  const blocks = [];
  if (segment || speakers.length) {
    blocks.push(h('div', { class: 'v-now-stage' },
      segment ? h('div', { class: 'v-now-line' }, h('span', { class: 'v-now-label' }, t('viewer.segment')), h('span', { class: 'v-now-value' }, segment.title)) : null,
      speakers.length ? h('div', { class: 'v-now-line' }, h('span', { class: 'v-now-label' }, t('viewer.speaking')),
        h('span', { class: 'v-now-value' }, speakers.map((p) => p.name).join('、'))) : null));
  }
  if (store.panel.banner) blocks.push(h('p', { class: 'v-now-banner' }, store.panel.banner));
  if (q) {
    const to = store.panelist(q.to);
    // A follow-up goes on air with the question it follows, so it makes sense on its own.
    const parent = q.parent_id != null ? store.questions.get(q.parent_id) : null;
    if (q.parent_id != null && !parent) store.ensureQuestion(client, q.parent_id);
    blocks.push(h('div', { class: `v-onair${q.parent_id != null ? ' is-follow-up' : ''}` },
      h('div', { class: 'v-onair-head' }, h('span', { class: 'v-onair-tag' }, h('span', { class: 'v-live-dot' }),
        q.parent_id != null ? t('viewer.on_air_follow_up') : t('viewer.on_air')),
        to ? h('span', { class: 'v-onair-to' }, t('viewer.asked_to', { name: to.name })) : null),
      parent ? h('div', { class: 'v-onair-parent' },
        h('span', { class: 'v-onair-parent-label' }, icon('reply'), t('viewer.follow_up_of')),
        h('p', { class: 'v-onair-parent-text' }, parent.text),
        h('p', { class: 'v-onair-parent-meta' }, authorLabel(parent))) : null,
      h('p', { class: 'v-onair-text' }, q.text),
      h('p', { class: 'v-onair-meta' }, `${authorLabel(q)}${q.votes ? ` · ${t('viewer.votes_n', { n: q.votes })}` : ''}`)));
  } else if (live) {
    blocks.push(h('p', { class: 'v-onair-empty' }, t('viewer.on_air_none')));
  }
  mount(el, h('div', { class: 'v-now-card' }, blocks));
}

function renderPolls() {
  const polls = [...store.polls.values()].filter((p) => p.state === 'open' || p.state === 'closed')
    .sort((a, b) => (a.state === b.state ? b.id - a.id : a.state === 'open' ? -1 : 1)).slice(0, 3);
  mount($('#polls'), polls.map((poll) => renderPoll(poll)));
}

function renderPoll(poll) {
  const mine = store.myBallots.get(poll.id) || [];
  const sessionOpen = store.session.status === 'open' || store.session.status === 'live';
  const state = sessionOpen ? poll.state : 'closed';
  poll = { ...poll, state };
  const showResults = poll.state === 'closed' || mine.length > 0;
  const total = poll.options.reduce((n, o) => n + (o.votes || 0), 0);
  const selected = new Set(mine);
  const head = h('div', { class: 'v-poll-head' },
    h('span', { class: 'v-poll-tag' }, icon('chart'), t('poll.label')),
    h('span', { class: `v-poll-state${poll.state === 'open' ? ' is-open' : ''}` }, t(`poll.state_${poll.state}`)));
  const options = poll.options.map((o) => {
    const pct = total ? Math.round(((o.votes || 0) * 100) / total) : 0;
    const chosen = selected.has(o.id);
    const body = [
      h('span', { class: 'v-poll-bar', style: { width: showResults ? `${pct}%` : '0%' } }),
      h('span', { class: 'v-poll-text' }, chosen ? icon('check', 'v-poll-check') : null, o.text),
      showResults ? h('span', { class: 'v-poll-pct num' }, `${pct}%`) : null,
    ];
    if (poll.state !== 'open') return h('div', { class: `v-poll-option${chosen ? ' is-chosen' : ''}` }, body);
    return h('button', {
      type: 'button', class: `v-poll-option is-votable${chosen ? ' is-chosen' : ''}`, 'aria-pressed': String(chosen),
      onclick: () => {
        if (poll.multi) {
          const next = new Set(selected);
          if (next.has(o.id)) next.delete(o.id); else next.add(o.id);
          if (next.size) castBallot(poll, [...next]);
        } else {
          castBallot(poll, [o.id]);
        }
      },
    }, body);
  });
  return h('section', { class: 'card v-poll', dataset: { pollId: poll.id } }, head,
    h('h3', { class: 'v-poll-title' }, poll.title),
    poll.multi && poll.state === 'open' ? h('p', { class: 'field-hint' }, t('poll.multi_hint')) : null,
    h('div', { class: 'v-poll-options' }, options),
    h('p', { class: 'v-poll-foot' }, showResults ? t('poll.total', { n: total }) : t('poll.tap_to_vote')));
}

function renderComposer() {
  const s = store.session;
  const canWrite = s.status === 'open' || s.status === 'live';
  $('#compose').hidden = !canWrite;
  const current = toEl.value;
  mount(toEl, h('option', { value: '' }, t('viewer.to_all')),
    (s.panelists || []).map((p) => h('option', { value: String(p.id) }, [p.name, p.affiliation].filter(Boolean).join(' · '))));
  toEl.value = [...toEl.options].some((o) => o.value === current) ? current : '';
  const anonAllowed = s.anonymous_allowed !== false;
  $('#anon-wrap').hidden = !anonAllowed;
  if (!anonAllowed) anonEl.checked = false;
  syncNameField();
  $('#q-identity').hidden = false;
  $('#moderation-hint').textContent = s.premoderation ? t('viewer.hint_premoderated') : t('viewer.hint_published');
}

function sortQuestions(list) {
  if (ui.sort === 'newest') return list.sort((a, b) => b.created_at - a.created_at);
  return list.sort((a, b) => (b.votes - a.votes) || (b.created_at - a.created_at));
}

function renderLists() {
  if (!store.session) {
    // Not connected yet: what was typed is still shown, waiting in the outbox.
    const waiting = client.pendingOutbox().filter((r) => r.type === 'question.submit');
    $('#count-mine').textContent = waiting.length || '';
    mount($('#mine'), waiting.map((r) => renderOutboxItem(r)));
    return;
  }
  const wall = sortQuestions(store.list((q) => PUBLIC_STATES.has(q.state) && q.parent_id == null));
  const mine = store.list((q) => q.mine).sort((a, b) => b.created_at - a.created_at);
  const outbox = client.pendingOutbox().filter((r) => r.type === 'question.submit');
  $('#count-all').textContent = wall.length || '';
  $('#count-mine').textContent = (mine.length + outbox.length) || '';
  const more = store.questionsComplete ? null :
    h('button', { type: 'button', class: 'btn v-load-more', id: 'load-more',
      onclick: () => store.loadMoreQuestions(client).catch(() => toast(t('viewer.load_more_failed'), 'error')) },
    t('viewer.load_more', { n: String(store.questions.size), total: String(store.questionsTotal ?? '?') }));
  mount($('#list'), wall.length ? [...wall.map((q) => renderQuestion(q)), more] :
    [h('div', { class: 'empty' }, icon('mic'), t(store.session.status === 'open' ? 'viewer.empty_wall_open' : 'viewer.empty_wall')), more]);
  const items = [
    ...outbox.map((r) => renderOutboxItem(r)),
    ...mine.map((q) => renderMine(q)),
  ];
  mount($('#mine'), items.length ? items : h('div', { class: 'empty' }, icon('user'), t('viewer.empty_mine')));
}

function questionChips(q) {
  const to = store.panelist(q.to);
  return [
    h('span', { class: `chip chip-${q.category || 'question'}` }, t(`kind.${q.category || 'question'}`)),
    to ? h('span', { class: 'chip chip-to' }, t('viewer.asked_to', { name: panelistLabel(to) })) : null,
    q.source && q.source !== 'web' ? h('span', { class: 'chip' }, icon(q.source), t(`source.${q.source}`)) : null,
    // A carried question keeps saying where it first came from (a hotline call, a letter).
    q.source === 'carried' && q.carried_source && q.carried_source !== 'web'
      ? h('span', { class: 'chip chip-origin' }, icon(q.carried_source), t(`source.${q.carried_source}`)) : null,
  ];
}

function renderQuestion(q) {
  const voted = store.myVotes.has(q.id);
  const canVote = q.state === 'published' && (store.session.status === 'open' || store.session.status === 'live');
  const followUps = store.followUps(q.id).filter((f) => PUBLIC_STATES.has(f.state) || f.mine);
  return h('article', { class: `v-q${q.state === 'on_air' ? ' is-on-air' : ''}${q.state === 'answered' ? ' is-answered' : ''}`, dataset: { qid: q.id } },
    h('div', { class: 'v-q-chips' }, questionChips(q),
      q.state === 'on_air' ? h('span', { class: 'chip chip-on_air' }, t('state.on_air')) : null,
      q.state === 'answered' ? h('span', { class: 'chip chip-answered' }, icon('check'), t('state.answered')) : null),
    h('p', { class: 'v-q-text' }, q.text),
    h('div', { class: 'v-q-foot' },
      h('span', { class: 'v-q-meta' }, h('span', { class: 'v-q-author' }, authorLabel(q)), h('span', { class: 'v-q-dot' }, '·'), relTime(q.created_at),
        q.phase === 'pre' ? [h('span', { class: 'v-q-dot' }, '·'), t('viewer.pre_show')] : null),
      h('button', {
        type: 'button', class: `v-vote${voted ? ' is-voted' : ''}`, disabled: !canVote, 'aria-pressed': String(voted),
        'aria-label': voted ? t('viewer.unvote') : t('viewer.vote'), onclick: () => toggleVote(q),
      }, icon('thumb'), h('span', { class: 'num v-vote-count' }, String(q.votes || 0)))),
    q.state === 'answered' ? renderAnswer(q, followUps) : null);
}

function renderAnswer(q, followUps) {
  const canAsk = store.session.status === 'open' || store.session.status === 'live';
  return h('div', { class: 'v-answer' },
    q.answer_note ? h('p', { class: 'v-answer-note' }, h('span', { class: 'v-answer-label' }, t('viewer.answer_note')), q.answer_note) : null,
    followUps.length ? h('ul', { class: 'v-thread' }, followUps.map((f) => h('li', { class: 'v-thread-item' },
      h('span', { class: 'v-thread-label' }, icon('reply'), t('viewer.follow_up')),
      h('p', { class: 'v-thread-text' }, f.text),
      h('span', { class: 'v-thread-meta' }, authorLabel(f), ' · ', relTime(f.created_at),
        f.state === 'answered' ? [' · ', t('state.answered')] : null, f.state === 'pending' ? [' · ', t('state.pending')] : null),
      f.state === 'answered' && f.answer_note ? h('p', { class: 'v-thread-answer' }, f.answer_note) : null))) : null,
    canAsk ? h('button', { type: 'button', class: 'btn btn-ghost btn-sm v-follow-btn', onclick: () => setReplyTo(q) }, icon('reply'), t('viewer.ask_follow_up')) : null,
    ratingFor({ question_id: q.id }, t('rate.answer_question')));
}

/** Shows question id on the wall (switching tabs), highlighted for a moment. */
function showOnWall(id) {
  setTab('all');
  requestAnimationFrame(() => {
    const el = document.querySelector(`#list .v-q[data-qid="${id}"]`);
    if (!el) return;
    el.scrollIntoView({ behavior: 'smooth', block: 'center' });
    el.classList.add('is-highlighted');
    setTimeout(() => el.classList.remove('is-highlighted'), 2400);
  });
}

/** A merged question: combined with another, which the asker is pointed to. */
function renderMerged(q) {
  const into = store.questions.get(q.merged_into);
  if (!into) store.ensureQuestion(client, q.merged_into);
  const onWall = into && PUBLIC_STATES.has(into.state);
  return h('div', { class: 'v-merged' },
    h('p', { class: 'v-mine-explain' }, t('my_state_hint.merged')),
    into ? h('div', { class: 'v-merged-into' },
      h('span', { class: 'v-merged-label' }, t('viewer.merged_into')),
      h('p', { class: 'v-merged-text' }, into.text),
      h('span', { class: 'v-merged-meta' }, into.state === 'answered' ? t('state.answered') : t('viewer.votes_n', { n: into.votes || 0 })),
      onWall ? h('button', { type: 'button', class: 'btn btn-ghost btn-sm v-merged-go', onclick: () => showOnWall(into.id) }, t('viewer.merged_go')) : null) : null);
}

function renderMine(q) {
  const canChange = (q.state === 'pending' || q.state === 'published') && (store.session.status === 'open' || store.session.status === 'live');
  const parent = q.parent_id ? store.questions.get(q.parent_id) : null;
  const merged = q.state === 'dismissed' && q.merged_into != null;
  const stateKey = merged ? 'merged' : q.state;
  return h('article', { class: 'v-q v-mine', dataset: { qid: q.id, state: stateKey } },
    h('div', { class: 'v-q-chips' },
      h('span', { class: `chip chip-${merged ? 'merged' : q.state}` }, t(`my_state.${stateKey}`)),
      questionChips(q)),
    parent ? h('p', { class: 'v-mine-parent' }, icon('reply'), parent.text) : null,
    h('p', { class: 'v-q-text' }, q.text),
    merged ? renderMerged(q) : h('p', { class: 'v-mine-explain' }, t(`my_state_hint.${q.state}`)),
    q.state === 'dismissed' && !merged && q.dismiss_reason
      ? h('p', { class: 'v-dismiss-reason' }, h('span', { class: 'v-answer-label' }, t('viewer.dismiss_reason')), q.dismiss_reason) : null,
    q.state === 'answered' && q.answer_note ? h('p', { class: 'v-answer-note' }, h('span', { class: 'v-answer-label' }, t('viewer.answer_note')), q.answer_note) : null,
    h('div', { class: 'v-q-foot' },
      h('span', { class: 'v-q-meta' }, authorLabel(q), h('span', { class: 'v-q-dot' }, '·'), relTime(q.created_at),
        PUBLIC_STATES.has(q.state) ? [h('span', { class: 'v-q-dot' }, '·'), t('viewer.votes_n', { n: q.votes || 0 })] : null),
      canChange ? h('span', { class: 'v-mine-actions' },
        h('button', { type: 'button', class: 'btn btn-ghost btn-sm', onclick: () => editQuestion(q) }, t('viewer.edit')),
        h('button', { type: 'button', class: 'btn btn-ghost btn-sm', onclick: () => withdrawQuestion(q) }, t('viewer.withdraw'))) : null));
}

function renderOutboxItem(r) {
  return h('article', { class: 'v-q v-mine is-sending', dataset: { state: 'sending' } },
    h('div', { class: 'v-q-chips' }, h('span', { class: 'chip chip-sending' }, h('span', { class: 'v-spinner' }), t('my_state.sending'))),
    h('p', { class: 'v-q-text' }, r.text),
    h('p', { class: 'v-mine-explain' }, t('my_state_hint.sending')));
}

setInterval(() => { if (store.session) renderLists(); }, 60_000); // refresh "n minutes ago"
$('#session-title').textContent = t('viewer.loading');
renderLists();
if (!/^[A-Z0-9]{4,16}$/.test(code)) renderFailure({ code: 'not_found' });
else client.start();
