/**
 * The Functions app's dependencies: what every handler receives, built from the settings read at
 * start-up (src/compose/app-settings.ts). Handlers take their dependencies, so they run — and are tested
 * — outside the Functions host; the entry point builds one set per process, on the first
 * invocation (src/functions/app-instance.ts).
 */
import type { AzureCloudSettings } from '../adapters/azure-cloud.js';
import { createLogger } from '../adapters/structured-log.js';
import { openStateStore, parseStorageSetting } from '../adapters/table-storage/index.js';
import type { RetentionSettings } from '../scan/ports.js';
import { openScanLease } from '../adapters/table-storage/scan-lease.js';
import { openRepairClaims } from '../adapters/table-storage/repair-claims.js';
import { openScanReportStore } from '../adapters/table-storage/scan-reports.js';
import type { Policy } from '../core/model.js';
import type { AppDependencies } from '../app/dependencies.js';
import { alertDelivery } from './alert-delivery.js';
import type { AlertingSettings } from './alerting-settings.js';
import { createAzureAdapters, type AzureAdapters } from './azure.js';
import type { TableStateStore } from '../adapters/table-storage/index.js';
import type { StorageSetting, WatchSettings } from './settings.js';

/** Every app setting of docs/reference/settings.md that the app reads, checked once at start-up. */
export interface AppSettings {
  cloud: AzureCloudSettings;
  /** CONTACT_WATCH_STORAGE, else AzureWebJobsStorage: the setting's name and its value. */
  storage: StorageSetting;
  /** CONTACT_WATCH_POLICY (default policy when unset). */
  policy: Policy;
  /** CONTACT_WATCH_REMEDIATION: whether the app repairs contacts itself. */
  remediation: { enabled: boolean };
  /** ACS, sender, recipients, reminder days, grace minutes, e-mail rate. */
  alerting: AlertingSettings;
  /** CONTACT_WATCH_SCAN_SCHEDULE: the timer's NCRONTAB expression (six fields). */
  scanSchedule: string;
  /** CONTACT_WATCH_WATCH_SCHEDULE: the new-subscription watch, off or on a schedule. */
  watch: WatchSettings;
  /** CONTACT_WATCH_HISTORY_RETENTION_DAYS, CONTACT_WATCH_SCAN_RUN_RETENTION_DAYS. */
  retention: RetentionSettings;
  /** APPLICATIONINSIGHTS_CONNECTION_STRING, when set (never logged). */
  applicationInsightsConnectionString?: string;
}

/** The app's dependencies as composed here: the ports the handlers see, and the adapters behind them. */
export type ComposedAppDependencies = AppDependencies & {
  settings: AppSettings;
  azure: Pick<AzureAdapters, 'cloud' | 'credential' | 'inventory' | 'subscriptionIds' | 'contacts' | 'subscriptions'> & {
    writer: AzureAdapters['contacts'];
  };
  store: TableStateStore;
};

/**
 * Builds the app's dependencies from its settings: the cloud they name is the one every Azure
 * adapter and every portal link uses. DefaultAzureCredential reads its own variables
 * (IDENTITY_ENDPOINT, IDENTITY_HEADER, …) from process.env, as @azure/identity always does.
 */
export function createAppDependencies(settings: AppSettings): ComposedAppDependencies {
  const azure = createAzureAdapters(process.env, { cloud: settings.cloud });
  const clock = (): Date => new Date();
  const store = openStateStore(parseStorageSetting(settings.storage.value, settings.storage.settingName), {
    credential: azure.credential,
    settingName: settings.storage.settingName,
    clock,
    retention: settings.retention,
  });
  const lease = openScanLease(store.connection, { clock });
  const repairClaims = openRepairClaims(store.connection, { clock });
  const scanReports = openScanReportStore(store.connection);
  const alerts = alertDelivery({
    settings: settings.alerting,
    store,
    portalUrl: settings.cloud.portalUrl,
    credential: azure.credential,
    clock,
    // The app's channels are the deployment's: the CLI then queues nothing without all of them.
    runner: 'app',
  });
  return {
    settings,
    azure: { ...azure, writer: azure.contacts },
    store,
    lease,
    repairClaims,
    scanReports,
    alerts,
    clock,
    log: createLogger(),
  };
}
