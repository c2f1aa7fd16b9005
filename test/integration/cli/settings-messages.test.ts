/**
 * docs/reference/settings.md for the command line: a setting that is present but malformed stops the command
 * with exit code 2 and a message naming it, and never prints a secret the value holds. The sweep
 * runs the program in this process (each case stops before any request); the built command line
 * is run as a child process for the cases a user meets first.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/program.js';
import { APP_SETTING_NAMES, type AppSettingName } from '../../../src/compose/app-settings.js';
import { runContactWatch } from '../../support/cli.js';
import { SECRET_MARKER, sweepCases, withSetting } from '../../support/secret-bearing-settings.js';

/** Valid settings for `scan --notify`; nothing is reached, since one of them is always malformed. */
const VALID = {
  AZURE_RESOURCE_MANAGER_ENDPOINT: 'https://127.0.0.1:9',
  CONTACT_WATCH_STORAGE: 'https://cwstate.table.core.windows.net',
  CONTACT_WATCH_ACS_ENDPOINT: 'https://cw-acs.communication.azure.com',
  CONTACT_WATCH_EMAIL_SENDER: 'DoNotReply@alerts.fabrikam.io',
  CONTACT_WATCH_ALERT_RECIPIENTS: 'secops@fabrikam.io',
};

/** What `scan --notify` reads: every app setting but the timers' schedules, Application Insights and the app's own repairs. */
const APP_ONLY_SETTINGS: readonly AppSettingName[] = [
  'CONTACT_WATCH_SCAN_SCHEDULE',
  'CONTACT_WATCH_WATCH_SCHEDULE',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'CONTACT_WATCH_REMEDIATION',
];
const CLI_SETTINGS: readonly AppSettingName[] = APP_SETTING_NAMES.filter((name) => !APP_ONLY_SETTINGS.includes(name));

async function run(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env });
  return { code, stdout, stderr };
}

describe('a malformed setting on the command line', () => {
  it.each(sweepCases(CLI_SETTINGS))('scan --notify with %s = %s names it and prints no secret', async (setting, value) => {
    const result = await run(['scan', '--notify'], withSetting(VALID, setting, value));
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(setting);
    expect(result.stderr).not.toContain(SECRET_MARKER);
  });

  it('scan --notify names every setting at fault at once, before any request', async () => {
    const result = await run(['scan', '--notify'], {
      ...VALID,
      AZURE_CLOUD: 'AzureMoon',
      CONTACT_WATCH_STORAGE: `AccountKey=${SECRET_MARKER};EndpointSuffix=core.windows.net`,
      CONTACT_WATCH_ALERT_RECIPIENTS: 'nobody',
    });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('contact-watch: 3 settings are missing or malformed:');
    expect(lines.slice(1).map((line) => /^- (\w+)/.exec(line)?.[1])).toEqual([
      'AZURE_CLOUD',
      'CONTACT_WATCH_STORAGE',
      'CONTACT_WATCH_ALERT_RECIPIENTS',
    ]);
    expect(result.stderr).not.toContain(SECRET_MARKER);
  });

  it('the built command line names an ARM endpoint with a SAS and prints no signature', async () => {
    const result = await runContactWatch(['scan'], {
      AZURE_RESOURCE_MANAGER_ENDPOINT: `https://arm.contoso.example/?sv=2024-05-04&sig=${SECRET_MARKER}`,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^contact-watch: AZURE_RESOURCE_MANAGER_ENDPOINT is "https:\/\/arm\.contoso\.example\/\?sv=…&sig=…"/);
    expect(result.stderr).not.toContain(SECRET_MARKER);
  });

  it('the built command line names storage whose TableEndpoint carries a SAS and prints no signature', async () => {
    const sas = `sv=2024-05-04&sig=${SECRET_MARKER}`;
    const result = await runContactWatch(['exemptions'], {
      AZURE_RESOURCE_MANAGER_ENDPOINT: 'https://127.0.0.1:9',
      CONTACT_WATCH_STORAGE: `TableEndpoint=https://cwstate.table.core.windows.net/?${sas};SharedAccessSignature=${sas}`,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^contact-watch: CONTACT_WATCH_STORAGE has a TableEndpoint with a query/);
    expect(result.stderr).not.toContain(SECRET_MARKER);
  });
});
