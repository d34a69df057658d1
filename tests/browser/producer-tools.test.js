// producer-tools.test.js — the producer console's studio tools in a real browser: registering
// outgoing webhooks (the signing secret shown once and verifying the test message a loopback
// receiver gets; a failing receiver's error shown in the list), and importing questions from a
// spreadsheet (a GBK CSV as Chinese spreadsheet programs save it, and an XLSX file the test
// builds): a preview with per-row errors before anything is written, and a second import of the
// same file adds nothing. Screenshots in tests/browser/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import zlib from 'node:zlib';
import { join } from 'node:path';
import { startServer, createShow, launchBrowser, shot, watchErrors, waitFor, staffQuestions, repoRoot, LAPTOP } from './helpers.js';

let server;
let browser;
let show;
let rx;
const errors = [];

async function receiver() {
  const got = [];
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      got.push({ path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (req.url === '/broken') { res.writeHead(500); res.end('down for maintenance'); return; }
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { got, url: `http://127.0.0.1:${srv.address().port}`, close: () => new Promise((r) => srv.close(r)) };
}

before(async () => {
  rx = await receiver();
  server = await startServer(['--webhook-timeout-ms', '2000']);
  browser = await launchBrowser();
  show = await createShow(server, { premoderation: false });
});

after(async () => {
  if (show) show.producer.close();
  if (browser) await browser.close();
  if (server) await server.stop();
  if (rx) await rx.close();
  assert.deepEqual(errors, [], 'no page errors');
});

async function producerPage(name) {
  const context = await browser.newContext({ ...LAPTOP });
  const page = await context.newPage();
  watchErrors(page, name, errors);
  await page.goto(`${server.url}/producer`);
  await page.fill('#login-key', server.producerKey);
  await page.click('#login-form button[type="submit"]');
  await page.locator('#nav').waitFor();
  return { context, page };
}

test('producer console: webhooks are registered, tested and their failures shown', async () => {
  const { context, page } = await producerPage('producer-webhooks');
  await page.click('.prod-tool-link[data-view="webhooks"]');
  const form = page.locator('#hook-form');
  await form.waitFor();
  // a host on the LAN is refused with the server's reason
  await page.fill('#hook-url', 'http://192.168.1.20/hook');
  await page.click('#hook-save');
  await waitFor(async () => (await page.locator('.toast').allTextContents()).some((x) => /只能推送到本机/.test(x)), { message: 'the refusal' });
  assert.equal(await page.locator('.hook-item').count(), 0);

  await page.fill('#hook-url', `${rx.url}/newsroom`);
  await page.fill('#hook-name', '新闻中心');
  await page.click('#hook-save');
  const once = page.locator('#hook-secret-once');
  await once.waitFor();
  const secret = (await once.locator('.prod-link').textContent()).trim();
  assert.match(secret, /^[A-Za-z0-9]{32}$/);
  const item = page.locator('.hook-item', { hasText: '新闻中心' });
  await item.waitFor();
  await item.locator('button', { hasText: '发送测试' }).click();
  await waitFor(() => rx.got.find((g) => g.path === '/newsroom'), { message: 'the test message' });
  const msg = rx.got.find((g) => g.path === '/newsroom');
  const [, ts, mac] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(msg.headers['x-forum-signature']);
  assert.equal(crypto.createHmac('sha256', secret).update(`${ts}.${msg.body}`).digest('hex'), mac, 'the shown secret verifies the signature');
  assert.equal(JSON.parse(msg.body).event, 'webhook.test');
  await waitFor(async () => /已送达 1/.test(await item.textContent()), { timeout: 30_000, message: 'delivered count' });

  // a receiver that fails: its error is shown, and the show is not held up
  await page.fill('#hook-url', `${rx.url}/broken`);
  await page.fill('#hook-name', '街道群');
  await page.selectOption('#hook-preset', 'wecom');
  await page.click('#hook-save');
  const broken = page.locator('.hook-item', { hasText: '街道群' });
  await broken.waitFor();
  await broken.locator('button', { hasText: '发送测试' }).click();
  await waitFor(async () => /HTTP 500/.test(await broken.textContent()), { timeout: 30_000, message: 'the failure in the list' });
  await shot(page, 'producer-webhooks-zh');
  await page.click('[data-lang-toggle]');
  await waitFor(async () => /Last error/.test(await broken.textContent()), { message: 'English' });
  await shot(page, 'producer-webhooks-en');
  await page.click('[data-lang-toggle]');

  // removing it
  await broken.locator('button', { hasText: '删除' }).click();
  await page.locator('.dialog-actions .btn-danger').click();
  await waitFor(async () => (await page.locator('.hook-item', { hasText: '街道群' }).count()) === 0, { message: 'removed' });
  // the console's help explains the buttons, imports and webhooks
  await page.click('.prod-tool-link[data-view="help"]');
  for (const title of ['演播室按钮与脚本（HTTP 接口）', '导入问题', '消息推送（Webhook）']) {
    await page.locator('.prod-help h2', { hasText: title }).waitFor();
  }
  await context.close();
});

// ---- spreadsheets --------------------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A ZIP archive of files ({name: string content}), deflated, as Excel writes an XLSX. */
function zip(files) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.from(content, 'utf8');
    const packed = zlib.deflateRawSync(data);
    const nameBuf = Buffer.from(name, 'utf8');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc32(data), 14); local.writeUInt32LE(packed.length, 18); local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6); central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc32(data), 16); central.writeUInt32LE(packed.length, 20); central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28); central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, packed);
    centrals.push(central, nameBuf);
    offset += local.length + nameBuf.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(centrals.length / 2, 8); end.writeUInt16LE(centrals.length / 2, 10);
  end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** An XLSX workbook of one sheet (rows of strings; '' = no cell), strings shared like Excel's,
 *  one of them in rich-text runs. */
function xlsx(rows) {
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const strings = [];
  const index = (s) => { let i = strings.indexOf(s); if (i < 0) { strings.push(s); i = strings.length - 1; } return i; };
  const col = (i) => String.fromCharCode(65 + i);
  const sheetRows = rows.map((r, ri) => `<row r="${ri + 1}">${r.map((v, ci) => (v === '' ? '' : `<c r="${col(ci)}${ri + 1}" t="s"><v>${index(v)}</v></c>`)).join('')}</row>`).join('');
  const si = strings.map((s, i) => (i === 1 && [...s].length > 2
    ? `<si><r><t>${esc([...s].slice(0, 2).join(''))}</t></r><r><rPr><b/></rPr><t>${esc([...s].slice(2).join(''))}</t></r><rPh sb="0" eb="1"><t>ふりがな</t></rPh></si>`
    : `<si><t xml:space="preserve">${esc(s)}</t></si>`)).join('');
  const ns = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
  return zip({
    '[Content_Types].xml': '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    '_rels/.rels': '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    'xl/workbook.xml': `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="${ns}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="热线" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    'xl/_rels/workbook.xml.rels': '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    'xl/worksheets/sheet1.xml': `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="${ns}"><sheetData>${sheetRows}</sheetData></worksheet>`,
    'xl/sharedStrings.xml': `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="${ns}" count="${strings.length}" uniqueCount="${strings.length}">${si}</sst>`,
  });
}

/** Chooses file and waits for its preview (not the one of the file before). */
async function importFile(page, file) {
  const name = typeof file === 'string' ? file.split('/').pop() : file.name;
  await page.evaluate(() => document.getElementById('import-file-name')?.remove());
  await page.setInputFiles('#import-file', file);
  await waitFor(async () => (await page.locator('#import-file-name').count()) &&
    (await page.locator('#import-file-name').textContent()).startsWith(name), { message: `the preview of ${name}` });
  await page.locator('#import-preview').waitFor();
}

async function importNow(page) {
  await page.click('#import-go');
  await page.locator('#import-done').waitFor({ timeout: 20_000 });
  return page.locator('#import-done').textContent();
}

test('producer console: questions imported from a GBK CSV and an XLSX sheet, previewed first, never twice', async () => {
  const { context, page } = await producerPage('producer-import');
  await page.locator('.prod-session-link', { hasText: show.code }).first().click();
  await page.locator('#import-card').waitFor();

  // a GBK CSV as Excel saves it in China: a preview with each row's problems, nothing written
  const gbk = join(repoRoot, 'tests', 'browser', 'fixtures', 'import', 'questions-gbk.csv');
  await importFile(page, gbk);
  assert.match(await page.locator('#import-file-name').textContent(), /GB18030/);
  const row = (n) => page.locator(`#import-preview tr[data-row="${n}"]`);
  assert.equal(await page.locator('#import-preview tbody tr').count(), 5);
  assert.match(await row(2).textContent(), /小区加装电梯的补贴什么时候发放？.*刘阿姨.*市民热线.*薄燕飞.*可导入/);
  assert.match(await row(4).textContent(), /问题是空的/);
  assert.match(await row(5).textContent(), /不认识的分类“点子”/);
  assert.match(await row(6).textContent(), /本场没有叫“李局长”的嘉宾/);
  assert.match(await page.locator('#import-summary').textContent(), /可导入 2 行，有问题 3 行/);
  await page.locator('#import-card').scrollIntoViewIfNeeded();
  await shot(page, 'producer-import-preview-zh');
  assert.equal((await staffQuestions(server, show.code)).length, 0, 'the preview writes nothing');

  assert.match(await importNow(page), /新增 2 条/);
  let questions = await staffQuestions(server, show.code);
  assert.equal(questions.length, 2, `${await page.locator('#import-done').textContent()} ${await page.locator('#import-preview').textContent()} ${JSON.stringify(questions)}`);
  const lift = questions.find((q) => q.text === '小区加装电梯的补贴什么时候发放？');
  assert.equal(lift.author, '刘阿姨');
  assert.equal(lift.source, 'hotline');
  assert.equal(lift.external_ref, 'RX-001');
  assert.ok(lift.to, 'addressed to the panelist');
  await shot(page, 'producer-import-done-zh');

  // the same file again adds nothing
  await importFile(page, gbk);
  if (await page.locator('#import-go').isEnabled()) assert.match(await importNow(page), /新增 0 条/);
  assert.equal((await staffQuestions(server, show.code)).length, 2, 'a re-import adds nothing');

  // an XLSX sheet without a reference column: keys come from the rows (two equal rows stay two)
  const sheet = xlsx([
    ['问题', '提问人', '来源'],
    ['老年食堂能不能延长营业时间？', '周阿婆', '纸质'],
    ['社区卫生站周末开门吗？', '', '热线'],
    ['', '', ''],
    ['楼道灯坏了没人修', '匿名', '表单'],
    ['楼道灯坏了没人修', '匿名', '表单'],
  ]);
  const file = { name: '热线登记.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer: sheet };
  await importFile(page, file);
  assert.equal(await page.locator('#import-preview tbody tr').count(), 4);
  assert.match(await page.locator('#import-summary').textContent(), /可导入 4 行，有问题 0 行/);
  assert.match(await importNow(page), /新增 4 条/);
  questions = await staffQuestions(server, show.code);
  assert.equal(questions.length, 6);
  assert.ok(questions.some((q) => q.text === '社区卫生站周末开门吗？' && q.source === 'hotline'));
  assert.equal(questions.filter((q) => q.text === '楼道灯坏了没人修').length, 2);
  await importFile(page, file);
  if (await page.locator('#import-go').isEnabled()) assert.match(await importNow(page), /新增 0 条/);
  assert.equal((await staffQuestions(server, show.code)).length, 6, 'a re-import of the sheet adds nothing');
  await page.click('[data-lang-toggle]');
  await waitFor(async () => /Import questions/.test(await page.locator('#import-card').textContent()), { message: 'English' });
  await shot(page, 'producer-import-en');
  await context.close();
});
