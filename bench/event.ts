/**
 * `npm run bench:event`: what one Event Grid delivery costs as the tenant grows. For each size,
 * that many subscriptions are recorded in Azurite first; then securityContacts delete events
 * about single subscriptions go through the real handler (read fresh from the local Azure test
 * server, recorded, one alert e-mail accepted by the local ACS Email service). Reported: the
 * median time from delivery to the accepted e-mail, and the Table Storage requests per event —
 * which must be the same at every size. Figures, not a verdict: the machines are noisy.
 *
 *   npm run bench:event -- --sizes 1000,10000 --events 7 --contacts-latency-ms 50
 */
import { rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { PipelineRequest, SendRequest } from '@azure/core-rest-pipeline';
import { createContactEventHandler } from '../src/app/handlers/contact-events.js';
import { FUNCTION_NAMES } from '../src/functions/function-names.js';
import { SimulatedTenant, startLocalAzure } from '../test/azure-server/index.js';
import { createCommunicationEmailService } from '../test/azure-server/services/communication-email.js';
import { generateTestTls, TLS_DIR_VARIABLE, trustInThisProcess } from '../test/azure-server/tls.js';
import { azuriteTestTables, invocationContexts, testAppDependencies } from '../test/support/app.js';
import { startAzurite } from '../test/support/azurite.js';
import { securityContactsEvent } from '../test/support/events.js';
import { recordTenantRun, subscriptionIdFor, verdict } from '../test/contract/support.js';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000' },
    events: { type: 'string', default: '7' },
    'contacts-latency-ms': { type: 'string', default: '50' },
  },
});
const sizes = args.sizes.split(',').map(Number);
const eventsPerSize = Number(args.events);
const log = (text: string) => process.stderr.write(`${text}\n`);

interface Row {
  size: number;
  medianMs: number;
  slowestMs: number;
  tableRequests: number[];
}

async function measure(size: number): Promise<Row> {
  // The tenant the event reads from: only the subscriptions the events are about need contacts.
  const tenant = new SimulatedTenant();
  const eventIds = Array.from({ length: eventsPerSize }, (_, i) => subscriptionIdFor(i));
  for (const id of eventIds) tenant.addSubscription({ subscriptionId: id, displayName: `Event target ${id.slice(0, 8)}`, contacts: [] });
  const mail = createCommunicationEmailService({ accessKey: Buffer.from('bench-access-key').toString('base64'), retryAfterSeconds: 0 });
  const [azure, azurite] = await Promise.all([
    startLocalAzure({ tenant, services: [mail], latency: { securityContactsMs: Number(args['contacts-latency-ms']) }, logRequests: false }),
    startAzurite(),
  ]);
  try {
    let tableRequests = 0;
    const counting = {
      position: 'perCall' as const,
      policy: { name: 'bench-count', sendRequest: (request: PipelineRequest, next: SendRequest) => ((tableRequests += 1), next(request)) },
    };
    // The alerts' outbox sits beside the counted store, so its requests are counted too.
    const deps = testAppDependencies({
      azure,
      mail,
      tables: azuriteTestTables(azurite),
      tablePrefix: `bench${size}`,
      storePolicies: [counting],
    });

    log(`recording ${size} subscriptions…`);
    const verdicts = Array.from({ length: size }, (_, i) => verdict(subscriptionIdFor(i), 'compliant'));
    await recordTenantRun(deps.store, `seed-${size}`, verdicts, 'bench');

    // The outbox table is created on its first use; that belongs to no event.
    await deps.store.connection.table('outbox');
    const handler = createContactEventHandler(deps);
    const invocation = invocationContexts(FUNCTION_NAMES.contactEvents, `bench-${size}`);
    const times: number[] = [];
    const requests: number[] = [];
    for (const [index, id] of eventIds.entries()) {
      const event = securityContactsEvent('event-grid-schema', id, 'delete', `bench-${size}-${index}`);
      const accepted = mail.messages.length;
      tableRequests = 0;
      const started = performance.now();
      await handler(event, invocation());
      times.push(performance.now() - started);
      requests.push(tableRequests);
      if (mail.messages.length !== accepted + 1)
        throw new Error(
          `event ${index} at ${size}: expected one alert e-mail, the mail service accepted ${mail.messages.length - accepted}`,
        );
    }
    const sorted = [...times].sort((a, b) => a - b);
    return { size, medianMs: sorted[Math.floor(sorted.length / 2)]!, slowestMs: sorted[sorted.length - 1]!, tableRequests: requests };
  } finally {
    await Promise.all([azure.close(), azurite.stop()]);
  }
}

// One certificate for every local server this process starts: the process trusts the first one
// it meets, so a second, freshly generated one would be refused.
const tls = await generateTestTls();
process.env[TLS_DIR_VARIABLE] = tls.dir;
trustInThisProcess(tls.caCertPem);
const rows: Row[] = [];
try {
  for (const size of sizes) rows.push(await measure(size));
} finally {
  await rm(tls.dir, { recursive: true, force: true });
}

console.log('| stored subscriptions | events | event → e-mail accepted, median (ms) | slowest (ms) | Table requests per event |');
console.log('|---:|---:|---:|---:|---|');
for (const row of rows) {
  const counts = [...new Set(row.tableRequests)].join(', ');
  console.log(`| ${row.size} | ${row.tableRequests.length} | ${row.medianMs.toFixed(0)} | ${row.slowestMs.toFixed(0)} | ${counts} |`);
}
// test/support/azurite.ts keeps one Azurite per process, lent to each caller and left running for
// the next; it dies with this process, which would otherwise wait on it.
process.exit(0);
