/**
 * The Functions app's composition root: the real adapters every handler receives, built from the
 * validated settings. One set per process (appDependencies), made on the first invocation so
 * that loading the entry point creates no client and opens no connection.
 */
import { createAzureAdapters } from '../adapters/azure-clients.js';
import { openScanLease } from '../adapters/table-storage/scan-lease.js';
import { openScanReportStore } from '../adapters/table-storage/scan-reports.js';
import { openStateStore, parseStorageSetting } from '../adapters/table-storage/index.js';
import { createLogger } from './log.js';
import { readAppSettings, resetStartupSettingsForTests, settingsValidatedAtStartup } from './settings.js';
import type { AppDependencies, AppSettings } from './types.js';

export { validateAppSettingsAtStartup } from './settings.js';

/**
 * Builds the app's dependencies from its settings. `env` is what the Azure adapters read
 * (AZURE_CLOUD, AZURE_RESOURCE_MANAGER_ENDPOINT); DefaultAzureCredential reads its own variables
 * (IDENTITY_ENDPOINT, IDENTITY_HEADER, …) from process.env, as @azure/identity always does.
 */
export function createAppDependencies(settings: AppSettings, env: NodeJS.ProcessEnv = process.env): AppDependencies {
  const azure = createAzureAdapters(env);
  const clock = (): Date => new Date();
  const store = openStateStore(parseStorageSetting(settings.storage.value, settings.storage.settingName), {
    credential: azure.credential,
    settingName: settings.storage.settingName,
    clock,
    retention: settings.retention,
  });
  const lease = openScanLease(store.connection, { clock });
  const scanReports = openScanReportStore(store.connection);
  return { settings, azure, store, lease, scanReports, clock, log: createLogger() };
}

let shared: AppDependencies | undefined;

/**
 * The process's dependencies, built on first use from the settings validated at start-up (or, when
 * the entry point did not validate them, from process.env now; a bad setting throws naming it).
 */
export function appDependencies(): AppDependencies {
  shared ??= createAppDependencies(settingsValidatedAtStartup() ?? readAppSettings(process.env));
  return shared;
}

/** Forgets the process's dependencies and start-up settings, so a test can build them again. */
export function resetAppDependenciesForTests(): void {
  shared = undefined;
  resetStartupSettingsForTests();
}
