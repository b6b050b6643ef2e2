/**
 * `sluice runtime --plan <file>`: a runtime pod. Runs an execution plan compiled elsewhere (the
 * operator puts it in a ConfigMap), only the pipes placed on this replica, against the store the
 * pod is given, and serves the API. Reloads when the plan file changes.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Command } from 'commander';
import { watch } from 'chokidar';
import { checkPlan } from '../../compiler/plan/load.js';
import type { ExecutionPlan } from '../../compiler/plan/types.js';
import { startApi } from '../../runtime/api/app.js';
import { SluiceRuntime } from '../../runtime/service/runtime.js';
import { EmbeddedStore } from '../../runtime/store/embedded/store.js';
import { openStore } from '../../runtime/store/open.js';
import { allowTokensWithoutExpiryOption, apiUrl, authFrom, jwtSecretFileOption, jwtSecretOption, serviceLogger, workersOption, type SetExit } from './shared.js';
import { poolSize } from '../../runtime/executor/pool.js';

function partFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name.startsWith('.')) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...partFiles(full));
    else if (/^plan\.json(\.gz)?(\.part-\d+)?$/.test(name)) out.push(full);
  }
  return out;
}

/**
 * Reads a plan: a JSON file, a gzip-compressed one, or a directory of parts
 * (`plan.json.gz.part-000`, ...; the operator splits large plans over several ConfigMaps).
 */
export function readPlanFile(path: string): ExecutionPlan {
  const raw = statSync(path).isDirectory()
    ? Buffer.concat(
        partFiles(path)
          .sort((a, b) => basename(a).localeCompare(basename(b)))
          .map((f) => readFileSync(f)),
      )
    : readFileSync(path);
  const text = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  return checkPlan(JSON.parse(text));
}

export function registerRuntime(program: Command, setExit: SetExit): void {
  program
    .command('runtime')
    .description('run an execution plan as a runtime pod (the operator starts these)')
    .requiredOption('--plan <file>', 'plan file (JSON or gzip-compressed JSON)')
    .option('--port <port>', 'API port', process.env.PORT ?? '9042')
    .option('--host <host>', 'interface the API listens on (a pod serves its Service: all interfaces)', '0.0.0.0')
    .option('--replica <index>', 'this runtime replica (pipes are placed on replicas by the plan)', process.env.SLUICE_REPLICA ?? '0')
    .option('--store <uri>', 'store: "embedded" or a mongodb:// URI', process.env.SLUICE_STORE ?? 'embedded')
    .option('--data-dir <dir>', 'data directory of the embedded store', process.env.SLUICE_DATA_DIR ?? '/var/lib/sluice')
    .option('--node-id <id>', 'name of this runtime (leases, status)', process.env.HOSTNAME ?? 'sluice-runtime')
    .option(...jwtSecretOption)
    .option(...jwtSecretFileOption)
    .option(...allowTokensWithoutExpiryOption)
    .option('--log-level <level>', 'log level', process.env.SLUICE_LOG_LEVEL ?? 'info')
    .option(...workersOption('1'))
    .action(async (opts) => {
      const auth = authFrom(opts);
      const logger = serviceLogger(opts.logLevel);
      const planPath = resolve(opts.plan);
      // Secret values come from the environment (a Kubernetes Secret), never from the plan.
      const secrets = process.env.SLUICE_SECRETS ? (JSON.parse(process.env.SLUICE_SECRETS) as Record<string, string>) : {};
      const store = await openStore(opts.store, { dataDir: resolve(opts.dataDir) });
      const runtime = await SluiceRuntime.open({ store, logger, replica: Number(opts.replica), nodeId: opts.nodeId, workers: poolSize(opts.workers), schedule: false });
      const load = async () => {
        try {
          const plan = readPlanFile(planPath);
          await runtime.usePlan(plan, secrets);
          logger.info({ plan: plan.hash.slice(0, 12), revision: plan.revision ?? null, pipes: plan.pipes.filter((p) => runtime.ownsPipe(p.id)).length }, 'plan loaded');
        } catch (err) {
          logger.error({ err: (err as Error).message }, 'cannot load the plan; the running plan is kept');
        }
      };
      await load();
      const app = await startApi(runtime, { port: Number(opts.port), host: opts.host, auth, logger });
      // As in `sluice run`: pipes start once the API listens, so their first runs do not delay it.
      runtime.scheduler.start();
      if (store instanceof EmbeddedStore) store.describeHolder({ port: (app.server.address() as { port: number }).port });
      logger.info(`Sluice runtime ${Number(opts.replica)} serving at ${apiUrl(app.server)}`);
      // ConfigMap volumes are updated by swapping a symlink: watch the directory.
      const watcher = watch(planPath, { ignoreInitial: true }).on('all', () => void load());
      await new Promise<void>((done) => {
        process.once('SIGINT', () => done());
        process.once('SIGTERM', () => done());
      });
      await watcher.close();
      await app.close();
      await runtime.close();
      setExit(0);
    });
}
