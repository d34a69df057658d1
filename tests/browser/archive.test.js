// archive.test.js — what producers keep after the show, in a real browser against the real
// forumd: live viewer counts from presence messages, a commitment recorded from the on-air card
// (it reaches the producer's list), a moderator's phone question through the outbox while
// offline, the ban list from the snapshot, exports (minutes in Chinese and English, CSV with
// BOM, JSON), archive search with a two-character Chinese word, carry-over into the next show
// (which lists the open commitment), erasing a viewer's name, backup, and the minutes view on
// the viewer page once the show is archived. Screenshots go to tests/browser/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  startServer, createShow, staffQuestions, launchBrowser, shot, watchErrors, waitFor,
  PHONE, LAPTOP,
  useShow,
} from './helpers.js';

const NAMED = '楼道里堆放杂物，消防通道被堵住了，谁来管一管？';
const PARK = '小区停车位太少，晚上回来经常没地方停车，能不能利用边角地块增加车位？';
const LIFT = '老房子加装电梯的补贴政策什么时候出台？';
const PROMISE = '两周内摸排边角地块，提出增加停车位的方案并公示';
const TITLE_A = '第四期 · 社区微改造，听听居民怎么说';
const TITLE_B = '第五期 · 停车难，怎么解';

const fx = useShow({ premoderation: false });
const { errors, pages, openPage } = fx;
let server;
let browser;
let show;
before(async () => { ({ server, browser, show } = await fx.setup()); });
after(() => fx.teardown());

const modCard = (page, column, text) => page.locator(`#list-${column} .m-q`, { hasText: text });
const viewerCount = (page) => page.locator('#counts .prod-count.is-accent b');

test('archive features: commitments, exports, search, carry-over, erase, backup, minutes', async (t) => {
  const { code, moderatorKey } = show;
  let codeB;

  await step(t, 'producer console: the viewer count follows presence messages', async () => {
    const prod = await openPage('producer', { ...LAPTOP, acceptDownloads: true }, '/producer');
    await prod.fill('#login-key', server.producerKey);
    await prod.click('#login-form button[type="submit"]');
    await prod.locator('.prod-session-link', { hasText: TITLE_A }).click();
    await prod.locator('.prod-title', { hasText: TITLE_A }).waitFor();
    await waitFor(async () => (await viewerCount(prod).textContent()) === '0', { message: 'no viewers yet' });
    const v1 = await openPage('viewer1', PHONE, `/s/${code}`);
    await v1.locator('.conn[data-status="connected"]').waitFor();
    // No reconnect needed: the server tells staff when the number changes (checked each second).
    await waitFor(async () => (await viewerCount(prod).textContent()) === '1', { timeout: 5000, message: 'one viewer' });
    const v2 = await openPage('viewer2', PHONE, `/s/${code}`);
    await v2.locator('.conn[data-status="connected"]').waitFor();
    await waitFor(async () => (await viewerCount(prod).textContent()) === '2', { timeout: 5000, message: 'two viewers' });
  });

  await step(t, 'viewers ask; a phone question entered offline waits in the outbox and arrives once', async () => {
    const v1 = pages.viewer1.page;
    await v1.fill('#q-name', '李老师');
    await v1.fill('#q-text', NAMED);
    await v1.click('#q-submit');
    await v1.locator('.toast', { hasText: '提交成功' }).waitFor();
    const v2 = pages.viewer2.page;
    await v2.check('#q-anon');
    await v2.fill('#q-text', PARK);
    await v2.click('#q-submit');
    await v2.locator('.toast', { hasText: '提交成功' }).waitFor();

    const mod = await openPage('moderator', LAPTOP, `/m/${code}#key=${encodeURIComponent(moderatorKey)}`);
    await modCard(mod, 'published', NAMED).waitFor();
    await waitFor(async () => (await mod.locator('#stat-viewers b').textContent()) === '2', { timeout: 5000, message: 'moderator header shows 2 viewers' });
    await mod.click('.side-tabs [data-tab="entry"]');
    await pages.moderator.context.setOffline(true);
    await mod.locator('.conn[data-status="offline"]').waitFor();
    await mod.click('#entry-source button[data-source="phone"]');
    await mod.fill('#entry-author', '王师傅');
    await mod.fill('#entry-text', LIFT);
    await mod.click('#entry-form button[type="submit"]');
    await mod.locator('#entry-pending', { hasText: LIFT }).waitFor();
    assert.equal(await mod.locator('#entry-text').inputValue(), '');
    const stored = await mod.evaluate((c) => localStorage.getItem(`forum.modoutbox.${c}`), code);
    assert.ok(stored && stored.includes(LIFT), 'the entered question is kept in localStorage');
    await shot(mod, 'moderator-entry-offline');
    await pages.moderator.context.setOffline(false);
    await modCard(mod, 'published', LIFT).waitFor({ timeout: 15_000 });
    await mod.locator('#entry-pending .entry-pending').waitFor({ state: 'detached' });
    const all = await staffQuestions(server, code);
    assert.equal(all.filter((q) => q.text === LIFT).length, 1, 'exactly one phone question arrived');
    assert.equal(all.find((q) => q.text === LIFT).source, 'phone');
  });

  await step(t, 'moderator records a commitment from the on-air card; the producer sees it', async () => {
    await show.producer.ok({ type: 'session.start', session: code });
    const mod = pages.moderator.page;
    await mod.locator('#status-badge[data-status="live"]').waitFor();
    await modCard(mod, 'published', PARK).locator('button', { hasText: '上屏' }).click();
    await mod.locator('#onair .onair-text', { hasText: PARK }).waitFor();
    await mod.click('#onair-commit');
    const dialog = mod.locator('dialog[open]');
    await dialog.locator('.dialog-quote', { hasText: PARK }).waitFor();
    await dialog.locator('[name="act-text"]').fill(PROMISE);
    await dialog.locator('[name="act-owner"]').fill('菊园新区社区自治办');
    await dialog.locator('[name="act-due"]').fill('2030-08-01');
    await shot(mod, 'moderator-commit-dialog');
    await dialog.locator('button[type="submit"]').click();
    await mod.locator('.toast', { hasText: '已记录承诺' }).waitFor();
    await mod.click('.side-tabs [data-tab="actions"]');
    const row = mod.locator('#action-list .act-item', { hasText: PROMISE });
    await row.waitFor();
    await assertText(row, '.act-meta', '菊园新区社区自治办');
    await assertText(row, '.act-meta', '2030-08-01');
    await assertText(row, '.act-meta', `#`);
    await assertText(mod, '#n-actions', '1');

    const prod = pages.producer.page;
    const prow = prod.locator('#actions-list .act-item', { hasText: PROMISE });
    await prow.waitFor();
    // The producer follows it up; the moderator sees the new status at once.
    await prow.locator('select').selectOption('in_progress');
    await mod.locator('#action-list .act-item[data-status="in_progress"]', { hasText: PROMISE }).waitFor();
    await shot(mod, 'moderator-actions');
  });

  await step(t, 'the ban list comes with the snapshot', async () => {
    const all = await staffQuestions(server, code);
    const parkAsker = all.find((q) => q.text === PARK).viewer_id;
    await show.producer.ok({ type: 'viewer.ban', session: code, viewer_id: parkAsker });
    const mod = pages.moderator.page;
    await mod.reload();
    await mod.locator('.conn[data-status="connected"]').waitFor();
    await mod.click('.side-tabs [data-tab="bans"]');
    await mod.locator(`#ban-list .ban-row[data-viewer-id="${parkAsker}"]`, { hasText: PARK }).waitFor();
    await assertText(mod, '#n-bans', '1');
    await shot(mod, 'moderator-bans');
    await mod.locator(`#ban-list .ban-row[data-viewer-id="${parkAsker}"] button`).click();
    await mod.locator('#ban-list .empty').waitFor();
  });

  await step(t, 'exports: minutes in Chinese and English, CSV with BOM, JSON; errors in plain language', async () => {
    const prod = pages.producer.page;
    const grab = async (file) => {
      const [download] = await Promise.all([prod.waitForEvent('download'), prod.click(`button[data-export="${file}"]`)]);
      return { name: download.suggestedFilename(), body: readFileSync(await download.path(), 'utf8') };
    };
    const zh = await grab('transcript.md');
    assert.ok(zh.body.startsWith(`# 书记论坛：${TITLE_A}\n`), zh.body.slice(0, 80));
    assert.match(zh.name, new RegExp(`-${code}-会议纪要\\.md$`));
    assert.ok(zh.body.includes(PROMISE));
    const en = await grab('transcript.md?lang=en');
    assert.ok(en.body.startsWith(`# 书记论坛: ${TITLE_A}\n`), en.body.slice(0, 80));
    assert.ok(en.body.includes('## Questions and answers'));
    assert.match(en.name, /-minutes-en\.md$/);
    const csv = await grab('questions.csv');
    assert.equal(csv.body.charCodeAt(0), 0xfeff, 'the CSV starts with a byte order mark');
    assert.ok(csv.body.slice(1).startsWith('id,session,created_at'), csv.body.slice(0, 40));
    assert.ok(csv.body.includes(LIFT));
    assert.match(csv.name, /-问题清单\.csv$/);
    const json = await grab('transcript.json');
    assert.equal(JSON.parse(json.body).format, 'forum.transcript.v1');
    // A refused download is explained, not saved.
    await prod.route('**/questions.csv', (route) => route.fulfill({ status: 401, body: 'unauthorized' }));
    await prod.click('button[data-export="questions.csv"]');
    await prod.locator('.toast', { hasText: '制作密钥已失效' }).waitFor();
    await prod.unroute('**/questions.csv');
    await prod.evaluate(() => document.getElementById('actions-card').scrollIntoView());
    await shot(prod, 'producer-actions');
  });

  await step(t, 'archive search finds a two-character Chinese word, with filters', async () => {
    const prod = pages.producer.page;
    await prod.click('.prod-tool-link[data-view="search"]');
    await prod.fill('#search-q', '停车');
    await prod.click('#search-go');
    await prod.locator('.search-summary', { hasText: '共找到' }).waitFor();
    const question = prod.locator('.search-result[data-kind="question"]', { hasText: PARK });
    await question.waitFor();
    await assertText(question, '.sr-foot', TITLE_A);
    await assertText(question, '.sr-top', '直播中');
    assert.equal(await question.locator('.sr-text mark').first().textContent(), '停车');
    await prod.locator('.search-result[data-kind="action"]', { hasText: PROMISE }).waitFor();
    await shot(prod, 'producer-search');
    // Filters: commitments in progress only, then a kind nobody asked.
    await prod.selectOption('#search-state', 'in_progress');
    await prod.click('#search-go');
    await waitFor(async () => (await prod.locator('.search-result').count()) === 1 && (await prod.locator('.search-result[data-kind="action"]').count()) === 1, { message: 'state filter' });
    await prod.selectOption('#search-state', '');
    await prod.selectOption('#search-category', 'suggestion');
    await prod.click('#search-go');
    await prod.locator('.search-none', { hasText: '没有找到' }).waitFor();
    await prod.selectOption('#search-category', '');
  });

  await step(t, 'carry-over into the next show; it lists the open commitment', async () => {
    const created = await show.producer.ok({
      type: 'session.create', program_id: show.programId, title: TITLE_B, scheduled_at: Date.now() + 14 * 86400_000,
      panelists: [{ name: '薄燕飞', affiliation: '菊园新区社区自治办', role: '负责人' }],
    });
    codeB = created.session.code;
    await show.producer.ok({ type: 'session.open', session: codeB });
    const prod = pages.producer.page;
    await prod.locator('.prod-session-link', { hasText: TITLE_B }).click();
    await prod.locator('.prod-title', { hasText: TITLE_B }).waitFor();
    await prod.locator('#open-actions-list .act-item', { hasText: PROMISE }).waitFor();
    assert.equal(await prod.locator('#carry-from').inputValue(), code);
    await prod.click('#carry-go');
    const result = prod.locator('#carry-result');
    await result.locator('.prod-result-title', { hasText: '已从“第四期' }).waitFor();
    for (const text of [NAMED, PARK, LIFT]) await result.locator('li', { hasText: text }).waitFor();
    await prod.evaluate(() => document.getElementById('carry-card').scrollIntoView());
    await shot(prod, 'producer-carry');
    // Again: nothing is added twice — the picker marks them as carried before and leaves
    // nothing to carry.
    for (const text of [NAMED, PARK, LIFT]) {
      await prod.locator('#carry-pick .carry-item.is-done', { hasText: text }).locator('.chip', { hasText: '此前已转入' }).waitFor();
    }
    assert.equal(await prod.locator('#carry-go').isDisabled(), true);
    const carried = await staffQuestions(server, codeB);
    assert.equal(carried.length, 3);
  });

  await step(t, 'erase a viewer: confirmation, then the name is gone from the moderator console', async () => {
    const prod = pages.producer.page;
    await prod.locator('.prod-session-link', { hasText: TITLE_A }).click();
    await prod.locator('.prod-title', { hasText: TITLE_A }).waitFor();
    const all = await staffQuestions(server, code);
    const asker = all.find((q) => q.text === NAMED).viewer_id;
    await prod.fill('#erase-id', 'not-an-id');
    await prod.click('#erase-go');
    await prod.locator('#erase-card [role="alert"]', { hasText: '观众标识应为' }).waitFor();
    await prod.fill('#erase-id', asker);
    await prod.click('#erase-go');
    const dialog = prod.locator('dialog[open]');
    await dialog.locator('.dialog-list', { hasText: '保留' }).waitFor();
    await assertText(dialog, '.dialog-text', asker);
    await shot(prod, 'producer-erase-dialog');
    await dialog.locator('button[type="submit"]').click();
    const result = prod.locator('#erase-result');
    await result.locator('.prod-result-title', { hasText: '已删除' }).waitFor();
    await result.locator('p', { hasText: codeB }).waitFor(); // still has a carried question there
    const mod = pages.moderator.page;
    await mod.reload();
    const named = modCard(mod, 'published', NAMED);
    await named.waitFor();
    await assertText(named, '.m-q-author', '匿名');
    assert.equal(await mod.locator('body', { hasText: '李老师' }).count(), 0, 'the name is gone');
    // The same view in English (every new string has both languages).
    await prod.click('[data-lang-toggle]');
    await prod.locator('#actions-card .prod-card-title', { hasText: 'Commitments' }).waitFor();
    await prod.locator('#erase-result', { hasText: 'Erased.' }).waitFor();
    await shot(prod, 'producer-session-en', { fullPage: true });
    await prod.click('[data-lang-toggle]');
    await prod.locator('#actions-card .prod-card-title', { hasText: '承诺事项' }).waitFor();
  });

  await step(t, 'backup now shows where the copy is and how big it is', async () => {
    const prod = pages.producer.page;
    await prod.click('.prod-tool-link[data-view="backup"]');
    await prod.click('#backup-go');
    const result = prod.locator('.backup-result');
    await result.waitFor({ timeout: 15_000 });
    await assertText(result, '.prod-link', '/backups/forum-');
    await waitFor(async () => /\d+(\.\d)? (KB|MB)/.test(await result.textContent()), { message: 'backup size' });
    await shot(prod, 'producer-backup');
  });

  await step(t, 'after the archive, the viewer page shows the minutes', async () => {
    const v1 = pages.viewer1.page;
    await show.producer.ok({ type: 'session.end', session: code });
    await v1.locator('#notice .v-minutes-pending', { hasText: '会议纪要正在整理' }).waitFor();
    await show.producer.ok({ type: 'session.archive', session: code });
    await v1.locator('#minutes-link').click();
    const doc = v1.locator('#minutes-doc[data-state="ready"]');
    await doc.waitFor();
    await assertText(doc, 'h2.md-h1', `书记论坛：${TITLE_A}`);
    await doc.locator('h3.md-h2', { hasText: '问答' }).waitFor();
    await doc.locator('ol.md-list > li', { hasText: PARK }).locator('.md-time').first().waitFor();
    await doc.locator('ol.md-list > li', { hasText: PROMISE }).waitFor();
    assert.equal(await v1.locator('#main').isHidden(), true);
    await shot(v1, 'viewer-minutes');
    await shot(v1, 'viewer-minutes-full', { fullPage: true });
    await v1.click('[data-lang-toggle]');
    await doc.locator('h3.md-h2', { hasText: 'Questions and answers' }).waitFor();
    await shot(v1, 'viewer-minutes-en');
    await v1.click('[data-lang-toggle]');
    await doc.locator('h3.md-h2', { hasText: '问答' }).waitFor();
    await v1.click('#minutes-back');
    await v1.locator('#notice #minutes-link').waitFor();
  });

  await step(t, 'no script errors on any page', () => {
    assert.deepEqual(errors.filter((e) => !/WebSocket|ERR_INTERNET_DISCONNECTED|net::|status of 40[14]/.test(e)), []);
  });
});

/** A subtest that, when it fails, saves a screenshot of every open page (fail-<page>.png). */
async function step(t, name, fn) {
  await t.test(name, async () => {
    try {
      await fn();
    } catch (err) {
      for (const [label, { page }] of Object.entries(pages)) {
        await shot(page, `fail-archive-${label}`).catch(() => {});
      }
      throw err;
    }
  });
}

async function assertText(scope, selector, expected) {
  const loc = scope.locator(selector).first();
  await waitFor(async () => ((await loc.textContent()) || '').includes(expected), { message: `${selector} to contain ${expected}` })
    .catch(async (e) => { throw new Error(`${e.message}; it is: ${await loc.textContent().catch(() => '?')}`); });
}
