/**
 * `contact-watch fix` (docs/reference/remediation.md): every subscription in scope judged as a scan judges it,
 * then each noncompliant one repaired (repair.ts) at a bounded concurrency, its write recorded
 * when a store is given. Compliant and exempt subscriptions are `unchanged`, skipped ones
 * `skipped`, unreadable ones `failed`: none of them is written.
 */
import pLimit from 'p-limit';
import { applyExemptions } from '../core/exemptions.js';
import type { FixReport, FixReportEntry, SubscriptionVerdict } from '../core/model.js';
import { decideRemediation } from '../core/remediation-decision.js';
import type { Exemption } from '../core/state-model.js';
import type { ScanScope, StateStore, SubscriptionLookup, TenantInventorySource } from '../scan/ports.js';
import { messageOf } from '../core/error-message.js';
import { runScan, type ScanProgress } from '../scan/scan.js';
import type { RepairClaims } from './ports.js';
import { recordWrite, repairSubscription, type RepairDependencies, type RepairOutcome } from './repair.js';

/** Writes in flight at once: each is on its own subscription, but a tenant's writes are a change worth pacing. */
export const DEFAULT_WRITE_CONCURRENCY = 8;

export interface FixDependencies extends RepairDependencies {
  inventory: TenantInventorySource;
  subscriptions?: SubscriptionLookup;
  /** The exemptions in force (from the store); none when there is no store. */
  exemptions?: readonly Exemption[];
  /** Where each write is recorded with who made it (`--store`). */
  store?: Pick<StateStore, 'recordEvaluation'>;
  /**
   * The app's repair claims, where Table Storage is set: a subscription the app (or another `fix`)
   * is repairing right now is left to it, and `failed` here, rather than written twice.
   */
  claims?: RepairClaims;
  concurrency?: number;
  onProgress?: (progress: ScanProgress) => void;
}

export interface FixOptions {
  dryRun: boolean;
  /** Who makes the writes, as the record keeps it. */
  by: string;
}

export interface FixRun {
  report: FixReport;
  /** What each entry changes or changed, by subscription id, for people (not part of the JSON). */
  changes: ReadonlyMap<string, readonly string[]>;
  /** Writes that were sent but could not be recorded (the write stands; the record missed it). */
  unrecorded: { subscriptionId: string; reason: string }[];
  stats: { resourceGraphRequests: number; securityContactsCalls: number; writes: number };
}

export async function runFix(scope: ScanScope, deps: FixDependencies, options: FixOptions): Promise<FixRun> {
  const clock = deps.clock ?? (() => new Date());
  const startedAt = clock();
  const scan = await runScan(scope, {
    inventory: deps.inventory,
    contacts: deps.contacts,
    ...(deps.subscriptions ? { subscriptions: deps.subscriptions } : {}),
    policy: deps.policy,
    clock,
    ...(deps.signal ? { signal: deps.signal } : {}),
    ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
  });
  const verdicts = applyExemptions(scan.report.subscriptions, deps.exemptions ?? [], startedAt);

  const limit = pLimit(deps.concurrency ?? DEFAULT_WRITE_CONCURRENCY);
  const unrecorded: FixRun['unrecorded'] = [];
  const { store, claims } = deps;

  /** One subscription read fresh and written; with a store, the write is recorded before it is sent, and its outcome after. */
  const repairAndRecord = async (verdict: SubscriptionVerdict): Promise<RepairOutcome> => {
    const outcome = await repairSubscription(
      { subscription: { subscriptionId: verdict.subscriptionId, displayName: verdict.displayName, state: verdict.state }, ...options },
      store ? { ...deps, recordIntent: (intent) => recordWrite(store, options.by, intent) } : deps,
    );
    const { remediation } = outcome;
    if (remediation && store) {
      await recordWrite(store, options.by, { verdict: outcome.verdict, readAt: outcome.readAt, remediation }).catch((error: unknown) =>
        unrecorded.push({ subscriptionId: outcome.subscriptionId, reason: messageOf(error) }),
      );
    }
    return outcome;
  };

  /** Under the repair claim where there are claims: the app, or another fix, may be repairing it right now. */
  const repairUnderClaim = async (verdict: SubscriptionVerdict): Promise<FixedOutcome> => {
    if (options.dryRun || !claims) return repairAndRecord(verdict);
    const claim = await claims.tryClaim(verdict.subscriptionId, options.by, FIX_CLAIM_TTL_MS);
    if (!claim) {
      const reason = 'another contact-watch (the app, or another fix) is repairing it right now; run fix again to see how it ended';
      return { subscriptionId: verdict.subscriptionId, displayName: verdict.displayName, result: 'failed', reason };
    }
    try {
      return await repairAndRecord(verdict);
    } finally {
      await claim.release().catch(() => undefined);
    }
  };

  const outcomes = await Promise.all(
    verdicts.map(
      // Only what the scan found noncompliant is read again and written; the rest is settled.
      (verdict): Promise<FixedOutcome> =>
        verdict.status === 'noncompliant' ? limit(() => repairUnderClaim(verdict)) : Promise.resolve(settled(verdict)),
    ),
  );

  const entries = outcomes.map(({ subscriptionId, displayName, result, reason, body }): FixReportEntry => ({
    subscriptionId,
    displayName,
    result,
    ...(reason !== undefined ? { reason } : {}),
    ...(body !== undefined ? { body } : {}),
  }));
  entries.sort((a, b) => (a.subscriptionId < b.subscriptionId ? -1 : a.subscriptionId > b.subscriptionId ? 1 : 0));
  return {
    report: {
      schemaVersion: 1,
      fix: { dryRun: options.dryRun, startedAt: startedAt.toISOString(), finishedAt: clock().toISOString() },
      subscriptions: entries,
    },
    changes: new Map(outcomes.flatMap((outcome) => (outcome.changes ? [[outcome.subscriptionId, outcome.changes] as const] : []))),
    unrecorded,
    stats: {
      resourceGraphRequests: scan.stats.resourceGraphRequests,
      securityContactsCalls: deps.contacts.stats.calls,
      writes: deps.writer.stats.writes,
    },
  };
}

/** What the report and the change lines need of each subscription's repair. */
type FixedOutcome = Pick<RepairOutcome, 'subscriptionId' | 'displayName' | 'result' | 'reason' | 'body' | 'changes'>;

/** How long `fix` holds a subscription's claim: one read, one write and one read, as the app's repairs. */
const FIX_CLAIM_TTL_MS = 15 * 60_000;

/** The result of a subscription the scan did not find noncompliant: nothing is written to it. */
function settled(verdict: SubscriptionVerdict): Pick<RepairOutcome, 'subscriptionId' | 'displayName' | 'result' | 'reason'> {
  const decision = decideRemediation(verdict);
  const identity = { subscriptionId: verdict.subscriptionId, displayName: verdict.displayName };
  if (decision.kind === 'write') throw new Error(`a ${verdict.status} subscription (${verdict.subscriptionId}) is never written`);
  return { ...identity, result: decision.result, reason: decision.reason };
}

/** True when every subscription in scope ended `fixed`, `would-fix`, `unchanged` or `skipped`. */
export function fixSucceeded(report: FixReport): boolean {
  return report.subscriptions.every((entry) => entry.result !== 'failed' && entry.result !== 'not-fixable');
}
