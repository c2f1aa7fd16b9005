/**
 * The new-subscription watch end to end (docs/reference/scanning.md, "The new-subscription watch"): the real
 * timer handlers with real InvocationContexts, the real adapters against the local Azure test
 * server (its tenant changed at runtime, its request log counted, its ACS Email service counting
 * the e-mails) and Azurite or the in-memory Table service. A subscription created without any event
 * is evaluated by the next watch run and alerted on once, not again by the scan that follows or by
 * a scan running at the same moment; a second run does nothing; the grace period and remediation
 * hold as for an event; a failure loses nothing; and the listing costs one Resource Graph request
 * per 1,000 subscriptions.
 */
import type { InvocationContext, Timer } from '@azure/functions';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SUBSCRIPTION_IDS_QUERY } from '../../../src/adapters/resource-graph-subscription-ids.js';
import { openScanLease } from '../../../src/adapters/table-storage/scan-lease.js';
import { createScanTimerHandler } from '../../../src/app/handlers/scan-timer.js';
import { createSubscriptionWatchHandler } from '../../../src/app/handlers/subscription-watch.js';
import { MAX_WATCH_EVALUATIONS, watchNewSubscriptions } from '../../../src/app/watch-new-subscriptions.js';
import { parsePolicy } from '../../../src/core/policy.js';
import { FUNCTION_NAMES } from '../../../src/functions/function-names.js';
import { SimulatedTenant } from '../../azure-server/index.js';
import { invocationContexts, startAppTestBed, type AppTestBed, type LoggedLine } from '../../support/app.js';
import { compliantContact2023 } from '../../support/fixtures.js';

const TIMER: Timer = {
  isPastDue: false,
  schedule: { adjustForDST: true },
  scheduleStatus: { last: '2026-12-07T08:00:00.000Z', next: '2026-12-07T08:05:00.000Z', lastUpdated: '2026-12-07T08:00:00.000Z' },
};

const watchInvocation = invocationContexts(FUNCTION_NAMES.subscriptionWatch, 'watch');
const scanInvocation = invocationContexts(FUNCTION_NAMES.scanTimer, 'watch-scan');

/** What one bed's tests need to run the two timers and read what happened. */
function timersOf(bed: AppTestBed) {
  bed.deps.lease = openScanLease(bed.deps.store.connection, { clock: bed.deps.clock });
  const watchHandler = createSubscriptionWatchHandler(bed.deps);
  const scanHandler = createScanTimerHandler(bed.deps);
  return {
    async watch(): Promise<InvocationContext> {
      const context = watchInvocation();
      await watchHandler(TIMER, context);
      return context;
    },
    async scan(): Promise<InvocationContext> {
      const context = scanInvocation();
      await scanHandler(TIMER, context);
      return context;
    },
    linesOf(context: InvocationContext): LoggedLine[] {
      return bed.deps.lines.filter((line) => line.invocationId === context.invocationId);
    },
    eventsOf(context: InvocationContext): string[] {
      return this.linesOf(context).map((line) => line.event);
    },
    /** Messages the ACS service accepted that name the subscription. */
    messagesNaming(subscriptionId: string) {
      return bed.mail.messages.filter(
        (message) => (message.html ?? '').includes(subscriptionId) || (message.plainText ?? '').includes(subscriptionId),
      );
    },
    /** Requests the server answered about the subscription (ARM and securityContacts). */
    requestsAbout(subscriptionId: string) {
      return bed.azure.requests.all().filter((entry) => entry.subscriptionId === subscriptionId);
    },
  };
}

describe('a subscription created without any event (Azurite)', () => {
  const PRODUCTION = '1a000000-0000-4000-8000-000000000001';
  const SANDBOX = '1a000000-0000-4000-8000-000000000002';
  const NEW = '2b000000-0000-4000-8000-000000000001';
  const NEW_DURING_SCAN = '2b000000-0000-4000-8000-000000000002';
  const NEW_DISABLED = '2b000000-0000-4000-8000-000000000003';
  const NEW_DURING_OUTAGE = '2b000000-0000-4000-8000-000000000004';
  const NEW_FLAKY = '2b000000-0000-4000-8000-000000000005';
  const NEW_BESIDE_FLAKY = '2b000000-0000-4000-8000-000000000006';
  const NEW_NOT_READABLE_YET = '2b000000-0000-4000-8000-000000000007';

  let tenant: SimulatedTenant;
  let bed: AppTestBed;
  let run: ReturnType<typeof timersOf>;
  beforeAll(async () => {
    tenant = new SimulatedTenant();
    tenant.addSubscription({ subscriptionId: PRODUCTION, displayName: 'Production', contacts: [compliantContact2023()] });
    tenant.addSubscription({ subscriptionId: SANDBOX, displayName: 'Sandbox', contacts: [] });
    bed = await startAppTestBed(tenant, { tablePrefix: 'watchtest', tables: 'azurite' });
    run = timersOf(bed);
  });
  afterAll(async () => bed?.close());
  afterEach(() => bed.azure.faults.clear());

  it('waits for a first complete scan: before it, every subscription would look new', async () => {
    const context = await run.watch();
    expect(run.linesOf(context)).toEqual([
      expect.objectContaining({ event: 'watch.skipped', reason: expect.stringContaining('no scan has recorded the whole tenant yet') }),
    ]);
    expect(bed.azure.requests.count('resource-graph')).toBe(0);
    expect(bed.azure.requests.count('security-contacts')).toBe(0);
    expect(await bed.deps.store.loadSubscriptions()).toEqual([]);
  });

  it('(the first scan records the tenant and sends its digest)', async () => {
    await run.scan();
    expect((await bed.deps.store.getSubscription(SANDBOX))?.status).toBe('noncompliant');
    expect(bed.mail.messages).toHaveLength(1);
  });

  it('is evaluated by the next watch run and alerted on once, in a message of its own, with one Resource Graph request', async () => {
    tenant.addSubscription({ subscriptionId: NEW, displayName: 'Made by hand: analytics', contacts: [] });
    const graphBefore = bed.azure.requests.of('resource-graph').length;
    const context = await run.watch();

    expect(await bed.deps.store.getSubscription(NEW)).toMatchObject({
      status: 'noncompliant',
      displayName: 'Made by hand: analytics',
      source: 'security-contacts-api',
      lastEvaluatedBy: `watch:${context.invocationId}`,
      lastAlertedAt: expect.any(String),
    });
    const messages = run.messagesNaming(NEW);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.html).toContain('Made by hand: analytics');
    expect(messages[0]!.html).not.toContain(SANDBOX);

    expect(run.eventsOf(context)).toEqual(['watch.listed', 'subscription.evaluated', 'alert.queued', 'alert.sent', 'watch.finished']);
    expect(run.linesOf(context)[0]).toMatchObject({
      subscriptions: 3,
      known: 2,
      new: 1,
      notJudged: 0,
      complete: true,
      resourceGraphRequests: 1,
    });
    expect(run.linesOf(context)[1]).toMatchObject({ subscriptionId: NEW, status: 'noncompliant', firstSeen: true });
    expect(run.linesOf(context).at(-1)).toMatchObject({ new: 1, evaluated: 1, failed: 0, deferred: 0 });

    const graph = bed.azure.requests.of('resource-graph').slice(graphBefore);
    expect(graph).toHaveLength(1);
    expect(graph[0]!.resourceGraph).toMatchObject({ query: SUBSCRIPTION_IDS_QUERY, top: 1000 });
    expect(graph[0]!.resourceGraph!.subscriptions).toBeUndefined();
    expect(graph[0]!.resourceGraph!.skipToken).toBeUndefined();
    // Only the new subscription was read: its name from ARM, its contact from the securityContacts API.
    expect(new Set(bed.azure.requests.of('security-contacts').map((entry) => entry.subscriptionId))).toEqual(new Set([SANDBOX, NEW]));
  });

  it('a second watch run does nothing: one Resource Graph request, no read of any subscription, no e-mail', async () => {
    const graphBefore = bed.azure.requests.count('resource-graph');
    const contactsBefore = bed.azure.requests.count('security-contacts');
    const armBefore = bed.azure.requests.count('subscriptions');
    const mailsBefore = bed.mail.messages.length;
    const context = await run.watch();

    expect(run.eventsOf(context)).toEqual(['watch.listed', 'watch.finished']);
    expect(run.linesOf(context)[0]).toMatchObject({ subscriptions: 3, known: 3, new: 0 });
    expect(bed.azure.requests.count('resource-graph') - graphBefore).toBe(1);
    expect(bed.azure.requests.count('security-contacts')).toBe(contactsBefore);
    expect(bed.azure.requests.count('subscriptions')).toBe(armBefore);
    expect(bed.mail.messages).toHaveLength(mailsBefore);
  });

  it('the scan that follows does not alert on it again', async () => {
    await run.scan();
    expect(run.messagesNaming(NEW)).toHaveLength(1);
    const [scanRun] = await bed.deps.store.listScanRuns(1);
    expect(await bed.deps.store.getSubscription(NEW)).toMatchObject({ status: 'noncompliant', lastEvaluatedBy: scanRun!.scanId });
    expect(await bed.deps.store.history(NEW)).toHaveLength(1); // first seen by the watch; nothing moved since
  });

  it('alerts once when a scan is reading the same subscription at the same moment (no lease needed)', async () => {
    tenant.addSubscription({ subscriptionId: NEW_DURING_SCAN, displayName: 'Made by hand: during a scan', contacts: [] });
    // The scan's read of the new subscription is held until the watch has recorded and alerted on it.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const held = bed.azure.faults.add({ target: 'security-contacts', subscriptionId: NEW_DURING_SCAN, holdUntil: gate });
    const scanning = run.scan();
    await vi.waitFor(() => expect(held.hits).toBe(1), { timeout: 10_000, interval: 10 });

    const context = await run.watch();
    expect(run.linesOf(context)).toContainEqual(expect.objectContaining({ event: 'watch.finished', evaluated: 1 }));
    expect(run.messagesNaming(NEW_DURING_SCAN)).toHaveLength(1);
    open();
    const scan = await scanning;

    expect(run.eventsOf(scan)).toContain('scan.finished');
    expect(run.messagesNaming(NEW_DURING_SCAN)).toHaveLength(1);
    // The scan read it first: the watch's later reading stays the record.
    expect(await bed.deps.store.getSubscription(NEW_DURING_SCAN)).toMatchObject({
      status: 'noncompliant',
      lastEvaluatedBy: `watch:${context.invocationId}`,
    });
    expect(await bed.deps.store.history(NEW_DURING_SCAN)).toHaveLength(1);
  });

  it('leaves a new subscription in a state nothing is owed for (Disabled) to the scan, without reading it', async () => {
    tenant.addSubscription({ subscriptionId: NEW_DISABLED, displayName: 'Cancelled at once', state: 'Disabled', contacts: [] });
    const context = await run.watch();
    expect(run.linesOf(context)[0]).toMatchObject({ event: 'watch.listed', new: 0, notJudged: 1 });
    expect(run.requestsAbout(NEW_DISABLED)).toEqual([]);
    expect(await bed.deps.store.getSubscription(NEW_DISABLED)).toBeUndefined();

    await run.scan();
    expect((await bed.deps.store.getSubscription(NEW_DISABLED))?.status).toBe('skipped');
    const after = await run.watch();
    expect(run.linesOf(after)[0]).toMatchObject({ event: 'watch.listed', new: 0, notJudged: 0 });
  });

  it('a Resource Graph failure is logged and thrown, nothing is recorded, and the next run finds the subscription', async () => {
    tenant.addSubscription({ subscriptionId: NEW_DURING_OUTAGE, displayName: 'Made during an outage', contacts: [] });
    bed.azure.faults.add({ target: 'resource-graph', status: 503, times: Infinity });
    const failed = watchInvocation();
    await expect(createSubscriptionWatchHandler(bed.deps)(TIMER, failed)).rejects.toThrow(/Resource Graph subscriptions query .*503/);
    expect(run.linesOf(failed)).toEqual([expect.objectContaining({ event: 'watch.failed', stage: 'resource-graph' })]);
    expect(await bed.deps.store.getSubscription(NEW_DURING_OUTAGE)).toBeUndefined();
    expect(run.requestsAbout(NEW_DURING_OUTAGE)).toEqual([]);

    bed.azure.faults.clear();
    const context = await run.watch();
    expect(run.linesOf(context).at(-1)).toMatchObject({ event: 'watch.finished', new: 1, evaluated: 1 });
    expect((await bed.deps.store.getSubscription(NEW_DURING_OUTAGE))?.status).toBe('noncompliant');
    expect(run.messagesNaming(NEW_DURING_OUTAGE)).toHaveLength(1);
  });

  it('one subscription that cannot be read is left for the next run; the others of the run are evaluated', async () => {
    tenant.addSubscription({ subscriptionId: NEW_FLAKY, displayName: 'Flaky', contacts: [] });
    tenant.addSubscription({ subscriptionId: NEW_BESIDE_FLAKY, displayName: 'Beside the flaky one', contacts: [] });
    bed.azure.faults.add({ target: 'security-contacts', subscriptionId: NEW_FLAKY, status: 503, times: Infinity });
    const context = await run.watch();
    expect(run.linesOf(context).at(-1)).toMatchObject({
      event: 'watch.finished',
      new: 2,
      evaluated: 1,
      failed: 1,
      retryNextRun: [{ subscriptionId: NEW_FLAKY, error: expect.stringContaining('could not be read') }],
    });
    expect(run.linesOf(context)).toContainEqual(
      expect.objectContaining({ event: 'evaluation.failed', subscriptionId: NEW_FLAKY, transient: true }),
    );
    expect(await bed.deps.store.getSubscription(NEW_FLAKY)).toBeUndefined();
    expect(run.messagesNaming(NEW_BESIDE_FLAKY)).toHaveLength(1);

    bed.azure.faults.clear();
    const next = await run.watch();
    expect(run.linesOf(next).at(-1)).toMatchObject({ event: 'watch.finished', new: 1, evaluated: 1, failed: 0 });
    expect((await bed.deps.store.getSubscription(NEW_FLAKY))?.status).toBe('noncompliant');
    expect(run.messagesNaming(NEW_FLAKY)).toHaveLength(1);
  });

  it('a new subscription the app cannot read yet (403) is not alerted on by the watch; the scan records it as it always does', async () => {
    tenant.addSubscription({ subscriptionId: NEW_NOT_READABLE_YET, displayName: 'Access on its way', quirks: { forbidden: true } });
    for (const attempt of [1, 2]) {
      const context = await run.watch();
      expect(run.linesOf(context), `run ${attempt}`).toContainEqual(
        expect.objectContaining({ event: 'evaluation.failed', subscriptionId: NEW_NOT_READABLE_YET, retryUntil: expect.any(String) }),
      );
      expect(await bed.deps.store.getSubscription(NEW_NOT_READABLE_YET)).toBeUndefined();
    }
    expect(run.messagesNaming(NEW_NOT_READABLE_YET)).toHaveLength(0);

    await run.scan();
    expect((await bed.deps.store.getSubscription(NEW_NOT_READABLE_YET))?.status).toBe('error');
    const after = await run.watch();
    expect(run.linesOf(after)[0]).toMatchObject({ event: 'watch.listed', new: 0 });
  });
});

describe('the cost of a watch run (in-memory tables)', () => {
  const TENANT_SIZE = 2_500;
  let tenant: SimulatedTenant;
  let bed: AppTestBed;
  let run: ReturnType<typeof timersOf>;
  beforeAll(async () => {
    tenant = new SimulatedTenant();
    for (let index = 0; index < TENANT_SIZE; index++) {
      tenant.addSubscription({ displayName: `Workload ${index}`, contacts: [compliantContact2023()] });
    }
    bed = await startAppTestBed(tenant, { tablePrefix: 'watchcost' });
    run = timersOf(bed);
    await run.scan();
  });
  afterAll(async () => bed?.close());

  it('is one Resource Graph request per 1,000 subscriptions, paged with $skipToken, and reads only the new subscription', async () => {
    const added = tenant.addSubscription({ displayName: 'The 2,501st', contacts: [] });
    bed.azure.requests.clear();
    const context = await run.watch();

    const graph = bed.azure.requests.of('resource-graph');
    expect(graph).toHaveLength(Math.ceil((TENANT_SIZE + 1) / 1000));
    for (const [page, entry] of graph.entries()) {
      expect(entry.resourceGraph, `page ${page + 1}`).toMatchObject({ query: SUBSCRIPTION_IDS_QUERY, top: 1000 });
      expect(entry.resourceGraph!.skipToken === undefined, `page ${page + 1}`).toBe(page === 0);
    }
    expect(run.linesOf(context)[0]).toMatchObject({ subscriptions: TENANT_SIZE + 1, known: TENANT_SIZE, new: 1, resourceGraphRequests: 3 });
    expect(new Set(bed.azure.requests.of('security-contacts').map((entry) => entry.subscriptionId))).toEqual(
      new Set([added.subscriptionId]),
    );
    expect(run.messagesNaming(added.subscriptionId)).toHaveLength(1);
  });

  it(`leaves more than ${MAX_WATCH_EVALUATIONS} new subscriptions at once to the scan's digest, and says so`, async () => {
    const added = Array.from(
      { length: MAX_WATCH_EVALUATIONS + 3 },
      (_, index) => tenant.addSubscription({ displayName: `Batch ${index}`, contacts: [] }).subscriptionId,
    ).sort();
    const contactReads = bed.azure.requests.count('security-contacts');
    const context = watchInvocation();
    const outcome = await watchNewSubscriptions(bed.deps, context);
    expect(outcome).toMatchObject({ kind: 'ran', newSubscriptionIds: added, evaluated: [], deferred: added });
    expect(run.linesOf(context)).toContainEqual(
      expect.objectContaining({ event: 'watch.deferred', evaluating: 0, leftForLater: MAX_WATCH_EVALUATIONS + 3 }),
    );
    expect(bed.azure.requests.count('security-contacts')).toBe(contactReads);
    for (const id of added) expect(run.messagesNaming(id)).toHaveLength(0);
    // A second run leaves them too; the scan records them all, so the watch after it finds nothing new.
    expect(await watchNewSubscriptions(bed.deps, watchInvocation())).toMatchObject({ evaluated: [], deferred: added });
    await run.scan();
    expect(await watchNewSubscriptions(bed.deps, watchInvocation())).toMatchObject({ kind: 'ran', newSubscriptionIds: [], evaluated: [] });
  });
});

describe('a tenant the first scan could not see (in-memory tables)', () => {
  it('waits while the last complete scan recorded no subscription, instead of alerting on each one it then sees', async () => {
    const tenant = new SimulatedTenant();
    const bed = await startAppTestBed(tenant, { tablePrefix: 'watchempty', tables: 'in-memory' });
    try {
      const run = timersOf(bed);
      await run.scan();
      expect(await bed.deps.store.latestCompleteRun()).not.toBeNull();
      // Read access arrives: the tenant's subscriptions become visible between two scans.
      const visible = Array.from({ length: 3 }, (_, index) => tenant.addSubscription({ displayName: `Seen ${index}`, contacts: [] }));
      const context = await run.watch();
      expect(run.linesOf(context)).toContainEqual(
        expect.objectContaining({ event: 'watch.skipped', reason: expect.stringContaining('recorded no subscription') }),
      );
      expect(bed.azure.requests.count('security-contacts')).toBe(0);
      for (const { subscriptionId } of visible) expect(run.messagesNaming(subscriptionId)).toHaveLength(0);
    } finally {
      await bed.close();
    }
  });
});

describe('the grace period for new subscriptions (in-memory tables)', () => {
  const PRODUCTION = '3c000000-0000-4000-8000-000000000001';
  const NEW_IN_GRACE = '3c000000-0000-4000-8000-000000000002';
  const NEW_FIXED_IN_GRACE = '3c000000-0000-4000-8000-000000000003';
  const GRACE_MINUTES = 30;
  let now = new Date('2026-12-07T08:00:00.000Z');
  let tenant: SimulatedTenant;
  let bed: AppTestBed;
  let run: ReturnType<typeof timersOf>;
  beforeAll(async () => {
    tenant = new SimulatedTenant();
    tenant.addSubscription({ subscriptionId: PRODUCTION, displayName: 'Production', contacts: [compliantContact2023()] });
    bed = await startAppTestBed(tenant, {
      tablePrefix: 'watchgrace',
      clock: () => now,
      env: { CONTACT_WATCH_NEW_SUBSCRIPTION_GRACE_MINUTES: String(GRACE_MINUTES) },
    });
    run = timersOf(bed);
    await run.scan();
  });
  afterAll(async () => bed?.close());

  it('records a new subscription at once, alerts only once the grace is over, and not at all when its contact was set meanwhile', async () => {
    tenant.addSubscription({ subscriptionId: NEW_IN_GRACE, displayName: 'Vended by hand', contacts: [] });
    tenant.addSubscription({ subscriptionId: NEW_FIXED_IN_GRACE, displayName: 'Vended by hand, fixed', contacts: [] });
    now = new Date('2026-12-07T08:05:00.000Z');
    const context = await run.watch();
    expect(await bed.deps.store.getSubscription(NEW_IN_GRACE)).toMatchObject({
      status: 'noncompliant',
      firstSeenAt: '2026-12-07T08:05:00.000Z',
      lastAlertedAt: null,
    });
    expect(run.linesOf(context)).toContainEqual(
      expect.objectContaining({ event: 'alert.deferred', subscriptionId: NEW_IN_GRACE, until: '2026-12-07T08:35:00.000Z' }),
    );
    expect(bed.mail.messages).toHaveLength(0);

    // Within the grace: the pipeline sets one contact; the watch has nothing more to do.
    tenant.setContacts(NEW_FIXED_IN_GRACE, [compliantContact2023()]);
    now = new Date('2026-12-07T08:20:00.000Z');
    const during = await run.watch();
    expect(run.eventsOf(during)).toEqual(['watch.listed', 'watch.finished']);
    expect(bed.mail.messages).toHaveLength(0);

    // The first scan after the grace sends the alert that is owed, and only that one.
    now = new Date('2026-12-07T08:36:00.000Z');
    await run.scan();
    expect(run.messagesNaming(NEW_IN_GRACE)).toHaveLength(1);
    expect(run.messagesNaming(NEW_FIXED_IN_GRACE)).toHaveLength(0);
    expect(bed.mail.messages).toHaveLength(1);
  });
});

describe('remediation on (in-memory tables)', () => {
  const REMEDIATION_ADDRESS = 'secops@corp-sec.net';
  const PRODUCTION = '4d000000-0000-4000-8000-000000000001';
  const NEW = '4d000000-0000-4000-8000-000000000002';
  let tenant: SimulatedTenant;
  let bed: AppTestBed;
  let run: ReturnType<typeof timersOf>;
  beforeAll(async () => {
    tenant = new SimulatedTenant();
    tenant.addSubscription({ subscriptionId: PRODUCTION, displayName: 'Production', contacts: [compliantContact2023()] });
    bed = await startAppTestBed(tenant, {
      tablePrefix: 'watchrepair',
      policy: parsePolicy({ remediation: { emails: [REMEDIATION_ADDRESS] } }, 'test policy'),
      remediation: true,
    });
    run = timersOf(bed);
    await run.scan();
  });
  afterAll(async () => bed?.close());

  it('repairs a new subscription at once, as for SubscriptionCreated: one write, recorded with who made it, one e-mail saying so', async () => {
    tenant.addSubscription({ subscriptionId: NEW, displayName: 'Made by hand', contacts: [] });
    const context = await run.watch();

    const writes = bed.azure.requests.contactWrites({ accepted: true }).filter((write) => write.subscriptionId === NEW);
    expect(writes).toHaveLength(1);
    expect(writes[0]!.body).toMatchObject({ properties: { emails: REMEDIATION_ADDRESS, isEnabled: true } });
    expect(await bed.deps.store.getSubscription(NEW)).toMatchObject({
      status: 'compliant',
      lastRemediation: { by: `app on watch ${context.invocationId}`, outcome: 'fixed' },
    });
    const messages = run.messagesNaming(NEW);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.subject).toMatch(/repaired automatically/i);

    await run.watch();
    await run.scan();
    expect(bed.azure.requests.contactWrites({ accepted: true }).filter((write) => write.subscriptionId === NEW)).toHaveLength(1);
    expect(run.messagesNaming(NEW)).toHaveLength(1);
  });
});
