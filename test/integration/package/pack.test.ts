/**
 * The command line as users install it from npm: the package scripts/build.js `packageCli` stages
 * (`npm run package:cli`), packed with `npm pack`, installed with `npm install <tarball>` into an
 * empty folder, and run from there through the `contact-watch` command npm links.
 *
 * The tarball holds the bundle and declares no dependency, so the install needs no registry
 * (`--offline`, with a cache of its own) and takes about a second. The bundle itself is the one
 * the test project's set-up built (test/support/bundle.ts); nothing here rebuilds dist/, which
 * other test files are running.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProcess, type CliRun } from '../../support/cli.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface PackResult {
  filename: string;
  files: Array<{ path: string }>;
}

let dir: string;
let packed: PackResult;
let installed: string;
let manifest: { version: string };

function npm(args: string[], cwd: string): Promise<CliRun> {
  return runProcess('npm', [...args, '--cache', join(dir, 'npm-cache'), '--no-audit', '--no-fund', '--no-update-notifier'], {}, { cwd });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'contact-watch-pack-'));
  manifest = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const { packageCli } = (await import(pathToFileURL(join(REPO_ROOT, 'scripts/build.js')).href)) as {
    packageCli: (options: { out: string }) => Promise<{ folder: string }>;
  };
  const { folder } = await packageCli({ out: join(dir, 'stage') });

  const pack = await npm(['pack', folder, '--pack-destination', dir, '--json'], dir);
  expect(pack.code, pack.stderr).toBe(0);
  [packed] = JSON.parse(pack.stdout) as [PackResult];

  installed = join(dir, 'app');
  await mkdir(installed);
  await writeFile(join(installed, 'package.json'), JSON.stringify({ name: 'uses-contact-watch', private: true }));
  const install = await npm(['install', '--offline', join(dir, packed.filename)], installed);
  expect(install.code, install.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the npm package of the command line', () => {
  it('holds the command, its bundle, the README and the licence, and declares no dependency', async () => {
    expect(packed.files.map((file) => file.path).sort()).toEqual([
      'LICENSE',
      'README.md',
      'bin/contact-watch.js',
      'dist/cli.js',
      'package.json',
    ]);
    const published = JSON.parse(await readFile(join(installed, 'node_modules', 'contact-watch', 'package.json'), 'utf8'));
    expect(published).toMatchObject({ name: 'contact-watch', version: manifest.version, bin: { 'contact-watch': 'bin/contact-watch.js' } });
    expect(published.private).toBeUndefined();
    expect(published.dependencies).toBeUndefined();
    expect(published.optionalDependencies).toBeUndefined();
  });

  it.skipIf(process.platform === 'win32')('runs as the installed contact-watch command: --help and --version', async () => {
    const command = join(installed, 'node_modules', '.bin', 'contact-watch');
    const help = await runProcess(command, ['--help'], {}, { cwd: installed });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: contact-watch \[options\] \[command\]/);
    for (const name of ['scan', 'check', 'fix', 'exempt', 'exemptions', 'outbox', 'requeue'])
      expect(help.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    expect(help.stdout).toContain('--version');

    const version = await runProcess(command, ['--version'], {}, { cwd: installed });
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout).toBe(`${manifest.version}\n`);
  });
});
