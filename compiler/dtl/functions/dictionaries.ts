/**
 * Dictionary functions: building dicts (dict), inspecting them (has-key, is-dict, items, keys,
 * values, key-values), traversing them (path), namespacing their keys (apply-ns, strip-ns) and
 * applying a named rule to them (apply).
 *
 * items / keys / values / key-values collect one result per key+value pair of every dict in their
 * argument. Given a list they always return a list; given a single dict that yields exactly one
 * result they return that result on its own (the docs' `["key-values", {"hello": "world"}]`).
 */
import { family, type CheckContext, type EmitContext } from '../spec.js';
import { applyRule, getPath } from '../runtime.js';
import { isDict, toList, type Dict, type Value } from '../../values/types.js';
import { mapEach, SKIP, testFirst, type Converted } from './util.js';
import { getPathNs, pipeIdOf, putProp, type Namespaces } from './ns-util.js';

const hasOwn = Object.prototype.hasOwnProperty;

// ---------------------------------------------------------------------------------------------
// dict

/** `["dict", ITEMS]`: a dict from [key, value] pairs; anything else in ITEMS is ignored. */
export function dictFromItems(items: Value): Dict {
  const out: Dict = {};
  for (const pair of toList(items)) {
    if (Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string') putProp(out, pair[0], pair[1]);
  }
  return out;
}

/** `["dict", K1, V1, K2, V2, ...]`: later keys win; pairs whose key is not a string are ignored. */
export function dictFromPairs(...kv: Value[]): Dict {
  const out: Dict = {};
  for (let i = 0; i + 1 < kv.length; i += 2) {
    const k = kv[i];
    if (typeof k === 'string') putProp(out, k, kv[i + 1]);
  }
  return out;
}

function checkDictArity(c: CheckContext): void {
  const n = c.argNodes.length;
  if (n > 1 && n % 2 === 1) {
    c.diagnostics.error('DTL_ARITY', c.node.loc, `"dict" takes no arguments, one list of [key, value] pairs, or KEY, VALUE pairs; got ${n} arguments (an odd number)`);
  }
}

// ---------------------------------------------------------------------------------------------
// has-key, is-dict

/** True/false when the first value is a dict, null otherwise. */
export function hasKey(key: Value, values: Value): Value {
  const d = Array.isArray(values) ? (values.length ? values[0] : null) : values;
  if (!isDict(d)) return null;
  const k = Array.isArray(key) ? (key.length ? key[0] : null) : key;
  return typeof k === 'string' && hasOwn.call(d, k);
}

export function isDictValue(v: Value): boolean {
  return testFirst(v, isDict);
}

// ---------------------------------------------------------------------------------------------
// items, keys, values, key-values

function perPair(values: Value, make: (k: string, v: Value) => Value): Value {
  const out: Value[] = [];
  if (Array.isArray(values)) {
    for (const d of values) if (isDict(d)) for (const k in d) out.push(make(k, d[k]));
    return out;
  }
  if (!isDict(values)) return out;
  for (const k in values) out.push(make(k, values[k]));
  return out.length === 1 ? out[0] : out;
}

export const items = (values: Value): Value => perPair(values, (k, v) => [k, v]);
export const keysOf = (values: Value): Value => perPair(values, (k) => k);
export const valuesOf = (values: Value): Value => perPair(values, (_k, v) => v);
export const keyValues = (values: Value): Value => perPair(values, (k, v) => ({ key: k, value: v }));

// ---------------------------------------------------------------------------------------------
// path

/** The strings of a PROPERTY_PATH value (a string or a list; other values are ignored). */
export function pathKeys(p: Value): string[] {
  if (typeof p === 'string') return [p];
  const out: string[] = [];
  if (Array.isArray(p)) for (const x of p) if (typeof x === 'string') out.push(x);
  return out;
}

export function pathOf(p: Value, values: Value): Value {
  const keys = pathKeys(p);
  return keys.length ? getPath(values, keys) : values;
}

export function pathOfNs(p: Value, values: Value, ns: Namespaces): Value {
  const keys = pathKeys(p);
  return keys.length ? getPathNs(values, keys, ns) : values;
}

function emitPath(e: EmitContext): string {
  const ns = e.options.namespaces;
  const lit = e.literal(0);
  if (lit) {
    const keys = pathKeys(lit.value);
    if (keys.length === 0) return e.arg(1);
    if (ns) return `${e.use(getPathNs)}(${e.arg(1)}, ${e.use(keys)}, ${e.use(ns)})`;
    return `${e.use(getPath)}(${e.arg(1)}, ${e.use(keys)})`;
  }
  if (ns) return `${e.use(pathOfNs)}(${e.arg(0)}, ${e.arg(1)}, ${e.use(ns)})`;
  return `${e.use(pathOf)}(${e.arg(0)}, ${e.arg(1)})`;
}

// ---------------------------------------------------------------------------------------------
// apply-ns, strip-ns

export interface ApplyNsConfig {
  /** null: property names are left as they are. */
  property: string | null;
  /** null: `_id` values are left as they are. */
  identity: string | null;
  skipUnderscore: boolean;
  skipDollar: boolean;
  recursive: boolean;
}

export interface NsDefaults {
  property: string | null;
  identity: string | null;
}

/**
 * Reads NAMESPACE_OR_CONFIGDICT: a string sets both namespaces; a dict may set
 * property_namespace / identity_namespace (null: none), skip_underscore, skip_dollar and recursive.
 * Unset namespaces come from the pipe.
 */
export function applyNsConfig(arg: Value, dflt: NsDefaults): ApplyNsConfig {
  const cfg: ApplyNsConfig = { property: dflt.property, identity: dflt.identity, skipUnderscore: true, skipDollar: true, recursive: true };
  if (typeof arg === 'string') {
    cfg.property = arg;
    cfg.identity = arg;
  } else if (isDict(arg)) {
    const ns = (k: string, d: string | null): string | null => {
      if (!hasOwn.call(arg, k)) return d;
      const v = arg[k];
      return typeof v === 'string' ? v : null;
    };
    const flag = (k: string, d: boolean): boolean => (typeof arg[k] === 'boolean' && hasOwn.call(arg, k) ? (arg[k] as boolean) : d);
    cfg.property = ns('property_namespace', cfg.property);
    cfg.identity = ns('identity_namespace', cfg.identity);
    cfg.skipUnderscore = flag('skip_underscore', true);
    cfg.skipDollar = flag('skip_dollar', true);
    cfg.recursive = flag('recursive', true);
  }
  return cfg;
}

/** A name or `_id` value that already has a namespace (contains a colon) is left as it is. */
function qualify(ns: string, s: string): string {
  return s.includes(':') ? s : `${ns}:${s}`;
}

function qualifyIdValue(v: Value, identity: string): Value {
  if (typeof v === 'string') return qualify(identity, v);
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? qualify(identity, x) : x));
  return v;
}

function nsNested(v: Value, c: ApplyNsConfig): Value {
  if (isDict(v)) return nsDict(v, c);
  if (Array.isArray(v)) return v.map((x) => nsNested(x, c));
  return v;
}

function nsDict(d: Dict, c: ApplyNsConfig): Dict {
  const out: Dict = {};
  for (const k in d) {
    let v = d[k];
    if (k === '_id' && c.identity !== null) v = qualifyIdValue(v, c.identity);
    const first = k.charCodeAt(0);
    if ((c.skipUnderscore && first === 95) /* _ */ || (c.skipDollar && first === 36) /* $ */) {
      putProp(out, k, v);
      continue;
    }
    if (c.recursive) v = nsNested(v, c);
    putProp(out, c.property === null ? k : qualify(c.property, k), v);
  }
  return out;
}

export function applyNs(values: Value, c: ApplyNsConfig): Value {
  return mapEach(values, (x): Converted => (isDict(x) ? nsDict(x, c) : SKIP));
}

export function applyNsDynamic(arg: Value, values: Value, dflt: NsDefaults): Value {
  return applyNs(values, applyNsConfig(arg, dflt));
}

function stripKey(k: string): string {
  const i = k.lastIndexOf(':');
  return i < 0 ? k : k.slice(i + 1);
}

function stripNested(v: Value): Value {
  if (isDict(v)) return stripDict(v);
  if (Array.isArray(v)) return v.map(stripNested);
  return v;
}

function stripDict(d: Dict): Dict {
  const out: Dict = {};
  for (const k in d) putProp(out, stripKey(k), stripNested(d[k]));
  return out;
}

/** Removes the namespace part (up to the last colon) of every key, recursively. */
export function stripNs(values: Value): Value {
  return mapEach(values, (x): Converted => (isDict(x) ? stripDict(x) : SKIP));
}

function emitApplyNs(e: EmitContext): string {
  const ns = e.options.namespaces;
  const pipeId = pipeIdOf(e.options) ?? null;
  const dflt: NsDefaults = { property: ns?.property ?? pipeId, identity: ns?.identity ?? pipeId };
  const lit = e.literal(0);
  if (lit) return `${e.use(applyNs)}(${e.arg(1)}, ${e.use(applyNsConfig(lit.value, dflt))})`;
  return `${e.use(applyNsDynamic)}(${e.arg(0)}, ${e.arg(1)}, ${e.use(dflt)})`;
}

// ---------------------------------------------------------------------------------------------

export default family('dictionaries', (def) => {
  def.expression({
    name: 'dict',
    doc: 'Builds a dict: empty with no arguments, from a list of [key, value] pairs, or from KEY, VALUE argument pairs (later keys win).',
    min: 0,
    check: checkDictArity,
    emit: (e) => {
      if (e.count === 0) return '{}';
      if (e.count === 1) return `${e.use(dictFromItems)}(${e.arg(0)})`;
      return `${e.use(dictFromPairs)}(${e.args().join(', ')})`;
    },
  });
  def.expression({
    name: 'has-key',
    doc: 'Whether the dict (or the first element of a list) has KEY; null when that value is not a dict.',
    args: ['expr', 'expr'],
    emit: (e) => `${e.use(hasKey)}(${e.arg(0)}, ${e.arg(1)})`,
  });
  def.expression({
    name: 'is-dict',
    doc: 'True when the value (or the first list element) is a dict.',
    args: ['expr'],
    emit: (e) => `${e.use(isDictValue)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'items',
    doc: 'The [key, value] pairs of the dicts in DICTS; other values are ignored.',
    args: ['expr'],
    emit: (e) => `${e.use(items)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'keys',
    doc: 'The keys of the dicts in DICTS, in order; other values are ignored.',
    args: ['expr'],
    emit: (e) => `${e.use(keysOf)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'values',
    doc: 'The values of the dicts in DICTS, in order; other values are ignored.',
    args: ['expr'],
    emit: (e) => `${e.use(valuesOf)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'key-values',
    doc: 'One {"key": ..., "value": ...} dict per property of the dicts in DICTS; other values are ignored.',
    args: ['expr'],
    emit: (e) => `${e.use(keyValues)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'path',
    doc: 'Follows PROPERTY_PATH (a name or list of names) from each dict in VALUES, like a property path string; namespace aware.',
    args: ['expr', 'expr'],
    emit: emitPath,
  });
  def.expression({
    name: 'apply-ns',
    doc: 'Adds a namespace to the keys of dicts (and `_id` values), recursively by default, like the add_namespaces pipe setting.',
    args: ['expr', 'expr'],
    emit: emitApplyNs,
  });
  def.expression({
    name: 'strip-ns',
    doc: 'Removes the namespace part of every key of dicts, recursively.',
    args: ['expr'],
    emit: (e) => `${e.use(stripNs)}(${e.arg(0)})`,
  });
  def.expression({
    name: 'apply',
    doc: 'Applies the rule RULE_ID to each dict in VALUES (as its source entity) and returns the targets it emits.',
    args: ['rule', 'expr'],
    emit: (e) => {
      const v = e.vars;
      return `${e.use(applyRule)}(${e.arg(0)}, ${e.arg(1)}, ${v.S}, ${v.T}, ${v.P}, ${v.R}, ${v.X})`;
    },
  });
});
