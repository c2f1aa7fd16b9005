/**
 * Malformed values for every setting the app and the command line validate, each carrying
 * SECRET_MARKER where a secret sits: the password of a URL, a SAS signature (`sig=`), an
 * `AccountKey=`, a `SharedAccessSignature=`, an ACS `accesskey=`, a Teams workflow's or a webhook's
 * URL, and the webhook's signing secret itself. A message about any of them must name the setting
 * and never contain the marker (docs/reference/settings.md).
 */
import type { AppSettingName } from '../../src/compose/app-settings.js';

/** Stands for a secret. Short and not base64-like, so only its position can hide it. */
export const SECRET_MARKER = 's3cr3t-M4RK3R';
const M = SECRET_MARKER;

/**
 * The marker in each position a secret takes in a setting's value, early in the value, so that
 * cutting a long value short cannot be what keeps it out of a message.
 */
export const SECRET_POSITIONS = {
  'a URL password': `https://operator:${M}@contoso.example.com/`,
  'a SAS signature in a URL': `https://contoso.example.com/?sig=${M}&sv=2024-05-04`,
  'an AccountKey=': `AccountName=contoso;AccountKey=${M};EndpointSuffix=core.windows.net`,
  'a SharedAccessSignature=': `SharedAccessSignature=sig=${M}&sv=2024-05-04;TableEndpoint=https://contoso.table.core.windows.net/`,
  'an ACS accesskey=': `accesskey=${M};endpoint=https://contoso.communication.azure.com/`,
} as const;

const EVERY_POSITION: readonly string[] = Object.values(SECRET_POSITIONS);

/** Storage values that are malformed although they hold what a real one would. */
const MALFORMED_STORAGE = [
  SECRET_POSITIONS['a URL password'],
  SECRET_POSITIONS['a SAS signature in a URL'],
  `AccountKey=${M};EndpointSuffix=core.windows.net`,
  `AccountKey=${M};AccountName=contoso;TableEndpoint=contoso.table.core.windows.net`,
  `SharedAccessSignature=sig=${M}&sv=2024-05-04;TableEndpoint=contoso.table.core.windows.net`,
  `TableEndpoint=https://contoso.table.core.windows.net/?sig=${M}&sv=2024-05-04;SharedAccessSignature=sig=${M}&sv=2024-05-04`,
  `TableEndpoint=ftp://contoso.example/?sig=${M}&sv=2024-05-04;SharedAccessSignature=sig=${M}&sv=2024-05-04`,
  `TableEndpoint=https://operator:${M}@contoso.table.core.windows.net/;AccountName=contoso;AccountKey=a2V5`,
  SECRET_POSITIONS['an ACS accesskey='],
  // An account key pasted without its name.
  `AccountName=contoso;${M}`,
];

const json = (value: string): string => JSON.stringify(value);

/** Every position but the one a channel's URL legitimately has: a signature in its query. */
const MALFORMED_AS_A_URL = EVERY_POSITION.filter((value) => value !== SECRET_POSITIONS['a SAS signature in a URL']);

/** Where alerts are POSTed: a URL whose query is a secret, malformed in every other way. */
const MALFORMED_CHANNEL_URLS = [
  ...MALFORMED_AS_A_URL,
  `http://prod-12.westus.logic.azure.com/workflows/4f0c/triggers/manual/paths/invoke?sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${M}`,
  `https://operator:${M}@prod-12.westus.logic.azure.com/workflows/4f0c/triggers/manual/paths/invoke?sig=${M}`,
  `prod-12.westus.logic.azure.com/workflows/4f0c/triggers/manual/paths/invoke?sig=${M}`,
  `ftp://hooks.fabrikam.io/contact-watch?token=${M}`,
  // What the Functions host leaves when it could not resolve a Key Vault reference.
  `@Microsoft.KeyVault(SecretUri=https://kv-${M}.vault.azure.net/secrets/alerts/)`,
];

/** A valid webhook URL and secret: the partner of the one a case makes malformed. */
const WEBHOOK_PARTNER = {
  CONTACT_WATCH_WEBHOOK_URL: 'https://hooks.fabrikam.io/contact-watch',
  CONTACT_WATCH_WEBHOOK_SECRET: 'a-valid-signing-secret-of-forty-two-bytes!',
};

/**
 * For each setting, values it refuses. Every setting in APP_SETTING_NAMES is here (a test checks
 * it), so a new setting is swept as soon as it is added.
 */
export const MALFORMED_WITH_SECRETS: Record<AppSettingName, readonly string[]> = {
  AZURE_CLOUD: EVERY_POSITION,
  AZURE_RESOURCE_MANAGER_ENDPOINT: [
    ...EVERY_POSITION,
    `https://:${M}@management.example.com`,
    `https://management.example.com/?sig=${M}`,
    `https://management.example.com/#sig=${M}`,
  ],
  CONTACT_WATCH_STORAGE: MALFORMED_STORAGE,
  AzureWebJobsStorage: MALFORMED_STORAGE,
  CONTACT_WATCH_POLICY: [
    ...EVERY_POSITION,
    `{"alerts": sig=${M}}`,
    `{"alerts": {"minimalSeverity": "High"}, "storage": "https://operator:${M}@`,
    ...EVERY_POSITION.map((value) => `{"alerts": {"minimalSeverity": ${json(value)}}}`),
    ...EVERY_POSITION.map((value) => `{"emails": {"allowedDomains": [${json(value)}]}}`),
    ...EVERY_POSITION.map((value) => `{"owners": {"required": ${json(value)}}}`),
    ...EVERY_POSITION.map((value) => `{${json(value)}: true}`),
  ],
  CONTACT_WATCH_ACS_ENDPOINT: [...EVERY_POSITION, `https://:${M}@contoso.communication.azure.com`],
  CONTACT_WATCH_ACS_CONNECTION_STRING: [
    ...EVERY_POSITION,
    `endpoint=https://operator:${M}@contoso.communication.azure.com/;accesskey=a2V5`,
    `endpoint=https://:${M}@contoso.communication.azure.com/;accesskey=a2V5`,
    `endpoint=https://contoso.communication.azure.com/?sig=${M}&sv=2024-05-04;accesskey=a2V5`,
    `endpoint=contoso.communication.azure.com;accesskey=${M}`,
  ],
  CONTACT_WATCH_EMAIL_SENDER: [...EVERY_POSITION, `operator:${M}@contoso.example.com`],
  CONTACT_WATCH_ALERT_RECIPIENTS: [...EVERY_POSITION, ...EVERY_POSITION.map((value) => `secops@fabrikam.io, ${value}`)],
  CONTACT_WATCH_REMEDIATION: EVERY_POSITION,
  CONTACT_WATCH_REMINDER_DAYS: EVERY_POSITION,
  CONTACT_WATCH_NEW_SUBSCRIPTION_GRACE_MINUTES: EVERY_POSITION,
  CONTACT_WATCH_FIXED_NOTICES: EVERY_POSITION,
  CONTACT_WATCH_EMAIL_RATE_PER_MINUTE: EVERY_POSITION,
  CONTACT_WATCH_EMAIL_RATE_PER_HOUR: EVERY_POSITION,
  CONTACT_WATCH_TEAMS_WORKFLOW_URL: MALFORMED_CHANNEL_URLS,
  CONTACT_WATCH_WEBHOOK_URL: MALFORMED_CHANNEL_URLS,
  // Any text of 32 bytes or more is a secret: what is refused is a short one, and an unresolved reference.
  CONTACT_WATCH_WEBHOOK_SECRET: [M, `sig=${M}`, ` ${M} `, `@Microsoft.KeyVault(VaultName=kv;SecretName=${M})`],
  CONTACT_WATCH_REPORT_URL: [
    ...EVERY_POSITION,
    `https://contact-watch.fabrikam.net/api/report?code=${M}`,
    `https://operator:${M}@contact-watch.fabrikam.net/api/report`,
    `ftp://contact-watch.fabrikam.net/report?sig=${M}`,
  ],
  CONTACT_WATCH_SCAN_SCHEDULE: [
    ...EVERY_POSITION,
    ...EVERY_POSITION.map((value) => `${value} */30 * * * *`),
    ...EVERY_POSITION.map((value) => `0 0 ${value} * * *`),
  ],
  CONTACT_WATCH_WATCH_SCHEDULE: [
    ...EVERY_POSITION,
    ...EVERY_POSITION.map((value) => `${value} */5 * * * *`),
    ...EVERY_POSITION.map((value) => `0 */5 ${value} * * *`),
  ],
  CONTACT_WATCH_HISTORY_RETENTION_DAYS: EVERY_POSITION,
  CONTACT_WATCH_SCAN_RUN_RETENTION_DAYS: EVERY_POSITION,
  APPLICATIONINSIGHTS_CONNECTION_STRING: EVERY_POSITION,
};

/**
 * The environment with `setting` set to `value` over `base`, and what must be unset for the
 * setting to be read at all: AzureWebJobsStorage is the fallback of CONTACT_WATCH_STORAGE, and
 * the ACS connection string is the alternative to the endpoint; and what it needs beside it: the
 * webhook's URL and secret go together.
 */
export function withSetting(base: Record<string, string>, setting: AppSettingName, value: string): Record<string, string> {
  const partner = setting === 'CONTACT_WATCH_WEBHOOK_URL' || setting === 'CONTACT_WATCH_WEBHOOK_SECRET' ? WEBHOOK_PARTNER : {};
  const env: Record<string, string> = { ...base, ...partner, [setting]: value };
  if (setting === 'AzureWebJobsStorage') delete env.CONTACT_WATCH_STORAGE;
  if (setting === 'CONTACT_WATCH_ACS_CONNECTION_STRING') delete env.CONTACT_WATCH_ACS_ENDPOINT;
  return env;
}

/** `[setting, value]` for every malformed value of every setting in `settings`. */
export function sweepCases(settings: readonly AppSettingName[]): Array<[AppSettingName, string]> {
  return settings.flatMap((setting) => MALFORMED_WITH_SECRETS[setting].map((value) => [setting, value] as [AppSettingName, string]));
}
