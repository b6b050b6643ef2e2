/**
 * Namespace-aware property names and wildcard patterns, shared by the transforms that the docs
 * call namespace aware (add, add-if, default, copy, remove, rename, make-ni) and by `path`.
 */

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
  if (!ns) {
    if (!hasWildcard(pattern)) return (name) => name === pattern;
    const re = wildcardRegex(pattern);
    return (name) => re.test(name);
  }
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
