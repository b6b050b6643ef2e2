/**
 * The merge source's configuration: its aliased datasets and its equality rules, parsed with the
 * DTL compiler's analyzer and compiled with its code generator.
 *
 * Every rule is an `["eq", LEFT, RIGHT]` join (`equality`), or comes from a chain in
 * `equality_sets` (`[e1, e2, e3]` gives `eq(e1, e2)` and `eq(e2, e3)`). As in DTL joins, each side
 * references exactly one dataset alias; the side is compiled as an expression over `_S` bound to an
 * entity of that alias's dataset. Entities match under a rule when a value of the left side of one
 * overlaps a value of the right side of the other (null values never match).
 *
 * To find matches through a store index, each entity gets *tokens*: `L<rule>|<value key>` for
 * every value of a rule's left side that applies to its alias, `R<rule>|<value key>` for the right
 * side. An `L` token matches the `R` token with the same rest (and vice versa). `<rule>` is a short
 * hash of the rule's text, so reordering rules in the config keeps stored tokens valid; `<value
 * key>` is the store's index key, under which values DTL considers equal (1, 1.0) coincide.
 */
import { createHash } from 'node:crypto';
import { DtlAnalyzer } from '../../../compiler/dtl/analyze.js';
import { compileExpression } from '../../../compiler/dtl/compiled.js';
import type { Arg, Expr } from '../../../compiler/dtl/ir.js';
import { DtlContext, DtlRuntimeError } from '../../../compiler/dtl/runtime.js';
import { DiagnosticBag, type SourceLocation } from '../../../compiler/diagnostics.js';
import { fromPlain } from '../../../compiler/parse/tree.js';
import type { Entity, Value } from '../../../compiler/values/types.js';
import { indexKey } from '../../datasets/index-key.js';

export interface MergeDataset {
  dataset: string;
  alias: string;
  /** Position in `datasets` (the composite id's dataset number). */
  index: number;
}

export interface RuleSide {
  alias: string;
  /** The side as written, for error messages. */
  text: string;
  values(entity: Entity): Value;
}

export interface EqualityRule {
  /** Stable short hash of the rule; part of its tokens. */
  key: string;
  text: string;
  left: RuleSide;
  right: RuleSide;
}

const BUILTINS = new Set(['_S', '_T', '_P', '_R', '_B', '_']);

/** `"dataset-id alias"` entries (alias defaults to the dataset id, as in hops). */
export function parseDatasets(entries: unknown, what: string): MergeDataset[] {
  if (!Array.isArray(entries) || entries.length === 0) throw new Error(`${what}: "datasets" must be a non-empty list of "dataset-id alias" strings`);
  const out: MergeDataset[] = [];
  entries.forEach((item, index) => {
    const parts = typeof item === 'string' ? item.trim().split(/\s+/) : [];
    if (parts.length < 1 || parts.length > 2 || parts[0] === '') throw new Error(`${what}: "datasets" entry ${JSON.stringify(item)} must be a string "dataset-id alias"`);
    const dataset = parts[0];
    const alias = parts[1] ?? parts[0];
    if (BUILTINS.has(alias)) throw new Error(`${what}: "${alias}" is a built-in DTL variable and cannot be a dataset alias`);
    if (out.some((d) => d.dataset === dataset)) throw new Error(`${what}: dataset "${dataset}" appears more than once in "datasets"; each dataset can only be merged once`);
    if (out.some((d) => d.alias === alias)) throw new Error(`${what}: the alias "${alias}" is used for more than one dataset in "datasets"`);
    out.push({ dataset, alias, index });
  });
  return out;
}

function variablesOf(a: Arg, out: Set<string>): Set<string> {
  if (a.t === 'path') out.add(a.v);
  else if (a.t === 'call') for (const x of a.args) variablesOf(x, out);
  else if (a.t === 'fn') variablesOf(a.body, out);
  return out;
}

function hasJoin(a: Arg): boolean {
  if (a.t === 'hops') return true;
  if (a.t === 'call') return a.args.some(hasJoin);
  if (a.t === 'fn') return hasJoin(a.body);
  return false;
}

/** The expression with `alias.path` turned into `_S.path`. */
function rebind<T extends Arg>(a: T, alias: string): T {
  if (a.t === 'path') return (a.v === alias ? { ...a, v: '_S' } : a) as T;
  if (a.t === 'call') return { ...a, args: a.args.map((x) => rebind(x, alias)) } as T;
  if (a.t === 'fn') return { ...a, body: rebind(a.body, alias) } as T;
  return a;
}

function text(v: unknown): string {
  return JSON.stringify(v);
}

/** Parses and compiles the rules of `equality` and `equality_sets`. */
export function parseEquality(config: Record<string, unknown>, datasets: MergeDataset[], what: string, loc: SourceLocation, namespaces: { identity: string; property: string } | null): EqualityRule[] {
  const aliases = new Set(datasets.map((d) => d.alias));
  const raw: unknown[] = [];
  if (config.equality !== undefined) {
    if (!Array.isArray(config.equality)) throw new Error(`${what}: "equality" must be a list of ["eq", LEFT, RIGHT] rules`);
    raw.push(...config.equality);
  }
  if (config.equality_sets !== undefined) {
    if (!Array.isArray(config.equality_sets)) throw new Error(`${what}: "equality_sets" must be a list of lists of value expressions`);
    for (const set of config.equality_sets) {
      if (!Array.isArray(set) || set.length === 0) throw new Error(`${what}: each entry of "equality_sets" must be a non-empty list of value expressions; got ${text(set)}`);
      for (let i = 0; i + 1 < set.length; i++) raw.push(['eq', set[i], set[i + 1]]);
    }
  }
  const X = new DtlContext();
  const seen = new Set<string>();
  const rules: EqualityRule[] = [];
  for (const rule of raw) {
    const ruleText = text(rule);
    if (!Array.isArray(rule) || rule.length !== 3 || rule[0] !== 'eq') throw new Error(`${what}: the equality rule ${ruleText} must be an ["eq", LEFT, RIGHT] expression`);
    const bag = new DiagnosticBag();
    const analyzer = new DtlAnalyzer(bag);
    const scope = { underscore: false, aliases, rule: 'default' } as Parameters<DtlAnalyzer['expr']>[1];
    const ir = analyzer.expr(fromPlain(rule, loc), scope);
    const errors = bag.items.filter((d) => d.severity === 'error');
    if (errors.length) throw new Error(`${what}: the equality rule ${ruleText} is not valid DTL: ${errors.map((d) => d.message).join('; ')}`);
    if (ir.t !== 'call' || ir.fn !== 'eq' || ir.args.length !== 2) throw new Error(`${what}: the equality rule ${ruleText} must be an ["eq", LEFT, RIGHT] expression`);
    const sides = ir.args.map((side, i): RuleSide => {
      const sideText = text(rule[i + 1]);
      if (hasJoin(side)) throw new Error(`${what}: the equality rule ${ruleText} cannot use hops in ${sideText}`);
      const vars = [...variablesOf(side, new Set())];
      const used = vars.filter((v) => aliases.has(v));
      const builtins = vars.filter((v) => BUILTINS.has(v) && v !== '_');
      if (builtins.length) throw new Error(`${what}: the equality rule ${ruleText} refers to ${builtins.map((b) => `"${b}"`).join(', ')} in ${sideText}; the sides of an equality rule refer to the dataset aliases (${[...aliases].join(', ')})`);
      if (used.length !== 1) {
        throw new Error(`${what}: each side of the equality rule ${ruleText} must refer to exactly one dataset alias (${[...aliases].join(', ')}); ${sideText} refers to ${used.length ? used.map((a) => `"${a}"`).join(' and ') : 'none'}`);
      }
      const fn = compileExpression(rebind(side as Expr, used[0]), { rules: {} }, { namespaces });
      return {
        alias: used[0],
        text: sideText,
        values: (entity: Entity) => fn(entity, {}, X),
      };
    });
    const key = createHash('sha1').update(ruleText).digest('hex').slice(0, 10);
    if (seen.has(key)) continue;
    seen.add(key);
    rules.push({ key, text: ruleText, left: sides[0], right: sides[1] });
  }
  return rules;
}

/** The tokens of an entity of `alias`'s dataset under the rules (none for values that are null). */
export function tokensFor(rules: EqualityRule[], alias: string, entity: Entity, describe: () => string): string[] {
  const out = new Set<string>();
  for (const rule of rules) {
    for (const [side, tag] of [
      [rule.left, 'L'],
      [rule.right, 'R'],
    ] as const) {
      if (side.alias !== alias) continue;
      let v: Value;
      try {
        v = side.values(entity);
      } catch (err) {
        const message = err instanceof DtlRuntimeError ? err.toString() : err instanceof Error ? err.message : String(err);
        throw new Error(`${describe()}: the equality rule ${rule.text} failed on ${side.text}: ${message}`);
      }
      const values = Array.isArray(v) ? v : [v];
      for (const x of values) {
        const k = indexKey(x);
        if (k !== null) out.add(`${tag}${rule.key}|${k}`);
      }
    }
  }
  return [...out];
}

/** The token an entity must have to match `token`. */
export function partnerToken(token: string): string {
  return (token.charCodeAt(0) === 76 /* L */ ? 'R' : 'L') + token.slice(1);
}
