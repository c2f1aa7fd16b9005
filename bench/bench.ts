/**
 * `npm run bench`: the scan against simulated tenants served by the local Azure test server, with
 * latency per Resource Graph page and per securityContacts call. Not part of the tests: the
 * machines are noisy, so it reports figures and a ratio measured in the same run, never a verdict
 * on a timed test.
 *
 *   npm run bench -- --sizes 1000,10000,50000 --rg-latency-ms 150 --contacts-latency-ms 50
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
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
  },
});
const sizes = args.sizes.split(',').map(Number);
const situations = args.situations.split(',') as Situation[];
const latency = { resourceGraphPageMs: Number(args['rg-latency-ms']), securityContactsMs: Number(args['contacts-latency-ms']) };
const baselineSize = Number(args['baseline-size']);

type Situation = 'indexed' | 'not-indexed' | 'doubtful';
const INDEXING: Record<Situation, GenerateTenantOptions['indexed']> = {
  indexed: 'all',
  'not-indexed': 'none',
  doubtful: { doubtfulFraction: 0.1 },
};

interface Row {
  size: number;
  situation: Situation | 'one-at-a-time';
  wallMs: number;
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

async function scanOnce(size: number, situation: Situation): Promise<Row> {
  const tenant = generateTenant({ count: size, seed: 42, indexed: INDEXING[situation] });
  const azure = await startLocalAzure({ tenant, latency, logRequests: false });
  try {
    const { wallMs, stderr } = await timed(['--import', MAX_RSS, BIN, 'scan', '--format', 'json', '--output', '/dev/null'], azure.env());
    const rss = /__bench_max_rss_kb=(\d+)/.exec(stderr);
    const doubtful = /confirming (\d+) with/.exec(stderr);
    return {
      size,
      situation,
      wallMs,
      resourceGraphRequests: azure.requests.count('resource-graph'),
      subscriptionsApiRequests: azure.requests.count('subscriptions'),
      securityContactsCalls: azure.requests.count('security-contacts'),
      doubtful: doubtful ? Number(doubtful[1]) : 0,
      // Each query needs one request even when it returns nothing.
      expectedResourceGraphRequests: Math.max(1, Math.ceil(size / 1000)) + Math.max(1, Math.ceil(indexedContactRows(tenant) / 1000)),
      peakRssMb: rss ? Number(rss[1]) / 1024 : undefined,
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
  `latency: ${latency.resourceGraphPageMs} ms per Resource Graph page, ${latency.securityContactsMs} ms per securityContacts call; confirmation concurrency ${DEFAULT_CONFIRMATION_CONCURRENCY}`,
);
for (const size of sizes) {
  for (const situation of situations) {
    log(`scanning ${size} subscriptions (${situation})…`);
    rows.push(await scanOnce(size, situation));
  }
}
log(`one at a time, ${baselineSize} subscriptions…`);
const baseline = await oneAtATime(baselineSize);
rows.push(baseline);

const seconds = (ms: number) => (ms / 1000).toFixed(2);
console.log(
  `| subscriptions | situation | wall (s) | Resource Graph requests (expected) | Subscriptions API requests | securityContacts calls | doubtful | peak RSS (MB) |`,
);
console.log(`|---:|---|---:|---:|---:|---:|---:|---:|`);
for (const r of rows) {
  const expected = r.expectedResourceGraphRequests === undefined ? '' : ` (${r.expectedResourceGraphRequests})`;
  console.log(
    `| ${r.size} | ${r.situation} | ${seconds(r.wallMs)} | ${r.resourceGraphRequests}${expected} | ${r.subscriptionsApiRequests} | ${r.securityContactsCalls} | ${r.doubtful} | ${r.peakRssMb === undefined ? '' : r.peakRssMb.toFixed(0)} |`,
  );
}
const comparable = rows.find((r) => r.size === baselineSize && r.situation === 'not-indexed');
if (comparable) {
  console.log(
    `\nNot indexed, ${baselineSize} subscriptions: one at a time ${seconds(baseline.wallMs)} s, contact-watch ${seconds(comparable.wallMs)} s — ${(baseline.wallMs / comparable.wallMs).toFixed(1)}× faster (same run).`,
  );
}
