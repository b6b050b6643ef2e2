/** Small shared pieces for benchmarks. */
export function log(message: string): void {
  process.stderr.write(message + '\n');
}

export function option(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

export function optionString(args: string[], name: string, dflt: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
}

/** Runs `fn` and returns elapsed seconds (high-resolution). */
export async function timed(fn: () => unknown | Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export function round(n: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/**
 * `--store embedded` runs a bench on the embedded store; `--store mongodb` (or a list such as
 * `embedded,mongodb`) runs it on the embedded store and on each named store in the same run and
 * prints the figures side by side.
 */
export async function perStore(args: string[], bench: string, runOn: (store: string) => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
  const named = optionString(args, 'store', 'embedded').split(',').filter(Boolean);
  const stores = named.includes('embedded') ? named : ['embedded', ...named];
  if (stores.length === 1) return runOn(stores[0]);
  const results: Record<string, Record<string, unknown>> = {};
  for (const s of stores) results[s] = await runOn(s);
  const figures = Object.keys(results[stores[0]]).filter((k) => typeof results[stores[0]][k] === 'number');
  const width = Math.max(...figures.map((f) => f.length));
  log(`\n${bench}: ${'figure'.padEnd(width)}  ${stores.map((s) => s.padStart(12)).join('  ')}`);
  for (const f of figures) log(`${' '.repeat(bench.length + 2)}${f.padEnd(width)}  ${stores.map((s) => String(results[s][f] ?? '-').padStart(12)).join('  ')}`);
  return { bench, stores: results };
}
