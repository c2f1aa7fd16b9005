// Bundles the command line and the Functions app with esbuild.
//
//   node scripts/build.js             dist/cli.js and dist/functions/index.js
//   node scripts/build.js --package       also the deployable folder .test-output/package/ and its zip
//   node scripts/build.js --cli-package   also the command line's npm package, .test-output/cli-package/
//
// The Functions bundle holds everything but `@azure/functions` (small, shipped in node_modules) and
// `@azure/functions-core` (provided by the Functions host's Node worker at run time).
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * `import text from './file?raw'` gives the file's text, as Vite (and so vitest) does: the report
 * page's stylesheet and script are kept as files (src/report/assets/) and bundled as strings.
 */
export const textAssets = {
  name: 'contact-watch-text-assets',
  setup(plugin) {
    plugin.onResolve({ filter: /\?raw$/ }, (args) => ({
      path: relative(repoRoot, join(args.resolveDir, args.path.slice(0, -'?raw'.length))),
      namespace: 'text-asset',
    }));
    plugin.onLoad({ filter: /.*/, namespace: 'text-asset' }, async (args) => ({
      contents: await readFile(join(repoRoot, args.path), 'utf8'),
      loader: 'text',
    }));
  },
};

const shared = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: repoRoot,
  plugins: [textAssets],
  // CommonJS dependencies inside an ES module bundle still call require().
  banner: { js: "import { createRequire as __cwCreateRequire } from 'node:module'; const require = __cwCreateRequire(import.meta.url);" },
};

/** What the Functions host must find next to the bundle; everything else is inside it. */
export const FUNCTIONS_EXTERNAL = ['@azure/functions', '@azure/functions-core'];

/** The Functions app's bundle (package.json `main`). bench/cold-start.ts reuses these options. */
export const functionsBuildOptions = {
  ...shared,
  entryPoints: { index: 'src/functions/index.ts' },
  outdir: 'dist/functions',
  external: FUNCTIONS_EXTERNAL,
  // Smaller to read at every cold start; names kept so that stack traces stay readable, and lines
  // short so that Node's report of an uncaught error does not print a whole bundle line.
  minify: true,
  keepNames: true,
  lineLimit: 200,
};

/**
 * Application Insights through OpenTelemetry (src/app/telemetry.ts), on its own: the app's bundle
 * holds none of it, and src/app/start-telemetry.ts `startTelemetry` requires it only when
 * APPLICATIONINSIGHTS_CONNECTION_STRING is set. CommonJS, so that it loads synchronously, before
 * the functions are registered (the host locks `app.setup` after loading the entry point).
 */
export const TELEMETRY_CHUNK = 'telemetry.cjs';

/**
 * Packages that `@azure/monitor-opentelemetry` and `@opentelemetry/sdk-node` require at load but
 * use only when configured otherwise: the OTLP, Zipkin and Prometheus exporters (chosen with
 * OTEL_*_EXPORTER variables), declarative configuration (OTEL_EXPERIMENTAL_CONFIG_FILE), and the
 * HTTP, database and logging-library instrumentations (off unless `instrumentationOptions` turns
 * them on; src/app/telemetry.ts turns them off: this app uses none of those libraries, and makes
 * no call through a `require`d `http` or `https`). Left out they save 2 MB of the 3 MB chunk; each
 * is replaced by a stand-in whose exports throw, naming the package, if anything ever uses one.
 */
export const TELEMETRY_LEFT_OUT = [
  /^@grpc\//,
  /^@opentelemetry\/exporter-(?:trace|metrics|logs)-otlp-(?:grpc|http|proto)$/,
  /^@opentelemetry\/(?:otlp-grpc-exporter-base|otlp-exporter-base|otlp-transformer)(?:\/|$)/,
  /^@opentelemetry\/exporter-(?:zipkin|prometheus)$/,
  /^@opentelemetry\/configuration$/,
  /^@opentelemetry\/instrumentation-(?:http|mongodb|mysql|pg|redis|redis-4|bunyan|winston)$/,
  /^protobufjs(?:\/|$)/,
  /^yaml$/,
];

const leaveOutUnused = {
  name: 'contact-watch-telemetry-left-out',
  setup(plugin) {
    plugin.onResolve({ filter: /.*/ }, (args) =>
      TELEMETRY_LEFT_OUT.some((pattern) => pattern.test(args.path)) ? { path: args.path, namespace: 'left-out' } : undefined,
    );
    plugin.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({
      contents: `const name = ${JSON.stringify(args.path)};
const fail = () => { throw new Error(name + ' is left out of the telemetry chunk (scripts/build.js TELEMETRY_LEFT_OUT)'); };
module.exports = new Proxy({}, { get: (_, key) => (key === '__esModule' ? false : typeof key === 'symbol' ? undefined : new Proxy(function () {}, { apply: fail, construct: fail })) });`,
      loader: 'js',
    }));
  },
};
export const telemetryBuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: repoRoot,
  entryPoints: { telemetry: 'src/app/telemetry.ts' },
  outdir: 'dist/functions',
  outExtension: { '.js': '.cjs' },
  // The same `@azure/functions` instance as the app's: its hooks are the app's hooks.
  external: FUNCTIONS_EXTERNAL,
  plugins: [leaveOutUnused],
  // The packages' ES module builds are bundled; the few that read import.meta.url get the chunk's.
  define: { 'import.meta.url': '__cwImportMetaUrl' },
  banner: { js: "const __cwImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  minify: true,
  keepNames: true,
  lineLimit: 200,
};

export async function buildAll() {
  await build({ ...shared, entryPoints: { cli: 'src/cli/main.ts' }, outdir: 'dist' });
  await build(functionsBuildOptions);
  await build(telemetryBuildOptions);
}

/**
 * The deployable folder (.test-output/package/app/) and its zip: the bundle, host.json, a package.json
 * whose only dependency is @azure/functions, and node_modules with exactly that package and what it
 * depends on. Zip-deploy it with `az functionapp deployment source config-zip --src package.zip`.
 */
export async function packageApp({ out = join(repoRoot, '.test-output', 'package') } = {}) {
  const app = join(out, 'app');
  await rm(out, { recursive: true, force: true });
  await mkdir(join(app, 'dist'), { recursive: true });
  // The source map (7 MB, mostly the SDKs' sources) stays out: Node reads it only with
  // --enable-source-maps, and keepNames leaves the function names in stack traces.
  await cp(join(repoRoot, 'dist', 'functions'), join(app, 'dist', 'functions'), {
    recursive: true,
    filter: (path) => !path.endsWith('.map'),
  });
  await cp(join(repoRoot, 'host.json'), join(app, 'host.json'));

  const manifest = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8'));
  const runtime = ['@azure/functions'];
  const deployed = {
    name: manifest.name,
    version: manifest.version,
    private: true,
    type: manifest.type,
    main: manifest.main,
    engines: manifest.engines,
    dependencies: Object.fromEntries(runtime.map((name) => [name, manifest.dependencies[name]])),
  };
  await writeFile(join(app, 'package.json'), `${JSON.stringify(deployed, null, 2)}\n`);
  for (const directory of productionClosure(runtime)) {
    await cp(directory, join(app, relative(repoRoot, directory)), { recursive: true });
  }

  const folderBytes = await directoryBytes(app);
  const zip = join(out, 'package.zip');
  try {
    execFileSync('zip', ['-q', '-r', '-X', zip, '.'], { cwd: app, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
    console.warn('package: `zip` is not installed; the folder is ready, the zip is not');
    return { folder: app, zip: undefined, folderBytes, zipBytes: undefined };
  }
  return { folder: app, zip, folderBytes, zipBytes: (await stat(zip)).size };
}

/**
 * The command line as an npm package of its own (.test-output/cli-package/): bin/, dist/cli.js,
 * the README and the LICENSE, under a manifest with no dependencies. dist/cli.js holds every package the command
 * line uses, so the repository's manifest is not the one to publish: it lists those packages
 * again, and the Node 22 binaries (optionalDependencies) that the repository's own scripts run
 * on, which an install would put on the user's PATH as `node`. That manifest stays private.
 * `npm pack .test-output/cli-package` (or `npm publish` of it) makes the tarball.
 */
export async function packageCli({ out = join(repoRoot, '.test-output', 'cli-package') } = {}) {
  await rm(out, { recursive: true, force: true });
  await mkdir(join(out, 'dist'), { recursive: true });
  await cp(join(repoRoot, 'bin'), join(out, 'bin'), { recursive: true });
  // Without its map (7 MB): Node reads it only with --enable-source-maps.
  await cp(join(repoRoot, 'dist', 'cli.js'), join(out, 'dist', 'cli.js'));
  await cp(join(repoRoot, 'README.md'), join(out, 'README.md'));
  await cp(join(repoRoot, 'LICENSE'), join(out, 'LICENSE'));
  const manifest = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8'));
  const published = {
    name: manifest.name,
    version: manifest.version,
    description: manifest.description,
    license: manifest.license,
    type: manifest.type,
    engines: manifest.engines,
    bin: manifest.bin,
    files: ['bin/', 'dist/cli.js'],
  };
  await writeFile(join(out, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);
  return { folder: out, folderBytes: await directoryBytes(out) };
}

/** The package directories of `names` and of their dependencies, found as Node's resolution would. */
function productionClosure(names) {
  const found = new Set();
  const visit = (name, fromDirectory) => {
    const directory = packageDirectory(name, fromDirectory);
    if (found.has(directory)) return;
    found.add(directory);
    const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8'));
    for (const dependency of Object.keys(manifest.dependencies ?? {})) visit(dependency, directory);
  };
  for (const name of names) visit(name, repoRoot);
  return [...found];
}

/** The nearest node_modules/<name> from `fromDirectory` upwards. */
function packageDirectory(name, fromDirectory) {
  for (let directory = fromDirectory; ; directory = dirname(directory)) {
    const candidate = join(directory, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(directory) === directory) throw new Error(`package: cannot find ${name} from ${fromDirectory}`);
  }
}

export async function directoryBytes(path) {
  let total = 0;
  for (const entry of await readdir(path, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildAll();
  if (process.argv.includes('--package')) {
    const { folder, zip, folderBytes, zipBytes } = await packageApp();
    console.log(`package: ${relative(repoRoot, folder)} ${mb(folderBytes)}${zip ? `; ${relative(repoRoot, zip)} ${mb(zipBytes)}` : ''}`);
  }
  if (process.argv.includes('--cli-package')) {
    const { folder, folderBytes } = await packageCli();
    console.log(
      `cli package: ${relative(repoRoot, folder)} ${mb(folderBytes)}; \`npm pack ${relative(repoRoot, folder)}\` makes its tarball`,
    );
  }
}
