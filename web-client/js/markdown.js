// markdown.js — a small, safe Markdown-to-DOM renderer for the minutes (transcript.md):
// headings, ordered and unordered lists (nested by indentation, keeping their numbers),
// continuation lines inside list items, and paragraphs. Every piece of text becomes a text
// node, so nothing in the document can inject markup; no other Markdown is interpreted, except
// backslash escapes: the server escapes what people typed (\* \# \< ...), and the escaped
// character is shown as itself.

const HEADING = /^(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/; // a closing "#" run is not escaped: " ##"
const ESCAPE = /\\([!-/:-@[-`{-~])/g; // a backslash before ASCII punctuation (CommonMark 2.4)
const ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const TIME = /^\[(\d{2}:\d{2}:\d{2}|--:--:--)\]\s*/;

function el(tag, cls) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  return e;
}

/** Inline content: plain text (escapes resolved), with a leading [hh:mm:ss] stream time shown
 *  as a time badge. */
function inline(parent, text) {
  const m = TIME.exec(text);
  if (m) {
    const time = el('span', 'md-time');
    time.textContent = m[1];
    parent.append(time, document.createTextNode(text.slice(m[0].length).replace(ESCAPE, '$1')));
  } else {
    parent.append(document.createTextNode(text.replace(ESCAPE, '$1')));
  }
}

/** Renders md into a DocumentFragment. Headings become h2..h6 (h1 is the page's own title
 *  level: a "# " heading is rendered as h2 with class md-h1, and so on). */
export function renderMarkdown(md) {
  const root = document.createDocumentFragment();
  const lines = String(md || '').replace(/\r\n?/g, '\n').split('\n');
  let stack = []; // open lists: {indent, list, ordered, li}
  let para = null;

  const closeLists = () => { stack = []; };
  for (const raw of lines) {
    const line = raw.replace(/\t/g, '    ');
    if (!line.trim()) {
      para = null;
      continue; // a blank line ends a paragraph; lists may continue after it
    }
    const hm = HEADING.exec(line);
    if (hm && !/^\s/.test(line)) {
      para = null;
      closeLists();
      const level = hm[1].length;
      const hEl = el(`h${Math.min(6, level + 1)}`, `md-h${level}`);
      inline(hEl, hm[2]);
      root.append(hEl);
      continue;
    }
    const im = ITEM.exec(line);
    if (im) {
      para = null;
      const indent = im[1].length;
      const ordered = /\d/.test(im[2]);
      while (stack.length && stack[stack.length - 1].indent > indent) stack.pop();
      let top = stack[stack.length - 1];
      if (top && top.indent === indent && top.ordered !== ordered) { stack.pop(); top = stack[stack.length - 1]; }
      if (!top || top.indent < indent) {
        const list = el(ordered ? 'ol' : 'ul', 'md-list');
        (top ? top.li : root).append(list);
        top = { indent, list, ordered, li: null };
        stack.push(top);
      }
      const li = el('li');
      if (ordered) li.value = parseInt(im[2], 10);
      inline(li, im[3]);
      top.list.append(li);
      top.li = li;
      continue;
    }
    // Indented text under a list item continues that item on a new line.
    const indent = line.length - line.trimStart().length;
    if (indent > 0 && stack.length) {
      let owner = null;
      for (let i = stack.length - 1; i >= 0; i--) if (stack[i].indent < indent && stack[i].li) { owner = stack[i]; break; }
      if (owner) {
        stack = stack.slice(0, stack.indexOf(owner) + 1);
        const cont = el('span', 'md-cont');
        inline(cont, line.trim());
        owner.li.append(el('br'), cont);
        continue;
      }
    }
    closeLists();
    if (para) {
      para.append(el('br'));
      inline(para, line.trim());
    } else {
      para = el('p', 'md-p');
      inline(para, line.trim());
      root.append(para);
    }
  }
  return root;
}
