/**
 * Runs the local Azure test server on its own, with a generated tenant, until SIGINT/SIGTERM:
 *
 *   npx tsx test/azure-server/main.ts --subscriptions 200 --seed 1
 *
 * It prints the `export` lines a shell needs (and writes them to --write-env when given, so that a
 * script can start it in the background and wait for that file).
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { generateTenant, startLocalAzure, type GenerateTenantOptions } from './index.js';

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
  --write-env PATH           also write the export lines to this file
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
        'write-env': { type: 'string' },
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

const azure = await startLocalAzure({
  tenant,
  tenantSubscriptionLimit: Math.floor(number('tenant-limit', values['tenant-limit'], 10_000)),
  latency: {
    resourceGraphPageMs: number('graph-latency', values['graph-latency'], 0),
    securityContactsMs: number('contacts-latency', values['contacts-latency'], 0),
  },
  resourceGraphQuota: quota,
  logRequests: !values.quiet,
});

const quote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;
const exports = Object.entries(azure.env())
  .map(([name, value]) => `export ${name}=${quote(value)}`)
  .join('\n');
const summary = tenant.generated!;
console.log(
  [
    `# local Azure test server: ${summary.count} subscriptions (seed ${summary.seed}), tenant ${tenant.tenantId}`,
    exports,
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
  console.error(`# ${signal}: stopping (requests served: ${counts})`);
  await azure.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
// The servers are unref'd where they may be; this keeps the process up until a signal comes.
setInterval(() => {}, 1 << 30);
