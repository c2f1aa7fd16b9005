/**
 * A scan that is recorded: the scan row is written first, the verdicts are stored through the
 * state store (only what changed, with ETags), and the report shows active exemptions. Shared by
 * `scan --store`, the timer and `POST /api/scans`.
 */
import { randomUUID } from 'node:crypto';
import { applyExemptions } from '../core/exemptions.js';
import type { ScanReport } from '../core/model.js';
import type { PruneOutcome, RecordedRun, ScanScope, StateStore } from './ports.js';
import { messageOf } from '../core/error-message.js';
import { isWholeTenant, runScan, summarise, type ScanDependencies, type ScanResult } from './scan.js';

export interface StoredScanDependencies extends ScanDependencies {
  store: StateStore;
  /** What started the scan: `cli`, `timer`, `http`. */
  trigger: string;
}

export interface StoredScanResult extends ScanResult {
  recorded: RecordedRun;
  /**
   * The housekeeping after the run (StateStore.pruneExpired): what it deleted, null when it was not due, or
   * why it could not run. It never fails the scan; what it leaves, a later scan deletes.
   */
  pruned: PruneOutcome | null | { error: string };
}

export async function runStoredScan(scope: ScanScope, deps: StoredScanDependencies): Promise<StoredScanResult> {
  const clock = deps.clock ?? (() => new Date());
  const scanId = deps.scanId ?? randomUUID();
  const handle = await deps.store.startRun({ scanId, trigger: deps.trigger, startedAt: clock() });

  let result: ScanResult;
  try {
    // What the record holds, for the scan to check Resource Graph's lagging view against.
    const recorded = isWholeTenant(scope) ? await deps.store.recordedSubscriptions() : undefined;
    result = await runScan(scope, { ...deps, scanId, ...(recorded ? { recorded } : {}) });
  } catch (error) {
    // The scan row says why; no subscription record is touched.
    await deps.store.failRun(handle, error).catch(() => undefined);
    throw error;
  }

  const verdicts = result.report.subscriptions;
  const recorded = await deps.store.finishRun(handle, {
    status: result.report.scan.status,
    scope: isWholeTenant(scope) ? 'tenant' : 'subset',
    // runScan throws when the subscriptions could not be listed, so a scan that finished listed
    // them all, even where some contacts could not be read.
    subscriptionListComplete: true,
    verdicts,
    // Every verdict is an answer the scan obtained (an `error` verdict is recorded as such; the
    // planner never turns it into compliant or fixed).
    readSubscriptionIds: verdicts.map((verdict) => verdict.subscriptionId),
    resourceGraphRequests: result.stats.resourceGraphRequests,
    securityContactsCalls: result.stats.securityContactsCalls,
  });

  const report = withExemptions(result.report, await deps.store.listExemptions(), clock());
  const pruned = await deps.store.pruneExpired().catch((error: unknown) => ({ error: messageOf(error) }));
  return { ...result, report, recorded, pruned };
}

/** The report with the active exemptions applied, as a stored scan shows it. */
export function withExemptions(report: ScanReport, exemptions: Parameters<typeof applyExemptions>[1], now: Date): ScanReport {
  const subscriptions = applyExemptions(report.subscriptions, exemptions, now);
  return { ...report, summary: summarise(subscriptions), subscriptions };
}
