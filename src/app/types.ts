/**
 * The Functions app's seams: what its settings are once validated, what every handler receives,
 * and the names of the handler factories the registrations in src/functions wire to triggers.
 * Handlers take their dependencies, so they run — and are tested — outside the Functions host.
 */
import type { InvocationContext } from '@azure/functions';
import type { AzureAdapters } from '../adapters/azure-clients.js';
import type { AzureCloudSettings } from '../adapters/azure-cloud.js';
import type { StateStore } from '../adapters/table-storage/index.js';
import type { RetentionSettings } from '../adapters/table-storage/retention.js';
import type { AlertingSettings } from '../alerts/settings.js';
import type { Policy } from '../core/model.js';
import type { ScanLease, ScanReportStore } from '../scan/ports.js';

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
