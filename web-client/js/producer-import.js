// producer-import.js — the producer console's question import: a CSV or XLSX file of questions
// collected elsewhere (the citizen hotline, street offices' forms and paper slips) is read in the
// browser — CSV in UTF-8 (with or without BOM) or GB18030/GBK, what spreadsheet programs in China
// save; XLSX unzipped here (DecompressionStream) from its shared strings and first sheet —,
// shown as a preview with each row's problems before anything is written, then entered one row
// at a time through POST /api/sessions/CODE/questions, idempotent on external_ref: the sheet's
// own reference column, or a key derived from the row's content, so importing the same file
// again adds nothing.
import { t } from './i18n.js';
import { h, icon, toast } from './ui.js';

const MAX_ROWS = 2000;        // rows of one file
const MAX_FILE = 8 << 20;     // bytes of one file
const TEXT_MAX = 500;         // code points of a question (the server's default)

// Header names (lower case, blanks removed) -> field.
const HEADERS = {
  text: ['问题', '问题内容', '内容', '提问', '提问内容', '留言', '留言内容', '诉求内容', 'text', 'question'],
  category: ['分类', '类别', '类型', 'category'],
  source: ['来源', '渠道', '收集渠道', 'source'],
  author: ['提问人', '姓名', '居民', '提问者', '联系人', 'author', 'name'],
  to: ['提问对象', '回答人', '向谁提问', '嘉宾', 'to', 'panelist'],
  external_ref: ['编号', '工单号', '工单编号', '登记编号', 'external_ref', 'ref', 'id'],
};
const CATEGORY = {
  question: ['question', '问题', '提问', '咨询'],
  need: ['need', '诉求', '需求', '求助'],
  suggestion: ['suggestion', '建议', '意见'],
};
const SOURCE = {
  web: ['web', '网络', '网上', '线上'],
  phone: ['phone', '电话'],
  hotline: ['hotline', '热线', '12345', '市民热线', '便民热线'],
  paper: ['paper', '纸质', '书面', '信件', '意见箱'],
  visit: ['visit', '走访', '上门', '来访'],
  form: ['form', '表单', '问卷', '在线表单'],
};

const norm = (s) => String(s ?? '').replace(/\s+/g, '').toLowerCase();
const cp = (s) => [...s].length;

function lookup(table, value) {
  const v = norm(value);
  for (const [key, names] of Object.entries(table)) if (names.includes(v)) return key;
  return null;
}

// ---- reading files -----------------------------------------------------------------------

/** Text of a CSV file's bytes: UTF-8 (BOM or not) if it is valid UTF-8, else GB18030 (which
 *  covers GBK and GB2312). Returns {text, encoding}. */
export function decodeText(bytes) {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { text: new TextDecoder('utf-8').decode(bytes.subarray(3)), encoding: 'UTF-8' };
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'UTF-8' };
  } catch (_) {
    return { text: new TextDecoder('gb18030').decode(bytes), encoding: 'GB18030' };
  }
}

/** RFC 4180 CSV (also ; or tab separated, guessed from the first line): rows of cells. */
export function parseCsv(text) {
  const first = text.slice(0, text.indexOf('\n') >= 0 ? text.indexOf('\n') : text.length);
  const counts = [',', ';', '\t'].map((c) => [c, first.split(c).length]);
  const sep = counts.sort((a, b) => b[1] - a[1])[0][0];
  const rows = [];
  let row = [], cell = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { cell += '"'; i++; } else quoted = false;
      } else cell += ch;
    } else if (ch === '"' && cell === '') quoted = true;
    else if (ch === sep) { row.push(cell); cell = ''; }
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(cell); rows.push(row); row = []; cell = '';
    } else cell += ch;
  }
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows.map((cells, i) => ({ n: i + 1, cells }));
}

async function inflate(data) {
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The files of a ZIP archive (names -> async () => bytes), from its central directory. */
function unzip(buf) {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (dv.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error('zip');
  const count = dv.getUint16(eocd + 10, true);
  let p = dv.getUint32(eocd + 16, true);
  const files = new Map();
  for (let k = 0; k < count; k++) {
    if (p + 46 > buf.length || dv.getUint32(p, true) !== 0x02014b50) throw new Error('zip');
    const method = dv.getUint16(p + 10, true);
    const size = dv.getUint32(p + 20, true);
    const nameLen = dv.getUint16(p + 28, true), extra = dv.getUint16(p + 30, true), comment = dv.getUint16(p + 32, true);
    const local = dv.getUint32(p + 42, true);
    const name = new TextDecoder().decode(buf.subarray(p + 46, p + 46 + nameLen));
    files.set(name, async () => {
      if (dv.getUint32(local, true) !== 0x04034b50) throw new Error('zip');
      const start = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
      const data = buf.subarray(start, start + size);
      if (method === 0) return data;
      if (method === 8) return inflate(data);
      throw new Error('zip');
    });
    p += 46 + nameLen + extra + comment;
  }
  return files;
}

function xml(bytes) {
  const doc = new DOMParser().parseFromString(new TextDecoder().decode(bytes), 'application/xml');
  if (doc.getElementsByTagName('parsererror').length) throw new Error('xml');
  return doc;
}

/** The text of an <si> or <is>: its <t> runs, without phonetic guides (<rPh>). */
function runText(el) {
  let s = '';
  for (const tEl of el.getElementsByTagName('t')) {
    if (tEl.parentNode && tEl.parentNode.nodeName === 'rPh') continue;
    s += tEl.textContent;
  }
  return s;
}

function columnIndex(ref) {
  const m = /^([A-Z]+)/.exec(ref || '');
  if (!m) return -1;
  let n = 0;
  for (const ch of m[1]) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

/** Rows of the first sheet of an XLSX file: [{n (the sheet's row number), cells}]. */
export async function readXlsx(buf) {
  const files = unzip(buf);
  const sheetName = files.has('xl/worksheets/sheet1.xml') ? 'xl/worksheets/sheet1.xml'
    : [...files.keys()].filter((n) => /^xl\/worksheets\/sheet\d+\.xml$/.test(n)).sort()[0];
  if (!sheetName) throw new Error('xlsx');
  const shared = [];
  if (files.has('xl/sharedStrings.xml')) {
    for (const si of xml(await files.get('xl/sharedStrings.xml')()).getElementsByTagName('si')) shared.push(runText(si));
  }
  const sheet = xml(await files.get(sheetName)());
  const rows = [];
  for (const r of sheet.getElementsByTagName('row')) {
    const cells = [];
    let next = 0;
    for (const c of r.getElementsByTagName('c')) {
      const at = columnIndex(c.getAttribute('r'));
      const col = at >= 0 ? at : next;
      next = col + 1;
      if (col > 50) continue;
      const type = c.getAttribute('t');
      const v = c.getElementsByTagName('v')[0];
      let value = '';
      if (type === 's') value = shared[Number(v && v.textContent)] ?? '';
      else if (type === 'inlineStr') value = c.getElementsByTagName('is')[0] ? runText(c.getElementsByTagName('is')[0]) : '';
      else value = v ? v.textContent : '';
      cells[col] = value;
    }
    rows.push({ n: Number(r.getAttribute('r')) || rows.length + 1, cells: Array.from(cells, (x) => x ?? '') });
    if (rows.length > MAX_ROWS + 1) break;
  }
  return rows;
}

// ---- rows to questions ----------------------------------------------------------------------

/** 64-bit FNV-1a of a string's UTF-8, as 16 hex digits (crypto.subtle needs a secure page,
 *  which a studio LAN address is not). */
function fnv64(s) {
  let x = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(s)) x = ((x ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return x.toString(16).padStart(16, '0');
}

/**
 * The questions of a table: {rows: [{n, fields, ref, error, existing}], error}. The first row
 * that names a text column is the header. panelists: the session's (to is matched by name);
 * existing: the external_refs the session already holds.
 */
export function questionsOf(table, { panelists = [], existing = new Set() } = {}) {
  const headerAt = table.findIndex((r) => r.cells.some((c) => HEADERS.text.includes(norm(c))));
  if (headerAt < 0) return { rows: [], error: t('imp.no_text_column') };
  const cols = {};
  table[headerAt].cells.forEach((c, i) => {
    for (const [field, names] of Object.entries(HEADERS)) if (cols[field] === undefined && names.includes(norm(c))) cols[field] = i;
  });
  const seen = new Map();
  const rows = [];
  for (const r of table.slice(headerAt + 1)) {
    const get = (f) => (cols[f] === undefined ? '' : String(r.cells[cols[f]] ?? '').trim());
    if (!r.cells.some((c) => String(c).trim())) continue; // a blank line
    if (rows.length >= MAX_ROWS) return { rows, error: t('imp.too_many', { n: MAX_ROWS }) };
    const fields = { text: get('text').replace(/\s*\n\s*/g, ' ') };
    const problems = [];
    if (!fields.text) problems.push(t('imp.err_text_empty'));
    else if (cp(fields.text) > TEXT_MAX) problems.push(t('imp.err_text_long', { n: TEXT_MAX }));
    if (get('category')) {
      const v = lookup(CATEGORY, get('category'));
      if (v) fields.category = v; else problems.push(t('imp.err_category', { value: get('category') }));
    }
    if (get('source')) {
      const v = lookup(SOURCE, get('source'));
      if (v) fields.source = v; else problems.push(t('imp.err_source', { value: get('source') }));
    }
    if (get('author') && !['匿名', 'anonymous'].includes(norm(get('author')))) fields.author = get('author');
    if (get('to')) {
      const p = panelists.find((x) => norm(x.name) === norm(get('to')));
      if (p) fields.to = p.name; else problems.push(t('imp.err_to', { value: get('to') }));
    }
    let ref = get('external_ref');
    if (ref && cp(ref) > 100) problems.push(t('imp.err_ref_long'));
    if (!ref) {
      // the same content in the same file twice stays two rows: the occurrence is in the key
      const content = JSON.stringify([fields.text, fields.author || '', get('category'), get('source'), get('to')]);
      const k = (seen.get(content) || 0) + 1;
      seen.set(content, k);
      ref = `row-${fnv64(`${content}#${k}`)}`;
    }
    fields.external_ref = ref;
    rows.push({ n: r.n, fields, error: problems.join('；'), existing: existing.has(ref) });
  }
  return { rows, error: rows.length ? '' : t('imp.no_rows') };
}

// ---- the card ----------------------------------------------------------------------------------

const state = { code: null, file: '', encoding: '', rows: [], error: '', busy: false, done: null };

/** Draws the card again in place (the rest of the page stays). */
function redraw(ctx, s) {
  const el = document.getElementById('import-card');
  if (el) el.replaceWith(importCard(ctx, s));
  else ctx.render();
}

async function readFile(ctx, s, file) {
  Object.assign(state, { code: s.code, file: file.name, encoding: '', rows: [], error: '', done: null });
  try {
    if (file.size > MAX_FILE) throw new Error(t('imp.too_big'));
    const buf = new Uint8Array(await file.arrayBuffer());
    let table;
    if (/\.xlsx$/i.test(file.name) || (buf[0] === 0x50 && buf[1] === 0x4b)) {
      table = await readXlsx(buf);
      state.encoding = 'XLSX';
    } else {
      const { text, encoding } = decodeText(buf);
      table = parseCsv(text);
      state.encoding = encoding;
    }
    const out = questionsOf(table, { panelists: s.panelists || [], existing: ctx.existingRefs(s.code) });
    state.rows = out.rows;
    state.error = out.error;
  } catch (err) {
    state.error = err && err.message && !/^(zip|xml|xlsx)$/.test(err.message) ? err.message : t('imp.unreadable');
  }
  redraw(ctx, s);
}

async function runImport(ctx, s) {
  const todo = state.rows.filter((r) => !r.error && !r.existing && !r.result);
  state.busy = true;
  state.done = { added: 0, existing: state.rows.filter((r) => r.existing).length, failed: 0 };
  redraw(ctx, s);
  let n = 0;
  for (const r of todo) {
    try {
      const res = await fetch(`/api/sessions/${encodeURIComponent(s.code)}/questions`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ctx.key()}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(r.fields),
      });
      const body = await res.json().catch(() => ({}));
      if (res.ok && body.ok) {
        r.result = body.existing ? 'existing' : 'added';
        state.done[body.existing ? 'existing' : 'added'] += 1;
        r.existing = Boolean(body.existing);
      } else if (res.status === 429) {
        await new Promise((resolve) => setTimeout(resolve, Math.max(1, Number(res.headers.get('retry-after')) || 1) * 1000));
        todo.push(r); // try it again after the others
        continue;
      } else {
        r.result = 'failed';
        r.error = body.message || body.error || `HTTP ${res.status}`;
        state.done.failed += 1;
      }
    } catch (_) {
      r.result = 'failed';
      r.error = t('imp.offline');
      state.done.failed += 1;
    }
    if (++n % 20 === 0) redraw(ctx, s);
  }
  state.busy = false;
  toast(t('imp.done', state.done), state.done.failed ? 'error' : 'ok', 5000);
  redraw(ctx, s);
}

/** The import card of session s. ctx: {key(), render(), existingRefs(code) -> Set}. */
export function importCard(ctx, s) {
  if (state.code !== s.code) Object.assign(state, { code: s.code, file: '', rows: [], error: '', done: null, busy: false });
  const input = h('input', { type: 'file', id: 'import-file', class: 'sr-only', accept: '.csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    onchange: (e) => { if (e.target.files[0]) readFile(ctx, s, e.target.files[0]); } });
  const ok = state.rows.filter((r) => !r.error && !r.existing);
  const bad = state.rows.filter((r) => r.error && !r.result);
  const closed = s.status === 'archived';
  return h('section', { class: 'card prod-card', id: 'import-card' },
    h('h2', { class: 'prod-card-title' }, icon('paper'), t('imp.title')),
    h('p', { class: 'field-hint' }, t('imp.hint')),
    h('div', { class: 'prod-actions' },
      h('label', { class: `btn btn-secondary btn-sm${closed || state.busy ? ' is-disabled' : ''}`, for: 'import-file' }, icon('plus'), t('imp.choose')), closed ? null : input,
      state.file ? h('span', { class: 'field-hint', id: 'import-file-name' }, `${state.file} · ${state.encoding}`) : null),
    state.error ? h('p', { class: 'hook-error', role: 'alert', id: 'import-error' }, state.error) : null,
    state.rows.length ? h('p', { class: 'field-hint', id: 'import-summary' }, t('imp.summary', {
      total: state.rows.length, ok: ok.length, bad: bad.length, existing: state.rows.filter((r) => r.existing).length,
    })) : null,
    state.rows.length ? h('div', { class: 'imp-table-wrap' }, h('table', { class: 'imp-table', id: 'import-preview' },
      h('thead', {}, h('tr', {}, [t('imp.col_row'), t('imp.col_text'), t('imp.col_author'), t('imp.col_meta'), t('imp.col_status')].map((x) => h('th', {}, x)))),
      h('tbody', {}, state.rows.map((r) => h('tr', { dataset: { row: String(r.n), state: r.result || (r.error ? 'error' : r.existing ? 'existing' : 'ok') } },
        h('td', { class: 'num' }, String(r.n)),
        h('td', {}, r.fields.text),
        h('td', {}, r.fields.author || t('common.anonymous')),
        h('td', {}, [r.fields.category && t(`kind.${r.fields.category}`), r.fields.source && t(`source.${r.fields.source}`), r.fields.to].filter(Boolean).join(' · ')),
        h('td', { class: 'imp-status' }, r.error ? r.error : r.result === 'added' ? t('imp.added') : r.existing ? t('imp.existing') : t('imp.ready'))))))) : null,
    state.rows.length ? h('div', { class: 'prod-actions' },
      h('button', { type: 'button', class: 'btn btn-primary', id: 'import-go', disabled: state.busy || closed || !ok.filter((r) => !r.result).length, onclick: () => runImport(ctx, s) },
        state.busy ? t('imp.busy') : t('imp.go', { n: ok.filter((r) => !r.result).length }))) : null,
    state.done && !state.busy ? h('p', { class: 'prod-result-title', id: 'import-done', role: 'status' }, t('imp.done', state.done)) : null);
}
