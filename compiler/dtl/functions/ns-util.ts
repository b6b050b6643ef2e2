/**
 * Namespace-aware property names and wildcard patterns, shared by the transforms that the docs
 * call namespace aware (add, add-if, default, copy, remove, rename, make-ni) and by `path`.
 */
import { isDict, NI, type Dict, type Value } from '../../values/types.js';
import type { CodegenOptions } from '../spec.js';

export interface Namespaces {
  identity: string;
  property: string;
}

/** The name a transform writes to: `age` → `bar:age`; `::age` → `age`; `:age` → `bar:age`; `x:age` stays. */
export function qualifyProperty(name: string, ns: Namespaces | null): string {
  if (!ns) return name.startsWith('::') ? name.slice(2) : name;
  if (name.startsWith('::')) return name.slice(2);
  if (name.startsWith(':')) return ns.property + name;
  if (name.includes(':') || name.startsWith('_') || name.startsWith('$')) return name;
  return `${ns.property}:${name}`;
}

/** `_id` values are prefixed with the identity namespace. */
export function qualifyIdentity(value: string, ns: Namespaces): string {
  if (value.startsWith('::')) return value.slice(2);
  if (value.startsWith(':')) return ns.identity + value;
  return value.includes(':') ? value : `${ns.identity}:${value}`;
}

export function splitNamespace(name: string): [string | null, string] {
  const i = name.lastIndexOf(':');
  return i < 0 ? [null, name] : [name.slice(0, i), name.slice(i + 1)];
}

const regexCache = new Map<string, RegExp>();

/** A string predicate for a wildcard pattern; the common shapes (`*`, `abc*`, `*abc`) avoid regexes. */
export function wildcardMatcher(pattern: string): (name: string) => boolean {
  if (!hasWildcard(pattern)) return (name) => name === pattern;
  if (pattern === '*') return () => true;
  const star = pattern.indexOf('*');
  const simple = pattern.indexOf('?') < 0 && star === pattern.lastIndexOf('*');
  if (simple && star === pattern.length - 1) {
    const prefix = pattern.slice(0, -1);
    return (name) => name.startsWith(prefix);
  }
  if (simple && star === 0) {
    const suffix = pattern.slice(1);
    return (name) => name.endsWith(suffix);
  }
  const re = wildcardRegex(pattern);
  return (name) => re.test(name);
}

export function wildcardRegex(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${body}$`, 's');
    if (regexCache.size < 10_000) regexCache.set(pattern, re);
  }
  return re;
}

export function hasWildcard(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

/**
 * A property-name matcher. Without namespaces, the pattern matches the whole name. With them, the
 * last colon of the pattern separates a namespace pattern from an identifier pattern, and a pattern
 * without a colon matches the identifier in every namespace (and names without one).
 */
export function propertyMatcher(pattern: string, ns: Namespaces | null): (name: string) => boolean {
  if (!ns) return wildcardMatcher(pattern);
  const escaped = pattern.startsWith('::') ? pattern.slice(2) : null;
  if (escaped !== null) return propertyMatcher(escaped, null);
  const [nsPattern, idPattern] = splitNamespace(pattern.startsWith(':') ? ns.property + pattern : pattern);
  const idRe = wildcardRegex(idPattern);
  if (nsPattern === null) return (name) => idRe.test(splitNamespace(name)[1]);
  const nsRe = wildcardRegex(nsPattern);
  return (name) => {
    const [n, id] = splitNamespace(name);
    return n !== null && nsRe.test(n) && idRe.test(id);
  };
}

/**
 * A matcher for a literal property name (no wildcards: rename, make-ni, path). Without namespaces
 * the name must match exactly. With them, `::x` means exactly `x`, `:x` means `x` in the current
 * property namespace, a name with a colon is fully qualified (exact match), and a bare identifier
 * matches that identifier in every namespace as well as the unqualified name.
 */
export function nameMatcher(name: string, ns: Namespaces | null): (key: string) => boolean {
  const exact = exactName(name, ns);
  if (exact !== null) return (key) => key === exact;
  return (key) => identifierIs(key, name);
}

/**
 * The single property a literal name refers to, or null when it matches the identifier in every
 * namespace. Reserved names (`_id`, `$ids`, ...) never get a namespace, so they are always exact.
 */
export function exactName(name: string, ns: Namespaces | null): string | null {
  if (!ns) return name;
  if (name.startsWith('::')) return name.slice(2);
  if (name.startsWith(':')) return ns.property + name;
  return name.includes(':') || isReservedName(name) ? name : null;
}

function isReservedName(name: string): boolean {
  const c = name.charCodeAt(0);
  return c === 95 /* _ */ || c === 36 /* $ */;
}

/** Adds the values of a property to a union list, flattening list values and dropping nulls. */
function pushUnion(out: Value[], v: Value): void {
  if (v === null || v === undefined) return;
  if (Array.isArray(v)) {
    for (const x of v) if (x !== null && x !== undefined) out.push(x);
  } else out.push(v);
}

/**
 * One step of a namespace-aware path: on a dict, the value of the one matching property as it is,
 * or the union (flattened) of the values of several; over a list, the flattened values of its dicts.
 */
export function getPropNs(o: Value, name: string, ns: Namespaces): Value {
  if (o === null || typeof o !== 'object') return null;
  const exact = exactName(name, ns);
  const hasOwn = Object.prototype.hasOwnProperty;
  if (Array.isArray(o)) {
    const out: Value[] = [];
    for (const item of o) {
      if (!isDict(item)) continue;
      if (exact !== null) {
        if (hasOwn.call(item, exact)) pushUnion(out, item[exact]);
      } else {
        for (const k in item) if (identifierIs(k, name)) pushUnion(out, item[k]);
      }
    }
    return out;
  }
  if (!isDict(o)) return null;
  if (exact !== null) return hasOwn.call(o, exact) ? o[exact] : null;
  let first: Value | undefined;
  let union: Value[] | undefined;
  for (const k in o) {
    if (!identifierIs(k, name)) continue;
    if (first === undefined) first = o[k];
    else {
      if (!union) {
        union = [];
        pushUnion(union, first);
      }
      pushUnion(union, o[k]);
    }
  }
  return union ?? (first === undefined ? null : first);
}

function identifierIs(key: string, id: string): boolean {
  const i = key.lastIndexOf(':');
  return i < 0 ? key === id : key.length - i - 1 === id.length && key.endsWith(id);
}

export function getPathNs(o: Value, keys: readonly string[], ns: Namespaces, from = 0): Value {
  let v = o;
  for (let i = from; i < keys.length; i++) {
    v = getPropNs(v, keys[i], ns);
    if (v === null) return null;
  }
  return v;
}

/**
 * First element of a stored path (index paths of hops, dependency tracking) whose other elements
 * follow the namespace rules: unqualified names match in every namespace, `::name` exactly.
 */
export const ANY_NAMESPACE = '\u0000any-namespace';

/** Namespaces for reading an ANY_NAMESPACE path, whose `:name` elements were already resolved. */
const RESOLVED: Namespaces = { identity: '', property: '' };

export function getPathAnyNamespace(o: Value, path: readonly string[]): Value {
  return getPathNs(o, path, RESOLVED, 1);
}

/**
 * The path an index must follow to find what a path string finds: the keys as they are without
 * namespaces or when every key is exact, otherwise an ANY_NAMESPACE path.
 */
export function indexPath(keys: readonly string[], ns: Namespaces | null): string[] {
  if (!ns) return [...keys];
  const exact = keys.map((k) => exactName(k, ns));
  if (exact.every((k) => k !== null)) return exact as string[];
  return [ANY_NAMESPACE, ...keys.map((k, i) => (exact[i] === null ? k : `::${exact[i]}`))];
}

/**
 * `_S.$ids`: the entity's own `$ids`, or else its `_id` as a namespaced identifier in a list
 * (prefixed with the pipe's identity namespace when namespaced identifiers are on).
 */
export function dynamicIds(S: Value, ns: Namespaces | null): Value {
  if (!isDict(S)) return null;
  if (Object.prototype.hasOwnProperty.call(S, '$ids')) return S.$ids;
  const id = S._id;
  if (typeof id !== 'string') return null;
  return [new NI(ns ? qualifyIdentity(id, ns) : id)];
}

/** The pipe id, when the code generator was given one (used for generated namespaces and defaults). */
export function pipeIdOf(options: CodegenOptions): string | undefined {
  return options.pipeId;
}

/** Sets a property as an own data property, even for the name `__proto__`. */
export function putProp(T: Dict, key: string, value: Value): void {
  if (key === '__proto__') Object.defineProperty(T, key, { value, writable: true, enumerable: true, configurable: true });
  else T[key] = value;
}
