// share-images.mjs — draws the share images the viewer page's Open Graph and schema.org tags
// name (web-client/img/share-card.png, 1200x630, and share-icon.png, 300x300) with headless
// Chromium, from the HTML below. They are committed; run this again only to change them:
//   (cd tests && npm ci) && node scripts/share-images.mjs
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { chromium } from '../tests/node_modules/playwright-core/index.mjs';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'web-client', 'img');
const mic = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><path d="M16 7a3.5 3.5 0 0 1 3.5 3.5v5a3.5 3.5 0 0 1-7 0v-5A3.5 3.5 0 0 1 16 7zM10 15.5a6 6 0 0 0 12 0M16 21.5V25" fill="none" stroke="#c8242b" stroke-width="2.2" stroke-linecap="round"/></svg>`;
const font = '"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif';

const card = `<!doctype html><html><head><meta charset="utf-8"><style>
html, body { margin: 0; width: 1200px; height: 630px; overflow: hidden; }
body { font-family: ${font}; color: #fff; background: linear-gradient(135deg, #d02a31 0%, #a51c22 100%); position: relative; }
.ring { position: absolute; border-radius: 50%; border: 2px solid rgba(255,255,255,.10); }
.r1 { width: 760px; height: 760px; right: -260px; top: -300px; }
.r2 { width: 520px; height: 520px; right: -140px; top: -180px; }
.r3 { width: 300px; height: 300px; right: -30px; top: -70px; background: rgba(255,255,255,.05); }
.wrap { position: absolute; left: 96px; top: 110px; right: 96px; }
.emblem { width: 132px; height: 132px; border-radius: 32px; background: #fff; display: flex; align-items: center; justify-content: center; box-shadow: 0 16px 40px rgba(80,0,0,.28); }
.emblem svg { width: 96px; height: 96px; }
h1 { margin: 44px 0 0; font-size: 92px; font-weight: 800; letter-spacing: .06em; line-height: 1.1; }
p { margin: 22px 0 0; font-size: 40px; font-weight: 500; opacity: .95; letter-spacing: .02em; }
.foot { position: absolute; left: 96px; right: 96px; bottom: 64px; display: flex; justify-content: space-between; align-items: center; font-size: 30px; }
.pill { padding: 12px 28px; border-radius: 999px; background: #fff; color: #b3212a; font-weight: 700; letter-spacing: .04em; }
.quote { opacity: .8; }
</style></head><body>
<div class="ring r1"></div><div class="ring r2"></div><div class="ring r3"></div>
<div class="wrap"><div class="emblem">${mic}</div><h1>直播论坛</h1><p>向嘉宾提问 · 为关心的问题点赞</p></div>
<div class="foot"><span class="pill">扫码或点开链接，进入直播间</span><span class="quote">有事大家商议 · 问题大家解决</span></div>
</body></html>`;

const icon = `<!doctype html><html><head><meta charset="utf-8"><style>
html, body { margin: 0; width: 300px; height: 300px; overflow: hidden; }
body { background: linear-gradient(135deg, #d02a31 0%, #a51c22 100%); display: flex; align-items: center; justify-content: center; }
.emblem { width: 188px; height: 188px; border-radius: 48px; background: #fff; display: flex; align-items: center; justify-content: center; }
.emblem svg { width: 140px; height: 140px; }
</style></head><body><div class="emblem">${mic}</div></body></html>`;

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--headless', '--no-sandbox'] });
for (const [name, html, width, height] of [['share-card.png', card, 1200, 630], ['share-icon.png', icon, 300, 300]]) {
  const page = await browser.newPage({ viewport: { width, height } });
  await page.setContent(html);
  await page.screenshot({ path: join(out, name) });
  await page.close();
}
await browser.close();
