/**
 * The settings of docs/reference/settings.md but the alerting ones (src/compose/alerting-settings.ts), as parts
 * of the one schema over the environment (src/compose/settings-schema.ts). Each message names the
 * setting and what it accepts, and quotes a value only through quoteWithoutSecrets, so it never
 * repeats a secret the value holds.
 */
import { resolveAzureCloud } from '../adapters/azure-cloud.js';
import { parseStorageSetting } from '../adapters/table-storage/connection.js';
import { readRetentionSettings } from '../adapters/table-storage/retention.js';
import type { RetentionSettings } from '../scan/ports.js';
import { ncrontabProblem } from '../core/ncrontab.js';
import { DEFAULT_POLICY, parsePolicyJson } from '../core/policy.js';
import { quoteWithoutSecrets } from '../core/secret-text.js';
import { SettingsError } from '../core/settings-error.js';
import { setting, settingsPart, settingText } from './settings-schema.js';

/** A setting kept as its text once `check` (which throws a SettingsError naming it) accepts it. */
function checkedText(check: (text: string | undefined) => unknown) {
  return setting((text) => {
    check(text);
    return text;
  });
}

/**
 * AZURE_CLOUD and AZURE_RESOURCE_MANAGER_ENDPOINT: ARM endpoint, token scope, authority, portal.
 * Each is checked on its own, then the two make the cloud's settings.
 */
export const CLOUD_SETTINGS = settingsPart({
  fields: {
    AZURE_CLOUD: checkedText((text) => resolveAzureCloud({ AZURE_CLOUD: text })),
    AZURE_RESOURCE_MANAGER_ENDPOINT: checkedText((text) => resolveAzureCloud({ AZURE_RESOURCE_MANAGER_ENDPOINT: text })),
  },
  value: (values) => resolveAzureCloud(values),
});

type StorageSettingName = 'CONTACT_WATCH_STORAGE' | 'AzureWebJobsStorage';

/** The Table Storage setting in use: its name and its value. */
export interface StorageSetting {
  settingName: StorageSettingName;
  value: string;
}

/**
 * CONTACT_WATCH_STORAGE, else AzureWebJobsStorage (docs/reference/cli.md and docs/reference/settings.md): only the one in use is
 * checked, since AzureWebJobsStorage is the Functions host's own. `missing` is what to say when
 * neither is set, for whoever needs the storage.
 */
export function storageSettings(missing: string) {
  const inUse = (values: { CONTACT_WATCH_STORAGE: string | undefined; AzureWebJobsStorage: string | undefined }): StorageSetting => {
    const settingName = values.CONTACT_WATCH_STORAGE
      ? 'CONTACT_WATCH_STORAGE'
      : values.AzureWebJobsStorage
        ? 'AzureWebJobsStorage'
        : undefined;
    if (!settingName) throw new SettingsError('CONTACT_WATCH_STORAGE', missing);
    const value = values[settingName]!;
    parseStorageSetting(value, settingName);
    return { settingName, value };
  };
  return settingsPart({
    fields: { CONTACT_WATCH_STORAGE: settingText, AzureWebJobsStorage: settingText },
    across: inUse,
    value: inUse,
  });
}

/** True when a Table Storage setting is present: CONTACT_WATCH_STORAGE, else AzureWebJobsStorage. */
export function storageIsSet(env: Record<string, string | undefined>): boolean {
  return Boolean(env.CONTACT_WATCH_STORAGE?.trim() || env.AzureWebJobsStorage?.trim());
}

/** CONTACT_WATCH_POLICY: the policy as inline JSON; the default policy when unset. */
export const POLICY_SETTINGS = settingsPart({
  fields: {
    CONTACT_WATCH_POLICY: setting((text) => (text === undefined ? DEFAULT_POLICY : parsePolicyJson(text, 'CONTACT_WATCH_POLICY'))),
  },
  value: (values) => values.CONTACT_WATCH_POLICY,
});

/**
 * CONTACT_WATCH_REMEDIATION: whether the app repairs security contacts itself (docs/reference/remediation.md).
 * Off unless it says `on`: writing contacts across a tenant is never a default.
 */
export const REMEDIATION_SETTINGS = settingsPart({
  fields: {
    CONTACT_WATCH_REMEDIATION: setting((text = 'off') => {
      const value = text.toLowerCase();
      if (value !== 'on' && value !== 'off') {
        throw new SettingsError(
          'CONTACT_WATCH_REMEDIATION',
          `CONTACT_WATCH_REMEDIATION is ${quoteWithoutSecrets(text)}: expected "on" (the app repairs security contacts itself) or "off" (the default).`,
        );
      }
      return value === 'on';
    }),
  },
  value: (values) => ({ enabled: values.CONTACT_WATCH_REMEDIATION }),
});

export const DEFAULT_SCAN_SCHEDULE = '0 */30 * * * *';

/** CONTACT_WATCH_SCAN_SCHEDULE: the timer's six-field NCRONTAB expression (Functions app). */
export const SCAN_SCHEDULE_SETTINGS = settingsPart({
  fields: {
    CONTACT_WATCH_SCAN_SCHEDULE: setting((text = DEFAULT_SCAN_SCHEDULE) => {
      const problem = ncrontabProblem(text);
      if (problem) {
        throw new SettingsError(
          'CONTACT_WATCH_SCAN_SCHEDULE',
          `CONTACT_WATCH_SCAN_SCHEDULE is ${quoteWithoutSecrets(text)}: ${problem}. Expected a six-field NCRONTAB expression ` +
            `"second minute hour day month day-of-week", e.g. ${DEFAULT_SCAN_SCHEDULE} (every 30 minutes).`,
        );
      }
      return text;
    }),
  },
  value: (values) => values.CONTACT_WATCH_SCAN_SCHEDULE,
});

export const DEFAULT_WATCH_SCHEDULE = '0 */5 * * * *';
/** The app-setting reference the watch's timer is registered with when the setting is set. */
export const WATCH_SCHEDULE_REFERENCE = '%CONTACT_WATCH_WATCH_SCHEDULE%';

/**
 * The new-subscription watch (docs/reference/scanning.md): off, or when its timer runs. The host resolves a
 * `%…%` schedule itself and refuses an app that names one it cannot resolve, so the timer is
 * registered with the reference only when the setting holds a schedule; unset, with the default
 * schedule itself; `off`, not at all.
 */
export type WatchSettings =
  | { enabled: false }
  | {
      enabled: true;
      /** The NCRONTAB expression the watch runs on. */
      schedule: string;
      /** What the timer trigger is registered with: WATCH_SCHEDULE_REFERENCE, or the default expression when the setting is unset. */
      timerSchedule: string;
    };

/**
 * CONTACT_WATCH_WATCH_SCHEDULE: `off`, or a six-field NCRONTAB expression that runs at most once a
 * minute (its seconds field one number): every run sends at least one Resource Graph request,
 * from the same per-user quota as the scan's.
 */
export const WATCH_SCHEDULE_SETTINGS = settingsPart({
  fields: {
    CONTACT_WATCH_WATCH_SCHEDULE: setting((text): WatchSettings => {
      if (text === undefined) return { enabled: true, schedule: DEFAULT_WATCH_SCHEDULE, timerSchedule: DEFAULT_WATCH_SCHEDULE };
      if (text.toLowerCase() === 'off') return { enabled: false };
      const problem = ncrontabProblem(text) ?? moreThanOncePerMinute(text);
      if (problem) {
        throw new SettingsError(
          'CONTACT_WATCH_WATCH_SCHEDULE',
          `CONTACT_WATCH_WATCH_SCHEDULE is ${quoteWithoutSecrets(text)}: ${problem}. Expected "off" (no watch) or a six-field NCRONTAB expression ` +
            `"second minute hour day month day-of-week" that runs at most once a minute, e.g. ${DEFAULT_WATCH_SCHEDULE} (every 5 minutes).`,
        );
      }
      return { enabled: true, schedule: text, timerSchedule: WATCH_SCHEDULE_REFERENCE };
    }),
  },
  value: (values) => values.CONTACT_WATCH_WATCH_SCHEDULE,
});

/** Why a valid NCRONTAB expression runs more than once a minute, or undefined when it does not. */
function moreThanOncePerMinute(expression: string): string | undefined {
  const seconds = expression.trim().split(/\s+/)[0]!;
  return /^\d+$/.test(seconds)
    ? undefined
    : `its second field ${quoteWithoutSecrets(seconds)} runs it more than once a minute (give one second, such as 0)`;
}

/** CONTACT_WATCH_HISTORY_RETENTION_DAYS and CONTACT_WATCH_SCAN_RUN_RETENTION_DAYS, each checked on its own. */
export const RETENTION_SETTINGS = settingsPart({
  fields: {
    CONTACT_WATCH_HISTORY_RETENTION_DAYS: setting(
      (text) => readRetentionSettings({ CONTACT_WATCH_HISTORY_RETENTION_DAYS: text }).historyDays,
    ),
    CONTACT_WATCH_SCAN_RUN_RETENTION_DAYS: setting(
      (text) => readRetentionSettings({ CONTACT_WATCH_SCAN_RUN_RETENTION_DAYS: text }).scanRunDays,
    ),
  },
  value: (values): RetentionSettings => ({
    historyDays: values.CONTACT_WATCH_HISTORY_RETENTION_DAYS,
    scanRunDays: values.CONTACT_WATCH_SCAN_RUN_RETENTION_DAYS,
  }),
});

/** APPLICATIONINSIGHTS_CONNECTION_STRING, when set (never logged, never repeated in a message). */
export const APPLICATION_INSIGHTS_SETTINGS = settingsPart({
  fields: { APPLICATIONINSIGHTS_CONNECTION_STRING: setting(readApplicationInsights) },
  value: (values) => values.APPLICATIONINSIGHTS_CONNECTION_STRING,
});

function readApplicationInsights(text: string | undefined): string | undefined {
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
