/**
 * The Functions app's settings (docs/reference/settings.md): one zod schema over the app settings, made of the
 * parts of src/compose (each setting checked on its own, the rules across settings even when
 * another is wrong). Every problem is reported in one AppSettingsError, so an operator fixes them
 * in one go; a message names the setting and quotes a value only through quoteWithoutSecrets, so
 * it never repeats a secret the value holds. The entry point reads them once, at start-up
 * (src/functions/app-instance.ts).
 */
import { ALERTING_SETTINGS } from './alerting-settings.js';
import type { AppSettings } from './app.js';
import { defineSettings, type Env, type SettingNameOf } from './settings-schema.js';
import {
  APPLICATION_INSIGHTS_SETTINGS,
  CLOUD_SETTINGS,
  POLICY_SETTINGS,
  REMEDIATION_SETTINGS,
  RETENTION_SETTINGS,
  SCAN_SCHEDULE_SETTINGS,
  storageSettings,
  WATCH_SCHEDULE_SETTINGS,
  type WatchSettings,
} from './settings.js';
import { InvalidSettingsError, type SettingProblem } from '../core/settings-error.js';

/** In this order: the order of APP_SETTING_NAMES, in which problems are reported. */
const APP_SETTING_PARTS = {
  cloud: CLOUD_SETTINGS,
  storage: storageSettings(
    'CONTACT_WATCH_STORAGE is missing: the app keeps its state in Table Storage. Set CONTACT_WATCH_STORAGE (or AzureWebJobsStorage) to a connection string, ' +
      'UseDevelopmentStorage=true (Azurite) or https://<account>.table.core.windows.net (managed identity; needed when AzureWebJobsStorage is identity-based).',
  ),
  policy: POLICY_SETTINGS,
  remediation: REMEDIATION_SETTINGS,
  alerting: ALERTING_SETTINGS,
  scanSchedule: SCAN_SCHEDULE_SETTINGS,
  watch: WATCH_SCHEDULE_SETTINGS,
  retention: RETENTION_SETTINGS,
  applicationInsightsConnectionString: APPLICATION_INSIGHTS_SETTINGS,
};

const APP_SETTINGS = defineSettings(APP_SETTING_PARTS);

export type AppSettingName = SettingNameOf<typeof APP_SETTING_PARTS>;

/**
 * Every app setting the app itself reads, in one list: local.settings.example.json and the infra
 * templates must list the same names (a test checks the first). AzureWebJobsStorage is here too:
 * it is the host's, and the app's storage when CONTACT_WATCH_STORAGE is unset.
 */
export const APP_SETTING_NAMES: readonly AppSettingName[] = APP_SETTINGS.names;

/**
 * The Functions host's own settings, as local.settings.example.json gives them to Core Tools
 * (`func start`). Neither is set by that name in Azure: on Flex Consumption the runtime is part of
 * the app's functionAppConfig (the plan refuses FUNCTIONS_WORKER_RUNTIME), and AzureWebJobsStorage
 * is given in its identity-based form (AzureWebJobsStorage__*).
 */
export const HOST_SETTING_NAMES = ['FUNCTIONS_WORKER_RUNTIME', 'AzureWebJobsStorage'] as const;

/**
 * Variables the platform provides in Azure (the managed identity of App Service) or Node reads
 * itself (a test server's CA), which a local run against the local Azure test server must supply.
 * Not app settings: the infra templates do not set them.
 */
export const LOCAL_RUNTIME_SETTING_NAMES = ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'NODE_EXTRA_CA_CERTS'] as const;

/** One or more app settings are missing or malformed; `problems` lists each, `setting` is the first. */
export class AppSettingsError extends InvalidSettingsError {
  constructor(problems: readonly SettingProblem[]) {
    super(problems, 'app settings');
  }
}

const WATCH_SETTING = defineSettings({ watch: WATCH_SCHEDULE_SETTINGS });

/**
 * CONTACT_WATCH_WATCH_SCHEDULE alone: whether the watch's timer is registered, and on what. The
 * entry point has checked every setting (readAppSettings) before any registration reads this.
 * @throws AppSettingsError when the setting is malformed.
 */
export function readWatchSettings(env: Env): WatchSettings {
  const read = WATCH_SETTING.check(env);
  if (!read.ok) throw new AppSettingsError(read.problems);
  return read.settings.watch;
}

/**
 * Reads every setting of docs/reference/settings.md the app uses.
 * @throws AppSettingsError (a SettingsError) listing every missing or malformed setting.
 */
export function readAppSettings(env: Env): AppSettings {
  const read = APP_SETTINGS.check(env);
  if (!read.ok) throw new AppSettingsError(read.problems);
  const { remediation, policy } = read.settings;
  // A contact without a valid address is the commonest case (a new subscription has none), and
  // only the policy can say which mailbox to write there: the app never makes one up.
  if (remediation.enabled && policy.remediation.emails.length === 0) {
    throw new AppSettingsError([
      {
        setting: 'CONTACT_WATCH_REMEDIATION',
        message:
          'CONTACT_WATCH_REMEDIATION is on, but the policy (CONTACT_WATCH_POLICY) names no remediation.emails: the addresses to write ' +
          'where a contact has no valid one, e.g. {"remediation": {"emails": ["secops@your-company.com"]}}. Add them, or turn CONTACT_WATCH_REMEDIATION off.',
      },
    ]);
  }
  return read.settings;
}
