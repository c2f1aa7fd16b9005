/**
 * runStoredScan over fake ports and the in-memory state store: the run is recorded, the record is
 * checked against Resource Graph's lagging view, gone is decided only from a complete listing of
 * the whole tenant, and the report shows active exemptions.
 */
import { describe, expect, it } from 'vitest';
import { InMemoryTableService, openInMemoryStateStore } from '../../../src/adapters/in-memory/tables.js';
import type { StateStore } from '../../../src/scan/ports.js';
import { DEFAULT_POLICY } from '../../../src/core/policy.js';
import { ScanFailedError } from '../../../src/scan/scan.js';
import { runStoredScan } from '../../../src/scan/stored-scan.js';
import type { ScanScope } from '../../../src/scan/ports.js';
import { COMPLIANT, FakeTenant, NONCOMPLIANT } from './fake-ports.js';

const service = new InMemoryTableService();
let stores = 0;

/** A store of its own, on a clock the test sets. */
function freshStore(): { store: StateStore; clock: { now: () => Date; set(iso: string): void } } {
  let now = Date.parse('2026-03-01T10:00:00.000Z');
  const clock = { now: () => new Date(now), set: (iso: string) => (now = Date.parse(iso)) };
  stores += 1;
  return { store: openInMemoryStateStore(service, { tablePrefix: `storedscan${stores}`, clock: clock.now }), clock };
}

function storedScan(tenant: FakeTenant, store: StateStore, clock: () => Date, scanId: string, scope: ScanScope = {}) {
  return runStoredScan(scope, {
    store,
    trigger: 'timer',
    scanId,
    inventory: tenant.inventory,
    contacts: tenant.contacts,
    subscriptions: tenant.arm,
    policy: DEFAULT_POLICY,
    clock,
  });
}

describe('a stored scan', () => {
  it('records its run and the subscriptions it judged, and reports what it stored', async () => {
    const { store, clock } = freshStore();
    const tenant = new FakeTenant();
    const good = tenant.add(1, { indexed: [COMPLIANT()] });
    const bad = tenant.add(2, { indexed: [NONCOMPLIANT()] });
    const unreadable = tenant.add(3, { api: { kind: 'unreadable', message: '403 AuthorizationFailed', status: 403 } });

    const result = await storedScan(tenant, store, clock.now, 'scan-1');
    expect(result.report.scan).toMatchObject({ id: 'scan-1', status: 'partial' });
    expect(result.recorded.run).toMatchObject({
      scanId: 'scan-1',
      trigger: 'timer',
      outcome: 'partial',
      // An error verdict is a reading: the whole tenant was listed and every subscription read.
      complete: true,
      counts: { subscriptions: 3, compliant: 1, noncompliant: 1, error: 1 },
      resourceGraphRequests: 2,
      securityContactsCalls: 2,
    });
    expect(result.recorded.changes.map((c) => [c.subscriptionId, c.from, c.to])).toEqual([
      [good, null, 'compliant'],
      [bad, null, 'noncompliant'],
      [unreadable, null, 'error'],
    ]);
    expect((await store.loadSubscriptions()).map((r) => [r.subscriptionId, r.status])).toEqual([
      [good, 'compliant'],
      [bad, 'noncompliant'],
      [unreadable, 'error'],
    ]);
    expect(result.pruned).toMatchObject({ complete: true });
    expect((await store.listScanRuns()).map((run) => [run.scanId, run.outcome])).toEqual([['scan-1', 'partial']]);
  });

  it('confirms through the API what the record holds as noncompliant and Resource Graph shows compliant', async () => {
    const { store, clock } = freshStore();
    const tenant = new FakeTenant();
    const id = tenant.add(1, { indexed: [NONCOMPLIANT()] });
    await storedScan(tenant, store, clock.now, 'scan-1');
    // The contact is fixed and Resource Graph shows it; the API still has the old one (or the other way round, the API decides).
    const lagging = new FakeTenant();
    lagging.add(1, { indexed: [COMPLIANT()], api: { kind: 'listed', contacts: [NONCOMPLIANT()] } });
    clock.set('2026-03-01T10:30:00.000Z');
    const result = await storedScan(lagging, store, clock.now, 'scan-2');
    expect(lagging.contactReads).toEqual([id]);
    expect(result.report.subscriptions.map((v) => [v.status, v.source])).toEqual([['noncompliant', 'security-contacts-api']]);
    expect((await store.getSubscription(id))?.status).toBe('noncompliant');
  });

  it('marks gone a stored subscription the whole tenant no longer lists and ARM does not know, and only that one', async () => {
    const { store, clock } = freshStore();
    const first = new FakeTenant();
    const stays = first.add(1, { indexed: [COMPLIANT()] });
    const leaves = first.add(2, { indexed: [NONCOMPLIANT()] });
    const hidden = first.add(3, { indexed: [NONCOMPLIANT()] });
    await storedScan(first, store, clock.now, 'scan-1');

    const later = new FakeTenant();
    later.add(1, { indexed: [COMPLIANT()] });
    later.armSays(hidden, { kind: 'unreadable', message: '403 AuthorizationFailed', status: 403 });
    clock.set('2026-03-01T10:30:00.000Z');
    const result = await storedScan(later, store, clock.now, 'scan-2');
    expect(later.lookedUp.sort()).toEqual([leaves, hidden].sort());
    expect(result.recorded.changes.map((c) => [c.subscriptionId, c.from, c.to])).toEqual([
      [leaves, 'noncompliant', 'gone'],
      [hidden, 'noncompliant', 'error'],
    ]);
    expect((await store.loadSubscriptions()).map((r) => [r.subscriptionId, r.status])).toEqual([
      [stays, 'compliant'],
      [leaves, 'gone'],
      [hidden, 'error'],
    ]);
  });

  it('marks nothing gone after a scan of part of the tenant', async () => {
    const { store, clock } = freshStore();
    const tenant = new FakeTenant();
    const named = tenant.add(1, { indexed: [COMPLIANT()] });
    const other = tenant.add(2, { indexed: [NONCOMPLIANT()] });
    await storedScan(tenant, store, clock.now, 'scan-1');

    const narrowed = new FakeTenant();
    narrowed.add(1, { indexed: [COMPLIANT()] });
    clock.set('2026-03-01T10:30:00.000Z');
    const result = await storedScan(narrowed, store, clock.now, 'scan-2', { subscriptionIds: [named] });
    expect(result.recorded.run).toMatchObject({ outcome: 'succeeded', complete: false });
    expect(narrowed.lookedUp).toEqual([]);
    expect((await store.getSubscription(other))?.status).toBe('noncompliant');
  });

  it('records a scan that could not run as failed and leaves every record as it was', async () => {
    const { store, clock } = freshStore();
    const tenant = new FakeTenant();
    const id = tenant.add(1, { indexed: [NONCOMPLIANT()] });
    await storedScan(tenant, store, clock.now, 'scan-1');
    tenant.inventoryError = new Error('403 AuthorizationFailed on the tenant root');
    clock.set('2026-03-01T10:30:00.000Z');
    await expect(storedScan(tenant, store, clock.now, 'scan-2')).rejects.toBeInstanceOf(ScanFailedError);
    const [latest] = await store.listScanRuns(1);
    expect(latest).toMatchObject({
      scanId: 'scan-2',
      outcome: 'failed',
      error: 'Resource Graph could not be read: 403 AuthorizationFailed on the tenant root',
    });
    expect(await store.getSubscription(id)).toMatchObject({ status: 'noncompliant', lastEvaluatedBy: 'scan-1' });
  });

  it('shows an active exemption in the report and its summary', async () => {
    const { store, clock } = freshStore();
    const tenant = new FakeTenant();
    const exempted = tenant.add(1, { indexed: [NONCOMPLIANT()] });
    const judged = tenant.add(2, { indexed: [NONCOMPLIANT()] });
    await store.putExemption({
      subscriptionId: exempted,
      reason: 'sandbox, torn down in April',
      owner: 'jane@fabrikam.com',
      expiresOn: '2026-04-30',
      createdBy: 'jane@fabrikam.com',
    });
    const result = await storedScan(tenant, store, clock.now, 'scan-1');
    expect(result.report.subscriptions.map((v) => [v.subscriptionId, v.status])).toEqual([
      [exempted, 'exempt'],
      [judged, 'noncompliant'],
    ]);
    expect(result.report.summary).toMatchObject({ subscriptions: 2, exempt: 1, noncompliant: 1 });
    expect(result.recorded.run.counts).toMatchObject({ exempt: 1, noncompliant: 1 });
    expect((await store.getSubscription(exempted))?.status).toBe('exempt');
  });

  it('still succeeds when the housekeeping after it fails, and says why', async () => {
    const { store, clock } = freshStore();
    const tenant = new FakeTenant();
    tenant.add(1, { indexed: [COMPLIANT()] });
    const busy: StateStore = Object.assign(Object.create(store) as StateStore, {
      pruneExpired: async () => {
        throw new Error('the table service is busy');
      },
    });
    const result = await storedScan(tenant, busy, clock.now, 'scan-1');
    expect(result.recorded.run.outcome).toBe('succeeded');
    expect(result.pruned).toEqual({ error: 'the table service is busy' });
  });
});
