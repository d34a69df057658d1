// stream.js — the show's video on the viewer page, from the session's stream setting:
// - "hls": a <video> playing the .m3u8 natively where the browser can (Safari, iOS, WeChat on
//   iOS), else through hls.js, loaded from /vendor/ the first time it is needed (served by
//   forumd like the rest of the page, never fetched from elsewhere);
// - "embed": a platform's player page (Bilibili, YouTube) in a sandboxed iframe.
// The page's Content-Security-Policy names only the stream it was served for (the server puts
// it in <meta name="forum-stream">); a stream set later offers a reload instead of breaking.
// Picture-in-picture where the browser has it; on phones the player stays on top of the page
// and moves to a corner while the resident types. Nothing here runs when no stream is set.
import { t } from './i18n.js';
import { h, mount, icon } from './ui.js';

const HLS_MODULE = '/vendor/hls.light.min.mjs';
const RETRY_MS = 5000;
const PHONE = '(max-width: 720px)';

/** "kind url" of the stream the page's policy allows ("" for none). */
function servedStream() {
  const meta = document.querySelector('meta[name="forum-stream"]');
  return meta ? meta.content.trim() : '';
}

function canPlayHlsNatively(video) {
  return Boolean(video.canPlayType('application/vnd.apple.mpegurl') || video.canPlayType('application/x-mpegURL'));
}

export class StreamPlayer {
  /** section: the element the player lives in (hidden while there is no stream); code: the
   *  session's join code (remembers a reload). */
  constructor(section, code) {
    this.section = section;
    this.code = code;
    this.key = null;
    this.video = null;
    this.hls = null;
    this.timer = null;
    this.statusKey = null;
  }

  /** Shows stream ({kind, url} or null) of a session in status (nothing once archived). */
  update(stream, status) {
    const want = stream && stream.url && status !== 'archived' ? `${stream.kind} ${stream.url}` : '';
    if (want === this.key) return;
    this.stop();
    this.key = want;
    this.section.hidden = !want;
    if (!want) {
      mount(this.section);
      delete this.section.dataset.mode;
      return;
    }
    if (want !== servedStream()) {
      this.offerReload(want);
    } else if (stream.kind === 'hls') {
      this.playHls(stream.url);
    } else {
      this.embed(stream.url);
    }
  }

  /** Re-renders the texts (language change) without interrupting playback. */
  relabel() {
    const mode = this.section.dataset.mode;
    if (mode === 'reload' || mode === 'unavailable') {
      this.offerReload(this.key);
      return;
    }
    if (mode === 'unsupported') {
      this.unsupported();
      return;
    }
    this.setState(this.section.dataset.state || '', this.statusKey);
    for (const el of this.section.querySelectorAll('video, iframe')) el.title = t('stream.label');
    const pip = this.section.querySelector('.v-stream-pip');
    if (pip) {
      pip.title = t('stream.pip');
      pip.setAttribute('aria-label', t('stream.pip'));
      pip.lastChild.textContent = t('stream.pip');
    }
  }

  /** Moves the player to a corner on phones while focus is inside el (the composer). */
  dockWhileTyping(el) {
    let leave = null;
    el.addEventListener('focusin', () => {
      clearTimeout(leave);
      // a player only: a notice (reload, unavailable) stays where it is
      if (this.section.querySelector('.v-stream-frame') && window.matchMedia(PHONE).matches) this.section.classList.add('is-mini');
    });
    el.addEventListener('focusout', () => {
      // focus moving between the composer's own fields keeps it docked
      leave = setTimeout(() => { if (!el.contains(document.activeElement)) this.section.classList.remove('is-mini'); }, 150);
    });
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.hls) this.hls.destroy();
    this.hls = null;
    if (this.video) {
      this.video.removeAttribute('src');
      this.video.load();
    }
    this.video = null;
    this.section.classList.remove('is-mini');
  }

  /** state: loading | waiting | playing; key: the status line's text (i18n key) or null. */
  setState(state, key = null) {
    this.section.dataset.state = state;
    this.statusKey = key;
    const el = this.section.querySelector('.v-stream-status');
    if (el) {
      el.textContent = key ? t(key) : '';
      el.hidden = !key;
    }
  }

  frame(...children) {
    mount(this.section,
      h('div', { class: 'v-stream-frame' }, children, h('p', { class: 'v-stream-status', role: 'status', hidden: true })));
  }

  offerReload(want) {
    const key = `forum.streamReload.${this.code}`;
    let tried = null;
    try { tried = sessionStorage.getItem(key); } catch (_) { /* storage off */ }
    this.section.dataset.mode = tried === want ? 'unavailable' : 'reload';
    mount(this.section, h('div', { class: 'v-stream-notice' },
      h('span', { class: 'v-stream-notice-icon' }, icon('mic')),
      tried === want ? h('span', {}, t('stream.unavailable')) : [
        h('span', {}, t('stream.updated')),
        h('button', {
          type: 'button', class: 'btn btn-primary btn-sm', id: 'stream-reload',
          onclick: () => {
            try { sessionStorage.setItem(key, want); } catch (_) { /* storage off */ }
            location.reload();
          },
        }, t('stream.reload')),
      ]));
  }

  playHls(url) {
    const video = h('video', {
      class: 'v-stream-video', controls: true, autoplay: true, playsinline: true, preload: 'auto',
      'webkit-playsinline': 'true', 'x5-playsinline': 'true', title: t('stream.label'),
    });
    video.muted = true; // browsers start a video by themselves only while it is muted
    this.video = video;
    const pip = this.pipButton(video);
    this.frame(video, pip);
    video.addEventListener('playing', () => this.setState('playing'));
    video.addEventListener('loadeddata', () => this.setState('playing'));
    video.addEventListener('waiting', () => this.setState('waiting', 'stream.buffering'));
    this.setState('loading', 'stream.connecting');
    if (canPlayHlsNatively(video)) {
      this.section.dataset.mode = 'native';
      video.addEventListener('error', () => this.retryNative(video, url));
      video.src = url;
      return;
    }
    this.section.dataset.mode = 'hls.js';
    import(HLS_MODULE).then(({ default: Hls }) => {
      if (this.video !== video) return; // changed meanwhile
      if (!Hls.isSupported()) {
        this.unsupported();
        return;
      }
      // no worker: the page's policy allows scripts from this server only, not blob: workers
      const hls = new Hls({ enableWorker: false, liveDurationInfinity: true });
      this.hls = hls;
      hls.on(Hls.Events.ERROR, (_, data) => {
        if (!data.fatal) return;
        if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
          hls.recoverMediaError();
          return;
        }
        this.setState('waiting', 'stream.offline');
        clearTimeout(this.timer);
        this.timer = setTimeout(() => { if (this.hls === hls) hls.loadSource(url); }, RETRY_MS);
      });
      hls.loadSource(url);
      hls.attachMedia(video);
    }).catch(() => { if (this.video === video) this.unsupported(); });
  }

  /** Native playback failed (the show has not started, the signal dropped): try again. */
  retryNative(video, url) {
    if (this.video !== video) return;
    this.setState('waiting', 'stream.offline');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.video !== video) return;
      video.src = url;
      video.load();
    }, RETRY_MS);
  }

  unsupported() {
    this.section.dataset.mode = 'unsupported';
    mount(this.section, h('div', { class: 'v-stream-notice' }, h('span', {}, t('stream.unsupported'))));
  }

  /** A picture-in-picture button where the browser has it (standard or Safari's), else null. */
  pipButton(video) {
    const standard = document.pictureInPictureEnabled;
    const safari = typeof video.webkitSupportsPresentationMode === 'function' &&
      video.webkitSupportsPresentationMode('picture-in-picture');
    if (!standard && !safari) return null;
    return h('button', {
      type: 'button', class: 'v-stream-pip', title: t('stream.pip'), 'aria-label': t('stream.pip'),
      onclick: () => {
        if (standard) {
          if (document.pictureInPictureElement) document.exitPictureInPicture().catch(() => {});
          else video.requestPictureInPicture().catch(() => {});
        } else {
          video.webkitSetPresentationMode(video.webkitPresentationMode === 'picture-in-picture' ? 'inline' : 'picture-in-picture');
        }
      },
    }, h('span', { class: 'v-stream-pip-icon', 'aria-hidden': 'true' }), t('stream.pip'));
  }

  embed(url) {
    this.section.dataset.mode = 'embed';
    this.frame(h('iframe', {
      class: 'v-stream-iframe', src: url, title: t('stream.label'),
      allow: 'autoplay; fullscreen; picture-in-picture; encrypted-media',
      allowfullscreen: true,
      // players may run their own scripts in their own origin, open their site in a new tab, and
      // nothing else: they cannot navigate this page or reach into it
      sandbox: 'allow-scripts allow-same-origin allow-presentation allow-popups allow-popups-to-escape-sandbox',
      // platforms refuse to play for a page they cannot name (the page itself sends no referrer)
      referrerpolicy: 'strict-origin-when-cross-origin',
    }));
    this.setState('playing');
  }
}
