import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

/** Test files that run what scripts/build.js puts in dist/ (the command line's and the Functions app's bundles). */
const BUNDLE_TESTS = [
  'test/integration/cli/**/*.test.ts',
  'test/integration/functions/**/*.test.ts',
  'test/integration/package/**/*.test.ts',
  'test/unit/app/telemetry.test.ts',
];

/**
 * One `vitest run`, three projects. Vitest queues them by name, so the integration tests (the
 * longest) start first while the bundle is built, and the short unit tests fill the end.
 * - integration: the adapters, the app, the state store, the local Azure test server and the test
 *   support, against local Azure test servers and Azurite. Its global set-up makes the servers'
 *   TLS certificate.
 * - packaged: the tests of the bundles (BUNDLE_TESTS). Its global set-up starts the build in the
 *   background; each of its files waits for it (test/support/bundle-ready.ts).
 * - unit: pure code, and the contract suites over the in-memory adapters; no set-up to wait for.
 *
 * `isolate: false` reuses a worker process for the next test file of the same project instead of
 * starting one per file: the SDK imports are paid once per worker, and so is the Azurite that
 * test/support/azurite.ts lends to one file at a time. Test files must not leave state behind
 * that another file could see; those that use module-level state reset it (beforeAll/afterAll).
 *
 * At least two workers: vitest's default (one less than the cores) is one on a two-core machine,
 * which leaves a core idle while a test waits for Azurite, a socket or a Retry-After. Forks, not
 * threads: a worker must read NODE_EXTRA_CA_CERTS when it starts (test/global-setup.ts).
 */
export default defineConfig({
  test: {
    pool: 'forks',
    // A stylesheet imported as text (`?raw`, src/report/html.ts) goes to Vite, which returns its text; vitest blanks other CSS.
    css: { include: [/\.css\?raw$/] },
    isolate: false,
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.test-output/vitest.json' }]] : ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'integration',
          include: [
            'test/integration/**/*.test.ts',
            'test/azure-server/**/*.test.ts',
            'test/support/**/*.test.ts',
            'test/soak/**/*.test.ts',
          ],
          exclude: [...configDefaults.exclude, ...BUNDLE_TESTS],
          globalSetup: ['test/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'packaged',
          include: BUNDLE_TESTS,
          globalSetup: ['test/global-setup.ts', 'test/support/bundle.ts'],
          setupFiles: ['test/support/bundle-ready.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/contract/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...BUNDLE_TESTS],
        },
      },
    ],
  },
});
