import { Option, type Command } from 'commander';
import { compile, type CompileResult } from '../../compiler/compile.js';
import { formatDiagnostic, hasErrors, sortDiagnostics, type Diagnostic } from '../../compiler/diagnostics.js';
import { ConfigIoError } from '../../compiler/load/files.js';
import { ioDiagnostic, readConfigInput, type ConfigInput, type ConfigInputOptions } from '../config-input.js';
import { configOptions, type SetExit } from './shared.js';

export function printDiagnostics(diagnostics: Diagnostic[], format: string): void {
  if (format === 'json') {
    console.log(JSON.stringify(diagnostics.map(({ file, line, column, severity, code, message }) => ({ file, line, column, severity, code, message })), null, 2));
    return;
  }
  for (const d of diagnostics) console.log(formatDiagnostic(d));
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
  if (diagnostics.length) console.error(`${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`);
}

/**
 * Reads the config input; a path that cannot be read is printed as a diagnostic in the chosen
 * format and answered with exit code 2 (undefined is returned).
 */
export async function readInputOrReport(path: string, opts: ConfigInputOptions & { format?: string }, setExit: SetExit): Promise<ConfigInput | undefined> {
  try {
    return await readConfigInput(path, opts);
  } catch (err) {
    if (!(err instanceof ConfigIoError)) throw err;
    const d = ioDiagnostic(path, err);
    if (opts.format === 'json') printDiagnostics([d], 'json');
    else console.error(formatDiagnostic(d));
    setExit(2);
    return undefined;
  }
}

/** Compiles the input; the diagnostics of the env and secrets files come first in file order. */
export function compileInput(input: ConfigInput): CompileResult {
  const result = compile(input.files, { env: input.env, secrets: input.secrets });
  if (!input.diagnostics.length) return result;
  const diagnostics = sortDiagnostics([...input.diagnostics, ...result.diagnostics]);
  return hasErrors(input.diagnostics) ? { diagnostics } : { ...result, diagnostics };
}

export function registerValidate(program: Command, setExit: SetExit): void {
  configOptions(
    program
      .command('validate')
      .description('check config and print every problem as file:line:col severity CODE message')
      .argument('<path>', 'config folder, single config file (JSON array or YAML), or git repository with --git-ref')
      .addOption(new Option('--format <format>', 'text or json').choices(['text', 'json']).default('text')),
  ).action(async (path: string, opts) => {
    const input = await readInputOrReport(path, opts, setExit);
    if (!input) return;
    const result = compileInput(input);
    printDiagnostics(result.diagnostics, opts.format);
    if (opts.format !== 'json' && !result.diagnostics.length) console.log(`ok: ${result.plan!.pipes.length} pipes, ${result.plan!.systems.length} systems`);
    setExit(hasErrors(result.diagnostics) ? 1 : 0);
  });
}
