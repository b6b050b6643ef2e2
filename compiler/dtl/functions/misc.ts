/**
 * DTL misc functions (dtl-functions-misc): hash128, literal, tuples, and the two functions that
 * need pipe state, completeness and is-changed.
 *
 * Pipe state reaches compiled DTL through optional hooks on the evaluation context (`X`, a
 * DtlContext), declared below as `MiscHooks`. The runtime sets them when it can answer; without a
 * hook each function returns its documented "unknown" result (null).
 */
import { family, type CheckContext } from '../spec.js';
import { DtlRuntimeError } from '../runtime.js';
import { Bytes, DateTime, Decimal, DtlFloat, isDict, normaliseInteger, type Dict, type Value } from '../../values/types.js';
import { valuesEqual } from '../../values/compare.js';
import { murmur3x64_128 } from './murmur3.js';

/**
 * Optional hooks the runtime may attach to the DtlContext for the functions of this family.
 *
 * - `previousVersion(current)`: for `is-changed`. Given the current source entity of the pipe
 *   (the root `_S`), return the previous version of that entity in the source dataset: an entity
 *   (deleted versions included, with `_deleted: true`), `null` when there is no previous version,
 *   or `undefined` when the pipe cannot know (its source is not a dataset source).
 * - `completeness(viaDatasetId, datasetId)`: for `completeness`. The completeness timestamp of
 *   `datasetId` as recorded by the pipe writing `viaDatasetId` (the same id: the dataset's own
 *   current value), or `null` when either dataset is unknown or has no such record.
 */
export interface MiscHooks {
  previousVersion?: (current: Dict) => Dict | null | undefined;
  completeness?: (viaDatasetId: string, datasetId: string) => DateTime | null | undefined;
}

// ---------------------------------------------------------------------------------------------
// hash128

const utf8 = new TextEncoder();

function hashOne(x: Value, seed: number): Value | undefined {
  if (typeof x === 'string') return normaliseInteger(murmur3x64_128(utf8.encode(x), seed));
  if (x instanceof Bytes) return normaliseInteger(murmur3x64_128(x.data, seed));
  return undefined;
}

/** The seed as an unsigned 32-bit value (MurmurHash3 seeds are 32 bits wide). */
function seedValue(v: Value): number {
  let n: bigint | null = null;
  if (typeof v === 'number' && Number.isInteger(v)) n = BigInt(v);
  else if (typeof v === 'bigint') n = v;
  else if (v instanceof DtlFloat && Number.isFinite(v.value)) n = BigInt(v.value);
  else if (v instanceof Decimal && v.isInteger()) n = BigInt(v.toFixed(0));
  if (n === null) throw new DtlRuntimeError(`the hash128 seed must be an integer, got ${v === null ? 'null' : typeof v}`);
  return Number(BigInt.asUintN(32, n));
}

function checkAlgorithm(algorithm: Value): void {
  if (algorithm !== 'murmur3') throw new DtlRuntimeError(`unsupported hash algorithm ${JSON.stringify(algorithm)}; the only one is "murmur3"`);
}

/** 128-bit MurmurHash3 of strings (their UTF-8 bytes) and bytes; other values are skipped. */
export function hash128(algorithm: Value, seed: Value, v: Value): Value {
  checkAlgorithm(algorithm);
  const s = seed === undefined ? 0 : seedValue(Array.isArray(seed) ? (seed[0] ?? null) : seed);
  if (Array.isArray(v)) {
    const out: Value[] = [];
    for (const x of v) {
      const h = hashOne(x, s);
      if (h !== undefined) out.push(h);
    }
    return out;
  }
  return hashOne(v, s) ?? null;
}

function checkHashAlgorithm(c: CheckContext): void {
  const lit = c.literal(0);
  if (lit && lit.value !== 'murmur3') c.diagnostics.error('DTL_ARGUMENT', c.argNodes[0].loc, `"hash128": the only supported algorithm is "murmur3"`);
}

// ---------------------------------------------------------------------------------------------
// tuples

/** The cartesian product of the arguments taken as lists (nulls ignored), as a list of lists. */
export function tuples(...args: Value[]): Value[] {
  let out: Value[][] = args.length ? [[]] : [];
  for (const a of args) {
    const items: Value[] = [];
    if (Array.isArray(a)) {
      for (const x of a) if (x !== null && x !== undefined) items.push(x);
    } else if (a !== null && a !== undefined) items.push(a);
    const next: Value[][] = [];
    for (const prefix of out) for (const x of items) next.push([...prefix, x]);
    out = next;
    if (out.length === 0) break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// is-changed / completeness

function isDeleted(e: Dict): boolean {
  return e._deleted === true;
}

/**
 * True when `f` gives different results for the current and the previous version of the pipe's
 * source entity; true when either version is deleted; null when there is no previous version or
 * the runtime cannot tell.
 */
export function isChanged(f: (u: Value) => Value, R: Dict, X: MiscHooks): Value {
  const current = R._S;
  if (!X.previousVersion || !isDict(current)) return null;
  const previous = X.previousVersion(current);
  if (previous === null || previous === undefined) return null;
  if (isDeleted(current) || isDeleted(previous)) return true;
  return !valuesEqual(f(current), f(previous));
}

/** The completeness timestamp of `datasetId` as seen through `viaDatasetId`, or null. */
export function completeness(via: Value, datasetId: Value, X: MiscHooks): Value {
  if (typeof via !== 'string' || typeof datasetId !== 'string' || !X.completeness) return null;
  return X.completeness(via, datasetId) ?? null;
}

// ---------------------------------------------------------------------------------------------

export default family('misc', (def) => {
  def.expression({
    name: 'hash128',
    doc: 'The 128-bit MurmurHash3 (x64 variant, unsigned) of strings (UTF-8) and bytes, with an optional integer seed; other values are skipped.',
    min: 2,
    max: 3,
    check: checkHashAlgorithm,
    emit: (e) => (e.count === 3 ? `${e.use(hash128)}(${e.arg(0)}, ${e.arg(1)}, ${e.arg(2)})` : `${e.use(hash128)}(${e.arg(0)}, undefined, ${e.arg(1)})`),
  });

  def.expression({
    name: 'literal',
    doc: 'Returns its argument as it is written, without evaluating it.',
    args: ['raw'],
    emit: (e) => e.arg(0),
  });

  def.expression({
    name: 'tuples',
    doc: 'The cartesian product of the argument values (each taken as a list, nulls ignored) as a list of tuples; handy for joins on composite keys.',
    min: 0,
    emit: (e) => (e.count === 0 ? '[]' : `${e.use(tuples)}(${e.args().join(', ')})`),
  });

  def.expression({
    name: 'is-changed',
    doc: "True when the function expression gives different results for the current and the previous version of the pipe's source entity (true if either is deleted, null when there is no previous version).",
    args: ['fn'],
    emit: (e) => `${e.use(isChanged)}(${e.arg(0)}, ${e.vars.R}, ${e.vars.X})`,
  });

  def.expression({
    name: 'completeness',
    doc: 'The completeness timestamp of a dataset as recorded via a downstream dataset, or null when unknown.',
    args: ['expr', 'expr'],
    emit: (e) => `${e.use(completeness)}(${e.arg(0)}, ${e.arg(1)}, ${e.vars.X})`,
  });
});
