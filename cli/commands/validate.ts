import { Option, type Command } from 'commander';
import { compile } from '../../compiler/compile.js';
import { formatDiagnostic, hasErrors, type Diagnostic } from '../../compiler/diagnostics.js';
import { envValues, readConfigInput, secretNames } from '../config-input.js';
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

export function registerValidate(program: Command, setExit: SetExit): void {
  configOptions(
    program
      .command('validate')
      .description('check config and print every problem as file:line:col severity CODE message')
      .argument('<path>', 'config folder, single config file (JSON array or YAML), or git repository with --git-ref')
      .addOption(new Option('--format <format>', 'text or json').choices(['text', 'json']).default('text')),
  ).action(async (path: string, opts) => {
    const { files } = await readConfigInput(path, opts);
    const result = compile(files, { env: envValues(path, opts), secrets: secretNames(opts) });
    printDiagnostics(result.diagnostics, opts.format);
    if (opts.format !== 'json' && !result.diagnostics.length) console.log(`ok: ${result.plan!.pipes.length} pipes, ${result.plan!.systems.length} systems`);
    setExit(hasErrors(result.diagnostics) ? 1 : 0);
  });
}
