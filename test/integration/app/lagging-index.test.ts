/**
 * Resource Graph lags behind the service: a timer scan must not undo what an event read fresh. A
 * contact deleted minutes ago that the index still holds stays noncompliant (the scan confirms it
 * through the securityContacts API), and a subscription just vended that the index does not list
 * yet is judged, not marked gone; only one ARM does not find has left, and one ARM cannot answer
 * for is `error`. Each is alerted on once. The timer's and the Event Grid handlers end to end
 * against the local Azure test server (with its ACS Email service) and Azurite.
 */
import type { Timer } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openScanLease } from '../../../src/adapters/table-storage/scan-lease.js';
import { createContactEventHandler } from '../../../src/app/handlers/contact-events.js';
import { createScanTimerHandler } from '../../../src/app/handlers/scan-timer.js';
import { FUNCTION_NAMES } from '../../../src/functions/function-names.js';
import { SimulatedTenant } from '../../azure-server/index.js';
import { invocationContexts, startAppTestBed, type AppTestBed } from '../../support/app.js';
import { securityContactsEvent } from '../../support/events.js';
import { compliantContact2023 } from '../../support/fixtures.js';
import { manualClock } from '../../contract/support.js';

const DELETED_CONTACT = 'd1000000-0000-4000-8000-000000000001';
const VENDED = 'd2000000-0000-4000-8000-000000000002';
const ARM_FLAKY = 'd3000000-0000-4000-8000-000000000003';
const STEADY = 'd4000000-0000-4000-8000-000000000004';
const ACCESS_REMOVED = 'd5000000-0000-4000-8000-000000000005';

const timer: Timer = { isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };
const clock = manualClock('2026-12-01T08:00:00.000Z');
const scan = invocationContexts(FUNCTION_NAMES.scanTimer, 'lagging-scan');
const event = invocationContexts(FUNCTION_NAMES.contactEvents, 'lagging-event');
let tenant: SimulatedTenant;
let bed: AppTestBed;

beforeAll(async () => {
  tenant = new SimulatedTenant();
  for (const [id, name] of [
    [DELETED_CONTACT, 'Payments'],
    [ARM_FLAKY, 'Ledger'],
    [STEADY, 'Steady'],
    [ACCESS_REMOVED, 'Research'],
  ] as const) {
    tenant.addSubscription({ subscriptionId: id, displayName: name, contacts: [compliantContact2023()] });
  }
  bed = await startAppTestBed(tenant, { tablePrefix: 'lagging', clock: clock.now });
  bed.deps.lease = openScanLease(bed.deps.store.connection);
  await createScanTimerHandler(bed.deps)(timer, scan());
});

afterAll(async () => {
  await bed?.close();
});

/** Messages the mail service accepted that name the subscription. */
function messagesNaming(subscriptionId: string): number {
  return bed.mail.messages.filter((message) => (message.plainText ?? '').includes(subscriptionId)).length;
}

describe('a timer scan after an event, while Resource Graph lags', () => {
  it('keeps a contact deleted minutes ago noncompliant: the index still holding it is confirmed through the API', async () => {
    tenant.deleteContacts(DELETED_CONTACT, { indexed: false });
    clock.advance(60_000);
    await createContactEventHandler(bed.deps)(
      securityContactsEvent('event-grid-schema', DELETED_CONTACT, 'delete', 'evt-delete', clock.now()),
      event(),
    );
    expect(await bed.deps.store.getSubscription(DELETED_CONTACT)).toMatchObject({
      status: 'noncompliant',
      lastEvaluatedBy: 'event:evt-delete',
    });
    expect(messagesNaming(DELETED_CONTACT)).toBe(1);

    clock.advance(10 * 60_000);
    bed.azure.requests.clear();
    await createScanTimerHandler(bed.deps)(timer, scan());
    expect(await bed.deps.store.getSubscription(DELETED_CONTACT)).toMatchObject({
      status: 'noncompliant',
      source: 'security-contacts-api',
    });
    expect(bed.azure.requests.count('security-contacts')).toBe(1); // that one, the others stay settled by the index
    expect(messagesNaming(DELETED_CONTACT)).toBe(1);
  });

  it('judges a subscription just vended that the index does not list yet, instead of marking it gone', async () => {
    tenant.addSubscription({ subscriptionId: VENDED, displayName: 'Vended: data', contacts: [], quirks: { notInResourceGraph: true } });
    await createContactEventHandler(bed.deps)(
      {
        id: 'evt-vended',
        subject: `/subscriptions/${VENDED}`,
        eventType: 'ContactWatch.SubscriptionCreated',
        eventTime: clock.now().toISOString(),
        data: { subscriptionId: VENDED },
        dataVersion: '1.0',
        metadataVersion: '1',
      },
      event(),
    );
    expect(messagesNaming(VENDED)).toBe(1);

    clock.advance(10 * 60_000);
    await createScanTimerHandler(bed.deps)(timer, scan());
    expect(await bed.deps.store.getSubscription(VENDED)).toMatchObject({ status: 'noncompliant', displayName: 'Vended: data' });
    expect((await bed.deps.store.history(VENDED)).map((change) => change.to)).toEqual(['noncompliant']);

    // Once indexed, nothing changes and nothing more is sent.
    tenant.setQuirks(VENDED, { notInResourceGraph: undefined });
    clock.advance(10 * 60_000);
    await createScanTimerHandler(bed.deps)(timer, scan());
    expect((await bed.deps.store.history(VENDED)).map((change) => change.to)).toEqual(['noncompliant']);
    expect(messagesNaming(VENDED)).toBe(1);
  });

  it('records a subscription the index stops listing and ARM cannot answer for, or forbids, as error: never gone on a guess', async () => {
    tenant.setQuirks(ARM_FLAKY, { notInResourceGraph: true });
    tenant.setQuirks(ACCESS_REMOVED, { notInResourceGraph: true });
    bed.azure.faults.add({ target: 'subscriptions', subscriptionId: ARM_FLAKY, status: 503, times: Infinity });
    bed.azure.faults.add({ target: 'subscriptions', subscriptionId: ACCESS_REMOVED, status: 403, times: Infinity });
    try {
      clock.advance(10 * 60_000);
      await createScanTimerHandler(bed.deps)(timer, scan());
    } finally {
      bed.azure.faults.clear();
    }
    const stored = await bed.deps.store.getSubscription(ARM_FLAKY);
    expect(stored).toMatchObject({ status: 'error', displayName: 'Ledger' });
    expect(stored!.findings[0]!.message).toMatch(
      /^Resource Graph no longer lists this subscription, and ARM could not say whether it still exists/,
    );
    expect(await bed.deps.store.getSubscription(ACCESS_REMOVED)).toMatchObject({ status: 'error', displayName: 'Research' });
    expect((await bed.deps.store.getSubscription(STEADY))?.status).toBe('compliant');
  });
});
