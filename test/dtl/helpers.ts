/** Test helpers: compile and evaluate DTL from plain JSON, through the real compiler. */
import { DiagnosticBag, formatDiagnostic } from '../../compiler/diagnostics.js';
import { fromPlain } from '../../compiler/parse/tree.js';
import { DtlAnalyzer } from '../../compiler/dtl/analyze.js';
import { CompiledDtl, compileExpression } from '../../compiler/dtl/compiled.js';
import { DtlContext, type HopsResolver } from '../../compiler/dtl/runtime.js';
import { decodeInPlace } from '../../compiler/values/transit.js';
import { encode } from '../../compiler/values/transit.js';
import type { Dict, Entity, Value } from '../../compiler/values/types.js';

const LOC = { file: 'test', line: 1, column: 1 };

export interface EvalOptions {
  source?: unknown;
  target?: unknown;
  rules?: Record<string, unknown>;
  namespaces?: { identity: string; property: string } | null;
  hops?: HopsResolver;
}

/** Evaluates an expression (JSON with transit strings) and returns the typed result. */
export function evalDtl(expression: unknown, opts: EvalOptions = {}): Value {
  const bag = new DiagnosticBag();
  const analyzer = new DtlAnalyzer(bag);
  const rules = { default: [], ...(opts.rules ?? {}) };
  const analyzed = analyzer.analyzeRules(fromPlain(rules, LOC));
  const expr = analyzer.analyzeExpression(fromPlain(expression, LOC), Object.keys(rules));
  const errors = bag.items.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(errors.map(formatDiagnostic).join('\n'));
  const fn = compileExpression(expr, analyzed!.program, { namespaces: opts.namespaces ?? null, idRequired: false });
  return fn(decodeInPlace(structuredClone(opts.source ?? {})), decodeInPlace(structuredClone(opts.target ?? {})) as Dict, new DtlContext({ hops: opts.hops ?? null }));
}

/** Evaluates and returns the result transit-encoded (easy to compare with toEqual). */
export function evalJson(expression: unknown, opts: EvalOptions = {}): unknown {
  return encode(evalDtl(expression, opts));
}

/** Runs rules over input entities and returns the emitted entities, transit-encoded. */
export function transformJson(rules: Record<string, unknown>, input: unknown[], opts: { namespaces?: { identity: string; property: string } | null; idRequired?: boolean; markFiltered?: boolean } = {}): unknown[] {
  const bag = new DiagnosticBag();
  const analyzed = new DtlAnalyzer(bag).analyzeRules(fromPlain(rules, LOC));
  const errors = bag.items.filter((d) => d.severity === 'error');
  if (errors.length || !analyzed) throw new Error(errors.map(formatDiagnostic).join('\n'));
  const dtl = new CompiledDtl(analyzed.program, { namespaces: opts.namespaces ?? null, idRequired: opts.idRequired ?? false, markFiltered: opts.markFiltered ?? false });
  const X = new DtlContext();
  return (decodeInPlace(structuredClone(input)) as Entity[]).flatMap((e) => dtl.transform(e, X).map((x) => encode(x)));
}

/** Diagnostics (formatted) for rules, without running them. */
export function diagnose(rules: unknown): string[] {
  const bag = new DiagnosticBag();
  new DtlAnalyzer(bag).analyzeRules(fromPlain(rules, LOC));
  return bag.items.map(formatDiagnostic);
}
