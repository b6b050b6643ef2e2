/** Service endpoints: API info (`status.developer_mode`), node status, health and ping. */
import type { FastifyPluginAsync } from 'fastify';
import { COMPILER_VERSION } from '../../compiler/version.js';
import type { SluiceRuntime } from '../service/runtime.js';

function uptime(ms: number): string {
  let s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${d ? `${d} days, ` : ''}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

export const servicePlugin: FastifyPluginAsync<{ runtime: SluiceRuntime }> = async (app, { runtime: rt }) => {
  const info = () => ({
    status: {
      developer_mode: rt.developerMode,
      version: COMPILER_VERSION,
      'git-revision': rt.plan?.revision ?? '',
      'teamcity-buildnumber': '',
      node_id: rt.nodeId,
      product: 'sluice',
    },
  });
  app.get('/', { schema: { summary: 'API information; `status.developer_mode` tells clients whether developer commands are allowed', tags: ['service'], querystring: { type: 'object', properties: { aggregated: { type: 'boolean', description: 'Accepted for compatibility; ignored' } } } } }, async () => info());

  app.get('/status', { schema: { summary: 'Node status: id, version, start time (changes on every restart), uptime, memory', tags: ['service'] } }, async () => {
    const mem = process.memoryUsage();
    const pumps = [...rt.scheduler.pumps.values()];
    return {
      node_id: rt.nodeId,
      node_version: COMPILER_VERSION,
      version: COMPILER_VERSION,
      node_start_time: rt.startedAt.toISOString(),
      node_uptime: uptime(Date.now() - rt.startedAt.getTime()),
      developer_mode: rt.developerMode,
      store: rt.store.kind,
      plan: rt.plan ? { hash: rt.plan.hash, pipes: rt.plan.pipes.length, systems: rt.plan.systems.length, revision: rt.plan.revision ?? null } : null,
      // A config edit that was refused: the running plan is kept until these are fixed.
      pending_config_errors: rt.pendingDiagnostics.map((d) => ({ file: d.file, line: d.line, column: d.column, severity: d.severity, code: d.code, message: d.message })),
      pumps: { total: pumps.length, running: pumps.filter((p) => p.running).length, disabled: pumps.filter((p) => p.disabled).length, scheduler_paused: rt.scheduler.paused },
      memory: { rss: mem.rss, heap_total: mem.heapTotal, heap_used: mem.heapUsed, external: mem.external },
    };
  });

  app.get('/health', { config: { public: true }, schema: { summary: 'Health: 200 when the store answers, 503 otherwise (no authentication needed)', tags: ['service'], security: [] } }, async (_request, reply) => {
    try {
      await rt.store.getMeta('health-check');
      return { status: 'ok', store: rt.store.kind };
    } catch (err) {
      return reply.code(503).send({ status: 'failed', error: { code: 'UNAVAILABLE', message: `the store does not answer: ${(err as Error).message}` } });
    }
  });

  app.get('/ping', { config: { public: true }, schema: { summary: 'Liveness probe (no authentication needed)', tags: ['service'], security: [] } }, async () => ({ status: 'running' }));
};
