// ui.js — small DOM helpers shared by the pages: an element builder, toasts, dialogs,
// the connection indicator, error and time formatting, code-point counting.
import { t, lang } from './i18n.js';

/** Builds an element. attrs: class, text, html-free children, dataset ({...}), on<Event>
 *  handlers, boolean and string attributes. Children may be strings, nodes, arrays or null. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  appendChildren(el, children);
  return el;
}

function appendChildren(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) appendChildren(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the children of el. */
export function mount(el, ...children) {
  el.replaceChildren();
  appendChildren(el, children);
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

/** Length in Unicode code points (a Chinese character or an emoji counts one). */
export function codePoints(s) { return [...(s || '')].length; }

/** Wires a textarea/input to a counter element showing the remaining code points. */
export function bindCounter(input, counter, max) {
  const update = () => {
    const left = max - codePoints(input.value.trim());
    counter.textContent = left >= 0 ? t('counter.left', { n: left }) : t('counter.over', { n: -left });
    counter.classList.toggle('is-over', left < 0);
    counter.classList.toggle('is-near', left >= 0 && left <= 20);
    return left;
  };
  input.addEventListener('input', update);
  update();
  return update;
}

/** Plain-language text for an error from the client or the server. */
export function errorText(err) {
  const code = (err && err.code) || 'internal';
  if (code === 'rate_limited') {
    const seconds = Math.max(1, Math.ceil((err.retryAfterMs || err.retry_after_ms || 1000) / 1000));
    return t('error.rate_limited', { seconds });
  }
  const field = err && err.field;
  if (field === 'stream' && code === 'bad_request') {
    // the server names the flag when a host is not allowed (viewer page stream setting)
    return t(/--(embed|stream)-hosts/.test(err.message || '') ? 'error.stream_host' : 'error.stream_url');
  }
  let text = t(`error.${code}`);
  if (text === `error.${code}`) text = t('error.internal');
  if (field && (code === 'bad_request' || code === 'too_long' || code === 'not_found')) {
    const label = t(`field.${field}`);
    if (label !== `field.${field}`) text += t('error.field_suffix', { field: label });
  }
  return text;
}

let toastHost = null;
/** Shows a short message at the bottom of the screen. kind: 'info' | 'ok' | 'error'. */
export function toast(message, kind = 'info', ms = 3600) {
  if (!toastHost) {
    toastHost = h('div', { class: 'toast-host', role: 'status', 'aria-live': 'polite' });
    document.body.append(toastHost);
  }
  const el = h('div', { class: `toast toast-${kind}` }, message);
  toastHost.append(el);
  while (toastHost.children.length > 3) toastHost.firstElementChild.remove();
  requestAnimationFrame(() => el.classList.add('is-in'));
  setTimeout(() => {
    el.classList.remove('is-in');
    setTimeout(() => el.remove(), 300);
  }, ms);
}

/** Keeps an element showing the connection status of client (text and a colour dot). */
export function bindConnection(client, el) {
  let last = { status: 'connecting' };
  const render = () => {
    const { status, error } = last;
    el.dataset.status = status;
    const label = t(`conn.${status}`);
    el.title = status === 'failed' && error ? errorText(error) : '';
    mount(el, h('span', { class: 'conn-dot', 'aria-hidden': 'true' }), h('span', { class: 'conn-text' }, label));
  };
  client.addEventListener('status', (e) => { last = e.detail; render(); });
  render();
  return render;
}

/** "刚刚", "5 分钟前", or a clock time for older ones. */
export function relTime(ms) {
  if (!ms) return '';
  const diff = Date.now() - ms;
  if (diff < 60_000) return t('time.just_now');
  if (diff < 3_600_000) return t('time.minutes_ago', { n: Math.floor(diff / 60_000) });
  return clockTime(ms);
}

export function clockTime(ms) {
  const d = new Date(ms);
  const sameDay = new Date().toDateString() === d.toDateString();
  const time = d.toLocaleTimeString(lang() === 'zh' ? 'zh-CN' : 'en-GB', { hour: '2-digit', minute: '2-digit' });
  if (sameDay) return time;
  return `${dateText(ms)} ${time}`;
}

export function dateText(ms) {
  const d = new Date(ms);
  return d.toLocaleDateString(lang() === 'zh' ? 'zh-CN' : 'en-GB', { month: 'long', day: 'numeric', weekday: 'short' });
}

/** Opens a modal dialog built by build(close) and resolves with what close() was given. */
export function openDialog(build, { className = '' } = {}) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: `dialog ${className}` });
    let result;
    const close = (value) => { result = value; dialog.close(); };
    dialog.addEventListener('close', () => { dialog.remove(); resolve(result); });
    dialog.addEventListener('click', (e) => { if (e.target === dialog) close(undefined); });
    mount(dialog, build(close));
    document.body.append(dialog);
    dialog.showModal();
    const focusable = dialog.querySelector('[autofocus], textarea, input, select, button');
    if (focusable) focusable.focus();
  });
}

/** A yes/no confirmation dialog. */
export function confirmDialog(title, body, okLabel, { danger = false } = {}) {
  return openDialog((close) => h('form', { class: 'dialog-body', method: 'dialog', onsubmit: (e) => { e.preventDefault(); close(true); } },
    h('h2', { class: 'dialog-title' }, title),
    body ? h('p', { class: 'dialog-text' }, body) : null,
    h('div', { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => close(false) }, t('common.cancel')),
      h('button', { type: 'submit', class: `btn ${danger ? 'btn-danger' : 'btn-primary'}`, autofocus: true }, okLabel))));
}

/** Copies text to the clipboard, with a fallback for insecure origins. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (_) {
    const ta = h('textarea', { style: { position: 'fixed', opacity: '0' } });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch (_) { ok = false; }
    ta.remove();
    return ok;
  }
}

/** Inline SVG icons (stroke icons, 20x20 viewBox), so nothing is fetched from elsewhere. */
const ICONS = {
  thumb: 'M7 9v8H4V9h3zm2 8h6.2a2 2 0 0 0 2-1.6l1-5A2 2 0 0 0 16.2 8H12l.6-3.2A1.5 1.5 0 0 0 10 3.6L7.5 8.3',
  star: 'M10 2.8l2.2 4.6 5 .7-3.6 3.5.9 5-4.5-2.4-4.5 2.4.9-5L2.8 8.1l5-.7z',
  check: 'M4 10.5l4 4 8-9',
  x: 'M5 5l10 10M15 5L5 15',
  edit: 'M12.5 3.5l4 4L7 17H3v-4z',
  merge: 'M5 3v4a5 5 0 0 0 5 5h0a5 5 0 0 1 5 5v0M15 3v4a5 5 0 0 1-5 5M12 15l3 3 3-3',
  air: 'M10 10m-2 0a2 2 0 1 0 4 0a2 2 0 1 0-4 0M6 6a6 6 0 0 0 0 8M14 6a6 6 0 0 1 0 8M3.5 3.5a9.5 9.5 0 0 0 0 13M16.5 3.5a9.5 9.5 0 0 1 0 13',
  next: 'M4 4l8 6-8 6zM15 4v12',
  queue: 'M3 5h10M3 10h10M3 15h6M15 12v6M12 15h6',
  ban: 'M10 10m-7 0a7 7 0 1 0 14 0a7 7 0 1 0-14 0M5 5l10 10',
  undo: 'M7 4L3 8l4 4M3 8h9a5 5 0 0 1 0 10H8',
  phone: 'M5 3h3l1.5 4-2 1.2a9 9 0 0 0 4.3 4.3L13 10.5l4 1.5v3a2 2 0 0 1-2 2A13 13 0 0 1 3 5a2 2 0 0 1 2-2z',
  paper: 'M5 2h7l4 4v12H5zM12 2v4h4M8 10h5M8 13h5',
  visit: 'M3 9l7-6 7 6v8h-5v-5H8v5H3z',
  carried: 'M3 10h11M10 6l4 4-4 4M17 4v12',
  web: 'M10 10m-7 0a7 7 0 1 0 14 0a7 7 0 1 0-14 0M3 10h14M10 3c2.5 2.5 2.5 11.5 0 14M10 3c-2.5 2.5-2.5 11.5 0 14',
  reply: 'M8 5L3 10l5 5M3 10h9a5 5 0 0 1 5 5v2',
  grip: 'M7 5h.01M13 5h.01M7 10h.01M13 10h.01M7 15h.01M13 15h.01',
  copy: 'M7 7h10v10H7zM3 13V3h10',
  download: 'M10 3v10M6 9l4 4 4-4M4 17h12',
  mic: 'M10 2a3 3 0 0 1 3 3v5a3 3 0 0 1-6 0V5a3 3 0 0 1 3-3zM5 10a5 5 0 0 0 10 0M10 15v3',
  up: 'M10 15V5M6 9l4-4 4 4',
  down: 'M10 5v10M6 11l4 4 4-4',
  plus: 'M10 4v12M4 10h12',
  search: 'M9 9m-5 0a5 5 0 1 0 10 0a5 5 0 1 0-10 0M13 13l4 4',
  user: 'M10 7m-3.5 0a3.5 3.5 0 1 0 7 0a3.5 3.5 0 1 0-7 0M3.5 17.5a6.5 6.5 0 0 1 13 0',
  chart: 'M4 16V9M10 16V4M16 16v-5',
  clock: 'M10 10m-7 0a7 7 0 1 0 14 0a7 7 0 1 0-14 0M10 6v4l3 2',
  key: 'M7 13m-3 0a3 3 0 1 0 6 0a3 3 0 1 0-6 0M9.2 10.8L16 4M13 7l2 2',
  link: 'M8.5 11.5a3.5 3.5 0 0 0 5 0l2.5-2.5a3.5 3.5 0 0 0-5-5L10 5M11.5 8.5a3.5 3.5 0 0 0-5 0L4 11a3.5 3.5 0 0 0 5 5l1-1',
  info: 'M10 10m-7 0a7 7 0 1 0 14 0a7 7 0 1 0-14 0M10 9v5M10 6.2v.1',
  qr: 'M3 3h5v5H3zM12 3h5v5h-5zM3 12h5v5H3zM12 12h2v2h-2zM15 15h2v2h-2zM12 16.5h1M16.5 12h.5',
};

export function icon(name, cls = '') {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 20 20');
  svg.setAttribute('class', `icon ${cls}`.trim());
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', ICONS[name] || '');
  svg.append(path);
  return svg;
}

/** The join code from a path like /s/K7M3PQ or /overlay/K7M3PQ (upper-cased). */
export function codeFromPath() {
  const parts = location.pathname.split('/').filter(Boolean);
  const code = parts.length >= 2 ? parts[1] : '';
  return decodeURIComponent(code).toUpperCase();
}

export function storageGet(key, fallback = null) {
  try {
    const v = localStorage.getItem(key);
    return v === null ? fallback : v;
  } catch (_) {
    return fallback;
  }
}

export function storageSet(key, value) {
  try {
    if (value === null || value === undefined || value === '') localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch (_) { /* ignore */ }
}
