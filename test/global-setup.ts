/**
 * Test services for the whole run: a MongoDB-protocol server (FerretDB built from the Go module
 * proxy) unless MONGODB_URI names one. Suites read the URI with `inject('mongodbUri')`; an empty
 * value means no server could be provided (the suites then fail in CI and skip elsewhere).
 */
import type { TestProject } from 'vitest/node';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hasGo, startFerretDb, type RunningServer } from '../scripts/test-services/ferretdb.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mongodbUri: string;
    mongodbProblem: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Suites that run the real `sluice` command start the compiled build: make it current once here,
  // not inside whichever test happens to start it first.
  const build = spawnSync(process.execPath, [fileURLToPath(new URL('../scripts/build-server.mjs', import.meta.url))], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`building dist/ failed:\n${build.stderr}`);
  let server: RunningServer | undefined;
  let uri = process.env.MONGODB_URI ?? '';
  let problem = '';
  if (!uri && process.env.SLUICE_NO_MONGODB !== '1') {
    if (hasGo() || existsSync(`${process.env.HOME}/.cache/sluice`)) {
      try {
        server = await startFerretDb();
        uri = server.uri;
      } catch (err) {
        problem = (err as Error).message;
      }
    } else problem = 'neither MONGODB_URI nor the Go toolchain (to build FerretDB) is available';
  }
  project.provide('mongodbUri', uri);
  project.provide('mongodbProblem', problem);
  return async () => {
    await server?.stop();
  };
}
