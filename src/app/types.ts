/**
 * The Functions app's seams: what its settings are once validated, what every handler receives,
 * and the names of the handler factories the registrations in src/functions wire to triggers.
 * Handlers take their dependencies, so they run — and are tested — outside the Functions host.
 */
import type { InvocationContext } from '@azure/functions';
import type { AzureAdapters } from '../adapters/azure-clients.js';
import type { AzureCloudSettings } from '../adapters/azure-cloud.js';
import type { StateStore } from '../adapters/table-storage/index.js';
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

/** What every handler receives. Built once per process from AppSettings; tests build their own. */
export interface AppDependencies {
  settings: AppSettings;
  azure: Pick<AzureAdapters, 'cloud' | 'credential' | 'inventory' | 'contacts' | 'subscriptions'>;
  store: StateStore;
  lease: ScanLease;
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
 *   createReportHandler(deps): HttpHandler        GET  /api/report
 */
export const FUNCTION_NAMES = {
  scanTimer: 'scanTimer',
  contactEvents: 'contactEvents',
  compliance: 'subscriptionCompliance',
  subscriptions: 'subscriptions',
  scans: 'scans',
  report: 'report',
} as const;
