/**
 * Vitest global set-up of the projects that start local Azure test servers (vitest.config.ts):
 * runs in the main process, before any worker starts.
 *
 * Generates the throwaway CA and server certificate of the local Azure test server and puts
 * them where every worker finds them:
 * - NODE_EXTRA_CA_CERTS = the CA file (or a bundle of it and the file the variable already
 *   named, so that the workers keep trusting what they trusted). Node reads this variable only when a process starts,
 *   so it must be in the environment before the workers fork. It is: with `pool: 'forks'`
 *   vitest builds each worker's environment from `{ ...process.env, ... }` when it runs the
 *   tests, after every project's global set-up has returned (verified by
 *   test/azure-server/tls-trust.test.ts: in-process fetch and the SDK pipelines trust the server
 *   with no other help).
 * - CONTACT_WATCH_TEST_TLS_DIR = the directory; startLocalAzure() reuses its certificate
 *   instead of generating one (which the worker could not trust through the variable).
 * Child processes that tests start inherit both, and LocalAzure.env() names the CA as well.
 *
 * Several projects list this file; vitest runs it once per project, in the same process. The
 * first run makes the certificate and the others share it (one CA per run: a worker trusts
 * exactly one), and the last teardown removes it.
 *
 * The CLI bundle is built by test/support/bundle.ts, the global set-up of the project whose
 * tests run it.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateTestTls, TLS_DIR_VARIABLE, type TestTls } from './azure-server/tls.js';

interface SharedTls {
  tls: Promise<TestTls>;
  users: number;
}

/** On globalThis: each project may load its own copy of this module. */
const SHARED = Symbol.for('contact-watch.test.global-setup.tls');
type WithShared = typeof globalThis & { [SHARED]?: SharedTls };

export default async function setup(): Promise<() => Promise<void>> {
  const holder = globalThis as WithShared;
  const shared = (holder[SHARED] ??= { tls: createTrustedTls(), users: 0 });
  shared.users += 1;
  await shared.tls;
  return async () => {
    shared.users -= 1;
    if (shared.users > 0) return;
    delete holder[SHARED];
    await rm((await shared.tls).dir, { recursive: true, force: true });
  };
}

async function createTrustedTls(): Promise<TestTls> {
  const tls = await generateTestTls();
  process.env.NODE_EXTRA_CA_CERTS = await trustFile(tls.caCertPath, tls.dir, process.env.NODE_EXTRA_CA_CERTS);
  process.env[TLS_DIR_VARIABLE] = tls.dir;
  return tls;
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
