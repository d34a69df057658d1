// overlay.js — the on-air graphics /overlay/<code> for OBS's browser source. Read-only: it
// joins as a viewer with its own random token and the hello flag "overlay" (a display, not
// counted in the audience), and sends nothing but hello and, for a follow-up whose question it
// lacks, questions.list. Shows the question on air as a lower third — a follow-up with the
// question it follows — (or the banner when nothing is on air) and the open poll's live
// results, animating out and in on every change.
// Query parameters: position=bottom|top, theme=dark|light, scale=<0.5..2>, lang=zh|en
// (default zh: broadcast graphics follow the show, not the language of the OBS machine),
// show=<parts> (comma-separated: lower, poll, qr; default lower,poll) where qr is the join QR
// code with "扫码提问" and the code in a corner, corner=top-left|top-right|bottom-left|
// bottom-right (default: the one the lower third and the poll leave free).
// show=commitment&id=<action id> puts one published commitment of the programme in the lower
// third instead of the question (status, owner, due date, who promised, satisfaction), kept
// current through the programme's board connection; nothing shows while it is not published
// (show=commitment,poll,qr combines it with the other parts).
import { initI18n, t, setLang } from './i18n.js';
import { ForumClient, deviceToken } from './client.js';
import { SessionStore } from './store.js';
import { h, mount, $, codeFromPath } from './ui.js';
import { BoardLive, applyActionEvent, applyRatingCounts } from './board-live.js';

const params = new URLSearchParams(location.search);
const root = document.documentElement;
root.dataset.position = params.get('position') === 'top' ? 'top' : 'bottom';
root.dataset.theme = params.get('theme') === 'light' ? 'light' : 'dark';
const scale = Number.parseFloat(params.get('scale') || '1');
root.style.setProperty('--scale', String(Number.isFinite(scale) && scale >= 0.5 && scale <= 2 ? scale : 1));
setLang(params.get('lang') === 'en' ? 'en' : 'zh', { persist: false });
initI18n();
const parts = new Set((params.get('show') || 'lower,poll').split(',').map((x) => x.trim()));
const CORNERS = ['top-left', 'top-right', 'bottom-left', 'bottom-right'];
root.dataset.corner = CORNERS.includes(params.get('corner')) ? params.get('corner')
  : root.dataset.position === 'top' ? 'top-right' : 'bottom-right';

const code = codeFromPath();
const store = new SessionStore();
const client = new ForumClient({ session: code, role: 'viewer', token: deviceToken('forum.overlayToken'), hello: { overlay: true } });
client.addEventListener('welcome', (e) => { if (e.detail.snapshot) store.reset(e.detail.snapshot); });
client.addEventListener('event', (e) => store.apply(e.detail));
client.addEventListener('status', (e) => { root.dataset.conn = e.detail.status; });

const OUT_MS = 450;
const shown = { lower: null, poll: null };

/** Swaps what a panel shows: animate out, replace content, animate in. key identifies the
 *  content (same key: update in place, no animation); null hides the panel. */
function swap(el, slot, key, fill) {
  if (key === shown[slot]) {
    if (key !== null) fill();
    return;
  }
  const wasVisible = shown[slot] !== null;
  shown[slot] = key;
  el.classList.remove('is-visible');
  const show = () => {
    if (shown[slot] !== key) return; // changed again meanwhile
    if (key === null) { el.dataset.key = ''; return; }
    fill();
    el.dataset.key = key;
    void el.offsetWidth; // restart the transition
    el.classList.add('is-visible');
  };
  if (wasVisible) setTimeout(show, OUT_MS); else show();
}

/** The lower third: the commitment asked for in the address, else the question on air. */
function renderLower() {
  if (commitmentId) renderCommitment();
  else renderQuestionLower();
}

function renderQuestionLower() {
  const q = store.onAirQuestion();
  const banner = (store.panel.banner || '').trim();
  const lower = $('#lower');
  if (q) {
    const parent = q.parent_id != null ? store.questions.get(q.parent_id) : null;
    if (q.parent_id != null && !parent) store.ensureQuestion(client, q.parent_id); // re-renders
    // When the parent arrives the same key re-renders: the graphic is filled in place.
    swap(lower, 'lower', `q${q.id}`, () => {
      const to = store.panelist(q.to);
      lower.classList.remove('is-banner');
      lower.classList.toggle('is-follow-up', q.parent_id != null);
      lower.dataset.qid = String(q.id);
      $('#lower-tag').textContent = q.parent_id != null ? t('overlay.kind_follow_up') : t(`overlay.kind_${q.category || 'question'}`);
      const parentEl = $('#lower-parent');
      parentEl.hidden = !parent;
      mount(parentEl, parent ? [h('b', {}, t('overlay.follow_up_of')), ' ', parent.text] : []);
      $('#lower-to').textContent = to ? t('overlay.to', { name: [to.name, to.affiliation].filter(Boolean).join(' · ') }) : '';
      const text = $('#lower-text');
      text.textContent = q.text;
      text.classList.toggle('is-long', [...q.text].length > 90);
      const meta = [h('b', {}, q.author || t('common.anonymous'))];
      if (q.source && q.source !== 'web') meta.push(' · ', t(`source.${q.source}`));
      if (q.source === 'carried' && q.carried_source && q.carried_source !== 'web') meta.push(' · ', t(`source.${q.carried_source}`));
      if (q.votes) meta.push(' · ', t('overlay.votes', { n: q.votes }));
      mount($('#lower-meta'), meta);
    });
  } else if (banner) {
    swap(lower, 'lower', `b${banner}`, () => {
      const segment = store.segment(store.panel.segment_id);
      lower.classList.add('is-banner');
      lower.classList.remove('is-follow-up');
      lower.dataset.qid = '';
      $('#lower-parent').hidden = true;
      $('#lower-tag').textContent = segment ? segment.title : (store.session && store.session.title) || '';
      $('#lower-to').textContent = '';
      $('#lower-text').textContent = banner;
      $('#lower-text').classList.remove('is-long');
      mount($('#lower-meta'));
    });
  } else {
    swap(lower, 'lower', null, () => {});
    lower.dataset.qid = '';
  }
}

function renderPoll() {
  const open = [...store.polls.values()].filter((p) => p.state === 'open').sort((a, b) => b.id - a.id)[0] || null;
  const el = $('#poll');
  swap(el, 'poll', open ? `p${open.id}` : null, () => {
    const total = open.options.reduce((n, o) => n + (o.votes || 0), 0);
    const lead = Math.max(...open.options.map((o) => o.votes || 0));
    $('#poll-tag').textContent = t('overlay.poll');
    $('#poll-total').textContent = t('poll.total', { n: total });
    $('#poll-title').textContent = open.title;
    const rows = $('#poll-options');
    // Update bars in place so the widths animate between counts.
    if (rows.children.length !== open.options.length || rows.dataset.poll !== String(open.id)) {
      rows.dataset.poll = String(open.id);
      mount(rows, open.options.map((o) => h('div', { class: 'ov-poll-row', dataset: { option: o.id } },
        h('span', { class: 'ov-poll-label' }), h('span', { class: 'ov-poll-pct' }),
        h('span', { class: 'ov-poll-bar' }, h('span', { class: 'ov-poll-fill' })))));
    }
    open.options.forEach((o, i) => {
      const row = rows.children[i];
      const pct = total ? Math.round(((o.votes || 0) * 100) / total) : 0;
      row.querySelector('.ov-poll-label').textContent = o.text;
      row.querySelector('.ov-poll-pct').textContent = `${pct}%`;
      row.classList.toggle('is-lead', total > 0 && (o.votes || 0) === lead);
      requestAnimationFrame(() => { row.querySelector('.ov-poll-fill').style.width = `${pct}%`; });
    });
  });
}

// ---- one commitment on air (?show=commitment&id=) --------------------------------------------
const commitmentId = parts.has('commitment') ? Number(params.get('id')) || 0 : 0;
const commitment = { board: null, live: null, program: null, loading: false, again: false };

/** Reads the commitment afresh; a change announced while a read is under way reads again. */
async function loadCommitment() {
  if (!commitment.program) return;
  if (commitment.loading) { commitment.again = true; return; }
  commitment.loading = true;
  do {
    commitment.again = false;
    try {
      const res = await fetch(`/api/programs/${commitment.program}/commitments?id=${commitmentId}`, { cache: 'no-store' });
      commitment.board = res.ok ? await res.json() : null;
    } catch (_) { /* keeps what it showed */ }
  } while (commitment.again);
  commitment.loading = false;
  renderLower();
}

/** The commitment shown: the chain holding commitmentId, and that item in it. */
function shownCommitment() {
  const chain = commitment.board && commitment.board.commitments[0];
  if (!chain) return null;
  const item = [chain, ...(chain.follow_ups || [])].find((x) => x.id === commitmentId) || chain;
  return { chain, item };
}

function renderCommitment() {
  const lower = $('#lower');
  const shown = shownCommitment();
  if (!shown) { swap(lower, 'lower', null, () => {}); return; }
  const { chain, item } = shown;
  swap(lower, 'lower', `a${item.id}`, () => {
    const cur = chain.current || {};
    lower.classList.remove('is-banner');
    lower.dataset.actionId = String(item.id);
    $('#lower-tag').textContent = `${t('overlay.commitment')} · ${t(`act.status_${cur.status || item.status}`)}`;
    $('#lower-to').textContent = item.promised_by ? t('overlay.promised_by', { name: item.promised_by.name }) : '';
    const text = $('#lower-text');
    text.textContent = item.text;
    text.classList.toggle('is-long', [...item.text].length > 90);
    const r = chain.ratings || {};
    const total = (r.satisfied || 0) + (r.basically_satisfied || 0) + (r.dissatisfied || 0);
    const meta = [h('b', {}, cur.owner || t('board.owner_none'))];
    meta.push(' · ', cur.due ? t('act.due_on', { due: cur.due }) : t('act.due_none'));
    if (cur.overdue) meta.push(' · ', t('act.overdue'));
    // the hotline's 满意率: satisfied and basically satisfied, of all ratings
    if (total) meta.push(' · ', t('overlay.satisfaction', { pct: Math.round((((r.satisfied || 0) + (r.basically_satisfied || 0)) * 100) / total), n: total }));
    mount($('#lower-meta'), meta);
  });
}

function startCommitment(programId) {
  if (commitment.program === programId) return;
  commitment.program = programId;
  if (commitment.live) commitment.live.stop();
  commitment.live = new BoardLive(programId);
  commitment.live.addEventListener('welcome', () => loadCommitment());
  commitment.live.addEventListener('event', (e) => {
    const ev = e.detail;
    if (ev.kind === 'action.changed') {
      if (applyActionEvent(commitment.board, ev) === 'reload' || ev.action.published === false) loadCommitment();
      else renderLower();
    } else if (ev.kind === 'ratings.changed') {
      applyRatingCounts(commitment.board, ev);
      renderLower();
    } else {
      loadCommitment();
    }
  });
  commitment.live.start();
}

function renderQr() {
  const el = $('#qr');
  $('#qr-scan').textContent = t('overlay.qr_scan');
  $('#qr-session').textContent = t('overlay.qr_code', { code });
  el.hidden = !store.session;
}

if (parts.has('qr')) {
  const img = $('#qr-code');
  img.addEventListener('load', () => { $('#qr').classList.add('is-visible'); });
  img.src = `/s/${encodeURIComponent(code)}/qr.svg`;
}

store.addEventListener('change', () => {
  if (commitmentId && store.session && store.session.program_id) startCommitment(store.session.program_id);
  if (parts.has('lower') || commitmentId) renderLower();
  if (parts.has('poll')) renderPoll();
  if (parts.has('qr')) renderQr();
});
client.start();
