/**
 * The CLI and Functions bundles (`node scripts/build.js`, what users run) for the tests that run
 * them, built while the other tests already run.
 *
 * - The default export is the vitest global set-up of the project whose tests need dist/
 *   (vitest.config.ts): it starts the build in the background and returns at once, so that the
 *   tests that do not need it do not wait for it. When the build ends, its outcome is written to
 *   a status file named to the workers through `provide`.
 * - test/support/bundle-ready.ts, that project's setup file, waits in the worker until the
 *   status file says the build is done; a failed build fails every test file that needs the
 *   bundle, with the build's output.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The file test/support/bundle.ts writes when the build has ended: `BuildStatus` as JSON. */
    contactWatchBundleStatusFile: string;
  }
}

export interface BuildStatus {
  ok: boolean;
  /** What the build printed, for a failure message. */
  output: string;
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BUILD_TIMEOUT_MS = 120_000;

export default async function startBuild(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'contact-watch-bundle-'));
  const statusFile = join(dir, 'status.json');
  project.provide('contactWatchBundleStatusFile', statusFile);
  const built = build().then(async (status) => {
    // Written whole, then renamed: a worker never reads half a status.
    await writeFile(`${statusFile}.partial`, JSON.stringify(status));
    await rename(`${statusFile}.partial`, statusFile);
  });
  return async () => {
    await built;
    await rm(dir, { recursive: true, force: true });
  };
}

function build(): Promise<BuildStatus> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['scripts/build.js'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: BUILD_TIMEOUT_MS,
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', (error) => resolve({ ok: false, output: `${output}\n${error.message}`.trim() }));
    child.on('close', (code, signal) => {
      if (code === 0) resolve({ ok: true, output });
      else resolve({ ok: false, output: `${output}\n(${signal ? `killed by ${signal}` : `exit code ${code}`})`.trim() });
    });
  });
}
