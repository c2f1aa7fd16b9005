/**
 * One tenant scan under the scan lease, shared by the timer and POST /api/scans: take the lease
 * (or report who holds it), record the scan as running, run the stored scan, keep its report, send
 * the digest of what is owed, give the lease back. The lease is renewed while the scan runs, so a
 * long scan keeps it and a crashed instance loses it within the time-to-live.
 *
 * startScanJob returns as soon as the scan is recorded as running, with its id and a promise of
 * its end, so that POST /api/scans can stop waiting (202) while the scan goes on in this process,
 * still holding the lease. Every outcome is kept in deps.scanReports, which is how any instance
 * answers GET /api/scans/{scanId}.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { InvocationContext } from '@azure/functions';
import type { ScanReport } from '../core/model.js';
import { jsonReportChunks } from '../report/json.js';
import { ScanFailedError, type ScanProgress } from '../scan/scan.js';
import type { LeaseToken, ScanFailure, SecurityContactsSource, TenantInventorySource } from '../scan/ports.js';
import { runStoredScan } from '../scan/stored-scan.js';
import { deliverOwedAlerts } from './deliver-owed-alerts.js';
import { repairAfterScan } from './repair-subscriptions.js';
import { looksLikeSecret } from '../core/secret-text.js';
import type { AppDependencies } from './dependencies.js';

/** host.json's functionTimeout (30 min) plus a margin: a crashed holder frees the lease after this. */
export const SCAN_LEASE_TTL_MS = 35 * 60_000;
/** How often a running scan extends its lease. */
export const SCAN_LEASE_RENEW_EVERY_MS = 5 * 60_000;
/**
 * How long after its start a scan's lease is renewed at most: host.json's functionTimeout. The
 * host ends a timer invocation then, but not a scan that goes on after POST /api/scans answered
 * 202; without this bound a scan that hangs would keep the lease, and every other scan out, for
 * ever. Past it the lease lapses within its time-to-live and GET /api/scans/{scanId} answers the
 * scan as interrupted.
 */
export const SCAN_LEASE_RENEW_FOR_MS = 30 * 60_000;
/** At most one `scan.progress` line this often while subscriptions are being confirmed. */
const PROGRESS_LOG_EVERY_MS = 60_000;
/** `subscription.statusChanged` lines per scan at most; scan.finished carries the full count. */
const MAX_STATUS_CHANGE_LINES = 100;

export type ScanJobTrigger = 'timer' | 'http';

export type ScanJobOutcome = { kind: 'ran'; report: ScanReport } | { kind: 'busy'; holder: string; expiresAt: string };

export type ScanJobStart =
  /**
   * `recorded` settles once the scan is recorded and its report kept (the alerts may still be
   * going out: the outbox keeps them, so a job stopped after this loses none); `finished` once
   * the whole job has (alerts sent, lease given back). Both reject when the scan fails.
   */
  | { kind: 'started'; scanId: string; startedAt: string; recorded: Promise<ScanReport>; finished: Promise<ScanReport> }
  | { kind: 'busy'; holder: string; expiresAt: string };

export interface ScanJobOptions {
  leaseTtlMs?: number;
  renewEveryMs?: number;
  renewForMs?: number;
}

/** Names this instance and invocation: `<WEBSITE_INSTANCE_ID or host name>/<invocation id>`. */
export function leaseHolderFor(context: InvocationContext): string {
  return `${process.env.WEBSITE_INSTANCE_ID || hostname()}/${context.invocationId}`;
}

/**
 * What a caller is told about a scan that could not run: Azure unreadable (a ScanFailedError) or
 * the scan not run or recorded (anything else). The reason is the error's message unless it looks
 * like it carries a secret.
 */
export function scanFailureOf(error: unknown, context: InvocationContext): ScanFailure {
  const reason = (error instanceof Error && !looksLikeSecret(error.message) ? error.message : 'see the app log').replace(/[.\s]+$/, '');
  return { kind: error instanceof ScanFailedError ? 'azure' : 'storage', reason, invocationId: context.invocationId };
}

/** Runs the whole job and waits for it: the timer's way. */
export async function runScanJob(
  deps: AppDependencies,
  context: InvocationContext,
  trigger: ScanJobTrigger,
  options: ScanJobOptions = {},
): Promise<ScanJobOutcome> {
  const start = await startScanJob(deps, context, trigger, options);
  if (start.kind === 'busy') return start;
  return { kind: 'ran', report: await start.finished };
}

/**
 * Takes the lease and records the scan as running, then lets it run: resolves once the scan is
 * recorded (so that GET /api/scans/{scanId} knows it from then on), or with `busy`. Throws when
 * the lease or the running record cannot be written; the lease is then given back.
 */
export async function startScanJob(
  deps: AppDependencies,
  context: InvocationContext,
  trigger: ScanJobTrigger,
  options: ScanJobOptions = {},
): Promise<ScanJobStart> {
  const ttlMs = options.leaseTtlMs ?? SCAN_LEASE_TTL_MS;
  const holder = leaseHolderFor(context);

  let acquired;
  try {
    acquired = await deps.lease.tryAcquire(holder, ttlMs);
  } catch (error) {
    deps.log(context, 'scan.failed', { trigger, stage: 'lease', error });
    throw error;
  }
  if (!acquired.acquired) {
    deps.log(context, 'scan.skipped', {
      trigger,
      reason: 'another scan holds the lease',
      heldBy: acquired.holder,
      until: acquired.expiresAt,
    });
    return { kind: 'busy', holder: acquired.holder, expiresAt: acquired.expiresAt };
  }

  const token = acquired.token;
  const scanId = randomUUID();
  const startedAt = deps.clock().toISOString();
  let recorded;
  try {
    // The lease's expiry is the scan's sign of life: a row still `running` after it is a scan
    // whose instance stopped (renewals move it on while the scan runs).
    recorded = await deps.scanReports.recordStarted({ scanId, trigger, startedAt, aliveUntil: token.expiresAt });
  } catch (error) {
    deps.log(context, 'scan.failed', { trigger, stage: 'record', scanId, error });
    await releaseLease(deps, context, token);
    throw error;
  }

  deps.log(context, 'scan.started', { trigger, scanId, leaseHolder: holder, leaseUntil: token.expiresAt });
  if (recorded.pruneError !== undefined) deps.log(context, 'scan.reports.prune.failed', { error: recorded.pruneError });
  else if (recorded.prunedScans > 0)
    deps.log(context, 'scan.reports.pruned', { scans: recorded.prunedScans, retained: deps.scanReports.retainedScans });
  const renewal = { everyMs: options.renewEveryMs ?? SCAN_LEASE_RENEW_EVERY_MS, forMs: options.renewForMs ?? SCAN_LEASE_RENEW_FOR_MS };
  let reportKept!: (report: ScanReport) => void;
  const kept = new Promise<ScanReport>((resolve) => (reportKept = resolve));
  const finished = runStartedScan(deps, context, trigger, scanId, token, ttlMs, renewal, reportKept);
  // Settles with the kept report, or with the job's failure when it fails before keeping one.
  const reportRecorded = Promise.race([kept, finished]);
  // POST /api/scans may stop waiting for them; a failure is logged and kept, never unhandled.
  finished.catch(() => undefined);
  reportRecorded.catch(() => undefined);
  return { kind: 'started', scanId, startedAt, recorded: reportRecorded, finished };
}

async function runStartedScan(
  deps: AppDependencies,
  context: InvocationContext,
  trigger: ScanJobTrigger,
  scanId: string,
  token: LeaseToken,
  ttlMs: number,
  renewalTimes: { everyMs: number; forMs: number },
  reportKept: (report: ScanReport) => void,
): Promise<ScanReport> {
  const startedMs = Date.now();
  const renewal = keepRenewing(deps, context, token, ttlMs, { ...renewalTimes, untilMs: startedMs + renewalTimes.forMs }, (aliveUntil) =>
    deps.scanReports.recordAlive(scanId, aliveUntil),
  );
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
          scanId,
          onProgress: sparseProgress(deps, context),
        },
      );
    } catch (error) {
      deps.log(context, 'scan.failed', {
        trigger,
        stage: 'scan',
        scanId,
        error,
        resourceGraphRequests: inventory.stats.requests,
        securityContactsCalls: contacts.stats.calls,
        durationMs: Date.now() - startedMs,
      });
      await recordFailure(deps, context, scanId, scanFailureOf(error, context));
      throw error;
    }

    const { report, stats, recorded } = result;
    let logged = 0;
    for (const change of recorded.changes) {
      if (change.from === null || logged >= MAX_STATUS_CHANGE_LINES) continue;
      logged += 1;
      deps.log(context, 'subscription.statusChanged', {
        subscriptionId: change.subscriptionId,
        from: change.from,
        to: change.to,
        scanId: report.scan.id,
      });
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
      refusedWrites: recorded.refused.length,
    });
    for (const refused of recorded.refused.slice(0, MAX_STATUS_CHANGE_LINES)) {
      deps.log(context, 'subscription.notStored', {
        subscriptionId: refused.subscriptionId,
        scanId: report.scan.id,
        reason: refused.reason,
      });
    }
    if (result.pruned)
      deps.log(context, 'error' in result.pruned ? 'state.prune.failed' : 'state.pruned', { scanId: report.scan.id, ...result.pruned });

    // Kept before the alerts go out: the report is final once the scan is recorded, and a poller
    // should not wait for e-mail delivery to read it.
    try {
      await deps.scanReports.recordFinished(scanId, { finishedAt: report.scan.finishedAt, document: jsonReportChunks(report) });
    } catch (error) {
      // The scan itself is recorded; only its report for GET /api/scans/{scanId} is lost. Say so
      // there, rather than leave it `running` until its lease would have expired.
      deps.log(context, 'scan.report.failed', { scanId, error });
      await recordFailure(deps, context, scanId, {
        ...scanFailureOf(error, context),
        reason: `the scan finished and is recorded, but its report could not be kept: ${scanFailureOf(error, context).reason}`,
      });
    }
    reportKept(report);

    // The timer repairs what its scan found noncompliant (CONTACT_WATCH_REMEDIATION=on); the
    // report stays what the scan read, and the alerts below see the repaired records.
    if (trigger === 'timer' && deps.settings.remediation.enabled) {
      const noncompliant = report.subscriptions.filter((verdict) => verdict.status === 'noncompliant');
      await repairAfterScan(deps, context, noncompliant, report.scan.id).catch((error: unknown) =>
        deps.log(context, 'remediation.error', { scanId: report.scan.id, error }),
      );
    }

    await deliverOwedAlerts(deps, context, { mode: 'digest' });
    return report;
  } finally {
    await renewal.stop();
    await releaseLease(deps, context, token);
  }
}

async function recordFailure(deps: AppDependencies, context: InvocationContext, scanId: string, failure: ScanFailure): Promise<void> {
  try {
    await deps.scanReports.recordFailed(scanId, { failedAt: deps.clock().toISOString(), failure });
  } catch (error) {
    // GET /api/scans/{scanId} then answers it as interrupted once its lease has expired.
    deps.log(context, 'scan.report.failed', { scanId, error });
  }
}

async function releaseLease(deps: AppDependencies, context: InvocationContext, token: LeaseToken): Promise<void> {
  try {
    await deps.lease.release(token);
  } catch (error) {
    // Not fatal: the lease expires on its own at token.expiresAt.
    deps.log(context, 'scan.lease.release.failed', { error, leaseUntil: token.expiresAt });
  }
}

/**
 * Extends the lease every `everyMs` until stopped, or until `untilMs` (SCAN_LEASE_RENEW_FOR_MS
 * after the start); a lost lease is logged once and not renewed again. `stop()` waits for a
 * renewal in flight, so the release that follows uses its new ETag. After each renewal
 * `onRenewed` is told the new expiry (the stored scan's sign of life).
 */
function keepRenewing(
  deps: AppDependencies,
  context: InvocationContext,
  token: LeaseToken,
  ttlMs: number,
  { everyMs, untilMs }: { everyMs: number; untilMs: number },
  onRenewed: (expiresAt: string) => Promise<void>,
): { stop(): Promise<void> } {
  let stopped = false;
  let inFlight: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (stopped || inFlight) return;
    if (Date.now() >= untilMs) {
      stopped = true;
      clearInterval(timer);
      deps.log(context, 'scan.lease.renewals.ended', { reason: 'the scan has run as long as a scan may', leaseUntil: token.expiresAt });
      return;
    }
    inFlight = (async () => {
      try {
        if (!(await deps.lease.renew(token, ttlMs))) {
          if (stopped) return;
          // Someone else took it after it expired. The scan goes on: its writes are ETag-checked and
          // the outbox's claims keep a second scan from sending the same alert twice.
          stopped = true;
          clearInterval(timer);
          deps.log(context, 'scan.lease.lost', { leaseHolder: token.holder, leaseUntil: token.expiresAt });
          return;
        }
      } catch (error) {
        deps.log(context, 'scan.lease.renew.failed', { error, leaseUntil: token.expiresAt });
        return;
      }
      if (stopped) return;
      await onRenewed(token.expiresAt).catch((error: unknown) => deps.log(context, 'scan.report.failed', { stage: 'alive', error }));
    })().finally(() => {
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
    readInventory: (scope, listener, signal) => source.readInventory(scope, listener, signal),
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
