import { defineConfig } from 'vitest/config';

/**
 * The operator suite (npm run test:k8s): tests against a real kube-apiserver + etcd started once for
 * the run by test/operator/global-setup.ts (see scripts/test-services/kube.ts), with the fake node of
 * test/support/kube-node.ts playing the controllers and kubelet.
 */
export default defineConfig({
  test: {
    include: ['test/operator/**/*.test.ts'],
    // The API server and the runtime image; FerretDB for the runtime pods that keep their data in MongoDB.
    globalSetup: ['test/operator/global-setup.ts', 'test/global-setup.ts'],
    pool: 'forks',
    // One file at a time: the end-to-end tests time rollouts, and each file runs several processes.
    fileParallelism: false,
    // Suites wait up to a minute for rollouts with their own diagnostics (waitFor): the test
    // timeout must be longer, or it fires first and the diagnostics are lost.
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
