/**
 * What compiled DTL needs at run time: property access, the evaluation context, rule application
 * and error locations. Generated code imports nothing; it receives these through constants.
 */
import type { DateTime, Dict, Entity, Value } from '../values/types.js';
import { isDict } from '../values/types.js';
import { ANY_NAMESPACE, getPathAnyNamespace } from './functions/ns-util.js';

const hasOwn = Object.prototype.hasOwnProperty;

/** Status a rule function returns. */
export const enum RuleStatus {
  Emit = 0,
  Filtered = 1,
  Discarded = 2,
}

export type RuleFn = (S: Value, T: Dict, P: Value, R: Dict, X: DtlContext) => RuleStatus;

/** A DTL evaluation failure with the location of the transform that raised it. */
export class DtlRuntimeError extends Error {
  readonly code = 'DTL_RUNTIME';
  at?: string;
  fn?: string;
  /** `trip!`: the pump should also trip the sink's circuit breaker. */
  trip = false;
  /** `fail!` and `trip!`: the whole run fails, not just this entity. */
  fatal = false;
  constructor(message: string, opts: { at?: string; fn?: string; trip?: boolean; fatal?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.at = opts.at;
    this.fn = opts.fn;
    this.trip = opts.trip ?? false;
    this.fatal = opts.fatal ?? this.trip;
  }
  override toString(): string {
    return `${this.at ? this.at + ' ' : ''}DTL_RUNTIME ${this.fn ? `"${this.fn}": ` : ''}${this.message}`;
  }
}

/**
 * Thrown by a hops resolver that cannot answer synchronously (an asynchronous store). The executor
 * fetches what it names and evaluates the entity again; it is never wrapped as an error.
 */
export class DtlSuspend extends Error {
  constructor(readonly request: unknown) {
    super('DTL evaluation suspended waiting for data');
  }
}

/** Dataset access for hops, apply-hops and lookup-entity. */
export interface HopsResolver {
  /** The latest non-deleted entity with this `_id`, or null. */
  lookup(dataset: string, id: string): Entity | null;
  /** Non-deleted entities whose value at `path` equals (or, for lists, contains) any of `values`. */
  find(dataset: string, path: string[], values: Value[]): Entity[];
  /** Every non-deleted entity (only for joins that no index can answer). */
  scan(dataset: string): Iterable<Entity>;
}

export class DtlContext {
  /** Entities emitted by `create`, in order. */
  created: Entity[] = [];
  /** `_B`: bindings from URL parameters on endpoint sinks. */
  bindings: Dict = {};
  hops: HopsResolver | null = null;
  /** Fixed per batch so that `now` is stable while an entity is evaluated again. */
  private nowValue: DateTime | undefined;
  /** Observed by dependency tracking: (dataset, path, value) triples a hops join looked up. */
  onHop?: (dataset: string, path: string[], values: Value[]) => void;

  constructor(init: Partial<Pick<DtlContext, 'bindings' | 'hops' | 'onHop'>> = {}) {
    Object.assign(this, init);
  }

  now(make: () => DateTime): DateTime {
    return (this.nowValue ??= make());
  }

  resetNow(): void {
    this.nowValue = undefined;
  }

  /** Attaches the location of the failing transform (innermost wins). */
  locate(err: unknown, at: string, fn: string): unknown {
    if (err instanceof DtlSuspend) return err;
    if (err instanceof DtlRuntimeError) {
      err.at ??= at;
      err.fn ??= fn;
      return err;
    }
    const message = err instanceof Error ? err.message : String(err);
    return new DtlRuntimeError(message, { at, fn, cause: err });
  }
}

function flattenInto(out: Value[], v: Value): void {
  if (v === null || v === undefined) return;
  if (Array.isArray(v)) {
    for (const x of v) if (x !== null && x !== undefined) out.push(x);
  } else out.push(v);
}

/**
 * A dict's own property, or null. Entities never hold functions, so a function value, or the
 * `__proto__` accessor, can only come from Object.prototype: only then is ownership checked.
 */
function ownValue(o: Dict, key: string): Value {
  const v = o[key];
  if (v === undefined) return null;
  if (typeof v === 'function' || key === '__proto__') return hasOwn.call(o, key) ? v : null;
  return v;
}

/** `_S.key`: a dict's property (null when missing); over a list, the flattened properties of its dicts. */
export function getProp(o: Value, key: string): Value {
  if (o === null || typeof o !== 'object') return null;
  if (Array.isArray(o)) {
    const out: Value[] = [];
    for (let i = 0; i < o.length; i++) {
      const item = o[i];
      if (isDict(item)) flattenInto(out, ownValue(item, key));
    }
    return out;
  }
  return isDict(o) ? ownValue(o, key) : null;
}

export function getPath(o: Value, keys: readonly string[]): Value {
  if (keys[0] === ANY_NAMESPACE) return getPathAnyNamespace(o, keys);
  let v = o;
  for (let i = 0; i < keys.length; i++) {
    v = getProp(v, keys[i]);
    if (v === null) return null;
  }
  return v;
}

/**
 * `["apply", rule, VALUES]`: the rule applied to each dict in VALUES as its source entity, with a
 * fresh target and `_P` the calling context. A list gives the list of emitted targets (filtered,
 * discarded and non-dict values are left out); a single dict gives its target (or null).
 */
export function applyRule(rule: RuleFn, values: Value, S: Value, T: Dict, P: Value, R: Dict, X: DtlContext): Value {
  const parent: Dict = P === null ? { _S: S, _T: T } : { _S: S, _T: T, _P: P };
  if (Array.isArray(values)) {
    const out: Value[] = [];
    for (const v of values) {
      if (!isDict(v)) continue;
      const target: Dict = {};
      if (rule(v, target, parent, R, X) === RuleStatus.Emit) out.push(target);
    }
    return out;
  }
  if (!isDict(values)) return null;
  const target: Dict = {};
  return rule(values, target, parent, R, X) === RuleStatus.Emit ? target : null;
}
