/**
 * runScan over fake ports: Resource Graph settles what it shows compliant, the securityContacts
 * API confirms everything else, and a subscription the scan could not read is `error`, never
 * compliant.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../../src/core/policy.js';
import type { RecordedSubscription } from '../../../src/core/state-model.js';
import { ManagementGroupsWithoutSubscriptionsError, runScan, ScanFailedError, type ScanProgress } from '../../../src/scan/scan.js';
import { COMPLIANT, FakeTenant, nextTurn, NONCOMPLIANT, tickingClock } from './fake-ports.js';

function scan(
  tenant: FakeTenant,
  options: { scope?: Parameters<typeof runScan>[0]; recorded?: Map<string, RecordedSubscription>; concurrency?: number } = {},
) {
  const progress: ScanProgress[] = [];
  const result = runScan(options.scope ?? {}, {
    inventory: tenant.inventory,
    contacts: tenant.contacts,
    subscriptions: tenant.arm,
    policy: DEFAULT_POLICY,
    clock: tickingClock('2026-03-01T10:00:00.000Z'),
    scanId: 'scan-1',
    onProgress: (p) => progress.push(p),
    ...(options.recorded && { recorded: options.recorded }),
    ...(options.concurrency && { concurrency: options.concurrency }),
  });
  return { result, progress };
}

const stored = (status: RecordedSubscription['status'], displayName = 'As recorded', state = 'Enabled'): RecordedSubscription => ({
  status,
  displayName,
  state,
});

describe('a complete scan', () => {
  it('settles what Resource Graph shows compliant and confirms the rest through the securityContacts API', async () => {
    const tenant = new FakeTenant();
    const settled = tenant.add(1, { indexed: [COMPLIANT()] });
    const doubtful = tenant.add(2, { indexed: [NONCOMPLIANT()] });
    const notIndexed = tenant.add(3, { api: { kind: 'listed', contacts: [COMPLIANT()] } });
    const disabled = tenant.add(4, { state: 'Disabled', indexed: [NONCOMPLIANT()] });

    const { result, progress } = scan(tenant);
    const { report, stats } = await result;

    expect(report.scan).toEqual({
      id: 'scan-1',
      startedAt: '2026-03-01T10:00:00.000Z',
      finishedAt: '2026-03-01T10:00:01.000Z',
      status: 'succeeded',
    });
    expect(report.subscriptions.map((v) => [v.subscriptionId, v.status, v.source])).toEqual([
      [settled, 'compliant', 'resource-graph'],
      [doubtful, 'noncompliant', 'security-contacts-api'],
      [notIndexed, 'compliant', 'security-contacts-api'],
      [disabled, 'skipped', 'resource-graph'],
    ]);
    expect(report.summary).toEqual({ subscriptions: 4, compliant: 2, noncompliant: 1, exempt: 0, error: 0, skipped: 1 });
    // Only the doubtful ones were read from the API; skipped and settled ones cost nothing.
    expect(tenant.contactReads.sort()).toEqual([doubtful, notIndexed].sort());
    expect(stats).toEqual({ resourceGraphRequests: 2, securityContactsCalls: 2, durationMs: 1_000 });
    // Each phase once, in order; confirmations may be counted while Resource Graph is still being read.
    expect([...new Set(progress.map((p) => p.phase))]).toEqual(['inventory', 'confirming', 'done']);
    const confirmedCounts = progress.map((p) => p.confirmed);
    expect(confirmedCounts).toEqual([...confirmedCounts].sort((a, b) => a - b));
    expect(progress.at(-1)).toEqual({ phase: 'done', subscriptions: 4, toConfirm: 2, confirmed: 2 });
    // Only a contact read from the API carries its merged fix.
    expect(report.subscriptions.find((v) => v.subscriptionId === doubtful)?.fix).toMatchObject({ kind: 'put' });
    expect(report.subscriptions.find((v) => v.subscriptionId === settled)).not.toHaveProperty('fix');
  });

  it('believes the API over a stale Resource Graph row, either way', async () => {
    const tenant = new FakeTenant();
    const fixedSince = tenant.add(1, { indexed: [NONCOMPLIANT()], api: { kind: 'listed', contacts: [COMPLIANT()] } });
    const deletedSince = tenant.add(2, { indexed: [COMPLIANT()], api: { kind: 'listed', contacts: [] } });
    // A subscription recorded as noncompliant that Resource Graph shows compliant is confirmed, not settled.
    const { report } = await scan(tenant, { recorded: new Map([[deletedSince, stored('noncompliant')]]) }).result;
    expect(report.subscriptions.map((v) => [v.subscriptionId, v.status, v.source])).toEqual([
      [fixedSince, 'compliant', 'security-contacts-api'],
      [deletedSince, 'noncompliant', 'security-contacts-api'],
    ]);
    expect(report.subscriptions[1]?.findings.find((f) => f.ruleId === 'contact-exists')?.result).toBe('fail');
  });

  it('judges a subscription whose Microsoft.Security provider is not registered noncompliant, with nothing to fix by a PUT', async () => {
    const tenant = new FakeTenant();
    const id = tenant.add(1, { api: { kind: 'provider-not-registered', message: '409 MissingSubscriptionRegistration' } });
    const { report } = await scan(tenant).result;
    const [verdict] = report.subscriptions;
    expect(verdict).toMatchObject({
      subscriptionId: id,
      status: 'noncompliant',
      source: 'security-contacts-api',
      fix: { kind: 'not-fixable' },
    });
    expect(verdict?.findings.find((f) => f.ruleId === 'contact-exists')?.result).toBe('fail');
    expect(report.scan.status).toBe('succeeded');
  });

  it('reads the API with at most `concurrency` requests in flight', async () => {
    const tenant = new FakeTenant();
    for (let i = 0; i < 20; i += 1) tenant.add(i, { indexed: [NONCOMPLIANT()] });
    // No read answers until every subscription is known to be doubtful, so that they pile up.
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    tenant.contactsGate = () => answered;
    const { result } = scan(tenant, { concurrency: 3 });
    while (tenant.inventory.stats.requests === 0 || tenant.contactReads.length < 3) await nextTurn();
    for (let turn = 0; turn < 50; turn += 1) await nextTurn();
    expect(tenant.contactReads).toHaveLength(3);
    answer();
    const { report } = await result;
    expect(report.summary.noncompliant).toBe(20);
    expect(tenant.contactReads).toHaveLength(20);
    expect(tenant.maxInFlight).toBe(3);
  });
});

describe('a partial scan', () => {
  it('records a subscription it could not read as error (transient or not), never compliant', async () => {
    const tenant = new FakeTenant();
    const forbidden = tenant.add(1, {
      indexed: [NONCOMPLIANT()],
      api: { kind: 'unreadable', message: '403 AuthorizationFailed', status: 403 },
    });
    const throttled = tenant.add(2, { api: { kind: 'unreadable', message: '429 after 4 retries', status: 429, transient: true } });
    const fine = tenant.add(3, { indexed: [COMPLIANT()] });
    const { report } = await scan(tenant).result;
    expect(report.scan.status).toBe('partial');
    expect(report.subscriptions.map((v) => [v.subscriptionId, v.status])).toEqual([
      [forbidden, 'error'],
      [throttled, 'error'],
      [fine, 'compliant'],
    ]);
    expect(report.subscriptions[0]?.findings.every((f) => f.result === 'error' && f.message.includes('403 AuthorizationFailed'))).toBe(
      true,
    );
    expect(report.subscriptions[1]?.findings.every((f) => f.message.includes('429 after 4 retries'))).toBe(true);
    expect(report.summary).toMatchObject({ subscriptions: 3, error: 2, compliant: 1 });
  });
});

describe('a failed scan', () => {
  it('throws ScanFailedError when Resource Graph cannot be read, and reads nothing else', async () => {
    const tenant = new FakeTenant();
    tenant.add(1, { indexed: [NONCOMPLIANT()] });
    tenant.inventoryError = new Error('503 ServiceUnavailable after 4 retries');
    const failed = scan(tenant).result;
    await expect(failed).rejects.toBeInstanceOf(ScanFailedError);
    await expect(failed).rejects.toThrow('Resource Graph could not be read: 503 ServiceUnavailable after 4 retries');
    expect(tenant.contactReads).toEqual([]);
  });

  it('judges nothing when a management group in scope holds no subscription, naming it', async () => {
    const tenant = new FakeTenant();
    tenant.add(1, { indexed: [COMPLIANT()], groups: ['platform'] });
    const failed = scan(tenant, { scope: { managementGroupIds: ['platform', 'Platform Landing Zones'] } }).result;
    await expect(failed).rejects.toBeInstanceOf(ManagementGroupsWithoutSubscriptionsError);
    await expect(failed).rejects.toMatchObject({ managementGroupIds: ['Platform Landing Zones'] });
    expect(tenant.contactReads).toEqual([]);
  });
});

describe('subscriptions Resource Graph does not list', () => {
  it('a named one is looked up in ARM and judged through the API; one ARM cannot read is still judged', async () => {
    const tenant = new FakeTenant();
    const fresh = tenant.add(1, { listed: false, displayName: 'Brand new', api: { kind: 'listed', contacts: [COMPLIANT()] } });
    const invisible = '9f000000-0000-4000-8000-000000000009';
    tenant.armSays(invisible, { kind: 'unreadable', message: '403 AuthorizationFailed', status: 403 });
    const { report } = await scan(tenant, { scope: { subscriptionIds: [fresh, invisible] } }).result;
    expect(report.subscriptions.map((v) => [v.subscriptionId, v.displayName, v.state, v.status])).toEqual([
      [fresh, 'Brand new', 'Enabled', 'compliant'],
      [invisible, '', 'Unknown', 'noncompliant'],
    ]);
    expect(tenant.lookedUp).toEqual([fresh, invisible]);
  });

  it('a stored one is judged when ARM finds it, left for gone when ARM does not know it, and error when ARM cannot say', async () => {
    const tenant = new FakeTenant();
    const listed = tenant.add(1, { indexed: [COMPLIANT()] });
    const notIndexedYet = tenant.add(2, { listed: false, api: { kind: 'listed', contacts: [NONCOMPLIANT()] } });
    const departed = '3f000000-0000-4000-8000-000000000003';
    const hidden = '4f000000-0000-4000-8000-000000000004';
    const goneBefore = '5f000000-0000-4000-8000-000000000005';
    tenant.armSays(hidden, { kind: 'unreadable', message: '403 AuthorizationFailed', status: 403 });
    const recorded = new Map([
      [listed, stored('compliant')],
      [notIndexedYet, stored('compliant')],
      [departed, stored('noncompliant')],
      [hidden, stored('noncompliant', 'Payments prod', 'Warned')],
      [goneBefore, stored('gone')],
    ]);
    const { report } = await scan(tenant, { recorded }).result;
    expect(report.subscriptions.map((v) => [v.subscriptionId, v.status])).toEqual([
      [listed, 'compliant'],
      [notIndexedYet, 'noncompliant'],
      [hidden, 'error'],
    ]);
    // What the record last knew of it, and why it is an error.
    expect(report.subscriptions[2]).toMatchObject({ displayName: 'Payments prod', state: 'Warned', source: 'security-contacts-api' });
    expect(report.subscriptions[2]?.findings[0]?.message).toContain(
      'Resource Graph no longer lists this subscription, and ARM could not say whether it still exists: 403 AuthorizationFailed',
    );
    expect(tenant.lookedUp.sort()).toEqual([notIndexedYet, departed, hidden].sort());
    expect(report.scan.status).toBe('partial');
  });

  it('a stored one is not looked for by a scan of part of the tenant', async () => {
    const tenant = new FakeTenant();
    const named = tenant.add(1, { indexed: [COMPLIANT()] });
    const other = '3f000000-0000-4000-8000-000000000003';
    const { report } = await scan(tenant, { scope: { subscriptionIds: [named] }, recorded: new Map([[other, stored('noncompliant')]]) })
      .result;
    expect(report.subscriptions.map((v) => v.subscriptionId)).toEqual([named]);
    expect(tenant.lookedUp).toEqual([]);
  });
});
