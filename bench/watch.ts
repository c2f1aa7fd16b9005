/**
 * `npm run bench:watch`: what one run of the new-subscription watch costs as the tenant grows. For
 * each size, the local Azure test server serves a tenant of that many subscriptions (latency per
 * Resource Graph page and per securityContacts call, as `npm run bench`), and Azurite holds a
 * record of each, as after a scan. Then the real timer handler runs: first several times with
 * nothing new (the steady state), then once after one subscription without a contact was added
 * without any event (the run that finds it, evaluates it and has its alert accepted by the local
 * ACS Email service; one other subscription left the tenant meanwhile, so its size stays). Reported per run: wall time, Resource Graph requests and the bytes they
 * answered, Table Storage requests, securityContacts calls and e-mails. Figures, not a verdict:
 * the machines are noisy.
 *
 *   npm run bench:watch -- --sizes 1000,10000 --runs 5 --rg-latency-ms 150 --contacts-latency-ms 50
 */
import { rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { Timer } from '@azure/functions';
import type { PipelineRequest, PipelineResponse, SendRequest } from '@azure/core-rest-pipeline';
import { openScanLease } from '../src/adapters/table-storage/scan-lease.js';
import { createSubscriptionWatchHandler } from '../src/app/handlers/subscription-watch.js';
import { FUNCTION_NAMES } from '../src/functions/function-names.js';
import { SimulatedTenant, startLocalAzure } from '../test/azure-server/index.js';
import { createCommunicationEmailService } from '../test/azure-server/services/communication-email.js';
import { generateTestTls, TLS_DIR_VARIABLE, trustInThisProcess } from '../test/azure-server/tls.js';
import { azuriteTestTables, invocationContexts, testAppDependencies } from '../test/support/app.js';
import { startAzurite } from '../test/support/azurite.js';
import { compliantContact2023 } from '../test/support/fixtures.js';
import { recordTenantRun, subscriptionIdFor, verdict } from '../test/contract/support.js';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000' },
    runs: { type: 'string', default: '5' },
    'rg-latency-ms': { type: 'string', default: '150' },
    'contacts-latency-ms': { type: 'string', default: '50' },
  },
});
const sizes = args.sizes.split(',').map(Number);
const quietRuns = Number(args.runs);
const latency = { resourceGraphPageMs: Number(args['rg-latency-ms']), securityContactsMs: Number(args['contacts-latency-ms']) };
const log = (text: string) => process.stderr.write(`${text}\n`);

const TIMER: Timer = { isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };

interface RunFigures {
  wallMs: number;
  resourceGraphRequests: number;
  resourceGraphBytes: number;
  tableRequests: number;
  securityContactsCalls: number;
  emails: number;
}

interface Row {
  size: number;
  quiet: RunFigures[];
  withNew: RunFigures;
}

/** Counts the requests that pass a pipeline, and for Resource Graph the bytes of the answers. */
function counter() {
  const counts = { requests: 0, bytes: 0 };
  return {
    counts,
    policy: {
      position: 'perCall' as const,
      policy: {
        name: 'bench-count',
        async sendRequest(request: PipelineRequest, next: SendRequest): Promise<PipelineResponse> {
          counts.requests += 1;
          const response = await next(request);
          counts.bytes += Number(response.headers.get('content-length') ?? response.bodyAsText?.length ?? 0);
          return response;
        },
      },
    },
  };
}

async function measure(size: number): Promise<Row> {
  const tenant = new SimulatedTenant();
  const contact = compliantContact2023();
  for (let index = 0; index < size; index++) {
    tenant.addSubscription({ subscriptionId: subscriptionIdFor(index), displayName: `Workload ${index}`, contacts: [contact] });
  }
  const mail = createCommunicationEmailService({ accessKey: Buffer.from('bench-access-key').toString('base64'), retryAfterSeconds: 0 });
  const [azure, azurite] = await Promise.all([startLocalAzure({ tenant, services: [mail], latency, logRequests: false }), startAzurite()]);
  try {
    const tables = counter();
    const resourceGraph = counter();
    const graphOnly = {
      ...resourceGraph.policy,
      policy: {
        ...resourceGraph.policy.policy,
        sendRequest: (request: PipelineRequest, next: SendRequest) =>
          request.url.includes('/providers/Microsoft.ResourceGraph/')
            ? resourceGraph.policy.policy.sendRequest(request, next)
            : next(request),
      },
    };
    const deps = testAppDependencies({
      azure,
      mail,
      tables: azuriteTestTables(azurite),
      tablePrefix: `benchwatch${size}`,
      storePolicies: [tables.policy],
      armPolicies: [graphOnly],
    });
    deps.lease = openScanLease(deps.store.connection);

    log(`recording ${size} subscriptions…`);
    await recordTenantRun(
      deps.store,
      `seed-${size}`,
      Array.from({ length: size }, (_, index) => verdict(subscriptionIdFor(index), 'compliant')),
      'bench',
    );
    // The outbox table is created on its first use; that belongs to no run.
    await deps.store.connection.table('outbox');

    const handler = createSubscriptionWatchHandler(deps);
    const invocation = invocationContexts(FUNCTION_NAMES.subscriptionWatch, `bench-watch-${size}`);
    const once = async (): Promise<RunFigures> => {
      for (const counts of [tables.counts, resourceGraph.counts]) Object.assign(counts, { requests: 0, bytes: 0 });
      const contactsBefore = azure.requests.count('security-contacts');
      const mailsBefore = mail.messages.length;
      const started = performance.now();
      await handler(TIMER, invocation());
      return {
        wallMs: performance.now() - started,
        resourceGraphRequests: resourceGraph.counts.requests,
        resourceGraphBytes: resourceGraph.counts.bytes,
        tableRequests: tables.counts.requests,
        securityContactsCalls: azure.requests.count('security-contacts') - contactsBefore,
        emails: mail.messages.length - mailsBefore,
      };
    };

    log(`${size}: ${quietRuns} runs with nothing new…`);
    const quiet: RunFigures[] = [];
    for (let run = 0; run < quietRuns; run++) quiet.push(await once());

    log(`${size}: one run after a subscription was added without an event…`);
    // One leaves as one arrives, so the tenant keeps its size (and stays within the 10,000
    // subscriptions a tenant-scope Resource Graph query covers); the watch leaves departures to the scan.
    tenant.removeSubscription(subscriptionIdFor(0));
    tenant.addSubscription({ subscriptionId: subscriptionIdFor(size), displayName: 'Made by hand', contacts: [] });
    const withNew = await once();
    if (withNew.emails !== 1) throw new Error(`${size}: the run that found the new subscription sent ${withNew.emails} e-mails, not 1`);
    return { size, quiet, withNew };
  } finally {
    await Promise.all([azure.close(), azurite.stop()]);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** One figure of the runs: the value when they agree, else their range. */
function spread(values: number[]): string {
  const [low, high] = [Math.min(...values), Math.max(...values)];
  return low === high ? String(low) : `${low}–${high}`;
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

console.log(
  '| subscriptions | run | wall (ms) | Resource Graph requests | Resource Graph answer (KB) | Table requests | securityContacts calls | e-mails |',
);
console.log('|---:|---|---:|---:|---:|---:|---:|---:|');
for (const { size, quiet, withNew } of rows) {
  const kb = (bytes: number) => Math.round(bytes / 1024);
  console.log(
    `| ${size} | nothing new (median of ${quiet.length}) | ${median(quiet.map((run) => run.wallMs)).toFixed(0)} | ` +
      `${spread(quiet.map((run) => run.resourceGraphRequests))} | ${spread(quiet.map((run) => kb(run.resourceGraphBytes)))} | ` +
      `${spread(quiet.map((run) => run.tableRequests))} | ${spread(quiet.map((run) => run.securityContactsCalls))} | ` +
      `${spread(quiet.map((run) => run.emails))} |`,
  );
  console.log(
    `| ${size} | one new, until its alert is accepted | ${withNew.wallMs.toFixed(0)} | ${withNew.resourceGraphRequests} | ` +
      `${kb(withNew.resourceGraphBytes)} | ${withNew.tableRequests} | ${withNew.securityContactsCalls} | ${withNew.emails} |`,
  );
}
console.log(
  `\nlatency: ${latency.resourceGraphPageMs} ms per Resource Graph page, ${latency.securityContactsMs} ms per securityContacts call; Table Storage: Azurite`,
);
// test/support/azurite.ts keeps one Azurite per process, lent to each caller and left running for
// the next; it dies with this process, which would otherwise wait on it.
process.exit(0);
