/**
 * The Event Grid trigger's handler end to end (docs/reference/events.md and docs/reference/alerts.md): the real handler with a
 * real InvocationContext, the real adapters against the local Azure test server (with its ACS
 * Email service) and Azurite. A SubscriptionCreated event alerts once however often it is
 * delivered; a contact delete turns a compliant subscription noncompliant at once; the grace
 * period holds a new subscription's alert back; a transient failure is thrown for Event Grid to
 * retry; bad events are logged and dropped without a request to Azure.
 */
import type { InvocationContext } from '@azure/functions';
import { RestError, type PipelinePolicy } from '@azure/core-rest-pipeline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deliverOwedAlerts } from '../../../src/app/deliver-owed-alerts.js';
import { NEW_SUBSCRIPTION_ACCESS_WINDOW_MINUTES, TransientEvaluationError } from '../../../src/app/evaluate-subscription.js';
import { createContactEventHandler } from '../../../src/app/handlers/contact-events.js';
import { FUNCTION_NAMES } from '../../../src/functions/function-names.js';
import { SimulatedTenant, type LocalAzure } from '../../azure-server/index.js';
import type { CommunicationEmailService } from '../../azure-server/services/communication-email.js';
import { invocationContexts, type LoggedLine, startAppTestBed, testAppDependencies, type TestTables } from '../../support/app.js';
import { securityContactsEvent, subscriptionCreatedCloudEvent, subscriptionCreatedEvent } from '../../support/events.js';
import { azureExample, compliantContact2023 } from '../../support/fixtures.js';

const CREATED = 'a1000000-0000-4000-8000-000000000001';
const CREATED_TWICE_AT_ONCE = 'a1000000-0000-4000-8000-000000000002';
const COMPLIANT = 'b2000000-0000-4000-8000-000000000001';
const IN_GRACE = 'c3000000-0000-4000-8000-000000000001';
const FIXED_IN_GRACE = 'c3000000-0000-4000-8000-000000000002';
const UNAVAILABLE = 'd4000000-0000-4000-8000-000000000001';
const FORBIDDEN = 'd4000000-0000-4000-8000-000000000002';
const NOT_YET_READABLE = 'd4000000-0000-4000-8000-000000000004';
const FORBIDDEN_DRIFT = 'd4000000-0000-4000-8000-000000000005';
const STORE_DOWN = 'd4000000-0000-4000-8000-000000000003';
const ANNOUNCED_IN_2999 = 'd4000000-0000-4000-8000-000000000006';
const ANNOUNCED_SLIGHTLY_AHEAD = 'd4000000-0000-4000-8000-000000000007';

const GRACE_MINUTES = 30;

let tenant: SimulatedTenant;
let azure: LocalAzure;
let mail: CommunicationEmailService;
let tables: TestTables;
let deps: ReturnType<typeof testAppDependencies>;
beforeAll(async () => {
  tenant = new SimulatedTenant();
  for (const [subscriptionId, displayName] of [
    [CREATED, 'Vended: payments'],
    [CREATED_TWICE_AT_ONCE, 'Vended: ledger'],
    [IN_GRACE, 'Vended: in grace'],
    [FIXED_IN_GRACE, 'Vended: fixed in grace'],
    [UNAVAILABLE, 'Flaky'],
    [FORBIDDEN, 'Forbidden'],
    [NOT_YET_READABLE, 'Vended: access on its way'],
    [FORBIDDEN_DRIFT, 'Forbidden drift'],
    [STORE_DOWN, 'Store down'],
    [ANNOUNCED_IN_2999, 'Vended: announced in 2999'],
    [ANNOUNCED_SLIGHTLY_AHEAD, 'Vended: publisher clock ahead'],
  ] as const) {
    tenant.addSubscription({ subscriptionId, displayName, contacts: [] });
  }
  tenant.addSubscription({ subscriptionId: COMPLIANT, displayName: 'Production', contacts: [compliantContact2023()] });
  ({ azure, mail, tables, deps } = await startAppTestBed(tenant, { tablePrefix: 'eventtest' }));
});

afterAll(async () => {
  await Promise.all([azure?.close(), tables?.stop()]);
});

afterEach(() => {
  azure.faults.clear();
});

const invocation = invocationContexts(FUNCTION_NAMES.contactEvents, 'event');

function linesOf(context: InvocationContext, from: LoggedLine[] = deps.lines): LoggedLine[] {
  return from.filter((line) => line.invocationId === context.invocationId);
}

/** Messages the ACS service accepted that name the subscription. */
function messagesNaming(subscriptionId: string) {
  return mail.messages.filter(
    (message) => (message.html ?? '').includes(subscriptionId) || (message.plainText ?? '').includes(subscriptionId),
  );
}

describe('ContactWatch.SubscriptionCreated', () => {
  it('records a new subscription without a contact and sends exactly one alert, however often it is delivered', async () => {
    const handler = createContactEventHandler(deps);
    const event = subscriptionCreatedEvent(CREATED, 'evt-created-1');
    const first = invocation();
    await handler(event, first);

    const record = await deps.store.getSubscription(CREATED);
    expect(record).toMatchObject({
      status: 'noncompliant',
      displayName: 'Vended: payments',
      lastEvaluatedBy: 'event:evt-created-1',
      source: 'security-contacts-api',
    });
    expect(record!.lastAlertedAt).not.toBeNull();
    expect(messagesNaming(CREATED)).toHaveLength(1);
    expect(messagesNaming(CREATED)[0]!.html).toContain('Vended: payments');
    expect(linesOf(first).map((line) => line.event)).toEqual(['event.received', 'subscription.evaluated', 'alert.queued', 'alert.sent']);
    expect(linesOf(first)[0]).toMatchObject({
      eventId: 'evt-created-1',
      kind: 'subscription-created',
      schema: 'event-grid',
      subscriptionId: CREATED,
    });
    expect(linesOf(first)[1]).toMatchObject({ status: 'noncompliant', firstSeen: true, nameFrom: 'arm' });

    // Event Grid delivers at least once: the same event again, and once more as a CloudEvent.
    const second = invocation();
    await handler(event, second);
    await handler(subscriptionCreatedCloudEvent(CREATED, 'evt-created-1'), invocation());
    expect(messagesNaming(CREATED)).toHaveLength(1);
    expect(linesOf(second).map((line) => line.event)).toEqual(['event.received', 'subscription.evaluated']);
    expect(await deps.store.history(CREATED)).toHaveLength(1); // first seen; nothing moved since

    // Even if the record had not been marked alerted (a crash between the outbox claim and
    // markAlerted), a redelivery computes the same occurrence key, meets the claim (409) and
    // sends nothing new: the claim, not lastAlertedAt, is what makes a second alert impossible.
    await deps.store.updateSubscription(CREATED, (current) => ({ ...current, lastAlertedAt: null }));
    const afterCrash = invocation();
    await handler(event, afterCrash);
    expect(messagesNaming(CREATED)).toHaveLength(1);
    expect(linesOf(afterCrash).map((line) => line.event)).not.toContain('alert.queued');
    expect((await deps.store.getSubscription(CREATED))?.lastAlertedAt).not.toBeNull(); // marked again from the claim
  });

  it('sends one alert when the same event is delivered twice at the same moment (the outbox claim decides)', async () => {
    const handler = createContactEventHandler(deps);
    const event = subscriptionCreatedCloudEvent(CREATED_TWICE_AT_ONCE, 'evt-created-2');
    const contexts = [invocation(), invocation()];
    await Promise.all(contexts.map((context) => handler(event, context)));
    expect(messagesNaming(CREATED_TWICE_AT_ONCE)).toHaveLength(1);
    expect((await deps.store.getSubscription(CREATED_TWICE_AT_ONCE))?.status).toBe('noncompliant');
    expect(await deps.store.history(CREATED_TWICE_AT_ONCE)).toHaveLength(1); // one first-seen entry, not two
    const queued = contexts.flatMap((context) => linesOf(context)).filter((line) => line.event === 'alert.queued');
    expect(queued).toHaveLength(1);
  });
});

describe('securityContacts writes and deletes', () => {
  it('turns a compliant subscription noncompliant at once when its contact is deleted', async () => {
    const handler = createContactEventHandler(deps);
    await handler(securityContactsEvent('cloud-events-schema', COMPLIANT, 'write', 'evt-contact-write'), invocation());
    expect((await deps.store.getSubscription(COMPLIANT))?.status).toBe('compliant');
    expect(messagesNaming(COMPLIANT)).toHaveLength(0);

    tenant.deleteContacts(COMPLIANT);
    const context = invocation();
    await handler(securityContactsEvent('event-grid-schema', COMPLIANT, 'delete', 'evt-contact-delete'), context);

    const record = await deps.store.getSubscription(COMPLIANT);
    expect(record).toMatchObject({ status: 'noncompliant', lastEvaluatedBy: 'event:evt-contact-delete' });
    const history = await deps.store.history(COMPLIANT);
    expect(history.at(-1)).toMatchObject({ from: 'compliant', to: 'noncompliant', evaluatedBy: 'event:evt-contact-delete' });
    expect(linesOf(context)).toContainEqual(
      expect.objectContaining({ event: 'subscription.statusChanged', subscriptionId: COMPLIANT, from: 'compliant', to: 'noncompliant' }),
    );
    expect(linesOf(context)[0]).toMatchObject({ event: 'event.received', kind: 'contact-changed', operation: 'delete' });
    expect(messagesNaming(COMPLIANT)).toHaveLength(1);
    expect(messagesNaming(COMPLIANT)[0]!.html).toContain('Production');
  });
});

describe('the new-subscription grace period', () => {
  it('records a new subscription at once but alerts only once the grace has passed, and not at all if the contact was set', async () => {
    let now = new Date('2026-11-22T05:00:00.000Z');
    const graced = testAppDependencies({
      azure,
      mail,
      tables,
      tablePrefix: 'eventgrace',
      clock: () => now,
      env: { CONTACT_WATCH_NEW_SUBSCRIPTION_GRACE_MINUTES: String(GRACE_MINUTES) },
    });
    expect(graced.settings.alerting.alerts.newSubscriptionGraceMinutes).toBe(GRACE_MINUTES);
    const handler = createContactEventHandler(graced);

    const first = invocation();
    const announcedAt = now;
    await handler(subscriptionCreatedEvent(IN_GRACE, 'evt-grace-1', announcedAt), first);
    await handler(subscriptionCreatedEvent(FIXED_IN_GRACE, 'evt-grace-2', announcedAt), invocation());
    expect(await graced.store.getSubscription(IN_GRACE)).toMatchObject({
      status: 'noncompliant',
      firstSeenAt: now.toISOString(),
      lastAlertedAt: null,
    });
    expect(linesOf(first, graced.lines)).toContainEqual(
      expect.objectContaining({
        event: 'alert.deferred',
        subscriptionId: IN_GRACE,
        graceMinutes: GRACE_MINUTES,
        until: '2026-11-22T05:30:00.000Z',
      }),
    );
    expect(messagesNaming(IN_GRACE)).toHaveLength(0);

    // The pipeline sets the second one's contact within the grace.
    now = new Date('2026-11-22T05:10:00.000Z');
    tenant.setContacts(FIXED_IN_GRACE, [compliantContact2023()]);
    await handler(securityContactsEvent('event-grid-schema', FIXED_IN_GRACE, 'write', 'evt-grace-3'), invocation());
    expect((await graced.store.getSubscription(FIXED_IN_GRACE))?.status).toBe('compliant');
    // A redelivery inside the grace still sends nothing.
    await handler(subscriptionCreatedEvent(IN_GRACE, 'evt-grace-1', announcedAt), invocation());
    expect(messagesNaming(IN_GRACE)).toHaveLength(0);

    // After the grace, the next timer run's alert step (a digest of everything owed) sends it.
    now = new Date('2026-11-22T05:31:00.000Z');
    const timerRun = invocation();
    await deliverOwedAlerts(graced, timerRun, { mode: 'digest' });
    expect(messagesNaming(IN_GRACE)).toHaveLength(1);
    expect(messagesNaming(FIXED_IN_GRACE)).toHaveLength(0);
    expect((await graced.store.getSubscription(IN_GRACE))?.lastAlertedAt).toBe('2026-11-22T05:31:00.000Z');

    // And a late redelivery of the event does not send it again.
    const late = invocation();
    await handler(subscriptionCreatedEvent(IN_GRACE, 'evt-grace-1', announcedAt), late);
    expect(messagesNaming(IN_GRACE)).toHaveLength(1);
    expect(linesOf(late, graced.lines).some((line) => line.event === 'alert.deferred')).toBe(false);
  });
});

describe('failures', () => {
  it('throws when the securityContacts API keeps answering 503 (after fast retries), records nothing, and succeeds on redelivery', async () => {
    azure.faults.add({ target: 'security-contacts', subscriptionId: UNAVAILABLE, status: 503, times: Infinity });
    azure.requests.clear();
    const handler = createContactEventHandler(deps);
    const event = subscriptionCreatedEvent(UNAVAILABLE, 'evt-unavailable');
    const context = invocation();
    await expect(handler(event, context)).rejects.toBeInstanceOf(TransientEvaluationError);
    // Given up after the pipeline's retries, not waited out: the first try and test/support/app.ts's 2 retries.
    expect(azure.requests.count('security-contacts')).toBe(3);
    expect(await deps.store.getSubscription(UNAVAILABLE)).toBeUndefined();
    expect(messagesNaming(UNAVAILABLE)).toHaveLength(0);
    expect(linesOf(context).at(-1)).toMatchObject({
      event: 'evaluation.failed',
      stage: 'read',
      transient: true,
      subscriptionId: UNAVAILABLE,
    });

    azure.faults.clear();
    await handler(event, invocation());
    expect((await deps.store.getSubscription(UNAVAILABLE))?.status).toBe('noncompliant');
    expect(messagesNaming(UNAVAILABLE)).toHaveLength(1);
  });

  it('throws while a just-vended subscription answers 403 (its inherited access on its way), records and sends nothing, and evaluates it once readable', async () => {
    azure.faults.add({ target: 'security-contacts', subscriptionId: NOT_YET_READABLE, status: 403, times: Infinity });
    const handler = createContactEventHandler(deps);
    const event = subscriptionCreatedEvent(NOT_YET_READABLE, 'evt-not-yet-readable', new Date(Date.now() - 5 * 60_000));
    const context = invocation();
    const thrown = await handler(event, context).catch((error: unknown) => error);
    expect(thrown).toBeInstanceOf(TransientEvaluationError);
    expect((thrown as Error).message).toMatch(
      /cannot be read yet \(403 .*\); read access inherited from a management group can take minutes/,
    );
    expect(await deps.store.getSubscription(NOT_YET_READABLE)).toBeUndefined();
    expect(messagesNaming(NOT_YET_READABLE)).toHaveLength(0);
    expect(linesOf(context).at(-1)).toMatchObject({
      event: 'evaluation.failed',
      stage: 'read',
      transient: true,
      subscriptionId: NOT_YET_READABLE,
    });
    expect(Date.parse(linesOf(context).at(-1)!.retryUntil as string) - Date.parse((event as { eventTime: string }).eventTime)).toBe(
      NEW_SUBSCRIPTION_ACCESS_WINDOW_MINUTES * 60_000,
    );

    // The role assignment arrives; Event Grid's next delivery of the same event is evaluated.
    azure.faults.clear();
    await handler(event, invocation());
    expect((await deps.store.getSubscription(NOT_YET_READABLE))?.status).toBe('noncompliant');
    expect(messagesNaming(NOT_YET_READABLE)).toHaveLength(1);
  });

  it('records a 403 as error and alerts once the access window after the announcement has passed, and at once for a contact change', async () => {
    azure.faults.add({ target: 'security-contacts', subscriptionId: FORBIDDEN, status: 403, times: Infinity });
    const announced = new Date(Date.now() - (NEW_SUBSCRIPTION_ACCESS_WINDOW_MINUTES + 1) * 60_000);
    const context = invocation();
    await expect(
      createContactEventHandler(deps)(subscriptionCreatedEvent(FORBIDDEN, 'evt-forbidden', announced), context),
    ).resolves.toBeUndefined();
    const record = await deps.store.getSubscription(FORBIDDEN);
    expect(record).toMatchObject({ status: 'error', displayName: 'Forbidden' });
    expect(record!.findings[0]!.message).toMatch(/403/);
    expect(messagesNaming(FORBIDDEN)).toHaveLength(1);

    // A contact change comes from a subscription that was readable: no window.
    azure.faults.add({ target: 'security-contacts', subscriptionId: FORBIDDEN_DRIFT, status: 403, times: Infinity });
    await expect(
      createContactEventHandler(deps)(
        securityContactsEvent('event-grid-schema', FORBIDDEN_DRIFT, 'write', 'evt-forbidden-drift'),
        invocation(),
      ),
    ).resolves.toBeUndefined();
    expect((await deps.store.getSubscription(FORBIDDEN_DRIFT))?.status).toBe('error');
    expect(messagesNaming(FORBIDDEN_DRIFT)).toHaveLength(1);
  });

  it('drops a SubscriptionCreated dated beyond the clock skew allowed as malformed, instead of retrying it until then', async () => {
    const now = new Date('2026-12-01T09:00:00.000Z');
    const clocked = testAppDependencies({ azure, mail, tables, tablePrefix: 'eventskew', clock: () => now });
    azure.faults.add({ target: 'security-contacts', subscriptionId: ANNOUNCED_IN_2999, status: 403, times: Infinity });
    azure.requests.clear();
    const handler = createContactEventHandler(clocked);
    // 2999, and the last instant Date can represent (a window after it cannot be represented).
    for (const [eventTime, eventId] of [
      ['2999-01-01T00:00:00.000Z', 'evt-2999'],
      ['+275760-09-13T00:00:00.000Z', 'evt-last-instant'],
    ] as const) {
      const event = { ...(subscriptionCreatedEvent(ANNOUNCED_IN_2999, eventId) as object), eventTime };
      const context = invocation();
      await expect(handler(event, context)).resolves.toBeUndefined();
      expect(linesOf(context, clocked.lines)).toEqual([
        expect.objectContaining({
          event: 'event.malformed',
          reason: `eventTime "${eventTime}" is more than 5 minutes ahead of now (2026-12-01T09:00:00.000Z), the clock skew allowed; a subscription cannot be announced before it exists`,
        }),
      ]);
    }
    expect(azure.requests.all()).toHaveLength(0);
    expect(await clocked.store.getSubscription(ANNOUNCED_IN_2999)).toBeUndefined();
  });

  it('counts an announcement within the clock skew from now: the access window ends the window length after now, not later', async () => {
    const now = new Date('2026-12-01T09:00:00.000Z');
    const clocked = testAppDependencies({ azure, mail, tables, tablePrefix: 'eventskew', clock: () => now });
    azure.faults.add({ target: 'security-contacts', subscriptionId: ANNOUNCED_SLIGHTLY_AHEAD, status: 403, times: Infinity });
    const context = invocation();
    const aheadByFourMinutes = new Date(now.getTime() + 4 * 60_000);
    const thrown = await createContactEventHandler(clocked)(
      subscriptionCreatedEvent(ANNOUNCED_SLIGHTLY_AHEAD, 'evt-slightly-ahead', aheadByFourMinutes),
      context,
    ).catch((error: unknown) => error);
    expect(thrown).toBeInstanceOf(TransientEvaluationError);
    expect(linesOf(context, clocked.lines).at(-1)).toMatchObject({
      event: 'evaluation.failed',
      transient: true,
      retryUntil: new Date(now.getTime() + NEW_SUBSCRIPTION_ACCESS_WINDOW_MINUTES * 60_000).toISOString(),
    });
  });

  it('throws when Table Storage fails, so that Event Grid retries', async () => {
    // Every storage request of this store fails before it is sent (no retry policy is involved).
    const unavailable: PipelinePolicy = {
      name: 'storage-unavailable',
      sendRequest: async () => {
        throw new RestError('connect ECONNREFUSED (storage unavailable in this test)', { code: 'ECONNREFUSED' });
      },
    };
    const store = tables.openStore({
      tablePrefix: 'eventdown',
      additionalPolicies: [{ policy: unavailable, position: 'perCall' }],
    });
    const context = invocation();
    await expect(
      createContactEventHandler({ ...deps, store })(subscriptionCreatedEvent(STORE_DOWN, 'evt-store-down'), context),
    ).rejects.toThrow(/ECONNREFUSED/);
    expect(linesOf(context).at(-1)).toMatchObject({ event: 'evaluation.failed', stage: 'store', transient: true });
    expect(messagesNaming(STORE_DOWN)).toHaveLength(0);
  });
});

describe('events that are not for us', () => {
  const junk = { eventType: 'ContactWatch.SubscriptionCreated', data: { subscriptionId: CREATED, junk: 'x'.repeat(1024 * 1024) } };
  const bad: [string, unknown, RegExp][] = [
    ['missing data', { ...(subscriptionCreatedEvent(CREATED, 'evt-bad-1') as object), data: undefined }, /^data is missing/],
    [
      'a non-GUID id',
      subscriptionCreatedCloudEvent('aliasForNewSub', 'evt-bad-2'),
      /^data\.subscriptionId "aliasForNewSub" is not a subscription id/,
    ],
    [
      'a wrong schema',
      { type: 'ContactWatch.SubscriptionCreated', specversion: '0.3', id: 'x', source: '/s', data: { subscriptionId: CREATED } },
      /^specversion must be "1\.0"/,
    ],
    ['a mixed schema', { ...(subscriptionCreatedEvent(CREATED, 'evt-bad-3') as object), specversion: '1.0' }, /mixes Event Grid fields/],
    ['1 MB of junk', junk, /larger than 64 KB/],
    ['null', null, /the event is null/],
    ['a string', 'hello', /the event is a string/],
    ['an array', [subscriptionCreatedEvent(CREATED, 'evt-bad-4')], /the event is an array/],
  ];
  for (const [name, event, reason] of bad) {
    it(`drops ${name} with one event.malformed line and no request to Azure`, async () => {
      azure.requests.clear();
      const context = invocation();
      await expect(createContactEventHandler(deps)(event, context)).resolves.toBeUndefined();
      const lines = linesOf(context);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ event: 'event.malformed', reason: expect.stringMatching(reason) });
      expect(JSON.stringify(lines[0]).length).toBeLessThan(400); // the reason, never the payload
      expect(azure.requests.all()).toHaveLength(0);
    });
  }

  it('ignores other events with one event.ignored line and no request to Azure', async () => {
    azure.requests.clear();
    const storageWrite = JSON.parse(
      JSON.stringify(azureExample('eventgrid/Microsoft.Resources/event-grid-schema/resource_write_success.json')).replaceAll(
        '{subscription-id}',
        CREATED,
      ),
    );
    const context = invocation();
    await createContactEventHandler(deps)(storageWrite, context);
    expect(linesOf(context)).toEqual([
      expect.objectContaining({
        event: 'event.ignored',
        eventId: '4db48cba-50a2-455a-93b4-de41a3b5b7f6',
        eventType: 'Microsoft.Resources.ResourceWriteSuccess',
        reason: 'operation "Microsoft.Storage/storageAccounts/write" is not a securityContacts write or delete',
      }),
    ]);
    expect(azure.requests.all()).toHaveLength(0);
  });
});
