import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Builds the CLI bundle and creates the throwaway TLS certificate the local Azure test
    // server uses; workers inherit NODE_EXTRA_CA_CERTS from it.
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    // A stylesheet imported as text (`?raw`, src/report/html.ts) goes to Vite, which returns its text; vitest blanks other CSS.
    css: { include: [/\.css\?raw$/] },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.test-output/vitest.json' }]] : ['default'],
  },
});
