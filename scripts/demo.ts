/**
 * `npm run demo`: the main job end to end, locally. Starts the local Azure test server with a
 * simulated tenant (some subscriptions without a contact, some with weak ones, some Resource
 * Graph has not indexed, a few the identity cannot read) and its ACS Email service, and Azurite
 * for Table Storage; then runs the real command line against them — exactly as it would run
 * against Azure — exempts one subscription, prints the report, records the scan and sends the
 * alert digest, which is written out as files a person can open, and writes the report page and
 * the JSON report. It ends by saying where each of them is.
 *
 * Everything it writes is under .test-output/demo/, which it empties first, so what is there
 * after a run is that run's output only. scripts/screenshot.ts reuses runDemo for the report page.
 */
import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateTenant, startLocalAzure } from '../test/azure-server/index.js';
import { createCommunicationEmailService } from '../test/azure-server/services/communication-email.js';
import { startAzurite } from '../test/support/azurite.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The demo's own folder: emptied at the start of every run, so nothing else may live in it. */
export const DEMO_OUTPUT_DIR = resolve(REPO_ROOT, '.test-output', 'demo');
const BIN = resolve(REPO_ROOT, 'bin', 'contact-watch.js');

export interface DemoOutputs {
  /** The scan as the HTML report page. */
  reportPage: string;
  /** The same scan as the JSON report. */
  reportJson: string;
  /** One entry per alert e-mail the local ACS Email service accepted: its subject and files. */
  emails: { subject: string; html: string | undefined; text: string | undefined; eml: string | undefined }[];
  /** The exit code of `contact-watch scan` (0: it finished). */
  scanExitCode: number;
}

/**
 * Runs the demo; returns where its outputs are. `quiet` keeps the command line's report and
 * progress off the terminal (the screenshot script wants only the page).
 */
export async function runDemo(options: { quiet?: boolean } = {}): Promise<DemoOutputs> {
  await emptyOutputDir();
  const tenant = generateTenant({
    count: 120,
    seed: 7,
    indexed: { doubtfulFraction: 0.1 },
    quirkFractions: { forbidden: 0.03, providerNotRegistered: 0.02 },
  });
  const mail = createCommunicationEmailService({ accessKey: Buffer.from('demo-access-key').toString('base64') });
  const [azure, azurite] = await Promise.all([startLocalAzure({ tenant, services: [mail] }), startAzurite()]);
  const env = {
    ...azure.env(),
    CONTACT_WATCH_STORAGE: azurite.connectionString,
    CONTACT_WATCH_ACS_CONNECTION_STRING: mail.connectionString(azure.url),
    CONTACT_WATCH_EMAIL_SENDER: 'DoNotReply@contact-watch.test',
    CONTACT_WATCH_ALERT_RECIPIENTS: 'secops@fabrikam.io',
  };
  const contactWatch = (args: string[]): Promise<number> => {
    // Shown as a shell would take it, so that it can be copied.
    const shown = args.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`));
    if (!options.quiet) process.stderr.write(`\n$ contact-watch ${shown.join(' ')}\n`);
    return new Promise((resolveCode, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
        stdio: ['ignore', options.quiet ? 'ignore' : 'inherit', options.quiet ? 'ignore' : 'inherit'],
      });
      child.on('error', reject);
      child.on('close', (code) => resolveCode(code ?? 2));
    });
  };

  const reportPage = resolve(DEMO_OUTPUT_DIR, 'report.html');
  const reportJson = resolve(DEMO_OUTPUT_DIR, 'report.json');
  // A subscription without a contact whose team has a month to give it one.
  const exempted = tenant.listSubscriptions().find((s) => s.state === 'Enabled' && s.profile === 'no-contact');
  const inThirtyDays = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  try {
    if (exempted) {
      const args = [
        '--reason',
        'sandbox being handed over to a new team',
        '--owner',
        'platform-team@fabrikam.io',
        '--expires',
        inThirtyDays,
      ];
      await contactWatch(['exempt', exempted.subscriptionId, ...args]);
    }
    const scanExitCode = await contactWatch(['scan', '--notify', '--format', 'table']);
    // --store: a scan applies exemptions where it records its results.
    await contactWatch(['scan', '--store', '--format', 'html', '--output', reportPage]);
    await contactWatch(['scan', '--store', '--format', 'json', '--output', reportJson]);
    // Each message's files (.html, .txt, .eml) share a name, in the order of the messages.
    const written = await mail.writeMessagesTo(resolve(DEMO_OUTPUT_DIR, 'mail'));
    const bases = [...new Set(written.map((file) => file.replace(/\.[a-z]+$/, '')))];
    const emails = mail.messages.map((message, index) => {
      const files = written.filter((file) => file.replace(/\.[a-z]+$/, '') === bases[index]);
      return {
        subject: message.subject,
        html: files.find((file) => file.endsWith('.html')),
        text: files.find((file) => file.endsWith('.txt')),
        eml: files.find((file) => file.endsWith('.eml')),
      };
    });
    return { reportPage, reportJson, emails, scanExitCode };
  } finally {
    await Promise.all([azure.close(), azurite.stop()]);
  }
}

/** Removes what an earlier run left (e-mail files are named by operation id, so they would pile up). */
async function emptyOutputDir(): Promise<void> {
  // Never anything but the demo's own folder inside this repository's .test-output.
  if (relative(resolve(REPO_ROOT, '.test-output'), DEMO_OUTPUT_DIR) !== 'demo') throw new Error(`refusing to empty ${DEMO_OUTPUT_DIR}`);
  await rm(DEMO_OUTPUT_DIR, { recursive: true, force: true });
  await mkdir(DEMO_OUTPUT_DIR, { recursive: true });
}

/** Where everything is, for someone who has just run the demo: paths from the current folder, then how to open them. */
function whereEverythingIs(outputs: DemoOutputs): string {
  const shown = (path: string) => {
    const fromHere = relative(process.cwd(), path);
    return fromHere.startsWith('..') ? path : fromHere;
  };
  const lines = [
    '',
    `The demo's output (${shown(DEMO_OUTPUT_DIR)}/, emptied at the start of each run):`,
    `  Report page (open it in a browser):  ${shown(outputs.reportPage)}`,
    `                                       ${pathToFileURL(outputs.reportPage).href}`,
    `  The same scan as JSON:               ${shown(outputs.reportJson)}`,
  ];
  if (outputs.emails.length === 0) lines.push('  Alert e-mails: none were sent.');
  for (const email of outputs.emails) {
    lines.push(
      `  Alert e-mail to secops@fabrikam.io:  "${email.subject}"`,
      ...(email.html ? [`    as its recipient sees it (HTML):   ${shown(email.html)}`] : []),
      ...(email.text ? [`    plain text:                        ${shown(email.text)}`] : []),
      ...(email.eml ? [`    the whole message (.eml):          ${shown(email.eml)}`] : []),
    );
  }
  lines.push('');
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const outputs = await runDemo();
  process.stderr.write(whereEverythingIs(outputs));
  // Exit now: the Azurite the test support lends stays up until the process exits (it ends with it).
  process.exit(outputs.scanExitCode);
}
