/**
 * `npm run bench`: the scan against simulated tenants served by the local Azure test server, with
 * latency per Resource Graph page and per securityContacts call. Not part of the tests: the
 * machines are noisy, so it reports figures and a ratio measured in the same run, never a verdict
 * on a timed test.
 *
 *   npm run bench -- --sizes 1000,10000,50000 --rg-latency-ms 150 --contacts-latency-ms 50 --formats json,table
 *   npm run bench -- --sizes 50000 --situations indexed --formats json,table --node-options=--max-old-space-size=512
 *
 * Each row also prints the latency floor its own request counts set, and how far the wall time is
 * from it (FLOOR_FORMULA below).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SECURITY_CONTACTS_QUERY, SUBSCRIPTIONS_QUERY } from '../src/adapters/resource-graph.js';
import { DEFAULT_CONFIRMATION_CONCURRENCY } from '../src/scan/scan.js';
import { generateTenant, startLocalAzure } from '../test/azure-server/index.js';
import type { GenerateTenantOptions, SimulatedTenant } from '../test/azure-server/index.js';

const BIN = fileURLToPath(new URL('../bin/contact-watch.js', import.meta.url));
const MAX_RSS = fileURLToPath(new URL('./max-rss.js', import.meta.url));
const ONE_AT_A_TIME = fileURLToPath(new URL('./one-at-a-time.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,50000' },
    situations: { type: 'string', default: 'indexed,not-indexed,doubtful' },
    'rg-latency-ms': { type: 'string', default: '150' },
    'contacts-latency-ms': { type: 'string', default: '50' },
    'baseline-size': { type: 'string', default: '1000' },
    /** The report formats: the first for every row, each further one at the largest size. */
    formats: { type: 'string', default: 'json' },
    /** Node options for the scanned CLI, e.g. `--max-old-space-size=512` (space-separated). */
    'node-options': { type: 'string', default: '' },
  },
});
const sizes = args.sizes.split(',').map(Number);
const situations = args.situations.split(',') as Situation[];
const latency = { resourceGraphPageMs: Number(args['rg-latency-ms']), securityContactsMs: Number(args['contacts-latency-ms']) };
const baselineSize = Number(args['baseline-size']);
const formats = args.formats.split(',').map((format) => format.trim());
const nodeOptions = args['node-options'].split(' ').filter((option) => option !== '');
const concurrency = DEFAULT_CONFIRMATION_CONCURRENCY;

/**
 * The latency floor of a row, from its own request counts: Resource Graph's two queries page side
 * by side, so their pages take the longer stream's pages × the page latency; the confirmations take
 * their number ÷ the concurrency × the call latency. `floor` adds the two (the paging, then every
 * confirmation); `bound` is what overlapping them could reach at best (the longer of the two, the
 * confirmations starting after a first page). Neither counts process start-up or CPU time, nor the
 * Subscriptions API pages (no latency here).
 */
const FLOOR_FORMULA =
  `floor = longer stream's pages × ${latency.resourceGraphPageMs} ms + confirmations ÷ ${concurrency} × ${latency.securityContactsMs} ms; ` +
  `overlap bound = max(longer stream's pages × ${latency.resourceGraphPageMs} ms, ${latency.resourceGraphPageMs} ms + confirmations ÷ ${concurrency} × ${latency.securityContactsMs} ms)`;

function floors(longerStreamPages: number, confirmations: number): { floorMs: number; boundMs: number } {
  const pagingMs = longerStreamPages * latency.resourceGraphPageMs;
  const confirmingMs = (confirmations / concurrency) * latency.securityContactsMs;
  return { floorMs: pagingMs + confirmingMs, boundMs: Math.max(pagingMs, latency.resourceGraphPageMs + confirmingMs) };
}

type Situation = 'indexed' | 'not-indexed' | 'doubtful';
const INDEXING: Record<Situation, GenerateTenantOptions['indexed']> = {
  indexed: 'all',
  'not-indexed': 'none',
  doubtful: { doubtfulFraction: 0.1 },
};

interface Row {
  size: number;
  situation: Situation | 'one-at-a-time';
  format?: string;
  wallMs: number;
  /** Pages of the subscriptions query and of the contacts query (every scope and batch). */
  subscriptionPages?: number;
  contactPages?: number;
  floorMs?: number;
  boundMs?: number;
  resourceGraphRequests: number;
  subscriptionsApiRequests: number;
  securityContactsCalls: number;
  doubtful: number;
  expectedResourceGraphRequests?: number;
  peakRssMb?: number;
}

function indexedContactRows(tenant: SimulatedTenant): number {
  return tenant.listSubscriptions().reduce((sum, s) => sum + s.indexedContacts.length, 0);
}

async function scanOnce(size: number, situation: Situation, format: string): Promise<Row> {
  const tenant = generateTenant({ count: size, seed: 42, indexed: INDEXING[situation] });
  // The request log tells the two queries' pages apart.
  const azure = await startLocalAzure({ tenant, latency, logRequests: true });
  try {
    const { wallMs, stderr } = await timed(
      [...nodeOptions, '--import', MAX_RSS, BIN, 'scan', '--format', format, '--output', '/dev/null'],
      azure.env(),
    );
    const rss = /__bench_max_rss_kb=(\d+)/.exec(stderr);
    const doubtful = /confirming (\d+) with/.exec(stderr);
    const graph = azure.requests.of('resource-graph');
    const subscriptionPages = graph.filter((r) => r.resourceGraph?.query === SUBSCRIPTIONS_QUERY).length;
    const contactPages = graph.filter((r) => r.resourceGraph?.query === SECURITY_CONTACTS_QUERY).length;
    const securityContactsCalls = azure.requests.count('security-contacts');
    return {
      size,
      situation,
      format,
      wallMs,
      resourceGraphRequests: azure.requests.count('resource-graph'),
      subscriptionsApiRequests: azure.requests.count('subscriptions'),
      securityContactsCalls,
      doubtful: doubtful ? Number(doubtful[1]) : 0,
      // Each query needs one request even when it returns nothing.
      expectedResourceGraphRequests: Math.max(1, Math.ceil(size / 1000)) + Math.max(1, Math.ceil(indexedContactRows(tenant) / 1000)),
      peakRssMb: rss ? Number(rss[1]) / 1024 : undefined,
      subscriptionPages,
      contactPages,
      ...floors(Math.max(subscriptionPages, contactPages), securityContactsCalls),
    };
  } finally {
    await azure.close();
  }
}

/** Runs a command against the server, returning its wall time and stderr. */
async function timed(args: string[], env: Record<string, string>): Promise<{ wallMs: number; stderr: string }> {
  const started = performance.now();
  const run = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
  if (run.code !== 0) throw new Error(`${args.join(' ')} exited ${run.code}:\n${run.stderr}`);
  return { wallMs: performance.now() - started, stderr: run.stderr };
}

/** What the peers' scripts do: one securityContacts call per subscription, one at a time (bench/one-at-a-time.ts). */
async function oneAtATime(size: number): Promise<Row> {
  const tenant = generateTenant({ count: size, seed: 42, indexed: 'none' });
  const azure = await startLocalAzure({ tenant, latency, logRequests: false });
  try {
    const { wallMs, stderr } = await timed([TSX, ONE_AT_A_TIME], azure.env());
    if (/could not be read/.test(stderr) && azure.requests.count('security-contacts') === 0)
      throw new Error(`the baseline read nothing: ${stderr}`);
    return {
      size,
      situation: 'one-at-a-time',
      wallMs,
      resourceGraphRequests: 0,
      subscriptionsApiRequests: azure.requests.count('subscriptions'),
      securityContactsCalls: azure.requests.count('security-contacts'),
      doubtful: size,
    };
  } finally {
    await azure.close();
  }
}

const rows: Row[] = [];
const log = (text: string) => process.stderr.write(`${text}\n`);
log(
  `latency: ${latency.resourceGraphPageMs} ms per Resource Graph page, ${latency.securityContactsMs} ms per securityContacts call; confirmation concurrency ${concurrency}` +
    (nodeOptions.length > 0 ? `; the CLI runs with ${nodeOptions.join(' ')}` : ''),
);
const largest = Math.max(...sizes);
for (const size of sizes) {
  for (const situation of situations) {
    // The first format at every size; each further one at the largest size (its peak memory).
    for (const format of size === largest ? formats : formats.slice(0, 1)) {
      log(`scanning ${size} subscriptions (${situation}, --format ${format})…`);
      rows.push(await scanOnce(size, situation, format));
    }
  }
}
log(`one at a time, ${baselineSize} subscriptions…`);
const baseline = await oneAtATime(baselineSize);
rows.push(baseline);

const seconds = (ms: number) => (ms / 1000).toFixed(2);
const optional = (value: number | undefined, write: (value: number) => string) => (value === undefined ? '' : write(value));
console.log(
  `| subscriptions | situation | format | wall (s) | floor (s) | wall ÷ floor | overlap bound (s) | wall ÷ bound | Resource Graph requests (expected) | pages: subscriptions / contacts | Subscriptions API requests | securityContacts calls | doubtful | peak RSS (MB) |`,
);
console.log(`|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
for (const r of rows) {
  const expected = r.expectedResourceGraphRequests === undefined ? '' : ` (${r.expectedResourceGraphRequests})`;
  const pages = r.subscriptionPages === undefined ? '' : `${r.subscriptionPages} / ${r.contactPages}`;
  console.log(
    `| ${r.size} | ${r.situation} | ${r.format ?? ''} | ${seconds(r.wallMs)} | ${optional(r.floorMs, seconds)} | ${optional(r.floorMs, (floor) => (r.wallMs / floor).toFixed(2))} | ${optional(r.boundMs, seconds)} | ${optional(r.boundMs, (bound) => (r.wallMs / bound).toFixed(2))} | ${r.resourceGraphRequests}${expected} | ${pages} | ${r.subscriptionsApiRequests} | ${r.securityContactsCalls} | ${r.doubtful} | ${optional(r.peakRssMb, (mb) => mb.toFixed(0))} |`,
  );
}
console.log(`\n${FLOOR_FORMULA} (each row's own request counts; start-up and CPU time are in neither).`);
const comparable = rows.find((r) => r.size === baselineSize && r.situation === 'not-indexed');
if (comparable) {
  console.log(
    `\nNot indexed, ${baselineSize} subscriptions: one at a time ${seconds(baseline.wallMs)} s, contact-watch ${seconds(comparable.wallMs)} s — ${(baseline.wallMs / comparable.wallMs).toFixed(1)}× faster (same run).`,
  );
}
