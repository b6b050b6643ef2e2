/**
 * Transform functions: rule-level statements that change the target entity or stop processing.
 * Each emits JS statements; `return 1` (filtered) and `return 2` (discarded) leave the rule.
 */
import { family, type ArgKind, type EmitContext } from '../spec.js';
import { DtlRuntimeError, type DtlContext } from '../runtime.js';
import { Decimal, DtlFloat, isDict, NI, toList, truthy, type Dict, type Value } from '../../values/types.js';
import { valuesEqual } from '../../values/compare.js';
import { dtlEq } from './comparisons.js';
import { exactName, nameMatcher, propertyMatcher, putProp, qualifyIdentity, qualifyProperty, splitNamespace, type Namespaces } from './ns-util.js';

function propertyNames(v: Value): string[] {
  const out: string[] = [];
  for (const x of toList(v)) if (typeof x === 'string') out.push(x);
  return out;
}

function qualifiedValue(name: string, value: Value, ns: Namespaces | null): Value {
  if (!ns || name !== '_id') return value;
  if (typeof value === 'string') return qualifyIdentity(value, ns);
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? qualifyIdentity(v, ns) : v));
  return value;
}

const hasOwn = Object.prototype.hasOwnProperty;

/** add / add-if / default: PROPERTY may be one name or a list of names (non-strings are ignored). */
export function addProperty(T: Dict, names: Value, value: Value, ns: Namespaces | null, onlyIfMissing: boolean): void {
  if (typeof names === 'string' && !ns) {
    if (!onlyIfMissing || !hasOwn.call(T, names)) putProp(T, names, value);
    return;
  }
  for (const raw of propertyNames(names)) {
    const name = qualifyProperty(raw, ns);
    if (onlyIfMissing && hasOwn.call(T, name)) continue;
    putProp(T, name, qualifiedValue(name, value, ns));
  }
}

function patterns(v: Value): string[] {
  return propertyNames(v);
}

/** The property filter of `copy`: matches INCLUDE patterns but no EXCLUDE pattern. */
export function copyFilter(include: Value, exclude: Value, ns: Namespaces | null): ((k: string) => boolean) | null {
  const inc = patterns(include).map((p) => propertyMatcher(p, ns));
  if (inc.length === 0) return null;
  const exc = patterns(exclude).map((p) => propertyMatcher(p, ns));
  const included = inc.length === 1 ? inc[0] : (k: string) => inc.some((m) => m(k));
  if (exc.length === 0) return included;
  const excluded = exc.length === 1 ? exc[0] : (k: string) => exc.some((m) => m(k));
  return (k) => included(k) && !excluded(k);
}

export function copyFiltered(S: Value, T: Dict, filter: ((k: string) => boolean) | null): void {
  if (filter === null || !isDict(S)) return;
  for (const k in S) if (filter(k)) putProp(T, k, S[k]);
}

export function copyProperties(S: Value, T: Dict, include: Value, exclude: Value, ns: Namespaces | null): void {
  copyFiltered(S, T, copyFilter(include, exclude, ns));
}

export function removeProperties(T: Dict, pattern: Value, ns: Namespaces | null): void {
  const ms = patterns(pattern).map((p) => propertyMatcher(p, ns));
  if (ms.length === 0) return;
  for (const k of Object.keys(T)) if (ms.some((m) => m(k))) delete T[k];
}

/** Flattens several values into one list (list values contribute their elements). */
function collect(values: Value[]): Value {
  if (values.length === 1) return values[0];
  const out: Value[] = [];
  for (const v of values) {
    if (Array.isArray(v)) out.push(...v);
    else out.push(v);
  }
  return out;
}

/**
 * rename: without namespaces a plain copy under a new name. With them, an unqualified source name
 * matches in every namespace; an unqualified target keeps each source property's namespace, while
 * a qualified (or `::`-escaped) target collects all matched values into that one property.
 */
export function renameProperty(S: Value, T: Dict, from: Value, to: Value, ns: Namespaces | null): void {
  if (!isDict(S) || typeof from !== 'string' || typeof to !== 'string') return;
  if (!ns) {
    if (hasOwn.call(S, from)) putProp(T, to, S[from]);
    return;
  }
  const match = nameMatcher(from, ns);
  const target = exactName(to, ns);
  const collected: Value[] = [];
  for (const k in S) {
    if (!match(k)) continue;
    if (target === null) {
      const [kNs] = splitNamespace(k);
      putProp(T, kNs === null ? to : `${kNs}:${to}`, S[k]);
    } else collected.push(S[k]);
  }
  if (target !== null && collected.length) putProp(T, target, collect(collected));
}

function toNi(namespace: string, v: Value): Value | undefined {
  if (typeof v === 'string') return new NI(`${namespace}:${v}`);
  if (Array.isArray(v)) {
    const out: Value[] = [];
    for (const x of v) if (typeof x === 'string') out.push(new NI(`${namespace}:${x}`));
    return out.length ? out : undefined;
  }
  return undefined;
}

/**
 * make-ni: string values of FROM_PROPERTY become NIs in NAMESPACE under TO_PROPERTY (default
 * FROM_PROPERTY-ni). With namespaces, an unqualified FROM matches in every namespace; an
 * unqualified TO keeps the matched property's namespace, a qualified one collects (like rename).
 */
export function makeNi(S: Value, T: Dict, namespace: Value, from: Value, to: Value, ns: Namespaces | null): void {
  if (!isDict(S) || typeof namespace !== 'string' || typeof from !== 'string') return;
  const toName = typeof to === 'string' ? to : null;
  if (!ns) {
    const v = hasOwn.call(S, from) ? toNi(namespace, S[from]) : undefined;
    if (v !== undefined) putProp(T, toName ?? `${from}-ni`, v);
    return;
  }
  const match = nameMatcher(from, ns);
  const exactTo = toName === null ? null : exactName(toName, ns);
  const collected: Value[] = [];
  for (const k in S) {
    if (!match(k)) continue;
    const v = toNi(namespace, S[k]);
    if (v === undefined) continue;
    if (toName === null) putProp(T, `${k}-ni`, v);
    else if (exactTo !== null) collected.push(v);
    else {
      const [kNs] = splitNamespace(k);
      putProp(T, kNs === null ? toName : `${kNs}:${toName}`, v);
    }
  }
  if (exactTo !== null && collected.length) putProp(T, exactTo, collect(collected));
}

/** create / create-child take dicts (other values are ignored); a dict without a string `_id` fails only when ids are required. */
function checkEntity(v: Value, what: string, idRequired: boolean): v is Dict {
  if (!isDict(v)) return false;
  if (typeof v._id === 'string' || !idRequired) return true;
  throw new DtlRuntimeError(`${what} needs entities with a string "_id"; got ${describe(v)}`);
}

function describe(v: Value): string {
  if (isDict(v)) return `a dict ${'_id' in v ? `with _id ${JSON.stringify(String(v._id))}` : 'without _id'}`;
  if (Array.isArray(v)) return 'a list';
  return v === null ? 'null' : typeof v;
}

export function createEntities(values: Value, X: DtlContext, idRequired: boolean): void {
  for (const v of toList(values)) if (checkEntity(v, '"create"', idRequired)) X.created.push(v);
}

export function createChildren(T: Dict, values: Value, idRequired: boolean): void {
  const children: Value[] = Array.isArray(T.$children) ? [...T.$children] : [];
  for (const v of toList(values)) {
    if (!checkEntity(v, '"create-child"', idRequired)) continue;
    if (!children.some((c) => valuesEqual(c, v))) children.push(v);
  }
  T.$children = children;
}

export function mergeInto(T: Dict, values: Value): void {
  for (const v of toList(values)) {
    if (!isDict(v)) continue;
    for (const k in v) if (k.charCodeAt(0) !== 95 /* _ */) putProp(T, k, v[k]);
  }
}

export function mergeUnionInto(T: Dict, values: Value): void {
  for (const v of toList(values)) {
    if (!isDict(v)) continue;
    for (const k in v) {
      if (k.charCodeAt(0) === 95) continue;
      if (!hasOwn.call(T, k)) {
        putProp(T, k, v[k]);
        continue;
      }
      const merged: Value[] = [];
      for (const x of [...toList(T[k]), ...toList(v[k])]) if (!merged.some((m) => valuesEqual(m, x))) merged.push(x);
      T[k] = merged;
    }
  }
}

export function fail(message: Value, trip: boolean): never {
  throw new DtlRuntimeError(typeof message === 'string' ? message : 'the pipe was stopped by "fail!"', { trip, fatal: true });
}

export function sleepSeconds(seconds: Value): void {
  let s = 0;
  if (typeof seconds === 'number' || typeof seconds === 'bigint') s = Number(seconds);
  else if (seconds instanceof DtlFloat) s = seconds.value;
  else if (seconds instanceof Decimal) s = seconds.toNumber();
  if (s > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.min(s, 3600) * 1000);
}

function nsArg(e: EmitContext): string {
  return e.options.namespaces ? e.use(e.options.namespaces) : 'null';
}

/** Kinds for (condition, transforms)+ [else] after `skip` leading expressions. */
function caseKinds(skip: number) {
  return (n: number): ArgKind[] => {
    const kinds: ArgKind[] = Array(skip).fill('expr');
    for (let i = skip; i < n; i++) kinds.push((i - skip) % 2 === 0 && i < n - 1 ? 'expr' : 'transforms');
    return kinds;
  };
}

function emitCase(e: EmitContext, first: number, test: (valueCode: string) => string): string {
  let code = '';
  let i = first;
  for (; i + 1 < e.count; i += 2) {
    code += `${code ? ' else ' : ''}if (${test(e.arg(i))}) {\n${e.arg(i + 1)}\n}`;
  }
  if (i < e.count) code += `${code ? ' else ' : ''}{\n${e.arg(i)}\n}`;
  return code;
}

export default family('transforms', (def) => {
  def.transform({
    name: 'add',
    doc: 'Adds PROPERTY (a name or names) to the target entity with the value of VALUES.',
    args: ['expr', 'expr'],
    emit: (e) => {
      const prop = e.literal(0);
      if (prop && typeof prop.value === 'string' && !e.options.namespaces && !prop.value.startsWith(':') && prop.value !== '__proto__') {
        return `T[${JSON.stringify(prop.value)}] = ${e.arg(1)};`;
      }
      return `${e.use(addProperty)}(T, ${e.arg(0)}, ${e.arg(1)}, ${nsArg(e)}, false);`;
    },
  });
  def.transform({
    name: 'add-if',
    doc: 'Adds PROPERTY with the value of VALUES when CONDITION (with `_` bound to the value; default: not null) holds.',
    args: (n) => (n === 3 ? ['expr', 'fn', 'expr'] : ['expr', 'expr']),
    min: 2,
    max: 3,
    emit: (e) => {
      const v = e.temp('v');
      const cond = e.count === 3 ? `${e.use(truthy)}(${e.arg(1)}(${v}))` : `${v} !== null`;
      return `const ${v} = ${e.arg(e.count - 1)};\nif (${cond}) ${e.use(addProperty)}(T, ${e.arg(0)}, ${v}, ${nsArg(e)}, false);`;
    },
  });
  def.transform({
    name: 'default',
    doc: 'Like add, but only when the target entity does not have the property yet.',
    args: ['expr', 'expr'],
    emit: (e) => `${e.use(addProperty)}(T, ${e.arg(0)}, ${e.arg(1)}, ${nsArg(e)}, true);`,
  });
  def.transform({
    name: 'copy',
    doc: 'Copies the source properties matching INCLUDE (wildcards * and ?) but not EXCLUDE to the target.',
    args: ['expr', 'expr'],
    min: 1,
    emit: (e) => {
      const lit = e.literal(0);
      if (e.count === 1 && lit && typeof lit.value === 'string' && !/[*?]/.test(lit.value) && !e.options.namespaces && lit.value !== '__proto__') {
        const k = JSON.stringify(lit.value);
        return `if (S !== null && typeof S === 'object' && Object.prototype.hasOwnProperty.call(S, ${k})) T[${k}] = S[${k}];`;
      }
      const exclude = e.count > 1 ? e.literal(1) : { value: null };
      if (lit && exclude) {
        // Literal patterns (the usual case) are compiled into one filter when the rule is linked.
        const filter = copyFilter(lit.value, exclude.value, e.options.namespaces);
        return `${e.use(copyFiltered)}(S, T, ${e.use(filter)});`;
      }
      return `${e.use(copyProperties)}(S, T, ${e.arg(0)}, ${e.count > 1 ? e.arg(1) : 'null'}, ${nsArg(e)});`;
    },
  });
  def.transform({
    name: 'remove',
    doc: 'Removes the target properties matching PROPERTY (wildcards * and ?).',
    args: ['expr'],
    emit: (e) => {
      const lit = e.literal(0);
      if (lit && typeof lit.value === 'string' && !/[*?]/.test(lit.value) && !e.options.namespaces) return `delete T[${JSON.stringify(lit.value)}];`;
      return `${e.use(removeProperties)}(T, ${e.arg(0)}, ${nsArg(e)});`;
    },
  });
  def.transform({
    name: 'rename',
    doc: 'Copies source property PROPERTY1 to target property PROPERTY2.',
    args: ['expr', 'expr'],
    emit: (e) => `${e.use(renameProperty)}(S, T, ${e.arg(0)}, ${e.arg(1)}, ${nsArg(e)});`,
  });
  def.transform({
    name: 'make-ni',
    doc: 'Adds FROM_PROPERTY to the target as namespaced identifiers in NAMESPACE (under TO_PROPERTY, default FROM_PROPERTY-ni).',
    args: ['expr', 'expr', 'expr'],
    min: 2,
    emit: (e) => `${e.use(makeNi)}(S, T, ${e.arg(0)}, ${e.arg(1)}, ${e.count > 2 ? e.arg(2) : 'null'}, ${nsArg(e)});`,
  });
  def.transform({
    name: 'merge',
    doc: 'Copies all properties (except root `_` ones) of each dict in VALUES onto the target; later ones win.',
    args: ['expr'],
    emit: (e) => `${e.use(mergeInto)}(T, ${e.arg(0)});`,
  });
  def.transform({
    name: 'merge-union',
    doc: 'Like merge, but properties already on the target collect all values in a list.',
    args: ['expr'],
    emit: (e) => `${e.use(mergeUnionInto)}(T, ${e.arg(0)});`,
  });
  def.transform({
    name: 'create',
    doc: 'Emits each entity in VALUES as an extra output entity.',
    args: ['expr'],
    emit: (e) => `${e.use(createEntities)}(${e.arg(0)}, X, ${e.options.idRequired});`,
  });
  def.transform({
    name: 'create-child',
    doc: 'Adds each entity in VALUES to the target entity\'s `$children`.',
    args: ['expr'],
    emit: (e) => `${e.use(createChildren)}(T, ${e.arg(0)}, ${e.options.idRequired});`,
  });
  def.transform({
    name: 'filter',
    doc: 'Stops processing unless CONDITION holds; the entity is not emitted (a dataset sink records it as deleted).',
    args: ['expr'],
    min: 0,
    emit: (e) => (e.count === 0 ? 'return 1;' : `if (!${e.use(truthy)}(${e.arg(0)})) return 1;`),
  });
  def.transform({
    name: 'discard',
    doc: 'Stops processing unless CONDITION holds, dropping the entity without deleting it in the sink.',
    args: ['expr'],
    min: 0,
    emit: (e) => (e.count === 0 ? 'return 2;' : `if (!${e.use(truthy)}(${e.arg(0)})) return 2;`),
  });
  def.transform({
    name: 'if',
    doc: 'Applies THEN when CONDITION is true, else ELSE.',
    args: ['expr', 'transforms', 'transforms'],
    min: 2,
    emit: (e) => `if (${e.use(truthy)}(${e.arg(0)})) {\n${e.arg(1)}\n}${e.count > 2 ? ` else {\n${e.arg(2)}\n}` : ''}`,
  });
  def.transform({
    name: 'case',
    doc: 'Applies the THEN of the first true VALUE; otherwise the optional ELSE.',
    args: caseKinds(0),
    min: 2,
    emit: (e) => emitCase(e, 0, (v) => `${e.use(truthy)}(${v})`),
  });
  def.transform({
    name: 'case-eq',
    doc: 'Applies the THEN of the first VALUE_N equal to VALUE; otherwise the optional ELSE.',
    args: caseKinds(1),
    min: 3,
    emit: (e) => {
      const v = e.temp('v');
      return `const ${v} = ${e.arg(0)};\n${emitCase(e, 1, (c) => `${e.use(dtlEq)}(${v}, ${c})`)}`;
    },
  });
  def.transform({
    name: 'comment',
    doc: 'Does nothing; holds comments or disabled transforms, which are not evaluated.',
    args: ['raw'],
    min: 0,
    max: Infinity,
    emit: () => '',
  });
  def.transform({
    name: 'fail!',
    doc: 'Makes the pump fail with MESSAGE.',
    args: ['expr'],
    min: 0,
    emit: (e) => `${e.use(fail)}(${e.count ? e.arg(0) : 'null'}, false);`,
  });
  def.transform({
    name: 'trip!',
    doc: "Makes the pump fail with MESSAGE and trips the sink dataset's circuit breaker.",
    args: ['expr'],
    min: 0,
    emit: (e) => `${e.use(fail)}(${e.count ? e.arg(0) : 'null'}, true);`,
  });
  def.transform({
    name: 'sleep!',
    doc: 'Pauses processing for PERIOD seconds.',
    args: ['expr'],
    emit: (e) => `${e.use(sleepSeconds)}(${e.arg(0)});`,
  });
});
