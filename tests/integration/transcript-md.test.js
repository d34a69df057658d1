// transcript.md carries what people typed: a question, a name, a note, a title. Rendered by any
// Markdown viewer (here markdown-it with raw HTML and linkify on, as permissive as viewers get),
// that text must show as itself: no live HTML, links, images, emphasis, headings, quotes, lists
// or tables made from it, while Chinese text stays as it was written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import MarkdownIt from 'markdown-it';

import { harness, marker, setupSession } from './lib.js';

const HOSTILE = {
  program: '<script>alert("programme")</script>书记论坛',
  title: '# 第十三期 **加粗** _斜体_ ~~删除~~ #',
  topic: '[点我领奖](javascript:alert(1)) ![图](https://evil.example/x.png) <img src=x onerror=alert(2)>',
  panelist: '> 王书记',
  affiliation: '| 区委 | 宣传部 |',
  role: '1. 书记',
  segments: ['- 开场', '---', '1) 民生热点', '=== 互动 ==='],
  question: '<b>粗体</b> *强调* `代码` &lt;实体&gt; $x^2$ ==高亮== [^1] 反斜杠\\ 结尾',
  author: '**王大妈**',
  note: '[详情](javascript:alert(document.cookie))\n# 新标题\n> 引用\n- 列表',
  followUp: '+ 追问：<iframe src="https://evil.example"></iframe>',
  action: '<script>steal()</script>两周内办结 | 公示',
  owner: '_住建局_',
  plain: '【建议】“公交线路”能否延长到新小区？（急）——家住城东的居民，2024年12月',
  need: '* 需求：<u>下划线</u> [链接](http://evil.example) ## 标题',
  reason: '> 理由 | 表格 | **粗**',
  poll: '# 投票 | 表头 |',
  options: ['- 选项 **粗**', '`代码` ![图](x.png)'],
};

/** The text a reader sees: tags dropped, entities decoded, runs of white space as one space. */
function visibleText(html) {
  return html.replace(/<\/?a\b[^>]*>/g, '').replace(/<[^>]*>/g, ' ')
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

const oneLine = (s) => s.replace(/\s+/g, ' ');

test('transcript.md shows user text as text in a Markdown viewer', { timeout: 30000 }, async (t) => {
  const h = harness(t);
  const srv = await h.startServer();
  const { code, moderatorKey, session } = await setupSession(h, srv, {
    programTitle: HOSTILE.program,
    title: HOSTILE.title,
    topic: HOSTILE.topic,
    panelists: [{ name: HOSTILE.panelist, affiliation: HOSTILE.affiliation, role: HOSTILE.role }],
    segments: HOSTILE.segments,
  });
  const mod = await h.moderator(srv, code, moderatorKey);
  const viewer = await h.viewer(srv, code, { name: HOSTILE.author });
  const to = session.panelists[0].id;
  const q1 = (await viewer.ok('question.submit', { text: HOSTILE.question, to })).question.id;
  const q2 = (await viewer.ok('question.submit', { text: HOSTILE.plain })).question.id;
  await mod.ok('onair.set', { question_id: q1 });
  await mod.ok('question.answered', { question_id: q1, note: HOSTILE.note });
  await viewer.ok('question.submit', { text: HOSTILE.followUp, parent_id: q1 });
  await mod.ok('onair.set', { question_id: q2 });
  // The residents' list, what was not taken up and the polls carry typed text too.
  await viewer.ok('question.submit', { text: HOSTILE.need, category: 'need' });
  const q3 = (await viewer.ok('question.submit', { text: `${HOSTILE.plain}（重复）` })).question.id;
  await mod.ok('question.dismiss', { question_id: q3, reason: HOSTILE.reason });
  const { poll } = await mod.ok('poll.create', { title: HOSTILE.poll, options: HOSTILE.options });
  await mod.ok('poll.open', { poll_id: poll.id });
  await mod.ok('action.create', { question_id: q1, text: HOSTILE.action, owner: HOSTILE.owner, due: '2026-01-31' });
  await marker(mod, [viewer], 'minutes');

  const res = await fetch(`${srv.url}/api/sessions/${code}/transcript.md`, {
    headers: { authorization: `Bearer ${srv.producerKey}` }, signal: AbortSignal.timeout(5000),
  });
  assert.equal(res.status, 200);
  const md = await res.text();
  const html = new MarkdownIt({ html: true, linkify: true }).render(md);

  // A bare URL may become a link showing that very URL (GitHub does it too); nothing else may.
  for (const [, href, text] of html.matchAll(/<a href="([^"]*)"[^>]*>([^<]*)<\/a>/g)) {
    assert.equal(href, text, `only links that show their own address:\n${md}`);
  }
  assert.equal((html.match(/<a[\s>]/g) ?? []).length, [...html.matchAll(/<a href="([^"]*)"[^>]*>([^<]*)<\/a>/g)].length);
  assert.ok(!/javascript:/i.test(html.match(/href="[^"]*"/g)?.join(' ') ?? ''), 'no javascript: link');
  for (const [tag, what] of [['script', 'raw HTML'], ['img', 'images'], ['iframe', 'frames'],
    ['b', 'raw HTML'], ['em', 'emphasis'], ['strong', 'strong emphasis'], ['code', 'code spans'],
    ['s', 'strikethrough'], ['blockquote', 'quotes'], ['table', 'tables'], ['hr', 'rules']]) {
    assert.ok(!new RegExp(`<${tag}[\\s>]`, 'i').test(html), `no ${what} (<${tag}>) from user text:\n${md}`);
  }
  assert.deepEqual(html.match(/<h\d>/g), ['<h1>', '<h2>', '<h2>', '<h2>', '<h3>', '<h3>', '<h3>', '<h3>', '<h3>',
    '<h2>', '<h3>', '<h3>', '<h3>', '<h2>', '<h2>', '<h2>'],
    `only the minutes' own headings (title, sections, agenda parts, "outside the agenda", needs, suggestions, not taken up, polls):\n${md}`);
  // Lists: the agenda (one ordered list of four) and no list item made from a segment title.
  assert.equal((html.match(/<li>/g) ?? []).length, (md.match(/^\s*(?:[-+*]|\d+[.)]) /gm) ?? []).length,
    `every list item is one the minutes made:\n${md}`);

  const seen = visibleText(html);
  for (const [key, text] of Object.entries(HOSTILE)) {
    for (const s of Array.isArray(text) ? text : [text]) {
      assert.ok(seen.includes(oneLine(s)), `${key} shows as typed: ${JSON.stringify(s)}\nin: ${seen}`);
    }
  }
  assert.ok(md.includes(HOSTILE.plain), 'Chinese text and full-width punctuation are not escaped');
});
