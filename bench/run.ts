/**
 * `npm run bench -- <name> [--json] [options]`: runs one benchmark. Human-readable lines go to
 * stderr; the result object is printed as JSON on the last line of stdout.
 */
const benches: Record<string, () => Promise<{ run(args: string[]): Promise<Record<string, unknown>> }>> = {
  dtl: () => import('./dtl.js'),
  compile: () => import('./compile.js'),
  pipe: () => import('./pipe.js'),
  api: () => import('./api.js'),
  'pipe-hops': () => import('./pipe-hops.js'),
  test: () => import('./test-project.js'),
  rest: () => import('./rest.js'),
  startup: () => import('./startup.js'),
  studio: () => import('./studio.js'),
  sql: () => import('./sql.js'),
  'api-latency': () => import('./api-latency.js'),
  parallel: () => import('./parallel.js'),
};

export function registerBench(name: string, loader: () => Promise<{ run(args: string[]): Promise<Record<string, unknown>> }>): void {
  benches[name] = loader;
}

async function main(argv: string[]): Promise<number> {
  const name = argv.find((a) => !a.startsWith('-'));
  if (!name || !(name in benches)) {
    console.error(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [--json]`);
    return 2;
  }
  const rest = argv.filter((a) => a !== name && a !== '--json');
  const mod = await benches[name]();
  const result = await mod.run(rest);
  console.log(JSON.stringify(result));
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
