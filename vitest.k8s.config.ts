import { defineConfig } from 'vitest/config';

/**
 * The operator suite (npm run test:k8s): tests against a real kube-apiserver + etcd started once for
 * the run by test/operator/global-setup.ts (see scripts/test-services/kube.ts), with the fake node of
 * test/support/kube-node.ts playing the controllers and kubelet.
 */
export default defineConfig({
  test: {
    include: ['test/operator/**/*.test.ts'],
    globalSetup: ['test/operator/global-setup.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
