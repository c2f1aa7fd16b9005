/**
 * Setup file of the project whose tests run dist/ (vitest.config.ts): each of its test files
 * starts once the build that test/support/bundle.ts started has ended, and fails with the build's
 * output when it failed.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import { BUILD_TIMEOUT_MS, type BuildStatus } from './bundle.js';

const POLL_MS = 50;

const statusFile = inject('contactWatchBundleStatusFile');
const deadline = Date.now() + BUILD_TIMEOUT_MS + 30_000;
while (!existsSync(statusFile)) {
  if (Date.now() > deadline) throw new Error(`the CLI bundle was not built in time: ${statusFile} never appeared`);
  await sleep(POLL_MS);
}
const status = JSON.parse(await readFile(statusFile, 'utf8')) as BuildStatus;
if (!status.ok) {
  throw new Error(`\`node scripts/build.js\` failed; the tests of the built command line and Functions app need it.\n${status.output}`);
}
