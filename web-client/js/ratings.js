// ratings.js — satisfaction ratings (满意度), shared by the viewer page (rating an answer or a
// commitment's delivery, with an optional comment) and the moderator console (moderating the
// comments). Knows the protocol's rating objects and counts; the pages send the requests.
import { t } from './i18n.js';
import { h, openDialog, bindCounter, codePoints } from './ui.js';

export const RATING_VALUES = ['satisfied', 'basically_satisfied', 'dissatisfied'];
export const COMMENT_MAX = 200;

/** "满意 3 · 基本满意 1 · 不满意 0", or the no-ratings text. */
export function countsText(counts) {
  const total = RATING_VALUES.reduce((n, v) => n + ((counts && counts[v]) || 0), 0);
  if (!total) return t('rate.none_yet');
  return RATING_VALUES.map((v) => `${t(`rating.${v}`)} ${counts[v] || 0}`).join(' · ');
}

/**
 * The three buttons of a rating, the counts under them and, once rated, a link to add or
 * change a comment. opts: label, mine (the viewer's rating object or null), counts, disabled,
 * onRate(value), onComment().
 */
export function ratingControl({ label, mine = null, counts = null, disabled = false, onRate, onComment }) {
  const buttons = RATING_VALUES.map((v) => h('button', {
    type: 'button', class: `rate-btn rate-${v}${mine && mine.value === v ? ' is-chosen' : ''}`,
    'aria-pressed': String(Boolean(mine && mine.value === v)), disabled, onclick: () => onRate(v),
  }, t(`rating.${v}`)));
  const comment = mine && mine.comment
    ? h('p', { class: 'rate-comment' }, t('rate.your_comment'), mine.comment,
      mine.comment_state === 'pending' ? h('span', { class: 'rate-pending' }, t('rate.comment_pending')) : null,
      mine.comment_state === 'dismissed' ? h('span', { class: 'rate-pending' }, t('rate.comment_dismissed')) : null)
    : null;
  return h('div', { class: 'rate' },
    h('p', { class: 'rate-label' }, label),
    h('div', { class: 'rate-buttons', role: 'group', 'aria-label': label }, buttons),
    h('p', { class: 'rate-counts num' }, countsText(counts),
      mine && !disabled ? h('button', { type: 'button', class: 'btn btn-ghost btn-sm rate-comment-btn', onclick: onComment },
        mine.comment ? t('rate.change_comment') : t('rate.add_comment')) : null),
    comment);
}

/** Asks for a short comment (<= COMMENT_MAX code points). Resolves with the text ('' removes
 *  the comment) or null when cancelled. */
export function commentDialog(current = '') {
  return openDialog((close) => {
    const ta = h('textarea', { class: 'textarea', rows: 3, maxlength: 400, placeholder: t('rate.comment_placeholder') });
    ta.value = current || '';
    const counter = h('span', { class: 'counter' });
    bindCounter(ta, counter, COMMENT_MAX);
    const error = h('p', { class: 'c-login-error', role: 'alert' });
    return h('form', { class: 'dialog-body', onsubmit: (e) => {
      e.preventDefault();
      const text = ta.value.trim();
      if (codePoints(text) > COMMENT_MAX) { error.textContent = t('error.too_long'); return; }
      close(text);
    } },
    h('h2', { class: 'dialog-title' }, t('rate.comment_title')),
    h('p', { class: 'dialog-text' }, t('rate.comment_hint')),
    ta, h('div', { class: 'v-form-row v-form-row-end' }, counter), error,
    h('div', { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => close(null) }, t('common.cancel')),
      h('button', { type: 'submit', class: 'btn btn-primary' }, t('rate.comment_send'))));
  });
}
