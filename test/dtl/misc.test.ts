import { describe, expect, it } from 'vitest';
import { diagnose, evalJson, transformJson } from './helpers.js';
import { murmur3x64_128 } from '../../compiler/dtl/functions/murmur3.js';
import { DiagnosticBag, formatDiagnostic } from '../../compiler/diagnostics.js';
import { fromPlain } from '../../compiler/parse/tree.js';
import { DtlAnalyzer } from '../../compiler/dtl/analyze.js';
import { CompiledDtl, compileExpression } from '../../compiler/dtl/compiled.js';
import { DtlContext } from '../../compiler/dtl/runtime.js';
import { decodeInPlace, encode } from '../../compiler/values/transit.js';
import { DateTime, type Dict, type Value } from '../../compiler/values/types.js';
import type { MiscHooks } from '../../compiler/dtl/functions/misc.js';

/** Straightforward BigInt version of MurmurHash3 x64 128, to cross-check the 32-bit-halves one. */
function reference(data: Uint8Array, seed: number): bigint {
  const M = (1n << 64n) - 1n;
  const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & M;
  const mix = (k: bigint) => {
    k ^= k >> 33n;
    k = (k * 0xff51afd7ed558ccdn) & M;
    k ^= k >> 33n;
    k = (k * 0xc4ceb9fe1a85ec53n) & M;
    return k ^ (k >> 33n);
  };
  const c1 = 0x87c37b91114253d5n;
  const c2 = 0x4cf5ad432745937fn;
  const word = (at: number, n: number) => {
    let v = 0n;
    for (let j = n - 1; j >= 0; j--) v = (v << 8n) | BigInt(data[at + j]);
    return v;
  };
  let h1 = BigInt(seed);
  let h2 = BigInt(seed);
  const blocks = Math.floor(data.length / 16);
  for (let b = 0; b < blocks; b++) {
    h1 ^= (rotl((word(b * 16, 8) * c1) & M, 31n) * c2) & M;
    h1 = (((rotl(h1, 27n) + h2) & M) * 5n + 0x52dce729n) & M;
    h2 ^= (rotl((word(b * 16 + 8, 8) * c2) & M, 33n) * c1) & M;
    h2 = (((rotl(h2, 31n) + h1) & M) * 5n + 0x38495ab5n) & M;
  }
  const rest = data.length % 16;
  const t = blocks * 16;
  if (rest > 8) h2 ^= (rotl((word(t + 8, rest - 8) * c2) & M, 33n) * c1) & M;
  if (rest > 0) h1 ^= (rotl((word(t, Math.min(rest, 8)) * c1) & M, 31n) * c2) & M;
  h1 ^= BigInt(data.length);
  h2 ^= BigInt(data.length);
  h1 = (h1 + h2) & M;
  h2 = (h2 + h1) & M;
  h1 = mix(h1);
  h2 = mix(h2);
  h1 = (h1 + h2) & M;
  h2 = (h2 + h1) & M;
  return (h2 << 64n) | h1;
}

/** Evaluates an expression with extra hooks on the context. */
function evalWithHooks(expression: unknown, source: unknown, hooks: MiscHooks): unknown {
  const bag = new DiagnosticBag();
  const analyzer = new DtlAnalyzer(bag);
  const analyzed = analyzer.analyzeRules(fromPlain({ default: [] }, { file: 't', line: 1, column: 1 }));
  const expr = analyzer.analyzeExpression(fromPlain(expression, { file: 't', line: 1, column: 1 }), ['default']);
  if (bag.items.some((d) => d.severity === 'error')) throw new Error(bag.items.map(formatDiagnostic).join('\n'));
  const fn = compileExpression(expr, analyzed!.program, { namespaces: null, idRequired: false });
  const X = Object.assign(new DtlContext(), hooks);
  return encode(fn(decodeInPlace(structuredClone(source)), {}, X));
}

describe('hash128', () => {
  it('hashes strings as UTF-8 and bytes as they are', () => {
    const abc = evalJson(['hash128', 'murmur3', 'abc']);
    expect(typeof abc).toBe('bigint');
    expect(evalJson(['hash128', 'murmur3', '~bYWJj'])).toBe(abc);
    expect(evalJson(['hash128', 'murmur3', 'æøå'])).toBe(reference(new TextEncoder().encode('æøå'), 0));
    // the empty input with seed 0 hashes to 0 (a small integer is a plain number)
    expect(reference(new Uint8Array(0), 0)).toBe(0n);
    expect(evalJson(['hash128', 'murmur3', ''])).toBe(0);
  });

  it('matches the published seeded example and takes the seed modulo 2^32', () => {
    expect(evalJson(['hash128', 'murmur3', 42, 'foo'])).toBe(215966891540331383248189432718888555506n);
    expect(evalJson(['hash128', 'murmur3', 4294967338, 'foo'])).toBe(215966891540331383248189432718888555506n);
    expect(evalJson(['hash128', 'murmur3', '_S.seed', 'foo'], { source: { seed: 42 } })).toBe(215966891540331383248189432718888555506n);
  });

  it('hashes each string or bytes value of a list and skips the rest', () => {
    const out = evalJson(['hash128', 'murmur3', ['list', 'x', 1, null, true, ['list', 'nested'], 'y']]) as bigint[];
    expect(out).toHaveLength(2);
    expect(out[0]).toBe(evalJson(['hash128', 'murmur3', 'x']));
    expect(evalJson(['hash128', 'murmur3', 17])).toBeNull();
    expect(evalJson(['hash128', 'murmur3', null])).toBeNull();
  });

  it('agrees with a reference implementation on random input of every tail length', () => {
    let state = 12345;
    const rnd = () => (state = (state * 1103515245 + 12345) & 0x7fffffff);
    for (let len = 0; len < 70; len++) {
      const data = new Uint8Array(len).map(() => rnd() & 0xff);
      const seed = len % 2 ? rnd() : 0;
      expect(murmur3x64_128(data, seed)).toBe(reference(data, seed));
    }
  });

  it('rejects other algorithms and bad seeds', () => {
    expect(diagnose({ default: [['add', 'h', ['hash128', 'md5', '_S.x']]] }).join('\n')).toMatch(/murmur3/);
    expect(() => evalJson(['hash128', '_S.a', 'x'], { source: { a: 'sha1' } })).toThrow(/murmur3/);
    expect(() => evalJson(['hash128', 'murmur3', 'seed', 'x'])).toThrow(/seed/);
  });
});

describe('literal', () => {
  it('returns its argument unevaluated', () => {
    expect(evalJson(['literal', '_S.foo'], { source: { foo: 1 } })).toBe('_S.foo');
    expect(evalJson(['literal', ['concat', 'a', 'b']])).toEqual(['concat', 'a', 'b']);
    expect(evalJson(['literal', { a: ['list', 1] }])).toEqual({ a: ['list', 1] });
    expect(evalJson(['literal', null])).toBeNull();
    expect(evalJson(['literal', 12345678901234567890n])).toBe(12345678901234567890n);
  });

  it('keeps typed transit values typed', () => {
    expect(evalJson(['is-datetime', ['literal', '~t2020-01-01T00:00:00Z']])).toBe(true);
  });
});

describe('tuples', () => {
  it('builds the cartesian product, ignoring nulls', () => {
    expect(evalJson(['tuples'])).toEqual([]);
    expect(evalJson(['tuples', 'a'])).toEqual([['a']]);
    expect(evalJson(['tuples', ['list', 'a', 'b'], ['list', 1, null, 2], 'z'])).toEqual([
      ['a', 1, 'z'],
      ['a', 2, 'z'],
      ['b', 1, 'z'],
      ['b', 2, 'z'],
    ]);
  });

  it('is empty when any argument has no values', () => {
    expect(evalJson(['tuples', ['list', 1, 2], null])).toEqual([]);
    expect(evalJson(['tuples', ['list'], 1])).toEqual([]);
  });

  it('keeps nested lists and dicts as tuple members', () => {
    expect(evalJson(['tuples', ['list', ['list', 1, 2]], '~f1.5'])).toEqual([[[1, 2], '~f1.5']]);
    expect(evalJson(['tuples', '_S.k', '_S.v'], { source: { k: 'a', v: { x: 1 } } })).toEqual([['a', { x: 1 }]]);
  });
});

describe('is-changed', () => {
  it('is null without a previous version or a runtime hook', () => {
    expect(evalJson(['is-changed', '_.name'], { source: { name: 'a' } })).toBeNull();
    expect(evalWithHooks(['is-changed', '_.name'], { name: 'a' }, { previousVersion: () => null })).toBeNull();
    expect(evalWithHooks(['is-changed', '_.name'], { name: 'a' }, { previousVersion: () => undefined })).toBeNull();
  });

  it('compares the function result on both versions', () => {
    const prev = (p: Dict) => () => p;
    expect(evalWithHooks(['is-changed', '_.name'], { name: 'a' }, { previousVersion: prev({ name: 'b' }) })).toBe(true);
    expect(evalWithHooks(['is-changed', '_.name'], { name: 'a', x: 1 }, { previousVersion: prev({ name: 'a', x: 2 }) })).toBe(false);
    expect(evalWithHooks(['is-changed', ['list', '_.h', '_.w']], { h: 1, w: 2 }, { previousVersion: prev({ h: 1, w: 3 }) })).toBe(true);
    // 1 and 1.0 are the same value
    expect(evalWithHooks(['is-changed', '_.n'], { n: 1 }, { previousVersion: prev({ n: 1.5 - 0.5 }) })).toBe(false);
  });

  it('is true when either version is deleted', () => {
    expect(evalWithHooks(['is-changed', '_.name'], { name: 'a', _deleted: true }, { previousVersion: () => ({ name: 'a' }) })).toBe(true);
    expect(evalWithHooks(['is-changed', '_.name'], { name: 'a' }, { previousVersion: () => ({ name: 'a', _deleted: true }) })).toBe(true);
  });

  it('passes the root source entity to the hook, also inside applied rules', () => {
    const seen: Value[] = [];
    const X = Object.assign(new DtlContext(), { previousVersion: (e: Dict) => (seen.push(e._id), { _id: e._id, v: 1, items: [{ v: 0 }] }) });
    const rules = { default: [['copy', '_id'], ['add', 'c', ['is-changed', '_.v']], ['add', 'sub', ['apply', 'inner', '_S.items']]], inner: [['add', 'c', ['is-changed', '_.v']]] };
    const analyzed = new DtlAnalyzer(new DiagnosticBag()).analyzeRules(fromPlain(rules, { file: 't', line: 1, column: 1 }))!;
    const dtl = new CompiledDtl(analyzed.program, { idRequired: false });
    const out = dtl.transform({ _id: 'e1', v: 1, items: [{ v: 5 }] }, X).map((e) => encode(e));
    // inside "inner", `_` is still the root entity (v 1 in both versions)
    expect(out).toEqual([{ _id: 'e1', c: false, sub: [{ c: false }] }]);
    expect(seen).toEqual(['e1', 'e1']);
    // the plain context of the test helpers has no hook
    expect(transformJson(rules, [{ _id: 'e1', v: 1, items: [{ v: 5 }] }])).toEqual([{ _id: 'e1', c: null, sub: [{ c: null }] }]);
  });
});

describe('completeness', () => {
  it('asks the runtime hook, and is null without one', () => {
    expect(evalJson(['completeness', 'a', 'b'])).toBeNull();
    const when = new DateTime(1_000_000_000n);
    const hooks: MiscHooks = { completeness: (via, ds) => (via === 'down' && ds === 'up' ? when : null) };
    expect(evalWithHooks(['completeness', 'down', 'up'], {}, hooks)).toBe('~t1970-01-01T00:00:01Z');
    expect(evalWithHooks(['completeness', 'other', 'up'], {}, hooks)).toBeNull();
    expect(evalWithHooks(['completeness', 1, 'up'], {}, hooks)).toBeNull();
  });
});
