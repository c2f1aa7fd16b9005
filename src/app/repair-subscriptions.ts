/**
 * The app's own repairs (CONTACT_WATCH_REMEDIATION=on, docs/reference/remediation.md): the same repair as
 * `contact-watch fix` (src/remediation/repair.ts), one subscription at a time under a claim, so
 * that an event delivered twice at once, or an event racing the timer, writes a contact once.
 * Every write is recorded with who made it, so the alert that follows says "repaired
 * automatically" with what changed, or, when the repair failed, why.
 */
import type { InvocationContext } from '@azure/functions';
import pLimit from 'p-limit';
import type { SubscriptionInfo } from '../core/model.js';
import type { SubscriptionRecord } from '../core/state-model.js';
import { recordWrite, repairSubscription, type RepairOutcome } from '../remediation/repair.js';
import { DEFAULT_WRITE_CONCURRENCY } from '../remediation/fix.js';
import type { AppDependencies } from './dependencies.js';

/**
 * How long a claim holds: a repair is one read, one write and one read, each with the ARM clients'
 * time limit, retries and Retry-After waits, which together stay well inside this; a claim left
 * by an instance that died frees itself after it.
 */
export const REPAIR_CLAIM_TTL_MS = 15 * 60_000;

/**
 * How long the timer leaves a subscription whose last repair was refused. A refusal (a 403 where
 * the identity lacks Security Admin, a policy that denies the write) does not mend itself within
 * one scan interval; trying every scan would only add a history entry each time. A write that
 * failed for a passing reason (a 503, no answer) is tried again at the next scan. Events still try.
 */
export const FAILED_REPAIR_RETRY_MS = 24 * 3_600_000;

export type AppRepairOutcome =
  /** Repaired, refused or left as it is (see `outcome.result`); a write is recorded. */
  | { kind: 'repaired'; outcome: RepairOutcome; recorded: boolean }
  /** Another invocation holds the claim: it repairs and alerts. */
  | { kind: 'claimed-elsewhere' }
  /** Held back: the new subscription is still within its grace period. */
  | { kind: 'in-grace'; until: string };

/**
 * True while a new subscription is within CONTACT_WATCH_NEW_SUBSCRIPTION_GRACE_MINUTES of when
 * contact-watch first saw it: its vending pipeline is given that long to set the contact itself.
 */
export function graceUntil(record: Pick<SubscriptionRecord, 'firstSeenAt'>, deps: AppDependencies): string | undefined {
  const minutes = deps.settings.alerting.alerts.newSubscriptionGraceMinutes;
  if (minutes <= 0) return undefined;
  const until = Date.parse(record.firstSeenAt) + minutes * 60_000;
  return deps.clock().getTime() < until ? new Date(until).toISOString() : undefined;
}

/** True when the last repair of the subscription failed less than FAILED_REPAIR_RETRY_MS ago. */
function failedRecently(record: SubscriptionRecord, deps: AppDependencies): boolean {
  const last = record.lastRemediation;
  return last?.outcome === 'failed' && last.retryable !== true && deps.clock().getTime() - Date.parse(last.at) < FAILED_REPAIR_RETRY_MS;
}

/** Repairs one subscription under a claim, and records the write. Throws only what the store or the token throw. */
export async function repairInApp(
  deps: AppDependencies,
  context: InvocationContext,
  subscription: SubscriptionInfo,
  by: string,
): Promise<AppRepairOutcome> {
  const subscriptionId = subscription.subscriptionId.toLowerCase();
  const claim = await deps.repairClaims.tryClaim(subscriptionId, `${by} (${context.invocationId})`, REPAIR_CLAIM_TTL_MS);
  if (!claim) {
    deps.log(context, 'remediation.claimedElsewhere', { subscriptionId, by });
    return { kind: 'claimed-elsewhere' };
  }
  try {
    const outcome = await repairSubscription(
      { subscription: { ...subscription, subscriptionId }, by },
      {
        contacts: deps.azure.contacts,
        writer: deps.azure.writer,
        policy: deps.settings.policy,
        clock: deps.clock,
        // Recorded before it is sent: a crash after the PUT still leaves the write in the history.
        recordIntent: (intent) => recordWrite(deps.store, by, intent),
      },
    );
    if (!outcome.remediation) {
      deps.log(context, 'remediation.notWritten', { subscriptionId, by, result: outcome.result, reason: outcome.reason });
      return { kind: 'repaired', outcome, recorded: false };
    }
    deps.log(context, outcome.result === 'fixed' ? 'remediation.fixed' : 'remediation.failed', {
      subscriptionId,
      by,
      changes: outcome.remediation.changes,
      ...(outcome.reason ? { reason: outcome.reason } : {}),
    });
    const recorded = await deps.store.recordEvaluation(outcome.verdict, {
      evaluatedBy: by,
      readAt: outcome.readAt,
      remediation: outcome.remediation,
    });
    if (recorded.refused !== undefined)
      deps.log(context, 'subscription.notStored', { subscriptionId, evaluatedBy: by, reason: recorded.refused });
    return { kind: 'repaired', outcome, recorded: recorded.refused === undefined };
  } finally {
    await claim.release().catch((error: unknown) => deps.log(context, 'remediation.claimNotReleased', { subscriptionId, error }));
  }
}

/**
 * The timer's repairs after its scan: each subscription it found noncompliant (exemptions
 * applied) and past its grace period, at a bounded concurrency. A repair that throws (storage, a
 * token) is logged and left to the next scan; it never fails the scan, which is recorded already.
 */
export async function repairAfterScan(
  deps: AppDependencies,
  context: InvocationContext,
  noncompliant: readonly SubscriptionInfo[],
  scanId: string,
): Promise<{ fixed: number; failed: number; notWritten: number; deferred: number }> {
  const counts = { fixed: 0, failed: 0, notWritten: 0, deferred: 0 };
  if (!deps.settings.remediation.enabled || noncompliant.length === 0) return counts;
  const records = new Map(
    (await deps.store.getSubscriptions(noncompliant.map((subscription) => subscription.subscriptionId))).map((record) => [
      record.subscriptionId,
      record,
    ]),
  );
  const by = `app after scan ${scanId}`;
  const limit = pLimit(DEFAULT_WRITE_CONCURRENCY);
  await Promise.all(
    noncompliant.map((subscription) =>
      limit(async () => {
        const record = records.get(subscription.subscriptionId.toLowerCase());
        // Only what the record holds as noncompliant now: an event may have repaired it since the scan read it.
        if (!record || record.status !== 'noncompliant' || graceUntil(record, deps) || failedRecently(record, deps)) {
          counts.deferred += 1;
          return;
        }
        try {
          const repaired = await repairInApp(deps, context, subscription, by);
          if (repaired.kind !== 'repaired') counts.deferred += 1;
          else if (repaired.outcome.result === 'fixed') counts.fixed += 1;
          else if (repaired.outcome.remediation) counts.failed += 1;
          else counts.notWritten += 1;
        } catch (error) {
          counts.failed += 1;
          deps.log(context, 'remediation.error', { subscriptionId: subscription.subscriptionId, by, error });
        }
      }),
    ),
  );
  deps.log(context, 'remediation.afterScan', { scanId, ...counts });
  return counts;
}
