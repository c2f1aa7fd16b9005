import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SettingsError } from '../../../src/core/settings-error.js';
import {
  APP_SETTING_NAMES,
  AppSettingsError,
  HOST_SETTING_NAMES,
  LOCAL_RUNTIME_SETTING_NAMES,
  readAppSettings,
} from '../../../src/compose/app-settings.js';
import { appDependencies, forgetAppForTests, startApp } from '../../../src/functions/app-instance.js';
import { DEFAULT_POLICY } from '../../../src/core/policy.js';
import { MALFORMED_WITH_SECRETS, SECRET_MARKER, sweepCases, withSetting } from '../../support/secret-bearing-settings.js';

const ACS_KEY = 'c2VjcmV0LWtleS1tYXRlcmlhbC10aGF0LW11c3Qtbm90LWxlYWs=';
const ACS_CONNECTION_STRING = `endpoint=https://cw-acs.communication.azure.com/;accesskey=${ACS_KEY}`;
const STORAGE_KEY = 'QWNjb3VudEtleVRoYXRNdXN0TmV2ZXJCZVByaW50ZWQ=';

/** A complete, valid environment in Azure: managed identity for storage and ACS. */
const VALID = {
  CONTACT_WATCH_STORAGE: 'https://cwstate.table.core.windows.net',
  CONTACT_WATCH_ACS_ENDPOINT: 'https://cw-acs.communication.azure.com',
  CONTACT_WATCH_EMAIL_SENDER: 'DoNotReply@alerts.fabrikam.io',
  CONTACT_WATCH_ALERT_RECIPIENTS: 'secops@fabrikam.io;cloud@fabrikam.io',
};

function failure(env: Record<string, string | undefined>): AppSettingsError {
  try {
    readAppSettings(env);
  } catch (error) {
    if (error instanceof AppSettingsError) return error;
    throw error;
  }
  throw new Error('readAppSettings accepted the settings');
}

describe('readAppSettings', () => {
  it('reads a valid environment with every default', () => {
    const settings = readAppSettings(VALID);
    expect(settings.cloud).toMatchObject({ name: 'AzureCloud', resourceManagerEndpoint: 'https://management.azure.com' });
    expect(settings.storage).toEqual({ settingName: 'CONTACT_WATCH_STORAGE', value: 'https://cwstate.table.core.windows.net' });
    expect(settings.policy).toEqual(DEFAULT_POLICY);
    expect(settings.alerting.email?.acs).toEqual({ kind: 'managed-identity', endpoint: 'https://cw-acs.communication.azure.com' });
    expect(settings.alerting.email?.recipients).toEqual(['secops@fabrikam.io', 'cloud@fabrikam.io']);
    expect(settings.scanSchedule).toBe('0 */30 * * * *');
    expect(settings.watch).toEqual({ enabled: true, schedule: '0 */5 * * * *', timerSchedule: '0 */5 * * * *' });
    expect(settings.retention).toEqual({ historyDays: 400, scanRunDays: 90 });
    expect(settings.alerting).not.toHaveProperty('reportUrl');
    expect(settings).not.toHaveProperty('applicationInsightsConnectionString');
  });

  it('falls back to AzureWebJobsStorage and reads every optional setting given', () => {
    const settings = readAppSettings({
      ...VALID,
      CONTACT_WATCH_STORAGE: '  ',
      AzureWebJobsStorage: `DefaultEndpointsProtocol=https;AccountName=cwstate;AccountKey=${STORAGE_KEY};EndpointSuffix=core.windows.net`,
      AZURE_CLOUD: 'azureusgovernment',
      CONTACT_WATCH_POLICY: '{"alerts":{"minimalSeverity":"Medium"},"emails":{"allowedDomains":["fabrikam.io"]}}',
      CONTACT_WATCH_SCAN_SCHEDULE: '0 0 6-18/2 * JAN-dec mon-FRI',
      CONTACT_WATCH_HISTORY_RETENTION_DAYS: '730',
      CONTACT_WATCH_SCAN_RUN_RETENTION_DAYS: '14',
      CONTACT_WATCH_REPORT_URL: 'https://security.fabrikam.io/contact-watch/report',
      APPLICATIONINSIGHTS_CONNECTION_STRING:
        'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/',
    });
    expect(settings.storage.settingName).toBe('AzureWebJobsStorage');
    expect(settings.cloud.name).toBe('AzureUSGovernment');
    expect(settings.policy.alerts.minimalSeverity).toBe('Medium');
    expect(settings.policy.emails.allowedDomains).toEqual(['fabrikam.io']);
    expect(settings.scanSchedule).toBe('0 0 6-18/2 * JAN-dec mon-FRI');
    expect(settings.retention).toEqual({ historyDays: 730, scanRunDays: 14 });
    expect(settings.alerting.reportUrl).toBe('https://security.fabrikam.io/contact-watch/report');
    expect(settings.applicationInsightsConnectionString).toMatch(/^InstrumentationKey=/);
  });

  it.each([
    [
      'a schedule',
      ' 30 */10 8-18 * * Mon-Fri ',
      { enabled: true, schedule: '30 */10 8-18 * * Mon-Fri', timerSchedule: '%CONTACT_WATCH_WATCH_SCHEDULE%' },
    ],
    ['off', 'off', { enabled: false }],
    ['OFF', 'OFF', { enabled: false }],
    ['blank (the default)', '  ', { enabled: true, schedule: '0 */5 * * * *', timerSchedule: '0 */5 * * * *' }],
  ])('reads CONTACT_WATCH_WATCH_SCHEDULE: %s', (_what, value, expected) => {
    expect(readAppSettings({ ...VALID, CONTACT_WATCH_WATCH_SCHEDULE: value }).watch).toEqual(expected);
  });

  it.each([
    ['disabled', /"disabled": it has 1 field, not 6.*Expected "off" \(no watch\)/],
    ['*/5 * * * *', /it has 5 fields, not 6 \(the Functions timer needs the seconds field first\)/],
    ['0 */5 * * * * *', /it has 7 fields, not 6/],
    ['0 61 * * * *', /its minute field "61"/],
    ['*/30 * * * * *', /its second field "\*\/30" runs it more than once a minute/],
    ['0,30 */5 * * * *', /its second field "0,30" runs it more than once a minute/],
  ])('refuses CONTACT_WATCH_WATCH_SCHEDULE %j, naming it', (value, message) => {
    const error = failure({ ...VALID, CONTACT_WATCH_WATCH_SCHEDULE: value });
    expect(error.settings).toEqual(['CONTACT_WATCH_WATCH_SCHEDULE']);
    expect(error.message).toContain('CONTACT_WATCH_WATCH_SCHEDULE');
    expect(error.message).toMatch(message);
  });

  it.each([
    ['missing storage', { ...VALID, CONTACT_WATCH_STORAGE: undefined }, 'CONTACT_WATCH_STORAGE', /CONTACT_WATCH_STORAGE is missing/],
    ['malformed storage', { ...VALID, CONTACT_WATCH_STORAGE: 'http://cwstate.table.core.windows.net' }, 'CONTACT_WATCH_STORAGE', /https/],
    [
      'malformed AzureWebJobsStorage',
      { ...VALID, CONTACT_WATCH_STORAGE: undefined, AzureWebJobsStorage: 'not a connection string' },
      'AzureWebJobsStorage',
      /AzureWebJobsStorage/,
    ],
    [
      'a bad AZURE_CLOUD',
      { ...VALID, AZURE_CLOUD: 'AzureMoon' },
      'AZURE_CLOUD',
      /AzureMoon.*AzureCloud, AzureUSGovernment, AzureChinaCloud/,
    ],
    [
      'an http ARM endpoint',
      { ...VALID, AZURE_RESOURCE_MANAGER_ENDPOINT: 'http://127.0.0.1:8443' },
      'AZURE_RESOURCE_MANAGER_ENDPOINT',
      /https/,
    ],
    [
      'no retention at all',
      { ...VALID, CONTACT_WATCH_HISTORY_RETENTION_DAYS: '0' },
      'CONTACT_WATCH_HISTORY_RETENTION_DAYS',
      /from 1 to 3650/,
    ],
    [
      'a retention in hours',
      { ...VALID, CONTACT_WATCH_SCAN_RUN_RETENTION_DAYS: '72h' },
      'CONTACT_WATCH_SCAN_RUN_RETENTION_DAYS',
      /whole number of days/,
    ],
    [
      'a report link with a function key',
      { ...VALID, CONTACT_WATCH_REPORT_URL: 'https://cw.azurewebsites.net/api/report?code=abc' },
      'CONTACT_WATCH_REPORT_URL',
      /must not carry a function key/,
    ],
    [
      'policy that is not JSON',
      { ...VALID, CONTACT_WATCH_POLICY: '{requiredRoles:' },
      'CONTACT_WATCH_POLICY',
      /CONTACT_WATCH_POLICY: the policy is not valid JSON/,
    ],
    [
      'policy with a bad value',
      { ...VALID, CONTACT_WATCH_POLICY: '{"alerts":{"minimalSeverity":"Critical"}}' },
      'CONTACT_WATCH_POLICY',
      /alerts\.minimalSeverity/,
    ],
    [
      'a five-field schedule',
      { ...VALID, CONTACT_WATCH_SCAN_SCHEDULE: '*/5 * * * *' },
      'CONTACT_WATCH_SCAN_SCHEDULE',
      /5 fields, not 6 \(the Functions timer needs the seconds field first\)/,
    ],
    [
      'an hour out of range',
      { ...VALID, CONTACT_WATCH_SCAN_SCHEDULE: '0 0 24 * * *' },
      'CONTACT_WATCH_SCAN_SCHEDULE',
      /hour field "24" has "24", which is not a number from 0 to 23/,
    ],
    [
      'a bad month name',
      { ...VALID, CONTACT_WATCH_SCAN_SCHEDULE: '0 0 0 1 Foo *' },
      'CONTACT_WATCH_SCAN_SCHEDULE',
      /month field "Foo".*jan/,
    ],
    ['a TimeSpan schedule', { ...VALID, CONTACT_WATCH_SCAN_SCHEDULE: '00:30:00' }, 'CONTACT_WATCH_SCAN_SCHEDULE', /1 field, not 6/],
    [
      'bad recipients',
      { ...VALID, CONTACT_WATCH_ALERT_RECIPIENTS: 'secops@fabrikam.io; not-an-address' },
      'CONTACT_WATCH_ALERT_RECIPIENTS',
      /not-an-address/,
    ],
    [
      'no recipients',
      { ...VALID, CONTACT_WATCH_ALERT_RECIPIENTS: undefined },
      'CONTACT_WATCH_ALERT_RECIPIENTS',
      /CONTACT_WATCH_ALERT_RECIPIENTS/,
    ],
    ['no sender', { ...VALID, CONTACT_WATCH_EMAIL_SENDER: '' }, 'CONTACT_WATCH_EMAIL_SENDER', /CONTACT_WATCH_EMAIL_SENDER/],
    [
      'both ACS settings',
      { ...VALID, CONTACT_WATCH_ACS_CONNECTION_STRING: ACS_CONNECTION_STRING },
      'CONTACT_WATCH_ACS_ENDPOINT',
      /Both CONTACT_WATCH_ACS_ENDPOINT and CONTACT_WATCH_ACS_CONNECTION_STRING/,
    ],
    [
      'neither ACS setting',
      { ...VALID, CONTACT_WATCH_ACS_ENDPOINT: undefined },
      'CONTACT_WATCH_ACS_ENDPOINT',
      /CONTACT_WATCH_ACS_CONNECTION_STRING/,
    ],
    ['bad reminder days', { ...VALID, CONTACT_WATCH_REMINDER_DAYS: 'weekly' }, 'CONTACT_WATCH_REMINDER_DAYS', /whole number/],
    [
      'bad grace minutes',
      { ...VALID, CONTACT_WATCH_NEW_SUBSCRIPTION_GRACE_MINUTES: '-5' },
      'CONTACT_WATCH_NEW_SUBSCRIPTION_GRACE_MINUTES',
      /whole number/,
    ],
    ['a zero e-mail rate', { ...VALID, CONTACT_WATCH_EMAIL_RATE_PER_HOUR: '0' }, 'CONTACT_WATCH_EMAIL_RATE_PER_HOUR', /never send/],
    [
      'a bad Application Insights string',
      { ...VALID, APPLICATIONINSIGHTS_CONNECTION_STRING: 'https://dc.services.visualstudio.com' },
      'APPLICATIONINSIGHTS_CONNECTION_STRING',
      /InstrumentationKey=/,
    ],
  ])('names the setting for %s', (_what, env, setting, message) => {
    const error = failure(env);
    expect(error).toBeInstanceOf(SettingsError);
    expect(error.setting).toBe(setting);
    expect(error.settings).toEqual([setting]);
    expect(error.message).toContain(setting);
    expect(error.message).toMatch(message);
  });

  it('reports every problem together, each named once', () => {
    const error = failure({
      AZURE_CLOUD: 'AzureMoon',
      AZURE_RESOURCE_MANAGER_ENDPOINT: 'ftp://arm.example',
      CONTACT_WATCH_POLICY: '[',
      CONTACT_WATCH_SCAN_SCHEDULE: '*/5 * * * *',
      CONTACT_WATCH_ACS_ENDPOINT: 'https://cw-acs.communication.azure.com',
      CONTACT_WATCH_ACS_CONNECTION_STRING: ACS_CONNECTION_STRING,
      CONTACT_WATCH_EMAIL_SENDER: 'not-a-sender',
      CONTACT_WATCH_ALERT_RECIPIENTS: 'nobody',
      CONTACT_WATCH_REMINDER_DAYS: 'often',
      CONTACT_WATCH_EMAIL_RATE_PER_MINUTE: '0',
    });
    // In the order of APP_SETTING_NAMES.
    expect(error.settings).toEqual([
      'AZURE_CLOUD',
      'AZURE_RESOURCE_MANAGER_ENDPOINT',
      'CONTACT_WATCH_STORAGE',
      'CONTACT_WATCH_POLICY',
      'CONTACT_WATCH_ACS_ENDPOINT',
      'CONTACT_WATCH_EMAIL_SENDER',
      'CONTACT_WATCH_ALERT_RECIPIENTS',
      'CONTACT_WATCH_REMINDER_DAYS',
      'CONTACT_WATCH_EMAIL_RATE_PER_MINUTE',
      'CONTACT_WATCH_SCAN_SCHEDULE',
    ]);
    const lines = error.message.split('\n');
    expect(lines[0]).toBe('10 app settings are missing or malformed:');
    expect(lines).toHaveLength(11);
    for (const [index, setting] of error.settings.entries()) {
      expect(lines[index + 1]).toMatch(/^- /);
      expect(lines[index + 1]).toContain(setting);
    }
    expect(lines[1]).toContain('AzureMoon');
    expect(lines[2]).toContain('ftp://arm.example');
    // The ACS access key is a secret: never repeated.
    expect(error.message).not.toContain(ACS_KEY);
  });

  it('never repeats a storage key or an Application Insights string in a message', () => {
    const error = failure({
      ...VALID,
      CONTACT_WATCH_STORAGE: `AccountName=cwstate;AccountKey=${STORAGE_KEY};TableEndpoint=http://cwstate.example.com`,
      APPLICATIONINSIGHTS_CONNECTION_STRING: 'IngestionEndpoint=https://secret-ingestion.example',
    });
    expect(error.settings).toEqual(['CONTACT_WATCH_STORAGE', 'APPLICATIONINSIGHTS_CONNECTION_STRING']);
    expect(error.message).not.toContain(STORAGE_KEY);
    expect(error.message).not.toContain('secret-ingestion');
  });
});

describe('a malformed setting that holds a secret', () => {
  it('names an ARM endpoint with a SAS signature, without the signature', () => {
    const error = failure({ ...VALID, AZURE_RESOURCE_MANAGER_ENDPOINT: `https://arm.contoso.example/?sv=2024-05-04&sig=${SECRET_MARKER}` });
    expect(error.settings).toEqual(['AZURE_RESOURCE_MANAGER_ENDPOINT']);
    expect(error.message).toMatch(/AZURE_RESOURCE_MANAGER_ENDPOINT is "https:\/\/arm\.contoso\.example\/\?sv=…&sig=…".*query/);
    expect(error.message).not.toContain(SECRET_MARKER);
  });

  it('refuses an ACS endpoint for holding a password, without repeating the password', () => {
    const error = failure({ ...VALID, CONTACT_WATCH_ACS_ENDPOINT: `https://operator:${SECRET_MARKER}@cw-acs.communication.azure.com` });
    expect(error.settings).toEqual(['CONTACT_WATCH_ACS_ENDPOINT']);
    expect(error.message).toMatch(/CONTACT_WATCH_ACS_ENDPOINT is "https:\/\/…:…@cw-acs\.communication\.azure\.com\/".*credentials/);
    expect(error.message).not.toContain(SECRET_MARKER);
    expect(error.message).not.toContain('operator');
  });

  it('names a storage connection string whose TableEndpoint carries a SAS, without the SAS', () => {
    const sas = `sv=2024-05-04&ss=t&srt=sco&sp=rwdlacu&sig=${SECRET_MARKER}`;
    const error = failure({ ...VALID, CONTACT_WATCH_STORAGE: `TableEndpoint=ftp://cwstate.example/?${sas};SharedAccessSignature=${sas}` });
    expect(error.settings).toEqual(['CONTACT_WATCH_STORAGE']);
    expect(error.message).toMatch(/CONTACT_WATCH_STORAGE .*TableEndpoint/);
    expect(error.message).not.toContain(SECRET_MARKER);
  });

  it('sweeps every app setting', () => {
    expect(Object.keys(MALFORMED_WITH_SECRETS).sort()).toEqual([...APP_SETTING_NAMES].sort());
  });

  it.each(sweepCases(APP_SETTING_NAMES))('%s = %s is named, its secret never repeated', (setting, value) => {
    const error = failure(withSetting(VALID, setting, value));
    expect(error.settings).toEqual([setting]);
    expect(error.message).toContain(setting);
    expect(error.message).not.toContain(SECRET_MARKER);
  });
});

describe('start-up', () => {
  it('keeps the settings it read for appDependencies, and throws naming a bad setting', () => {
    forgetAppForTests();
    expect(() => startApp({ ...VALID, CONTACT_WATCH_SCAN_SCHEDULE: '*/5 * * * *' })).toThrow(/CONTACT_WATCH_SCAN_SCHEDULE/);
    expect(() => appDependencies()).toThrow(/has not started/);
    const settings = startApp(VALID);
    expect(appDependencies().settings).toBe(settings);
    forgetAppForTests();
    expect(() => appDependencies()).toThrow(/has not started/);
  });
});

describe('local.settings.example.json', () => {
  const example = JSON.parse(readFileSync(new URL('../../../local.settings.example.json', import.meta.url), 'utf8')) as {
    IsEncrypted: boolean;
    Values: Record<string, string>;
  };

  it('lists exactly the app settings, the host settings and the local identity variables', () => {
    expect(example.IsEncrypted).toBe(false);
    const expected = new Set<string>([...APP_SETTING_NAMES, ...HOST_SETTING_NAMES, ...LOCAL_RUNTIME_SETTING_NAMES]);
    expect(Object.keys(example.Values).sort()).toEqual([...expected].sort());
    expect(new Set(APP_SETTING_NAMES).size).toBe(APP_SETTING_NAMES.length);
    for (const value of Object.values(example.Values)) expect(typeof value).toBe('string');
  });

  it('holds values readAppSettings accepts: Azurite, the local Azure server and its ACS Email service', () => {
    const settings = readAppSettings(example.Values);
    expect(settings.storage).toEqual({ settingName: 'CONTACT_WATCH_STORAGE', value: 'UseDevelopmentStorage=true' });
    expect(settings.cloud.resourceManagerEndpoint).toBe('https://127.0.0.1:8443');
    // ACS through the managed identity, as in Azure: the local identity endpoint issues the token.
    expect(settings.alerting.email?.acs).toEqual({ kind: 'managed-identity', endpoint: 'https://127.0.0.1:8443' });
    expect(settings.scanSchedule).toBe('0 */30 * * * *');
    expect(example.Values.FUNCTIONS_WORKER_RUNTIME).toBe('node');
  });

  it('matches the fixed ports and identity header of test/azure-server/main.ts, and holds no access key', () => {
    const main = readFileSync(new URL('../../azure-server/main.ts', import.meta.url), 'utf8');
    const constant = (name: string): string => new RegExp(`export const ${name} = '([^']+)'`).exec(main)![1]!;
    expect(example.Values.IDENTITY_ENDPOINT).toBe('http://127.0.0.1:8444/msi/token');
    expect(example.Values.IDENTITY_HEADER).toBe(constant('LOCAL_IDENTITY_HEADER'));
    expect(example.Values.CONTACT_WATCH_ACS_ENDPOINT).toBe(example.Values.AZURE_RESOURCE_MANAGER_ENDPOINT);
    expect(example.Values.CONTACT_WATCH_ACS_CONNECTION_STRING).toBe('');
    expect(JSON.stringify(example)).not.toMatch(
      /accesskey=|AccountKey=(?!Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq)/i,
    );
    expect(example.Values.NODE_EXTRA_CA_CERTS).toBe('.local-azure/tls/ca.pem');
    expect(main).toContain("join(REPO_ROOT, '.local-azure/tls')");
    expect(main).toContain('--port 8443 --identity-port 8444');
  });
});
