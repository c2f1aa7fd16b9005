/**
 * The Functions app's settings (CONTRACT.md §5), read and validated once at start-up. Every
 * problem is collected and reported in one SettingsError, so an operator fixes them in one go; a
 * message names the setting and quotes a value only through quoteWithoutSecrets, so it never
 * repeats a secret the value holds.
 */
import { resolveAzureCloud, type AzureCloudSettings } from '../adapters/azure-cloud.js';
import { SettingsError } from '../core/settings-error.js';
import { parseStorageSetting } from '../adapters/table-storage/connection.js';
import { readRetentionSettings, RETENTION_SETTING_NAMES } from '../adapters/table-storage/retention.js';
import { readAlertingSettings, type AlertingSettings } from '../alerts/settings.js';
import type { Policy } from '../core/model.js';
import { DEFAULT_POLICY, parsePolicyJson, PolicyError } from '../core/policy.js';
import { ncrontabProblem } from '../core/ncrontab.js';
import { quoteWithoutSecrets } from '../core/secret-text.js';
import { startTelemetry } from './log.js';
import type { AppSettings } from './types.js';

type Env = Record<string, string | undefined>;

export const DEFAULT_SCAN_SCHEDULE = '0 */30 * * * *';

/** The alerting settings (src/alerts/settings.ts), each probed on its own when one is wrong. */
const ALERTING_SETTING_NAMES = [
  'CONTACT_WATCH_ACS_ENDPOINT',
  'CONTACT_WATCH_ACS_CONNECTION_STRING',
  'CONTACT_WATCH_EMAIL_SENDER',
  'CONTACT_WATCH_ALERT_RECIPIENTS',
  'CONTACT_WATCH_REMINDER_DAYS',
  'CONTACT_WATCH_NEW_SUBSCRIPTION_GRACE_MINUTES',
  'CONTACT_WATCH_FIXED_NOTICES',
  'CONTACT_WATCH_EMAIL_RATE_PER_MINUTE',
  'CONTACT_WATCH_EMAIL_RATE_PER_HOUR',
  'CONTACT_WATCH_REPORT_URL',
] as const;

/**
 * Every app setting the app itself reads, in one list: local.settings.example.json and the infra
 * templates must list the same names (a test checks the first). AzureWebJobsStorage is here too:
 * it is the host's, and the app's storage when CONTACT_WATCH_STORAGE is unset.
 */
export const APP_SETTING_NAMES = [
  'AZURE_CLOUD',
  'AZURE_RESOURCE_MANAGER_ENDPOINT',
  'CONTACT_WATCH_STORAGE',
  'AzureWebJobsStorage',
  'CONTACT_WATCH_POLICY',
  ...ALERTING_SETTING_NAMES,
  'CONTACT_WATCH_SCAN_SCHEDULE',
  ...RETENTION_SETTING_NAMES,
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
] as const;

export type AppSettingName = (typeof APP_SETTING_NAMES)[number];

/** The Functions host's own settings that every app has. */
export const HOST_SETTING_NAMES = ['FUNCTIONS_WORKER_RUNTIME', 'AzureWebJobsStorage'] as const;

/**
 * Variables the platform provides in Azure (the managed identity of App Service) or Node reads
 * itself (a test server's CA), which a local run against the local Azure test server must supply.
 * Not app settings: the infra templates do not set them.
 */
export const LOCAL_RUNTIME_SETTING_NAMES = ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER', 'NODE_EXTRA_CA_CERTS'] as const;

export interface SettingProblem {
  setting: string;
  message: string;
}

/** One or more settings are missing or malformed; `problems` lists each, `setting` is the first. */
export class AppSettingsError extends SettingsError {
  override name = 'SettingsError';

  constructor(readonly problems: readonly SettingProblem[]) {
    const first = problems[0]!;
    super(
      first.setting,
      problems.length === 1
        ? named(first)
        : `${problems.length} app settings are missing or malformed:\n${problems.map((problem) => `- ${named(problem)}`).join('\n')}`,
    );
  }

  /** The names of the settings at fault, in order. */
  get settings(): string[] {
    return this.problems.map((problem) => problem.setting);
  }
}

/** The message, led by the setting's name unless it already names it. */
function named(problem: SettingProblem): string {
  return problem.message.includes(problem.setting) ? problem.message : `${problem.setting}: ${problem.message}`;
}

function present(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/**
 * Reads every setting of CONTRACT.md §5 the app uses.
 * @throws AppSettingsError (a SettingsError) listing every missing or malformed setting.
 */
export function readAppSettings(env: Env): AppSettings {
  const problems: SettingProblem[] = [];
  const attempt = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (error) {
      const problem = problemOf(error);
      if (!problem) throw error;
      if (!problems.some((known) => known.setting === problem.setting && known.message === problem.message)) problems.push(problem);
      return undefined;
    }
  };

  const cloud = attempt(() => readCloud(env, attempt));
  const storage = attempt(() => readStorage(env));
  const policy = attempt(() => readPolicy(env));
  const alerting = attempt(() => readAlerting(env, attempt));
  const scanSchedule = attempt(() => readScanSchedule(env));
  const retention = attempt(() => readRetentionSettings(env));
  const applicationInsightsConnectionString = attempt(() => readApplicationInsights(env));

  if (problems.length > 0 || !cloud || !storage || !policy || !alerting || !scanSchedule || !retention) {
    const order = (setting: string): number => {
      const index = (APP_SETTING_NAMES as readonly string[]).indexOf(setting);
      return index < 0 ? APP_SETTING_NAMES.length : index;
    };
    // Stable sort: in the order of APP_SETTING_NAMES, as an operator reads down the list.
    problems.sort((a, b) => order(a.setting) - order(b.setting));
    throw new AppSettingsError(problems.length > 0 ? problems : [{ setting: 'settings', message: 'could not be read' }]);
  }
  return {
    cloud,
    storage,
    policy,
    alerting,
    scanSchedule,
    retention,
    ...(applicationInsightsConnectionString ? { applicationInsightsConnectionString } : {}),
  };
}

let startupSettings: AppSettings | undefined;

/**
 * Called by the entry point (src/functions/index.ts) when it is loaded: reads the settings once,
 * throws the AppSettingsError naming every bad setting (which stops the app before any
 * invocation), starts telemetry, and keeps the settings for appDependencies().
 */
export function validateAppSettingsAtStartup(env: Env = process.env): AppSettings {
  const settings = readAppSettings(env);
  startTelemetry(settings);
  startupSettings = settings;
  return settings;
}

/** The settings validated at start-up, if validateAppSettingsAtStartup ran. */
export function settingsValidatedAtStartup(): AppSettings | undefined {
  return startupSettings;
}

/** Forgets the start-up settings (tests). */
export function resetStartupSettingsForTests(): void {
  startupSettings = undefined;
}

function problemOf(error: unknown): SettingProblem | undefined {
  if (error instanceof AppSettingsError) return error.problems[0];
  if (error instanceof SettingsError) return { setting: error.setting, message: error.message };
  if (error instanceof PolicyError) return { setting: 'CONTACT_WATCH_POLICY', message: error.message };
  return undefined;
}

type Attempt = <T>(read: () => T) => T | undefined;

function readCloud(env: Env, attempt: Attempt): AzureCloudSettings {
  try {
    return resolveAzureCloud(env);
  } catch (error) {
    // resolveAzureCloud stops at AZURE_CLOUD; check the endpoint on its own as well.
    if (error instanceof SettingsError && error.setting === 'AZURE_CLOUD') {
      attempt(() => resolveAzureCloud({ AZURE_RESOURCE_MANAGER_ENDPOINT: env.AZURE_RESOURCE_MANAGER_ENDPOINT }));
    }
    throw error;
  }
}

function readStorage(env: Env): AppSettings['storage'] {
  const settingName = present(env, 'CONTACT_WATCH_STORAGE') ? 'CONTACT_WATCH_STORAGE' : present(env, 'AzureWebJobsStorage') ? 'AzureWebJobsStorage' : undefined;
  if (!settingName) {
    throw new SettingsError(
      'CONTACT_WATCH_STORAGE',
      'CONTACT_WATCH_STORAGE is missing: the app keeps its state in Table Storage. Set CONTACT_WATCH_STORAGE (or AzureWebJobsStorage) to a connection string, ' +
        'UseDevelopmentStorage=true (Azurite) or https://<account>.table.core.windows.net (managed identity; needed when AzureWebJobsStorage is identity-based).',
    );
  }
  const value = env[settingName]!.trim();
  parseStorageSetting(value, settingName);
  return { settingName, value };
}

function readPolicy(env: Env): Policy {
  const text = present(env, 'CONTACT_WATCH_POLICY');
  return text === undefined ? DEFAULT_POLICY : parsePolicyJson(text, 'CONTACT_WATCH_POLICY');
}

/** Stand-ins that pass validation, so each alerting setting can be checked on its own. */
const ALERTING_STAND_INS: Env = {
  CONTACT_WATCH_ACS_ENDPOINT: 'https://stand-in.communication.azure.com',
  CONTACT_WATCH_EMAIL_SENDER: 'DoNotReply@stand-in.example',
  CONTACT_WATCH_ALERT_RECIPIENTS: 'stand-in@stand-in.example',
};
const ACS_SETTINGS = ['CONTACT_WATCH_ACS_ENDPOINT', 'CONTACT_WATCH_ACS_CONNECTION_STRING'];

/**
 * readAlertingSettings stops at the first problem. When there is one, each setting (the two ACS
 * settings together) is read again on its own, beside stand-ins for the others, so that every
 * wrong alerting setting is reported at once — with the validation of src/alerts/settings.ts.
 */
function readAlerting(env: Env, attempt: Attempt): AlertingSettings {
  try {
    return readAlertingSettings(env);
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    const groups = [ACS_SETTINGS, ...ALERTING_SETTING_NAMES.filter((name) => !ACS_SETTINGS.includes(name)).map((name) => [name])];
    for (const group of groups) {
      const probe: Env = { ...ALERTING_STAND_INS };
      if (group === ACS_SETTINGS) delete probe.CONTACT_WATCH_ACS_ENDPOINT;
      for (const name of group) probe[name] = env[name];
      attempt(() => readAlertingSettings(probe));
    }
    throw error;
  }
}

function readApplicationInsights(env: Env): string | undefined {
  const text = present(env, 'APPLICATIONINSIGHTS_CONNECTION_STRING');
  if (text === undefined) return undefined;
  const keys = new Set(
    text
      .split(';')
      .map((part) => part.trim())
      .filter(Boolean)
      .map((part) => (part.includes('=') ? part.slice(0, part.indexOf('=')).trim().toLowerCase() : '')),
  );
  if (keys.has('') || !keys.has('instrumentationkey')) {
    // The value is a secret of sorts: never repeated here.
    throw new SettingsError(
      'APPLICATIONINSIGHTS_CONNECTION_STRING',
      "APPLICATIONINSIGHTS_CONNECTION_STRING is not an Application Insights connection string: expected Key=Value pairs separated by ';' with InstrumentationKey= (copy it from the resource's Overview), or leave it empty.",
    );
  }
  return text;
}

function readScanSchedule(env: Env): string {
  const text = present(env, 'CONTACT_WATCH_SCAN_SCHEDULE') ?? DEFAULT_SCAN_SCHEDULE;
  const problem = ncrontabProblem(text);
  if (problem) {
    throw new SettingsError(
      'CONTACT_WATCH_SCAN_SCHEDULE',
      `CONTACT_WATCH_SCAN_SCHEDULE is ${quoteWithoutSecrets(text)}: ${problem}. Expected a six-field NCRONTAB expression ` +
        `"second minute hour day month day-of-week", e.g. ${DEFAULT_SCAN_SCHEDULE} (every 30 minutes).`,
    );
  }
  return text;
}
