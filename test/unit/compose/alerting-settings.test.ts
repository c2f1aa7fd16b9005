import { describe, expect, it } from 'vitest';
import { readAlertingSettings } from '../../../src/compose/alerting-settings.js';
import { InvalidSettingsError, SettingsError } from '../../../src/core/settings-error.js';

const KEY = 'c2VjcmV0LWtleS1tYXRlcmlhbC10aGF0LW11c3Qtbm90LWxlYWs=';
const BASE = {
  CONTACT_WATCH_EMAIL_SENDER: 'DoNotReply@alerts.fabrikam.io',
  CONTACT_WATCH_ALERT_RECIPIENTS: ' secops@fabrikam.io ; cloud@fabrikam.io,secops@fabrikam.io ',
  CONTACT_WATCH_ACS_ENDPOINT: 'https://cw-acs.communication.azure.com/',
};

function failure(env: Record<string, string>): SettingsError {
  try {
    readAlertingSettings(env);
  } catch (error) {
    if (error instanceof SettingsError) return error;
    throw error;
  }
  throw new Error('no error');
}

describe('alerting settings', () => {
  it('reads the managed-identity form with defaults', () => {
    expect(readAlertingSettings(BASE)).toEqual({
      email: {
        acs: { kind: 'managed-identity', endpoint: 'https://cw-acs.communication.azure.com' },
        senderAddress: 'DoNotReply@alerts.fabrikam.io',
        recipients: ['secops@fabrikam.io', 'cloud@fabrikam.io'],
        rate: { perMinute: 5, perHour: 10 },
      },
      alerts: { reminderDays: 7, newSubscriptionGraceMinutes: 0, fixedNotices: false },
    });
  });

  it('turns the optional fixed notices on, and refuses a value that is not a flag', () => {
    expect(readAlertingSettings({ ...BASE, CONTACT_WATCH_FIXED_NOTICES: 'true' }).alerts.fixedNotices).toBe(true);
    expect(readAlertingSettings(BASE).alerts.fixedNotices).toBe(false);
    expect(() => readAlertingSettings({ ...BASE, CONTACT_WATCH_FIXED_NOTICES: 'sometimes' })).toThrow(/CONTACT_WATCH_FIXED_NOTICES/);
  });

  it("takes a custom domain's sending quota, and refuses a rate that would never send", () => {
    expect(
      readAlertingSettings({ ...BASE, CONTACT_WATCH_EMAIL_RATE_PER_MINUTE: '30', CONTACT_WATCH_EMAIL_RATE_PER_HOUR: '100' }).email?.rate,
    ).toEqual({ perMinute: 30, perHour: 100 });
    expect(() => readAlertingSettings({ ...BASE, CONTACT_WATCH_EMAIL_RATE_PER_HOUR: '0' })).toThrow(/CONTACT_WATCH_EMAIL_RATE_PER_HOUR/);
    expect(() => readAlertingSettings({ ...BASE, CONTACT_WATCH_EMAIL_RATE_PER_MINUTE: 'lots' })).toThrow(
      /CONTACT_WATCH_EMAIL_RATE_PER_MINUTE/,
    );
  });

  it('reads the connection-string form, reminder days and grace minutes', () => {
    const { CONTACT_WATCH_ACS_ENDPOINT: _, ...rest } = BASE;
    const settings = readAlertingSettings({
      ...rest,
      CONTACT_WATCH_ACS_CONNECTION_STRING: `endpoint=https://cw-acs.communication.azure.com/;accesskey=${KEY}`,
      CONTACT_WATCH_REMINDER_DAYS: '0',
      CONTACT_WATCH_NEW_SUBSCRIPTION_GRACE_MINUTES: '90',
    });
    expect(settings.email?.acs).toMatchObject({ kind: 'connection-string', endpoint: 'https://cw-acs.communication.azure.com' });
    expect(settings.alerts).toMatchObject({ reminderDays: 0, newSubscriptionGraceMinutes: 90 });
  });

  it('names the malformed setting and never repeats the secret', () => {
    expect(failure({ ...BASE, CONTACT_WATCH_REMINDER_DAYS: 'weekly' }).setting).toBe('CONTACT_WATCH_REMINDER_DAYS');
    expect(failure({ ...BASE, CONTACT_WATCH_REMINDER_DAYS: '-1' }).message).toContain('CONTACT_WATCH_REMINDER_DAYS is "-1"');
    expect(failure({ ...BASE, CONTACT_WATCH_NEW_SUBSCRIPTION_GRACE_MINUTES: '1.5' }).setting).toBe(
      'CONTACT_WATCH_NEW_SUBSCRIPTION_GRACE_MINUTES',
    );
    expect(failure({ ...BASE, CONTACT_WATCH_ALERT_RECIPIENTS: 'secops@fabrikam.io; not-an-address' }).message).toContain('not-an-address');
    expect(failure({ ...BASE, CONTACT_WATCH_ALERT_RECIPIENTS: ' ; ' }).setting).toBe('CONTACT_WATCH_ALERT_RECIPIENTS');
    expect(failure({ ...BASE, CONTACT_WATCH_EMAIL_SENDER: 'DoNotReply' }).setting).toBe('CONTACT_WATCH_EMAIL_SENDER');
    expect(failure({ ...BASE, CONTACT_WATCH_ACS_ENDPOINT: 'http://cw-acs.communication.azure.com' }).setting).toBe(
      'CONTACT_WATCH_ACS_ENDPOINT',
    );
    const { CONTACT_WATCH_ACS_ENDPOINT: _, ...noAcs } = BASE;
    expect(failure(noAcs).message).toContain('CONTACT_WATCH_ACS_CONNECTION_STRING');
    const bad = failure({ ...noAcs, CONTACT_WATCH_ACS_CONNECTION_STRING: `endpoint=cw-acs;accesskey=${KEY}` });
    expect(bad.setting).toBe('CONTACT_WATCH_ACS_CONNECTION_STRING');
    expect(bad.message).not.toContain(KEY);
    expect(
      failure({ ...BASE, CONTACT_WATCH_ACS_CONNECTION_STRING: `endpoint=https://x.communication.azure.com/;accesskey=${KEY}` }).message,
    ).toContain('set only one');
  });

  it('names every alerting setting at fault at once, each with its own message', () => {
    const error = failure({
      ...BASE,
      CONTACT_WATCH_EMAIL_SENDER: 'DoNotReply',
      CONTACT_WATCH_EMAIL_RATE_PER_MINUTE: '0',
      CONTACT_WATCH_EMAIL_RATE_PER_HOUR: '0',
      CONTACT_WATCH_ACS_CONNECTION_STRING: `endpoint=https://x.communication.azure.com/;accesskey=${KEY}`,
    }) as InvalidSettingsError;
    expect(error).toBeInstanceOf(InvalidSettingsError);
    expect(error.settings).toEqual([
      'CONTACT_WATCH_ACS_ENDPOINT',
      'CONTACT_WATCH_EMAIL_SENDER',
      'CONTACT_WATCH_EMAIL_RATE_PER_MINUTE',
      'CONTACT_WATCH_EMAIL_RATE_PER_HOUR',
    ]);
    const lines = error.message.split('\n');
    expect(lines[0]).toBe('4 settings are missing or malformed:');
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^- Both CONTACT_WATCH_ACS_ENDPOINT and CONTACT_WATCH_ACS_CONNECTION_STRING are set; set only one/),
      '- CONTACT_WATCH_EMAIL_SENDER is "DoNotReply", which is not an e-mail address (expected DoNotReply@<domain>).',
      expect.stringMatching(/^- CONTACT_WATCH_EMAIL_RATE_PER_MINUTE is 0, which would never send an alert/),
      expect.stringMatching(/^- CONTACT_WATCH_EMAIL_RATE_PER_HOUR is 0, which would never send an alert/),
    ]);
    expect(error.message).not.toContain(KEY);
  });

  it('refuses an ACS endpoint that carries credentials, saying so without repeating them', () => {
    const password = 'pa55-w0rd-in-url';
    const refused = failure({ ...BASE, CONTACT_WATCH_ACS_ENDPOINT: `https://alerts:${password}@cw-acs.communication.azure.com` });
    expect(refused.setting).toBe('CONTACT_WATCH_ACS_ENDPOINT');
    expect(refused.message).toMatch(/credentials/);
    expect(refused.message).toContain('cw-acs.communication.azure.com');
    expect(refused.message).not.toContain(password);
    expect(refused.message).not.toContain('alerts:');
  });

  it('refuses an ACS endpoint with a SAS, keeping the names of its query but not the signature', () => {
    const refused = failure({
      ...BASE,
      CONTACT_WATCH_ACS_ENDPOINT: 'https://cw-acs.communication.azure.com/?sv=2024-05-04&sig=c2lnbmF0dXJl',
    });
    expect(refused.message).toContain('"https://cw-acs.communication.azure.com/?sv=…&sig=…"');
    expect(refused.message).not.toContain('c2lnbmF0dXJl');
  });

  it('refuses a connection string whose endpoint holds a password without a user name', () => {
    const { CONTACT_WATCH_ACS_ENDPOINT: _, ...noEndpoint } = BASE;
    const refused = failure({
      ...noEndpoint,
      CONTACT_WATCH_ACS_CONNECTION_STRING: `endpoint=https://:pa55-w0rd@cw-acs.communication.azure.com/;accesskey=${KEY}`,
    });
    expect(refused.setting).toBe('CONTACT_WATCH_ACS_CONNECTION_STRING');
    expect(refused.message).toMatch(/credentials/);
    expect(refused.message).not.toContain('pa55-w0rd');
    expect(refused.message).not.toContain(KEY);
  });

  it('shows a connection string given where a value belongs only by the names of its parts', () => {
    const refused = failure({ ...BASE, CONTACT_WATCH_REMINDER_DAYS: `endpoint=https://cw-acs.communication.azure.com/;accesskey=${KEY}` });
    expect(refused.message).toBe(
      'CONTACT_WATCH_REMINDER_DAYS is "endpoint=…;accesskey=…"; expected days between reminders, 0 for never (a whole number from 0 to 3650).',
    );
  });

  it('reads the alert timing, a blank value taking the default', () => {
    expect(readAlertingSettings({ ...BASE, CONTACT_WATCH_REMINDER_DAYS: '14' }).alerts).toEqual({
      reminderDays: 14,
      newSubscriptionGraceMinutes: 0,
      fixedNotices: false,
    });
    expect(readAlertingSettings({ ...BASE, CONTACT_WATCH_REMINDER_DAYS: '  ' }).alerts.reminderDays).toBe(7);
  });
});

describe('the alert channels', () => {
  const TEAMS_SIG = 'c2lnbmF0dXJlLW9mLXRoZS13b3JrZmxvdw';
  const TEAMS_URL = `https://prod-12.westus.logic.azure.com:443/workflows/4f0c2a/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${TEAMS_SIG}`;
  const SECRET = 'a'.repeat(31) + 'Z';
  const WEBHOOK = {
    CONTACT_WATCH_WEBHOOK_URL: 'https://hooks.fabrikam.io/contact-watch?token=t0k3n-of-the-receiver',
    CONTACT_WATCH_WEBHOOK_SECRET: SECRET,
  };

  it('takes Teams alone, the webhook alone, or any combination with e-mail, each as given', () => {
    expect(readAlertingSettings({ CONTACT_WATCH_TEAMS_WORKFLOW_URL: TEAMS_URL })).toEqual({
      teams: { workflowUrl: TEAMS_URL.replace(':443', '') },
      alerts: { reminderDays: 7, newSubscriptionGraceMinutes: 0, fixedNotices: false },
    });
    expect(readAlertingSettings(WEBHOOK)).toMatchObject({ webhook: { url: WEBHOOK.CONTACT_WATCH_WEBHOOK_URL, secret: SECRET } });
    expect(readAlertingSettings(WEBHOOK).email).toBeUndefined();
    const all = readAlertingSettings({ ...BASE, ...WEBHOOK, CONTACT_WATCH_TEAMS_WORKFLOW_URL: TEAMS_URL });
    expect(Object.keys(all).sort()).toEqual(['alerts', 'email', 'teams', 'webhook']);
    // Plain http:// only on this machine, for local tests.
    expect(readAlertingSettings({ CONTACT_WATCH_TEAMS_WORKFLOW_URL: 'http://127.0.0.1:7071/workflows/x?sig=y' }).teams).toBeDefined();
  });

  it('with no channel at all, says what e-mail needs and names the other channels', () => {
    const error = failure({}) as InvalidSettingsError;
    expect(error.settings).toEqual(['CONTACT_WATCH_ACS_ENDPOINT', 'CONTACT_WATCH_EMAIL_SENDER', 'CONTACT_WATCH_ALERT_RECIPIENTS']);
    expect(error.problems[0]!.message).toContain('or send alerts elsewhere instead: to Teams (CONTACT_WATCH_TEAMS_WORKFLOW_URL)');
  });

  it('holds a channel begun to being complete: e-mail without its sender beside Teams, a webhook without its secret or URL', () => {
    const email = failure({
      CONTACT_WATCH_TEAMS_WORKFLOW_URL: TEAMS_URL,
      CONTACT_WATCH_ALERT_RECIPIENTS: 'secops@fabrikam.io',
    }) as InvalidSettingsError;
    expect(email.settings).toEqual(['CONTACT_WATCH_ACS_ENDPOINT', 'CONTACT_WATCH_EMAIL_SENDER']);
    expect(email.problems[0]!.message).not.toContain('elsewhere');
    expect(failure({ CONTACT_WATCH_WEBHOOK_URL: WEBHOOK.CONTACT_WATCH_WEBHOOK_URL }).setting).toBe('CONTACT_WATCH_WEBHOOK_SECRET');
    const noUrl = failure({ ...BASE, CONTACT_WATCH_WEBHOOK_SECRET: SECRET });
    expect(noUrl.setting).toBe('CONTACT_WATCH_WEBHOOK_URL');
    expect(noUrl.message).not.toContain(SECRET);
  });

  it('refuses a short secret, a URL that is not https or carries a password, and a Key Vault reference the host left, repeating no secret', () => {
    const short = failure({ ...WEBHOOK, CONTACT_WATCH_WEBHOOK_SECRET: 'short-but-secret' });
    expect(short.message).toBe(
      'CONTACT_WATCH_WEBHOOK_SECRET is 16 bytes long; a signing secret must be at least 32 bytes: generate one with `openssl rand -hex 32` (64 characters) and give the receiver the same.',
    );
    const http = failure({ CONTACT_WATCH_TEAMS_WORKFLOW_URL: TEAMS_URL.replace('https:', 'http:') });
    expect(http.setting).toBe('CONTACT_WATCH_TEAMS_WORKFLOW_URL');
    expect(http.message).toMatch(/is "http:\/\/prod-12\.westus\.logic\.azure\.com(:\d+)?\/…"; expected the https:\/\/ URL/);
    const pathToken = 'T0A1B2C3/B4D5E6F7/abcdefghijklmnopqrstuvwx';
    const inPath = failure({ ...WEBHOOK, CONTACT_WATCH_WEBHOOK_URL: `http://hooks.fabrikam.io/services/${pathToken}` });
    expect(inPath.message).toMatch(/is "http:\/\/hooks\.fabrikam\.io\/…"/);
    expect(inPath.message).not.toContain('abcdefghijklmnopqrstuvwx');
    const notUrl = failure({ ...WEBHOOK, CONTACT_WATCH_WEBHOOK_URL: `hooks.fabrikam.io/services/${pathToken}` });
    expect(notUrl.message).toMatch(/^CONTACT_WATCH_WEBHOOK_URL is not an absolute URL \(its value is a secret/);
    expect(notUrl.message).not.toContain('abcdefghijklmnopqrstuvwx');
    expect(http.message).not.toContain(TEAMS_SIG);
    const password = failure({ ...WEBHOOK, CONTACT_WATCH_WEBHOOK_URL: 'https://hook:pa55w0rd-here@hooks.fabrikam.io/' });
    expect(password.message).toMatch(/user name or password/);
    expect(password.message).not.toContain('pa55w0rd-here');
    const reference = failure({
      CONTACT_WATCH_TEAMS_WORKFLOW_URL: '@Microsoft.KeyVault(SecretUri=https://kv-alerts.vault.azure.net/secrets/teams/)',
    });
    expect(reference.message).toMatch(/^CONTACT_WATCH_TEAMS_WORKFLOW_URL is a Key Vault reference the Functions host could not resolve/);
    expect(reference.message).toContain('Key Vault Secrets User');
  });
});
