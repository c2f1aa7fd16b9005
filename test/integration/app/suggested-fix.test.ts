/**
 * The fix an alert suggests is the subscription's own contact with only the failing settings
 * changed (docs/reference/remediation.md's merge): pasted for a subscription that only lacks attack-path
 * notifications, it keeps its addresses, phone and roles. End to end: an Event Grid delivery and a
 * timer scan against the local Azure test server (with its ACS Email service) and Azurite, the
 * alert e-mail read as the service received it.
 */
import type { Timer } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openScanLease } from '../../../src/adapters/table-storage/scan-lease.js';
import { createContactEventHandler } from '../../../src/app/handlers/contact-events.js';
import { createScanTimerHandler } from '../../../src/app/handlers/scan-timer.js';
import { FUNCTION_NAMES } from '../../../src/functions/function-names.js';
import { SimulatedTenant } from '../../azure-server/index.js';
import { invocationContexts, startAppTestBed, TEST_RECIPIENTS, type AppTestBed } from '../../support/app.js';
import { securityContactsEvent } from '../../support/events.js';
import { compliantContact2023 } from '../../support/fixtures.js';

const NO_ATTACK_PATHS_EVENT = 'e1000000-0000-4000-8000-000000000001';
const NO_ATTACK_PATHS_SCAN = 'e2000000-0000-4000-8000-000000000002';
const OWN_ADDRESSES = 'payments-oncall@fabrikam.io;payments-lead@fabrikam.io';
const OWN_PHONE = '+1-555-0100';

/** A contact that passes every rule but attack-path-notifications: its own addresses and phone, no AttackPath source. */
function contactWithoutAttackPaths(): unknown {
  const contact = compliantContact2023(OWN_ADDRESSES);
  contact.properties.phone = OWN_PHONE;
  contact.properties.notificationsSources = contact.properties.notificationsSources.filter(
    (source: { sourceType: string }) => source.sourceType !== 'AttackPath',
  );
  return contact;
}

let bed: AppTestBed;
beforeAll(async () => {
  const tenant = new SimulatedTenant();
  tenant.addSubscription({ subscriptionId: NO_ATTACK_PATHS_EVENT, displayName: 'Payments', contacts: [contactWithoutAttackPaths()] });
  tenant.addSubscription({ subscriptionId: NO_ATTACK_PATHS_SCAN, displayName: 'Ledger', contacts: [contactWithoutAttackPaths()] });
  bed = await startAppTestBed(tenant, { tablePrefix: 'suggestedfix' });
});

afterAll(async () => {
  await bed?.close();
});

/** The PUT body of the one `az rest --method put` line of the message about `subscriptionId`. */
function suggestedBody(subscriptionId: string): any {
  const message = bed.mail.messages.find((candidate) => (candidate.plainText ?? '').includes(subscriptionId));
  if (!message?.plainText) throw new Error(`no message names ${subscriptionId}`);
  const lines = message.plainText.split('\n').filter((line) => line.includes('az rest --method put') && line.includes(subscriptionId));
  expect(lines).toHaveLength(1);
  return JSON.parse(/--body '(.*)'$/.exec(lines[0]!)![1]!);
}

function expectOwnContactWithAttackPaths(body: any): void {
  expect(body.properties).toMatchObject({
    emails: OWN_ADDRESSES,
    phone: OWN_PHONE,
    isEnabled: true,
    notificationsByRole: { state: 'On', roles: ['Owner'] },
  });
  expect(body.properties.notificationsSources).toEqual(
    expect.arrayContaining([expect.objectContaining({ sourceType: 'Alert' }), { sourceType: 'AttackPath', minimalRiskLevel: 'High' }]),
  );
  for (const recipient of TEST_RECIPIENTS) expect(JSON.stringify(body)).not.toContain(recipient);
}

describe('the fix an alert suggests', () => {
  it("is the subscription's own contact with attack paths added, in the message an event sends", async () => {
    await createContactEventHandler(bed.deps)(
      securityContactsEvent('event-grid-schema', NO_ATTACK_PATHS_EVENT, 'write', 'evt-write-1'),
      invocationContexts(FUNCTION_NAMES.contactEvents, 'fix-event')(),
    );
    expect(await bed.deps.store.getSubscription(NO_ATTACK_PATHS_EVENT)).toMatchObject({
      status: 'noncompliant',
      failedRules: ['attack-path-notifications'],
    });
    expectOwnContactWithAttackPaths(suggestedBody(NO_ATTACK_PATHS_EVENT));
  });

  it('is the same in the digest a timer scan sends', async () => {
    bed.deps.lease = openScanLease(bed.deps.store.connection);
    const timer: Timer = { isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };
    await createScanTimerHandler(bed.deps)(timer, invocationContexts(FUNCTION_NAMES.scanTimer, 'fix-timer')());
    expectOwnContactWithAttackPaths(suggestedBody(NO_ATTACK_PATHS_SCAN));
  });
});
