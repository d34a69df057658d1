// report.test.js — the show's report page in Chromium against the real forumd: opened from the
// producer console's link, it draws its charts as inline SVG from report.json (numbers as the
// server computed them), prints on A4, and has a programme view over a date range.
// Screenshots and the PDF: tests/browser/artifacts/report-*.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WsClient, shot, LAPTOP, useShow, artifactsDir } from './helpers.js';

const fx = useShow({ premoderation: false });
before(async () => { await fx.setup(); });
after(() => fx.teardown());

test('the report page draws its charts and prints on A4', async () => {
  const { code, moderatorKey, programId } = fx.show;
  const mod = await WsClient.connect(fx.server.url, { session: code, role: 'moderator', token: moderatorKey });
  const viewer = await WsClient.connect(fx.server.url, { session: code, role: 'viewer', token: `report-test-viewer-${Date.now()}` });
  const texts = ['老旧小区加装电梯，政府补贴多少钱？', '小区停车位太少，晚上回来没地方停', '建议垃圾分类投放点延长开放时间'];
  const ids = [];
  for (const [i, text] of texts.entries()) {
    ids.push((await viewer.ok({ type: 'question.submit', text, category: ['question', 'need', 'suggestion'][i], to: i === 0 ? 1 : undefined })).question.id);
  }
  await mod.ok({ type: 'onair.set', question_id: ids[0] });
  await mod.ok({ type: 'question.answered', question_id: ids[0], note: '每台最高补贴20万元' });
  await mod.ok({ type: 'action.create', question_id: ids[0], text: '一个月内公布补贴细则', owner: '区住建局', due: '2026-04-30' });

  const prod = await fx.openPage('producer', LAPTOP, '/producer');
  await prod.fill('#login-key', fx.server.producerKey);
  await prod.click('#login-form button[type="submit"]');
  await prod.locator('.prod-session-link').first().click();
  const link = prod.locator(`a[data-report="${code}"]`);
  await link.waitFor();
  assert.equal(await link.getAttribute('href'), `/report/${code}`);
  assert.equal(await prod.locator(`a[data-program-report="${programId}"]`).getAttribute('href'), `/report/program/${programId}`);
  const [page] = await Promise.all([prod.context().waitForEvent('page'), link.click()]);
  await page.locator('.rep-kpis').first().waitFor();
  const kpis = await page.locator('.rep-kpis').first().locator('.rep-kpi').allTextContents();
  assert.ok(kpis[0].startsWith('3'), `questions: ${kpis[0]}`);
  assert.ok(kpis.some((k) => k.includes('33%') && k.includes('回答率')), kpis.join(' | '));
  // charts are inline SVG drawn by the page, nothing loaded from elsewhere
  assert.ok(await page.locator('svg.rep-chart').count() >= 5);
  const kindBars = await page.locator('.rep-section', { hasText: '问题类型' }).locator('.rep-value').allTextContents();
  assert.deepEqual(kindBars, ['1', '1', '1']);
  const commitmentRow = page.locator('.rep-table tr', { hasText: '一个月内公布补贴细则' });
  assert.ok((await commitmentRow.textContent()).includes('区住建局'));
  await shot(page, 'report-session-zh', { fullPage: true });
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('.rep-toolbar').isVisible(), false, 'no toolbar on paper');
  await shot(page, 'report-session-print', { fullPage: true });
  writeFileSync(join(artifactsDir, 'report-session.pdf'), await page.pdf({ format: 'A4', printBackground: true }));
  await page.emulateMedia({ media: 'screen' });
  await page.click('[data-lang-toggle]');
  await page.locator('.rep-kpi', { hasText: 'Answered' }).waitFor();
  await shot(page, 'report-session-en', { fullPage: true });

  // the programme over a date range (the show is scheduled for today)
  const today = new Date().toISOString().slice(0, 10);
  await page.goto(`${fx.server.url}/report/program/${programId}?from=${today}&to=${today}`);
  await page.locator('.rep-table tbody tr').first().waitFor();
  assert.equal(await page.locator('.rep-table tbody tr a').first().getAttribute('href'), `/report/${code}`);
  await page.fill('.rep-range [name=from]', '2001-01-01');
  await page.fill('.rep-range [name=to]', '2001-01-31');
  await page.click('.rep-range button');
  await page.locator('.rep-section', { hasText: 'No sessions in this period.' }).waitFor();
  await shot(page, 'report-program-en', { fullPage: true });

  // without the key the page asks for it
  const ctx = await fx.browser.newContext(LAPTOP);
  const stranger = await ctx.newPage();
  await stranger.goto(`${fx.server.url}/report/${code}`);
  await stranger.locator('#login:not([hidden])').waitFor();
  assert.equal(await stranger.locator('.rep-kpi').count(), 0);
  await ctx.close();
  mod.close();
  viewer.close();
  assert.deepEqual(fx.errors.filter((e) => !/WebSocket|net::|status of 401/.test(e)), []);
});
