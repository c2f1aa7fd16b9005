/**
 * `contact-watch fix` against the local Azure test server: a tenant holding every noncompliant
 * special case is dry-run, fixed and scanned again. What was sent is taken from the server's
 * request log, and the truth after it from the server's own tenant, not from what the CLI says.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedTenant, startLocalAzure } from '../../azure-server/index.js';
import type { LocalAzure } from '../../azure-server/index.js';
import { startAzurite } from '../../support/azurite.js';
import { runCliInProcess } from '../../support/cli.js';
import { compliantContact2023, contactItem, contactListItems } from '../../support/fixtures.js';
import { findEmailAddressProblem } from '../../../src/core/email-addresses.js';
import { openStateStore, parseStorageSetting } from '../../../src/adapters/table-storage/index.js';
import { openRepairClaims } from '../../../src/adapters/table-storage/repair-claims.js';
import type { FixReport } from '../../../src/core/model.js';
import { expectValidFixReport, expectValidReport } from '../../support/report-schema.js';

const REMEDIATION_ADDRESS = 'secops@corp-sec.net';
const POLICY = { remediation: { emails: [REMEDIATION_ADDRESS] } };

/** Each case: its id, its contacts (or quirks), and the result fix must give it. */
const CASES = {
  noContact: { id: '71000000-0000-4000-8000-000000000001', result: 'fixed' },
  noAttackPaths2023: { id: '71000000-0000-4000-8000-000000000002', result: 'fixed' },
  legacy2017: { id: '71000000-0000-4000-8000-000000000003', result: 'fixed' },
  alertsOff2020: { id: '71000000-0000-4000-8000-000000000004', result: 'fixed' },
  disabled2023: { id: '71000000-0000-4000-8000-000000000005', result: 'fixed' },
  onlyPlaceholders: { id: '71000000-0000-4000-8000-000000000006', result: 'fixed' },
  unknownSeverity: { id: '71000000-0000-4000-8000-000000000007', result: 'fixed' },
  quirkyList: { id: '71000000-0000-4000-8000-000000000008', result: 'fixed' },
  severalContacts: { id: '71000000-0000-4000-8000-000000000009', result: 'fixed' },
  badLegacyBeside: { id: '71000000-0000-4000-8000-00000000000a', result: 'not-fixable' },
  notRegistered: { id: '71000000-0000-4000-8000-00000000000b', result: 'not-fixable' },
  unreadable: { id: '71000000-0000-4000-8000-00000000000c', result: 'failed' },
  compliant: { id: '71000000-0000-4000-8000-00000000000d', result: 'unchanged' },
  disabledSubscription: { id: '71000000-0000-4000-8000-00000000000e', result: 'skipped' },
  cannotWrite: { id: '71000000-0000-4000-8000-00000000000f', result: 'failed' },
  writeThrottled: { id: '71000000-0000-4000-8000-000000000010', result: 'fixed' },
  exempt: { id: '71000000-0000-4000-8000-000000000011', result: 'unchanged' },
} as const;
type CaseName = keyof typeof CASES;
const FIXABLE = (Object.keys(CASES) as CaseName[]).filter((name) => CASES[name].result === 'fixed');
const NOT_WRITTEN: CaseName[] = ['compliant', 'exempt', 'disabledSubscription', 'unreadable', 'notRegistered', 'badLegacyBeside'];

let azure: LocalAzure;
let tenant: SimulatedTenant;
let azurite: Awaited<ReturnType<typeof startAzurite>>;
let dir: string;
let env: Record<string, string>;
let policyFile: string;

function named(name: string, item: Record<string, unknown>): Record<string, unknown> {
  return { ...item, id: `/x/securityContacts/${name}`, name };
}

beforeAll(async () => {
  tenant = new SimulatedTenant();
  const add = (name: CaseName, displayName: string, contacts: unknown[], extra: Record<string, unknown> = {}) =>
    tenant.addSubscription({ subscriptionId: CASES[name].id, displayName, contacts: contacts, ...extra });

  add('noContact', 'Sandbox', []);
  const noAttackPaths = compliantContact2023('soc@fabrikam.io;Noc@eu.fabrikam.io');
  noAttackPaths.properties.phone = '+44 20 7946 0000';
  noAttackPaths.properties.notificationsSources = [{ sourceType: 'Alert', minimalSeverity: 'Low' }];
  add('noAttackPaths2023', 'Payments', [noAttackPaths]);
  const legacy = named('default', contactItem('2017-08-01-preview'));
  (legacy.properties as Record<string, unknown>).email = 'soc@fabrikam.io;john@contoso.com';
  add('legacy2017', 'Legacy', [legacy]);
  const alertsOff = contactListItems('2020-01-01-preview')[0];
  alertsOff.properties.emails = 'ops@fabrikam.io';
  alertsOff.properties.alertNotifications = { state: 'Off', minimalSeverity: 'Medium' };
  alertsOff.properties.notificationsByRole = { state: 'On', roles: ['AccountAdmin'] };
  add('alertsOff2020', 'Old API', [alertsOff]);
  const disabled = compliantContact2023('team@fabrikam.io');
  disabled.properties.isEnabled = false;
  add('disabled2023', 'Switched off', [disabled]);
  add('onlyPlaceholders', 'Copied from docs', [compliantContact2023('john@contoso.com;jane@example.org')]);
  const unknownSeverity = compliantContact2023('soc@fabrikam.io');
  const alertSource = (unknownSeverity.properties.notificationsSources as { sourceType: string; minimalSeverity?: string }[]).find(
    (source) => source.sourceType === 'Alert',
  )!;
  alertSource.minimalSeverity = 'Severe';
  add('unknownSeverity', 'Odd level', [unknownSeverity]);
  const quirky = compliantContact2023('soc@fabrikam.io');
  quirky.name = 'Default';
  quirky.type = 'Microsoft.Security/securityContact';
  quirky.properties.notificationsByRole = { state: 'on', roles: ['serviceadmin'] };
  add('quirkyList', 'Quirks', [quirky], { quirks: { bareArrayBody: true } });
  const legacyValid = named('default1', contactItem('2017-08-01-preview'));
  (legacyValid.properties as Record<string, unknown>).email = 'legacy@fabrikam.io';
  const otherLegacy = named('default2', { ...legacyValid, properties: { email: 'legacy2@fabrikam.io', alertNotifications: 'Off' } });
  add('severalContacts', 'Two contacts', [legacyValid, otherLegacy]);
  add('badLegacyBeside', 'Docs contact', [contactItem('2017-08-01-preview')]);
  add('notRegistered', 'Fresh', [], { quirks: { providerNotRegistered: true } });
  add('unreadable', 'Locked', [], { quirks: { forbidden: true } });
  add('compliant', 'Production', [compliantContact2023()]);
  add('disabledSubscription', 'Cancelled', [], { state: 'Disabled' });
  add('cannotWrite', 'Reader only', [], { quirks: { readOnlyIdentity: true } });
  add('writeThrottled', 'Busy', []);
  add('exempt', 'Exempted', []);

  [azure, azurite] = await Promise.all([startLocalAzure({ tenant }), startAzurite()]);
  dir = await mkdtemp(join(tmpdir(), 'contact-watch-fix-'));
  policyFile = join(dir, 'policy.json');
  await writeFile(policyFile, JSON.stringify(POLICY));
  env = { ...azure.env(), CONTACT_WATCH_STORAGE: azurite.connectionString, CONTACT_WATCH_USER: 'alice' };
  const exempted = await runCliInProcess(
    ['exempt', CASES.exempt.id, '--reason', 'decommissioning', '--owner', 'owner@fabrikam.io', '--expires', inDays(30)],
    env,
  );
  expect(exempted.code, exempted.stderr).toBe(0);
});

afterAll(async () => {
  await Promise.all([azure?.close(), azurite?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

function parseReport(stdout: string): FixReport {
  expectValidFixReport(JSON.parse(stdout));
  return JSON.parse(stdout) as FixReport;
}

function resultsById(report: FixReport): Record<string, string> {
  return Object.fromEntries(report.subscriptions.map((entry) => [entry.subscriptionId, entry.result]));
}

/** The valid addresses a subscription's contacts hold in the tenant's truth right now. */
function validAddresses(subscriptionId: string): string[] {
  return tenant
    .getSubscription(subscriptionId)!
    .contacts.flatMap((item) => {
      const properties = (item as { properties?: Record<string, unknown> }).properties ?? {};
      const text = typeof properties.emails === 'string' ? properties.emails : typeof properties.email === 'string' ? properties.email : '';
      return text.split(/[;,]/).map((address) => address.trim());
    })
    .filter((address) => address !== '' && findEmailAddressProblem(address, []) === null)
    .map((address) => address.toLowerCase());
}

describe('contact-watch fix over every noncompliant special case', () => {
  let dryRun: FixReport;
  let fixed: FixReport;
  const validBefore = new Map<string, string[]>();

  it('refuses a policy without remediation.emails before sending any request', async () => {
    azure.requests.clear();
    const run = await runCliInProcess(['fix'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('remediation.emails');
    expect(azure.requests.all()).toHaveLength(0);
  });

  it('exits 2 and writes nothing when its scope cannot be read: a management group under which nothing shows', async () => {
    azure.requests.clear();
    const run = await runCliInProcess(['fix', '--config', policyFile, '--management-group', 'no-such-group'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('"no-such-group"');
    expect(azure.requests.contactWrites()).toEqual([]);
  });

  it('--dry-run sends no write and shows the body each fixable subscription would get', async () => {
    for (const name of Object.keys(CASES) as CaseName[]) validBefore.set(name, validAddresses(CASES[name].id));
    azure.requests.clear();
    const run = await runCliInProcess(['fix', '--config', policyFile, '--dry-run', '--format', 'json'], env);
    expect(run.code, run.stderr).toBe(1); // not-fixable and failed ones are in scope
    expect(azure.requests.contactWrites()).toEqual([]);
    dryRun = parseReport(run.stdout);
    expect(dryRun.fix.dryRun).toBe(true);
    const expected = Object.fromEntries(
      (Object.keys(CASES) as CaseName[]).map((name) => {
        const result: string = CASES[name].result;
        // A dry run cannot know that a write will be refused: it would try.
        return [CASES[name].id, result === 'fixed' || name === 'cannotWrite' ? 'would-fix' : result];
      }),
    );
    expect(resultsById(dryRun)).toEqual(expected);
    for (const entry of dryRun.subscriptions) expect(entry.body !== undefined).toBe(entry.result === 'would-fix');
  });

  it('fixes every fixable one, sending exactly the bodies the dry run printed, and nothing to the rest', async () => {
    azure.faults.add({
      target: 'security-contacts',
      subscriptionId: CASES.writeThrottled.id,
      method: 'PUT',
      status: 429,
      retryAfterSeconds: 0,
    });
    azure.requests.clear();
    const run = await runCliInProcess(['fix', '--config', policyFile, '--format', 'json', '--store'], env);
    expect(run.code, run.stderr).toBe(1);
    fixed = parseReport(run.stdout);
    expect(resultsById(fixed)).toEqual(
      Object.fromEntries((Object.keys(CASES) as CaseName[]).map((name) => [CASES[name].id, CASES[name].result])),
    );

    const accepted = azure.requests.contactWrites({ accepted: true });
    const wouldFix = dryRun.subscriptions.filter((entry) => entry.result === 'would-fix' && entry.subscriptionId !== CASES.cannotWrite.id);
    expect(accepted.map((write) => [write.subscriptionId, write.name, write.body])).toEqual(
      expect.arrayContaining(wouldFix.map((entry) => [entry.subscriptionId, 'default', entry.body])),
    );
    expect(accepted).toHaveLength(wouldFix.length);
    const written = new Set(azure.requests.contactWrites().map((write) => write.subscriptionId));
    for (const name of NOT_WRITTEN) expect(written.has(CASES[name].id), name).toBe(false);
    // The throttled write was retried after its 429, and written once.
    expect(
      azure.requests
        .contactWrites()
        .filter((write) => write.subscriptionId === CASES.writeThrottled.id)
        .map((w) => w.status),
    ).toEqual([429, 201]);
  });

  it('says why each unwritten or failed subscription is so', () => {
    const reasons = Object.fromEntries(fixed.subscriptions.map((entry) => [entry.subscriptionId, entry.reason ?? '']));
    expect(reasons[CASES.cannotWrite.id]).toMatch(/403/);
    expect(reasons[CASES.cannotWrite.id]).toContain('Microsoft.Security/securityContacts/write');
    expect(reasons[CASES.notRegistered.id]).toMatch(/not registered/i);
    expect(reasons[CASES.badLegacyBeside.id]).toContain('default1');
    expect(reasons[CASES.unreadable.id]).toMatch(/could not be read/);
    expect(reasons[CASES.exempt.id]).toMatch(/exempt/);
  });

  it('keeps every valid address that was there, and adds the remediation address only where none remained', () => {
    for (const name of FIXABLE) {
      const after = validAddresses(CASES[name].id);
      for (const address of validBefore.get(name)!) expect(after, name).toContain(address);
      expect(after.includes(REMEDIATION_ADDRESS), name).toBe(validBefore.get(name)!.length === 0);
    }
    expect(validAddresses(CASES.noAttackPaths2023.id)).toEqual(['soc@fabrikam.io', 'noc@eu.fabrikam.io']);
    const payments = tenant.getSubscription(CASES.noAttackPaths2023.id)!.contacts[0] as { properties: Record<string, unknown> };
    expect(payments.properties.phone).toBe('+44 20 7946 0000');
  });

  it('leaves every fixable subscription compliant on the next scan', async () => {
    const run = await runCliInProcess(['scan', '--format', 'json'], env);
    expect(run.code, run.stderr).toBe(0);
    expectValidReport(JSON.parse(run.stdout));
    const statuses = Object.fromEntries(
      (JSON.parse(run.stdout) as { subscriptions: { subscriptionId: string; status: string }[] }).subscriptions.map((s) => [
        s.subscriptionId,
        s.status,
      ]),
    );
    for (const name of FIXABLE) expect(statuses[CASES[name].id], name).toBe('compliant');
    expect(statuses[CASES.badLegacyBeside.id]).toBe('noncompliant');
  });

  it("records each write in the subscription's history with who made it", async () => {
    const store = openStateStore(parseStorageSetting(azurite.connectionString, 'CONTACT_WATCH_STORAGE'));
    const history = await store.history(CASES.noContact.id);
    // Recorded before it was sent (`sent`), then its outcome: a crash between the two leaves the first.
    const writes = history.filter((change) => change.remediation);
    expect(writes.map((change) => [change.from, change.to, change.evaluatedBy, change.remediation!.outcome])).toEqual([
      [null, 'noncompliant', 'fix by alice', 'sent'],
      ['noncompliant', 'compliant', 'fix by alice', 'fixed'],
    ]);
    const sent = fixed.subscriptions.find((e) => e.subscriptionId === CASES.noContact.id)!.body;
    for (const write of writes) expect(write.remediation!.body).toEqual(sent);
    const refused = (await store.history(CASES.cannotWrite.id)).filter((change) => change.remediation);
    expect(refused.map((change) => change.remediation!.outcome)).toEqual(['sent', 'failed']);
    const record = await store.getSubscription(CASES.cannotWrite.id);
    expect(record?.lastRemediation?.reason).toContain('403');
  });

  it('sends no write when run again right after', async () => {
    azure.requests.clear();
    const run = await runCliInProcess(['fix', '--config', policyFile, '--format', 'json'], env);
    expect(azure.requests.contactWrites().filter((write) => write.subscriptionId !== CASES.cannotWrite.id)).toEqual([]);
    const again = resultsById(parseReport(run.stdout));
    for (const name of FIXABLE) expect(again[CASES[name].id], name).toBe('unchanged');
  });

  it('check honours an exemption where Table Storage is set, and cannot know of one where it is not', async () => {
    const withStore = await runCliInProcess(['check', CASES.exempt.id, '--format', 'json'], env);
    expect(withStore.code, withStore.stderr).toBe(0);
    expect(JSON.parse(withStore.stdout)).toMatchObject({ subscriptionId: CASES.exempt.id, status: 'exempt' });
    const { CONTACT_WATCH_STORAGE: _storage, ...withoutStorage } = env;
    const without = await runCliInProcess(['check', CASES.exempt.id, '--format', 'json'], withoutStorage);
    expect(without.code).toBe(1);
    expect(JSON.parse(without.stdout)).toMatchObject({ status: 'noncompliant' });
  });

  it('scan without --store shows an exemption where Table Storage is set', async () => {
    const run = await runCliInProcess(['scan', '--subscription', CASES.exempt.id, '--format', 'json'], env);
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as { subscriptions: { status: string }[] }).subscriptions.map((s) => s.status)).toEqual(['exempt']);
  });

  it('leaves a subscription the app is repairing right now to it, and writes nothing there', async () => {
    const busy = '71000000-0000-4000-8000-0000000000fe';
    tenant.addSubscription({ subscriptionId: busy, displayName: 'Being repaired', contacts: [] });
    const store = openStateStore(parseStorageSetting(azurite.connectionString, 'CONTACT_WATCH_STORAGE'));
    const claim = await openRepairClaims(store.connection).tryClaim(busy, 'app on event evt-busy', 60_000);
    expect(claim).toBeDefined();
    const held = await runCliInProcess(['fix', '--config', policyFile, '--subscription', busy, '--format', 'json'], env);
    expect(held.code).toBe(1);
    expect(parseReport(held.stdout).subscriptions[0]).toMatchObject({
      result: 'failed',
      reason: expect.stringContaining('repairing it right now') as string,
    });
    expect(azure.requests.contactWrites().filter((write) => write.subscriptionId === busy)).toEqual([]);

    await claim!.release();
    const free = await runCliInProcess(['fix', '--config', policyFile, '--subscription', busy, '--format', 'json'], env);
    expect(free.code, free.stderr).toBe(0);
    expect(parseReport(free.stdout).subscriptions[0]).toMatchObject({ result: 'fixed' });
  });

  it('exits 0 when every subscription in scope is fixed or unchanged, and prints the bodies sent in the table', async () => {
    const fresh = '71000000-0000-4000-8000-0000000000ff';
    tenant.addSubscription({ subscriptionId: fresh, displayName: 'New <b>one</b>', contacts: [] });
    const run = await runCliInProcess(['fix', '--config', policyFile, '--subscription', fresh, '--subscription', CASES.compliant.id], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`${fresh}\\s+New <b>one</b>\\s+fixed\\s+added address ${REMEDIATION_ADDRESS}`));
    expect(run.stdout).toContain(
      `PUT /subscriptions/${fresh}/providers/Microsoft.Security/securityContacts/default?api-version=2023-12-01-preview`,
    );
    const sent = azure.requests.contactWrites({ accepted: true }).find((write) => write.subscriptionId === fresh);
    expect(run.stdout).toContain(JSON.stringify(sent!.body));
    expect(run.stdout).toContain('fix: 2 subscription(s): 1 fixed, 1 unchanged');
  });
});
