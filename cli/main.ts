/**
 * The `sluice` command line. Each command lives in its own module under cli/commands/, loaded only
 * when its command is named: a runtime pod should not wait for the operator's Kubernetes client,
 * nor `sluice validate` for the API server.
 */
import { Command } from 'commander';
import { COMPILER_VERSION } from '../compiler/version.js';
import type { SetExit } from './commands/shared.js';

type Register = (program: Command, setExit: SetExit) => void;

const validate = async (): Promise<Register> => (await import('./commands/validate.js')).registerValidate;
const compile = async (): Promise<Register> => (await import('./commands/compile.js')).registerCompile;
const run = async (): Promise<Register> => (await import('./commands/run.js')).registerRun;
const test = async (): Promise<Register> => (await import('./commands/test.js')).registerTest;
// The client verbs also rewrite the client's own argument style (`-node`, `run` without a folder).
const client = async (): Promise<Register> => (await import('./commands/client.js')).registerClient;
const runtime = async (): Promise<Register> => (await import('./commands/runtime.js')).registerRuntime;
const operator = async (): Promise<Register> => (await import('./commands/operator.js')).registerOperator;
const token = async (): Promise<Register> => (await import('./commands/token.js')).registerToken;

/** Every command, in help order. */
const ALL = [validate, compile, run, test, client, token, runtime, operator];
const BY_NAME: Record<string, (() => Promise<Register>)[]> = {
  validate: [validate],
  compile: [compile],
  run: [run, client],
  test: [test, client],
  runtime: [runtime],
  operator: [operator],
  token: [token],
};
for (const verb of ['upload', 'download', 'status', 'run-all', 'verify', 'update', 'wipe', 'stop', 'restart', 'reset']) BY_NAME[verb] = [client];

export async function main(argv: string[]): Promise<number | undefined> {
  const program = new Command('sluice')
    .description('Run and test Sesam-compatible data integration config')
    .version(COMPILER_VERSION)
    .showHelpAfterError()
    .exitOverride();
  let exitCode: number | undefined;
  const setExit = (code: number) => {
    exitCode = code;
  };
  const named = argv.slice(2).find((a) => !a.startsWith('-'));
  const loaders = (named !== undefined && BY_NAME[named]) || ALL;
  for (const register of await Promise.all(loaders.map((load) => load()))) register(program, setExit);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    if (e.code?.startsWith('commander.')) return e.exitCode ?? 2;
    throw err;
  }
  return exitCode;
}
