/**
 * The DTL extension points of the template transform at run time: the rule sets the compiler
 * compiled (the plan component's `rule_sets`), linked once per pipe, and called by rule name where
 * the template says. A rule gets a dict as `_S` and an empty target; what it builds is the result.
 */
import { generateProgram, link } from '../../../compiler/dtl/codegen.js';
import type { DtlProgram } from '../../../compiler/dtl/ir.js';
import { DtlContext, DtlSuspend, RuleStatus, type RuleFn } from '../../../compiler/dtl/runtime.js';
import { TEMPLATE_EXTENSION_POINTS } from '../../../compiler/config/template.js';
import { isDict, type Dict } from '../../../compiler/values/types.js';
import { isAsyncResolver, type HopsRequest } from '../../datasets/hops-resolver.js';
import type { ComponentContext } from '../types.js';

/** Rounds of fetching for joins an asynchronous store answers (as the dtl transform allows). */
const MAX_FETCH_ROUNDS = 50;

export class ExtensionRules {
  private readonly rules = new Map<string, RuleFn>();

  constructor(
    ruleSets: Record<string, DtlProgram> | undefined,
    private readonly ctx: ComponentContext,
  ) {
    for (const [property, program] of Object.entries(ruleSets ?? {})) {
      const linked = link<Record<string, RuleFn>>(generateProgram(program, { namespaces: ctx.pipe.namespaces, idRequired: false, pipeId: ctx.pipe.id }));
      for (const name of TEMPLATE_EXTENSION_POINTS[property]?.rules ?? []) if (linked[name]) this.rules.set(name, linked[name]);
    }
  }

  has(rule: string): boolean {
    return this.rules.has(rule);
  }

  /**
   * Applies `rule` to `source` (with `root` as `_R._S`, the source itself when not given): the
   * target it builds, or null when it filters or discards. Throws DtlRuntimeError when it fails.
   */
  async apply(rule: string, source: Dict, root: Dict = source): Promise<Dict | null> {
    const fn = this.rules.get(rule);
    if (!fn) throw new Error(`the template has no rule "${rule}"`);
    const resolver = this.ctx.hopsResolver();
    const X = new DtlContext({ hops: resolver });
    for (let round = 0; ; round++) {
      const T: Dict = {};
      try {
        return fn(source, T, null, { _S: root, _T: root === source ? T : {} }, X) === RuleStatus.Emit ? T : null;
      } catch (err) {
        if (!(err instanceof DtlSuspend) || !isAsyncResolver(resolver) || round >= MAX_FETCH_ROUNDS) throw err;
        await resolver.fetch([err.request as HopsRequest]);
      }
    }
  }

  /** `value` rewritten by `rule` when the rule is defined and the value is a dict; otherwise the value as it is. */
  async rewrite(rule: string, value: unknown): Promise<unknown> {
    if (!this.rules.has(rule) || !isDict(value)) return value;
    return this.apply(rule, value);
  }
}
