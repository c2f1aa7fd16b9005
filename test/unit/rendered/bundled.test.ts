/**
 * The bundle (scripts/build.js) inlines the report page's stylesheet and script as vitest does: the
 * page the CLI writes is byte for byte the page the tests render (expected/report.html).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

it('renders the same HTML report when bundled', async () => {
  // A plain-JS script: imported by URL so the type checker does not look for its declarations.
  const { textAssets } = (await import(pathToFileURL(join(repoRoot, 'scripts/build.js')).href)) as { textAssets: Plugin };
  const entry = [
    "import { renderReport } from './src/report/index.js';",
    "import { CONTEXT, REPORT } from './test/unit/report/report-fixture.js';",
    "process.stdout.write(renderReport(REPORT, 'html', CONTEXT));",
  ].join('\n');
  const bundle = await build({
    stdin: { contents: entry, resolveDir: repoRoot, loader: 'ts', sourcefile: 'render-report.ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    plugins: [textAssets],
    write: false,
    logLevel: 'error',
  });
  const directory = join(repoRoot, '.test-output', 'rendered');
  mkdirSync(directory, { recursive: true });
  const script = join(directory, 'render-report.mjs');
  writeFileSync(script, bundle.outputFiles[0]!.text);
  const run = spawnSync(process.execPath, [script], { cwd: repoRoot, encoding: 'utf8' });
  expect(run.stderr).toBe('');
  expect(run.stdout).toBe(readFileSync(join(repoRoot, 'test/unit/rendered/expected/report.html'), 'utf8'));
});
