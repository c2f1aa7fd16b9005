/**
 * The command line of docs/reference/cli.md and docs/reference/settings.md against the local Azure test server: exit codes,
 * formats, the policy file, scopes, faults, sovereign-cloud settings, and `check`.
 *
 * Most cases run the program in this process (runCliInProcess); the built command line runs as
 * a process (runContactWatch) where only a process shows it: each exit code as the shell sees it,
 * --help, and a token requested by a process with no cached token.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SimulatedTenant, startLocalAzure } from '../../azure-server/index.js';
import type { LocalAzure } from '../../azure-server/index.js';
import { runCliInProcess, runContactWatch } from '../../support/cli.js';
import { compliantContact2023 } from '../../support/fixtures.js';

const COMPLIANT = '11111111-1111-4111-8111-111111111111';
const NONCOMPLIANT = '22222222-2222-4222-8222-222222222222';
const FORBIDDEN = '33333333-3333-4333-8333-333333333333';
const IN_GROUP = '44444444-4444-4444-8444-444444444444';
const UNLISTED = '55555555-5555-4555-8555-555555555555';

let azure: LocalAzure;
let dir: string;

beforeAll(async () => {
  const tenant = new SimulatedTenant();
  tenant.addManagementGroup('platform');
  tenant.addSubscription({ subscriptionId: COMPLIANT, displayName: 'Prod <b>&amp;</b>', contacts: [compliantContact2023()] });
  // Alerts from High only: compliant under the default threshold, not under a Medium one.
  const highAlertsOnly = compliantContact2023();
  highAlertsOnly.properties.notificationsSources = [
    { sourceType: 'Alert', minimalSeverity: 'High' },
    { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
  ];
  tenant.addSubscription({ subscriptionId: NONCOMPLIANT, displayName: 'Sandbox', contacts: [] });
  tenant.addSubscription({ subscriptionId: FORBIDDEN, displayName: 'Locked', contacts: [], quirks: { forbidden: true } });
  tenant.addSubscription({
    subscriptionId: IN_GROUP,
    displayName: 'Platform',
    contacts: [highAlertsOnly],
    managementGroupIds: ['platform'],
  });
  azure = await startLocalAzure({ tenant });
  dir = await mkdtemp(join(tmpdir(), 'contact-watch-cli-'));
});

afterAll(async () => {
  await azure?.close();
});

beforeEach(() => {
  azure.faults.clear();
  azure.requests.clear();
});

describe('scan', () => {
  it('exits 1 with --fail-on-noncompliant when a subscription is noncompliant or error', async () => {
    const run = await runContactWatch(['scan', '--fail-on-noncompliant', '--format', 'json'], azure.env());
    expect(run.code, run.stderr).toBe(1);
    expect(JSON.parse(run.stdout).summary).toMatchObject({ subscriptions: 4, compliant: 2, noncompliant: 1, error: 1 });
  });

  it('exits 0 without --fail-on-noncompliant, whatever it found', async () => {
    const run = await runCliInProcess(['scan'], azure.env());
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(NONCOMPLIANT);
  });

  it('exits 0 with --fail-on-noncompliant when everything named is compliant', async () => {
    const run = await runContactWatch(['scan', '--subscription', COMPLIANT, '--fail-on-noncompliant'], azure.env());
    expect(run.code, run.stderr).toBe(0);
  });

  it.each(['table', 'json', 'csv', 'markdown', 'sarif', 'html'])('renders --format %s to --output', async (format) => {
    const output = join(dir, `report.${format}`);
    const run = await runCliInProcess(['scan', '--format', format, '--output', output], azure.env());
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    const text = await readFile(output, 'utf8');
    expect(text).toContain(NONCOMPLIANT);
    if (format === 'json' || format === 'sarif') expect(() => JSON.parse(text)).not.toThrow();
    if (format === 'html') {
      expect(text).toMatch(/^<!doctype html>/i);
      expect(text).not.toContain('<b>&amp;</b>'); // the display name arrives escaped
    }
  });

  it('scopes to named subscriptions, and judges one Resource Graph does not list yet', async () => {
    const run = await runCliInProcess(
      ['scan', '--subscription', COMPLIANT, '--subscription', UNLISTED.toUpperCase(), '--format', 'json'],
      azure.env(),
    );
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.subscriptions.map((s: any) => s.subscriptionId)).toEqual([COMPLIANT, UNLISTED]);
    expect(report.subscriptions[1]).toMatchObject({ status: 'error', source: 'security-contacts-api' });
    const graph = azure.requests.of('resource-graph');
    expect(graph.every((r) => JSON.stringify(r.resourceGraph?.subscriptions) === JSON.stringify([COMPLIANT, UNLISTED]))).toBe(true);
  });

  it('scopes to a management group', async () => {
    const run = await runCliInProcess(['scan', '--management-group', 'platform', '--format', 'json'], azure.env());
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.subscriptions.map((s: any) => s.subscriptionId)).toEqual([IN_GROUP]);
    expect(azure.requests.of('resource-graph').every((r) => r.resourceGraph?.managementGroups?.[0] === 'platform')).toBe(true);
  });

  it('exits 2 naming a mistyped management group, so that it cannot pass --fail-on-noncompliant', async () => {
    const run = await runContactWatch(['scan', '--management-group', 'platfrom', '--fail-on-noncompliant'], azure.env());
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('no subscription was found under management group "platfrom"');
    expect(run.stdout).toBe('');
    expect(azure.requests.of('security-contacts')).toHaveLength(0);
  });

  it('names each management group that yields no subscription, even beside one that does', async () => {
    const run = await runCliInProcess(
      ['scan', '--management-group', 'platform', '--management-group', 'platfrom', '--management-group', 'corp', '--format', 'json'],
      azure.env(),
    );
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('no subscription was found under management groups "platfrom", "corp";');
    expect(run.stdout).toBe('');
  });

  it('refuses an empty --management-group instead of scanning the whole tenant', async () => {
    const run = await runCliInProcess(['scan', '--management-group', ' ', '--fail-on-noncompliant'], azure.env());
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/--management-group.*expected a management group ID, got an empty value/);
    expect(azure.requests.of('resource-graph')).toHaveLength(0);
  });

  it('applies a policy file: a stricter alert threshold fails a contact that only sends High alerts', async () => {
    const policy = join(dir, 'strict.json');
    await writeFile(policy, JSON.stringify({ alerts: { required: true, minimalSeverity: 'Medium' } }));
    const run = await runCliInProcess(['scan', '--subscription', IN_GROUP, '--config', policy, '--format', 'json'], azure.env());
    const [verdict] = JSON.parse(run.stdout).subscriptions;
    expect(verdict.status).toBe('noncompliant');
    expect(verdict.findings.find((f: any) => f.ruleId === 'alert-notifications').result).toBe('fail');
    const relaxed = await runCliInProcess(['scan', '--subscription', IN_GROUP, '--format', 'json'], azure.env());
    expect(JSON.parse(relaxed.stdout).subscriptions[0].status).toBe('compliant');
  });

  it('reports a rule the policy does not require, without making the subscription noncompliant', async () => {
    const run = await runCliInProcess(['scan', '--subscription', IN_GROUP, '--format', 'json'], {
      ...azure.env(),
      CONTACT_WATCH_POLICY: JSON.stringify({ alerts: { required: false, minimalSeverity: 'Low' } }),
    });
    const [verdict] = JSON.parse(run.stdout).subscriptions;
    expect(verdict.findings.find((f: any) => f.ruleId === 'alert-notifications').result).toBe('fail');
    expect(verdict.status).toBe('compliant');
  });

  it.each([
    [{ alert: { required: true } }, /alert/],
    [{ alerts: { minimalSeverity: 'Critical' } }, /alerts\.minimalSeverity/],
    [{ emails: { allowedDomains: 'fabrikam.io' } }, /emails\.allowedDomains/],
  ])('refuses a bad policy file %j with exit 2 and a message naming the key', async (policy, key) => {
    const file = join(dir, 'bad-policy.json');
    await writeFile(file, JSON.stringify(policy));
    const run = await runCliInProcess(['scan', '--config', file], azure.env());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(key);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(azure.requests.count('resource-graph')).toBe(0);
  });

  it('refuses a malformed CONTACT_WATCH_POLICY setting before any request, naming it (docs/reference/settings.md)', async () => {
    const run = await runCliInProcess(['scan'], { ...azure.env(), CONTACT_WATCH_POLICY: '{"owners": {"required": "yes"}}' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/CONTACT_WATCH_POLICY/);
    expect(run.stderr).toMatch(/owners\.required/);
    expect(azure.requests.count('resource-graph')).toBe(0);
  });

  it('refuses a policy file that is not JSON, and a missing one', async () => {
    const file = join(dir, 'not-json.json');
    await writeFile(file, '{ alerts: ');
    expect((await runCliInProcess(['scan', '--config', file], azure.env())).code).toBe(2);
    const missing = await runCliInProcess(['scan', '--config', join(dir, 'nope.json')], azure.env());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.json cannot be read: no such file/);
    expect(missing.stderr).not.toContain('ENOENT');
  });

  it('refuses usage errors with exit 2', async () => {
    expect((await runCliInProcess(['scan', '--format', 'pdf'], azure.env())).code).toBe(2);
    expect((await runCliInProcess(['scan', '--subscription', 'not-a-guid'], azure.env())).code).toBe(2);
    expect((await runCliInProcess(['frobnicate'], azure.env())).code).toBe(2);
    expect(azure.requests.count('resource-graph')).toBe(0);
  });

  it('prints --help and exits 0', async () => {
    const run = await runContactWatch(['scan', '--help'], {});
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/--fail-on-noncompliant/);
  });

  it('retries Resource Graph after a 429, honouring Retry-After', async () => {
    azure.faults.add({ target: 'resource-graph', status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    const run = await runCliInProcess(['scan', '--format', 'json'], azure.env());
    expect(run.code, run.stderr).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(azure.requests.of('resource-graph').filter((r) => r.status === 429)).toHaveLength(1);
  });

  it('retries a securityContacts 503 and a dropped connection', async () => {
    azure.faults.add({ target: 'security-contacts', subscriptionId: NONCOMPLIANT, status: 503, retryAfterSeconds: 1 });
    azure.faults.add({ target: 'security-contacts', subscriptionId: IN_GROUP, dropConnection: true });
    const run = await runCliInProcess(
      ['scan', '--format', 'json', '--subscription', NONCOMPLIANT, '--subscription', IN_GROUP],
      azure.env(),
    );
    const report = JSON.parse(run.stdout);
    expect(report.subscriptions.map((s: any) => s.status)).toEqual(['noncompliant', 'compliant']);
  });

  it('exits 2 when Resource Graph cannot be read: the scan could not run', async () => {
    // 403 is not retried; persistent 5xx after retries takes the same path (adapter tests).
    azure.faults.add({ target: 'resource-graph', status: 403, times: Infinity });
    const run = await runCliInProcess(['scan', '--format', 'json'], azure.env());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Resource Graph could not be read: .*403/);
    expect(run.stdout).toBe('');
  });

  it('says so when the identity sees no subscription', async () => {
    const empty = await startLocalAzure({ tenant: new SimulatedTenant() });
    try {
      const run = await runCliInProcess(['scan', '--format', 'json'], empty.env());
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).summary.subscriptions).toBe(0);
      expect(run.stderr).toMatch(/no subscriptions are visible/);
    } finally {
      await empty.close();
    }
  });

  it('refuses an unknown AZURE_CLOUD, naming it', async () => {
    const run = await runCliInProcess(['scan'], { ...azure.env(), AZURE_CLOUD: 'Mars' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/AZURE_CLOUD/);
  });

  it('asks for a token scoped to the overriding endpoint, whatever AZURE_CLOUD says', async () => {
    // The server refuses tokens issued for another resource, so a success proves the scope. A
    // process of its own: MSAL in this one may already hold a token for this server.
    const run = await runContactWatch(['scan', '--format', 'json'], { ...azure.env(), AZURE_CLOUD: 'AzureUSGovernment' });
    expect(run.code, run.stderr).toBe(0);
    expect(azure.requests.of('identity').length).toBeGreaterThan(0);
  });
});

describe('check', () => {
  it('refuses an id that is not a GUID before sending any request', async () => {
    const run = await runCliInProcess(['check', 'my-subscription'], azure.env());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/not a subscription id/);
    expect(azure.requests.all()).toHaveLength(0);
  });

  it('exits 0 for a compliant subscription, read from the API and not Resource Graph', async () => {
    const run = await runCliInProcess(['check', COMPLIANT, '--format', 'json'], azure.env());
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      subscriptionId: COMPLIANT,
      status: 'compliant',
      source: 'security-contacts-api',
      displayName: 'Prod <b>&amp;</b>',
    });
    expect(azure.requests.count('resource-graph')).toBe(0);
  });

  it('exits 1 for a noncompliant subscription and shows what to fix', async () => {
    const run = await runCliInProcess(['check', NONCOMPLIANT], azure.env());
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/contact-exists/);
    expect(run.stdout).toMatch(/securityContacts/); // the remediation
  });

  it('exits 2 for a subscription that cannot be read', async () => {
    const run = await runCliInProcess(['check', FORBIDDEN, '--format', 'json'], azure.env());
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout).status).toBe('error');
  });

  it('--wait re-reads until the contact appears', async () => {
    const pending = runCliInProcess(['check', NONCOMPLIANT, '--wait', '20', '--format', 'json'], azure.env());
    // The contact is set once the command has read it without one (the server has answered that
    // read), however long the command took to start; it reads again 2 s later.
    await vi.waitFor(
      () => expect(azure.requests.of('security-contacts').filter((r) => r.subscriptionId === NONCOMPLIANT)).toHaveLength(1),
      {
        timeout: 20_000,
        interval: 20,
      },
    );
    azure.tenant.setContacts(NONCOMPLIANT, [compliantContact2023()], { indexed: false });
    const run = await pending;
    try {
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout).status).toBe('compliant');
      expect(run.stderr).toMatch(/is noncompliant; reading again in 2 s/);
      expect(azure.requests.of('security-contacts').length).toBeGreaterThanOrEqual(2);
    } finally {
      azure.tenant.deleteContacts(NONCOMPLIANT);
    }
  });

  it('--wait gives up when the time is up, still noncompliant', async () => {
    const run = await runCliInProcess(['check', NONCOMPLIANT, '--wait', '1'], azure.env());
    expect(run.code).toBe(1);
  });

  it('refuses a bad --wait', async () => {
    expect((await runCliInProcess(['check', COMPLIANT, '--wait', 'soon'], azure.env())).code).toBe(2);
  });
});
