import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The operator suite needs a Kubernetes API server: `npm run test:k8s` (vitest.k8s.config.ts).
    exclude: [...configDefaults.exclude, 'test/operator/**'],
    globalSetup: ['test/global-setup.ts', 'test/studio/global-setup.ts'],
    // Two cores: keep parallelism modest so that process-spawning suites do not starve each other.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
