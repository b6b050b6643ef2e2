/**
 * `sluice run <config>`: compiles a config folder, starts the runtime and the API on the embedded
 * store (or another store), and reloads when files change. An invalid edit keeps the running plan;
 * its diagnostics go to the log and to the API. The folder is the source of truth: it must exist,
 * the runtime starts from it (not from the config it ran last), and config changes made through
 * the API are written into it (runtime/service/config-folder.ts).
 */
import { resolve } from 'node:path';
import { watch } from 'chokidar';
import { Option, type Command } from 'commander';
import { formatDiagnostic } from '../../compiler/diagnostics.js';
import { existsSync } from 'node:fs';
import { ConfigFolder } from '../../runtime/service/config-folder.js';
import { startApi } from '../../runtime/api/app.js';
import { serialised } from '../../runtime/api/util.js';
import { SluiceRuntime } from '../../runtime/service/runtime.js';
import { poolSize } from '../../runtime/executor/pool.js';
import { EmbeddedStore } from '../../runtime/store/embedded/store.js';
import { openStore } from '../../runtime/store/open.js';
import { microservices } from '../../runtime/microservices/directory.js';
import { LocalMicroservices } from '../../runtime/microservices/local.js';
import { envValues } from '../config-input.js';
import { allowTokensWithoutExpiryOption, workersOption, apiUrl, authFrom, jwtSecretFileOption, jwtSecretOption, serviceLogger, type SetExit } from './shared.js';

export function registerRun(program: Command, setExit: SetExit): void {
  program
    .command('run')
    .description('run a config folder locally: runtime, pumps and the API, reloading on change')
    .argument('<path>', 'config folder (or single config file)')
    .option('--port <port>', 'API port', '9042')
    .option('--host <host>', 'interface the API listens on (0.0.0.0 for all; default: this machine only)', '127.0.0.1')
    .option('--data-dir <dir>', 'where the embedded store keeps its data', '.sluice/data')
    .option('--store <uri>', 'store: "embedded" (default) or a mongodb:// URI', process.env.SLUICE_STORE ?? 'embedded')
    .option('--profile <name>', 'use <path>/<name>-env.json for environment variables', 'test')
    .option('-e, --env <NAME=VALUE...>', 'set an environment variable for $ENV(...)')
    .option(...jwtSecretOption)
    .option(...jwtSecretFileOption)
    .option(...allowTokensWithoutExpiryOption)
    .option('--no-watch', 'do not reload when files change')
    .option(...workersOption('auto'))
    .option('--log-level <level>', 'log level', process.env.SLUICE_LOG_LEVEL ?? 'info')
    .option('--microservice <id=url...>', 'reach microservice system <id> at <url> (a service you run yourself) instead of starting its image')
    .addOption(new Option('--log-format <format>', 'readable lines (pretty), one JSON object per line (json), or pretty when stdout is a terminal (auto)').choices(['auto', 'pretty', 'json']).default(process.env.SLUICE_LOG_FORMAT ?? 'auto'))
    .addHelpText(
      'after',
      `
Without a folder, "sluice run" is the client's run verb: it runs all pipes on a node until they
settle (the same as "sluice run-all"), e.g.

  sluice run --node http://localhost:9042 --jwt "$JWT" --print-scheduler-log

with --node, --jwt, --scheduler-zero-runs, --scheduler-max-runs, --scheduler-max-run-time,
--print-scheduler-log and the other options of "sluice run-all --help".`,
    )
    .action(async (path: string, opts) => {
      const auth = authFrom(opts);
      const readable = opts.logFormat === 'pretty' || (opts.logFormat === 'auto' && process.stdout.isTTY === true);
      const logger = serviceLogger(opts.logLevel, readable);
      const configPath = resolve(path);
      if (!existsSync(configPath)) throw new Error(`the config folder ${configPath} does not exist (check the path; nothing was started)`);
      for (const given of (opts.microservice ?? []) as string[]) {
        const at = given.indexOf('=');
        if (at <= 0) throw new Error(`--microservice expects <id>=<url>, not "${given}"`);
        microservices.give(given.slice(0, at), given.slice(at + 1));
      }
      // Containers for microservice systems, when docker or podman works here; asking the engine
      // takes a while, so the store, the runtime and the file watcher open meanwhile (the config is
      // first read after that, and only the config's systems need the engine).
      const engine = LocalMicroservices.create({ logger });
      const configFolder = new ConfigFolder(configPath);
      const store = await openStore(opts.store, { dataDir: resolve(opts.dataDir) });
      // Pipes start running once the API listens: the first runs would otherwise compete with the API's start.
      const runtime = await SluiceRuntime.open({ store, logger, configFolder, workers: poolSize(opts.workers), schedule: false });
      // Environment variables set through the API stay until the env file itself changes.
      let fileEnv: string | null = null;
      const load = async (reason: string) => {
        let files;
        try {
          files = configFolder.read();
        } catch (err) {
          logger.error({ err: (err as Error).message }, 'cannot read the config');
          return;
        }
        const { env, diagnostics: envProblems } = envValues(configPath, opts);
        for (const d of envProblems) logger[d.severity === 'error' ? 'error' : 'warn']({ diagnostic: { file: d.file, line: d.line, column: d.column, code: d.code } }, formatDiagnostic(d));
        if (JSON.stringify(env) !== fileEnv) {
          fileEnv = JSON.stringify(env);
          if (fileEnv !== JSON.stringify(runtime.env)) await runtime.setEnv(env, true);
        }
        // At startup nothing runs yet: entities with errors are left out (and shown); a later edit with errors keeps the running plan.
        const result = await runtime.setConfigFiles(files, { force: reason === 'startup' });
        for (const d of result.diagnostics) logger[d.severity === 'error' ? 'error' : 'warn']({ diagnostic: { file: d.file, line: d.line, column: d.column, code: d.code } }, formatDiagnostic(d));
        if (result.ok) logger.info({ reason, pipes: runtime.plan?.pipes.length ?? 0, plan: runtime.plan?.hash.slice(0, 12) }, 'config loaded');
        else if (result.applied) logger.error({ reason, pipes: runtime.plan?.pipes.length ?? 0, left_out: result.rejected }, 'config has errors; the entities with errors are left out');
        else logger.error({ reason, errors: result.diagnostics.filter((d) => d.severity === 'error').length }, 'config has errors; the running plan is kept');
      };
      // Reloads wait for each other and for config changes made through the API.
      let timer: NodeJS.Timeout | null = null;
      const reloadSoon = () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => void serialised(runtime, () => load('file change')), 300);
      };
      // The watcher is ready before the folder is first read: a file written after that is never missed.
      const watcher = opts.watch ? watch(configPath, { ignoreInitial: true, ignored: (p: string) => /(^|[/\\])\.(?!\.?$)/.test(p.slice(configPath.length)) }).on('all', reloadSoon) : null;
      if (watcher) await new Promise<void>((ready) => watcher.once('ready', () => ready()));
      const containers = await engine;
      microservices.useContainers(containers);
      containers.follow(runtime, (id) => microservices.givenAddress(id) !== undefined);
      await serialised(runtime, () => load('startup'));
      const app = await startApi(runtime, { port: Number(opts.port), host: opts.host, auth, logger });
      runtime.scheduler.start();
      if (store instanceof EmbeddedStore) store.describeHolder({ port: (app.server.address() as { port: number }).port });
      const url = apiUrl(app.server);
      const studio = url.replace(/api$/, '');
      logger.info({ url, studio }, `Sluice is serving ${configPath} at ${url} (Sluice Studio: ${studio})`);
      // The address on a line of its own, to copy or click.
      if (readable) process.stdout.write(`\n  ${url}\n  Sluice Studio: ${studio}\n\n`);
      await new Promise<void>((done) => {
        const stop = () => done();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      logger.info('stopping');
      await watcher?.close();
      if (timer) clearTimeout(timer);
      await app.close();
      await runtime.close();
      await containers.close();
      setExit(0);
    });
}
