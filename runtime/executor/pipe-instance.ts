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
  const sink = components.createSink(pipe.sink, c);
  return {
    plan: pipe,
    source: components.createSource(pipe.source, c),
    transforms: pipe.transforms.map((t) => components.createTransform(t, c)),
    sink,
    batchSize: (pipe.effective.batch_size as number | undefined) ?? sinkBatch ?? 100,
    checkpointInterval: checkpointInterval(pipe, sink),
    pump: pipe.pump,
  };
}


/**
 * Batches between saved offsets. Re-reading batches into a dataset after a crash is harmless (unchanged
 * entities are not stored again), so dataset sinks follow `checkpoint_interval` (default 100). A sink that
 * writes to another system would send every re-read batch again, so unless the pipe sets
 * `checkpoint_interval` itself its offset is saved after every batch that system committed.
 */
function checkpointInterval(pipe: PlanPipe, sink: Sink): number {
  const configured = pipe.original.checkpoint_interval;
  const effective = (pipe.effective.checkpoint_interval as number | undefined) ?? 1;
  if (sink.dataset === null && configured === undefined) return 1;
  return Math.max(1, effective);
}
