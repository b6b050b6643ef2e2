/** The `sluice` command line. Each command lives in its own module under cli/commands/. */
import { Command } from 'commander';
import { registerValidate } from './commands/validate.js';
import { registerCompile } from './commands/compile.js';
import { registerRun } from './commands/run.js';
import { registerTest } from './commands/test.js';
import { registerClient } from './commands/client.js';
import { registerRuntime } from './commands/runtime.js';
import { registerOperator } from './commands/operator.js';
import { COMPILER_VERSION } from '../compiler/version.js';

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
  registerValidate(program, setExit);
  registerCompile(program, setExit);
  registerRun(program, setExit);
  registerTest(program, setExit);
  registerClient(program, setExit);
  registerRuntime(program, setExit);
  registerOperator(program, setExit);
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
