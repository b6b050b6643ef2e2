/**
 * XML rendering for the xml_endpoint sink. Each entity has exactly one property named `<tag>`: that
 * names its element, the entity's other properties (except those starting with `_` or `$`) become
 * attributes, and the tag property's value is the content: a literal becomes text, a dict a child
 * element (shaped the same way), a list the child elements of its dicts (other items are ignored).
 * An optional wrapper element encloses everything; the root attributes go on the wrapper, or on
 * each top-level entity element when there is none.
 */
import { isDict, type Dict, type Entity, type Value } from '../../../compiler/values/types.js';
import { fieldText } from './csv-format.js';

export interface XmlOptions {
  wrapper: string | null;
  rootAttributes: [string, string][];
  includeDecl: boolean;
  skipDeleted: boolean;
  byteOrderMark: boolean;
}

export class XmlShapeError extends Error {}

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>';

const NAME_START = '\\p{L}_';
const NAME_CHAR = '\\p{L}\\p{N}\\p{Mn}\\p{Mc}_.\\-\\u00b7';
const NCNAME = `[${NAME_START}][${NAME_CHAR}]*`;
const QNAME = new RegExp(`^${NCNAME}(?::${NCNAME})?$`, 'u');

export function isQName(name: string): boolean {
  return QNAME.test(name);
}

function checkName(name: string, what: string): string {
  if (!isQName(name)) throw new XmlShapeError(`${what} "${name}" is not a valid XML name`);
  return name;
}

/** Characters XML 1.0 cannot hold at all are left out. */
// eslint-disable-next-line no-control-regex
const INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

export function escapeText(s: string): string {
  return s.replace(INVALID, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function escapeAttribute(s: string): string {
  return escapeText(s).replace(/"/g, '&quot;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

export function xmlOptionsFrom(config: Record<string, unknown>): XmlOptions {
  const wrapper = typeof config.wrapper === 'string' && config.wrapper !== '' ? checkName(config.wrapper, 'the wrapper element name') : null;
  const attrs = (config['root-attributes'] ?? {}) as Record<string, unknown>;
  if (!isDict(attrs)) throw new XmlShapeError('"root-attributes" must be an object');
  const rootAttributes = Object.entries(attrs).map(([k, v]): [string, string] => [checkName(k, 'the root attribute name'), fieldText(v as Value).text]);
  return {
    wrapper,
    rootAttributes,
    includeDecl: config['include-xml-decl'] === true,
    skipDeleted: config['skip-deleted-entities'] !== false,
    byteOrderMark: config.byte_order_mark === true,
  };
}

function isTag(key: string): boolean {
  return key.length > 2 && key.charCodeAt(0) === 60 /* < */ && key.charCodeAt(key.length - 1) === 62; /* > */
}

function isLiteral(v: Value): boolean {
  return v !== null && v !== undefined && !Array.isArray(v) && !isDict(v);
}

/** Renders documents; every method returns text. */
export class XmlWriter {
  private readonly rootAttributeText: string;

  constructor(readonly options: XmlOptions) {
    this.rootAttributeText = options.rootAttributes.map(([k, v]) => ` ${k}="${escapeAttribute(v)}"`).join('');
  }

  /** The declaration (when asked for) and the wrapper's start tag. */
  head(): string {
    const o = this.options;
    return (o.includeDecl ? XML_DECLARATION + '\n' : '') + (o.wrapper ? `<${o.wrapper}${this.rootAttributeText}>` : '');
  }

  tail(): string {
    return this.options.wrapper ? `</${this.options.wrapper}>` : '';
  }

  /** The element of one entity, or '' when it is deleted and deleted entities are skipped. */
  entity(e: Entity): string {
    if (this.options.skipDeleted && e._deleted === true) return '';
    const where = typeof e._id === 'string' ? `entity "${e._id}"` : 'an entity';
    return this.element(e, where, this.options.wrapper ? '' : this.rootAttributeText);
  }

  private element(o: Dict, where: string, extraAttributes: string): string {
    let tag: string | null = null;
    let count = 0;
    for (const k in o) {
      if (isTag(k)) {
        tag = k;
        count++;
      }
    }
    if (count !== 1 || tag === null) throw new XmlShapeError(`${where} has ${count === 0 ? 'no' : count} "<tag>" properties; XML rendering needs exactly one to name the element`);
    const name = checkName(tag.slice(1, -1), `${where}: the element name`);
    let out = `<${name}${extraAttributes}`;
    for (const k in o) {
      if (k === tag || k.startsWith('_') || k.startsWith('$')) continue;
      const v = o[k];
      if (!isLiteral(v)) continue;
      out += ` ${checkName(k, `${where}: the attribute name`)}="${escapeAttribute(fieldText(v).text)}"`;
    }
    const content = o[tag];
    let inner = '';
    if (isDict(content)) inner = this.element(content, `${where}, inside <${name}>`, '');
    else if (Array.isArray(content)) {
      for (const item of content) if (isDict(item)) inner += this.element(item, `${where}, inside <${name}>`, '');
    } else if (isLiteral(content)) inner = escapeText(fieldText(content).text);
    return inner === '' ? `${out}/>` : `${out}>${inner}</${name}>`;
  }
}
