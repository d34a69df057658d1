// report.js — the show's report page: /report/<code> (one session) and
// /report/program/<id>?from=YYYY-MM-DD&to=YYYY-MM-DD (a programme over a date range). Reads
// report.json with the producer key (kept in this browser by the producer console, or typed in)
// and draws every chart itself as inline SVG (no chart service, nothing loaded from elsewhere);
// the page prints on A4 (css/report.css). Numbers and their definitions: docs/archive.md.
import { initI18n, t, onLangChange, lang } from './i18n.js';
import { h, mount, $, storageGet, storageSet } from './ui.js';

const KEY_STORAGE = 'forum.producerKey'; // the producer console's
const NS = 'http://www.w3.org/2000/svg';
const CHART_W = 640;

let report = null;
let route = null;

function parseRoute() {
  const parts = location.pathname.split('/').filter(Boolean); // ["report", ...]
  const params = new URLSearchParams(location.search);
  if (parts[1] === 'program' && /^[1-9]\d*$/.test(parts[2] || '')) {
    return { kind: 'program', id: parts[2], from: params.get('from') || '', to: params.get('to') || '' };
  }
  if (parts[1]) return { kind: 'session', code: decodeURIComponent(parts[1]) };
  return null;
}

function apiPath(r) {
  if (r.kind === 'session') return `/api/sessions/${encodeURIComponent(r.code)}/report.json`;
  const q = new URLSearchParams();
  if (r.from) q.set('from', r.from);
  if (r.to) q.set('to', r.to);
  const qs = q.toString();
  return `/api/programs/${r.id}/report.json${qs ? `?${qs}` : ''}`;
}

async function load() {
  const key = storageGet(KEY_STORAGE);
  if (!route) { showMessage(t('rep.no_route')); return; }
  if (!key) { showLogin(''); return; }
  let res;
  try {
    res = await fetch(apiPath(route), { headers: { Authorization: `Bearer ${key}` }, cache: 'no-store' });
  } catch (_) {
    showMessage(t('rep.offline'));
    return;
  }
  if (res.status === 401 || res.status === 403) { showLogin(t('rep.bad_key')); return; }
  if (res.status === 404) { showMessage(t('rep.not_found')); return; }
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    showMessage(body.message || t('rep.failed', { status: res.status }));
    return;
  }
  report = await res.json();
  $('#login').hidden = true;
  render();
}

function showLogin(message) {
  $('#login').hidden = false;
  mount($('#doc'));
  $('#login-error').textContent = message;
  $('#login-key').focus();
}

function showMessage(text) {
  $('#login').hidden = true;
  mount($('#doc'), h('p', { class: 'rep-message' }, text));
}

$('#login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const key = $('#login-key').value.trim();
  if (!key) return;
  storageSet(KEY_STORAGE, key);
  load();
});
$('#print').addEventListener('click', () => window.print());

// ---- formatting ----------------------------------------------------------------------------
const pct = (x) => `${Math.round((x || 0) * 100)}%`;
const num = (x) => (x == null ? '–' : Number(x).toLocaleString(lang() === 'zh' ? 'zh-CN' : 'en'));

function duration(ms) {
  if (ms == null) return '–';
  const s = Math.round(ms / 1000);
  const m = Math.floor(s / 60);
  const hh = Math.floor(m / 60);
  if (hh) return t('rep.dur_h', { h: hh, m: m % 60 });
  if (m) return t('rep.dur_m', { m, s: s % 60 });
  return t('rep.dur_s', { s });
}

function dateTime(ms) {
  if (!ms) return '–';
  return new Date(ms).toLocaleString(lang() === 'zh' ? 'zh-CN' : 'en-GB', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString(lang() === 'zh' ? 'zh-CN' : 'en-GB', { hour: '2-digit', minute: '2-digit' });
}

// ---- SVG charts ----------------------------------------------------------------------------
function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** Horizontal bars. rows: [{label, value, extra?}]; series: one or two values per row
 *  (value, and value2 drawn inside it: e.g. addressed and answered). */
function barChart(rows, { label, value2Label = null, valueLabel = null } = {}) {
  const rowH = 28;
  const labelW = 150;
  const barW = CHART_W - labelW - 70;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const height = rows.length * rowH + (value2Label ? 24 : 4);
  const chart = svg('svg', { class: 'rep-chart', viewBox: `0 0 ${CHART_W} ${height}`, width: CHART_W, height, role: 'img', 'aria-label': label },
    svg('title', {}, label),
    rows.map((r, i) => {
      const y = i * rowH + 4;
      const w = (r.value / max) * barW;
      const w2 = r.value2 != null ? (r.value2 / max) * barW : null;
      return svg('g', { class: 'rep-bar-row' },
        svg('text', { x: labelW - 8, y: y + 15, 'text-anchor': 'end', class: 'rep-label' }, r.label),
        svg('rect', { x: labelW, y, width: Math.max(w, r.value ? 2 : 0), height: 20, rx: 3, class: 'rep-bar' }),
        w2 != null ? svg('rect', { x: labelW, y: y + 5, width: Math.max(w2, r.value2 ? 2 : 0), height: 10, rx: 2, class: 'rep-bar-2' }) : null,
        svg('text', { x: labelW + Math.max(w, 0) + 6, y: y + 15, class: 'rep-value' },
          r.value2 != null ? `${num(r.value2)} / ${num(r.value)}` : (r.extra ? `${num(r.value)} · ${r.extra}` : num(r.value))));
    }),
    value2Label ? svg('g', { class: 'rep-legend' },
      svg('rect', { x: labelW, y: height - 16, width: 12, height: 10, class: 'rep-bar' }),
      svg('text', { x: labelW + 16, y: height - 7, class: 'rep-label' }, valueLabel),
      svg('rect', { x: labelW + 130, y: height - 14, width: 12, height: 6, class: 'rep-bar-2' }),
      svg('text', { x: labelW + 146, y: height - 7, class: 'rep-label' }, value2Label)) : null);
  return chart;
}

/** One bar split into parts ([{label, value, cls}]) with a legend that wraps. */
function stackChart(parts, label) {
  const total = parts.reduce((a, p) => a + p.value, 0);
  const height = 22;
  let x = 0;
  const bar = svg('svg', { class: 'rep-chart', viewBox: `0 0 ${CHART_W} ${height}`, width: CHART_W, height, role: 'img', 'aria-label': label },
    svg('title', {}, label),
    total ? parts.filter((p) => p.value).map((p) => {
      const w = (p.value / total) * CHART_W;
      const g = svg('g', {},
        svg('rect', { x, y: 0, width: w, height, class: `rep-seg ${p.cls}` }),
        w > 28 ? svg('text', { x: x + w / 2, y: 15, 'text-anchor': 'middle', class: 'rep-seg-text' }, num(p.value)) : null);
      x += w;
      return g;
    }) : svg('rect', { x: 0, y: 0, width: CHART_W, height, class: 'rep-seg rep-empty' }));
  const legend = h('ul', { class: 'rep-legend-list' }, parts.map((p) => h('li', {},
    svg('svg', { width: 12, height: 12, 'aria-hidden': 'true' }, svg('rect', { x: 0, y: 0, width: 12, height: 12, class: `rep-seg ${p.cls}` })),
    ` ${p.label} `, h('b', { class: 'num' }, num(p.value)))));
  return h('div', { class: 'rep-stack' }, bar, legend);
}

/** The audience curve: samples [{at, viewers}]. */
function lineChart(samples, label) {
  const W = CHART_W;
  const H = 220;
  const pad = { l: 44, r: 12, t: 12, b: 28 };
  if (samples.length < 2) {
    return h('p', { class: 'muted rep-none' }, t('rep.no_samples'));
  }
  const t0 = samples[0].at;
  const t1 = samples[samples.length - 1].at;
  const maxV = Math.max(1, ...samples.map((p) => p.viewers));
  const niceMax = (() => { const step = 10 ** Math.floor(Math.log10(maxV)); return Math.ceil(maxV / step) * step; })();
  const x = (at) => pad.l + ((at - t0) / Math.max(1, t1 - t0)) * (W - pad.l - pad.r);
  const y = (v) => H - pad.b - (v / niceMax) * (H - pad.t - pad.b);
  const pts = samples.map((p) => `${x(p.at).toFixed(1)},${y(p.viewers).toFixed(1)}`).join(' ');
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(niceMax * f));
  const xTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => t0 + (t1 - t0) * f);
  return svg('svg', { class: 'rep-chart rep-line', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': label },
    svg('title', {}, label),
    yTicks.map((v) => svg('g', {},
      svg('line', { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v), class: 'rep-grid' }),
      svg('text', { x: pad.l - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'rep-axis' }, num(v)))),
    xTicks.map((at) => svg('text', { x: x(at), y: H - 8, 'text-anchor': 'middle', class: 'rep-axis' }, clock(at))),
    svg('polygon', { points: `${x(t0)},${y(0)} ${pts} ${x(t1)},${y(0)}`, class: 'rep-area' }),
    svg('polyline', { points: pts, class: 'rep-curve' }));
}

// ---- the document --------------------------------------------------------------------------
function kpi(value, labelKey) {
  return h('div', { class: 'rep-kpi' }, h('b', { class: 'num' }, value), h('span', {}, t(labelKey)));
}

function section(titleKey, ...children) {
  return h('section', { class: 'rep-section' }, h('h2', {}, t(titleKey)), ...children);
}

function questionCharts(r) {
  const q = r.questions;
  return [
    section('rep.by_kind', barChart(['question', 'need', 'suggestion'].map((k) => ({ label: t(`kind.${k}`), value: q.by_category[k] })), { label: t('rep.by_kind') })),
    section('rep.by_source', barChart(['web', 'phone', 'paper', 'visit', 'carried'].map((k) => ({ label: t(`source.${k}`), value: q.by_source[k] })), { label: t('rep.by_source') })),
    section('rep.by_phase', barChart([{ label: t('rep.phase_pre'), value: q.by_phase.pre }, { label: t('rep.phase_live'), value: q.by_phase.live }], { label: t('rep.by_phase') })),
    section('rep.outcome', stackChart([
      { label: t('state.answered'), value: q.by_state.answered, cls: 'rep-c-answered' },
      { label: t('state.on_air'), value: q.by_state.on_air, cls: 'rep-c-onair' },
      { label: t('state.published'), value: q.by_state.published, cls: 'rep-c-published' },
      { label: t('state.pending'), value: q.by_state.pending, cls: 'rep-c-pending' },
      { label: t('state.dismissed'), value: q.by_state.dismissed, cls: 'rep-c-dismissed' },
      { label: t('state.withdrawn'), value: q.by_state.withdrawn, cls: 'rep-c-withdrawn' },
    ], t('rep.outcome')),
    h('p', { class: 'rep-note' }, t('rep.shares', { approved: pct(q.approved_share), answered: pct(q.answered_share), of_approved: pct(q.answered_of_approved), merged: q.merged }))),
    section('rep.time_to_air', r.time_to_air.count
      ? h('div', { class: 'rep-kpis rep-kpis-small' },
        kpi(duration(r.time_to_air.median_ms), 'rep.median'), kpi(duration(r.time_to_air.p90_ms), 'rep.p90'),
        kpi(duration(r.time_to_air.mean_ms), 'rep.mean'), kpi(duration(r.time_to_air.max_ms), 'rep.max'), kpi(num(r.time_to_air.count), 'rep.aired'))
      : h('p', { class: 'muted' }, t('rep.none_aired'))),
    section('rep.panelists', barChart([
      ...r.panelists.map((p) => ({ label: p.name, value: p.addressed, value2: p.answered })),
      { label: t('rep.whole_panel'), value: r.whole_panel.addressed, value2: r.whole_panel.answered },
    ], { label: t('rep.panelists'), valueLabel: t('rep.addressed'), value2Label: t('rep.answered') })),
  ];
}

function commitmentsSection(r) {
  const c = r.commitments;
  const list = r.actions || [];
  return section('rep.commitments',
    stackChart([
      { label: t('act.status_done'), value: c.by_status.done, cls: 'rep-c-answered' },
      { label: t('act.status_in_progress'), value: c.by_status.in_progress, cls: 'rep-c-onair' },
      { label: t('act.status_open'), value: c.by_status.open, cls: 'rep-c-pending' },
    ], t('rep.commitments')),
    list.length ? h('table', { class: 'rep-table' },
      h('thead', {}, h('tr', {}, h('th', {}, t('rep.col_commitment')), h('th', {}, t('rep.col_owner')), h('th', {}, t('rep.col_due')), h('th', {}, t('rep.col_status')))),
      h('tbody', {}, list.map((a) => h('tr', {}, h('td', {}, a.text), h('td', {}, a.owner || '–'), h('td', { class: 'num' }, a.due || '–'), h('td', {}, t(`act.status_${a.status}`)))))) : null);
}

function renderSession(r) {
  const s = r.session;
  const q = r.questions;
  return [
    h('header', { class: 'rep-head' },
      h('p', { class: 'rep-kicker' }, [s.program, t('rep.session_report')].filter(Boolean).join(' · ')),
      h('h1', {}, s.title),
      h('p', { class: 'muted' }, [s.topic, dateTime(s.started_at || s.scheduled_at), `${t('rep.code')} ${s.code}`, t(`status.${s.status}`)].filter(Boolean).join(' · '))),
    h('div', { class: 'rep-kpis' },
      kpi(num(q.total), 'rep.k_questions'), kpi(pct(q.approved_share), 'rep.k_approved'), kpi(pct(q.answered_share), 'rep.k_answered'),
      kpi(duration(r.time_to_air.median_ms), 'rep.k_wait'), kpi(num(r.audience.peak), 'rep.k_peak'), kpi(num(r.commitments.total), 'rep.k_commitments')),
    section('rep.audience', lineChart(r.audience.curve || [], t('rep.audience')),
      h('p', { class: 'rep-note' }, t('rep.audience_note', { samples: r.audience.samples, mean: num(r.audience.sample_mean), peak: num(r.audience.peak) }))),
    ...questionCharts(r),
    commitmentsSection(r),
  ];
}

function renderProgram(r) {
  const form = h('form', { class: 'rep-range no-print', onsubmit: (e) => {
    e.preventDefault();
    const from = form.querySelector('[name=from]').value;
    const to = form.querySelector('[name=to]').value;
    const q = new URLSearchParams();
    if (from) q.set('from', from);
    if (to) q.set('to', to);
    history.replaceState(null, '', `${location.pathname}${q.toString() ? `?${q}` : ''}`);
    route = parseRoute();
    load();
  } },
  h('label', {}, t('rep.from'), ' ', h('input', { class: 'input', type: 'date', name: 'from', value: r.from || '' })),
  h('label', {}, t('rep.to'), ' ', h('input', { class: 'input', type: 'date', name: 'to', value: r.to || '' })),
  h('button', { class: 'btn btn-secondary btn-sm', type: 'submit' }, t('rep.apply')));
  return [
    h('header', { class: 'rep-head' },
      h('p', { class: 'rep-kicker' }, t('rep.program_report')),
      h('h1', {}, r.program.title),
      h('p', { class: 'muted' }, r.from || r.to ? t('rep.range', { from: r.from || '…', to: r.to || '…' }) : t('rep.all_dates'))),
    form,
    h('div', { class: 'rep-kpis' },
      kpi(num(r.sessions.length), 'rep.k_sessions'), kpi(num(r.questions.total), 'rep.k_questions'), kpi(pct(r.questions.approved_share), 'rep.k_approved'),
      kpi(pct(r.questions.answered_share), 'rep.k_answered'), kpi(duration(r.time_to_air.median_ms), 'rep.k_wait'), kpi(num(r.commitments.total), 'rep.k_commitments')),
    section('rep.sessions', r.sessions.length ? h('table', { class: 'rep-table' },
      h('thead', {}, h('tr', {}, h('th', {}, t('rep.col_session')), h('th', {}, t('rep.col_date')), h('th', {}, t('rep.k_questions')), h('th', {}, t('rep.answered')), h('th', {}, t('rep.k_peak')), h('th', {}, t('rep.k_commitments')))),
      h('tbody', {}, r.sessions.map((s) => h('tr', {},
        h('td', {}, h('a', { href: `/report/${encodeURIComponent(s.code)}` }, s.title)), h('td', { class: 'num' }, dateTime(s.scheduled_at || s.started_at)),
        h('td', { class: 'num' }, num(s.questions)), h('td', { class: 'num' }, num(s.answered)), h('td', { class: 'num' }, num(s.peak_viewers)), h('td', { class: 'num' }, num(s.commitments))))))
      : h('p', { class: 'muted' }, t('rep.no_sessions'))),
    r.sessions.length ? section('rep.peaks', barChart(r.sessions.map((s) => ({ label: s.title.length > 12 ? `${[...s.title].slice(0, 11).join('')}…` : s.title, value: s.peak_viewers })), { label: t('rep.peaks') })) : null,
    ...questionCharts(r),
    commitmentsSection(r),
  ];
}

function render() {
  if (!report) return;
  const body = route.kind === 'program' ? renderProgram(report) : renderSession(report);
  mount($('#doc'), ...body, h('footer', { class: 'rep-foot' }, t('rep.generated', { at: dateTime(Date.now()) })));
  document.title = `${t('rep.doc_title')} · ${route.kind === 'program' ? report.program.title : report.session.title}`;
}

initI18n();
onLangChange(render);
route = parseRoute();
load();
