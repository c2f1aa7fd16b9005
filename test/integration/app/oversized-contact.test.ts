/**
 * One subscription's contact cannot blind the monitor: a contact holding 400 KB of addresses is
 * scanned, recorded and alerted on like any other, later runs go on working, and every other
 * subscription's result is what it would have been without it. The timer's and the Event Grid
 * handlers end to end against the local Azure test server (with its ACS Email service) and Azurite.
 */
import type { Timer } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openScanLease } from '../../../src/adapters/table-storage/scan-lease.js';
import { TableOutbox } from '../../../src/adapters/table-storage/outbox.js';
import { createContactEventHandler } from '../../../src/app/handlers/contact-events.js';
import { createScanTimerHandler } from '../../../src/app/handlers/scan-timer.js';
import { FUNCTION_NAMES } from '../../../src/functions/function-names.js';
import { SimulatedTenant } from '../../azure-server/index.js';
import { invocationContexts, startAppTestBed, type AppTestBed } from '../../support/app.js';
import { securityContactsEvent } from '../../support/events.js';
import { compliantContact2023 } from '../../support/fixtures.js';
import { manualClock } from '../../contract/support.js';

const HUGE = 'f0000000-0000-4000-8000-00000000000f';
const COMPLIANT = ['10000000-0000-4000-8000-000000000001', '20000000-0000-4000-8000-000000000002', '30000000-0000-4000-8000-000000000003'];
const NO_CONTACT = 'f1000000-0000-4000-8000-000000000001';
const DAY = 86_400_000;

/** About 400 KB of valid addresses, and no attack-path notifications: noncompliant for that alone. */
function hugeContact(): unknown {
  const emails = Array.from({ length: 16_000 }, (_, i) => `mailbox-${String(i).padStart(5, '0')}@fabrikam.io`).join(';');
  const contact = compliantContact2023(emails);
  contact.properties.notificationsSources = contact.properties.notificationsSources.filter(
    (source: { sourceType: string }) => source.sourceType !== 'AttackPath',
  );
  return contact;
}

const timer: Timer = { isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };
const clock = manualClock('2026-11-30T08:00:00.000Z');
let bed: AppTestBed;

beforeAll(async () => {
  const tenant = new SimulatedTenant();
  const huge = hugeContact();
  expect(JSON.stringify(huge).length).toBeGreaterThan(400_000);
  tenant.addSubscription({ subscriptionId: HUGE, displayName: 'Huge contact', contacts: [huge] });
  for (const id of COMPLIANT)
    tenant.addSubscription({ subscriptionId: id, displayName: `Compliant ${id.slice(0, 1)}`, contacts: [compliantContact2023()] });
  tenant.addSubscription({ subscriptionId: NO_CONTACT, displayName: 'No contact', contacts: [] });
  // Table Storage's own limits decide what is stored here: Azurite, not the in-memory service.
  bed = await startAppTestBed(tenant, { tablePrefix: 'oversized', clock: clock.now, tables: 'azurite' });
  bed.deps.lease = openScanLease(bed.deps.store.connection);
});

afterAll(async () => {
  await bed?.close();
});

const scan = invocationContexts(FUNCTION_NAMES.scanTimer, 'oversized-scan');

describe('a contact with 400 KB of addresses', () => {
  it('is scanned, recorded and alerted on like any other, and the others are unaffected', async () => {
    const context = scan();
    await createScanTimerHandler(bed.deps)(timer, context);

    const finished = bed.deps.lines.find((line) => line.invocationId === context.invocationId && line.event === 'scan.finished');
    expect(finished).toMatchObject({ status: 'succeeded', subscriptions: 5, compliant: 3, noncompliant: 2, error: 0, refusedWrites: 0 });
    const huge = (await bed.deps.store.getSubscription(HUGE))!;
    expect(huge).toMatchObject({ status: 'noncompliant', failedRules: ['attack-path-notifications'] });
    expect(huge.omitted).toMatch(/of 16,000 e-mail addresses/);
    for (const id of COMPLIANT) expect((await bed.deps.store.getSubscription(id))?.status).toBe('compliant');
    expect((await bed.deps.store.getSubscription(NO_CONTACT))?.status).toBe('noncompliant');

    // One digest about both, within what mail clients show whole.
    expect(bed.mail.messages).toHaveLength(1);
    const [digest] = bed.mail.messages;
    for (const id of [HUGE, NO_CONTACT]) expect(digest!.plainText).toContain(id);
    expect(Buffer.byteLength(digest!.html ?? '') + Buffer.byteLength(digest!.plainText ?? '')).toBeLessThan(100 * 1024);
  });

  it('leaves every later run working: the outbox reads back, reminders go out, an event is evaluated', async () => {
    const outbox = await TableOutbox.connect(bed.deps.store.connection);
    expect((await outbox.listMessages(['sent'])).length).toBe(1);

    clock.advance(8 * DAY);
    const context = scan();
    await createScanTimerHandler(bed.deps)(timer, context);
    expect(bed.deps.lines.filter((line) => line.invocationId === context.invocationId).map((line) => line.event)).not.toContain(
      'alert.failed',
    );
    expect(bed.mail.messages).toHaveLength(2);
    expect(bed.mail.messages[1]!.subject).toContain('2 reminders');

    await createContactEventHandler(bed.deps)(
      securityContactsEvent('event-grid-schema', HUGE, 'write', 'evt-huge', clock.now()),
      invocationContexts(FUNCTION_NAMES.contactEvents, 'oversized-event')(),
    );
    expect(await bed.deps.store.getSubscription(HUGE)).toMatchObject({ status: 'noncompliant', lastEvaluatedBy: 'event:evt-huge' });
  });
});
