/**
 * Dependency tracking, planned at compile time: for every dataset a pipe joins to with hops or
 * apply-hops, the inverse traversals that lead from a changed entity in that dataset back to the
 * source entities that joined (or now join) to it. The runtime follows these chains through
 * secondary indexes and re-processes only the source entities it finds.
 *
 * A chain is a list of steps. Each step takes the values at `from` on the current entities and
 * finds the entities of `dataset` whose value at `path` equals one of them; the last step lands in
 * the pipe's source dataset. Only `eq` joins between plain paths can be inverted; other joins are
 * not tracked (the caveats in Sesam's docs describe the same limits).
 */
import type { Arg, Call, DtlProgram, Expr, HopsSpec } from '../dtl/ir.js';
import { indexPath, type Namespaces } from '../dtl/functions/ns-util.js';

export interface DependencyStep {
  from: string[];
  dataset: string;
  path: string[];
}

export interface DatasetDependency {
  dataset: string;
  chains: DependencyStep[][];
}

/** What `_S` is in a rule: the source entity (or a value inside it), or an entity reached by hops. */
interface Context {
  dataset: string;
  /** Path of `_S` inside the context entity (apply over `_S.lines` makes it ["lines"]). */
  prefix: string[];
  /** Steps from an entity of `dataset` back to the pipe's source entities. */
  steps: DependencyStep[];
}

interface Edge {
  a: { v: string; keys: string[] };
  b: { v: string; keys: string[] };
}

const MAX_RECURSION_CHAINS = 10;

function joinEdges(where: Expr[]): Edge[] {
  const edges: Edge[] = [];
  const visit = (e: Expr) => {
    if (e.t !== 'call') return;
    if (e.fn === 'and') for (const a of e.args) if (a.t === 'call') visit(a);
    if (e.fn === 'eq' && e.args.length === 2) {
      const [l, r] = e.args;
      if (l.t === 'path' && r.t === 'path' && l.v !== r.v) edges.push({ a: { v: l.v, keys: l.keys }, b: { v: r.v, keys: r.keys } });
    }
  };
  where.forEach(visit);
  return edges;
}

/** Shortest path of join edges from `start` to `_S`, as (from-side, to-side) pairs. */
function pathToSource(start: string, edges: Edge[]): { from: { v: string; keys: string[] }; to: { v: string; keys: string[] } }[] | null {
  const prev = new Map<string, { from: { v: string; keys: string[] }; to: { v: string; keys: string[] } }>();
  const seen = new Set([start]);
  const queue = [start];
  while (queue.length) {
    const node = queue.shift()!;
    if (node === '_S') break;
    for (const e of edges) {
      for (const [x, y] of [
        [e.a, e.b],
        [e.b, e.a],
      ] as const) {
        if (x.v !== node || seen.has(y.v)) continue;
        seen.add(y.v);
        prev.set(y.v, { from: x, to: y });
        queue.push(y.v);
      }
    }
  }
  if (!seen.has('_S')) return null;
  const hops: { from: { v: string; keys: string[] }; to: { v: string; keys: string[] } }[] = [];
  for (let node = '_S'; node !== start; ) {
    const p = prev.get(node)!;
    hops.unshift(p);
    node = p.from.v;
  }
  return hops;
}

class Planner {
  readonly deps = new Map<string, DependencyStep[][]>();
  private visited = new Set<string>();

  constructor(private readonly program: DtlProgram) {}

  private add(dataset: string, chain: DependencyStep[]): void {
    const chains = this.deps.get(dataset) ?? [];
    const key = JSON.stringify(chain);
    if (!chains.some((c) => JSON.stringify(c) === key)) chains.push(chain);
    this.deps.set(dataset, chains);
  }

  /** Steps from an entity of `alias` back to the source, through the spec's joins and the context. */
  private chainFor(alias: string, spec: HopsSpec, edges: Edge[], ctx: Context, sourceSteps: DependencyStep[][]): DependencyStep[][] {
    const route = pathToSource(alias, edges);
    if (!route) return [];
    const datasetOf = (v: string) => spec.datasets.find((d) => d.alias === v)?.dataset;
    const steps: DependencyStep[] = [];
    for (const { from, to } of route) {
      if (to.v === '_S') steps.push({ from: from.keys, dataset: ctx.dataset, path: [...ctx.prefix, ...to.keys] });
      else {
        const ds = datasetOf(to.v);
        if (!ds) return [];
        steps.push({ from: from.keys, dataset: ds, path: to.keys });
      }
    }
    return sourceSteps.map((tail) => [...steps, ...tail]);
  }

  hops(specs: HopsSpec[], ctx: Context): Context | null {
    let current: Context[] = [ctx];
    let result: Context | null = null;
    for (const spec of specs) {
      const next: Context[] = [];
      for (const c of current) {
        const edges = joinEdges(spec.where);
        // Recursion: `_S` may also be an entity found at an earlier level (same datasets).
        const levels = spec.recurse ? Math.min(spec.maxDepth ?? MAX_RECURSION_CHAINS, MAX_RECURSION_CHAINS) : 1;
        for (const d of spec.datasets) {
          let tails: DependencyStep[][] = [c.steps];
          for (let level = 0; level < levels; level++) {
            const chains = this.chainFor(d.alias, spec, edges, c, tails);
            if (spec.trackDependencies) for (const chain of chains) this.add(d.dataset, chain);
            if (!spec.recurse) break;
            // One level deeper: the entity that joined was itself found by this spec from an entity of d.dataset.
            tails = chains.length ? this.chainFor(d.alias, spec, edges, { dataset: d.dataset, prefix: [], steps: [] }, chains) : [];
          }
        }
        const ret = spec.return && 'aliases' in spec.return ? spec.return.aliases[spec.return.aliases.length - 1] : spec.datasets[spec.datasets.length - 1].alias;
        const retDataset = spec.datasets.find((d) => d.alias === ret)?.dataset;
        if (retDataset && !(spec.return && 'expr' in spec.return)) {
          const chains = this.chainFor(ret, spec, edges, c, [c.steps]);
          if (chains.length) next.push({ dataset: retDataset, prefix: [], steps: chains[0] });
        }
      }
      current = next;
      result = current[0] ?? null;
    }
    return result;
  }

  rule(name: string, ctx: Context): void {
    const key = `${name}\u0000${JSON.stringify(ctx)}`;
    if (this.visited.has(key) || this.visited.size > 1000) return;
    this.visited.add(key);
    for (const stmt of this.program.rules[name] ?? []) this.call(stmt, ctx);
  }

  private arg(a: Arg, ctx: Context): void {
    if (a.t === 'call') this.call(a, ctx);
    else if (a.t === 'fn') this.arg(a.body, ctx);
    else if (a.t === 'block') for (const s of a.stmts) this.call(s, ctx);
  }

  call(c: Call, ctx: Context): void {
    if (c.fn === 'hops') {
      this.hops(c.args.filter((a): a is HopsSpec => a.t === 'hops'), ctx);
      return;
    }
    if (c.fn === 'apply-hops') {
      const rule = c.args[0];
      const inner = this.hops(c.args.slice(1).filter((a): a is HopsSpec => a.t === 'hops'), ctx);
      if (rule.t === 'rule' && inner) this.rule(rule.name, inner);
      return;
    }
    if (c.fn === 'apply' && c.args[0]?.t === 'rule') {
      const values = c.args[1];
      // apply over a path of _S keeps the context, one level deeper; other values cannot be traced.
      if (values?.t === 'path' && values.v === '_S') this.rule(c.args[0].name, { ...ctx, prefix: [...ctx.prefix, ...values.keys] });
      if (values) this.arg(values, ctx);
      return;
    }
    for (const a of c.args) this.arg(a, ctx);
  }
}

/** The datasets whose changes a pipe reading `sourceDataset` must track, with their inverse chains. */
export function planDependencies(sourceDataset: string | null, programs: DtlProgram[], namespaces: Namespaces | null = null): DatasetDependency[] {
  if (!sourceDataset) return [];
  const all = new Map<string, DependencyStep[][]>();
  for (const program of programs) {
    const p = new Planner(program);
    p.rule('default', { dataset: sourceDataset, prefix: [], steps: [] });
    for (const [ds, chains] of p.deps) all.set(ds, [...(all.get(ds) ?? []), ...chains]);
  }
  // Under namespaced identifiers the joins' paths match names the way the hops themselves do.
  const step = (s: DependencyStep): DependencyStep => ({ ...s, from: indexPath(s.from, namespaces), path: indexPath(s.path, namespaces) });
  return [...all].map(([dataset, chains]) => ({ dataset, chains: chains.map((c) => c.map(step)) })).sort((a, b) => a.dataset.localeCompare(b.dataset));
}
