/**
 * The operator suite's API server: etcd + kube-apiserver (built by scripts/test-services/build-kube.sh,
 * cached) started once for the whole run. Suites read the kubeconfig path with `inject('kubeconfig')`.
 *
 * - SLUICE_TEST_KUBECONFIG=<path> uses a running server instead (e.g. one from `npm run kube:start`).
 * - When the binaries cannot be had (no cache, no Go toolchain), the suites skip, except in CI,
 *   where the run fails. A server that does not start always fails the run.
 */
import type { TestProject } from 'vitest/node';
import { buildAppImage } from '../../scripts/test-services/app-image.js';
import { kubeBinaries, startKube, type RunningKube } from '../../scripts/test-services/kube.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of an admin kubeconfig for the test API server; empty when there is none (suites skip). */
    kubeconfig: string;
    kubeProblem: string;
    /** The runtime image's /app (compiled dist/), for the fake node to run runtime pods from. */
    appImage: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const image = buildAppImage();
  project.provide('appImage', image.dir);
  const stopKube = await startServer(project);
  return async () => {
    await stopKube();
    image.remove();
  };
}

async function startServer(project: TestProject): Promise<() => Promise<void>> {
  const existing = process.env.SLUICE_TEST_KUBECONFIG;
  if (existing) {
    project.provide('kubeconfig', existing);
    project.provide('kubeProblem', '');
    return async () => {};
  }
  let binDir: string;
  try {
    binDir = kubeBinaries();
  } catch (err) {
    const problem = `no kube-apiserver/etcd binaries: ${(err as Error).message}`;
    if (process.env.CI) throw new Error(`The operator suite needs a Kubernetes API server. ${problem}`);
    console.warn(`operator suite skipped: ${problem}`);
    project.provide('kubeconfig', '');
    project.provide('kubeProblem', problem);
    return async () => {};
  }
  let kube: RunningKube;
  try {
    kube = await startKube({ binDir });
  } catch (err) {
    throw new Error(`The operator suite's Kubernetes API server did not start: ${(err as Error).message}`);
  }
  project.provide('kubeconfig', kube.kubeconfig);
  project.provide('kubeProblem', '');
  return async () => {
    await kube.stop();
  };
}
