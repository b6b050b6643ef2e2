/**
 * A DTL program linked into JavaScript functions, ready to transform entities. Built from IR, so a
 * runtime can load it from an execution plan without the config text.
 */
import type { Dict, Entity, Value } from '../values/types.js';
import { generateExpression, generateProgram, link } from './codegen.js';
import type { DtlProgram, Expr } from './ir.js';
import { DtlContext, DtlRuntimeError, RuleStatus, type RuleFn } from './runtime.js';
import type { CodegenOptions } from './spec.js';

export interface TransformOptions extends CodegenOptions {
  /** A dataset sink records filtered entities as `_filtered: true` so it can delete them. */
  markFiltered: boolean;
  /**
   * A deleted source entity gives a deleted target unless the rules set `_deleted` themselves, so
   * deletions travel through dataset → DTL → dataset pipes.
   */
  propagateDeleted?: boolean;
}

export const DEFAULT_TRANSFORM_OPTIONS: TransformOptions = { namespaces: null, idRequired: true, markFiltered: false };

export class CompiledDtl {
  private readonly rules: Record<string, RuleFn>;
  private readonly main: RuleFn;
  readonly options: TransformOptions;

  constructor(
    readonly program: DtlProgram,
    options: Partial<TransformOptions> = {},
  ) {
    this.options = { ...DEFAULT_TRANSFORM_OPTIONS, ...options };
    this.rules = link<Record<string, RuleFn>>(generateProgram(program, this.options));
    this.main = this.rules.default;
    if (!this.main) throw new Error('DTL program has no default rule');
  }

  /** Applies the default rule to one source entity; returns the entities it emits (created ones first). */
  transform(source: Entity, X: DtlContext, initialTarget?: Dict): Entity[] {
    X.created = [];
    const T: Dict = initialTarget ? { ...initialTarget } : {};
    const R: Dict = { _S: source, _T: T };
    const status = this.main(source, T, null, R, X);
    const out = X.created.length ? X.created : [];
    if (this.options.propagateDeleted && source._deleted === true && !Object.prototype.hasOwnProperty.call(T, '_deleted')) T._deleted = true;
    if (status === RuleStatus.Emit) {
      if (this.options.idRequired && typeof T._id !== 'string') {
        throw new DtlRuntimeError(`the target entity has no string "_id" (add one, e.g. ["copy", "_id"], or set "id_required": false)`);
      }
      out.push(T);
    } else if (status === RuleStatus.Filtered && this.options.markFiltered) {
      if (T._id === undefined && source._id !== undefined) T._id = source._id;
      T._filtered = true;
      out.push(T);
    }
    return out;
  }
}

/** A single expression compiled against a program's rules (the conformance runner, `sluice eval`). */
export function compileExpression(expr: Expr, program: DtlProgram, options: Partial<TransformOptions> = {}): (S: Value, T: Dict, X: DtlContext) => Value {
  const fn = link<(S: Value, T: Dict, P: Value, R: Dict, X: DtlContext) => Value>(generateExpression(expr, program, { ...DEFAULT_TRANSFORM_OPTIONS, ...options }));
  return (S, T, X) => fn(S, T, null, { _S: S, _T: T }, X);
}

export { DtlContext };
