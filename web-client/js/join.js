// join.js — the landing page: takes a join code and opens the viewer page /s/<code>, and lists
// what is live and coming up across the listed programmes (/api/programs), with links to each
// programme's page and commitment board (/p/<id>), for residents who have no code.
import { initI18n, t, onLangChange, lang } from './i18n.js';
import { $, h, mount, icon } from './ui.js';

const CODE_ALPHABET = /^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{6}$/;

initI18n();
$('#brand-mark').append(icon('mic'));
$('#join-emblem').append(icon('mic'));

const input = $('#code');
const error = $('#join-error');
input.addEventListener('input', () => {
  const cleaned = input.value.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 6);
  if (cleaned !== input.value) input.value = cleaned;
  error.textContent = '';
});
$('#join-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const code = input.value.trim().toUpperCase();
  if (!CODE_ALPHABET.test(code)) {
    error.textContent = t('join.invalid_code');
    input.focus();
    return;
  }
  location.href = `/s/${encodeURIComponent(code)}`;
});
input.focus();

// ---- what is live and coming up ------------------------------------------------------------
let listing = null;

function when(ms) {
  if (!ms) return t('board.date_tbd');
  const loc = lang() === 'zh' ? 'zh-CN' : 'en-GB';
  const d = new Date(ms);
  return `${d.toLocaleDateString(loc, { month: 'long', day: 'numeric', weekday: 'short' })} ${d.toLocaleTimeString(loc, { hour: '2-digit', minute: '2-digit' })}`;
}

function episode(ep, live) {
  return h('li', { class: 'b-ep', dataset: { code: ep.code } },
    h('div', { class: 'b-ep-body' },
      h('p', { class: 'b-ep-program' }, ep.program || ''),
      h('p', { class: 'b-ep-title' }, ep.title),
      h('p', { class: 'b-ep-when num' }, live ? t('board.live_now') : when(ep.scheduled_at)),
      ep.topic ? h('p', { class: 'b-ep-topic' }, ep.topic) : null),
    h('a', { class: `btn ${live ? 'btn-primary' : 'btn-secondary'} btn-sm`, href: ep.join_url }, live ? t('board.join_live') : t('board.ask_ahead')));
}

function renderLists() {
  if (!listing) return;
  const parts = [];
  if (listing.live.length) {
    parts.push(h('h2', { class: 'b-section-title' }, t('join.live_title')),
      h('ul', { class: 'b-eps card' }, listing.live.map((ep) => episode(ep, true))));
  }
  if (listing.upcoming.length) {
    parts.push(h('h2', { class: 'b-section-title b-sub-gap' }, t('join.upcoming_title')),
      h('ul', { class: 'b-eps card' }, listing.upcoming.map((ep) => episode(ep, false))));
  }
  if (listing.programs.length) {
    parts.push(h('h2', { class: 'b-section-title b-sub-gap' }, t('join.programs_title')),
      h('div', { class: 'join-programs' }, listing.programs.map((p) =>
        h('a', { class: 'join-program card', href: `/p/${p.id}` }, icon('chart'), p.title))));
  }
  mount($('#lists'), parts);
  if (listing.live.length || listing.upcoming.length) $('.join-foot').textContent = t('join.foot_lists');
}

fetch('/api/programs', { cache: 'no-store' })
  .then((res) => (res.ok ? res.json() : null))
  .then((data) => { listing = data; renderLists(); })
  .catch(() => { /* the join box still works */ });
onLangChange(renderLists);
