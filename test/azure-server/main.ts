/**
 * Runs the local Azure test server on its own, with a generated tenant, until SIGINT/SIGTERM:
 *
 *   npx tsx test/azure-server/main.ts --subscriptions 200 --seed 1
 *
 * It prints the `export` lines a shell needs (and writes them to --write-env when given, so that a
 * script can start it in the background and wait for that file). The ACS Email service is mounted
 * on the same server with a fixed demo access key; its connection string is printed too.
 *
 * The local Functions app (`npm start` with Core Tools, settings from local.settings.example.json
 * copied to local.settings.json) talks to it on fixed ports:
 *
 *   npx azurite --silent --location .azurite &                    # UseDevelopmentStorage=true
 *   npx tsx test/azure-server/main.ts --port 8443 --identity-port 8444 &
 *
 * With --port the server keeps its certificate in .local-azure/tls (or --tls-dir), so the app's
 * NODE_EXTRA_CA_CERTS=.local-azure/tls/ca.pem stays valid across restarts; with --identity-port
 * the managed-identity endpoint is http://127.0.0.1:<port>/msi/token and IDENTITY_HEADER is the
 * fixed LOCAL_IDENTITY_HEADER below. The example settings hold exactly these values:
 *   AZURE_RESOURCE_MANAGER_ENDPOINT       https://127.0.0.1:8443
 *   IDENTITY_ENDPOINT / IDENTITY_HEADER   http://127.0.0.1:8444/msi/token / LOCAL_IDENTITY_HEADER
 *   CONTACT_WATCH_ACS_ENDPOINT            https://127.0.0.1:8443 (the managed identity, as in Azure: no key)
 * Messages the app sends are kept in memory and written out with --write-mail DIR on Ctrl-C.
 *
 * A local Teams workflow and a local webhook receiver are mounted too (services/teams-workflow.ts,
 * services/signed-webhook.ts); the settings that send alerts to them are printed as a comment, for
 * whoever wants to see the cards and documents as well as the e-mails.
 */
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateTenant, startLocalAzure, type GenerateTenantOptions } from './index.js';
import { createCommunicationEmailService } from './services/communication-email.js';
import { createWebhookReceiver } from './services/signed-webhook.js';
import { createTeamsWorkflowReceiver } from './services/teams-workflow.js';
import { generateTestTls, readTestTls, TLS_DIR_VARIABLE } from './tls.js';

/** The ACS access key of the local Email service (base64 of a public demo phrase; not a secret). */
export const LOCAL_ACS_ACCESS_KEY = 'Y29udGFjdC13YXRjaC1sb2NhbC1kZW1vLWFjY2Vzcy1rZXk=';
/** The local Teams workflow's signature and the local webhook's signing secret (public demo values; not secrets). */
export const LOCAL_TEAMS_SIGNATURE = 'contact-watch-local-demo-signature';
export const LOCAL_WEBHOOK_SECRET = 'contact-watch-local-demo-webhook-signing-secret';
/** IDENTITY_HEADER of the local managed-identity endpoint with --identity-port (not a secret). */
export const LOCAL_IDENTITY_HEADER = 'contact-watch-local-identity-header';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const usage = `usage: npx tsx test/azure-server/main.ts [options]
  --subscriptions N          subscriptions in the generated tenant (default 200)
  --seed N                   generator seed (default 1)
  --without-contact F        fraction without a contact (default 0.1)
  --weak F                   fraction with a weak contact (default 0.15)
  --inactive F               fraction Disabled/Deleted (default 0.02)
  --indexed all|none|F       what Resource Graph shows: all, none, or a fraction F of doubtful rows (default all)
  --management-groups N      management groups (default 0)
  --tenant-limit N           subscriptions a tenant-scope Resource Graph query covers (default 10000)
  --graph-latency MS         delay per Resource Graph page
  --contacts-latency MS      delay per securityContacts call
  --quota N/MS               Resource Graph quota, e.g. 15/5000 (default unlimited)
  --port N                   ARM (and ACS Email) endpoint port on 127.0.0.1 (default: any free port)
  --identity-port N          managed-identity endpoint port, with IDENTITY_HEADER=${LOCAL_IDENTITY_HEADER} (default: any free port, random header)
  --tls-dir DIR              keep the CA and server certificate here (default with --port: .local-azure/tls)
  --write-env PATH           also write the export lines to this file
  --write-mail DIR           on Ctrl-C, write the e-mails the ACS Email service accepted into DIR
  --quiet                    no per-request log kept (for long benchmarks)`;

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

function number(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) fail(`--${name} must be a non-negative number, got '${value}'`);
  return parsed;
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        subscriptions: { type: 'string' },
        seed: { type: 'string' },
        'without-contact': { type: 'string' },
        weak: { type: 'string' },
        inactive: { type: 'string' },
        indexed: { type: 'string' },
        'management-groups': { type: 'string' },
        'tenant-limit': { type: 'string' },
        'graph-latency': { type: 'string' },
        'contacts-latency': { type: 'string' },
        quota: { type: 'string' },
        port: { type: 'string' },
        'identity-port': { type: 'string' },
        'tls-dir': { type: 'string' },
        'write-env': { type: 'string' },
        'write-mail': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    });
  } catch (error) {
    fail((error as Error).message);
  }
})();
if (values.help) {
  console.log(usage);
  process.exit(0);
}

let indexed: GenerateTenantOptions['indexed'] = 'all';
if (values.indexed === 'none' || values.indexed === 'all') indexed = values.indexed;
else if (values.indexed !== undefined) indexed = { doubtfulFraction: number('indexed', values.indexed, 0) };

let quota: { requestsPerWindow: number; windowMs: number } | undefined;
if (values.quota !== undefined) {
  const match = /^(\d+)\/(\d+)$/.exec(values.quota);
  if (!match) fail(`--quota must look like 15/5000, got '${values.quota}'`);
  quota = { requestsPerWindow: Number(match[1]), windowMs: Number(match[2]) };
}

const tenant = generateTenant({
  count: Math.floor(number('subscriptions', values.subscriptions, 200)),
  seed: Math.floor(number('seed', values.seed, 1)),
  withoutContactFraction: number('without-contact', values['without-contact'], 0.1),
  weakContactFraction: number('weak', values.weak, 0.15),
  inactiveFraction: number('inactive', values.inactive, 0.02),
  indexed,
  managementGroups: Math.floor(number('management-groups', values['management-groups'], 0)),
});

function port(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 65_535) fail(`--${name} must be a port number from 1 to 65535, got '${value}'`);
  return parsed;
}
const armPort = port('port', values.port);
const identityPort = port('identity-port', values['identity-port']);

// A fixed port is written down in settings, and so is the CA file: keep the certificate in a
// directory that outlives this process, renewed when it is about to expire.
const tlsDir = values['tls-dir'] ?? (armPort !== undefined ? join(REPO_ROOT, '.local-azure/tls') : undefined);
if (tlsDir !== undefined) {
  const existing = await readTestTls(tlsDir);
  const fresh = existing && new Date(new X509Certificate(existing.serverCertPem).validTo).getTime() > Date.now() + 24 * 3600_000;
  if (!fresh) await generateTestTls(tlsDir);
  process.env[TLS_DIR_VARIABLE] = tlsDir;
}

const mail = createCommunicationEmailService({ accessKey: LOCAL_ACS_ACCESS_KEY });
const teams = createTeamsWorkflowReceiver({ workflowId: 'contactwatchlocal', signature: LOCAL_TEAMS_SIGNATURE });
const webhook = createWebhookReceiver({ secret: LOCAL_WEBHOOK_SECRET });

const azure = await startLocalAzure({
  tenant,
  services: [mail, teams, webhook],
  ...(armPort !== undefined ? { port: armPort } : {}),
  ...(identityPort !== undefined ? { identity: { port: identityPort, header: LOCAL_IDENTITY_HEADER } } : {}),
  tenantSubscriptionLimit: Math.floor(number('tenant-limit', values['tenant-limit'], 10_000)),
  latency: {
    resourceGraphPageMs: number('graph-latency', values['graph-latency'], 0),
    securityContactsMs: number('contacts-latency', values['contacts-latency'], 0),
  },
  resourceGraphQuota: quota,
  logRequests: !values.quiet,
});

const quote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;
const exports = Object.entries({ ...azure.env(), CONTACT_WATCH_ACS_CONNECTION_STRING: mail.connectionString(azure.url) })
  .map(([name, value]) => `export ${name}=${quote(value)}`)
  .join('\n');
const summary = tenant.generated!;
console.log(
  [
    `# local Azure test server: ${summary.count} subscriptions (seed ${summary.seed}), tenant ${tenant.tenantId}`,
    exports,
    `# Teams and webhook alerts too: CONTACT_WATCH_TEAMS_WORKFLOW_URL=${quote(teams.workflowUrl(azure.url))} ` +
      `CONTACT_WATCH_WEBHOOK_URL=${quote(webhook.url(azure.url))} CONTACT_WATCH_WEBHOOK_SECRET=${quote(LOCAL_WEBHOOK_SECRET)}`,
    `# expected with the default policy: ${Object.entries(summary.expected)
      .map(([status, count]) => `${status} ${count}`)
      .join(', ')}`,
    '# running until Ctrl-C',
  ].join('\n'),
);
if (values['write-env']) await writeFile(values['write-env'], `${exports}\n`);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  const counts = (['identity', 'resource-graph', 'subscriptions', 'security-contacts', 'other'] as const)
    .map((kind) => `${kind} ${azure.requests.count(kind)}`)
    .join(', ');
  console.error(
    `# ${signal}: stopping (requests served: ${counts}; e-mails accepted: ${mail.messages.length}, ` +
      `Teams cards: ${teams.cards.length}, webhook deliveries: ${webhook.deliveries.length})`,
  );
  if (values['write-mail']) {
    const written = await mail.writeMessagesTo(values['write-mail']);
    console.error(`# wrote ${written.length} file(s) of ${mail.messages.length} e-mail(s) to ${values['write-mail']}`);
  }
  await azure.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
// The servers are unref'd where they may be; this keeps the process up until a signal comes.
setInterval(() => {}, 1 << 30);
