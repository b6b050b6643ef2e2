/**
 * Prometheus metrics at GET /metrics: pipe runs and entity counts (from the runtime's
 * 'run-finished' events), pump lag, dataset sizes and HTTP request durations. Each app has its own
 * registry, so several apps can live in one process.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RunOutcome } from '../executor/run.js';
import type { SluiceRuntime } from '../service/runtime.js';

export interface Metrics {
  registry: Registry;
  /** An onResponse hook for the root instance (request durations of every route). */
  onResponse(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** Stops listening to the runtime. */
  close(): void;
}

/** Seconds since a pump's due run should have started (0 when nothing is overdue). */
function pumpLag(rt: SluiceRuntime, now: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [id, pump] of rt.scheduler.pumps) {
    const due = pump.nextRun;
    const overdue = !rt.scheduler.paused && !pump.disabled && !pump.running && pump.mode === 'scheduled' && due !== null && due < now;
    out.set(id, overdue ? (now - due!) / 1000 : 0);
  }
  return out;
}

export function createMetrics(rt: SluiceRuntime, opts: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.processMetrics === true) collectDefaultMetrics({ register: registry, prefix: 'sluice_' });

  const runs = new Counter({ name: 'sluice_pipe_runs_total', help: 'Pipe runs by pipe and outcome status', labelNames: ['pipe', 'status'], registers: [registry] });
  const read = new Counter({ name: 'sluice_pipe_entities_read_total', help: 'Entities read by pipe runs', labelNames: ['pipe'], registers: [registry] });
  const written = new Counter({ name: 'sluice_pipe_entities_written_total', help: 'Entity versions written by pipe runs', labelNames: ['pipe'], registers: [registry] });
  const failed = new Counter({ name: 'sluice_pipe_entities_failed_total', help: 'Entities that failed in pipe runs', labelNames: ['pipe'], registers: [registry] });
  const duration = new Histogram({
    name: 'sluice_pipe_run_duration_seconds',
    help: 'Duration of pipe runs',
    labelNames: ['pipe'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900],
    registers: [registry],
  });
  new Gauge({
    name: 'sluice_pump_lag_seconds',
    help: 'Seconds since a due pump run should have started (0 when none is overdue)',
    labelNames: ['pipe'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [pipe, lag] of pumpLag(rt, Date.now())) this.set({ pipe }, lag);
    },
  });
  new Gauge({
    name: 'sluice_pump_running',
    help: '1 while a pipe runs',
    labelNames: ['pipe'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [pipe, pump] of rt.scheduler.pumps) this.set({ pipe }, pump.running ? 1 : 0);
    },
  });
  new Gauge({
    name: 'sluice_dataset_versions',
    help: 'Stored entity versions per dataset',
    labelNames: ['dataset'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const d of await rt.store.listDatasets()) this.set({ dataset: d.id }, d.versionCount);
    },
  });
  new Gauge({
    name: 'sluice_dataset_entities',
    help: 'Entities whose latest version is not deleted, per dataset',
    labelNames: ['dataset'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const d of await rt.store.listDatasets()) this.set({ dataset: d.id }, d.entityCount);
    },
  });
  const http = new Histogram({
    name: 'sluice_http_request_duration_seconds',
    help: 'API request durations',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [registry],
  });

  const onRun = (pipe: string, outcome: RunOutcome) => {
    runs.inc({ pipe, status: outcome.status });
    read.inc({ pipe }, outcome.read);
    written.inc({ pipe }, outcome.written);
    failed.inc({ pipe }, outcome.failed);
    if (outcome.ended >= outcome.started) duration.observe({ pipe }, (outcome.ended - outcome.started) / 1000);
  };
  rt.on('run-finished', onRun);
  return {
    registry,
    async onResponse(request, reply) {
      const route = request.routeOptions.url ?? 'unmatched';
      http.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    },
    close() {
      rt.off('run-finished', onRun);
    },
  };
}

export const metricsPlugin: FastifyPluginAsync<{ metrics: Metrics }> = async (app, opts) => {
  const { registry } = opts.metrics;
  app.get('/metrics', { schema: { summary: 'Prometheus metrics (text exposition format)', tags: ['metrics'] } }, async (_request, reply) => {
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });
};
