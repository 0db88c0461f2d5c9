// A tiny XML well-formedness checker and tree for the chart tests (no XML dependency): one root
// element, balanced and properly nested tags, well-formed attributes without duplicates, and `&`
// only as a predefined or numeric entity. Enough to catch broken SVG strings, and to query the
// elements of a chart by tag and class.

export interface XmlNode {
  tag: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  /** Decoded character data directly inside this element. */
  text: string;
}

const NAME = '[A-Za-z_][\\w.:-]*';
const START = new RegExp(`^<(${NAME})((?:\\s+${NAME}\\s*=\\s*(?:"[^"<]*"|'[^'<]*'))*)\\s*(/?)>$`);
const ATTR = new RegExp(`(${NAME})\\s*=\\s*(?:"([^"<]*)"|'([^'<]*)')`, 'g');
const END = new RegExp(`^</(${NAME})\\s*>$`);
const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;

function decode(s: string, where: string): string {
  if (s.replace(ENTITY, '').includes('&')) throw new Error(`xml: bare '&' in ${where}: ${JSON.stringify(s.slice(0, 80))}`);
  return s.replace(ENTITY, (e) => {
    const named: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'" };
    if (named[e]) return named[e];
    return String.fromCodePoint(e[2] === 'x' ? parseInt(e.slice(3, -1), 16) : parseInt(e.slice(2, -1), 10));
  });
}

/** Parses `xml`, throwing an Error that says what and where when it is not well formed. */
export function parseXml(xml: string): XmlNode {
  let pos = 0;
  const stack: XmlNode[] = [];
  let root: XmlNode | undefined;
  if (xml.startsWith('<?xml')) pos = xml.indexOf('?>') + 2;
  while (pos < xml.length) {
    const lt = xml.indexOf('<', pos);
    const chunk = xml.slice(pos, lt < 0 ? xml.length : lt);
    if (chunk.length > 0) {
      const top = stack[stack.length - 1];
      if (!top) {
        if (chunk.trim() !== '') throw new Error(`xml: text outside the root element at ${pos}`);
      } else {
        top.text += decode(chunk, `text at ${pos}`);
      }
    }
    if (lt < 0) break;
    if (xml.startsWith('<!--', lt)) {
      const end = xml.indexOf('-->', lt);
      if (end < 0) throw new Error(`xml: unterminated comment at ${lt}`);
      pos = end + 3;
      continue;
    }
    const gt = xml.indexOf('>', lt);
    if (gt < 0) throw new Error(`xml: unterminated tag at ${lt}`);
    const tag = xml.slice(lt, gt + 1);
    pos = gt + 1;
    const end = END.exec(tag);
    if (end) {
      const open = stack.pop();
      if (!open || open.tag !== end[1]) throw new Error(`xml: </${end[1]}> at ${lt} closes <${open?.tag ?? 'nothing'}>`);
      continue;
    }
    const start = START.exec(tag);
    if (!start) throw new Error(`xml: malformed tag at ${lt}: ${tag.slice(0, 80)}`);
    if (!stack.length && root) throw new Error(`xml: a second root element <${start[1]}> at ${lt}`);
    const node: XmlNode = { tag: start[1], attrs: {}, children: [], text: '' };
    for (const a of start[2].matchAll(ATTR)) {
      if (a[1] in node.attrs) throw new Error(`xml: duplicate attribute ${a[1]} in <${start[1]}> at ${lt}`);
      node.attrs[a[1]] = decode(a[2] ?? a[3], `attribute ${a[1]} at ${lt}`);
    }
    if (stack.length) stack[stack.length - 1].children.push(node);
    else root = node;
    if (start[3] !== '/') stack.push(node);
  }
  if (stack.length) throw new Error(`xml: unclosed <${stack[stack.length - 1].tag}>`);
  if (!root) throw new Error('xml: no root element');
  return root;
}

/** Every element below (and including) `node` that satisfies `pred`, in document order. */
export function findAll(node: XmlNode, pred: (n: XmlNode) => boolean): XmlNode[] {
  const out: XmlNode[] = [];
  const walk = (n: XmlNode) => {
    if (pred(n)) out.push(n);
    n.children.forEach(walk);
  };
  walk(node);
  return out;
}

/** Elements with this tag and, if given, this class among their classes. */
export function select(node: XmlNode, tag: string, cls?: string): XmlNode[] {
  return findAll(node, (n) => n.tag === tag && (cls === undefined || (n.attrs.class ?? '').split(/\s+/).includes(cls)));
}

/** All decoded text of `node` and its descendants. */
export function textOf(node: XmlNode): string {
  return node.text + node.children.map(textOf).join('');
}
