// similar.test.js — similar-question hints in the moderator console, in Chromium against the
// real forumd: paraphrased questions put a "相似 n" chip on the card, the chip opens the list
// with scores, and M on a focused hint merges the card's question into it (question.merge).
// Screenshots: tests/browser/artifacts/similar-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WsClient, shot, waitFor, STUDIO, useShow, staffQuestions } from './helpers.js';

const LIFT = '老旧小区加装电梯，政府补贴多少钱？';
const LIFT2 = '加装电梯的话政府能补贴多少？';
const LAMP = '小区门口的路灯坏了一个月了，谁来修？';

const fx = useShow({ premoderation: true });
before(async () => { await fx.setup(); });
after(() => fx.teardown());

test('the similar chip appears and one key merges', async () => {
  const { code, moderatorKey } = fx.show;
  const page = await fx.openPage('moderator', STUDIO, `/m/${code}#key=${encodeURIComponent(moderatorKey)}`);
  await page.locator('#app:not([hidden])').waitFor();

  const viewer = await WsClient.connect(fx.server.url, { session: code, role: 'viewer', token: `similar-test-viewer-${Date.now()}` });
  const lift = (await viewer.ok({ type: 'question.submit', text: LIFT })).question.id;
  await viewer.ok({ type: 'question.submit', text: LAMP });
  const lift2 = (await viewer.ok({ type: 'question.submit', text: LIFT2 })).question.id;

  const card = page.locator(`.m-q[data-qid="${lift2}"]`);
  const chip = card.locator('.chip-similar');
  await chip.waitFor({ timeout: 5000 });
  assert.equal((await chip.textContent()).trim(), '相似 1');
  const lampCard = page.locator('.m-q', { hasText: LAMP });
  assert.equal(await lampCard.locator('.chip-similar').count(), 0, 'the street light has no look-alike');

  await chip.click();
  const hint = card.locator(`.m-similar-item[data-hint="${lift}"]`);
  await hint.waitFor();
  assert.match(await hint.locator('.m-similar-score').textContent(), /^\d+%$/);
  assert.ok((await hint.textContent()).includes(LIFT));
  await waitFor(() => page.evaluate((id) => document.activeElement?.dataset?.hint === String(id), lift),
    { message: 'the first hint has focus' });
  await shot(page, 'similar-moderator-zh');

  await page.keyboard.press('m');
  await waitFor(async () => {
    const qs = await staffQuestions(fx.server, code);
    const merged = qs.find((x) => x.id === lift2);
    return merged && merged.merged_into === lift;
  }, { message: 'the question was merged into its look-alike' });
  await page.locator('#list-dismissed .m-q', { hasText: LIFT2 }).waitFor();
  assert.equal(await page.locator('dialog[open]').count(), 0, 'no merge dialog: one key did it');
  await shot(page, 'similar-moderator-merged');

  // English
  await page.evaluate(() => { localStorage.setItem('forum.lang', 'en'); });
  const lift3 = (await viewer.ok({ type: 'question.submit', text: '加装电梯，政府补贴标准是多少？' })).question.id;
  await page.reload();
  await page.locator('#app:not([hidden])').waitFor();
  const chip3 = page.locator(`.m-q[data-qid="${lift3}"] .chip-similar`);
  await chip3.waitFor({ timeout: 5000 });
  assert.equal((await chip3.textContent()).trim(), 'Similar 1');
  await chip3.click();
  await shot(page, 'similar-moderator-en');
  viewer.close();
  assert.deepEqual(fx.errors.filter((e) => !/WebSocket|net::/.test(e)), []);
});
