/**
 * `npm run bench:cold-start`: what a cold start of the Functions app costs, and what it ships.
 *
 * Loads the deployed entry point in N fresh Node processes, each the way the Functions host's Node
 * worker does it (the `@azure/functions-core` seam answered by the registration test's preload,
 * then `import()` of the entry point), and reports the median time of that import and of the whole
 * process, for:
 *   - bundled:    dist/functions/index.js, what package.json `main` names and the package ships;
 *   - bundled, Application Insights on: the same with APPLICATIONINSIGHTS_CONNECTION_STRING set, as
 *                 infra/ deploys it: the import sets telemetry up and defers its start to right after
 *                 the import (src/app/start-telemetry.ts); the whole process shows that nothing keeps
 *                 a process that only loads the app alive;
 *   - the same, until telemetry runs: the import and the deferred start of the telemetry chunk
 *                 together (what the worker does before it is idle; nothing is sent);
 *   - bundled, not minified: the same bundle without minification (why `minify` is on);
 *   - unbundled:  the same sources compiled file by file (esbuild `bundle: false`), importing the
 *                 SDKs from node_modules, as a `tsc` build would deploy them;
 *   - floor:      `@azure/functions` alone, what any app pays.
 * Then builds the deployable package (scripts/build.js --package) and reports its size, and which
 * inputs weigh most in the bundle (esbuild metafile).
 *
 *   npm run bench:cold-start -- --runs 21
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const PRELOAD = join(repoRoot, 'test/integration/functions/fake-functions-core.cjs');
const work = join(repoRoot, '.test-output/cold-start');

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const runs = Number(args.runs);

interface BuildScript {
  functionsBuildOptions: BuildOptions;
  textAssets: Plugin;
  buildAll(): Promise<void>;
  packageApp(): Promise<{ folder: string; zip: string; folderBytes: number; zipBytes: number }>;
}
// A plain-JS script: imported by URL so the type checker does not look for its declarations.
const buildScript = (await import(pathToFileURL(join(repoRoot, 'scripts/build.js')).href)) as BuildScript;

/** Settings valid enough to start: the example's local values but for the local server's CA. */
const { NODE_EXTRA_CA_CERTS: _localServerCa, ...settings } = (
  JSON.parse(readFileSync(join(repoRoot, 'local.settings.example.json'), 'utf8')) as { Values: Record<string, string> }
).Values;

interface Sample {
  importMs: number;
  processMs: number;
}

/** A connection string whose ingestion endpoint refuses connections: telemetry starts, sends nothing. */
const TELEMETRY_ON = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=00000000-0000-4000-8000-000000000000;IngestionEndpoint=https://127.0.0.1:9/',
};

/**
 * One fresh process: preload the fake core, import the entry, print the import's duration; with
 * `untilTelemetryRuns`, the time until the start deferred by the import has run too (it was queued
 * during the import, so it runs before an immediate queued after it), then exit at once.
 */
function loadOnce(entry: string, extraEnv: Record<string, string> = {}, untilTelemetryRuns = false): Promise<Sample> {
  const script = untilTelemetryRuns
    ? `const t0 = performance.now(); await import(${JSON.stringify(entry)}); await new Promise((resolve) => setImmediate(resolve)); process.stdout.write('__import_ms=' + (performance.now() - t0), () => process.exit(0));`
    : `const t0 = performance.now(); await import(${JSON.stringify(entry)}); process.stdout.write('__import_ms=' + (performance.now() - t0));`;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', PRELOAD, '--input-type=module', '-e', script], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', ...settings, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const match = /__import_ms=([\d.]+)/.exec(stdout);
      if (code !== 0 || !match) return reject(new Error(`loading ${entry} failed (exit ${code}):\n${stderr.slice(0, 2000)}`));
      resolve({ importMs: Number(match[1]), processMs: performance.now() - started });
    });
  });
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

interface Variant {
  name: string;
  entry: string;
  env?: Record<string, string>;
  untilTelemetryRuns?: boolean;
}

/**
 * Each variant once to warm the file system cache (as a deployed app's disk would be), then `runs`
 * rounds of one load of each: on a busy machine every variant meets the same noise.
 */
async function measureAll(list: Variant[]): Promise<Map<string, { importMs: number; processMs: number; minImportMs: number }>> {
  const load = (variant: Variant) => loadOnce(pathToFileURL(variant.entry).href, variant.env, variant.untilTelemetryRuns);
  for (const variant of list) await load(variant);
  const samples = new Map<string, Sample[]>(list.map((variant) => [variant.name, []]));
  for (let i = 0; i < runs; i++) for (const variant of list) samples.get(variant.name)!.push(await load(variant));
  return new Map(
    [...samples].map(([name, taken]) => [
      name,
      {
        importMs: median(taken.map((s) => s.importMs)),
        processMs: median(taken.map((s) => s.processMs)),
        minImportMs: Math.min(...taken.map((s) => s.importMs)),
      },
    ]),
  );
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

function bytes(path: string): number {
  return statSync(path).size;
}

const mb = (value: number): string => (value / 1024 / 1024).toFixed(2);

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

// 1. The builds.
await buildScript.buildAll();
const bundled = join(repoRoot, 'dist/functions/index.js');
const { metafile } = await build({
  ...buildScript.functionsBuildOptions,
  outdir: join(work, 'metafile'),
  metafile: true,
  logLevel: 'error',
});
await build({ ...buildScript.functionsBuildOptions, outdir: join(work, 'bundled-plain'), minify: false, logLevel: 'error' });
// Node cannot load a text import (`?raw`, the report page's stylesheet and script): those are
// inlined, every other import is left as written, so there is still one file per source file.
const onlyTextImportsInlined: Plugin = {
  name: 'only-text-imports-inlined',
  setup(plugin) {
    plugin.onResolve({ filter: /.*/ }, (args) =>
      args.kind === 'entry-point' || args.path.endsWith('?raw') ? undefined : { path: args.path, external: true },
    );
  },
};
await build({
  entryPoints: sourceFiles(join(repoRoot, 'src')),
  outbase: join(repoRoot, 'src'),
  outdir: join(work, 'unbundled'),
  bundle: true,
  plugins: [onlyTextImportsInlined, buildScript.textAssets],
  platform: 'node',
  target: 'node22',
  format: 'esm',
  logLevel: 'error',
});
const floor = join(work, 'floor.js');
writeFileSync(floor, "import '@azure/functions';\n");

// 2. The loads.
const variants: Variant[] = [
  { name: 'bundled (deployed)', entry: bundled },
  { name: 'bundled, Application Insights on', entry: bundled, env: TELEMETRY_ON },
  { name: 'bundled, Application Insights on, until telemetry runs', entry: bundled, env: TELEMETRY_ON, untilTelemetryRuns: true },
  { name: 'bundled, not minified', entry: join(work, 'bundled-plain/index.js') },
  { name: 'unbundled (file by file)', entry: join(work, 'unbundled/functions/index.js') },
  { name: '`@azure/functions` alone', entry: floor },
];
const results = await measureAll(variants);
const rows = variants.map((variant) => {
  const result = results.get(variant.name)!;
  // A process that waits for telemetry exits as soon as it has measured: its whole time says nothing.
  const processMs = variant.untilTelemetryRuns ? '—' : result.processMs.toFixed(0);
  return `| ${variant.name} | ${result.importMs.toFixed(0)} | ${result.minImportMs.toFixed(0)} | ${processMs} |`;
});

// 3. The package, and what weighs in the bundle.
const pkg = await buildScript.packageApp();
const unbundledFiles = sourceFiles(join(repoRoot, 'src')).length;
const byInput = weightByPackage(metafile);

console.log(`Node ${process.version}, ${runs} fresh processes per variant (one of each in turn), after one to warm the file cache\n`);
console.log('| entry point | import (ms, median) | import (ms, min) | whole process (ms, median) |');
console.log('|---|---:|---:|---:|');
for (const row of rows) console.log(row);
const deployed = results.get('bundled (deployed)')!;
const unbundledResult = results.get('unbundled (file by file)')!;
console.log(
  `\nbundled vs unbundled: ${(unbundledResult.importMs / deployed.importMs).toFixed(1)}× faster to import (${unbundledFiles} source files)`,
);
console.log(`bundle: dist/functions/index.js ${mb(bytes(bundled))} MB (+ ${mb(bytes(`${bundled}.map`))} MB source map)`);
console.log(`package: ${relative(repoRoot, pkg.folder)} ${mb(pkg.folderBytes)} MB, zip ${mb(pkg.zipBytes)} MB`);
console.log(`\nheaviest inputs of the bundle (bytes in the minified output):`);
for (const [name, size] of byInput.slice(0, 10)) console.log(`  ${name.padEnd(40)} ${(size / 1024).toFixed(0).padStart(6)} KB`);
const withTelemetry = results.get('bundled, Application Insights on')!;
const untilTelemetryRuns = results.get('bundled, Application Insights on, until telemetry runs')!;
console.log(
  `\nApplication Insights on: the import takes ${(withTelemetry.importMs - deployed.importMs).toFixed(0)} ms more than without it; starting telemetry right after it, ${(untilTelemetryRuns.importMs - withTelemetry.importMs).toFixed(0)} ms more (medians, same run)`,
);
console.log(
  `targets: import < 300 ms ${deployed.importMs < 300 ? 'met' : 'NOT met'} (${deployed.importMs.toFixed(0)} ms; ${withTelemetry.importMs < 300 ? 'met' : 'NOT met'} with Application Insights on, ${withTelemetry.importMs.toFixed(0)} ms); package < 5 MB ${
    pkg.zipBytes < 5 * 1024 * 1024 && pkg.folderBytes < 5 * 1024 * 1024 ? 'met' : 'NOT met'
  }`,
);

/** Bytes of output per npm package (or `src` for our own code), largest first. */
function weightByPackage(meta: Metafile): Array<[string, number]> {
  const totals = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input.replaceAll('\\', '/'));
      const name = match ? match[1]! : input.startsWith('src/') ? 'src (contact-watch)' : input;
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...totals].sort((a, b) => b[1] - a[1]);
}
