/**
 * Alerting settings from the environment / Functions app settings (CONTRACT.md §5), validated at
 * the edge. A setting that is present but malformed throws a SettingsError naming it; a value is
 * quoted only through quoteWithoutSecrets, so no secret it holds is repeated in a message.
 */
import { z } from 'zod';
import { DEFAULT_ALERT_SETTINGS, type AlertSettings } from '../core/alerts.js';
import { isValidEmailSyntax, splitEmailList } from '../core/email-addresses.js';
import { quoteWithoutSecrets } from '../core/secret-text.js';
import { SettingsError } from '../core/settings-error.js';
import { ACS_RATE_LIMITS, parseAcsConnectionString } from '../adapters/email/acs-email-sender.js';

export type AcsSetting =
  | { kind: 'connection-string'; connectionString: string; endpoint: string }
  | { kind: 'managed-identity'; endpoint: string };

export interface AlertingSettings {
  acs: AcsSetting;
  /** CONTACT_WATCH_EMAIL_SENDER */
  senderAddress: string;
  /** CONTACT_WATCH_ALERT_RECIPIENTS */
  recipients: string[];
  alerts: AlertSettings;
  /**
   * CONTACT_WATCH_EMAIL_RATE_PER_MINUTE / _PER_HOUR: the ACS sending quota. Default: an
   * Azure-managed domain's (5 a minute, 10 an hour); a custom domain allows 30 and 100.
   */
  rate: { perMinute: number; perHour: number };
  /** CONTACT_WATCH_REPORT_URL: where people open the report page; digests link to it. */
  reportUrl?: string;
}

type Env = Record<string, string | undefined>;

function present(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

const wholeNumber = (max: number) => z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(0).max(max));

function number(env: Env, name: string, fallback: number, max: number, what: string): number {
  const raw = present(env, name);
  if (raw === undefined) return fallback;
  const parsed = wholeNumber(max).safeParse(raw);
  if (!parsed.success) throw new SettingsError(name, `${name} is ${quoteWithoutSecrets(raw)}; expected ${what} (a whole number from 0 to ${max}).`);
  return parsed.data;
}

/** CONTACT_WATCH_REMINDER_DAYS and CONTACT_WATCH_NEW_SUBSCRIPTION_GRACE_MINUTES (no mail settings needed). */
export function readAlertSettings(env: Env): AlertSettings {
  return {
    reminderDays: number(env, 'CONTACT_WATCH_REMINDER_DAYS', DEFAULT_ALERT_SETTINGS.reminderDays, 3650, 'days between reminders, 0 for never'),
    newSubscriptionGraceMinutes: number(
      env,
      'CONTACT_WATCH_NEW_SUBSCRIPTION_GRACE_MINUTES',
      DEFAULT_ALERT_SETTINGS.newSubscriptionGraceMinutes,
      7 * 24 * 60,
      'minutes a new subscription may lack a contact before it is alerted on',
    ),
    fixedNotices: flag(env, 'CONTACT_WATCH_FIXED_NOTICES', DEFAULT_ALERT_SETTINGS.fixedNotices, 'whether a subscription that was alerted on gets a notice when it is fixed'),
  };
}

function flag(env: Env, name: string, fallback: boolean, what: string): boolean {
  const raw = present(env, name);
  if (raw === undefined) return fallback;
  const value = raw.toLowerCase();
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new SettingsError(name, `${name} is ${quoteWithoutSecrets(raw)}; expected true or false (${what}).`);
}

function acsSetting(env: Env): AcsSetting {
  const connectionString = present(env, 'CONTACT_WATCH_ACS_CONNECTION_STRING');
  const endpoint = present(env, 'CONTACT_WATCH_ACS_ENDPOINT');
  if (connectionString && endpoint) {
    throw new SettingsError(
      'CONTACT_WATCH_ACS_ENDPOINT',
      'Both CONTACT_WATCH_ACS_ENDPOINT and CONTACT_WATCH_ACS_CONNECTION_STRING are set; set only one (the endpoint uses the managed identity).',
    );
  }
  if (connectionString) {
    const parsed = parseAcsConnectionString(connectionString);
    return { kind: 'connection-string', connectionString, endpoint: parsed.endpoint };
  }
  if (!endpoint) {
    throw new SettingsError(
      'CONTACT_WATCH_ACS_ENDPOINT',
      'Alerts need Azure Communication Services: set CONTACT_WATCH_ACS_ENDPOINT (https://<resource>.communication.azure.com, with the managed identity) or CONTACT_WATCH_ACS_CONNECTION_STRING.',
    );
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new SettingsError(
      'CONTACT_WATCH_ACS_ENDPOINT',
      `CONTACT_WATCH_ACS_ENDPOINT is ${quoteWithoutSecrets(endpoint)}, which is not an absolute URL; expected https://<resource>.communication.azure.com.`,
    );
  }
  if (url.username || url.password) {
    throw new SettingsError(
      'CONTACT_WATCH_ACS_ENDPOINT',
      `CONTACT_WATCH_ACS_ENDPOINT is ${quoteWithoutSecrets(endpoint)}; it must not carry credentials (user:password@): the endpoint is used with the managed identity ` +
        '(for an access key, set CONTACT_WATCH_ACS_CONNECTION_STRING instead). Expected https://<resource>.communication.azure.com.',
    );
  }
  if (url.protocol !== 'https:' || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new SettingsError(
      'CONTACT_WATCH_ACS_ENDPOINT',
      `CONTACT_WATCH_ACS_ENDPOINT is ${quoteWithoutSecrets(endpoint)}; expected an https:// URL without path, query or fragment, e.g. https://<resource>.communication.azure.com.`,
    );
  }
  return { kind: 'managed-identity', endpoint: url.origin };
}

/** Everything `scan --notify` and the Functions app need to send alerts; throws when something is missing or malformed. */
export function readAlertingSettings(env: Env): AlertingSettings {
  const sender = present(env, 'CONTACT_WATCH_EMAIL_SENDER');
  if (!sender) {
    throw new SettingsError('CONTACT_WATCH_EMAIL_SENDER', 'Alerts need CONTACT_WATCH_EMAIL_SENDER: the verified sender address of your ACS e-mail domain, e.g. DoNotReply@<domain>.');
  }
  if (!isValidEmailSyntax(sender)) {
    throw new SettingsError('CONTACT_WATCH_EMAIL_SENDER', `CONTACT_WATCH_EMAIL_SENDER is ${quoteWithoutSecrets(sender)}, which is not an e-mail address (expected DoNotReply@<domain>).`);
  }
  const recipientsText = present(env, 'CONTACT_WATCH_ALERT_RECIPIENTS');
  if (!recipientsText) {
    throw new SettingsError('CONTACT_WATCH_ALERT_RECIPIENTS', "Alerts need CONTACT_WATCH_ALERT_RECIPIENTS: the security team's addresses, separated by ; or ,.");
  }
  const recipients = [...new Set(splitEmailList(recipientsText))];
  const invalid = recipients.filter((address) => !isValidEmailSyntax(address));
  if (recipients.length === 0 || invalid.length > 0) {
    throw new SettingsError(
      'CONTACT_WATCH_ALERT_RECIPIENTS',
      `CONTACT_WATCH_ALERT_RECIPIENTS holds ${invalid.length ? `addresses that are not valid: ${invalid.map(quoteWithoutSecrets).join(', ')}` : 'no address'}; expected addresses separated by ; or ,.`,
    );
  }
  const rate = {
    perMinute: number(env, 'CONTACT_WATCH_EMAIL_RATE_PER_MINUTE', ACS_RATE_LIMITS.azureManagedDomain.perMinute, 10_000, 'e-mails a minute'),
    perHour: number(env, 'CONTACT_WATCH_EMAIL_RATE_PER_HOUR', ACS_RATE_LIMITS.azureManagedDomain.perHour, 100_000, 'e-mails an hour'),
  };
  if (rate.perMinute === 0 || rate.perHour === 0) {
    const name = rate.perMinute === 0 ? 'CONTACT_WATCH_EMAIL_RATE_PER_MINUTE' : 'CONTACT_WATCH_EMAIL_RATE_PER_HOUR';
    throw new SettingsError(name, `${name} is 0, which would never send an alert; give your ACS domain's quota (Azure-managed: 5 a minute, 10 an hour; custom: 30 and 100).`);
  }
  const reportUrl = readReportUrl(env);
  return { acs: acsSetting(env), senderAddress: sender, recipients, alerts: readAlertSettings(env), rate, ...(reportUrl ? { reportUrl } : {}) };
}

/**
 * CONTACT_WATCH_REPORT_URL: the address at which people open the report page (for example behind
 * the organisation's sign-in), linked from every digest. A function key must not be part of it:
 * alert e-mails are forwarded, and a key in a link would travel with them.
 */
function readReportUrl(env: Env): string | undefined {
  const name = 'CONTACT_WATCH_REPORT_URL';
  const text = present(env, name);
  if (text === undefined) return undefined;
  const expected = 'expected the https:// address where people open the report page, without a key or credentials';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SettingsError(name, `${name} is ${quoteWithoutSecrets(text)}, which is not an absolute URL; ${expected}.`);
  }
  const local = url.hostname === '127.0.0.1' || url.hostname === 'localhost';
  if (url.protocol !== 'https:' && !(local && url.protocol === 'http:')) {
    throw new SettingsError(name, `${name} is ${quoteWithoutSecrets(text)}; ${expected}.`);
  }
  if (url.username || url.password || [...url.searchParams.keys()].some((key) => /^(code|sig|key|token|access_token)$/i.test(key))) {
    throw new SettingsError(
      name,
      `${name} is ${quoteWithoutSecrets(text)}; it must not carry a function key, a signature or credentials, which would travel with every forwarded alert: ${expected}.`,
    );
  }
  return url.href;
}
