// A session with more questions than a welcome names: the viewer page offers "load more" at the
// end of the wall and ends with every question; the moderator console reads the rest in the
// background and shows it all.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useShow, WsClient, shot, waitFor, PHONE, LAPTOP } from './helpers.js';

const fx = useShow({ premoderation: false });
const N = 140;

before(async () => {
  await fx.setup();
  const mod = await WsClient.connect(fx.server.url, { session: fx.show.code, role: 'moderator', token: fx.show.moderatorKey, name: '值班' });
  for (let i = 0; i < N; i += 40) {
    const batch = [];
    for (let k = i; k < Math.min(N, i + 40); k++) {
      batch.push(mod.ok({ type: 'question.submit', text: `第${k + 1}号问题：` + '老旧小区加装电梯的补贴'.repeat(40), source: 'phone', author: '热线' }));
    }
    await Promise.all(batch);
    await new Promise((r) => setTimeout(r, 900)); // the per-connection request budget refills
  }
  mod.close();
});
after(() => fx.teardown());

test('the viewer wall loads more questions on request until it has them all', async () => {
  const page = await fx.openPage('viewer', PHONE, `/s/${fx.show.code}`);
  await page.locator('#load-more').waitFor();
  const first = await page.locator('#list article.v-q').count();
  assert.ok(first > 0 && first < N, `the welcome named ${first} of ${N}`);
  assert.match(await page.locator('#load-more').innerText(), new RegExp(`${N}`));
  await shot(page, 'viewer-load-more');
  for (let clicks = 0; clicks < 10 && await page.locator('#load-more').count(); clicks++) {
    await page.locator('#load-more').click();
    await page.waitForTimeout(300);
  }
  await waitFor(async () => (await page.locator('#list article.v-q').count()) === N, { message: `all ${N} questions on the wall` });
  assert.equal(await page.locator('#load-more').count(), 0);
  assert.deepEqual(fx.errors, []);
});

test('the moderator console reads every question in the background', async () => {
  const page = await fx.openPage('moderator', LAPTOP, `/m/${fx.show.code}#key=${fx.show.moderatorKey}`);
  await waitFor(async () => (await page.locator('[data-qid]').count()) >= N, { timeout: 20_000, message: `all ${N} questions in the console` });
  await waitFor(async () => (await page.locator('#loading-questions').count()) === 0, { message: 'the loading note goes away' });
  await shot(page, 'moderator-all-loaded');
  assert.deepEqual(fx.errors, []);
});
