/**
 * XML the way Sesam's client compares it: both documents are parsed and printed again with lxml's
 * `tostring(root, pretty_print=True, encoding="utf-8")` (libxml2's formatter), so that equal
 * documents with different whitespace between elements compare equal. This module has a small XML
 * parser (elements, attributes, text, CDATA as text, comments, processing instructions, character
 * and predefined entity references) and a printer with libxml2's formatting rules:
 *
 * - an element's children are put on their own lines, indented two spaces per level (at most 30
 *   levels), only when none of its children is text; otherwise its content is printed as it is;
 * - empty elements print as `<a/>`; namespace declarations come before the other attributes;
 * - the document ends with a newline; comments and processing instructions outside the root
 *   element, and the DOCTYPE, are not printed.
 *
 * A document this parser cannot read is compared byte for byte (as the client falls back to).
 */

export class XmlSyntaxError extends Error {}

interface XmlElement {
  kind: 'element';
  name: string;
  attrs: [string, string][];
  children: XmlNode[];
}
type XmlNode = XmlElement | { kind: 'text'; text: string } | { kind: 'comment'; text: string } | { kind: 'pi'; target: string; data: string };

const NAME = /[A-Za-z_:\u00c0-\uffff][-A-Za-z0-9_:.\u00b7\u00c0-\uffff]*/y;

function decodeRefs(s: string, where: () => string): string {
  return s.replace(/&([^;&\s]*);?/g, (m, ref: string) => {
    if (!m.endsWith(';')) throw new XmlSyntaxError(`unterminated entity reference ${where()}`);
    if (ref === 'lt') return '<';
    if (ref === 'gt') return '>';
    if (ref === 'amp') return '&';
    if (ref === 'quot') return '"';
    if (ref === 'apos') return "'";
    const num = /^#x([0-9a-fA-F]+)$/.exec(ref) ?? /^#([0-9]+)$/.exec(ref);
    if (num) {
      const cp = parseInt(num[1], ref[1] === 'x' ? 16 : 10);
      if (cp > 0x10ffff || cp === 0) throw new XmlSyntaxError(`invalid character reference &${ref}; ${where()}`);
      return String.fromCodePoint(cp);
    }
    throw new XmlSyntaxError(`undefined entity &${ref}; ${where()}`);
  });
}

/** Parses an XML document and returns its root element (what lxml's `fromstring` returns). */
export function parseXml(input: string): XmlElement {
  const text = (input.charCodeAt(0) === 0xfeff ? input.slice(1) : input).replace(/\r\n?/g, '\n');
  let i = 0;
  const where = () => `at offset ${i}`;
  const fail = (what: string): never => {
    throw new XmlSyntaxError(`${what} ${where()}`);
  };
  const name = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(text);
    if (!m) fail('expected a name');
    i += m![0].length;
    return m![0];
  };
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const misc = (): void => {
    for (;;) {
      ws();
      if (text.startsWith('<!--', i)) {
        const end = text.indexOf('-->', i + 4);
        if (end < 0) fail('unterminated comment');
        i = end + 3;
      } else if (text.startsWith('<?', i)) {
        const end = text.indexOf('?>', i + 2);
        if (end < 0) fail('unterminated processing instruction');
        i = end + 2;
      } else if (text.startsWith('<!DOCTYPE', i)) {
        // Internal subsets with entity declarations are not supported.
        let depth = 0;
        for (i += 9; i < text.length; i++) {
          if (text[i] === '[') depth++;
          else if (text[i] === ']') depth--;
          else if (text[i] === '>' && depth <= 0) break;
        }
        if (i >= text.length) fail('unterminated DOCTYPE');
        i++;
      } else return;
    }
  };
  const element = (): XmlElement => {
    if (text[i] !== '<') fail("expected '<'");
    i++;
    const el: XmlElement = { kind: 'element', name: name(), attrs: [], children: [] };
    const seen = new Set<string>();
    for (;;) {
      const before = i;
      ws();
      if (text.startsWith('/>', i)) {
        i += 2;
        return el;
      }
      if (text[i] === '>') {
        i++;
        break;
      }
      if (i === before) fail('expected whitespace before an attribute');
      const an = name();
      ws();
      if (text[i] !== '=') fail("expected '=' after an attribute name");
      i++;
      ws();
      const q = text[i];
      if (q !== '"' && q !== "'") fail('expected a quoted attribute value');
      const end = text.indexOf(q, i + 1);
      if (end < 0) fail('unterminated attribute value');
      const raw = text.slice(i + 1, end);
      if (raw.includes('<')) fail("'<' in an attribute value");
      i = end + 1;
      if (seen.has(an)) fail(`attribute "${an}" given twice`);
      seen.add(an);
      // Attribute-value normalisation: literal tabs and newlines become spaces.
      el.attrs.push([an, decodeRefs(raw.replace(/[\t\n]/g, ' '), where)]);
    }
    let buf = '';
    const flush = () => {
      if (!buf) return;
      const last = el.children[el.children.length - 1];
      if (last && last.kind === 'text') last.text += buf;
      else el.children.push({ kind: 'text', text: buf });
      buf = '';
    };
    for (;;) {
      if (i >= text.length) fail(`element <${el.name}> is not closed`);
      if (text.startsWith('</', i)) {
        flush();
        i += 2;
        const closing = name();
        if (closing !== el.name) fail(`</${closing}> closes <${el.name}>`);
        ws();
        if (text[i] !== '>') fail("expected '>'");
        i++;
        return el;
      }
      if (text.startsWith('<![CDATA[', i)) {
        const end = text.indexOf(']]>', i + 9);
        if (end < 0) fail('unterminated CDATA section');
        buf += text.slice(i + 9, end);
        i = end + 3;
      } else if (text.startsWith('<!--', i)) {
        const end = text.indexOf('-->', i + 4);
        if (end < 0) fail('unterminated comment');
        flush();
        el.children.push({ kind: 'comment', text: text.slice(i + 4, end) });
        i = end + 3;
      } else if (text.startsWith('<?', i)) {
        const end = text.indexOf('?>', i + 2);
        if (end < 0) fail('unterminated processing instruction');
        const body = text.slice(i + 2, end);
        const m = /^(\S+)\s*([\s\S]*)$/.exec(body);
        flush();
        el.children.push({ kind: 'pi', target: m ? m[1] : body, data: m ? m[2] : '' });
        i = end + 2;
      } else if (text[i] === '<') {
        flush();
        el.children.push(element());
      } else {
        const next = text.indexOf('<', i);
        const end = next < 0 ? text.length : next;
        const chunk = text.slice(i, end);
        if (chunk.includes(']]>')) fail("']]>' in text");
        buf += decodeRefs(chunk, where);
        i = end;
      }
    }
  };
  if (text.startsWith('<?xml', i)) {
    const end = text.indexOf('?>');
    if (end < 0) fail('unterminated XML declaration');
    i = end + 2;
  }
  misc();
  if (text[i] !== '<') fail('no root element');
  const root = element();
  misc();
  if (i < text.length) fail('content after the root element');
  return root;
}

function escapeText(s: string): string {
  return s.replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;'));
}

function escapeAttr(s: string): string {
  return s.replace(/[&<>"\n\r\t]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\n': '&#10;', '\r': '&#13;', '\t': '&#9;' })[c]!);
}

const MAX_INDENT_LEVELS = 30;

function indent(level: number): string {
  return '  '.repeat(Math.min(level, MAX_INDENT_LEVELS));
}

function printNode(node: XmlNode, level: number, format: boolean, out: string[]): void {
  switch (node.kind) {
    case 'text':
      out.push(escapeText(node.text));
      return;
    case 'comment':
      out.push(`<!--${node.text}-->`);
      return;
    case 'pi':
      out.push(node.data ? `<?${node.target} ${node.data}?>` : `<?${node.target}?>`);
      return;
  }
  const childFormat = format && !node.children.some((c) => c.kind === 'text');
  const ns = node.attrs.filter(([n]) => n === 'xmlns' || n.startsWith('xmlns:'));
  const rest = node.attrs.filter(([n]) => !(n === 'xmlns' || n.startsWith('xmlns:')));
  out.push(`<${node.name}`);
  for (const [n, v] of [...ns, ...rest]) out.push(` ${n}="${escapeAttr(v)}"`);
  if (!node.children.length) {
    out.push('/>');
    return;
  }
  out.push('>');
  if (childFormat) out.push('\n');
  for (const c of node.children) {
    if (childFormat) out.push(indent(level + 1));
    printNode(c, level + 1, childFormat, out);
    if (childFormat) out.push('\n');
  }
  if (childFormat) out.push(indent(level));
  out.push(`</${node.name}>`);
}

/**
 * The client's reading of an XML declaration: whether there is one, and its `standalone` value as
 * the client extracts it (it drops the value's last character; any value of two or more
 * characters ends up as `standalone='yes'`, an empty one as `'no'`).
 */
export function xmlHeaderSettings(data: Buffer): { declaration: boolean; standalone: 'yes' | 'no' | null } {
  if (!data.subarray(0, 6).equals(Buffer.from('<?xml '))) return { declaration: false, standalone: null };
  const end = data.indexOf('?>');
  if (end < 0) return { declaration: true, standalone: null };
  const decl = data.subarray(0, end).toString('latin1');
  const at = decl.indexOf('standalone=');
  if (at < 0) return { declaration: true, standalone: null };
  const arg = decl.slice(at + 'standalone='.length);
  const q = arg[0];
  if (q !== '"' && q !== "'") return { declaration: true, standalone: null };
  const endix = arg.slice(1).indexOf(q);
  const value = arg.slice(1, endix < 0 ? arg.length - 1 : endix);
  return { declaration: true, standalone: value.length ? 'yes' : 'no' };
}

/** lxml's pretty-printed serialisation of a document's root element, as the client makes it. */
export function prettyXml(data: Buffer): string {
  const { declaration, standalone } = xmlHeaderSettings(data);
  const root = parseXml(new TextDecoder('utf-8', { fatal: true }).decode(data));
  const out: string[] = [];
  if (declaration) out.push(`<?xml version='1.0' encoding='utf-8'${standalone ? ` standalone='${standalone}'` : ''}?>\n`);
  printNode(root, 0, true, out);
  out.push('\n');
  return out.join('');
}
