/**
 * `npm run demo`: the main job end to end, locally. Starts the local Azure test server with a
 * simulated tenant (some subscriptions without a contact, some with weak ones, some Resource
 * Graph has not indexed, a few the identity cannot read), then runs the real command line
 * against it — exactly as it would run against Azure — and prints the report.
 */
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { generateTenant, startLocalAzure } from '../test/azure-server/index.js';

const OUTPUT_DIR = fileURLToPath(new URL('../.test-output/demo/', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/contact-watch.js', import.meta.url));

const tenant = generateTenant({
  count: 120,
  seed: 7,
  indexed: { doubtfulFraction: 0.1 },
  quirkFractions: { forbidden: 0.03, providerNotRegistered: 0.02 },
});
const azure = await startLocalAzure({ tenant });
await mkdir(OUTPUT_DIR, { recursive: true });

function contactWatch(args: string[]): Promise<number> {
  process.stderr.write(`\n$ contact-watch ${args.join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...azure.env() },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 2));
  });
}

try {
  const code = await contactWatch(['scan', '--format', 'table']);
  await contactWatch(['scan', '--format', 'html', '--output', `${OUTPUT_DIR}report.html`]);
  await contactWatch(['scan', '--format', 'json', '--output', `${OUTPUT_DIR}report.json`]);
  process.stderr.write(`\nThe same scan as a page: ${OUTPUT_DIR}report.html (and report.json beside it).\n`);
  process.exitCode = code;
} finally {
  await azure.close();
}
