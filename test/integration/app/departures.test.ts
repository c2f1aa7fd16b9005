/**
 * Whether a subscription left the tenant depends on whether the subscription listing was read in
 * full, not on whether every contact could be read: one unreadable subscription must not keep a
 * departed one "noncompliant" and reminded about forever. The timer's handler end to end against
 * the local Azure test server (with its ACS Email service) and Azurite.
 */
import type { Timer } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openScanLease } from '../../../src/adapters/table-storage/scan-lease.js';
import { createScanTimerHandler } from '../../../src/app/handlers/scan-timer.js';
import { FUNCTION_NAMES } from '../../../src/functions/function-names.js';
import { SimulatedTenant } from '../../azure-server/index.js';
import { invocationContexts, startAppTestBed, type AppTestBed } from '../../support/app.js';
import { compliantContact2023 } from '../../support/fixtures.js';
import { manualClock } from '../../contract/support.js';

const DEPARTS = 'a1111111-1111-4111-8111-111111111111';
const UNREADABLE = 'b2222222-2222-4222-8222-222222222222';
const STAYS_NONCOMPLIANT = 'c3333333-3333-4333-8333-333333333333';
const DAY = 86_400_000;

const timer: Timer = {
  isPastDue: false,
  schedule: { adjustForDST: true },
  scheduleStatus: { last: '2026-11-22T05:00:00.000Z', next: '2026-11-22T05:30:00.000Z', lastUpdated: '2026-11-22T05:00:00.000Z' },
};

let tenant: SimulatedTenant;
let bed: AppTestBed;
const clock = manualClock('2026-11-22T05:00:00.000Z');
const invocation = invocationContexts(FUNCTION_NAMES.scanTimer, 'departures');

beforeAll(async () => {
  tenant = new SimulatedTenant();
  tenant.addSubscription({ subscriptionId: DEPARTS, displayName: 'Old project', contacts: [] });
  // Not indexed by Resource Graph, so every scan confirms it with the securityContacts API.
  tenant.addSubscription({ subscriptionId: UNREADABLE, displayName: 'Locked down', contacts: [compliantContact2023()], indexed: false });
  tenant.addSubscription({ subscriptionId: STAYS_NONCOMPLIANT, displayName: 'Sandbox', contacts: [] });
  bed = await startAppTestBed(tenant, { tablePrefix: 'departures', clock: clock.now });
  bed.deps.lease = openScanLease(bed.deps.store.connection);
});

afterAll(async () => {
  await bed?.close();
});

describe('a subscription that leaves the tenant', () => {
  it('is marked gone by the next scan even though another subscription could not be read, and is reminded about no more', async () => {
    const first = invocation();
    await createScanTimerHandler(bed.deps)(timer, first);
    expect((await bed.deps.store.getSubscription(DEPARTS))?.status).toBe('noncompliant');
    expect(bed.mail.messages).toHaveLength(1);
    // Housekeeping ran after the scan, with nothing old enough to delete yet.
    expect(bed.deps.lines.filter((line) => line.invocationId === first.invocationId && line.event === 'state.pruned')).toEqual([
      expect.objectContaining({ scanRuns: 0, historyRows: 0, goneSubscriptions: 0, complete: true }),
    ]);

    // A week and a day later: the subscription has left the tenant, and another one answers 403.
    tenant.removeSubscription(DEPARTS);
    bed.azure.faults.add({ target: 'security-contacts', subscriptionId: UNREADABLE, status: 403, times: Infinity });
    clock.advance(8 * DAY);
    await createScanTimerHandler(bed.deps)(timer, invocation());

    const [latest] = await bed.deps.store.listScanRuns(1);
    expect(latest).toMatchObject({ outcome: 'partial', complete: true });
    expect((await bed.deps.store.getSubscription(DEPARTS))?.status).toBe('gone');
    expect((await bed.deps.store.getSubscription(UNREADABLE))?.status).toBe('error');
    expect((await bed.deps.store.history(DEPARTS)).map((change) => change.to)).toEqual(['noncompliant', 'gone']);

    // The reminder digest is about the subscriptions still there, not the one that left.
    expect(bed.mail.messages).toHaveLength(2);
    const digest = bed.mail.messages[1]!;
    expect(digest.plainText).toContain(STAYS_NONCOMPLIANT);
    expect(digest.plainText).toContain(UNREADABLE);
    expect(digest.plainText).not.toContain(DEPARTS);
  });
});
