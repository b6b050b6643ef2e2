/** Loading a plan from JSON (a file, a ConfigMap) and checking it is one this runtime understands. */
import { contentHash } from './hash.js';
import { PLAN_FORMAT, type ExecutionPlan } from './types.js';

export class PlanFormatError extends Error {
  readonly code = 'PLAN_FORMAT';
}

export function parsePlan(text: string): ExecutionPlan {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new PlanFormatError(`the plan is not valid JSON: ${(err as Error).message}`);
  }
  return checkPlan(value);
}

export function checkPlan(value: unknown): ExecutionPlan {
  const p = value as Partial<ExecutionPlan> | null;
  if (!p || typeof p !== 'object' || p.format !== PLAN_FORMAT) {
    throw new PlanFormatError(`not a Sluice execution plan (expected format "${PLAN_FORMAT}", got ${JSON.stringify(p?.format)})`);
  }
  if (!Array.isArray(p.pipes) || !Array.isArray(p.systems) || !p.graph || typeof p.hash !== 'string') throw new PlanFormatError('the plan is missing pipes, systems, graph or hash');
  const { hash, revision: _revision, source: _source, placement: _placement, ...body } = p as ExecutionPlan;
  if (contentHash(body) !== hash) throw new PlanFormatError('the plan content does not match its hash (it was edited or truncated)');
  return p as ExecutionPlan;
}
