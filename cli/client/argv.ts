/**
 * Command lines written for Sesam's client work unchanged: its single-dash long options
 * (`-node URL`, `-jwt T`, `-runs 2`, `-scheduler-zero-runs 3`, `-vv`, ...) are rewritten to the
 * double-dash form, and `sluice run` without a config folder (or with `--node`/`--jwt`) is the
 * client's `run` verb (`sluice run-all`) rather than the local runtime (`sluice run <path>`).
 */
import type { Command } from 'commander';

export const CLIENT_VERBS = ['test', 'upload', 'download', 'status', 'run-all', 'verify', 'update', 'wipe', 'stop', 'restart', 'reset'];

/** Single-dash long options of the client that these verbs accept. */
const LONG_OPTIONS = new Set([
  'node',
  'jwt',
  'profile',
  'runs',
  'sync-config-file',
  'force',
  'dump',
  'diff',
  'print-scheduler-log',
  'output-run-statistics',
  'scheduler-mode',
  'scheduler-request-mode',
  'scheduler-zero-runs',
  'scheduler-max-runs',
  'scheduler-max-run-time',
  'scheduler-check-input-pipes',
  'scheduler-dont-reset-pipes-or-delete-sink-datasets',
  'enable-user-pipes',
  'upload-delete-sink-datasets',
  'no-large-int-bugs',
  'unicode-encoding',
  'disable-json-html-escape',
  'restart-timeout',
]);

/** Options of the local `sluice run <path>` that take a value. */
const RUNTIME_VALUE_OPTIONS = new Set(['--port', '--host', '--data-dir', '--store', '--profile', '-e', '--env', '--jwt-secret', '--jwt-secret-file', '--log-level']);
/** Options of the client's run verb that take a value. */
const CLIENT_VALUE_OPTIONS = new Set(['--node', '--jwt', '--profile', '--sync-config-file', '--scheduler-mode', '--scheduler-request-mode', '--scheduler-zero-runs', '--scheduler-max-runs', '--scheduler-max-run-time']);

function verbIndex(args: string[]): number {
  return args.findIndex((a) => !a.startsWith('-'));
}

/** Rewrites `args` (without the node and script paths). */
export function rewriteClientArgs(args: string[]): string[] {
  const at = verbIndex(args);
  if (at < 0) return args;
  const out = [...args];
  const verb = out[at];
  const isRunVerb = verb === 'run';
  if (!CLIENT_VERBS.includes(verb) && !isRunVerb) return args;
  for (let i = at + 1; i < out.length; i++) {
    const a = out[i];
    if (a === '--') break;
    const m = /^-([a-z][a-z-]+)(=.*)?$/.exec(a);
    if (m && LONG_OPTIONS.has(m[1])) out[i] = `--${m[1]}${m[2] ?? ''}`;
    else if (a === '-vv' || a === '-vvv') out[i] = '--verbose';
  }
  if (isRunVerb) {
    const rest = out.slice(at + 1);
    const clientFlag = rest.some((a) => /^--(node|jwt)(=|$)/.test(a) || /^--(scheduler-|print-scheduler-log|output-run-statistics|sync-config-file)/.test(a));
    let positional = false;
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i];
      if (a === '--') {
        positional = i + 1 < rest.length;
        break;
      }
      if (a.startsWith('-')) {
        if (!a.includes('=') && (RUNTIME_VALUE_OPTIONS.has(a) || CLIENT_VALUE_OPTIONS.has(a))) i++;
        continue;
      }
      positional = true;
    }
    const help = rest.some((a) => a === '--help' || a === '-h');
    if (clientFlag || (!positional && !help)) out[at] = 'run-all';
  }
  return out;
}

const installed = new WeakSet<Command>();

/** Makes `program.parseAsync` rewrite client-style arguments first (once per program). */
export function installClientArgs(program: Command): void {
  if (installed.has(program)) return;
  installed.add(program);
  const parseAsync = program.parseAsync.bind(program);
  program.parseAsync = ((argv?: readonly string[], options?: Parameters<Command['parseAsync']>[1]) => {
    if (!argv) return parseAsync(argv, options);
    const from = options?.from ?? 'node';
    const skip = from === 'user' ? 0 : from === 'electron' ? 1 : 2;
    return parseAsync([...argv.slice(0, skip), ...rewriteClientArgs(argv.slice(skip))], options);
  }) as Command['parseAsync'];
}
