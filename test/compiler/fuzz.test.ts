/**
 * Property test: thousands of random and mutated DTL rule sets go through the compiler. It must
 * never throw: every problem is a diagnostic. Rule sets that compile must also generate valid
 * JavaScript, and evaluating them may only fail with a located DTL runtime error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DiagnosticBag } from '../../compiler/diagnostics.js';
import { fromPlain, type PNode } from '../../compiler/parse/tree.js';
import { parseJsonWithPositions } from '../../compiler/parse/json.js';
import { DtlAnalyzer } from '../../compiler/dtl/analyze.js';
import { CompiledDtl } from '../../compiler/dtl/compiled.js';
import { DtlContext, DtlRuntimeError } from '../../compiler/dtl/runtime.js';
import { MemoryResolver } from '../../compiler/dtl/memory-resolver.js';
import { registry } from '../../compiler/dtl/registry.js';
import { decodeInPlace } from '../../compiler/values/transit.js';

const LOC = { file: 'fuzz', line: 1, column: 1 };
const expressionNames = registry.names('expression');
// sleep! really sleeps (for up to an hour); random arguments would stall the run.
const transformNames = registry.names('transform').filter((n) => n !== 'sleep!');

const literal = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('', 'a', 'A b', '~t2020-01-02T03:04:05Z', '~:ns:x', '~rhttp://x/', '~u9f598f65-eea5-4906-a8f5-82f6d8e69726', '~bYWJj', '~f1.5', '%Y-%m-%d', '*', 'a*'),
  fc.constantFrom('_S.a', '_S.b.c', '_S.', '_T.a', '_.', '_.a', '_P._S.a', '_R._S.a', '_B.x', "_S.'q.x'", '_S..', '_X.a', 'x.y'),
);

const expr: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  e: fc.oneof({ depthSize: 'small', withCrossShrink: true }, literal, literal, tie('call'), fc.dictionary(fc.constantFrom('a', 'b'), literal, { maxKeys: 2 })),
  call: fc.tuple(fc.constantFrom(...expressionNames, 'nope', 'upperr'), fc.array(tie('e'), { maxLength: 4 })).map(([n, args]) => [n, ...args]),
})).e;

const transform = fc.tuple(fc.constantFrom(...transformNames, 'ad', 'concat'), fc.array(expr, { maxLength: 4 })).map(([n, args]) => [n, ...args]);
const rules = fc.record({ default: fc.array(transform, { maxLength: 6 }), other: fc.array(transform, { maxLength: 3 }) });

const entity = fc.record({ _id: fc.constantFrom('e1', 'e2'), a: literal, b: fc.oneof(literal, fc.record({ c: literal }), fc.array(literal, { maxLength: 3 })) });

function compileRules(node: PNode): { compiled?: CompiledDtl; bag: DiagnosticBag } {
  const bag = new DiagnosticBag();
  const analyzed = new DtlAnalyzer(bag).analyzeRules(node);
  if (!analyzed || bag.hasErrors) return { bag };
  return { bag, compiled: new CompiledDtl(analyzed.program, { idRequired: false }) };
}

function mutate(text: string, at: number, insert: string, cut: number): string {
  const i = Math.min(at, text.length);
  return text.slice(0, i) + insert + text.slice(i + cut);
}

describe('DTL compiler fuzzing', () => {
  it('never throws on random rule sets; compiled ones run or fail with a located DTL error', () => {
    fc.assert(
      fc.property(rules, fc.array(entity, { minLength: 1, maxLength: 3 }), (r, inputs) => {
        const { compiled, bag } = compileRules(fromPlain(r, LOC));
        for (const d of bag.items) expect(d.code).toMatch(/^[A-Z_]+$/);
        if (!compiled) return;
        const X = new DtlContext({ hops: new MemoryResolver({}) });
        for (const input of inputs) {
          try {
            compiled.transform(decodeInPlace(structuredClone(input)) as never, X);
          } catch (err) {
            if (!(err instanceof DtlRuntimeError)) throw err;
            expect(err.at).toMatch(/^fuzz:\d+:\d+$/);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws on mutated rule text', () => {
    const base = JSON.stringify({ default: [['copy', '*'], ['add', 'n', ['concat', '_S.a', ' ', ['upper', '_S.b']]], ['if', ['gt', '_S.x', 1], ['add', 'big', true]], ['add', 'o', ['apply', 'r', '_S.orders']]], r: [['copy', 'amount']] }, null, 1);
    fc.assert(
      fc.property(fc.nat(base.length), fc.constantFrom('', '[', ']', '"', ',', '{', '}', '"_S.', 'null', '1', '["', '"add"'), fc.nat(4), (at, insert, cut) => {
        const text = mutate(base, at, insert, cut);
        const parsed = parseJsonWithPositions(text, 'fuzz.json');
        if (!parsed.node) {
          expect(parsed.diagnostics[0].code).toBe('CONFIG_SYNTAX');
          return;
        }
        compileRules(parsed.node);
      }),
      { numRuns: 3000 },
    );
  });
});
