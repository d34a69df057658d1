// i18n.js — owns the user's language: picks it (saved choice, else the browser's language,
// else Simplified Chinese), translates keys from i18n/zh.js and i18n/en.js, fills elements
// marked with data-i18n* attributes, and wires language toggle buttons.
import zh from '../i18n/zh.js';
import en from '../i18n/en.js';

const dictionaries = { zh, en };
const STORAGE_KEY = 'forum.lang';
const listeners = new Set();

function initialLanguage() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved && dictionaries[saved]) return saved;
  } catch (_) { /* storage disabled: fall through */ }
  const browser = (navigator.language || '').toLowerCase();
  return browser.startsWith('en') ? 'en' : 'zh';
}

let current = initialLanguage();

/** The current language code: "zh" or "en". */
export function lang() { return current; }

/** Translates key, replacing {name} placeholders from params. Falls back to Chinese, then to
 *  the key itself, so a missing string is visible but never breaks the page. */
export function t(key, params) {
  let s = dictionaries[current][key];
  if (s === undefined) s = zh[key];
  if (s === undefined) return key;
  if (typeof s === 'function') return s(params || {});
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (params[k] !== undefined ? String(params[k]) : m));
  return s;
}

/** True if the dictionary has key (used for optional per-code messages). */
export function has(key) { return dictionaries[current][key] !== undefined || zh[key] !== undefined; }

/** Fills data-i18n (text), data-i18n-placeholder, data-i18n-title and data-i18n-aria-label
 *  under root, sets <html lang> and the document title (data-i18n-doc-title on <html>). */
export function applyTranslations(root = document) {
  document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
  const docTitle = document.documentElement.dataset.i18nDocTitle;
  if (docTitle) document.title = t(docTitle);
  for (const btn of document.querySelectorAll('[data-lang-toggle]')) {
    btn.textContent = t('lang.toggle');
    btn.setAttribute('aria-label', t('lang.toggle_label'));
  }
}

/** Switches language, remembers it, re-translates static text and notifies listeners (pages
 *  re-render their dynamic parts). */
export function setLang(code, { persist = true } = {}) {
  if (!dictionaries[code] || code === current) return;
  current = code;
  if (persist) {
    try { localStorage.setItem(STORAGE_KEY, code); } catch (_) { /* ignore */ }
  }
  applyTranslations();
  for (const fn of listeners) fn(current);
}

/** Registers fn(lang) to run after every language change. */
export function onLangChange(fn) { listeners.add(fn); }

/** Translates the page once and makes every [data-lang-toggle] button switch zh <-> en. */
export function initI18n() {
  applyTranslations();
  for (const btn of document.querySelectorAll('[data-lang-toggle]')) {
    btn.addEventListener('click', () => setLang(current === 'zh' ? 'en' : 'zh'));
  }
}
