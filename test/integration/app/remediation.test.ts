/**
 * The app's own repairs (CONTACT_WATCH_REMEDIATION, docs/reference/remediation.md) end to end: the real Event Grid
 * and timer handlers over the real adapters, against the local Azure test server (its tenant is
 * the truth, its request log counts the writes) with its ACS Email service, and Table Storage.
 */
import type { InvocationContext } from '@azure/functions';
import type { Timer } from '@azure/functions';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openScanLease } from '../../../src/adapters/table-storage/scan-lease.js';
import { createContactEventHandler } from '../../../src/app/handlers/contact-events.js';
import { createScanTimerHandler } from '../../../src/app/handlers/scan-timer.js';
import { readAppSettings } from '../../../src/compose/app-settings.js';
import { parsePolicy } from '../../../src/core/policy.js';
import { FUNCTION_NAMES } from '../../../src/functions/function-names.js';
import { SimulatedTenant, type LocalAzure } from '../../azure-server/index.js';
import type { CommunicationEmailService } from '../../azure-server/services/communication-email.js';
import { invocationContexts, startAppTestBed, testAppDependencies, type LoggedLine, type TestTables } from '../../support/app.js';
import { securityContactsEvent, subscriptionCreatedEvent } from '../../support/events.js';
import { compliantContact2023 } from '../../support/fixtures.js';

const REMEDIATION_ADDRESS = 'secops@corp-sec.net';
const POLICY = parsePolicy({ remediation: { emails: [REMEDIATION_ADDRESS] } }, 'test policy');

const VENDED = 'e1000000-0000-4000-8000-000000000001';
const VENDED_TWICE_AT_ONCE = 'e1000000-0000-4000-8000-000000000002';
const CONTACT_DELETED = 'e1000000-0000-4000-8000-000000000003';
const CONTACT_EDITED = 'e1000000-0000-4000-8000-000000000004';
const IN_GRACE = 'e1000000-0000-4000-8000-000000000005';
const FOUND_BY_SCAN = 'e1000000-0000-4000-8000-000000000006';
const CANNOT_WRITE = 'e1000000-0000-4000-8000-000000000007';
const VENDED_WITH_REMEDIATION_OFF = 'e1000000-0000-4000-8000-000000000008';
const EXEMPT = 'e1000000-0000-4000-8000-000000000009';
const COMPLIANT = 'e1000000-0000-4000-8000-00000000000a';

let tenant: SimulatedTenant;
let azure: LocalAzure;
let mail: CommunicationEmailService;
let tables: TestTables;
let deps: ReturnType<typeof testAppDependencies>;
let now = new Date('2026-12-07T08:00:00.000Z');
/** A clock that moves on a millisecond at each reading, as a real one does between two steps. */
const clock = () => {
  now = new Date(now.getTime() + 1);
  return new Date(now);
};

beforeAll(async () => {
  tenant = new SimulatedTenant();
  for (const [subscriptionId, displayName] of [
    [VENDED, 'Vended: payments'],
    [VENDED_TWICE_AT_ONCE, 'Vended: ledger'],
    [IN_GRACE, 'Vended: in grace'],
    [FOUND_BY_SCAN, 'Old sandbox'],
    [EXEMPT, 'Exempted'],
  ] as const) {
    tenant.addSubscription({ subscriptionId, displayName, contacts: [] });
  }
  tenant.addSubscription({
    subscriptionId: CONTACT_DELETED,
    displayName: 'Was fine',
    contacts: [compliantContact2023('team@fabrikam.io')],
  });
  tenant.addSubscription({
    subscriptionId: CONTACT_EDITED,
    displayName: 'Being edited',
    contacts: [compliantContact2023('team@fabrikam.io')],
  });
  tenant.addSubscription({ subscriptionId: CANNOT_WRITE, displayName: 'Reader only', contacts: [], quirks: { readOnlyIdentity: true } });
  tenant.addSubscription({ subscriptionId: COMPLIANT, displayName: 'Production', contacts: [compliantContact2023()] });
  ({ azure, mail, tables, deps } = await startAppTestBed(tenant, { tablePrefix: 'repairtest', clock, policy: POLICY, remediation: true }));
});

afterAll(async () => {
  await Promise.all([azure?.close(), tables?.stop()]);
});

afterEach(() => {
  azure.faults.clear();
});

const invocation = invocationContexts(FUNCTION_NAMES.contactEvents, 'repair-event');
const timerInvocation = invocationContexts(FUNCTION_NAMES.scanTimer, 'repair-timer');
const TIMER: Timer = {
  isPastDue: false,
  schedule: { adjustForDST: true },
  scheduleStatus: { last: '2026-12-07T07:30:00.000Z', next: '2026-12-07T08:30:00.000Z', lastUpdated: '2026-12-07T07:30:00.000Z' },
};

function linesOf(context: InvocationContext, from: LoggedLine[] = deps.lines): LoggedLine[] {
  return from.filter((line) => line.invocationId === context.invocationId);
}

/** Writes the server accepted for the subscription (each retry of one write would show too). */
function acceptedWrites(subscriptionId: string) {
  return azure.requests.contactWrites({ accepted: true }).filter((write) => write.subscriptionId === subscriptionId);
}

function messagesNaming(subscriptionId: string) {
  return mail.messages.filter(
    (message) => (message.html ?? '').includes(subscriptionId) || (message.plainText ?? '').includes(subscriptionId),
  );
}

describe('a new subscription without a contact, with CONTACT_WATCH_REMEDIATION on', () => {
  it('is repaired at once: one write of the merged fix, recorded with who made it, and one e-mail saying so', async () => {
    await createContactEventHandler(deps)(subscriptionCreatedEvent(VENDED, 'evt-vended', now), invocation());

    const writes = acceptedWrites(VENDED);
    expect(writes).toHaveLength(1);
    expect(writes[0]!.body).toMatchObject({ properties: { emails: REMEDIATION_ADDRESS, isEnabled: true } });
    const record = await deps.store.getSubscription(VENDED);
    expect(record).toMatchObject({ status: 'compliant', lastRemediation: { by: 'app on event evt-vended', outcome: 'fixed' } });
    expect(record!.lastRemediation!.changes).toContain(`added address ${REMEDIATION_ADDRESS}, as no valid address remained`);
    const history = await deps.store.history(VENDED);
    // The write is recorded before it is sent, and its outcome after.
    expect(history.map((change) => [change.from, change.to, change.remediation?.outcome ?? null])).toEqual([
      [null, 'noncompliant', null],
      ['noncompliant', 'noncompliant', 'sent'],
      ['noncompliant', 'compliant', 'fixed'],
    ]);
    const messages = messagesNaming(VENDED);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.subject).toMatch(/repaired automatically/i);
    expect(messages[0]!.plainText).toContain(REMEDIATION_ADDRESS);
  });

  it('is repaired and recorded once when the event is delivered twice at once', async () => {
    const handler = createContactEventHandler(deps);
    const event = subscriptionCreatedEvent(VENDED_TWICE_AT_ONCE, 'evt-twice', now);
    const [first, second] = [invocation(), invocation()];
    // Both deliveries read the contact before either writes: their first reads are held together.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    azure.faults.add({ target: 'security-contacts', subscriptionId: VENDED_TWICE_AT_ONCE, method: 'GET', holdUntil: gate, times: 2 });
    const deliveries = Promise.all([handler(event, first), handler(event, second)]);
    setTimeout(open, 100);
    await deliveries;

    expect(acceptedWrites(VENDED_TWICE_AT_ONCE)).toHaveLength(1);
    const history = await deps.store.history(VENDED_TWICE_AT_ONCE);
    expect(history.filter((change) => change.remediation).map((change) => change.remediation!.outcome)).toEqual(['sent', 'fixed']);
    expect(messagesNaming(VENDED_TWICE_AT_ONCE)).toHaveLength(1);
  });

  it('is left alone within the grace period, then repaired by the timer once the grace is over', async () => {
    const graceDeps = testAppDependencies({
      azure,
      mail,
      tables,
      tablePrefix: 'repairgrace',
      clock,
      policy: POLICY,
      remediation: true,
      env: { CONTACT_WATCH_NEW_SUBSCRIPTION_GRACE_MINUTES: '30' },
    });
    graceDeps.lease = openScanLease(graceDeps.store.connection, { clock });
    // A store of its own: every other subscription is first seen by this timer, so within its
    // grace, and only IN_GRACE (seen by the event 31 minutes earlier) is due.
    const context = invocation();
    await createContactEventHandler(graceDeps)(subscriptionCreatedEvent(IN_GRACE, 'evt-grace', now), context);
    expect(acceptedWrites(IN_GRACE)).toEqual([]);
    expect(linesOf(context, graceDeps.lines).map((line) => line.event)).toContain('remediation.deferred');

    // The clock only moves forward: a record read "later" would make every earlier reading stale.
    now = new Date(now.getTime() + 31 * 60_000);
    await createScanTimerHandler(graceDeps)(TIMER, timerInvocation());
    expect(acceptedWrites(IN_GRACE)).toHaveLength(1);
    expect(await graceDeps.store.getSubscription(IN_GRACE)).toMatchObject({
      status: 'compliant',
      lastRemediation: { outcome: 'fixed', by: expect.stringMatching(/^app after scan /) as string },
    });
  });
});

describe('contact events with CONTACT_WATCH_REMEDIATION on', () => {
  it('repairs a subscription whose contact was deleted, keeping nothing it did not have', async () => {
    tenant.setContacts(CONTACT_DELETED, [], { indexed: false });
    await createContactEventHandler(deps)(
      securityContactsEvent('event-grid-schema', CONTACT_DELETED, 'delete', 'evt-deleted'),
      invocation(),
    );
    expect(acceptedWrites(CONTACT_DELETED)).toHaveLength(1);
    expect(await deps.store.getSubscription(CONTACT_DELETED)).toMatchObject({ status: 'compliant' });
  });

  it('leaves a contact that someone is editing to them: a write event alerts, it does not repair', async () => {
    const edited = compliantContact2023('team@fabrikam.io');
    edited.properties.isEnabled = false;
    tenant.setContacts(CONTACT_EDITED, [edited], { indexed: false });
    await createContactEventHandler(deps)(securityContactsEvent('event-grid-schema', CONTACT_EDITED, 'write', 'evt-edited'), invocation());
    expect(acceptedWrites(CONTACT_EDITED)).toEqual([]);
    expect(await deps.store.getSubscription(CONTACT_EDITED)).toMatchObject({ status: 'noncompliant', lastRemediation: null });
    expect(messagesNaming(CONTACT_EDITED)).toHaveLength(1);
  });
});

describe('the timer with CONTACT_WATCH_REMEDIATION on', () => {
  it('repairs what its scan found noncompliant, says why a repair failed, and writes nothing to exempt or compliant subscriptions', async () => {
    await deps.store.putExemption({
      subscriptionId: EXEMPT,
      reason: 'decommissioning',
      owner: 'owner@fabrikam.io',
      expiresOn: '2027-01-31',
      createdBy: 'test',
    });
    deps.lease = openScanLease(deps.store.connection, { clock });
    const before = azure.requests.contactWrites().length;
    const context = timerInvocation();
    await createScanTimerHandler(deps)(TIMER, context);

    expect(acceptedWrites(FOUND_BY_SCAN)).toHaveLength(1);
    expect(await deps.store.getSubscription(FOUND_BY_SCAN)).toMatchObject({ status: 'compliant', lastRemediation: { outcome: 'fixed' } });
    const written = new Set(
      azure.requests
        .contactWrites()
        .slice(before)
        .map((write) => write.subscriptionId),
    );
    for (const untouched of [EXEMPT, COMPLIANT, VENDED]) expect(written.has(untouched), untouched).toBe(false);
    // The timer repairs every noncompliant subscription, one someone was editing too.
    expect(acceptedWrites(CONTACT_EDITED)).toHaveLength(1);

    const refused = await deps.store.getSubscription(CANNOT_WRITE);
    expect(refused).toMatchObject({ status: 'noncompliant', lastRemediation: { outcome: 'failed' } });
    expect(refused!.lastRemediation!.reason).toContain('Microsoft.Security/securityContacts/write');
    const alert = messagesNaming(CANNOT_WRITE);
    expect(alert.length).toBeGreaterThan(0);
    expect(alert.at(-1)!.plainText).toContain('Microsoft.Security/securityContacts/write');
    expect(linesOf(context).find((line) => line.event === 'remediation.afterScan')).toMatchObject({ fixed: 2, failed: 1 });
  });
});

describe('a repair that failed', () => {
  it('is not tried again by every scan, only once a day has passed', async () => {
    const triesBefore = azure.requests.contactWrites().filter((write) => write.subscriptionId === CANNOT_WRITE).length;
    expect(triesBefore).toBeGreaterThan(0); // the timer test above tried it
    await createScanTimerHandler(deps)(TIMER, timerInvocation());
    const tries = () => azure.requests.contactWrites().filter((write) => write.subscriptionId === CANNOT_WRITE).length;
    expect(tries()).toBe(triesBefore);

    now = new Date(now.getTime() + 25 * 3_600_000);
    await createScanTimerHandler(deps)(TIMER, timerInvocation());
    expect(tries()).toBe(triesBefore + 1);
  });
});

describe('a write that failed for a passing reason', () => {
  it('is tried again at the next scan', async () => {
    const busy = 'e1000000-0000-4000-8000-00000000000b';
    tenant.addSubscription({ subscriptionId: busy, displayName: 'Busy', contacts: [] });
    azure.faults.add({ target: 'security-contacts', subscriptionId: busy, method: 'PUT', status: 503, times: Infinity });
    await createScanTimerHandler(deps)(TIMER, timerInvocation());
    expect(await deps.store.getSubscription(busy)).toMatchObject({
      status: 'noncompliant',
      lastRemediation: { outcome: 'failed', retryable: true },
    });

    azure.faults.clear();
    await createScanTimerHandler(deps)(TIMER, timerInvocation());
    expect(acceptedWrites(busy)).toHaveLength(1);
    expect(await deps.store.getSubscription(busy)).toMatchObject({ status: 'compliant', lastRemediation: { outcome: 'fixed' } });
  });
});

describe('a write that cannot be recorded first', () => {
  it('is not sent: the repair fails with the reason, and nothing reaches Azure', async () => {
    const unrecorded = 'e1000000-0000-4000-8000-00000000000c';
    tenant.addSubscription({ subscriptionId: unrecorded, displayName: 'Store trouble', contacts: [] });
    // Table Storage refuses exactly the record of the intent: the port as the store gives it, with that one answer changed.
    const store = deps.store;
    const refusingIntents: typeof store = Object.create(store) as typeof store;
    refusingIntents.recordEvaluation = (verdict, options) =>
      options.remediation?.outcome === 'sent'
        ? Promise.reject(new Error('the table service is unavailable'))
        : store.recordEvaluation(verdict, options);
    const context = invocation();
    await createContactEventHandler({ ...deps, store: refusingIntents })(
      subscriptionCreatedEvent(unrecorded, 'evt-unrecorded', now),
      context,
    );
    expect(azure.requests.contactWrites().filter((write) => write.subscriptionId === unrecorded)).toEqual([]);
    expect(linesOf(context).find((line) => line.event === 'remediation.notWritten')).toMatchObject({
      result: 'failed',
      reason: expect.stringContaining('the write was not sent, because it could not be recorded first') as string,
    });
  });
});

describe('with CONTACT_WATCH_REMEDIATION off', () => {
  it('never writes: a new subscription without a contact is recorded and alerted on, as before', async () => {
    const offDeps = testAppDependencies({ azure, mail, tables, tablePrefix: 'repairoff', clock, policy: POLICY });
    offDeps.lease = openScanLease(offDeps.store.connection, { clock });
    tenant.addSubscription({ subscriptionId: VENDED_WITH_REMEDIATION_OFF, displayName: 'Vended: hands off', contacts: [] });
    const writesBefore = azure.requests.contactWrites().length;
    await createContactEventHandler(offDeps)(subscriptionCreatedEvent(VENDED_WITH_REMEDIATION_OFF, 'evt-off', now), invocation());
    await createScanTimerHandler(offDeps)(TIMER, timerInvocation());
    expect(azure.requests.contactWrites().length).toBe(writesBefore);
    expect(await offDeps.store.getSubscription(VENDED_WITH_REMEDIATION_OFF)).toMatchObject({
      status: 'noncompliant',
      lastRemediation: null,
    });
  });

  it('refuses to start with remediation on and no remediation address in the policy, naming the setting', () => {
    const env = {
      ...azure.env(),
      CONTACT_WATCH_STORAGE: 'UseDevelopmentStorage=true',
      CONTACT_WATCH_ACS_CONNECTION_STRING: mail.connectionString(azure.url),
      CONTACT_WATCH_EMAIL_SENDER: 'DoNotReply@contact-watch.test',
      CONTACT_WATCH_ALERT_RECIPIENTS: 'secops@fabrikam.io',
    };
    expect(readAppSettings(env).remediation).toEqual({ enabled: false });
    expect(() => readAppSettings({ ...env, CONTACT_WATCH_REMEDIATION: 'on' })).toThrow(
      /CONTACT_WATCH_REMEDIATION is on, but the policy \(CONTACT_WATCH_POLICY\) names no remediation\.emails/,
    );
    expect(() => readAppSettings({ ...env, CONTACT_WATCH_REMEDIATION: 'yes' })).toThrow(
      /CONTACT_WATCH_REMEDIATION is "yes": expected "on"/,
    );
    const policy = JSON.stringify({ remediation: { emails: [REMEDIATION_ADDRESS] } });
    expect(readAppSettings({ ...env, CONTACT_WATCH_REMEDIATION: 'On', CONTACT_WATCH_POLICY: policy }).remediation).toEqual({
      enabled: true,
    });
  });
});
