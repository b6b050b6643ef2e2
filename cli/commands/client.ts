/**
 * The verbs of Sesam's CLI client against a running node (Sluice or Sesam): upload, download,
 * status, run (`run-all`), verify, update, wipe, stop, restart and reset. Each works on a project
 * folder in the client's layout (default: the current folder); the node and token come from
 * --node/--jwt, NODE/JWT or a .syncconfig (cli/client/connection.ts).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CompareOptions } from '../../runtime/testing/compare.js';
import type { Reporter } from '../../runtime/testing/verify.js';
import { installClientArgs } from '../client/argv.js';
import { resolveConnection } from '../client/connection.js';
import { NodeClient } from '../client/node.js';
import * as verbs from '../client/verbs.js';
import type { SetExit } from './shared.js';

export interface ClientOpts {
  node?: string;
  jwt?: string;
  syncConfigFile?: string;
  profile?: string;
  force?: boolean;
  verbose?: boolean;
  [key: string]: unknown;
}

/** Reports to stdout, progress to stderr. */
export function consoleOutput(): verbs.Output {
  const report: Reporter = {
    info: (m) => process.stdout.write(m + '\n'),
    warn: (m) => process.stdout.write(`warning: ${m}\n`),
    error: (m) => process.stdout.write(`error: ${m}\n`),
  };
  return { progress: (m) => process.stderr.write(m + '\n'), report };
}

export function connectionOptions(cmd: Command): Command {
  return cmd
    .option('--node <url>', 'the node (default: $NODE or .syncconfig); "/api" is added when missing')
    .option('--jwt <token>', 'the bearer token (default: $JWT or .syncconfig)')
    .option('--sync-config-file <file>', 'the sync config file to look for', '.syncconfig')
    .option('-v, --verbose', 'more output');
}

export function compareOptionsOf(opts: Record<string, unknown>): CompareOptions {
  return { noLargeIntBugs: opts.largeIntBugs === false, unicodeEncoding: opts.unicodeEncoding === true, disableJsonHtmlEscape: opts.disableJsonHtmlEscape === true };
}

export function compareFlags(cmd: Command): Command {
  return cmd
    .option('--no-large-int-bugs', "keep integers longer than 16 digits exact (the client passes them through a float)")
    .option('--unicode-encoding', 'write expected files with \\uXXXX escapes')
    .option('--disable-json-html-escape', 'do not escape <, > and & in expected files');
}

export function runFlags(cmd: Command): Command {
  return cmd
    .option('--scheduler-zero-runs <n>', 'consecutive runs without changes that end a run', (v) => Number(v), 2)
    .option('--scheduler-max-runs <n>', 'runs at most', (v) => Number(v), 100)
    .option('--scheduler-max-run-time <s>', 'seconds at most', (v) => Number(v), 900)
    .option('--scheduler-request-mode <mode>', 'sync or async', 'sync')
    .option('--scheduler-mode <mode>', 'active or poll')
    .option('--scheduler-check-input-pipes', 'failing input pipes fail the run')
    .option('--scheduler-dont-reset-pipes-or-delete-sink-datasets', 'keep pipe offsets and sink datasets')
    .option('--output-run-statistics', 'per-pipe statistics after the run')
    .option('--print-scheduler-log', 'print the runner log while it runs');
}

export function runOptionsOf(opts: Record<string, unknown>): verbs.RunOptions {
  return {
    zeroRuns: opts.schedulerZeroRuns as number,
    maxRuns: opts.schedulerMaxRuns as number,
    maxRunTime: opts.schedulerMaxRunTime as number,
    requestMode: opts.schedulerRequestMode as 'sync' | 'async',
    schedulerMode: opts.schedulerMode as string | undefined,
    checkInputPipes: opts.schedulerCheckInputPipes === true,
    dontResetPipesOrDeleteSinkDatasets: opts.schedulerDontResetPipesOrDeleteSinkDatasets === true,
    outputRunStatistics: opts.outputRunStatistics === true,
    printSchedulerLog: opts.printSchedulerLog === true,
  };
}

/** Connects, checks developer mode and runs a verb; failures print and exit 1. */
export async function withNode(dir: string, opts: ClientOpts, setExit: SetExit, work: (client: NodeClient, out: verbs.Output) => Promise<number | void>, allowWithForce = false): Promise<void> {
  const out = consoleOutput();
  const started = Date.now();
  try {
    const conn = resolveConnection({ node: opts.node, jwt: opts.jwt, syncConfigFile: opts.syncConfigFile, dir });
    if (opts.verbose) out.progress(`node ${conn.nodeUrl} (from ${conn.from})`);
    const client = new NodeClient(conn);
    await verbs.checkDeveloperMode(client, allowWithForce && opts.force === true);
    const code = await work(client, out);
    setExit(typeof code === 'number' ? code : 0);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    setExit(1);
  } finally {
    if (opts.verbose) out.progress(`total run time ${Math.round((Date.now() - started) / 1000)} s`);
  }
}

export function registerClient(program: Command, setExit: SetExit): void {
  installClientArgs(program);
  const project = (cmd: Command) => cmd.argument('[path]', 'the project folder (pipes/, systems/, expected/, testdata/, <profile>-env.json)', '.');

  connectionOptions(
    project(program.command('upload').description("replace the node's config and env with the local ones, then post testdata/ to the receivers"))
      .option('--profile <name>', 'upload <profile>-env.json', 'test')
      .option('--force', 'upload even with config errors (components with errors are left out)')
      .option('--enable-user-pipes', 'let the node schedule the pipes (default: disable_user_pipes)')
      .option('--upload-delete-sink-datasets', 'delete all sink datasets first'),
  ).action(async (path: string, opts) =>
    withNode(resolve(path), opts, setExit, async (client, out) => verbs.upload(resolve(path), client, out, { profile: opts.profile, force: opts.force, enableUserPipes: opts.enableUserPipes, uploadDeleteSinkDatasets: opts.uploadDeleteSinkDatasets }), true),
  );

  connectionOptions(
    project(program.command('download').description("replace the local config and <profile>-env.json with the node's"))
      .option('--profile <name>', 'write <profile>-env.json', 'test')
      .option('--dump', 'also write sesam-config.zip')
      .option('--force', 'download from a node that is not in developer mode'),
  ).action(async (path: string, opts) => withNode(resolve(path), opts, setExit, async (client, out) => verbs.download(resolve(path), client, out, { profile: opts.profile, dump: opts.dump }), true));

  connectionOptions(
    project(program.command('status').description('compare the local config and env with the node (exit code 0 either way; see the last line)'))
      .option('--profile <name>', 'compare <profile>-env.json', 'test')
      .option('--no-diff', 'only name the files that differ'),
  ).action(async (path: string, opts) =>
    withNode(resolve(path), opts, setExit, async (client, out) => {
      await verbs.status(resolve(path), client, out, { profile: opts.profile, diff: opts.diff });
    }),
  );

  connectionOptions(runFlags(project(program.command('run-all').description("run all pipes on the node until they settle (the client's run verb; also `sluice run` without a folder)")))).action(
    async (path: string, opts) =>
      withNode(resolve(path), opts, setExit, async (client, out) => {
        await verbs.run(resolve(path), client, out, runOptionsOf(opts));
      }),
  );

  connectionOptions(compareFlags(project(program.command('verify').description('compare the output of the output and endpoint pipes on the node with expected/')))).action(async (path: string, opts) =>
    withNode(resolve(path), opts, setExit, async (client, out) => ((await verbs.verify(resolve(path), client, out, compareOptionsOf(opts))).ok ? 0 : 1)),
  );

  connectionOptions(compareFlags(project(program.command('update').description('write the current output of the pipes on the node into expected/')))).action(async (path: string, opts) =>
    withNode(resolve(path), opts, setExit, async (client, out) => {
      await verbs.update(resolve(path), client, out, compareOptionsOf(opts));
    }),
  );

  connectionOptions(project(program.command('wipe').description('remove every pipe, system and env variable from the node'))).action(async (path: string, opts) =>
    withNode(resolve(path), opts, setExit, async (client, out) => verbs.wipe(resolve(path), client, out)),
  );

  connectionOptions(project(program.command('stop').description("stop the node's pipe runner"))).action(async (path: string, opts) =>
    withNode(resolve(path), opts, setExit, async (client, out) => verbs.stop(client, out)),
  );

  for (const op of ['restart', 'reset'] as const) {
    connectionOptions(
      project(program.command(op).description(op === 'restart' ? 'restart the node' : 'delete all data, config, env variables and secrets on the node, then restart it')).option('--restart-timeout <s>', 'seconds to wait for the node', (v) => Number(v), 900),
    ).action(async (path: string, opts) => withNode(resolve(path), opts, setExit, async (client, out) => verbs.restart(client, out, op, opts.restartTimeout)));
  }
}
