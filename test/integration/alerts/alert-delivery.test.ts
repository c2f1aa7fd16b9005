/**
 * Alerting end to end on real parts: the state store and the outbox in Azurite, the real ACS
 * Email SDK against the local ACS Email service, a controllable clock. Nothing lost, nothing
 * doubled: through dropped connections, throttling, crashes between writes and concurrent runs.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLocalAzure, type LocalAzure } from '../../azure-server/index.js';
import { createCommunicationEmailService, type CommunicationEmailService } from '../../azure-server/services/communication-email.js';
import { startAzurite, type AzuriteTables } from '../../support/azurite.js';
import { manualClock, recordTenantRun, subscriptionIdFor, uniquePrefix, verdict } from '../../contract/support.js';
import { openStateStore } from '../../../src/adapters/table-storage/index.js';
import { TableOutbox } from '../../../src/adapters/table-storage/outbox.js';
import { createAcsEmailSender, type AcsEmailSenderOptions } from '../../support/acs-email-sender.js';
import { createAlerting } from '../../../src/compose/alert-delivery.js';
import { readAlertingSettings } from '../../../src/compose/alerting-settings.js';
import { AlertService, messageOperationId } from '../../../src/alerts/alert-service.js';
import { DELIVERED_RETENTION_DAYS, pruneDeliveredAlerts, requeueMessage } from '../../../src/alerts/outbox-admin.js';
import type { OutboxSender } from '../../../src/alerts/outbox-sender.js';
import type { AlertRecordStore, Outbox } from '../../../src/alerts/ports.js';
import { DIGEST_LIMITS } from '../../../src/alerts/templates.js';
import { PORTAL_URLS } from '../../../src/core/azure-portal.js';
import type { SubscriptionVerdict } from '../../../src/core/model.js';
import type { StateStore } from '../../../src/scan/ports.js';

const SENDER = 'DoNotReply@alerts.fabrikam.io';
const TEAM = ['secops@fabrikam.io', 'cloud-platform@fabrikam.io'];
const MINUTE = 60_000;
const DAY = 86_400_000;
const REPORT_URL = 'https://contact-watch.fabrikam.net/api/report';
const KB = 1024;

let azurite: AzuriteTables;
let azure: LocalAzure;
let mail: CommunicationEmailService;
const accessKey = randomBytes(32).toString('base64');

beforeAll(async () => {
  mail = createCommunicationEmailService({ accessKey, senderAddresses: [SENDER] });
  [azurite, azure] = await Promise.all([startAzurite(), startLocalAzure({ services: [mail] })]);
});
afterAll(async () => {
  await Promise.all([azurite?.stop(), azure?.close()]);
});
beforeEach(() => mail.reset());

interface Harness {
  clock: ReturnType<typeof manualClock>;
  store: StateStore;
  outbox: TableOutbox;
  sender: OutboxSender;
  service: AlertService;
  scan(verdicts: SubscriptionVerdict[]): Promise<void>;
  /** A notify run: queue what is owed, then deliver. */
  notify(mode?: 'digest' | 'single', subscriptionIds?: string[]): Promise<Awaited<ReturnType<OutboxSender['sendPending']>>>;
  /**
   * A notify run, and how much real time it took: the sender's clock is the injected one plus the
   * real time the run spends, so a time it records lies within that much of the injected clock.
   */
  timedNotify(): Promise<{ counts: Awaited<ReturnType<OutboxSender['sendPending']>>; elapsedMs: number }>;
}

async function harness(
  options: {
    maxSubscriptionsPerMessage?: number;
    rate?: { perMinute: number; perHour: number };
    maxFailures?: number;
    recordStore?: (store: StateStore) => AlertRecordStore;
    outboxWrapper?: (outbox: Outbox) => Outbox;
    senderOptions?: Partial<AcsEmailSenderOptions>;
    reportUrl?: string;
  } = {},
): Promise<Harness> {
  const clock = manualClock('2025-06-02T08:00:00.000Z');
  const prefix = uniquePrefix();
  const store = openStateStore(azurite.connectionString, { tablePrefix: prefix, clock: clock.now });
  const outbox = await TableOutbox.connect(store.connection);
  const usedOutbox = options.outboxWrapper ? options.outboxWrapper(outbox) : outbox;
  const sender = createAcsEmailSender({
    outbox: usedOutbox,
    connection: { connectionString: mail.connectionString(azure.url) },
    senderAddress: SENDER,
    pollIntervalMs: 5,
    // Polls until the service gives its verdict: a bound only a broken service reaches, so that a
    // slow machine never turns a delivered message into one still running.
    maxPollWaitMs: 20_000,
    // The run's clock is the harness clock alone: real time spent sending does not move it, so
    // accepts, back-offs and Retry-After land where the test puts them however slow the machine.
    realTime: () => 0,
    // No in-run retry: each fault the service scripts is seen by the outbox.
    retry: { maxRetries: 0 },
    rate: options.rate ?? ACS_CUSTOM,
    maxRateWaitMs: 0,
    maxFailures: options.maxFailures ?? 10,
    ...options.senderOptions,
  });
  const service = new AlertService({
    store: options.recordStore ? options.recordStore(store) : store,
    outbox: usedOutbox,
    sender,
    channels: { email: { recipients: TEAM } },
    template: { portalUrl: PORTAL_URLS.AzureCloud, ...(options.reportUrl ? { reportUrl: options.reportUrl } : {}) },
    limits: {
      ...DIGEST_LIMITS,
      ...(options.maxSubscriptionsPerMessage ? { maxSubscriptionsPerMessage: options.maxSubscriptionsPerMessage } : {}),
    },
  });
  let scans = 0;
  return {
    clock,
    store,
    outbox,
    sender,
    service,
    async scan(verdicts) {
      scans += 1;
      await recordTenantRun(store, `scan-${scans}`, verdicts);
    },
    async notify(mode = 'digest', subscriptionIds) {
      await service.queueOwedAlerts({ mode, now: clock.now(), ...(subscriptionIds ? { subscriptionIds } : {}) });
      return service.deliverPending(clock.now());
    },
    async timedNotify() {
      await service.queueOwedAlerts({ mode: 'digest', now: clock.now() });
      const started = performance.now();
      const counts = await service.deliverPending(clock.now());
      return { counts, elapsedMs: Math.ceil(performance.now() - started) + 1 };
    },
  };
}
const ACS_CUSTOM = { perMinute: 30, perHour: 100 };

/** How many of the e-mails the service accepted name each subscription id (in their plain text). */
function coveredBy(ids: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of mail.messages) {
    for (const id of ids) if (message.plainText?.includes(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

describe('alerting with the state store, the outbox and ACS Email', () => {
  it('alerts once when a subscription turns non-compliant, not on the third scan, reminds after the interval', async () => {
    const h = await harness();
    const id = subscriptionIdFor(1);
    await h.scan([verdict(id, 'compliant', 'Payments prod')]);
    expect(await h.notify()).toMatchObject({ sent: 0, pending: 0, failed: 0 });

    h.clock.advance(30 * MINUTE);
    await h.scan([verdict(id, 'noncompliant', 'Payments prod')]);
    expect(await h.notify()).toMatchObject({ sent: 1, pending: 0 });
    expect(mail.messages).toHaveLength(1);
    expect(mail.messages[0]!.subject).toBe('[contact-watch] 1 Azure subscription without a valid security contact (1 new)');
    expect(mail.messages[0]!.to.map((a) => a.address)).toEqual(TEAM);
    expect(mail.messages[0]!.plainText).toContain('admin@contoso.com is on a placeholder domain');
    expect((await h.store.getSubscription(id))?.lastAlertedAt).toBe(h.clock.now().toISOString());

    // Second and third scans, unchanged: nothing more.
    for (let i = 0; i < 2; i += 1) {
      h.clock.advance(30 * MINUTE);
      await h.scan([verdict(id, 'noncompliant', 'Payments prod')]);
      expect(await h.notify()).toMatchObject({ sent: 0, pending: 0 });
    }
    expect(mail.messages).toHaveLength(1);

    // Seven days after the alert: a reminder, once.
    h.clock.advance(7 * DAY);
    await h.scan([verdict(id, 'noncompliant', 'Payments prod')]);
    expect(await h.notify()).toMatchObject({ sent: 1 });
    expect(await h.notify()).toMatchObject({ sent: 0 });
    expect(mail.messages).toHaveLength(2);
    expect(mail.messages[1]!.subject).toContain('1 reminder');
    expect(mail.messages[1]!.plainText).toContain('for 7 days');

    // Fixed: nothing owed (fixed notices are off by default).
    h.clock.advance(MINUTE);
    await h.scan([verdict(id, 'compliant', 'Payments prod')]);
    expect(await h.notify()).toMatchObject({ sent: 0 });
    expect(mail.messages).toHaveLength(2);
  });

  it('an exemption that expires turns the subscription back into noncompliant, and it is alerted on', async () => {
    const h = await harness();
    const id = subscriptionIdFor(2);
    await h.store.putExemption({
      subscriptionId: id,
      reason: 'lab, torn down soon',
      owner: 'lead@fabrikam.io',
      expiresOn: '2025-06-03',
      createdBy: 'test',
    });
    await h.scan([verdict(id, 'noncompliant', 'Lab')]);
    expect((await h.store.getSubscription(id))?.status).toBe('exempt');
    expect(await h.notify()).toMatchObject({ sent: 0 });

    h.clock.set('2025-06-04T00:10:00.000Z'); // the day after the expiry day (UTC)
    await h.scan([verdict(id, 'noncompliant', 'Lab')]);
    expect((await h.store.getSubscription(id))?.status).toBe('noncompliant');
    expect(await h.notify()).toMatchObject({ sent: 1 });
    expect(coveredBy([id]).get(id)).toBe(1);
  });

  it('the mail service fails mid-digest (dropped connection, then 429): the next run delivers every alert exactly once', async () => {
    const h = await harness({ maxSubscriptionsPerMessage: 4 });
    const ids = Array.from({ length: 16 }, (_, i) => subscriptionIdFor(100 + i));
    await h.scan(ids.map((id) => verdict(id, 'noncompliant')));

    // Digest part 1 goes through; part 2 is accepted by the service but the connection drops
    // before the answer; part 3 is throttled; part 4 is left for the next run.
    mail.faults.add({ kind: 'drop', when: 'after-accept', skip: 1 });
    mail.faults.add({ kind: 'throttle', retryAfterSeconds: 30 });
    const first = await h.timedNotify();
    expect(first.counts).toMatchObject({ sent: 1, pending: 3, failed: 0, throttled: true });
    expect(mail.messages).toHaveLength(2); // parts 1 and 2 reached the service
    const pending = await h.outbox.listMessages(['pending']);
    expect(pending).toHaveLength(3);
    const dropped = pending.find((m) => m.lastError?.includes('ECONNRESET'))!;
    expect(dropped).toMatchObject({ attempts: 1, failures: 1, nextAttemptAt: null, leaseUntil: null });
    const throttled = pending.find((m) => m.lastError?.includes('429'))!;
    // Retry-After 30 s, counted from the moment of the answer on the run's clock.
    expect(Date.parse(throttled.nextAttemptAt!) - h.clock.now().getTime()).toBe(30_000);
    expect(first.counts.nextAttempt).toEqual({ at: throttled.nextAttemptAt, reason: 'retry-after' });
    // Every record is marked: the alerts are owed by the outbox now, not by the records.
    expect((await h.store.loadSubscriptions()).every((r) => r.lastAlertedAt !== null)).toBe(true);

    // A run soon after sends nothing: the service's wait holds every send, not only the throttled one.
    expect(await h.notify()).toMatchObject({
      sent: 0,
      pending: 3,
      throttled: true,
      nextAttempt: { at: throttled.nextAttemptAt, reason: 'retry-after' },
    });
    expect(mail.messages).toHaveLength(2);

    // Once the wait is over, the next run sends the rest: the dropped part, the throttled one and the one never tried.
    h.clock.set(throttled.nextAttemptAt!);
    const second = await h.notify();
    expect(second).toMatchObject({ sent: 3, pending: 0, failed: 0, throttled: false, nextAttempt: null });

    // Four e-mails, each subscription in exactly one of them; the dropped part was re-sent
    // with its Operation-Id and the service did not deliver it again.
    expect(mail.messages).toHaveLength(4);
    const covered = coveredBy(ids);
    expect(ids.map((id) => covered.get(id))).toEqual(ids.map(() => 1));
    const retried = mail.sendAttempts.filter((a) => a.operationIdHeader === dropped.operationId);
    expect(retried.map((a) => a.outcome)).toEqual(['accepted', 'repeated']);
    expect(new Set(mail.sendAttempts.map((a) => a.operationIdHeader)).size).toBe(4);
    const sent = await h.outbox.listMessages(['sent']);
    expect(sent.map((m) => m.serviceStatus)).toEqual(['Succeeded', 'Succeeded', 'Succeeded', 'Succeeded']);

    // And later runs send nothing more.
    h.clock.advance(30 * MINUTE);
    await h.scan(ids.map((id) => verdict(id, 'noncompliant')));
    expect(await h.notify()).toMatchObject({ sent: 0, pending: 0 });
    expect(mail.messages).toHaveLength(4);
  });

  it('a backlog of 600 non-compliant subscriptions goes out as one digest under 100 KB: the first named, the rest counted, the report linked', async () => {
    const h = await harness({ reportUrl: REPORT_URL });
    const ids = Array.from({ length: 600 }, (_, i) => subscriptionIdFor(10_000 + i));
    await h.scan(ids.map((id) => verdict(id, 'noncompliant', `Workload ${id.slice(0, 8)} <team & co>`)));
    expect(await h.service.queueOwedAlerts({ mode: 'digest', now: h.clock.now() })).toMatchObject({
      owed: 600,
      queued: 600,
      messages: 1,
      marked: 600,
    });
    expect(await h.service.deliverPending(h.clock.now())).toMatchObject({ sent: 1, pending: 0 });
    expect(mail.messages).toHaveLength(1);
    const [message] = mail.messages;
    expect(message!.subject).toBe('[contact-watch] 600 Azure subscriptions without a valid security contact (600 new)');
    const htmlBytes = Buffer.byteLength(message!.html!);
    const textBytes = Buffer.byteLength(message!.plainText!);
    expect(htmlBytes + textBytes).toBeLessThan(100 * KB);
    expect(message!.html).toContain(`href="${REPORT_URL}"`);
    const named = ids.filter((id) => message!.plainText!.includes(id));
    expect(named.length).toBeGreaterThan(0);
    expect(message!.plainText).toContain(`and ${600 - named.length} more subscriptions`);
    // The message covers all 600: the outbox records every one, and none is owed again.
    const [sent] = await h.outbox.listMessages(['sent']);
    expect([...sent!.subscriptionIds].sort()).toEqual([...ids].sort());
    expect(await h.service.queueOwedAlerts({ mode: 'digest', now: h.clock.now() })).toMatchObject({ owed: 0 });
  });

  it('a digest lists subscriptions like the report, and an unreadable one as could not be read with its reason once', async () => {
    const h = await harness();
    const [zeta, alpha, locked, beta] = [
      subscriptionIdFor(1_001),
      subscriptionIdFor(1_002),
      subscriptionIdFor(1_000),
      subscriptionIdFor(1_003),
    ];
    await h.scan([
      verdict(zeta, 'noncompliant', 'Zeta'),
      verdict(alpha, 'noncompliant', 'alpha'),
      verdict(locked, 'error', 'Locked'),
      verdict(beta, 'noncompliant', 'Beta'),
    ]);
    expect(await h.notify()).toMatchObject({ sent: 1 });
    const [message] = mail.messages;
    expect(message!.subject).toBe('[contact-watch] 3 Azure subscriptions without a valid security contact, 1 could not be read (4 new)');
    for (const body of [message!.html!, message!.plainText!]) {
      const positions = [alpha, beta, zeta, locked].map((id) => body.indexOf(id));
      expect(positions.every((p) => p >= 0)).toBe(true);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
      expect(body.split('the security contacts could not be read: 403 AuthorizationFailed').length - 1).toBe(1);
      expect(body.slice(body.indexOf(locked))).not.toContain('owner-notifications');
    }
  });

  it('a crash after the message is written but before the records are marked does not compose a second message', async () => {
    let crash = true;
    const h = await harness({
      recordStore: (store) => ({
        loadSubscriptions: () => store.loadSubscriptions(),
        getSubscriptions: (ids) => store.getSubscriptions(ids),
        markAlerted: async (ids, at) => {
          if (crash) throw new Error('process died');
          return store.markAlerted(ids, at);
        },
      }),
    });
    const ids = [subscriptionIdFor(200), subscriptionIdFor(201)];
    await h.scan(ids.map((id) => verdict(id, 'noncompliant')));
    await expect(h.service.queueOwedAlerts({ mode: 'digest', now: h.clock.now() })).rejects.toThrow('process died');
    expect(await h.outbox.listMessages(['pending'])).toHaveLength(1);

    crash = false;
    h.clock.advance(MINUTE);
    const result = await h.service.queueOwedAlerts({ mode: 'digest', now: h.clock.now() });
    expect(result).toMatchObject({ owed: 2, queued: 0, messages: 0, alreadyQueued: 2, marked: 2 });
    expect(await h.outbox.listMessages(['pending'])).toHaveLength(1);
    expect(await h.service.deliverPending(h.clock.now())).toMatchObject({ sent: 1, pending: 0 });
    expect(mail.messages).toHaveLength(1);
    expect([...coveredBy(ids).values()]).toEqual([1, 1]);
  });

  it('a crash after claiming but before the message is written: a later run writes it, exactly once', async () => {
    let crash = true;
    const h = await harness({
      outboxWrapper: (outbox) => ({
        ensure: () => outbox.ensure(),
        claimAlert: (claim) => outbox.claimAlert(claim),
        // The process is gone: it can neither write the message nor undo its claims.
        releaseClaims: async (keys) => (crash ? Promise.reject(new Error('process died')) : outbox.releaseClaims(keys)),
        listClaims: (batchId) => outbox.listClaims(batchId),
        createMessage: async (message) => (crash ? Promise.reject(new Error('process died')) : outbox.createMessage(message)),
        getMessage: (id) => outbox.getMessage(id),
        listMessages: (states) => outbox.listMessages(states),
        updateMessage: (message, patch) => outbox.updateMessage(message, patch),
        acceptedSince: (since, channel) => outbox.acceptedSince(since, channel),
        pruneDelivered: (before, limit) => outbox.pruneDelivered(before, limit),
        readChannelSet: () => outbox.readChannelSet(),
        writeChannelSet: (set) => outbox.writeChannelSet(set),
      }),
    });
    const ids = [subscriptionIdFor(300), subscriptionIdFor(301), subscriptionIdFor(302)];
    await h.scan(ids.map((id) => verdict(id, 'noncompliant')));
    await expect(h.service.queueOwedAlerts({ mode: 'digest', now: h.clock.now() })).rejects.toThrow('process died');
    crash = false;

    // Moments later (another run may still be writing): the claims are respected, nothing new.
    h.clock.advance(MINUTE);
    expect(await h.service.queueOwedAlerts({ mode: 'digest', now: h.clock.now() })).toMatchObject({ queued: 0, messages: 0, marked: 0 });
    expect(await h.outbox.listMessages(['pending'])).toHaveLength(0);

    // After the claim lease: the batch is completed from the stored claims.
    h.clock.advance(10 * MINUTE);
    expect(await h.service.queueOwedAlerts({ mode: 'digest', now: h.clock.now() })).toMatchObject({ queued: 0, messages: 1, marked: 3 });
    expect(await h.service.queueOwedAlerts({ mode: 'digest', now: h.clock.now() })).toMatchObject({ owed: 0, messages: 0 });
    expect(await h.service.deliverPending(h.clock.now())).toMatchObject({ sent: 1 });
    expect(mail.messages).toHaveLength(1);
    expect([...coveredBy(ids).values()]).toEqual([1, 1, 1]);
  });

  it('a message that could not be written (storage hiccup) releases its claims, so the next run queues at once', async () => {
    let failNext = true;
    const h = await harness({
      outboxWrapper: (outbox) =>
        Object.assign(Object.create(outbox) as Outbox, {
          createMessage: async (message: Parameters<Outbox['createMessage']>[0]) => {
            if (failNext) {
              failNext = false;
              throw new Error('503 ServerBusy');
            }
            return outbox.createMessage(message);
          },
        }),
    });
    const id = subscriptionIdFor(350);
    await h.scan([verdict(id, 'noncompliant')]);
    await expect(h.service.queueOwedAlerts({ mode: 'digest', now: h.clock.now() })).rejects.toThrow('ServerBusy');
    expect((await h.store.getSubscription(id))?.lastAlertedAt).toBeNull();
    expect(await h.notify()).toMatchObject({ sent: 1, pending: 0 });
    expect([...coveredBy([id]).values()]).toEqual([1]);
  });

  it('two runs at once (timer scan and an event) never alert on the same subscription twice', async () => {
    const h = await harness();
    const ids = Array.from({ length: 6 }, (_, i) => subscriptionIdFor(400 + i));
    await h.scan(ids.map((id) => verdict(id, 'noncompliant')));
    await Promise.all([
      h.service.queueOwedAlerts({ mode: 'digest', now: h.clock.now() }),
      h.service.queueOwedAlerts({ mode: 'single', now: h.clock.now(), subscriptionIds: [ids[0]!] }),
      h.service.queueOwedAlerts({ mode: 'digest', now: h.clock.now() }),
    ]);
    await Promise.all([h.service.deliverPending(h.clock.now()), h.service.deliverPending(h.clock.now())]);
    expect(await h.service.deliverPending(h.clock.now())).toMatchObject({ pending: 0, failed: 0 });
    const covered = coveredBy(ids);
    expect(ids.map((id) => covered.get(id))).toEqual(ids.map(() => 1));
  });

  it('an event sends one message about its subscription; a duplicate delivery sends nothing more', async () => {
    const h = await harness();
    const id = subscriptionIdFor(500);
    const hostile = 'Prod <script>alert(1)</script>\r\nBcc: attacker@evil.test';
    await h.store.recordEvaluation(verdict(id, 'noncompliant', hostile), { evaluatedBy: 'event:1', readAt: h.clock.now() });
    expect(await h.notify('single', [id])).toMatchObject({ sent: 1 });
    expect(await h.notify('single', [id])).toMatchObject({ sent: 0 });
    expect(mail.messages).toHaveLength(1);
    const [message] = mail.messages;
    // The display name is user input: escaped in HTML, absent from the subject (the only header we set).
    expect(message!.subject).toBe(`[contact-watch] Subscription ${id} has no valid security contact`);
    expect(message!.html).toContain('Prod &lt;script&gt;alert(1)&lt;/script&gt; Bcc: attacker@evil.test');
    expect(message!.html).not.toContain('<script>');
    expect(message!.headers).toEqual({});
  });

  it('a send that failed (the connection dropped) is tried again by the very next run', async () => {
    const h = await harness();
    const id = subscriptionIdFor(610);
    await h.scan([verdict(id, 'noncompliant')]);
    mail.faults.add({ kind: 'drop' });
    const first = await h.notify();
    expect(first).toMatchObject({ sent: 0, pending: 1, failed: 0, throttled: false, nextAttempt: { reason: 'next-run' } });
    const [queued] = await h.outbox.listMessages(['pending']);
    expect(queued).toMatchObject({ attempts: 1, failures: 1, nextAttemptAt: null, leaseUntil: null });
    expect(queued!.lastError).toContain('ECONNRESET');

    // Someone runs it again at once (the clock has not moved): the message goes.
    expect(await h.notify()).toMatchObject({ sent: 1, pending: 0, failed: 0, nextAttempt: null });
    expect(mail.messages).toHaveLength(1);
    expect(coveredBy([id]).get(id)).toBe(1);
    expect(mail.sendAttempts.map((attempt) => [attempt.operationIdHeader, attempt.outcome])).toEqual([
      [queued!.operationId, 'dropped'],
      [queued!.operationId, 'accepted'],
    ]);
  });

  it.each(['1e9', '1e20'])(
    'a Retry-After of %s seconds holds the message one hour at most, leaves it unleased, and it goes after the hour',
    async (retryAfter) => {
      const h = await harness();
      const id = subscriptionIdFor(620);
      await h.scan([verdict(id, 'noncompliant')]);
      mail.faults.add({ kind: 'throttle', retryAfter });
      const { counts, elapsedMs } = await h.timedNotify();
      expect(counts).toMatchObject({ sent: 0, pending: 1, failed: 0, throttled: true });
      const [held] = await h.outbox.listMessages(['pending']);
      expect(held).toMatchObject({ leaseUntil: null, attempts: 1, failures: 0 });
      expect(held!.lastError).toContain('more than the one hour honoured');
      const wait = Date.parse(held!.nextAttemptAt!) - h.clock.now().getTime();
      expect(wait).toBeGreaterThanOrEqual(HOUR_MS);
      expect(wait).toBeLessThanOrEqual(HOUR_MS + elapsedMs);
      expect(counts.nextAttempt).toEqual({ at: held!.nextAttemptAt, reason: 'retry-after' });

      // A second before the hour is over, a run leaves it; at the hour, the run sends it.
      h.clock.set(new Date(Date.parse(held!.nextAttemptAt!) - 1000).toISOString());
      expect(await h.notify()).toMatchObject({ sent: 0, pending: 1, nextAttempt: { at: held!.nextAttemptAt, reason: 'retry-after' } });
      expect(mail.sendAttempts).toHaveLength(1);
      h.clock.set(held!.nextAttemptAt!);
      expect(await h.notify()).toMatchObject({ sent: 1, pending: 0, nextAttempt: null });
      expect(mail.messages).toHaveLength(1);
    },
  );

  it('a wait stored beyond an hour ahead (written before waits were bounded) does not hold the message', async () => {
    const h = await harness();
    await h.scan([verdict(subscriptionIdFor(625), 'noncompliant')]);
    await h.service.queueOwedAlerts({ mode: 'digest', now: h.clock.now() });
    const [message] = await h.outbox.listMessages(['pending']);
    await h.outbox.updateMessage(message!, { nextAttemptAt: '2058-01-01T00:00:00.000Z', lastError: 'HTTP 429' });
    expect(await h.service.deliverPending(h.clock.now())).toMatchObject({ sent: 1, pending: 0 });
  });

  it('a storage hiccup while recording the outcome does not leave the message leased', async () => {
    let writes = 0;
    const h = await harness({
      outboxWrapper: (outbox) =>
        Object.assign(Object.create(outbox) as Outbox, {
          updateMessage: async (...args: Parameters<Outbox['updateMessage']>) => {
            writes += 1;
            // The first write leases the message; the second records the outcome.
            if (writes === 2) throw new Error('503 ServerBusy');
            return outbox.updateMessage(...args);
          },
        }),
    });
    await h.scan([verdict(subscriptionIdFor(630), 'noncompliant')]);
    mail.faults.add({ kind: 'drop' });
    expect(await h.notify()).toMatchObject({ sent: 0, pending: 1 });
    const [message] = await h.outbox.listMessages(['pending']);
    expect(message).toMatchObject({ leaseUntil: null, attempts: 1, failures: 1 });
    expect(await h.notify()).toMatchObject({ sent: 1, pending: 0 });
  });

  it('keeps trying a message at every run while the service is down, gives up only after a day of failures, and sends it when requeued', async () => {
    const h = await harness();
    const id = subscriptionIdFor(600);
    await h.scan([verdict(id, 'error')]);
    const composedAt = h.clock.now().getTime();
    mail.faults.add({ kind: 'drop', times: 1000 });

    // A burst of runs within minutes (events about other subscriptions) does not use the message up.
    for (let run = 0; run < 12; run += 1) {
      expect(await h.notify()).toMatchObject({ sent: 0, pending: 1, failed: 0, nextAttempt: { reason: 'next-run' } });
      h.clock.advance(10_000);
    }
    // The timer, every 30 minutes, tries it at each run for the rest of the day.
    let runs = 12;
    while (h.clock.now().getTime() + 30 * MINUTE < composedAt + DAY) {
      h.clock.advance(30 * MINUTE);
      expect(await h.notify()).toMatchObject({ sent: 0, pending: 1, failed: 0 });
      runs += 1;
    }
    expect(mail.sendAttempts).toHaveLength(runs);

    // A day after it was composed, failing still: given up, kept and counted, never silently dropped.
    h.clock.advance(30 * MINUTE);
    expect(await h.notify()).toMatchObject({ sent: 0, pending: 0, failed: 1, nextAttempt: null });
    h.clock.advance(DAY);
    expect(await h.notify()).toMatchObject({ sent: 0, pending: 0, failed: 1 });
    expect(mail.sendAttempts).toHaveLength(runs + 1);
    const [dead] = await h.outbox.listMessages(['dead']);
    expect(dead).toMatchObject({ attempts: runs + 1, failures: runs + 1, subscriptionIds: [id], leaseUntil: null });

    mail.faults.clear();
    expect(await requeueMessage(h.outbox, dead!.operationId)).toEqual({
      operationId: dead!.operationId,
      outcome: 'requeued',
      from: 'dead',
      sendsAs: dead!.operationId,
    });
    expect(await requeueMessage(h.outbox, dead!.operationId)).toEqual({
      operationId: dead!.operationId,
      outcome: 'not-given-up',
      state: 'pending',
    });
    expect(await h.notify()).toMatchObject({ sent: 1, pending: 0, failed: 0 });
    expect(mail.messages).toHaveLength(1);
    expect(mail.messages[0]!.subject).toBe('[contact-watch] 1 Azure subscription could not be read (1 new)');
  });

  it('messages the service keeps refusing do not hold back the ones queued behind them', async () => {
    const h = await harness({ maxSubscriptionsPerMessage: 1 });
    const ids = Array.from({ length: 4 }, (_, i) => subscriptionIdFor(640 + i));
    await h.scan(ids.map((id) => verdict(id, 'noncompliant')));
    await h.service.queueOwedAlerts({ mode: 'digest', now: h.clock.now() });
    const parts = await h.outbox.listMessages(['pending']);
    expect(parts).toHaveLength(4);
    const refused = parts.slice(0, 3).map((part) => part.operationId);
    for (const operationId of refused) mail.faults.add({ kind: 'refuse', operationId, times: 1000 });

    // Three refusals in a row end the run (the service may be down): the fourth part is left.
    expect(await h.service.deliverPending(h.clock.now())).toMatchObject({ sent: 0, pending: 4 });
    expect(mail.sendAttempts.map((attempt) => attempt.operationIdHeader)).toEqual(refused);
    // The next run tries the part that has not failed first.
    expect(await h.service.deliverPending(h.clock.now())).toMatchObject({ sent: 1, pending: 3 });
    expect(mail.sendAttempts[3]).toMatchObject({ operationIdHeader: parts[3]!.operationId, outcome: 'accepted' });
    expect(coveredBy(ids).get(ids[3]!)).toBe(1);
  });

  it('prunes delivered messages and claims older than the retention, never an undelivered one', async () => {
    const h = await harness();
    const delivered = subscriptionIdFor(900);
    const undelivered = subscriptionIdFor(901);
    await h.scan([verdict(delivered, 'noncompliant')]);
    expect(await h.notify()).toMatchObject({ sent: 1 });
    await h.scan([verdict(delivered, 'noncompliant'), verdict(undelivered, 'error')]);
    mail.faults.add({ kind: 'fail-delivery' });
    expect(await h.notify()).toMatchObject({ sent: 0, failed: 1 });
    const [oldSent] = await h.outbox.listMessages(['sent']);
    const [oldFailed] = await h.outbox.listMessages(['failed']);

    // Just inside the retention: nothing goes.
    h.clock.advance(DELIVERED_RETENTION_DAYS * DAY - MINUTE);
    expect(await pruneDeliveredAlerts(h.outbox, h.clock.now())).toEqual({ messages: 0, claims: 0 });

    // A reminder is composed and sent; then the retention passes for the first two messages.
    expect(await h.notify()).toMatchObject({ sent: 1 });
    h.clock.advance(2 * MINUTE);
    expect(await pruneDeliveredAlerts(h.outbox, h.clock.now())).toEqual({ messages: 1, claims: 2 });
    expect(await h.outbox.getMessage(oldSent!.operationId)).toBeNull();
    expect(await h.outbox.getMessage(oldFailed!.operationId)).toMatchObject({ state: 'failed' });
    expect(await h.outbox.listMessages(['sent'])).toHaveLength(1); // the reminder, inside the retention
    expect(await pruneDeliveredAlerts(h.outbox, h.clock.now())).toEqual({ messages: 0, claims: 0 });
  });

  it('a Failed delivery is kept and counted, not retried silently', async () => {
    const h = await harness();
    await h.scan([verdict(subscriptionIdFor(700), 'noncompliant')]);
    mail.faults.add({ kind: 'fail-delivery' });
    expect(await h.notify()).toMatchObject({ sent: 0, pending: 0, failed: 1 });
    const [failed] = await h.outbox.listMessages(['failed']);
    expect(failed).toMatchObject({ serviceStatus: 'Failed' });
    expect(failed!.lastError).toContain('EmailDropped');
  });

  it('requeues a Failed message as a copy under a new Operation-Id (the service repeats a failure for the old one), once even if interrupted', async () => {
    const h = await harness();
    await h.scan([verdict(subscriptionIdFor(750), 'noncompliant')]);
    mail.faults.add({ kind: 'fail-delivery' });
    expect(await h.notify()).toMatchObject({ sent: 0, failed: 1 });
    const [failed] = await h.outbox.listMessages(['failed']);

    // The first requeue dies after writing the copy; the second completes it without a second copy.
    let interrupted = false;
    const dying: Outbox = Object.assign(Object.create(h.outbox) as Outbox, {
      updateMessage: async (...args: Parameters<Outbox['updateMessage']>) => {
        if (!interrupted) {
          interrupted = true;
          throw new Error('process killed');
        }
        return h.outbox.updateMessage(...args);
      },
    });
    await expect(requeueMessage(dying, failed!.operationId)).rejects.toThrow('process killed');
    const outcome = await requeueMessage(h.outbox, failed!.operationId);
    expect(outcome).toMatchObject({ operationId: failed!.operationId, outcome: 'requeued', from: 'failed' });
    const copyId = outcome.outcome === 'requeued' ? outcome.sendsAs : '';
    expect(copyId).not.toBe(failed!.operationId);
    expect((await h.outbox.listMessages(['pending'])).map((message) => message.operationId)).toEqual([copyId]);
    expect(await h.outbox.getMessage(failed!.operationId)).toMatchObject({
      state: 'replaced',
      lastError: expect.stringMatching(new RegExp(`^requeued as ${copyId}; it had failed: `)),
    });
    expect(await requeueMessage(h.outbox, failed!.operationId)).toEqual({
      operationId: failed!.operationId,
      outcome: 'not-given-up',
      state: 'replaced',
    });

    expect(await h.notify()).toMatchObject({ sent: 1, pending: 0, failed: 0 });
    // The service holds the failed operation and the copy's, which it delivered.
    expect(mail.messages.map((message) => [message.operationId, message.status])).toEqual([
      [failed!.operationId, 'Failed'],
      [copyId, 'Succeeded'],
    ]);
    expect(mail.sendAttempts.at(-1)).toMatchObject({ operationIdHeader: copyId, outcome: 'accepted' });
  });

  it('respects the configured rate and leaves the rest queued', async () => {
    const h = await harness({ rate: { perMinute: 2, perHour: 3 } });
    const ids = Array.from({ length: 5 }, (_, i) => subscriptionIdFor(800 + i));
    await h.scan(ids.map((id) => verdict(id, 'noncompliant')));
    const first = await h.notify('single');
    expect(first).toMatchObject({ sent: 2, pending: 3, rateLimited: true, nextAttempt: { reason: 'rate-limit' } });
    // The per-minute window: free a minute after the first of the two sends.
    const [firstSent] = (await h.outbox.listMessages(['sent'])).map((m) => Date.parse(m.acceptedAt!)).sort((a, b) => a - b);
    expect(Date.parse(first.nextAttempt!.at)).toBe(firstSent! + MINUTE);
    h.clock.advance(MINUTE + 1000);
    const second = await h.notify('single');
    expect(second).toMatchObject({ sent: 1, pending: 2, rateLimited: true, nextAttempt: { reason: 'rate-limit' } }); // hourly cap
    expect(Date.parse(second.nextAttempt!.at)).toBe(firstSent! + HOUR_MS);
    h.clock.advance(HOUR_MS);
    expect(await h.notify('single')).toMatchObject({ sent: 2, pending: 0 });
    expect(mail.messages).toHaveLength(5);
  });

  it('waits within a run for the per-minute window when that wait is short', async () => {
    const slept: number[] = [];
    const h = await harness({
      rate: { perMinute: 2, perHour: 100 },
      senderOptions: { maxRateWaitMs: 65_000, sleep: async (ms) => void slept.push(ms) },
    });
    const ids = Array.from({ length: 5 }, (_, i) => subscriptionIdFor(850 + i));
    await h.scan(ids.map((id) => verdict(id, 'noncompliant')));
    expect(await h.notify('single')).toMatchObject({ sent: 5, pending: 0, rateLimited: false });
    // Two waits for the end of the minute window: messages 3 and 5 waited for it.
    expect(slept).toHaveLength(2);
    for (const ms of slept) {
      expect(ms).toBeGreaterThanOrEqual(60_000);
      expect(ms).toBeLessThanOrEqual(60_010);
    }
    const accepted = (await h.outbox.listMessages(['sent'])).map((m) => Date.parse(m.acceptedAt!)).sort((a, b) => a - b);
    // No three sends within a minute.
    for (let i = 2; i < accepted.length; i += 1) expect(accepted[i]! - accepted[i - 2]!).toBeGreaterThanOrEqual(60_000);
  });

  it('is wired from the environment by createAlerting', async () => {
    const clock = manualClock('2025-06-02T08:00:00.000Z');
    const store = openStateStore(azurite.connectionString, { tablePrefix: uniquePrefix(), clock: clock.now });
    const settings = readAlertingSettings({
      CONTACT_WATCH_ACS_CONNECTION_STRING: mail.connectionString(azure.url),
      CONTACT_WATCH_EMAIL_SENDER: SENDER,
      CONTACT_WATCH_ALERT_RECIPIENTS: TEAM.join(';'),
      CONTACT_WATCH_REMINDER_DAYS: '1',
      CONTACT_WATCH_REPORT_URL: REPORT_URL,
    });
    const alerting = await createAlerting({
      settings,
      store,
      tables: store.connection,
      portalUrl: PORTAL_URLS.AzureUSGovernment,
      sender: { pollIntervalMs: 5, retry: { maxRetries: 0 } },
    });
    const id = subscriptionIdFor(950);
    // No valid address of its own would remain, and the policy names none to add.
    const withoutAddresses: SubscriptionVerdict = {
      ...verdict(id, 'noncompliant', 'Gov workloads'),
      fix: {
        kind: 'put',
        placeholderEmails: true,
        changes: ['added secops@your-company.internal, as no valid address remained'],
        body: {
          properties: {
            emails: 'secops@your-company.internal',
            isEnabled: true,
            notificationsByRole: { state: 'On', roles: ['Owner'] },
            notificationsSources: [],
          },
        },
      },
    };
    await store.recordEvaluation(withoutAddresses, { evaluatedBy: 'test', readAt: clock.now() });
    await alerting.service.queueOwedAlerts({ mode: 'digest', now: clock.now() });
    expect(await alerting.service.deliverPending(clock.now())).toMatchObject({ sent: 1, pending: 0 });
    const [message] = mail.messages;
    expect(message!.to.map((a) => a.address)).toEqual(TEAM);
    expect(message!.html).toContain('https://portal.azure.us/');
    expect(message!.html).toContain(`href="${REPORT_URL}"`);
    // The rules' own remediation text sits beside the failed rule, and the suggested command is
    // the merged body exactly: its example address, with the note to replace it, never the
    // alert's recipients.
    expect(message!.plainText).toContain("Fix: Set the contact's e-mail addresses");
    const command = message!.plainText!.split('\n').find((line) => line.includes('az rest --method put'))!;
    expect(JSON.parse(/--body '(.*)'$/.exec(command)![1]!)).toEqual((withoutAddresses.fix as { body: unknown }).body);
    expect(message!.plainText).toContain("# Replace secops@your-company.internal with your security team's shared mailbox first.");
    for (const recipient of TEAM) expect(command).not.toContain(recipient);
    // Reminder after one day (CONTACT_WATCH_REMINDER_DAYS=1).
    clock.advance(DAY);
    await alerting.service.queueOwedAlerts({ mode: 'digest', now: clock.now() });
    expect(await alerting.service.deliverPending(clock.now())).toMatchObject({ sent: 1 });
    expect(mail.messages[1]!.subject).toContain('1 reminder');
  });

  it('reports a subscription contact-watch repaired once, as repaired automatically, through the outbox', async () => {
    const h = await harness();
    const id = subscriptionIdFor(960);
    await h.scan([verdict(id, 'noncompliant', 'Payments prod')]);
    expect(await h.notify()).toMatchObject({ sent: 1 });

    h.clock.advance(DAY);
    // The write and the reading after it, as the remediation records them.
    const repairedAt = h.clock.now();
    const body = {
      properties: {
        emails: 'secops@fabrikam.io',
        isEnabled: true,
        notificationsByRole: { state: 'On', roles: ['Owner'] },
        notificationsSources: [{ sourceType: 'Alert', minimalSeverity: 'High' }],
      },
    };
    await h.store.recordEvaluation(verdict(id, 'compliant', 'Payments prod'), {
      evaluatedBy: 'fix by alice@fabrikam.io',
      readAt: repairedAt,
      remediation: {
        at: repairedAt.toISOString(),
        by: 'fix by alice@fabrikam.io',
        outcome: 'fixed',
        changes: ['removed admin@contoso.com, which failed email-configured', 'added secops@fabrikam.io, as no valid address remained'],
        body,
      },
    });
    expect(await h.notify()).toMatchObject({ sent: 1 });
    const message = mail.messages[1]!;
    expect(message.subject).toBe('[contact-watch] 1 Azure subscription repaired automatically (1 repaired automatically)');
    expect(message.plainText).toContain(
      `* Payments prod [${id}]: repaired automatically at ${repairedAt.toISOString().replace('T', ' ').replace('.000Z', 'Z')}`,
    );
    expect(message.plainText).toContain('(made by: fix by alice@fabrikam.io): removed admin@contoso.com, which failed email-configured');
    expect(message.plainText).not.toContain('How to fix');
    // Once.
    h.clock.advance(MINUTE);
    expect(await h.notify()).toMatchObject({ sent: 0 });
    expect(mail.messages).toHaveLength(2);
  });

  it('says in the alert that an automatic repair was tried and why it failed', async () => {
    const h = await harness();
    const id = subscriptionIdFor(961);
    await h.scan([verdict(id, 'noncompliant', 'Ledger')]);
    h.clock.advance(MINUTE);
    const triedAt = h.clock.now();
    await h.store.recordEvaluation(verdict(id, 'noncompliant', 'Ledger'), {
      evaluatedBy: 'app: scan 7',
      readAt: triedAt,
      remediation: {
        at: triedAt.toISOString(),
        by: 'app: scan 7',
        outcome: 'failed',
        changes: ['added Owner to the notified roles'],
        reason: 'the write was refused: HTTP 403 AuthorizationFailed',
        body: {
          properties: {
            emails: 'ops@fabrikam.io',
            isEnabled: true,
            notificationsByRole: { state: 'On', roles: ['Owner'] },
            notificationsSources: [],
          },
        },
      },
    });
    expect(await h.notify('single', [id])).toMatchObject({ sent: 1 });
    const [message] = mail.messages;
    expect(message!.subject).toContain('has no valid security contact');
    expect(message!.plainText).toContain(
      `contact-watch tried to repair it automatically at ${triedAt.toISOString().replace('T', ' ').replace('.000Z', 'Z')} and could not: the write was refused: HTTP 403 AuthorizationFailed`,
    );
  });

  it('re-sends an operation the service still runs by polling it, not by sending it again', async () => {
    const h = await harness();
    const id = subscriptionIdFor(900);
    await h.scan([verdict(id, 'noncompliant')]);
    // The service keeps answering Running for longer than one run waits.
    const slow = createCommunicationEmailService({ accessKey, runningPolls: 3 });
    const local = await startLocalAzure({ services: [slow] });
    try {
      const sender = createAcsEmailSender({
        outbox: h.outbox,
        connection: { connectionString: slow.connectionString(local.url) },
        senderAddress: SENDER,
        pollIntervalMs: 1,
        maxPollWaitMs: 0,
        rate: ACS_CUSTOM,
        realTime: () => 0,
      });
      await h.service.queueOwedAlerts({ mode: 'digest', now: h.clock.now() });
      expect(await sender.sendPending(h.clock.now())).toMatchObject({ sent: 0, pending: 1 });
      const [accepted] = await h.outbox.listMessages(['accepted']);
      expect(accepted).toMatchObject({ serviceStatus: 'Running' });
      expect(accepted!.operationId).toBe(messageOperationId(accepted!.batchId, 0));
      let counts = await sender.sendPending(h.clock.now());
      for (let i = 0; i < 5 && counts.pending > 0; i += 1) counts = await sender.sendPending(h.clock.now());
      expect(counts).toMatchObject({ sent: 1, pending: 0 });
      expect(slow.sendAttempts).toHaveLength(1);
      expect(slow.messages).toHaveLength(1);
    } finally {
      await local.close();
    }
  });
});

const HOUR_MS = 3_600_000;
