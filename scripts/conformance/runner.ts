/**
 * Runs DTL conformance vectors (format: ../shared/conformance/README.md) through the real compiler:
 * positioned tree → analyzer → IR → generated JavaScript → evaluation.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, basename } from 'node:path';
import { DiagnosticBag, formatDiagnostic } from '../../compiler/diagnostics.js';
import { fromPlain } from '../../compiler/parse/tree.js';
import { parseJsonLossless } from '../../compiler/values/lossless-json.js';
import { decodeInPlace } from '../../compiler/values/transit.js';
import { DtlAnalyzer } from '../../compiler/dtl/analyze.js';
import { CompiledDtl, compileExpression } from '../../compiler/dtl/compiled.js';
import { DtlContext } from '../../compiler/dtl/runtime.js';
import { MemoryResolver } from '../../compiler/dtl/memory-resolver.js';
import { stringifyValue } from '../../compiler/values/json.js';
import type { Dict, Entity, Value } from '../../compiler/values/types.js';
import { decodeExpected, matches } from './compare.js';

export interface ConformanceCase {
  id: string;
  doc: string;
  function: string;
  kind: 'expression' | 'transform';
  expected?: unknown;
  expected_error?: boolean;
  pipe?: { _id?: string; namespaced_identifiers?: boolean; namespaces?: { identity?: string; property?: string } };
  datasets?: Record<string, unknown[]>;
  expression?: unknown;
  source?: unknown;
  target?: unknown;
  rules?: Record<string, unknown>;
  input?: unknown[];
  tolerance?: number;
}

export interface CaseResult {
  id: string;
  function: string;
  file: string;
  passed: boolean;
  detail?: string;
}

export function loadCases(dirs: string[]): { file: string; cases: ConformanceCase[] }[] {
  const out: { file: string; cases: ConformanceCase[] }[] = [];
  for (const dir of dirs) {
    const files = statSync(dir).isDirectory()
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.json'))
          .sort()
          .map((f) => join(dir, f))
      : [dir];
    for (const f of files) out.push({ file: f, cases: parseJsonLossless(readFileSync(f, 'utf8'), true) as ConformanceCase[] });
  }
  return out;
}

function show(v: unknown): string {
  try {
    const s = stringifyValue(v as Value);
    return s.length > 300 ? s.slice(0, 300) + '…' : s;
  } catch {
    return String(v);
  }
}

function namespaces(c: ConformanceCase) {
  if (!c.pipe?.namespaced_identifiers) return null;
  const id = c.pipe._id ?? 'pipe';
  return { identity: c.pipe.namespaces?.identity ?? id, property: c.pipe.namespaces?.property ?? id };
}

const LOC = (id: string) => ({ file: `case:${id}`, line: 1, column: 1 });

export function runCase(c: ConformanceCase): CaseResult {
  const base = { id: c.id, function: c.function, file: basename(c.doc ?? '') };
  try {
    const bag = new DiagnosticBag();
    const analyzer = new DtlAnalyzer(bag);
    const opts = { namespaces: namespaces(c), idRequired: false, markFiltered: false, pipeId: c.pipe?._id };
    const resolver = new MemoryResolver(decodeInPlace(c.datasets ?? {}) as Record<string, Entity[]>);
    const X = new DtlContext({ hops: resolver });
    let actual: Value;
    if (c.kind === 'expression') {
      const rulesNode = fromPlain(c.rules ?? { default: [] }, LOC(c.id));
      const rules = (c.rules ?? {}) as Record<string, unknown>;
      const analyzed = analyzer.analyzeRules(rulesNode.kind === 'object' && !('default' in rules) ? fromPlain({ default: [], ...rules }, LOC(c.id)) : rulesNode);
      const expr = analyzer.analyzeExpression(fromPlain(c.expression, LOC(c.id)), Object.keys(rules));
      const errors = bag.items.filter((d) => d.severity === 'error');
      if (errors.length) return finishError(c, base, errors.map(formatDiagnostic).join('; '));
      const fn = compileExpression(expr, analyzed!.program, opts);
      actual = fn(decodeInPlace(structuredClone(c.source ?? {})), decodeInPlace(structuredClone(c.target ?? {})) as Dict, X);
    } else {
      const analyzed = analyzer.analyzeRules(fromPlain(c.rules, LOC(c.id)));
      const errors = bag.items.filter((d) => d.severity === 'error');
      if (errors.length || !analyzed) return finishError(c, base, errors.map(formatDiagnostic).join('; '));
      const dtl = new CompiledDtl(analyzed.program, opts);
      const initial = c.target === undefined ? undefined : (decodeInPlace(structuredClone(c.target)) as Dict);
      const out: Value[] = [];
      for (const input of (decodeInPlace(structuredClone(c.input ?? [])) as Entity[]) ?? []) out.push(...dtl.transform(input, X, initial));
      actual = out;
    }
    if (c.expected_error) return { ...base, passed: false, detail: `expected an error, got ${show(actual)}` };
    const expected = decodeExpected(c.expected);
    const ok = c.kind === 'transform' ? transformsMatch(actual as Value[], expected as Value[], c.tolerance) : matches(actual, expected, c.tolerance);
    return ok ? { ...base, passed: true } : { ...base, passed: false, detail: `expected ${show(expected)}, got ${show(actual)}` };
  } catch (err) {
    if (c.expected_error) return { ...base, passed: true };
    return { ...base, passed: false, detail: `threw ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** Transform outputs: created entities may come in any order relative to the target. */
function transformsMatch(actual: Value[], expected: Value[], tolerance?: number): boolean {
  if (actual.length !== expected.length) return false;
  const used = new Set<number>();
  return expected.every((x) => {
    const i = actual.findIndex((a, j) => !used.has(j) && matches(a, x, tolerance));
    if (i < 0) return false;
    used.add(i);
    return true;
  });
}

function finishError(c: ConformanceCase, base: Omit<CaseResult, 'passed'>, message: string): CaseResult {
  if (c.expected_error) return { ...base, passed: true };
  return { ...base, passed: false, detail: `compile error: ${message}` };
}

export function runAll(dirs: string[]): CaseResult[] {
  const results: CaseResult[] = [];
  for (const { cases } of loadCases(dirs)) for (const c of cases) results.push(runCase(c));
  return results;
}
