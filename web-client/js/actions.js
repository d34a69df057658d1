// actions.js — action items (commitments made on air), shared by the moderator console and the
// producer console: one row per item (status, owner, due date, linked question) and the dialog
// that creates or edits one. Knows the protocol's action object; the pages send the requests.
import { t } from './i18n.js';
import { h, icon, openDialog, bindCounter } from './ui.js';

export const ACTION_STATUSES = ['open', 'in_progress', 'done'];
const TEXT_MAX = 500;

/** Today as YYYY-MM-DD in local time. */
export function todayIso() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function overdue(a) {
  return a.due && a.status !== 'done' && a.due < todayIso();
}

/**
 * One action item as a row.
 * opts: question (the linked question object, if known), earlier (true for an item of an
 * earlier session: shows where it was made), onStatus(status), onEdit(), readOnly.
 */
export function actionRow(a, { question = null, earlier = false, onStatus = null, onEdit = null, readOnly = false } = {}) {
  const status = h('select', {
    class: 'select select-sm act-status-select',
    'aria-label': t('act.status_label'),
    disabled: readOnly || !onStatus,
    onchange: (e) => onStatus && onStatus(e.target.value),
  }, ACTION_STATUSES.map((s) => h('option', { value: s, selected: a.status === s }, t(`act.status_${s}`))));
  status.value = a.status;
  return h('div', { class: 'act-item', dataset: { actionId: a.id, status: a.status } },
    h('span', { class: 'act-dot', 'aria-hidden': 'true' }),
    h('div', { class: 'act-body' },
      h('p', { class: 'act-text' }, a.text),
      h('div', { class: 'act-meta' },
        h('span', { class: 'act-owner' }, icon('user'), a.owner || t('act.owner_none')),
        h('span', { class: `act-due${overdue(a) ? ' is-overdue' : ''}` }, icon('clock'),
          a.due ? t('act.due_on', { due: a.due }) : t('act.due_none'),
          overdue(a) ? h('b', {}, ` · ${t('act.overdue')}`) : null),
        earlier ? h('span', { class: 'act-from num' }, t('act.from_session', { code: a.session })) : null,
        a.question_id ? h('span', { class: 'act-q', title: question ? question.text : '' }, icon('reply'),
          question ? t('act.for_question', { id: a.question_id, text: shorten(question.text, 24) }) : t('act.for_question_id', { id: a.question_id })) : null)),
    h('div', { class: 'act-controls' },
      status,
      onEdit && !readOnly ? h('button', { type: 'button', class: 'btn btn-ghost btn-icon', title: t('act.edit'), 'aria-label': t('act.edit'), onclick: onEdit }, icon('edit')) : null));
}

function shorten(s, n) {
  const cps = [...(s || '')];
  return cps.length > n ? `${cps.slice(0, n).join('')}…` : cps.join('');
}

/**
 * The create / edit dialog. Resolves with {text, owner, due, status, question_id?} (owner and
 * due null when empty) or null when cancelled.
 * opts: action (editing), question (the question it is linked to, shown as a quote),
 * questions (a list to choose the linked question from; '' = none).
 */
export function actionDialog({ action = null, question = null, questions = null } = {}) {
  return openDialog((close) => {
    const text = h('textarea', { class: 'textarea', rows: 3, name: 'act-text', placeholder: t('act.text_placeholder') });
    text.value = action ? action.text : '';
    const counter = h('span', { class: 'counter' });
    bindCounter(text, counter, TEXT_MAX);
    const owner = h('input', { class: 'input', name: 'act-owner', maxlength: 200, value: action && action.owner ? action.owner : '', placeholder: t('act.owner_placeholder') });
    const due = h('input', { class: 'input', name: 'act-due', type: 'date', value: action && action.due ? action.due : '' });
    const status = h('select', { class: 'select', name: 'act-status' }, ACTION_STATUSES.map((s) => h('option', { value: s }, t(`act.status_${s}`))));
    status.value = action ? action.status : 'open';
    let pick = null;
    if (questions) {
      pick = h('select', { class: 'select', name: 'act-question' },
        h('option', { value: '' }, t('act.no_question')),
        questions.map((x) => h('option', { value: String(x.id) }, `#${x.id} ${shorten(x.text, 40)}`)));
      pick.value = action && action.question_id ? String(action.question_id) : '';
    }
    const error = h('p', { class: 'c-login-error', role: 'alert' });
    return h('form', { class: 'dialog-body act-dialog', onsubmit: (e) => {
      e.preventDefault();
      const value = text.value.trim();
      if (!value) { error.textContent = t('act.text_required'); text.focus(); return; }
      if ([...value].length > TEXT_MAX) { error.textContent = t('error.too_long'); return; }
      const out = { text: value, owner: owner.value.trim() || null, due: due.value || null, status: status.value };
      if (pick) out.question_id = pick.value ? Number(pick.value) : null;
      close(out);
    } },
    h('h2', { class: 'dialog-title' }, action ? t('act.edit_title') : t('act.new_title')),
    question ? h('p', { class: 'dialog-quote' }, h('span', { class: 'num' }, `#${question.id} `), question.text) : null,
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('act.text_label')), text),
    h('div', { class: 'side-row' }, h('span', { class: 'topbar-spacer' }), counter),
    h('div', { class: 'act-dialog-grid' },
      h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('act.owner_label')), owner),
      h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('act.due_label')), due),
      h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('act.status_label')), status)),
    pick ? h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('act.question_label')), pick) : null,
    error,
    h('div', { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => close(null) }, t('common.cancel')),
      h('button', { type: 'submit', class: 'btn btn-primary' }, action ? t('common.save') : t('act.create'))));
  }, { className: 'dialog-wide' });
}

/** The fields of an action.update for what changed between a and the dialog's result. */
export function actionChanges(a, result) {
  const out = {};
  for (const k of ['text', 'owner', 'due', 'status', 'question_id']) {
    if (!(k in result)) continue;
    if ((a[k] ?? null) !== (result[k] ?? null)) out[k] = result[k];
  }
  return out;
}
