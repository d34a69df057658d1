// studio.js — the producer console's studio parts: the session's stream setting in the session
// form (HLS or an embedded platform player; watch-page links of Bilibili and YouTube become
// their player addresses), the join QR code card (big, for the poster and the screen, with
// downloads, a full-screen view and the overlay's QR corner), and the console's help on these.
// producer.js places them; everything a producer types is checked again by the server.
import { t } from './i18n.js';
import { h, icon, toast, copyText } from './ui.js';

// ---- the stream setting --------------------------------------------------------------------

/** A Bilibili or YouTube page address as its embeddable player's, else the text unchanged. */
export function playerUrl(text) {
  let u;
  try { u = new URL(text); } catch (_) { return text; }
  const host = u.hostname.replace(/^(www|m)\./, '');
  const bv = u.pathname.match(/^\/video\/(BV[0-9A-Za-z]{10})/);
  if (host === 'bilibili.com' && bv) return `https://player.bilibili.com/player.html?bvid=${bv[1]}&autoplay=0`;
  if (host === 'youtube.com' && u.pathname === '/watch' && u.searchParams.get('v')) {
    return `https://www.youtube.com/embed/${encodeURIComponent(u.searchParams.get('v'))}`;
  }
  const live = u.pathname.match(/^\/live\/([\w-]{6,})$/);
  if (host === 'youtube.com' && live) return `https://www.youtube.com/embed/${live[1]}`;
  if (host === 'youtu.be' && u.pathname.length > 1) return `https://www.youtube.com/embed/${encodeURIComponent(u.pathname.slice(1))}`;
  return text;
}

/** The session form's stream section for session s (null: a new session). read() gives the
 *  "stream" field: null (none), {kind, url}, or undefined after telling what is wrong. */
export function streamFields(s) {
  const current = s && s.stream ? s.stream : null;
  const kind = h('select', { class: 'select', name: 'stream_kind' },
    ['none', 'hls', 'embed'].map((k) => h('option', { value: k, selected: (current ? current.kind : 'none') === k }, t(`studio.stream_kind_${k}`))));
  const url = h('input', {
    class: 'input num', name: 'stream_url', type: 'url', inputmode: 'url', spellcheck: false, autocomplete: 'off',
    maxlength: 2048, value: current ? current.url : '',
  });
  const hint = h('span', { class: 'field-hint', id: 'stream-hint' });
  const urlField = h('label', { class: 'field span-2' }, h('span', { class: 'field-label' }, t('studio.stream_url')), url, hint);
  const sync = () => {
    const k = kind.value;
    urlField.hidden = k === 'none';
    url.placeholder = k === 'embed' ? 'https://player.bilibili.com/player.html?bvid=…' : 'https://live.example.com/live/show.m3u8';
    hint.textContent = k === 'embed' ? t('studio.stream_hint_embed') : t('studio.stream_hint_hls');
  };
  kind.addEventListener('change', sync);
  url.addEventListener('change', () => { if (kind.value === 'embed') url.value = playerUrl(url.value.trim()); });
  sync();
  const section = h('section', { class: 'form-section', dataset: { section: 'stream' } },
    h('span', { class: 'field-label' }, t('studio.stream_title')),
    h('p', { class: 'field-hint' }, t('studio.stream_intro')),
    h('div', { class: 'form-grid' },
      h('label', { class: 'field' }, h('span', { class: 'field-label' }, t('studio.stream_kind')), kind),
      urlField));
  const read = () => {
    if (kind.value === 'none') return null;
    let text = url.value.trim();
    if (kind.value === 'embed') text = playerUrl(text);
    let parsed;
    try { parsed = new URL(text); } catch (_) { parsed = null; }
    if (!parsed || !/^https?:$/.test(parsed.protocol)) {
      toast(t('studio.stream_bad_url'), 'error', 5000);
      url.focus();
      return undefined;
    }
    if (kind.value === 'embed' && parsed.protocol !== 'https:') {
      toast(t('studio.stream_embed_https'), 'error', 5000);
      url.focus();
      return undefined;
    }
    if (location.protocol === 'https:' && parsed.protocol === 'http:') toast(t('studio.stream_mixed'), 'info', 7000);
    // the URL parser's form: non-ASCII and blanks percent-encoded, scheme and host in lower case
    return { kind: kind.value, url: parsed.href };
  };
  return { section, read };
}

/** A short line saying which stream the viewer page plays. */
export function streamSummary(s) {
  if (!s.stream) return h('span', { class: 'chip', dataset: { stream: 'none' } }, t('studio.stream_none'));
  let host = '';
  try { host = new URL(s.stream.url).host; } catch (_) { /* shown without */ }
  return h('span', { class: 'chip chip-stream', dataset: { stream: s.stream.kind }, title: s.stream.url },
    t(`studio.stream_kind_${s.stream.kind}`), host ? ` · ${host}` : '');
}

// ---- the join QR code ----------------------------------------------------------------------

const links = new Map(); // code -> the public join link (share.json), once fetched

async function joinLink(code) {
  if (links.has(code)) return links.get(code);
  try {
    const res = await fetch(`/s/${encodeURIComponent(code)}/share.json`, { cache: 'no-store' });
    if (res.ok) {
      const { url } = await res.json();
      links.set(code, url);
      return url;
    }
  } catch (_) { /* fall back below */ }
  return `${location.origin}/s/${code}`;
}

/** The QR code shown as large as the screen allows, for the studio screen or a projector. */
function showOnScreen(s, link) {
  const close = () => { if (document.fullscreenElement) document.exitFullscreen().catch(() => {}); view.remove(); };
  const view = h('div', { class: 'qr-screen', role: 'dialog', 'aria-modal': 'true', tabindex: '-1', onclick: close },
    h('div', { class: 'qr-screen-inner' },
      h('p', { class: 'qr-screen-kicker' }, t('studio.qr_scan')),
      h('img', { class: 'qr-screen-code', src: `/s/${encodeURIComponent(s.code)}/qr.svg`, alt: link }),
      h('p', { class: 'qr-screen-title' }, s.title),
      h('p', { class: 'qr-screen-meta' }, t('studio.qr_code_label'), ' ', h('b', { class: 'num' }, s.code), ' · ', h('span', { class: 'num' }, link)),
      h('p', { class: 'qr-screen-hint' }, t('studio.qr_screen_close'))));
  view.addEventListener('keydown', (e) => { if (e.key === 'Escape') close(); });
  document.body.append(view);
  view.focus();
  if (view.requestFullscreen) view.requestFullscreen().catch(() => {});
}

/** The session view's join card: the QR code big, the link, downloads for the poster, the
 *  full-screen view and the overlay's corner. */
export function qrCard(s) {
  const code = encodeURIComponent(s.code);
  const linkEl = h('span', { class: 'prod-link num', id: 'join-link' }, `${location.origin}/s/${s.code}`);
  joinLink(s.code).then((url) => { linkEl.textContent = url; linkEl.title = url; });
  const overlay = `${location.origin}/overlay/${s.code}?show=qr`;
  const file = (ext) => `${t('studio.qr_file')}-${s.code}.${ext}`;
  return h('section', { class: 'card prod-card qr-card', id: 'qr-card' },
    h('h2', { class: 'prod-card-title' }, icon('qr'), t('studio.qr_title')),
    h('div', { class: 'qr-card-body' },
      h('img', { class: 'qr-card-code', id: 'qr-image', src: `/s/${code}/qr.svg`, alt: t('studio.qr_alt', { code: s.code }), width: 240, height: 240 }),
      h('div', { class: 'qr-card-side' },
        h('p', { class: 'qr-card-scan' }, t('studio.qr_scan')),
        h('p', { class: 'qr-card-code-line' }, t('studio.qr_code_label'), ' ', h('b', { class: 'num' }, s.code)),
        linkEl,
        h('div', { class: 'qr-card-actions' },
          h('a', { class: 'btn btn-secondary btn-sm', href: `/s/${code}/qr.png?scale=24`, download: file('png'), dataset: { qr: 'png' } }, icon('download'), t('studio.qr_png')),
          h('a', { class: 'btn btn-secondary btn-sm', href: `/s/${code}/qr.svg`, download: file('svg'), dataset: { qr: 'svg' } }, icon('download'), t('studio.qr_svg')),
          h('button', { type: 'button', class: 'btn btn-secondary btn-sm', id: 'qr-copy', onclick: async () => toast((await copyText(linkEl.textContent)) ? t('prod.copied') : t('prod.copy_failed'), 'ok', 1800) }, icon('copy'), t('prod.copy')),
          h('button', { type: 'button', class: 'btn btn-primary btn-sm', id: 'qr-screen', onclick: () => showOnScreen(s, linkEl.textContent) }, t('studio.qr_fullscreen'))),
        h('p', { class: 'field-hint' }, t('studio.qr_hint')),
        h('div', { class: 'qr-card-overlay' },
          h('span', { class: 'field-label' }, t('studio.qr_overlay')),
          h('span', { class: 'prod-link num', title: overlay }, overlay),
          h('button', { type: 'button', class: 'btn btn-ghost btn-sm', onclick: async () => toast((await copyText(overlay)) ? t('prod.copied') : t('prod.copy_failed'), 'ok', 1800) }, icon('copy'), t('prod.copy'))))));
}

// ---- help ----------------------------------------------------------------------------------

/** Help sections: [title key, [paragraph keys]]. Other studio features add theirs here. */
export const HELP_SECTIONS = [
  ['help.stream_title', ['help.stream_1', 'help.stream_2', 'help.stream_3', 'help.stream_4']],
  ['help.qr_title', ['help.qr_1', 'help.qr_2', 'help.qr_3']],
  ['help.share_title', ['help.share_1', 'help.share_2']],
  ['help.portal_title', ['help.portal_1']],
  ['help.api_title', ['help.api_1', 'help.api_2']],
  ['help.import_title', ['help.import_1', 'help.import_2']],
  ['help.hooks_title', ['help.hooks_1', 'help.hooks_2']],
  ['help.report_title', ['help.report_1', 'help.report_2']],
  ['help.similar_title', ['help.similar_1']],
];

export function helpView() {
  return h('div', { class: 'prod-help', dataset: { view: 'help' } },
    h('header', { class: 'prod-head' }, h('div', { class: 'prod-head-text' },
      h('h1', { class: 'prod-title' }, t('help.title')), h('p', { class: 'prod-topic' }, t('help.subtitle')))),
    HELP_SECTIONS.map(([title, paragraphs]) => h('section', { class: 'card prod-card help-card' },
      h('h2', { class: 'prod-card-title' }, t(title)),
      paragraphs.map((p) => h('p', { class: 'help-text' }, t(p))))));
}

