// actions.js — action items (commitments made on air), shared by the moderator console and the
// producer console: one row per item (status, owner, due date, who promised, linked question,
// whether it is on the public board) and the dialog that creates or edits one. Knows the
// protocol's action object; the pages send the requests.
import { t } from './i18n.js';
import { h, icon, openDialog, bindCounter } from './ui.js';

export const ACTION_STATUSES = ['open', 'in_progress', 'done', 'withdrawn'];
export const PUBLICATIONS = ['auto', 'public', 'staff'];
const TEXT_MAX = 500;
const REASON_MAX = 500;

/** Today as YYYY-MM-DD in local time. */
export function todayIso() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function overdue(a) {
  return a.due && (a.status === 'open' || a.status === 'in_progress') && a.due < todayIso();
}

/** Where an item stands on the public board: "public", "at_end" (auto, session not ended) or
 *  "staff" (kept off it). */
function boardState(a) {
  if (a.published) return 'public';
  return a.publication === 'staff' ? 'staff' : 'at_end';
}

/**
 * One action item as a row.
 * opts: question (the linked question object, if known), earlier (true for an item of an
 * earlier session: shows where it was made), panelists (of the item's session, to name who
 * promised), onStatus(status), onEdit(preset) (preset: fields the dialog starts with),
 * onCopyOverlay() (producers: the overlay address showing it on air), readOnly.
 */
export function actionRow(a, { question = null, earlier = false, panelists = null, onStatus = null, onEdit = null, onCopyOverlay = null, readOnly = false } = {}) {
  const status = h('select', {
    class: 'select select-sm act-status-select',
    'aria-label': t('act.status_label'),
    disabled: readOnly || !onStatus,
    onchange: (e) => {
      // Withdrawing needs a reason: the dialog asks for it.
      if (e.target.value === 'withdrawn' && onEdit) {
        e.target.value = a.status;
        onEdit({ status: 'withdrawn' });
      } else if (onStatus) {
        onStatus(e.target.value);
      }
    },
  }, ACTION_STATUSES.map((s) => h('option', { value: s, selected: a.status === s }, t(`act.status_${s}`))));
  status.value = a.status;
  const promiser = a.promised_by && panelists ? panelists.find((p) => p.id === a.promised_by) : null;
  const board = boardState(a);
  return h('div', { class: 'act-item', dataset: { actionId: a.id, status: a.status } },
    h('span', { class: 'act-dot', 'aria-hidden': 'true' }),
    h('div', { class: 'act-body' },
      h('p', { class: 'act-text' }, a.text),
      h('div', { class: 'act-meta' },
        h('span', { class: 'act-owner' }, icon('user'), a.owner || t('act.owner_none')),
        h('span', { class: `act-due${overdue(a) ? ' is-overdue' : ''}` }, icon('clock'),
          a.due ? t('act.due_on', { due: a.due }) : t('act.due_none'),
          overdue(a) ? h('b', {}, ` · ${t('act.overdue')}`) : null),
        promiser ? h('span', { class: 'act-promiser' }, t('act.promised_by_short', { name: promiser.name })) : null,
        h('span', { class: `act-board act-board-${board}`, title: t(`act.board_hint_${board}`) }, t(`act.board_${board}`)),
        earlier ? h('span', { class: 'act-from num' }, t('act.from_session', { code: a.session })) : null,
        a.question_id ? h('span', { class: 'act-q', title: question ? question.text : '' }, icon('reply'),
          question ? t('act.for_question', { id: a.question_id, text: shorten(question.text, 24) }) : t('act.for_question_id', { id: a.question_id })) : null),
      a.reason ? h('p', { class: 'act-reason' }, a.status === 'withdrawn' ? t('act.reason_withdrawn') : t('act.reason_progress'), a.reason) : null,
      a.note ? h('p', { class: 'act-note' }, icon('key'), t('act.note_short'), a.note) : null),
    h('div', { class: 'act-controls' },
      status,
      onCopyOverlay && a.published ? h('button', { type: 'button', class: 'btn btn-ghost btn-icon', title: t('act.copy_overlay'), 'aria-label': t('act.copy_overlay'), onclick: onCopyOverlay }, icon('air')) : null,
      onEdit && !readOnly ? h('button', { type: 'button', class: 'btn btn-ghost btn-icon', title: t('act.edit'), 'aria-label': t('act.edit'), onclick: () => onEdit() }, icon('edit')) : null));
}

function shorten(s, n) {
  const cps = [...(s || '')];
  return cps.length > n ? `${cps.slice(0, n).join('')}…` : cps.join('');
}

/**
 * The create / edit dialog. Resolves with {text, owner, due, status, reason, note, promised_by,
 * publication?, question_id?} (empty fields null) or null when cancelled.
 * opts: action (editing), preset (fields to start with, e.g. {status: 'withdrawn'}), question
 * (the question it is linked to, shown as a quote), questions (a list to choose the linked
 * question from; '' = none), panelists (to choose who promised), canPublish (producers: the
 * publication setting).
 */
export function actionDialog({ action = null, preset = {}, question = null, questions = null, panelists = null, canPublish = false } = {}) {
  const start = { ...(action || {}), ...preset };
  return openDialog((close) => {
    const text = h('textarea', { class: 'textarea', rows: 3, name: 'act-text', placeholder: t('act.text_placeholder') });
    text.value = start.text || '';
    const counter = h('span', { class: 'counter' });
    bindCounter(text, counter, TEXT_MAX);
    const owner = h('input', { class: 'input', name: 'act-owner', maxlength: 200, value: start.owner || '', placeholder: t('act.owner_placeholder') });
    const due = h('input', { class: 'input', name: 'act-due', type: 'date', value: start.due || '' });
    const status = h('select', { class: 'select', name: 'act-status' }, ACTION_STATUSES.map((s) => h('option', { value: s }, t(`act.status_${s}`))));
    status.value = start.status || 'open';
    const reason = h('textarea', { class: 'textarea textarea-sm', rows: 2, name: 'act-reason', maxlength: 1000 });
    reason.value = start.reason || '';
    const reasonLabel = h('span', { class: 'field-label' });
    const syncReason = () => {
      const withdrawn = status.value === 'withdrawn';
      reasonLabel.textContent = withdrawn ? t('act.reason_label_withdrawn') : t('act.reason_label');
      reason.placeholder = withdrawn ? t('act.reason_placeholder_withdrawn') : t('act.reason_placeholder');
    };
    status.addEventListener('change', syncReason);
    syncReason();
    const note = h('textarea', { class: 'textarea textarea-sm', rows: 2, name: 'act-note', maxlength: 4000, placeholder: t('act.note_placeholder') });
    note.value = start.note || '';
    let promised = null;
    if (panelists && panelists.length) {
      promised = h('select', { class: 'select', name: 'act-promised-by' },
        h('option', { value: '' }, t('act.promised_by_none')),
        panelists.map((p) => h('option', { value: String(p.id) }, [p.name, p.affiliation].filter(Boolean).join(' · '))));
      promised.value = start.promised_by ? String(start.promised_by) : '';
    }
    let publication = null;
    if (canPublish) {
      publication = h('select', { class: 'select', name: 'act-publication' }, PUBLICATIONS.map((p) => h('option', { value: p }, t(`act.publication_${p}`))));
      publication.value = start.publication || 'auto';
    }
    let pick = null;
    if (questions) {
      pick = h('select', { class: 'select', name: 'act-question' },
        h('option', { value: '' }, t('act.no_question')),
        questions.map((x) => h('option', { value: String(x.id) }, `#${x.id} ${shorten(x.text, 40)}`)));
      pick.value = start.question_id ? String(start.question_id) : '';
    }
    const error = h('p', { class: 'c-login-error', role: 'alert' });
    return h('form', { class: 'dialog-body act-dialog', onsubmit: (e) => {
      e.preventDefault();
      const value = text.value.trim();
      if (!value) { error.textContent = t('act.text_required'); text.focus(); return; }
      if ([...value].length > TEXT_MAX) { error.textContent = t('error.too_long'); return; }
      const why = reason.value.trim();
      if (status.value === 'withdrawn' && !why) { error.textContent = t('act.reason_required'); reason.focus(); return; }
      if ([...why].length > REASON_MAX) { error.textContent = t('error.too_long'); reason.focus(); return; }
      const out = {
        text: value, owner: owner.value.trim() || null, due: due.value || null, status: status.value,
        reason: why || null, note: note.value.trim() || null,
      };
      if (promised) out.promised_by = promised.value ? Number(promised.value) : null;
      if (publication) out.publication = publication.value;
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
    h('label', { class: 'field' }, reasonLabel, reason),
    promised ? h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('act.promised_by_label')), promised) : null,
    pick ? h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('act.question_label')), pick) : null,
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('act.note_label')), note),
    publication ? h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('act.publication_label')), publication,
      h('span', { class: 'field-hint' }, t('act.publication_hint'))) : null,
    error,
    h('div', { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => close(null) }, t('common.cancel')),
      h('button', { type: 'submit', class: 'btn btn-primary' }, action ? t('common.save') : t('act.create'))));
  }, { className: 'dialog-wide' });
}

/** The fields of an action.create for a dialog's result (empty ones left out). */
export function actionFields(result) {
  const out = { text: result.text, status: result.status };
  for (const k of ['owner', 'due', 'reason', 'note', 'promised_by', 'question_id']) if (result[k]) out[k] = result[k];
  if (result.publication && result.publication !== 'auto') out.publication = result.publication;
  return out;
}

/** The fields of an action.update for what changed between a and the dialog's result. */
export function actionChanges(a, result) {
  const out = {};
  for (const k of ['text', 'owner', 'due', 'status', 'reason', 'note', 'promised_by', 'publication', 'question_id']) {
    if (!(k in result)) continue;
    if ((a[k] ?? null) !== (result[k] ?? null)) out[k] = result[k];
  }
  // A reason goes with its status: a new status without one clears it on the server.
  if ('status' in out && !('reason' in out) && result.reason) out.reason = result.reason;
  return out;
}
