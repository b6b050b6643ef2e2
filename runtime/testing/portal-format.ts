/**
 * Config JSON in the layout Sesam's portal and client write it (`sesam download`, `sesam status`,
 * `sesam format`): keys in conventional order, objects opened on the line of their key, short
 * arrays on one line, objects inside arrays not indented further.
 *
 * - Key order: `_id`, `type`, `name`, `description`, `source`, `sink`, `transform`, `pump`,
 *   `metadata`, `system`, `datasets`, `where`, `return`, `recurse`, `max_depth`, `exclude_root`,
 *   `track-dependencies`, `trace`, `default`; then other keys in code point order; then keys that
 *   start with `_` (except `_id`), `$audit` and `$principals-from-user`, in code point order.
 * - Layout (two spaces per level): a non-empty object puts each entry on its own line; arrays put
 *   their elements on one line separated by `, `, except that an array inside an array starts on
 *   its own line, and an array whose last element is an array closes on its own line; an object
 *   inside an array opens right after `[` or `, ` and its entries are indented one level less than
 *   an object's entries would otherwise be. The text ends with a newline.
 */
import { compareCodePoints, dumpsPy, isPyDict, type PyDict, type PyValue } from './pyjson.js';

const CONVENTIONAL_ORDER = [
  '_id',
  'type',
  'name',
  'description',
  'source',
  'sink',
  'transform',
  'pump',
  'metadata',
  'system',
  'datasets',
  'where',
  'return',
  'recurse',
  'max_depth',
  'exclude_root',
  'track-dependencies',
  'trace',
  'default',
];
const RANK = new Map(CONVENTIONAL_ORDER.map((k, i) => [k, i]));

function sortKey(key: string): string {
  const r = RANK.get(key);
  if (r !== undefined) return String.fromCharCode(r);
  if ((key.startsWith('_') && key !== '_id') || key === '$audit' || key === '$principals-from-user') return '1' + key;
  return '0' + key;
}

function orderedKeys(d: PyDict): string[] {
  return [...d.keys()].map((k) => ({ k, s: sortKey(k) })).sort((a, b) => compareCodePoints(a.s, b.s)).map((x) => x.k);
}

const sp = (level: number) => '  '.repeat(Math.max(0, level));

type Parent = 'none' | 'dict' | 'array';

function render(v: PyValue, parent: Parent, level: number): string {
  if (isPyDict(v)) {
    if (v.size === 0) return '{}';
    const inner = parent === 'array' ? level : level + 1;
    const entries = orderedKeys(v).map((k) => `${dumpsPy(k, { ensureAscii: false })}: ${render(v.get(k)!, 'dict', inner)}`);
    return `{\n${sp(inner)}${entries.join(`,\n${sp(inner)}`)}\n${sp(inner - 1)}}`;
  }
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    const inner = level + 1;
    let out = '[';
    v.forEach((x, i) => {
      // An array inside an array starts on its own line.
      if (Array.isArray(x)) out += `${i ? ',' : ''}\n${sp(inner)}`;
      else if (i) out += ', ';
      out += render(x, 'array', inner);
    });
    return Array.isArray(v[v.length - 1]) ? `${out}\n${sp(level)}]` : `${out}]`;
  }
  return dumpsPy(v, { ensureAscii: false });
}

/** Formats a JSON value the way the portal does. */
export function formatPortalJson(value: PyValue): string {
  return render(value, 'none', 0) + '\n';
}
