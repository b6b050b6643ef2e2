/**
 * Joins across datasets: hops, apply-hops and lookup-entity. Each HOP_SPEC is compiled into
 * closures over its `where` clauses. `eq` clauses that relate two different variables are joins
 * (evaluated by intersection, answered through the resolver's indexes where one side is a plain
 * alias path); every other clause filters the joined rows.
 */
import { family, type EmitContext } from '../spec.js';
import type { Arg, Expr, HopsSpec } from '../ir.js';
import { applyRule, DtlRuntimeError, type DtlContext, type RuleFn } from '../runtime.js';
import { getPath } from '../runtime.js';
import { isDict, toList, truthy, type Dict, type Entity, type Value } from '../../values/types.js';
import { compareValues, valuesEqual } from '../../values/compare.js';
import { firstValue } from './util.js';
import { indexPath } from './ns-util.js';

type Row = Record<string, Entity>;
type SideFn = (S: Value, H: Row) => Value;

interface JoinSide {
  vars: string[];
  /** Set when the side is a plain path on one alias: `o.a.b` → alias o, path [a, b]. */
  alias: string | null;
  path: string[] | null;
  fn: SideFn;
}

interface Clause {
  vars: string[];
  join: [JoinSide, JoinSide] | null;
  fn: SideFn;
}

export interface CompiledHops {
  datasets: { dataset: string; alias: string }[];
  clauses: Clause[];
  returnAliases: string[] | null;
  returnFn: SideFn | null;
  recurse: boolean;
  excludeRoot: boolean;
  maxDepth: number | null;
  subsets: Record<string, { path: string[] | null; value: SideFn; fn: SideFn }>;
}

const BUILTINS = new Set(['_S', '_T', '_P', '_R', '_B', '_']);

function variablesOf(e: Arg, out = new Set<string>()): Set<string> {
  if (e.t === 'path') out.add(e.v);
  else if (e.t === 'call') for (const a of e.args) variablesOf(a, out);
  else if (e.t === 'fn') variablesOf(e.body, out);
  return out;
}

function emitSpec(e: EmitContext, spec: HopsSpec): string {
  const bindings: Record<string, string> = {};
  for (const d of spec.datasets) bindings[d.alias] = `H[${JSON.stringify(d.alias)}]`;
  const aliasSet = new Set(spec.datasets.map((d) => d.alias));
  const side = (x: Expr) => {
    const vars = [...variablesOf(x)].filter((v) => aliasSet.has(v) || v === '_S');
    const plain = x.t === 'path' && aliasSet.has(x.v);
    // The index path finds what the path string finds, namespaces included.
    const path = plain ? JSON.stringify(indexPath((x as { keys: string[] }).keys, e.options.namespaces)) : 'null';
    return `{ vars: ${JSON.stringify(vars)}, alias: ${plain ? JSON.stringify((x as { v: string }).v) : 'null'}, path: ${path}, fn: (S, H) => ${e.compile(x, bindings)} }`;
  };
  const clauses = spec.where.map((w) => {
    const vars = [...variablesOf(w)].filter((v) => aliasSet.has(v) || v === '_S');
    let join = 'null';
    if (w.t === 'call' && w.fn === 'eq' && w.args.length === 2) {
      const [l, r] = w.args as [Expr, Expr];
      const lv = [...variablesOf(l)].filter((v) => aliasSet.has(v) || BUILTINS.has(v));
      const rv = [...variablesOf(r)].filter((v) => aliasSet.has(v) || BUILTINS.has(v));
      const distinct = lv.length > 0 && rv.length > 0 && lv.some((v) => !rv.includes(v));
      if (distinct) join = `[${side(l)}, ${side(r)}]`;
    }
    return `{ vars: ${JSON.stringify(vars)}, join: ${join}, fn: (S, H) => ${e.compile(w, bindings)} }`;
  });
  const ret = spec.return;
  const returnAliases = ret && 'aliases' in ret ? JSON.stringify(ret.aliases) : 'null';
  const returnFn = ret && 'expr' in ret ? `(S, H) => ${e.compile(ret.expr, bindings)}` : 'null';
  const subsets = Object.entries(spec.subsets ?? {}).map(([alias, x]) => {
    // A subset is ["eq", INDEX_EXPRESSION, VALUE]: the index expression reads the alias's entities.
    if (x.t !== 'call' || x.fn !== 'eq' || x.args.length !== 2) return `${JSON.stringify(alias)}: { path: null, value: () => true, fn: () => true }`;
    const [idx, val] = x.args as [Expr, Expr];
    const path = idx.t === 'path' && idx.v === '_S' ? JSON.stringify(indexPath(idx.keys, e.options.namespaces)) : 'null';
    return `${JSON.stringify(alias)}: { path: ${path}, value: (S, H) => ${e.compile(val, {})}, fn: (S, H) => ${e.compile(idx, {})} }`;
  });
  return `{ datasets: ${e.use(spec.datasets)}, clauses: [${clauses.join(', ')}], returnAliases: ${returnAliases}, returnFn: ${returnFn}, recurse: ${spec.recurse}, excludeRoot: ${spec.excludeRoot}, maxDepth: ${spec.maxDepth}, subsets: { ${subsets.join(', ')} } }`;
}

function intersects(a: Value, b: Value): boolean {
  const la = toList(a);
  const lb = toList(b);
  for (const x of la) {
    if (x === null) continue;
    for (const y of lb) if (y !== null && valuesEqual(x, y)) return true;
  }
  return false;
}

function clauseHolds(c: Clause, S: Value, row: Row): boolean {
  if (c.join) return intersects(c.join[0].fn(S, row), c.join[1].fn(S, row));
  return truthy(c.fn(S, row));
}

function resolverOf(X: DtlContext) {
  if (!X.hops) throw new DtlRuntimeError('hops need dataset access, which this context does not provide');
  return X.hops;
}

function distinctValues(values: Value[]): Value[] {
  const out: Value[] = [];
  for (const v of values) if (v !== null && !out.some((o) => valuesEqual(o, v))) out.push(v);
  return out;
}

function inSubset(spec: CompiledHops, alias: string, entity: Entity, S: Value): boolean {
  const sub = spec.subsets[alias];
  if (!sub) return true;
  return intersects(sub.fn(entity, {}), sub.value(S, {}));
}

/** One HOP_SPEC applied to one input entity: the joined rows that pass every clause. */
function joinRows(spec: CompiledHops, S: Value, X: DtlContext): Row[] {
  const resolver = resolverOf(X);
  const datasetOf = new Map(spec.datasets.map((d) => [d.alias, d.dataset]));
  const bound = new Set<string>(['_S']);
  const used = new Set<Clause>();
  let rows: Row[] = [{}];
  const unbound = () => spec.datasets.filter((d) => !bound.has(d.alias));
  while (unbound().length && rows.length) {
    let progressed = false;
    for (const c of spec.clauses) {
      if (!c.join || used.has(c)) continue;
      for (const [from, to] of [
        [c.join[0], c.join[1]],
        [c.join[1], c.join[0]],
      ] as const) {
        if (!to.alias || bound.has(to.alias) || !from.vars.every((v) => bound.has(v)) || !to.vars.every((v) => v === to.alias)) continue;
        const alias = to.alias;
        const dataset = datasetOf.get(alias)!;
        const next: Row[] = [];
        for (const row of rows) {
          const values = distinctValues(toList(from.fn(S, row)));
          if (!values.length) continue;
          X.onHop?.(dataset, to.path!, values);
          for (const cand of resolver.find(dataset, to.path!, values)) if (inSubset(spec, alias, cand, S)) next.push({ ...row, [alias]: cand });
        }
        rows = next;
        bound.add(alias);
        used.add(c);
        progressed = true;
        break;
      }
      if (progressed) break;
    }
    if (progressed) continue;
    // No indexable join left: bind the next alias by scanning its dataset, then filter.
    const d = unbound()[0];
    const all = [...resolver.scan(d.dataset)].filter((cand) => inSubset(spec, d.alias, cand, S));
    const next: Row[] = [];
    for (const row of rows) for (const cand of all) next.push({ ...row, [d.alias]: cand });
    rows = next;
    bound.add(d.alias);
  }
  return rows.filter((row) => spec.clauses.every((c) => used.has(c) || clauseHolds(c, S, row)));
}

function byId(a: Value, b: Value): number {
  return compareValues(isDict(a) ? (a._id ?? null) : a, isDict(b) ? (b._id ?? null) : b);
}

function distinctEntities(values: Value[]): Value[] {
  const out: Value[] = [];
  const seen = new Set<unknown>();
  for (const v of values) {
    const key = isDict(v) && typeof v._id === 'string' ? v._id : v;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(v);
  }
  return out;
}

function evalSpec(spec: CompiledHops, inputs: Value[], X: DtlContext): Value[] {
  const out: Value[] = [];
  const last = spec.datasets[spec.datasets.length - 1].alias;
  for (const S of inputs) {
    const rows = joinRows(spec, S, X);
    if (spec.returnFn) {
      for (const row of rows.sort((a, b) => byId(a[last], b[last]))) {
        const v = spec.returnFn(S, row);
        if (v !== null) out.push(v);
      }
    } else {
      for (const alias of spec.returnAliases ?? [last]) for (const row of rows) out.push(row[alias]);
    }
  }
  return spec.returnFn ? out : distinctEntities(out).sort(byId);
}

function recurseSpec(spec: CompiledHops, inputs: Value[], X: DtlContext): Value[] {
  const result: Value[] = spec.excludeRoot ? [] : [...inputs];
  const seen = new Set<unknown>(inputs.map((v) => (isDict(v) ? v._id : v)));
  let frontier = inputs;
  for (let depth = 0; frontier.length && (spec.maxDepth === null || depth < spec.maxDepth); depth++) {
    const found = evalSpec(spec, frontier, X).filter((v) => {
      const key = isDict(v) ? v._id : v;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    result.push(...found);
    frontier = found;
  }
  return result;
}

export function evalHops(specs: CompiledHops[], S: Value, X: DtlContext): Value[] {
  let values: Value[] = [S];
  for (const spec of specs) values = spec.recurse ? recurseSpec(spec, values, X) : evalSpec(spec, values, X);
  return values;
}

export function lookupEntity(dataset: Value, id: Value, X: DtlContext): Value {
  const ds = firstValue(dataset);
  const key = firstValue(id);
  if (typeof ds !== 'string' || typeof key !== 'string') return null;
  return resolverOf(X).lookup(ds, key);
}

export function applyHops(rule: RuleFn, specs: CompiledHops[], S: Value, T: Dict, P: Value, R: Dict, X: DtlContext): Value {
  return applyRule(rule, evalHops(specs, S, X), S, T, P, R, X);
}

function specsCode(e: EmitContext, from: number): string {
  const specs: string[] = [];
  for (let i = from; i < e.count; i++) specs.push(emitSpec(e, e.ir(i) as HopsSpec));
  return `[${specs.join(', ')}]`;
}

export default family('hops', (def) => {
  def.expression({
    name: 'hops',
    doc: 'Joins the source entity with entities in other datasets (HOP_SPEC: datasets, where, return, recurse, ...) and returns what the join finds.',
    args: (n) => Array(n).fill('hops'),
    min: 1,
    emit: (e) => `${e.use(evalHops)}(${specsCode(e, 0)}, S, X)`,
  });
  def.expression({
    name: 'apply-hops',
    doc: 'Like hops, but applies RULE to every entity found and returns the results.',
    args: (n) => ['rule', ...Array(n - 1).fill('hops')],
    min: 2,
    emit: (e) => `${e.use(applyHops)}(${e.arg(0)}, ${specsCode(e, 1)}, S, T, P, R, X)`,
  });
  def.expression({
    name: 'lookup-entity',
    doc: 'Returns the entity with the given _id in a dataset, or null (no dependency tracking).',
    args: ['expr', 'expr'],
    datasetArg: 0,
    emit: (e) => `${e.use(lookupEntity)}(${e.arg(0)}, ${e.arg(1)}, X)`,
  });
});
