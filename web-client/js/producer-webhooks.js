// producer-webhooks.js — the producer console's webhooks view: register, edit, pause and remove
// outgoing webhooks (WebSocket requests webhook.create / update / delete), see how their
// deliveries fare (GET /api/webhooks: pending, failed, the last status and error), send a test
// message and retry failed deliveries. The signing secret is shown once, when it is made.
import { t } from './i18n.js';
import { h, mount, icon, toast, confirmDialog, copyText, dateText, clockTime, errorText } from './ui.js';

export const WEBHOOK_EVENTS = ['question.on_air', 'question.answered', 'commitment.created', 'commitment.updated',
  'session.started', 'session.ended', 'session.archived'];
export const WEBHOOK_PRESETS = ['json', 'wecom', 'dingtalk', 'feishu'];

const state = { editing: null, secret: null, status: new Map(), statusError: '', timer: null, ctx: null };

/** Applies a webhook.changed payload (or an ack's webhook) to the map of registrations. */
export function applyWebhook(map, w) {
  if (!w || !w.id) return;
  if (w.deleted) map.delete(w.id);
  else map.set(w.id, w);
}

async function api(ctx, path, method = 'GET') {
  const res = await fetch(path, { method, headers: { Authorization: `Bearer ${ctx.key()}` }, cache: 'no-store' });
  let body = null;
  try { body = await res.json(); } catch (_) { body = null; }
  if (!res.ok) throw new Error((body && body.message) || `HTTP ${res.status}`);
  return body;
}

async function refreshStatus() {
  const ctx = state.ctx;
  if (!ctx) return;
  try {
    const body = await api(ctx, '/api/webhooks');
    state.status = new Map((body.webhooks || []).map((w) => [w.id, w.delivery]));
    state.statusError = '';
  } catch (err) {
    state.statusError = t('hooks.status_failed', { error: err.message });
  }
  const el = document.getElementById('hooks-list');
  if (el && ctx.visible()) mount(el, listItems(ctx));
}

function ensurePolling(ctx) {
  if (state.timer) return;
  state.timer = setInterval(() => { if (ctx.visible()) refreshStatus(); }, 5000);
  refreshStatus();
}

/** Stops the status polling (the view was left). */
export function leaveWebhooks() {
  clearInterval(state.timer);
  state.timer = null;
}

function whenText(ms) {
  return ms ? `${dateText(ms)} ${clockTime(ms).split(' ').pop()}` : '–';
}

function deliveryLine(d) {
  if (!d) return h('p', { class: 'field-hint' }, t('hooks.status_loading'));
  const parts = [t('hooks.delivered_n', { n: d.delivered }), t('hooks.pending_n', { n: d.pending })];
  if (d.failed) parts.push(t('hooks.failed_n', { n: d.failed }));
  const bad = d.last_error && (d.pending || d.failed);
  return h('div', { class: 'hook-delivery', dataset: { health: bad ? 'failing' : 'ok' } },
    h('p', { class: 'field-hint' }, parts.join(' · ')),
    d.last_attempt_at ? h('p', { class: 'field-hint' }, t('hooks.last_attempt', {
      when: whenText(d.last_attempt_at), status: d.last_status ?? '–',
    })) : null,
    bad ? h('p', { class: 'hook-error', role: 'status' }, t('hooks.last_error', { error: d.last_error })) : null);
}

function listItems(ctx) {
  const hooks = [...ctx.webhooks().values()].sort((a, b) => a.id - b.id);
  const items = [];
  if (state.statusError) items.push(h('p', { class: 'hook-error' }, state.statusError));
  if (!hooks.length) items.push(h('p', { class: 'field-hint' }, t('hooks.none')));
  for (const w of hooks) {
    const prog = w.program_id ? ctx.programs().get(w.program_id) : null;
    items.push(h('article', { class: 'hook-item', dataset: { hook: String(w.id) } },
      h('div', { class: 'prod-card-head' },
        h('b', {}, w.name || t(`hooks.preset_${w.preset}`)),
        h('span', { class: 'status-badge', dataset: { status: w.enabled ? 'live' : 'draft' } }, w.enabled ? t('hooks.on') : t('hooks.paused'))),
      h('p', { class: 'prod-link num' }, w.url),
      h('p', { class: 'field-hint' }, `${t(`hooks.preset_${w.preset}`)} · ${prog ? prog.title : t('hooks.all_programs')} · ${w.signing ? t('hooks.signed') : t('hooks.unsigned')}`),
      h('p', { class: 'field-hint' }, (w.events || []).map((e) => t(`hooks.ev.${e}`)).join('、')),
      deliveryLine(state.status.get(w.id)),
      h('div', { class: 'prod-actions' },
        h('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: () => { state.editing = w.id; state.secret = null; ctx.render(); } }, icon('edit'), t('hooks.edit')),
        h('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: () => post(ctx, w.id, 'test', t('hooks.test_sent')) }, icon('next'), t('hooks.test')),
        h('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: () => post(ctx, w.id, 'retry', t('hooks.retried')) }, icon('undo'), t('hooks.retry')),
        h('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: () => ctx.send('webhook.update', { webhook_id: w.id, enabled: !w.enabled }) }, w.enabled ? t('hooks.pause') : t('hooks.resume')),
        h('button', { type: 'button', class: 'btn btn-ghost btn-sm btn-danger', onclick: () => remove(ctx, w) }, icon('x'), t('hooks.delete')))));
  }
  return items;
}

async function post(ctx, id, what, message) {
  try {
    await api(ctx, `/api/webhooks/${id}/${what}`, 'POST');
    toast(message, 'ok');
    setTimeout(refreshStatus, 1500);
  } catch (err) {
    toast(err.message, 'error', 5000);
  }
}

async function remove(ctx, w) {
  if (!(await confirmDialog(t('hooks.delete_title'), t('hooks.delete_body'), t('hooks.delete'), { danger: true }))) return;
  const ack = await ctx.send('webhook.delete', { webhook_id: w.id }, t('hooks.deleted'));
  if (ack) { ctx.webhooks().delete(w.id); ctx.render(); }
}

function form(ctx, w) {
  const name = h('input', { class: 'input', id: 'hook-name', maxlength: 200, value: w ? (w.name || '') : '' });
  const url = h('input', { class: 'input num', id: 'hook-url', type: 'url', maxlength: 2000, required: true, spellcheck: false, value: w ? w.url : '', placeholder: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…' });
  const preset = h('select', { class: 'input', id: 'hook-preset' },
    WEBHOOK_PRESETS.map((p) => h('option', { value: p, selected: w ? w.preset === p : p === 'json' }, t(`hooks.preset_${p}`))));
  const program = h('select', { class: 'input', id: 'hook-program' },
    h('option', { value: '' }, t('hooks.all_programs')),
    [...ctx.programs().values()].map((p) => h('option', { value: String(p.id), selected: Boolean(w && w.program_id === p.id) }, p.title)));
  const secret = h('input', { class: 'input num', id: 'hook-secret', maxlength: 200, spellcheck: false, autocomplete: 'off', placeholder: t('hooks.secret_placeholder') });
  const events = WEBHOOK_EVENTS.map((e) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name: 'hook-event', value: e, checked: w ? (w.events || []).includes(e) : e !== 'commitment.updated' }),
    h('span', {}, t(`hooks.ev.${e}`))));
  return h('form', { class: 'card prod-card', id: 'hook-form', onsubmit: async (ev) => {
    ev.preventDefault();
    const chosen = events.map((l) => l.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
    if (!chosen.length) { toast(t('hooks.need_event'), 'error', 4000); return; }
    const fields = {
      url: url.value.trim(), name: name.value.trim() || null, preset: preset.value, events: chosen,
      program_id: program.value ? Number(program.value) : null,
    };
    if (secret.value.trim()) fields.secret = secret.value.trim();
    let ack;
    try {
      ack = w ? await ctx.request('webhook.update', { webhook_id: w.id, ...fields })
        : await ctx.request('webhook.create', fields);
    } catch (err) {
      // a host the server may not call: say which ones it may
      toast(err.code === 'forbidden' && err.field === 'url' ? t('hooks.host_refused') : errorText(err), 'error', 6000);
      return;
    }
    toast(w ? t('hooks.saved') : t('hooks.created'), 'ok');
    applyWebhook(ctx.webhooks(), ack.webhook);
    state.editing = null;
    state.secret = ack.secret ? { id: ack.webhook.id, secret: ack.secret } : null;
    ctx.render();
    refreshStatus();
  } },
  h('h2', { class: 'prod-card-title' }, icon(w ? 'edit' : 'plus'), w ? t('hooks.edit_title') : t('hooks.new_title')),
  h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('hooks.url')), url,
    h('span', { class: 'field-hint' }, t('hooks.url_hint'))),
  h('div', { class: 'prod-inline-form' },
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('hooks.name')), name),
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('hooks.preset')), preset),
    h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('hooks.program')), program)),
  h('fieldset', { class: 'field hook-events' }, h('legend', { class: 'field-label' }, t('hooks.events')), events),
  h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('hooks.secret')), secret,
    h('span', { class: 'field-hint' }, t('hooks.secret_hint'))),
  h('div', { class: 'prod-actions' },
    h('button', { type: 'submit', class: 'btn btn-primary', id: 'hook-save' }, w ? t('common.save') : t('hooks.create')),
    w ? h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => { state.editing = null; ctx.render(); } }, t('common.cancel')) : null));
}

/** What the mounted view shows besides the list (a change means mounting it again). */
export function webhooksViewKey() {
  return `${state.editing}:${state.secret ? state.secret.id : ''}`;
}

/** Refreshes the list of a mounted view (the form keeps what is being typed). */
export function refreshWebhookList(ctx) {
  state.ctx = ctx;
  ensurePolling(ctx);
  const el = document.getElementById('hooks-list');
  if (el) mount(el, listItems(ctx));
}

/**
 * The view. ctx: {key(), webhooks() (Map id -> registration), programs() (Map), send(type,
 * fields, okMessage) -> ack|null (errors toasted), request(type, fields) -> ack (throws),
 * render(), visible()}.
 */
export function renderWebhooks(ctx) {
  state.ctx = ctx;
  ensurePolling(ctx);
  const editing = state.editing ? ctx.webhooks().get(state.editing) : null;
  return h('div', { class: 'prod-hooks', dataset: { view: 'webhooks' } },
    h('header', { class: 'prod-head' }, h('div', { class: 'prod-head-text' },
      h('h1', { class: 'prod-title' }, t('hooks.title')), h('p', { class: 'prod-topic' }, t('hooks.subtitle')))),
    state.secret ? h('section', { class: 'prod-result', id: 'hook-secret-once', role: 'status' },
      h('p', { class: 'prod-result-title' }, t('hooks.secret_once')),
      h('p', { class: 'prod-link num' }, state.secret.secret),
      h('div', {}, h('button', { type: 'button', class: 'btn btn-secondary btn-sm', onclick: async () => toast(await copyText(state.secret.secret) ? t('hooks.copied') : t('hooks.copy_failed'), 'ok') }, icon('copy'), t('hooks.copy')))) : null,
    form(ctx, editing),
    h('section', { class: 'card prod-card' },
      h('h2', { class: 'prod-card-title' }, icon('link'), t('hooks.list_title')),
      h('div', { id: 'hooks-list', class: 'hook-list' }, listItems(ctx))));
}
