/**
 * `sluice test [path]`: runs a project in the layout of Sesam's client and verifies its output
 * against expected/, with the client's rules. By default in-process on a fresh embedded store
 * (runtime/testing/local.ts); with --node (or --remote, for NODE/JWT/.syncconfig) against a
 * running node, making the calls `sesam test` makes. Progress goes to stderr, the verification
 * report and diffs to stdout; the exit code is 1 when anything failed.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { runLocalTest } from '../../runtime/testing/local.js';
import * as verbs from '../client/verbs.js';
import { installClientArgs } from '../client/argv.js';
import { compareFlags, compareOptionsOf, connectionOptions, consoleOutput, runFlags, runOptionsOf, withNode } from './client.js';
import type { SetExit } from './shared.js';

export function registerTest(program: Command, setExit: SetExit): void {
  installClientArgs(program);
  compareFlags(
    runFlags(
      connectionOptions(
        program
          .command('test')
          .description('upload, run and verify a project (pipes/, systems/, testdata/, expected/, <profile>-env.json): in-process by default, on a node with --node')
          .argument('[path]', 'the project folder', '.')
          .option('--profile <name>', 'use <profile>-env.json', 'test')
          .option('--runs <n>', 'run cycles before verifying (checks that the output is stable)', (v) => Number(v), 1)
          .option('--update', 'write the current output into expected/ instead of comparing')
          .option('--remote', 'test on the node named by NODE/JWT or .syncconfig (implied by --node)')
          .option('--data-dir <dir>', 'keep the in-process store here (default: a temporary folder, removed afterwards)')
          .option('--log-level <level>', 'runtime log level of the in-process run', 'silent'),
      ),
    ),
  ).action(async (path: string, opts) => {
    const dir = resolve(path);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      process.stderr.write(`error: ${path} is not a folder\n`);
      setExit(2);
      return;
    }
    const compare = compareOptionsOf(opts);
    if (opts.node || opts.remote) {
      await withNode(dir, opts, setExit, async (client, out) => {
        if (opts.update) {
          await verbs.upload(dir, client, out, { profile: opts.profile });
          for (let i = 0; i < Math.max(1, opts.runs); i++) await verbs.run(dir, client, out, runOptionsOf(opts));
          await verbs.update(dir, client, out, compare);
          return 0;
        }
        const r = await verbs.test(dir, client, out, { profile: opts.profile, runs: opts.runs, ...runOptionsOf(opts), compare });
        return r.ok ? 0 : 1;
      });
      return;
    }
    const out = consoleOutput();
    try {
      const result = await runLocalTest(dir, {
        profile: opts.profile,
        runs: opts.runs,
        extraZeroRuns: opts.schedulerZeroRuns,
        maxRuns: opts.schedulerMaxRuns,
        maxRunTime: opts.schedulerMaxRunTime,
        update: opts.update === true,
        compare,
        dataDir: opts.dataDir ? resolve(opts.dataDir) : undefined,
        logLevel: opts.logLevel,
        progress: out.progress,
        report: out.report,
      });
      out.progress(`${result.ok ? 'test passed' : 'test FAILED'} in ${result.seconds.toFixed(1)} s`);
      setExit(result.ok ? 0 : 1);
    } catch (err) {
      process.stderr.write(`error: ${(err as Error).message}\n`);
      setExit(1);
    }
  });
}
