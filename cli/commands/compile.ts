import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { compileInput, printDiagnostics, readInputOrReport } from './validate.js';
import { configOptions, type SetExit } from './shared.js';

export function registerCompile(program: Command, setExit: SetExit): void {
  configOptions(
    program
      .command('compile')
      .description('compile config into an execution plan (JSON)')
      .argument('<path>', 'config folder, single config file, or git repository with --git-ref')
      .option('-o, --output <file>', 'write the plan here instead of standard output')
      .addOption(new Option('--format <format>', 'diagnostics format: text or json').choices(['text', 'json']).default('text')),
  ).action(async (path: string, opts) => {
    const input = await readInputOrReport(path, opts, setExit);
    if (!input) return;
    const { revision } = input;
    const result = compileInput(input);
    if (!result.plan) {
      printDiagnostics(result.diagnostics, opts.format);
      setExit(1);
      return;
    }
    if (result.diagnostics.length) {
      if (opts.output) printDiagnostics(result.diagnostics, opts.format);
      else for (const d of result.diagnostics) console.error(`${d.file}:${d.line}:${d.column} ${d.severity} ${d.code} ${d.message}`);
    }
    const text = JSON.stringify(revision ? { ...result.plan, revision } : result.plan, null, 2) + '\n';
    if (opts.output) {
      writeFileSync(opts.output, text);
      console.log(`wrote ${opts.output}: ${result.plan.pipes.length} pipes, ${result.plan.systems.length} systems, hash ${result.plan.hash.slice(0, 12)}`);
    } else process.stdout.write(text);
    setExit(0);
  });
}
