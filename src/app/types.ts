/**
 * The Functions app's seams: what its settings are once validated, what every handler receives,
 * and the names of the handler factories the registrations in src/functions wire to triggers.
 * Handlers take their dependencies, so they run — and are tested — outside the Functions host.
 */
import type { InvocationContext } from '@azure/functions';
import type { AzureAdapters } from '../adapters/azure-clients.js';
import type { AzureCloudSettings } from '../adapters/azure-cloud.js';
import type { TableStateStore as StateStore } from '../adapters/table-storage/index.js';
import type { RetentionSettings } from '../scan/ports.js';
import type { AlertingSettings } from '../alerts/settings.js';
import type { Policy } from '../core/model.js';

/** Every app setting of CONTRACT.md §5 that the app reads, validated once at start-up. */
export interface AppSettings {
  cloud: AzureCloudSettings;
  /** CONTACT_WATCH_STORAGE, else AzureWebJobsStorage: the setting's name and its value. */
  storage: { settingName: 'CONTACT_WATCH_STORAGE' | 'AzureWebJobsStorage'; value: string };
  /** CONTACT_WATCH_POLICY (default policy when unset). */
  policy: Policy;
  /** ACS, sender, recipients, reminder days, grace minutes, e-mail rate. */
  alerting: AlertingSettings;
  /** CONTACT_WATCH_SCAN_SCHEDULE: the timer's NCRONTAB expression (six fields). */
  scanSchedule: string;
  /** CONTACT_WATCH_HISTORY_RETENTION_DAYS, CONTACT_WATCH_SCAN_RUN_RETENTION_DAYS. */
  retention: RetentionSettings;
  /** APPLICATIONINSIGHTS_CONNECTION_STRING, when set (never logged). */
  applicationInsightsConnectionString?: string;
}

/**
 * Who holds the right to run the tenant scan. One scan at a time across scaled-out instances: a
 * lease row in Table Storage with an expiry, taken and released with its ETag.
 */
export interface ScanLease {
  /** Takes the lease if it is free or expired; otherwise says who holds it until when. */
  tryAcquire(holder: string, ttlMs: number): Promise<{ acquired: true; token: LeaseToken } | { acquired: false; holder: string; expiresAt: string }>;
  /** Extends a lease this holder still has (long scans); false if it was lost. */
  renew(token: LeaseToken, ttlMs: number): Promise<boolean>;
  /** Gives the lease back (only if still held with this token). */
  release(token: LeaseToken): Promise<void>;
}

export interface LeaseToken {
  holder: string;
  etag: string;
  expiresAt: string;
}

/**
 * Why a scan failed, as its callers are told: `azure` when Azure (Resource Graph) could not be
 * read (502 ScanFailed), `storage` when the scan could not be run or recorded (503 ScanUnavailable).
 * `reason` is safe to show (never a secret); the app's log has the details under `invocationId`.
 */
export interface ScanFailure {
  kind: 'azure' | 'storage';
  reason: string;
  invocationId: string;
}

/** A scan as GET /api/scans/{scanId} finds it. Times are ISO-8601. */
export type StoredScan =
  /** Under way while `aliveUntil` (its lease's expiry, moved on at each renewal) is ahead. */
  | { status: 'running'; scanId: string; trigger: string; startedAt: string; aliveUntil: string }
  /** `document` is the §7 JSON report, the exact text POST /api/scans answers. */
  | { status: 'finished'; scanId: string; trigger: string; startedAt: string; finishedAt: string; document: string }
  | { status: 'failed'; scanId: string; trigger: string; startedAt: string; failedAt: string; failure: ScanFailure };

/**
 * Every scan's outcome, kept so that any instance can answer for a scan another one ran: one
 * record per scan id, written by the scan job (under the scan lease) as the scan goes. Only the
 * newest `retainedScans` scans are kept; older ones are pruned as new ones start.
 */
export interface ScanReportStore {
  readonly retainedScans: number;
  /** A new scan, running until `aliveUntil`. Prunes a bounded number of scans beyond retention; a failed prune is reported, not thrown. */
  recordStarted(scan: { scanId: string; trigger: string; startedAt: string; aliveUntil: string }): Promise<{ prunedScans: number; pruneError?: unknown }>;
  /** Moves a running scan's `aliveUntil` on (its lease was renewed). */
  recordAlive(scanId: string, aliveUntil: string): Promise<void>;
  /** The scan finished: `document` (the §7 report's text, in pieces) is kept with it. */
  recordFinished(scanId: string, finished: { finishedAt: string; document: Iterable<string> }): Promise<void>;
  recordFailed(scanId: string, failed: { failedAt: string; failure: ScanFailure }): Promise<void>;
  /** The scan with this (lower-case) id, or undefined when it is unknown or no longer kept. */
  get(scanId: string): Promise<StoredScan | undefined>;
}

/** What every handler receives. Built once per process from AppSettings; tests build their own. */
export interface AppDependencies {
  settings: AppSettings;
  azure: Pick<AzureAdapters, 'cloud' | 'credential' | 'inventory' | 'contacts' | 'subscriptions'>;
  store: StateStore;
  lease: ScanLease;
  /** Each scan's status and report, for GET /api/scans/{scanId}. */
  scanReports: ScanReportStore;
  clock: () => Date;
  /** Structured log lines (src/app/log.ts); one JSON object per meaningful event. */
  log: (context: InvocationContext, event: string, fields?: Record<string, unknown>) => void;
}

/**
 * Handler factories, one per registration (src/app/handlers/*.ts):
 *   createScanTimerHandler(deps): TimerHandler
 *   createContactEventHandler(deps): EventGridHandler<unknown>
 *   createComplianceHandler(deps): HttpHandler    GET  /api/subscriptions/{subscriptionId}/compliance[?wait]
 *   createSubscriptionsHandler(deps): HttpHandler GET  /api/subscriptions[?status]
 *   createScansHandler(deps): HttpHandler         POST /api/scans
 *   createScanResultHandler(deps): HttpHandler    GET  /api/scans/{scanId}
 *   createReportHandler(deps): HttpHandler        GET  /api/report
 */
export const FUNCTION_NAMES = {
  scanTimer: 'scanTimer',
  contactEvents: 'contactEvents',
  compliance: 'subscriptionCompliance',
  subscriptions: 'subscriptions',
  scans: 'scans',
  scanResult: 'scanResult',
  report: 'report',
} as const;
