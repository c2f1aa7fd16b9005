/**
 * One tenant scan under the scan lease, shared by the timer and POST /api/scans: take the lease
 * (or report who holds it), run the stored scan, send the digest of what is owed, give the lease
 * back. The lease is renewed while the scan runs, so a long scan keeps it and a crashed instance
 * loses it within the time-to-live.
 */
import { hostname } from 'node:os';
import type { InvocationContext } from '@azure/functions';
import type { ScanReport } from '../core/model.js';
import type { ScanProgress } from '../scan/scan.js';
import type { SecurityContactsSource, TenantInventorySource } from '../scan/ports.js';
import { runStoredScan } from '../scan/stored-scan.js';
import { deliverOwedAlerts } from './alerts.js';
import type { AppDependencies, LeaseToken } from './types.js';

/** host.json's functionTimeout (30 min) plus a margin: a crashed holder frees the lease after this. */
export const SCAN_LEASE_TTL_MS = 35 * 60_000;
/** How often a running scan extends its lease. */
export const SCAN_LEASE_RENEW_EVERY_MS = 5 * 60_000;
/** At most one `scan.progress` line this often while subscriptions are being confirmed. */
const PROGRESS_LOG_EVERY_MS = 60_000;
/** `subscription.statusChanged` lines per scan at most; scan.finished carries the full count. */
const MAX_STATUS_CHANGE_LINES = 100;

export type ScanJobTrigger = 'timer' | 'http';

export type ScanJobOutcome = { kind: 'ran'; report: ScanReport } | { kind: 'busy'; holder: string; expiresAt: string };

export interface ScanJobOptions {
  leaseTtlMs?: number;
  renewEveryMs?: number;
}

/** Names this instance and invocation: `<WEBSITE_INSTANCE_ID or host name>/<invocation id>`. */
export function leaseHolderFor(context: InvocationContext): string {
  return `${process.env.WEBSITE_INSTANCE_ID || hostname()}/${context.invocationId}`;
}

export async function runScanJob(
  deps: AppDependencies,
  context: InvocationContext,
  trigger: ScanJobTrigger,
  options: ScanJobOptions = {},
): Promise<ScanJobOutcome> {
  const ttlMs = options.leaseTtlMs ?? SCAN_LEASE_TTL_MS;
  const holder = leaseHolderFor(context);
  const startedMs = Date.now();

  let acquired;
  try {
    acquired = await deps.lease.tryAcquire(holder, ttlMs);
  } catch (error) {
    deps.log(context, 'scan.failed', { trigger, stage: 'lease', error });
    throw error;
  }
  if (!acquired.acquired) {
    deps.log(context, 'scan.skipped', { trigger, reason: 'another scan holds the lease', heldBy: acquired.holder, until: acquired.expiresAt });
    return { kind: 'busy', holder: acquired.holder, expiresAt: acquired.expiresAt };
  }

  const token = acquired.token;
  deps.log(context, 'scan.started', { trigger, leaseHolder: holder, leaseUntil: token.expiresAt });
  const renewal = keepRenewing(deps, context, token, ttlMs, options.renewEveryMs ?? SCAN_LEASE_RENEW_EVERY_MS);
  try {
    // The adapters are shared by every invocation in the process; count this scan's requests only.
    const inventory = countedInventory(deps.azure.inventory);
    const contacts = countedContacts(deps.azure.contacts);
    let result;
    try {
      result = await runStoredScan(
        {},
        {
          inventory,
          contacts,
          subscriptions: deps.azure.subscriptions,
          policy: deps.settings.policy,
          clock: deps.clock,
          store: deps.store,
          trigger,
          onProgress: sparseProgress(deps, context),
        },
      );
    } catch (error) {
      deps.log(context, 'scan.failed', {
        trigger,
        stage: 'scan',
        error,
        resourceGraphRequests: inventory.stats.requests,
        securityContactsCalls: contacts.stats.calls,
        durationMs: Date.now() - startedMs,
      });
      throw error;
    }

    const { report, stats, recorded } = result;
    let logged = 0;
    for (const change of recorded.changes) {
      if (change.from === null || logged >= MAX_STATUS_CHANGE_LINES) continue;
      logged += 1;
      deps.log(context, 'subscription.statusChanged', { subscriptionId: change.subscriptionId, from: change.from, to: change.to, scanId: report.scan.id });
    }
    deps.log(context, 'scan.finished', {
      trigger,
      scanId: report.scan.id,
      status: report.scan.status,
      ...report.summary,
      statusChanges: recorded.changes.filter((change) => change.from !== null).length,
      firstSeen: recorded.changes.filter((change) => change.from === null).length,
      resourceGraphRequests: stats.resourceGraphRequests,
      securityContactsCalls: stats.securityContactsCalls,
      durationMs: stats.durationMs,
    });

    await deliverOwedAlerts(deps, context, { mode: 'digest' });
    return { kind: 'ran', report };
  } finally {
    await renewal.stop();
    try {
      await deps.lease.release(token);
    } catch (error) {
      // Not fatal: the lease expires on its own at token.expiresAt.
      deps.log(context, 'scan.lease.release.failed', { error, leaseUntil: token.expiresAt });
    }
  }
}

/**
 * Extends the lease every `everyMs` until stopped; a lost lease is logged once and not renewed
 * again. `stop()` waits for a renewal in flight, so the release that follows uses its new ETag.
 */
function keepRenewing(
  deps: AppDependencies,
  context: InvocationContext,
  token: LeaseToken,
  ttlMs: number,
  everyMs: number,
): { stop(): Promise<void> } {
  let stopped = false;
  let inFlight: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (stopped || inFlight) return;
    inFlight = deps.lease
      .renew(token, ttlMs)
      .then((kept) => {
        if (kept || stopped) return;
        // Someone else took it after it expired. The scan goes on: its writes are ETag-checked and
        // the outbox's claims keep a second scan from sending the same alert twice.
        stopped = true;
        clearInterval(timer);
        deps.log(context, 'scan.lease.lost', { leaseHolder: token.holder, leaseUntil: token.expiresAt });
      })
      .catch((error: unknown) => deps.log(context, 'scan.lease.renew.failed', { error, leaseUntil: token.expiresAt }))
      .finally(() => {
        inFlight = undefined;
      });
  }, everyMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await inFlight;
    },
  };
}

function sparseProgress(deps: AppDependencies, context: InvocationContext): (progress: ScanProgress) => void {
  let lastPhase: ScanProgress['phase'] | undefined;
  let lastLoggedMs = 0;
  return (progress) => {
    const now = Date.now();
    const phaseChanged = progress.phase !== lastPhase;
    if (!phaseChanged && now - lastLoggedMs < PROGRESS_LOG_EVERY_MS) return;
    // Only the confirmation phase can be long; the others are covered by scan.started/finished.
    if (progress.phase === 'confirming') deps.log(context, 'scan.progress', { ...progress });
    lastPhase = progress.phase;
    lastLoggedMs = now;
  };
}

function countedInventory(source: TenantInventorySource): TenantInventorySource {
  const before = source.stats.requests;
  return {
    readInventory: (scope, signal) => source.readInventory(scope, signal),
    get stats() {
      return { requests: source.stats.requests - before };
    },
  };
}

function countedContacts(source: SecurityContactsSource): SecurityContactsSource {
  const before = source.stats.calls;
  return {
    listContacts: (subscriptionId, signal) => source.listContacts(subscriptionId, signal),
    get stats() {
      return { calls: source.stats.calls - before };
    },
  };
}
