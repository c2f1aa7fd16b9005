/**
 * `npm run soak`: months of contact-watch in a living tenant with faults, checked step by step.
 *
 *   npm run soak -- [--seed N] [--cycles N] [--subscriptions N] [--store in-memory|azurite]
 *                   [--budget-minutes M] [--rate kind=value …] [--variant etag-check-removed|operation-id-not-reused]
 *
 * Without --store it runs on the in-memory tables for up to seven minutes, then on Azurite for up
 * to a minute and a half. The last line is `soak: C cycles, F faults injected, V invariant
 * violations`; the exit code is 1 when V > 0. A violation prints the command that replays it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_FAULT_RATES, type FaultRates } from './faults.js';
import { runSoak, type BrokenVariant, type SoakResult } from './run.js';

const YEAR_OF_SLOTS = 17_520;

function whole(name: string, min: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min) throw new InvalidArgumentError(`${name} must be a whole number ≥ ${min}`);
    return parsed;
  };
}

function rate(value: string, previous: Partial<FaultRates> = {}): Partial<FaultRates> {
  const [key, text] = value.split('=');
  if (!key || !(key in DEFAULT_FAULT_RATES)) {
    throw new InvalidArgumentError(`unknown fault rate "${key}"; one of: ${Object.keys(DEFAULT_FAULT_RATES).join(', ')}`);
  }
  const parsed = Number(text);
  if (!(parsed >= 0 && parsed <= 1)) throw new InvalidArgumentError(`${key} must be a probability from 0 to 1`);
  return { ...previous, [key]: parsed };
}

const program = new Command('soak')
  .description('A seeded simulation of contact-watch over months, with faults, checking its invariants after every step.')
  .option('--seed <n>', 'the seed (printed; the same seed replays the run)', whole('--seed', 0), 20_261_207)
  .option('--cycles <n>', 'timer slots to simulate (17,520 = a year of the 30-minute schedule)', whole('--cycles', 1), YEAR_OF_SLOTS)
  .option('--subscriptions <n>', 'subscriptions in the tenant at the start', whole('--subscriptions', 1), 200)
  .addOption(
    new Option('--store <kind>', 'where the app stores its tables (default: in memory, then a shorter run on Azurite)').choices([
      'in-memory',
      'azurite',
    ]),
  )
  .option(
    '--budget-minutes <m>',
    'stop after the step that passes this much real time (default 7, and 1.5 for the run on Azurite)',
    (value) => {
      const minutes = Number(value);
      if (!(minutes > 0)) throw new InvalidArgumentError('--budget-minutes must be a number of minutes above 0');
      return minutes;
    },
  )
  .option('--azurite-cycles <n>', 'timer slots of the run on Azurite that follows the in-memory run', whole('--azurite-cycles', 1), 1_440)
  .option(
    '--rate <kind=value>',
    `a fault's rate, per step, request or invocation (repeatable): ${Object.keys(DEFAULT_FAULT_RATES).join(', ')}`,
    rate,
    {},
  )
  .addOption(new Option('--variant <name>', 'a deliberately broken build').choices(['etag-check-removed', 'operation-id-not-reused']))
  .option('--quiet', 'no progress lines')
  .addOption(
    new Option('--summary-file <path>', 'write the totals there instead of the last line (a run for one store, in a child)').hideHelp(),
  );

program.parse();
const options = program.opts<{
  seed: number;
  cycles: number;
  subscriptions: number;
  store?: 'in-memory' | 'azurite';
  budgetMinutes?: number;
  azuriteCycles: number;
  rate: Partial<FaultRates>;
  variant?: BrokenVariant;
  quiet?: boolean;
  summaryFile?: string;
}>();

// By default: as much of a year as fits on the fast in-memory tables (proven equal to Table
// Storage by the same contract tests), then a shorter run on Azurite itself.
const runs: Array<{ store: 'in-memory' | 'azurite'; cycles: number; budgetMinutes: number }> = options.store
  ? [{ store: options.store, cycles: options.cycles, budgetMinutes: options.budgetMinutes ?? 9 }]
  : [
      { store: 'in-memory', cycles: options.cycles, budgetMinutes: options.budgetMinutes ?? 7 },
      { store: 'azurite', cycles: Math.min(options.azuriteCycles, options.cycles), budgetMinutes: 1.5 },
    ];
const results: Array<Pick<SoakResult, 'cycles' | 'faultsInjected'> & { violations: number }> = [];
for (const run of runs) {
  if (options.store) {
    const result = await runOne(run);
    results.push({ cycles: result.cycles, faultsInjected: result.faultsInjected, violations: result.violations.length });
  } else {
    // Each store in a process of its own: a process has one managed identity and one token cache
    // (see test/azure-server/README.md), and each run's peak memory is its own.
    results.push(await runInChild(run));
  }
}
const total = (pick: (result: (typeof results)[number]) => number) => results.reduce((sum, result) => sum + pick(result), 0);
const violations = total((result) => result.violations);
if (options.summaryFile) {
  writeFileSync(
    options.summaryFile,
    JSON.stringify({ cycles: total((r) => r.cycles), faultsInjected: total((r) => r.faultsInjected), violations }),
  );
} else {
  console.log(
    `soak: ${total((result) => result.cycles)} cycles, ${total((result) => result.faultsInjected)} faults injected, ${violations} invariant violations`,
  );
}
// Instances the soak killed leave their timers behind (a scan's lease renewal, an abandoned poll),
// where a dead process would leave nothing: end here rather than wait for them.
process.exit(violations > 0 ? 1 : 0);

async function runOne(run: { store: 'in-memory' | 'azurite'; cycles: number; budgetMinutes: number }): Promise<SoakResult> {
  console.log(
    `soak: seed ${options.seed}, ${options.subscriptions} subscriptions, up to ${run.cycles} timer slots, ${run.store} tables` +
      (options.variant ? `, broken variant ${options.variant}` : ''),
  );
  let lastReport = Date.now();
  const result = await runSoak({
    seed: options.seed,
    cycles: run.cycles,
    subscriptions: options.subscriptions,
    store: run.store,
    rates: options.rate,
    budgetMs: run.budgetMinutes * 60_000,
    ...(options.variant ? { variant: options.variant } : {}),
    onProgress: ({ cycle, cycles, violations, elapsedMs }) => {
      if (options.quiet || Date.now() - lastReport < 15_000) return;
      lastReport = Date.now();
      console.error(
        `  ${cycle}/${cycles} slots (${(cycle / 48).toFixed(0)} days) in ${(elapsedMs / 1000).toFixed(0)} s, ${violations} violations`,
      );
    },
  });
  print(result, run);
  return result;
}

/** This program again, for one store, in a child process; its totals come back through a file. */
async function runInChild(run: { store: 'in-memory' | 'azurite'; cycles: number; budgetMinutes: number }) {
  const summaryFile = join(mkdtempSync(join(tmpdir(), 'soak-')), 'summary.json');
  const args = [
    ...process.execArgv,
    fileURLToPath(import.meta.url),
    ...process.argv.slice(2),
    '--store',
    run.store,
    '--cycles',
    String(run.cycles),
    '--budget-minutes',
    String(run.budgetMinutes),
    '--summary-file',
    summaryFile,
  ];
  const code = await new Promise<number | null>((resolve) => spawn(process.execPath, args, { stdio: 'inherit' }).on('exit', resolve));
  try {
    return JSON.parse(readFileSync(summaryFile, 'utf8')) as { cycles: number; faultsInjected: number; violations: number };
  } catch {
    console.log(`the ${run.store} run ended without a summary (exit code ${code})`);
    return { cycles: 0, faultsInjected: 0, violations: 1 };
  }
}

function print(result: SoakResult, run: { store: string; budgetMinutes: number }): void {
  const replayOptions = [
    ...Object.entries(options.rate).map(([kind, value]) => ` --rate ${kind}=${value}`),
    options.variant ? ` --variant ${options.variant}` : '',
  ].join('');
  const days = result.simulatedDays.toFixed(1);
  const stopped = result.cycles < result.plannedCycles ? ` (stopped by the ${run.budgetMinutes}-minute budget)` : '';
  console.log(
    `${run.store}: simulated ${days} days: ${result.cycles} of ${result.plannedCycles} timer slots${stopped}, in ${(result.elapsedMs / 1000).toFixed(0)} s`,
  );
  console.log('');
  console.log('faults injected by kind');
  const kinds = [...result.faults.entries()].sort((a, b) => b[1] - a[1]);
  const width = Math.max(...kinds.map(([kind]) => kind.length), 10);
  for (const [kind, count] of kinds) console.log(`  ${kind.padEnd(width)}  ${String(count).padStart(7)}`);
  console.log('');
  console.log(`e-mails sent                   ${result.emailsSent}`);
  console.log(`duplicates                     ${result.duplicates}`);
  const delay = (figure: SoakResult['alertDelayAfterChangeMinutes']) =>
    `p50 ${figure.p50.toFixed(0)} min, p99 ${figure.p99.toFixed(0)} min (simulated; ${figure.count} alerts)`;
  console.log(`alert delay after recovery     ${delay(result.alertDelayAfterRecoveryMinutes)}`);
  console.log(`alert delay after the change   ${delay(result.alertDelayAfterChangeMinutes)}`);
  console.log(
    `rows stored at the end         ${result.rowsStored} (${Object.entries(result.tableRows)
      .map(([table, rows]) => `${table} ${rows}`)
      .join(', ')})`,
  );
  console.log(`peak RSS                       ${(result.peakRssBytes / 1048576).toFixed(0)} MB`);
  console.log(
    `heap trend (second half)       ${result.heapTrendMbPerThousandSteps === null ? 'not judged (too short a run)' : `${result.heapTrendMbPerThousandSteps.toFixed(2)} MB per 1,000 slots`}`,
  );
  for (const violation of result.violations.slice(0, 50)) {
    console.log(
      `VIOLATION invariant ${violation.invariant} at step ${violation.step} (${violation.at})${violation.subscriptionId ? ` subscription ${violation.subscriptionId}` : ''}: ${violation.message}` +
        ` [replay: npm run soak -- --seed ${result.seed} --cycles ${violation.step + 1} --subscriptions ${options.subscriptions} --store ${run.store}${replayOptions}]`,
    );
  }
  if (result.violations.length > 50) console.log(`… and ${result.violations.length - 50} more violations`);
  console.log('');
}
