/**
 * DTL front end: turns the positioned JSON of a transform's `rules` into checked IR, reporting
 * every problem with its location: unknown functions (with did-you-mean), arity, argument kinds,
 * transforms used as expressions and vice versa, unknown rules, malformed paths and hops specs.
 */
import { DiagnosticBag, formatLocation, suggestion, type SourceLocation } from '../diagnostics.js';
import { type PNode, toPlain } from '../parse/tree.js';
import { decodeInPlace, stringifyValue } from '../values/index.js';
import { parseJsonLossless } from '../values/lossless-json.js';
import type { Value } from '../values/types.js';
import type { Arg, Block, Call, DtlProgram, Expr, HopsSpec, Stmt } from './ir.js';
import { looksLikeMistypedVariable, parsePathString } from './paths.js';
import type { ArgKind, FunctionSpec } from './spec.js';
import { registry, type Registry } from './registry.js';

export interface DatasetReference {
  dataset: string;
  loc: SourceLocation;
  /** `hops` and `apply-hops` joins are tracked for dependency tracking; `lookup-entity` is not. */
  via: 'hops' | 'lookup-entity';
  trackDependencies: boolean;
}

export interface AnalyzeResult {
  program: DtlProgram;
  datasetRefs: DatasetReference[];
}

interface Scope {
  /** `_` is bound (inside a function expression). */
  underscore: boolean;
  /** Hops aliases visible (inside a `where` or `return`). */
  aliases: ReadonlySet<string>;
  rule: string;
}

export function literalToIr(value: unknown): Expr {
  return { t: 'lit', json: stringifyValue(value as Value) };
}

export class DtlAnalyzer {
  readonly datasetRefs: DatasetReference[] = [];
  private ruleNames = new Set<string>();

  constructor(
    private readonly bag: DiagnosticBag,
    private readonly reg: Registry = registry,
  ) {}

  /**
   * Analyses a transform's named rules. A rule set that a component calls by other names (the
   * template transform's extension points) has no `default` rule: `requireDefault` is false.
   */
  analyzeRules(rulesNode: PNode, requireDefault = true): AnalyzeResult | undefined {
    if (rulesNode.kind !== 'object') {
      this.bag.error('DTL_SYNTAX', rulesNode.loc, 'DTL "rules" must be an object of named rules');
      return undefined;
    }
    for (const e of rulesNode.entries) this.ruleNames.add(e.key);
    if (requireDefault && !this.ruleNames.has('default')) this.bag.error('DTL_NO_DEFAULT_RULE', rulesNode.loc, 'DTL "rules" must have a "default" rule');
    const rules: Record<string, Stmt[]> = {};
    for (const e of rulesNode.entries) {
      const scope: Scope = { underscore: false, aliases: new Set(), rule: e.key };
      if (e.value.kind !== 'array') {
        this.bag.error('DTL_SYNTAX', e.value.loc, `rule "${e.key}" must be a list of transforms`);
        continue;
      }
      // A rule written as one transform (a list that starts with its function name) is that transform alone.
      const single = e.value.items[0]?.kind === 'string';
      rules[e.key] = this.transformList(single ? [e.value] : e.value.items, scope);
    }
    return { program: { rules }, datasetRefs: this.datasetRefs };
  }

  /** Analyses one expression outside of any rule (conformance runner, `sluice eval`). */
  analyzeExpression(node: PNode, ruleNames: Iterable<string> = []): Expr {
    for (const r of ruleNames) this.ruleNames.add(r);
    return this.expr(node, { underscore: false, aliases: new Set(), rule: 'default' });
  }

  private transformList(items: PNode[], scope: Scope): Stmt[] {
    const out: Stmt[] = [];
    for (const item of items) {
      const s = this.transform(item, scope);
      if (s) out.push(s);
    }
    return out;
  }

  private transform(node: PNode, scope: Scope): Stmt | undefined {
    if (node.kind !== 'array' || node.items.length === 0 || node.items[0].kind !== 'string') {
      this.bag.error('DTL_SYNTAX', node.loc, 'a transform must be a list starting with a transform function name, e.g. ["add", "name", "_S.name"]');
      return undefined;
    }
    const name = (node.items[0] as { value: string }).value;
    const spec = this.reg.get(name, 'transform');
    if (!spec) {
      if (this.reg.get(name, 'expression')) {
        this.bag.error('DTL_EXPRESSION_AS_TRANSFORM', node.items[0].loc, `"${name}" is an expression function and cannot be used as a transform here; wrap it in a transform such as ["add", "property", [...]]`);
      } else {
        this.bag.error('DTL_UNKNOWN_FUNCTION', node.items[0].loc, `unknown transform function "${name}"${suggestion(name, this.reg.names('transform'))}`);
      }
      return undefined;
    }
    return this.call(spec, node, scope);
  }

  private call(spec: FunctionSpec, node: PNode & { kind: 'array' }, scope: Scope): Call | undefined {
    const argNodes = node.items.slice(1);
    const n = argNodes.length;
    const call: Call = { t: 'call', fn: spec.name, args: [], at: formatLocation(node.loc) };
    if (n < spec.minArgs || n > spec.maxArgs) {
      const want = spec.minArgs === spec.maxArgs ? `${spec.minArgs}` : spec.maxArgs === Infinity ? `at least ${spec.minArgs}` : `${spec.minArgs} to ${spec.maxArgs}`;
      this.bag.error('DTL_ARITY', node.items[0].loc, `"${spec.name}" takes ${want} argument${want === '1' ? '' : 's'} but got ${n}`);
      return undefined;
    }
    const kinds = spec.argKinds(n);
    let ok = true;
    for (let i = 0; i < n; i++) {
      const a = this.arg(kinds[i] ?? 'expr', argNodes[i], scope, spec, i);
      if (!a) ok = false;
      else call.args.push(a);
    }
    if (!ok) return undefined;
    if (spec.datasetArg !== undefined) {
      const lit = literalValue(call.args[spec.datasetArg]);
      if (lit && typeof lit.value === 'string') this.datasetRefs.push({ dataset: lit.value, loc: argNodes[spec.datasetArg].loc, via: 'lookup-entity', trackDependencies: false });
    }
    if (spec.check) {
      const errorsBefore = this.bag.items.length;
      spec.check({
        call,
        node,
        diagnostics: this.bag,
        argNodes,
        literal: (i) => literalValue(call.args[i]),
      });
      if (this.bag.items.slice(errorsBefore).some((d) => d.severity === 'error')) return undefined;
    }
    return call;
  }

  private arg(kind: ArgKind, node: PNode, scope: Scope, spec: FunctionSpec, index: number): Arg | undefined {
    switch (kind) {
      case 'expr':
        return this.expr(node, scope);
      case 'fn':
        return { t: 'fn', body: this.expr(node, { ...scope, underscore: true }) };
      case 'transforms':
        return this.block(node, scope);
      case 'raw':
        return { t: 'raw', json: stringifyValue(decodeInPlace(toPlain(node, { keepFloats: true })) as Value) };
      case 'rule': {
        if (node.kind !== 'string') {
          this.bag.error('DTL_ARGUMENT', node.loc, `argument ${index + 1} of "${spec.name}" must be the name of a rule (a string)`);
          return undefined;
        }
        if (!this.ruleNames.has(node.value)) {
          this.bag.error('DTL_UNKNOWN_RULE', node.loc, `"${spec.name}" refers to rule "${node.value}", which is not defined${suggestion(node.value, this.ruleNames)}`);
          return undefined;
        }
        return { t: 'rule', name: node.value };
      }
      case 'hops':
        return this.hops(node, scope, spec);
    }
  }

  private block(node: PNode, scope: Scope): Block | undefined {
    // A single transform (["add", ...]) or a list of transforms ([["add", ...], ...]); [] is empty.
    if (node.kind === 'array' && (node.items.length === 0 || node.items[0].kind === 'array')) {
      return { t: 'block', stmts: this.transformList(node.items, scope) };
    }
    const s = this.transform(node, scope);
    return s ? { t: 'block', stmts: [s] } : { t: 'block', stmts: [] };
  }

  expr(node: PNode, scope: Scope): Expr {
    switch (node.kind) {
      case 'string':
        return this.stringExpr(node.value, node.loc, scope);
      case 'array': {
        if (node.items.length === 0) return literalToIr([]);
        const head = node.items[0];
        if (head.kind !== 'string') {
          this.bag.error('DTL_SYNTAX', node.loc, 'a function call must start with the function name; use ["list", ...] for a list of values');
          return literalToIr(null);
        }
        const spec = this.reg.get(head.value, 'expression');
        if (!spec) {
          if (this.reg.get(head.value, 'transform')) {
            this.bag.error('DTL_TRANSFORM_AS_EXPRESSION', head.loc, `"${head.value}" is a transform function and cannot be used as an expression`);
          } else {
            this.bag.error('DTL_UNKNOWN_FUNCTION', head.loc, `unknown function "${head.value}"${suggestion(head.value, this.reg.names('expression'))}`);
          }
          return literalToIr(null);
        }
        return this.call(spec, node, scope) ?? literalToIr(null);
      }
      default:
        // Numbers, booleans, null and dict literals are constants; transit strings inside dicts are typed.
        return { t: 'lit', json: stringifyValue(decodeInPlace(toPlain(node, { keepFloats: true })) as Value) };
    }
  }

  private stringExpr(s: string, loc: SourceLocation, scope: Scope): Expr {
    const parsed = parsePathString(s, scope.aliases);
    if (parsed && 'error' in parsed) {
      this.bag.error('DTL_BAD_PATH', loc, parsed.error);
      return literalToIr(null);
    }
    if (parsed) {
      if (parsed.variable === '_' && !scope.underscore) {
        this.bag.warning('DTL_UNKNOWN_VARIABLE', loc, `"_" is only bound inside function expressions (such as the first argument of "filter" or "sorted"); here it is null`);
      }
      if (parsed.variable === '_P' && scope.rule === 'default') {
        this.bag.warning('DTL_UNKNOWN_VARIABLE', loc, `"_P" is only bound inside rules applied with "apply"; in the default rule it is null`);
      }
      return { t: 'path', v: parsed.variable, keys: parsed.keys };
    }
    const mistyped = looksLikeMistypedVariable(s);
    if (mistyped) {
      this.bag.warning('DTL_UNKNOWN_VARIABLE', loc, `"${s}" is a plain string, not a path: "${mistyped}" is not a variable${suggestion(mistyped, ['_S', '_T', '_P', '_R', '_B'])}`);
    }
    return { t: 'lit', json: stringifyValue(decodeInPlace(s) as Value) };
  }

  private hops(node: PNode, scope: Scope, spec: FunctionSpec): HopsSpec | undefined {
    const plainLoc = node.loc;
    if (node.kind !== 'object') {
      this.bag.error('DTL_HOPS', plainLoc, `"${spec.name}" needs a HOPS_SPEC object with "datasets" and "where"`);
      return undefined;
    }
    const get = (k: string) => node.entries.find((e) => e.key === k);
    const known = new Set(['datasets', 'where', 'return', 'recurse', 'exclude_root', 'max_depth', 'track-dependencies', 'trace', 'subsets', 'prefilters']);
    for (const e of node.entries) {
      if (!known.has(e.key)) this.bag.error('DTL_HOPS', e.keyLoc, `unknown HOPS_SPEC property "${e.key}"${suggestion(e.key, known)}`);
    }
    const ds = get('datasets');
    const datasets: { dataset: string; alias: string }[] = [];
    if (!ds || ds.value.kind !== 'array' || ds.value.items.length === 0) {
      this.bag.error('DTL_HOPS', ds?.value.loc ?? plainLoc, 'HOPS_SPEC "datasets" must be a non-empty list of "dataset-id alias" strings');
      return undefined;
    }
    const trackNode = get('track-dependencies')?.value;
    const trackDependencies = trackNode?.kind === 'boolean' ? trackNode.value : true;
    for (const item of ds.value.items) {
      const parts = item.kind === 'string' ? item.value.trim().split(/\s+/) : [];
      if (parts.length < 1 || parts.length > 2 || parts[0] === '') {
        this.bag.error('DTL_HOPS', item.loc, 'each entry in "datasets" must be a string "dataset-id alias"');
        continue;
      }
      const alias = parts[1] ?? parts[0];
      if (['_S', '_T', '_P', '_R', '_B', '_'].includes(alias)) this.bag.error('DTL_HOPS', item.loc, `"${alias}" is a built-in variable and cannot be a dataset alias`);
      if (datasets.some((d) => d.alias === alias)) this.bag.error('DTL_HOPS', item.loc, `dataset alias "${alias}" is used twice`);
      datasets.push({ dataset: parts[0], alias });
      this.datasetRefs.push({ dataset: parts[0], loc: item.loc, via: 'hops', trackDependencies });
    }
    const inner: Scope = { ...scope, aliases: new Set([...scope.aliases, ...datasets.map((d) => d.alias)]) };
    const whereNode = get('where');
    const where: Expr[] = [];
    if (!whereNode) {
      this.bag.error('DTL_HOPS', plainLoc, 'HOPS_SPEC needs a "where" clause joining the datasets to the source entity');
    } else if (whereNode.value.kind === 'array' && whereNode.value.items.length > 0 && whereNode.value.items[0].kind === 'array') {
      for (const w of whereNode.value.items) where.push(this.expr(w, inner));
    } else {
      where.push(this.expr(whereNode.value, inner));
    }
    this.checkJoins(where, datasets, whereNode?.value.loc ?? plainLoc);
    const recurse = boolOption(get('recurse')?.value, false);
    const excludeRoot = boolOption(get('exclude_root')?.value, false);
    const maxDepthNode = get('max_depth')?.value;
    let maxDepth: number | null = 10;
    if (maxDepthNode) {
      if (maxDepthNode.kind === 'null') maxDepth = null;
      else if (maxDepthNode.kind === 'number' && /^\d+$/.test(maxDepthNode.text)) maxDepth = Number(maxDepthNode.text);
      else this.bag.error('DTL_HOPS', maxDepthNode.loc, '"max_depth" must be a non-negative integer or null');
    }
    const out: HopsSpec = { t: 'hops', datasets, where, recurse, excludeRoot, maxDepth, trackDependencies };
    const ret = get('return');
    if (ret) {
      if (recurse) this.bag.error('DTL_HOPS', ret.keyLoc, '"return" cannot be combined with "recurse"');
      if (ret.value.kind === 'string' && !parsePathString(ret.value.value, inner.aliases)) {
        const aliases = ret.value.value.split(',').map((a) => a.trim());
        for (const a of aliases) {
          if (!inner.aliases.has(a)) this.bag.error('DTL_HOPS', ret.value.loc, `"return" names alias "${a}", which is not in "datasets"${suggestion(a, inner.aliases)}`);
        }
        out.return = { aliases };
      } else {
        out.return = { expr: this.expr(ret.value, inner) };
      }
    }
    const subsetsNode = get('subsets') ?? get('prefilters');
    if (subsetsNode) {
      if (subsetsNode.value.kind !== 'object') this.bag.error('DTL_HOPS', subsetsNode.value.loc, '"subsets" must be an object keyed by dataset alias');
      else {
        out.subsets = {};
        for (const e of subsetsNode.value.entries) {
          if (!datasets.some((d) => d.alias === e.key)) this.bag.error('DTL_HOPS', e.keyLoc, `"subsets" names alias "${e.key}", which is not in "datasets"`);
          out.subsets[e.key] = this.expr(e.value, scope);
        }
      }
    }
    const trace = get('trace')?.value;
    if (trace?.kind === 'string') out.trace = trace.value;
    return out;
  }

  /** Every alias must be reachable from the source entity (or an earlier alias) through `eq` joins, also inside `and` and `or`. */
  private checkJoins(where: Expr[], datasets: { alias: string }[], loc: SourceLocation): void {
    const edges: [string, string][] = [];
    const visit = (e: Expr) => {
      if (e.t !== 'call') return;
      if (e.fn === 'eq' && e.args.length === 2) {
        const vars = e.args.map((a) => (a.t === 'path' ? a.v : a.t === 'call' ? firstVariable(a) : undefined));
        if (vars[0] && vars[1] && vars[0] !== vars[1]) edges.push([vars[0], vars[1]]);
      }
      // Joins inside "or" connect too: the alias is then scanned and the "or" filters it.
      if (e.fn === 'and' || e.fn === 'or') for (const a of e.args) if (a.t === 'call') visit(a);
    };
    where.forEach(visit);
    const reached = new Set(['_S', '_T', '_P', '_R', '_B', '_']);
    let grew = true;
    while (grew) {
      grew = false;
      for (const [a, b] of edges) {
        if (reached.has(a) && !reached.has(b)) {
          reached.add(b);
          grew = true;
        } else if (reached.has(b) && !reached.has(a)) {
          reached.add(a);
          grew = true;
        }
      }
    }
    for (const d of datasets) {
      if (!reached.has(d.alias)) this.bag.error('DTL_HOPS', loc, `dataset alias "${d.alias}" is not joined to the source entity by an "eq" in "where"`);
    }
  }
}

function firstVariable(e: Expr): string | undefined {
  if (e.t === 'path') return e.v;
  if (e.t === 'call') {
    for (const a of e.args) {
      if (a.t === 'path' || a.t === 'call') {
        const v = firstVariable(a);
        if (v) return v;
      }
    }
  }
  return undefined;
}

function boolOption(node: PNode | undefined, dflt: boolean): boolean {
  return node?.kind === 'boolean' ? node.value : dflt;
}

export function literalValue(a: Arg | undefined): { value: Value } | undefined {
  if (!a || a.t !== 'lit') return undefined;
  return { value: decodeLiteral(a.json) };
}

export function decodeLiteral(json: string): Value {
  return decodeInPlace(parseJsonLossless(json, true));
}
