/**
 * A pipe ready to run: its plan entry with components built. Rebuilt whenever the plan changes
 * the pipe (its hash), so component state never outlives the config it came from.
 */
import type { Logger } from 'pino';
import type { ExecutionPlan, PlanPipe } from '../../compiler/plan/types.js';
import { components } from '../components/registry.js';
import type { ComponentContext, Sink, Source, Transform } from '../components/types.js';

export interface PipeInstance {
  plan: PlanPipe;
  source: Source;
  transforms: Transform[];
  sink: Sink;
  batchSize: number;
  checkpointInterval: number;
  pump: Record<string, unknown>;
}

export function buildPipeInstance(pipe: PlanPipe, plan: ExecutionPlan, ctx: Omit<ComponentContext, 'pipe' | 'plan' | 'logger'> & { logger: Logger }): PipeInstance {
  const c: ComponentContext = { ...ctx, pipe, plan, logger: ctx.logger.child({ pipe: pipe.id }) };
  const sinkBatch = (pipe.sink.config.batch_size as number | undefined) ?? undefined;
  return {
    plan: pipe,
    source: components.createSource(pipe.source, c),
    transforms: pipe.transforms.map((t) => components.createTransform(t, c)),
    sink: components.createSink(pipe.sink, c),
    batchSize: (pipe.effective.batch_size as number | undefined) ?? sinkBatch ?? 100,
    checkpointInterval: Math.max(1, (pipe.effective.checkpoint_interval as number | undefined) ?? 1),
    pump: pipe.pump,
  };
}
