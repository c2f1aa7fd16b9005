/**
 * The alerting settings (docs/reference/settings.md): the channels (e-mail through Azure
 * Communication Services with its sender, recipients and sending quota; a Teams workflow; a signed
 * webhook), the alert timing and the report link, as one part of the schema over the environment
 * (src/compose/settings-schema.ts). Each setting is checked on its own, and the channels together:
 * at least one is configured, and one begun is complete (an ACS setting, a sender or recipients
 * mean e-mail, which then needs all three). Every one that is wrong is reported at once. A value is
 * quoted only through quoteWithoutSecrets, so no secret it holds is repeated in a message.
 */
import * as z from 'zod';
import { ACS_RATE_LIMITS, parseAcsConnectionString } from '../adapters/email/acs-email-sender.js';
import { DEFAULT_ALERT_SETTINGS, type AlertSettings } from '../core/alerts.js';
import { isValidEmailSyntax, splitEmailList } from '../core/email-addresses.js';
import { quoteWithoutSecrets } from '../core/secret-text.js';
import { InvalidSettingsError, SettingsError, type SettingProblem } from '../core/settings-error.js';
import {
  readTeamsWorkflowUrl,
  readWebhookSecret,
  readWebhookUrl,
  TEAMS_WORKFLOW_URL,
  WEBHOOK_URL,
  webhookPairProblem,
} from './alert-channel-settings.js';
import { defineSettings, setting, settingsPart, settingText, type Env } from './settings-schema.js';

export type AcsSetting =
  { kind: 'connection-string'; connectionString: string; endpoint: string } | { kind: 'managed-identity'; endpoint: string };

/** The e-mail channel: Azure Communication Services, the sender, the recipients and the quota. */
export interface EmailChannelSettings {
  acs: AcsSetting;
  /** CONTACT_WATCH_EMAIL_SENDER */
  senderAddress: string;
  /** CONTACT_WATCH_ALERT_RECIPIENTS */
  recipients: string[];
  /**
   * CONTACT_WATCH_EMAIL_RATE_PER_MINUTE / _PER_HOUR: the ACS sending quota. Default: an
   * Azure-managed domain's (5 a minute, 10 an hour); a custom domain allows 30 and 100.
   */
  rate: { perMinute: number; perHour: number };
}

/** The alert channels that are configured (at least one) and how alerts are timed. */
export interface AlertingSettings {
  email?: EmailChannelSettings;
  /** CONTACT_WATCH_TEAMS_WORKFLOW_URL (a secret: it carries the workflow's signature). */
  teams?: { workflowUrl: string };
  /** CONTACT_WATCH_WEBHOOK_URL and CONTACT_WATCH_WEBHOOK_SECRET (both secrets). */
  webhook?: { url: string; secret: string };
  alerts: AlertSettings;
  /** CONTACT_WATCH_REPORT_URL: where people open the report page; digests link to it. */
  reportUrl?: string;
}

/** Everything `scan --notify` and the Functions app need to send alerts. */
export const ALERTING_SETTINGS = settingsPart({
  fields: {
    CONTACT_WATCH_ACS_ENDPOINT: settingText,
    CONTACT_WATCH_ACS_CONNECTION_STRING: settingText,
    CONTACT_WATCH_EMAIL_SENDER: setting(readSender),
    CONTACT_WATCH_ALERT_RECIPIENTS: setting(readRecipients),
    CONTACT_WATCH_REMINDER_DAYS: setting((text) =>
      wholeNumber('CONTACT_WATCH_REMINDER_DAYS', text, DEFAULT_ALERT_SETTINGS.reminderDays, 3650, 'days between reminders, 0 for never'),
    ),
    CONTACT_WATCH_NEW_SUBSCRIPTION_GRACE_MINUTES: setting((text) =>
      wholeNumber(
        'CONTACT_WATCH_NEW_SUBSCRIPTION_GRACE_MINUTES',
        text,
        DEFAULT_ALERT_SETTINGS.newSubscriptionGraceMinutes,
        7 * 24 * 60,
        'minutes a new subscription may lack a contact before it is alerted on',
      ),
    ),
    CONTACT_WATCH_FIXED_NOTICES: setting((text) =>
      flag(
        'CONTACT_WATCH_FIXED_NOTICES',
        text,
        DEFAULT_ALERT_SETTINGS.fixedNotices,
        'whether a subscription that was alerted on gets a notice when it is fixed',
      ),
    ),
    CONTACT_WATCH_EMAIL_RATE_PER_MINUTE: setting((text) =>
      sendingRate('CONTACT_WATCH_EMAIL_RATE_PER_MINUTE', text, ACS_RATE_LIMITS.azureManagedDomain.perMinute, 10_000, 'e-mails a minute'),
    ),
    CONTACT_WATCH_EMAIL_RATE_PER_HOUR: setting((text) =>
      sendingRate('CONTACT_WATCH_EMAIL_RATE_PER_HOUR', text, ACS_RATE_LIMITS.azureManagedDomain.perHour, 100_000, 'e-mails an hour'),
    ),
    CONTACT_WATCH_REPORT_URL: setting(readReportUrl),
    CONTACT_WATCH_TEAMS_WORKFLOW_URL: setting(readTeamsWorkflowUrl),
    CONTACT_WATCH_WEBHOOK_URL: setting(readWebhookUrl),
    CONTACT_WATCH_WEBHOOK_SECRET: setting(readWebhookSecret),
  },
  across: (values) => {
    const problems = channelProblems(values);
    if (problems.length > 0) throw new InvalidSettingsError(problems);
  },
  value: (values): AlertingSettings => ({
    ...(usesEmail(values)
      ? {
          email: {
            acs: acsSetting(values.CONTACT_WATCH_ACS_ENDPOINT, values.CONTACT_WATCH_ACS_CONNECTION_STRING, false),
            senderAddress: values.CONTACT_WATCH_EMAIL_SENDER!,
            recipients: values.CONTACT_WATCH_ALERT_RECIPIENTS!,
            rate: { perMinute: values.CONTACT_WATCH_EMAIL_RATE_PER_MINUTE, perHour: values.CONTACT_WATCH_EMAIL_RATE_PER_HOUR },
          },
        }
      : {}),
    ...(values.CONTACT_WATCH_TEAMS_WORKFLOW_URL ? { teams: { workflowUrl: values.CONTACT_WATCH_TEAMS_WORKFLOW_URL } } : {}),
    ...(values.CONTACT_WATCH_WEBHOOK_URL && values.CONTACT_WATCH_WEBHOOK_SECRET
      ? { webhook: { url: values.CONTACT_WATCH_WEBHOOK_URL, secret: values.CONTACT_WATCH_WEBHOOK_SECRET } }
      : {}),
    alerts: {
      reminderDays: values.CONTACT_WATCH_REMINDER_DAYS,
      newSubscriptionGraceMinutes: values.CONTACT_WATCH_NEW_SUBSCRIPTION_GRACE_MINUTES,
      fixedNotices: values.CONTACT_WATCH_FIXED_NOTICES,
    },
    ...(values.CONTACT_WATCH_REPORT_URL ? { reportUrl: values.CONTACT_WATCH_REPORT_URL } : {}),
  }),
});

/** What the channel rules read: whether each setting is set (a malformed value is set, and reported on its own). */
interface ChannelPresence {
  CONTACT_WATCH_ACS_ENDPOINT: string | undefined;
  CONTACT_WATCH_ACS_CONNECTION_STRING: string | undefined;
  CONTACT_WATCH_EMAIL_SENDER: unknown;
  CONTACT_WATCH_ALERT_RECIPIENTS: unknown;
  CONTACT_WATCH_TEAMS_WORKFLOW_URL: unknown;
  CONTACT_WATCH_WEBHOOK_URL: unknown;
  CONTACT_WATCH_WEBHOOK_SECRET: unknown;
}

/**
 * Whether alerts go by e-mail: when any of its settings is set, or when no other channel is (the
 * e-mail settings are then what is missing, as before there were other channels).
 */
function usesEmail(values: ChannelPresence): boolean {
  const email = [
    values.CONTACT_WATCH_ACS_ENDPOINT,
    values.CONTACT_WATCH_ACS_CONNECTION_STRING,
    values.CONTACT_WATCH_EMAIL_SENDER,
    values.CONTACT_WATCH_ALERT_RECIPIENTS,
  ].some((value) => value !== undefined);
  return email || !otherChannel(values);
}

function otherChannel(values: ChannelPresence): boolean {
  return [values.CONTACT_WATCH_TEAMS_WORKFLOW_URL, values.CONTACT_WATCH_WEBHOOK_URL, values.CONTACT_WATCH_WEBHOOK_SECRET].some(
    (value) => value !== undefined,
  );
}

/** Every problem with the channels together: a channel begun and not complete, or none at all. */
function channelProblems(values: ChannelPresence): SettingProblem[] {
  const problems: SettingsError[] = [];
  const webhook = webhookPairProblem(values.CONTACT_WATCH_WEBHOOK_URL, values.CONTACT_WATCH_WEBHOOK_SECRET);
  if (webhook) problems.push(webhook);
  if (usesEmail(values)) {
    try {
      acsSetting(values.CONTACT_WATCH_ACS_ENDPOINT, values.CONTACT_WATCH_ACS_CONNECTION_STRING, !otherChannel(values));
    } catch (error) {
      if (!(error instanceof SettingsError)) throw error;
      problems.push(error);
    }
    if (values.CONTACT_WATCH_EMAIL_SENDER === undefined) {
      problems.push(
        new SettingsError(
          'CONTACT_WATCH_EMAIL_SENDER',
          'Alerts need CONTACT_WATCH_EMAIL_SENDER: the verified sender address of your ACS e-mail domain, e.g. DoNotReply@<domain>.',
        ),
      );
    }
    if (values.CONTACT_WATCH_ALERT_RECIPIENTS === undefined) {
      problems.push(
        new SettingsError(
          'CONTACT_WATCH_ALERT_RECIPIENTS',
          "Alerts need CONTACT_WATCH_ALERT_RECIPIENTS: the security team's addresses, separated by ; or ,.",
        ),
      );
    }
  }
  return problems.map((problem) => ({ setting: problem.setting, message: problem.message }));
}

const alertingOnly = defineSettings({ alerting: ALERTING_SETTINGS });

/** The alerting settings alone. @throws InvalidSettingsError naming every alerting setting at fault. */
export function readAlertingSettings(env: Env): AlertingSettings {
  return alertingOnly.read(env).alerting;
}

/** CONTACT_WATCH_EMAIL_SENDER when set (whether e-mail needs it is a rule across the channels). */
function readSender(sender: string | undefined): string | undefined {
  if (sender === undefined) return undefined;
  if (!isValidEmailSyntax(sender)) {
    throw new SettingsError(
      'CONTACT_WATCH_EMAIL_SENDER',
      `CONTACT_WATCH_EMAIL_SENDER is ${quoteWithoutSecrets(sender)}, which is not an e-mail address (expected DoNotReply@<domain>).`,
    );
  }
  return sender;
}

/** CONTACT_WATCH_ALERT_RECIPIENTS when set (whether e-mail needs it is a rule across the channels). */
function readRecipients(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const recipients = [...new Set(splitEmailList(text))];
  const invalid = recipients.filter((address) => !isValidEmailSyntax(address));
  if (recipients.length === 0 || invalid.length > 0) {
    throw new SettingsError(
      'CONTACT_WATCH_ALERT_RECIPIENTS',
      `CONTACT_WATCH_ALERT_RECIPIENTS holds ${invalid.length ? `addresses that are not valid: ${invalid.map(quoteWithoutSecrets).join(', ')}` : 'no address'}; expected addresses separated by ; or ,.`,
    );
  }
  return recipients;
}

const wholeNumberText = (max: number) => z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(0).max(max));

function wholeNumber(name: string, text: string | undefined, fallback: number, max: number, what: string): number {
  if (text === undefined) return fallback;
  const parsed = wholeNumberText(max).safeParse(text);
  if (!parsed.success)
    throw new SettingsError(name, `${name} is ${quoteWithoutSecrets(text)}; expected ${what} (a whole number from 0 to ${max}).`);
  return parsed.data;
}

function sendingRate(name: string, text: string | undefined, fallback: number, max: number, what: string): number {
  const rate = wholeNumber(name, text, fallback, max, what);
  if (rate === 0) {
    throw new SettingsError(
      name,
      `${name} is 0, which would never send an alert; give your ACS domain's quota (Azure-managed: 5 a minute, 10 an hour; custom: 30 and 100).`,
    );
  }
  return rate;
}

function flag(name: string, text: string | undefined, fallback: boolean, what: string): boolean {
  if (text === undefined) return fallback;
  const value = text.toLowerCase();
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new SettingsError(name, `${name} is ${quoteWithoutSecrets(text)}; expected true or false (${what}).`);
}

/** The ACS setting in use; `noChannel`: nothing else is configured, so the message names the other channels too. */
function acsSetting(endpoint: string | undefined, connectionString: string | undefined, noChannel: boolean): AcsSetting {
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
      'Alerts need Azure Communication Services: set CONTACT_WATCH_ACS_ENDPOINT (https://<resource>.communication.azure.com, with the managed identity) or CONTACT_WATCH_ACS_CONNECTION_STRING' +
        (noChannel
          ? `, or send alerts elsewhere instead: to Teams (${TEAMS_WORKFLOW_URL}) or to a webhook (${WEBHOOK_URL} and CONTACT_WATCH_WEBHOOK_SECRET).`
          : '.'),
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

/**
 * CONTACT_WATCH_REPORT_URL: the address at which people open the report page (for example behind
 * the organisation's sign-in), linked from every digest. A function key must not be part of it:
 * alert e-mails are forwarded, and a key in a link would travel with them.
 */
function readReportUrl(text: string | undefined): string | undefined {
  const name = 'CONTACT_WATCH_REPORT_URL';
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
