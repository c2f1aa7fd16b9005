/**
 * `npm run demo`: the main job end to end, locally. Starts the local Azure test server with a
 * simulated tenant (some subscriptions without a contact, some with weak ones, some Resource
 * Graph has not indexed, a few the identity cannot read) and its ACS Email service, and Azurite
 * for Table Storage; then runs the real command line against them — exactly as it would run
 * against Azure — prints the report, records the scan and sends the alert digest, which is
 * written out as files a person can open.
 */
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { generateTenant, startLocalAzure } from '../test/azure-server/index.js';
import { createCommunicationEmailService } from '../test/azure-server/services/communication-email.js';
import { startAzurite } from '../test/support/azurite.js';

const OUTPUT_DIR = fileURLToPath(new URL('../.test-output/demo/', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/contact-watch.js', import.meta.url));

const tenant = generateTenant({
  count: 120,
  seed: 7,
  indexed: { doubtfulFraction: 0.1 },
  quirkFractions: { forbidden: 0.03, providerNotRegistered: 0.02 },
});
const mail = createCommunicationEmailService({ accessKey: Buffer.from('demo-access-key').toString('base64') });
const [azure, azurite] = await Promise.all([startLocalAzure({ tenant, services: [mail] }), startAzurite()]);
await mkdir(OUTPUT_DIR, { recursive: true });
const env = {
  ...azure.env(),
  CONTACT_WATCH_STORAGE: azurite.connectionString,
  CONTACT_WATCH_ACS_CONNECTION_STRING: mail.connectionString(azure.url),
  CONTACT_WATCH_EMAIL_SENDER: 'DoNotReply@contact-watch.test',
  CONTACT_WATCH_ALERT_RECIPIENTS: 'secops@fabrikam.io',
};

function contactWatch(args: string[]): Promise<number> {
  process.stderr.write(`\n$ contact-watch ${args.join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 2));
  });
}

try {
  const code = await contactWatch(['scan', '--notify', '--format', 'table']);
  await contactWatch(['scan', '--format', 'html', '--output', `${OUTPUT_DIR}report.html`]);
  await contactWatch(['scan', '--format', 'json', '--output', `${OUTPUT_DIR}report.json`]);
  const written = await mail.writeMessagesTo(`${OUTPUT_DIR}mail`);
  process.stderr.write(
    `\nThe same scan as a page: ${OUTPUT_DIR}report.html (and report.json beside it).\n` +
      `The alert e-mail the local ACS Email service accepted: ${OUTPUT_DIR}mail/ (${written.length} file(s): .html, .txt, .eml).\n`,
  );
  process.exitCode = code;
} finally {
  await Promise.all([azure.close(), azurite.stop()]);
}
