/**
 * Vitest global set-up: runs once, in the main process, before any worker starts.
 *
 * 1. Generates the throwaway CA and server certificate of the local Azure test server and puts
 *    them where every worker finds them:
 *    - NODE_EXTRA_CA_CERTS = the CA file (or a bundle of it and the file the variable already
 *      named, so that the workers keep trusting what they trusted). Node reads this variable only when a process starts,
 *      so it must be in the environment before the workers fork. It is: with `pool: 'forks'`
 *      vitest builds each worker's environment from `{ ...process.env, ... }` when it runs the
 *      tests, after this function has returned (verified by test/azure-server/tls-trust.test.ts:
 *      in-process fetch and the SDK pipelines trust the server with no other help).
 *    - CONTACT_WATCH_TEST_TLS_DIR = the directory; startLocalAzure() reuses its certificate
 *      instead of generating one (which the worker could not trust through the variable).
 *    Child processes that tests start inherit both, and LocalAzure.env() names the CA as well.
 * 2. Builds the CLI bundle (`node scripts/build.js`) so that end-to-end tests run what users run.
 *    A failed build fails the whole run, loudly.
 */
import { spawnSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTestTls, TLS_DIR_VARIABLE } from './azure-server/tls.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

export default async function setup(): Promise<() => Promise<void>> {
  const tls = await generateTestTls();
  process.env.NODE_EXTRA_CA_CERTS = await trustFile(tls.caCertPath, tls.dir, process.env.NODE_EXTRA_CA_CERTS);
  process.env[TLS_DIR_VARIABLE] = tls.dir;

  const build = spawnSync(process.execPath, ['scripts/build.js'], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  if (build.error || build.status !== 0) {
    await rm(tls.dir, { recursive: true, force: true });
    const output = [build.stdout, build.stderr].filter(Boolean).join('\n').trim();
    throw new Error(
      `global set-up: \`node scripts/build.js\` failed (${build.error?.message ?? `exit code ${build.status}`}); ` +
        `the end-to-end tests need the CLI bundle.\n${output}`,
    );
  }

  return async () => {
    await rm(tls.dir, { recursive: true, force: true });
  };
}

/**
 * NODE_EXTRA_CA_CERTS names one file. When the environment already names one (a corporate or
 * sandbox CA), the workers keep trusting it: both go into one bundle next to the test CA.
 */
async function trustFile(caCertPath: string, dir: string, existing: string | undefined): Promise<string> {
  if (!existing) return caCertPath;
  const previous = await readFile(existing, 'utf8').catch(() => undefined);
  if (previous === undefined) return caCertPath;
  const bundle = join(dir, 'trust-bundle.pem');
  await writeFile(bundle, `${await readFile(caCertPath, 'utf8')}\n${previous}`);
  return bundle;
}
