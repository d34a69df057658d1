// board.js — a programme's public page /p/<id> (phones first): its episodes (live now, coming
// up with the join link, past ones with their minutes) and the commitment board: every
// published commitment with the question that prompted it, its status history, follow-ups in
// later episodes and the residents' ratings, filterable by status, owner and episode. Reads
// the public API (/api/programs/<id>, .../commitments) and stays current through a board
// connection (board-live.js): status changes are applied in place, anything else reloads.
import { initI18n, t, onLangChange, lang } from './i18n.js';
import { BoardLive, applyActionEvent, applyRatingCounts, chainCurrent } from './board-live.js';
import { h, mount, $, icon } from './ui.js';

const STATUSES = ['open', 'in_progress', 'done', 'withdrawn'];
const RATINGS = ['satisfied', 'basically_satisfied', 'dissatisfied'];
const programId = Number(location.pathname.split('/').filter(Boolean)[1]) || 0;
const params = new URLSearchParams(location.search);
const state = {
  page: null,     // /api/programs/<id>
  board: null,    // /api/programs/<id>/commitments
  error: null,
  loading: false,
  again: false,   // something changed while loading: load once more
  filter: { status: params.get('status') || '', owner: params.get('owner') || '', session: params.get('session') || '' },
  flash: new Set(),
};

initI18n();
$('#brand-mark').append(icon('mic'));

// ---- data ----------------------------------------------------------------------------------

async function fetchJson(url) {
  const res = await fetch(url, { cache: 'no-store' });
  if (res.status === 404) throw Object.assign(new Error('not found'), { code: 'not_found' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}

async function load() {
  if (state.loading) { state.again = true; return; }
  state.loading = true;
  do {
    state.again = false;
    try {
      const [page, board] = await Promise.all([
        fetchJson(`/api/programs/${programId}`),
        fetchJson(`/api/programs/${programId}/commitments`),
      ]);
      state.page = page;
      state.board = board;
      state.error = null;
    } catch (e) {
      state.error = e.code || 'error';
    }
  } while (state.again);
  state.loading = false;
  render();
}

let reloadTimer = null;
/** Many boards hear the same event: spread their reloads over a second and a half. */
function reloadSoon() {
  if (reloadTimer) return;
  reloadTimer = setTimeout(() => { reloadTimer = null; load(); }, 200 + Math.random() * 1300);
}

const live = new BoardLive(programId);
live.addEventListener('status', (e) => renderConn(e.detail.status));
// Subscribed from here on: what is loaded now misses nothing (also after a reconnect).
live.addEventListener('welcome', () => load());
live.addEventListener('event', (e) => {
  const ev = e.detail;
  if (state.loading) state.again = true;
  if (ev.kind === 'action.changed') {
    if (applyActionEvent(state.board, ev) === 'reload') reloadSoon();
    else { state.flash.add(ev.action.id); renderCommitments(); }
  } else if (ev.kind === 'ratings.changed') {
    applyRatingCounts(state.board, ev);
    renderCommitments();
  } else if (ev.kind === 'session.changed' || ev.kind === 'program.changed') {
    reloadSoon(); // episodes move, a session's end publishes its commitments
  }
});

// ---- formatting ----------------------------------------------------------------------------

const locale = () => (lang() === 'zh' ? 'zh-CN' : 'en-GB');
function dayText(ms) {
  return ms ? new Date(ms).toLocaleDateString(locale(), { year: 'numeric', month: 'long', day: 'numeric' }) : '';
}
function dueText(iso) {
  if (!iso) return t('board.due_none');
  const [y, m, d] = iso.split('-').map(Number);
  return new Date(y, m - 1, d).toLocaleDateString(locale(), { year: 'numeric', month: 'long', day: 'numeric' });
}
function whenText(ms) {
  if (!ms) return t('board.date_tbd');
  const d = new Date(ms);
  return `${d.toLocaleDateString(locale(), { month: 'long', day: 'numeric', weekday: 'short' })} ${d.toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' })}`;
}
const panelistText = (p) => (p ? [p.name, p.affiliation].filter(Boolean).join(' · ') : '');

// ---- rendering -----------------------------------------------------------------------------

function renderConn(status) {
  const el = $('#conn');
  el.dataset.status = status;
  mount(el, h('span', { class: 'conn-dot', 'aria-hidden': 'true' }), h('span', { class: 'conn-text' }, t(`conn.${status}`)));
}

function render() {
  if (state.error) {
    mount($('#episode-list'));
    mount($('#list'), h('p', { class: 'empty' }, t(state.error === 'not_found' ? 'board.not_found' : 'board.error')));
    $('#title').textContent = state.error === 'not_found' ? t('board.not_found_title') : '';
    return;
  }
  if (!state.page) {
    mount($('#list'), h('p', { class: 'empty' }, t('board.loading')));
    return;
  }
  const p = state.page.program;
  $('#title').textContent = p.title;
  $('#program-name').textContent = p.title;
  $('#desc').textContent = p.description || '';
  document.title = `${p.title} · ${t('board.doc_title')}`;
  renderEpisodes();
  renderCommitments();
}

function episodeRow(ep, kind) {
  const link = kind === 'upcoming'
    ? h('a', { class: 'btn btn-secondary btn-sm', href: ep.join_url }, t('board.ask_ahead'))
    : ep.minutes_url
      ? h('a', { class: 'btn btn-ghost btn-sm', href: ep.minutes_url }, icon('paper'), t('board.minutes'))
      : h('span', { class: 'b-ep-note' }, t('board.minutes_pending'));
  return h('li', { class: 'b-ep', dataset: { code: ep.code } },
    h('div', { class: 'b-ep-body' },
      h('p', { class: 'b-ep-when num' }, kind === 'upcoming' ? whenText(ep.scheduled_at) : dayText(ep.started_at || ep.scheduled_at)),
      h('p', { class: 'b-ep-title' }, ep.title),
      ep.topic ? h('p', { class: 'b-ep-topic' }, ep.topic) : null),
    link);
}

function renderEpisodes() {
  const { live: onAir, upcoming, past } = state.page;
  const parts = [];
  for (const ep of onAir) {
    parts.push(h('a', { class: 'b-live card', href: ep.join_url, dataset: { code: ep.code } },
      h('span', { class: 'status-badge', dataset: { status: 'live' } }, t('board.live_now')),
      h('p', { class: 'b-live-title' }, ep.title),
      ep.topic ? h('p', { class: 'b-live-topic' }, ep.topic) : null,
      h('span', { class: 'btn btn-primary b-live-go' }, t('board.join_live'), h('span', { 'aria-hidden': 'true' }, ' →'))));
  }
  if (upcoming.length) {
    parts.push(h('h3', { class: 'b-sub' }, t('board.upcoming')),
      h('ul', { class: 'b-eps card' }, upcoming.map((ep) => episodeRow(ep, 'upcoming'))));
  }
  if (past.length) {
    parts.push(h('h3', { class: 'b-sub' }, t('board.past')),
      h('ul', { class: 'b-eps card' }, past.map((ep) => episodeRow(ep, 'past'))));
  }
  if (!parts.length) parts.push(h('p', { class: 'empty card' }, t('board.no_episodes')));
  mount($('#episode-list'), parts);
}

function matches(chain) {
  const f = state.filter;
  const cur = chain.current;
  if (f.status) {
    const wanted = f.status.split(',');
    if (!wanted.includes(cur.status) && !(wanted.includes('overdue') && cur.overdue)) return false;
  }
  if (f.owner && cur.owner !== f.owner) return false;
  if (f.session && chain.session !== f.session) return false;
  return true;
}

function setFilter(key, value) {
  state.filter[key] = value;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(state.filter)) if (v) q.set(k, v);
  history.replaceState(null, '', `${location.pathname}${q.toString() ? `?${q}` : ''}#commitments`);
  renderCommitments();
}

function ratingBar(r, label) {
  const total = RATINGS.reduce((n, k) => n + (r?.[k] || 0), 0);
  return h('div', { class: 'b-rating' },
    h('div', { class: 'b-rating-head' }, h('span', { class: 'b-rating-label' }, label),
      h('span', { class: 'b-rating-total num' }, total ? t('board.ratings_total', { n: total }) : t('board.no_ratings'))),
    total ? h('div', { class: 'b-rating-bar', role: 'img', 'aria-label': RATINGS.map((k) => `${t(`rating.${k}`)} ${r[k] || 0}`).join('，') },
      RATINGS.map((k) => (r[k] ? h('span', { class: `b-rating-seg b-rating-${k}`, style: { flexGrow: String(r[k]) } }) : null))) : null,
    total ? h('p', { class: 'b-rating-legend' }, RATINGS.map((k) =>
      h('span', { class: `b-rating-key b-rating-key-${k}` }, `${t(`rating.${k}`)} `, h('b', { class: 'num' }, String(r[k] || 0))))) : null);
}

function comments(list) {
  if (!list || !list.length) return null;
  return h('ul', { class: 'b-comments' }, list.map((c) =>
    h('li', { class: 'b-comment' }, h('span', { class: `b-comment-tag b-rating-key-${c.value}` }, t(`rating.${c.value}`)), c.text)));
}

function statusChip(status) {
  return h('span', { class: `chip chip-${status}` }, t(`act.status_${status}`));
}

function historyList(item) {
  return h('ol', { class: 'b-history' }, (item.history || []).map((e) =>
    h('li', { class: `b-history-item b-history-${e.status}` },
      h('time', { class: 'num', datetime: new Date(e.at).toISOString() }, dayText(e.at)),
      h('span', { class: 'b-history-status' }, t(`act.status_${e.status}`)),
      e.reason ? h('span', { class: 'b-history-reason' }, e.reason) : null)));
}

function rateLink(item) {
  const target = (state.page.live[0] || state.page.upcoming[0]);
  if (!target) return null;
  return h('a', { class: 'btn btn-secondary btn-sm b-rate', href: `${target.join_url}#rate-a${item.id}` }, t('board.rate'));
}

function followUp(f) {
  return h('li', { class: 'b-follow', dataset: { id: f.id } },
    h('div', { class: 'b-follow-head' }, statusChip(f.status),
      h('span', { class: 'b-follow-where' }, t('board.recorded_in', { title: f.session_title, date: dayText(f.session_date) }))),
    h('p', { class: 'b-follow-text' }, f.text),
    f.reason ? h('p', { class: 'b-note' }, f.reason) : null,
    h('p', { class: 'b-follow-meta' }, [f.owner ? t('board.meta_owner', { owner: f.owner }) : null, f.due ? t('board.meta_due', { due: dueText(f.due) }) : null].filter(Boolean).join(' · ')));
}

function card(chain) {
  const cur = chain.current;
  const q = chain.question;
  const flash = state.flash.has(chain.id) || (chain.follow_ups || []).some((f) => state.flash.has(f.id));
  const el = h('article', { class: `b-card card${flash ? ' is-updated' : ''}`, dataset: { id: chain.id, status: cur.status } },
    h('header', { class: 'b-card-head' },
      statusChip(cur.status),
      cur.overdue ? h('span', { class: 'chip chip-overdue' }, t('act.overdue')) : null,
      h('span', { class: 'topbar-spacer' }),
      h('span', { class: 'b-card-where' }, chain.session_title, chain.session_date ? ` · ${dayText(chain.session_date)}` : '')),
    h('h3', { class: 'b-card-text' }, chain.text),
    h('dl', { class: 'b-facts' },
      h('div', {}, h('dt', {}, t('board.owner')), h('dd', {}, cur.owner || t('board.owner_none'))),
      h('div', {}, h('dt', {}, t('board.due')), h('dd', { class: cur.overdue ? 'is-overdue' : '' }, dueText(cur.due))),
      chain.promised_by ? h('div', { class: 'b-fact-wide' }, h('dt', {}, t('board.promised_by')), h('dd', {}, panelistText(chain.promised_by))) : null),
    chain.reason ? h('p', { class: `b-note${chain.status === 'withdrawn' ? ' b-note-withdrawn' : ''}` },
      h('b', {}, chain.status === 'withdrawn' ? t('board.reason_withdrawn') : t('board.progress_note')), chain.reason) : null,
    q ? h('blockquote', { class: 'b-question' },
      h('p', { class: 'b-q-who' }, t('board.asked_by', { who: q.author || t('common.anonymous') }),
        q.to ? ` → ${panelistText(q.to)}` : ''),
      h('p', { class: 'b-q-text' }, q.text),
      q.answer_note ? h('p', { class: 'b-q-answer' }, h('b', {}, t('board.answer')), q.answer_note) : null,
      ratingBar(q.ratings, t('board.answer_ratings')),
      comments(q.comments)) : null,
    h('details', { class: 'b-more', open: (chain.history || []).length > 1 || (chain.follow_ups || []).length > 0 },
      h('summary', {}, t('board.history')),
      historyList(chain),
      (chain.follow_ups || []).length ? h('div', { class: 'b-follows' },
        h('h4', { class: 'b-follows-title' }, t('board.followups')),
        h('ol', {}, chain.follow_ups.map(followUp))) : null),
    ratingBar(chain.ratings, t('board.delivery_ratings')),
    comments(chain.comments),
    h('footer', { class: 'b-card-foot' },
      chain.minutes_url ? h('a', { href: chain.minutes_url }, icon('paper'), t('board.minutes_link')) : null,
      h('a', { href: `/s/${chain.session}` }, icon('link'), t('board.session_link')),
      h('span', { class: 'topbar-spacer' }),
      rateLink(chain)));
  return el;
}

function renderCommitments() {
  const b = state.board;
  if (!b || !state.page) return;
  for (const chain of b.commitments) chain.current = chain.current || chainCurrent(chain, b.today);
  const counts = { total: b.commitments.length, overdue: 0 };
  for (const s of STATUSES) counts[s] = 0;
  for (const chain of b.commitments) {
    counts[chain.current.status] += 1;
    if (chain.current.overdue) counts.overdue += 1;
  }
  const f = state.filter;
  // statistics, which are also the status filter (tap one; "all" clears it)
  const chosen = f.status ? f.status.split(',') : [''];
  const stat = (key, n, status) => h('button', {
    type: 'button', class: `b-stat b-stat-${key}`, 'aria-pressed': String(chosen.includes(status)),
    onclick: () => setFilter('status', f.status === status ? '' : status),
  }, h('b', { class: 'num' }, String(n)), h('span', {}, key === 'total' ? t('board.stat_total') : key === 'overdue' ? t('board.stat_overdue') : t(`act.status_${key}`)));
  mount($('#stats'), stat('total', counts.total, ''), STATUSES.map((s) => stat(s, counts[s], s)), stat('overdue', counts.overdue, 'overdue'));
  const owner = $('#owner-filter');
  mount(owner, h('option', { value: '' }, t('board.all_owners')), b.owners.map((o) => h('option', { value: o }, o)));
  owner.value = f.owner;
  owner.onchange = () => setFilter('owner', owner.value);
  const session = $('#session-filter');
  mount(session, h('option', { value: '' }, t('board.all_sessions')),
    b.sessions.map((s) => h('option', { value: s.code }, [s.title, s.date ? dayText(s.date) : null].filter(Boolean).join(' · '))));
  session.value = f.session;
  session.onchange = () => setFilter('session', session.value);
  const csv = $('#csv-link');
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v) q.set(k, v);
  csv.href = `/api/programs/${programId}/commitments.csv${q.toString() ? `?${q}` : ''}`;
  mount(csv, icon('download'), t('board.csv'));

  const shown = b.commitments.filter(matches);
  mount($('#list'), shown.length ? shown.map(card)
    : h('p', { class: 'empty card' }, b.commitments.length ? t('board.empty_filtered') : t('board.empty')));
  if (state.flash.size) setTimeout(() => { state.flash.clear(); for (const el of document.querySelectorAll('.b-card.is-updated')) el.classList.remove('is-updated'); }, 2500);
}

let connStatus = 'connecting';
live.addEventListener('status', (e) => { connStatus = e.detail.status; });
onLangChange(() => { render(); renderConn(connStatus); });
renderConn(connStatus);
render();
live.start();
load().then(() => {
  if (location.hash === '#commitments') $('#commitments').scrollIntoView();
});
