/**
 * Property path strings: `_S.orders.amount`, `_S.` (the variable itself), quoted segments
 * (`_S.foo.'john.doe''s'.bar`) and hops aliases (`o.cust_id`).
 */

export const BUILTIN_VARIABLES = ['_S', '_T', '_P', '_R', '_B', '_'] as const;

export interface ParsedPath {
  variable: string;
  keys: string[];
}

/** Splits a path string into its variable and keys; returns null when it is not a path. */
export function parsePathString(s: string, aliases?: ReadonlySet<string>): ParsedPath | { error: string } | null {
  const dot = s.indexOf('.');
  if (dot < 0) return null;
  const variable = s.slice(0, dot);
  const builtin = (BUILTIN_VARIABLES as readonly string[]).includes(variable);
  if (!builtin && !aliases?.has(variable)) return null;
  const rest = s.slice(dot + 1);
  if (rest === '') return { variable, keys: [] };
  const keys: string[] = [];
  let i = 0;
  while (i <= rest.length) {
    if (rest[i] === "'") {
      let key = '';
      i++;
      for (;;) {
        if (i >= rest.length) return { error: `unterminated quoted segment in path "${s}"` };
        if (rest[i] === "'") {
          if (rest[i + 1] === "'") {
            key += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        key += rest[i++];
      }
      keys.push(key);
      if (i < rest.length && rest[i] !== '.') return { error: `a quoted path segment must be followed by "." in "${s}"` };
      i++;
    } else {
      const next = rest.indexOf('.', i);
      const end = next < 0 ? rest.length : next;
      const key = rest.slice(i, end);
      if (key === '') return { error: `empty segment in path "${s}"` };
      keys.push(key);
      i = end + 1;
    }
  }
  return { variable, keys };
}

/** Whether a string looks like a path on a mistyped variable, e.g. `_s.name` or `_X.a`. */
export function looksLikeMistypedVariable(s: string): string | null {
  const m = /^(_[A-Za-z]?)\.\S/.exec(s);
  if (!m) return null;
  return (BUILTIN_VARIABLES as readonly string[]).includes(m[1]) ? null : m[1];
}
