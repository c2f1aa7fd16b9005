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
import { manualClock, subscriptionIdFor, uniquePrefix, verdict } from '../state/support.js';
import { openStateStore, type StateStore } from '../../../src/adapters/table-storage/index.js';
import { TableOutbox } from '../../../src/adapters/table-storage/outbox.js';
import { createAcsEmailSender, type AcsEmailSenderOptions } from '../../../src/adapters/email/acs-email-sender.js';
import { createAlerting } from '../../../src/adapters/email/alerting.js';
import { readAlertingSettings } from '../../../src/alerts/settings.js';
import { AlertService, messageOperationId } from '../../../src/alerts/alert-service.js';
import { DELIVERED_RETENTION_DAYS, pruneDeliveredAlerts, requeueMessage } from '../../../src/alerts/outbox-admin.js';
import type { OutboxSender } from '../../../src/alerts/outbox-sender.js';
import type { AlertRecordStore, Outbox } from '../../../src/alerts/ports.js';
import { PORTAL_URLS } from '../../../src/alerts/templates.js';
import type { SubscriptionVerdict } from '../../../src/core/model.js';

const SENDER = 'DoNotReply@alerts.fabrikam.io';
const TEAM = ['secops@fabrikam.io', 'cloud-platform@fabrikam.io'];
const MINUTE = 60_000;
const DAY = 86_400_000;

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
}

async function harness(
  options: {
    maxSubscriptionsPerMessage?: number;
    rate?: { perMinute: number; perHour: number };
    maxFailures?: number;
    recordStore?: (store: StateStore) => AlertRecordStore;
    outboxWrapper?: (outbox: Outbox) => Outbox;
    senderOptions?: Partial<AcsEmailSenderOptions>;
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
    recipients: TEAM,
    template: { portalUrl: PORTAL_URLS.AzureCloud },
    limits: { maxSubscriptionsPerMessage: options.maxSubscriptionsPerMessage ?? 250, maxMessageBytes: 2 * 1024 * 1024 },
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
      await store.recordRun({
        scanId: `scan-${scans}`,
        trigger: 'test',
        evaluate: async () => ({ status: 'succeeded', scope: 'tenant', verdicts, readSubscriptionIds: verdicts.map((v) => v.subscriptionId) }),
      });
    },
    async notify(mode = 'digest', subscriptionIds) {
      await service.queueOwedAlerts({ mode, now: clock.now(), ...(subscriptionIds ? { subscriptionIds } : {}) });
      return service.deliverPending(clock.now());
    },
  };
}
const ACS_CUSTOM = { perMinute: 30, perHour: 100 };

/** Which subscription ids each e-mail the service accepted covers (read from its plain text). */
function coveredBy(ids: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const message of mail.messages) {
    for (const id of ids) if (message.plainText?.includes(`Id: ${id}`)) counts.set(id, (counts.get(id) ?? 0) + 1);
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
    await h.store.putExemption({ subscriptionId: id, reason: 'lab, torn down soon', owner: 'lead@fabrikam.io', expiresOn: '2025-06-03', createdBy: 'test' });
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
    const first = await h.notify();
    expect(first).toMatchObject({ sent: 1, pending: 3, failed: 0, throttled: true });
    expect(mail.messages).toHaveLength(2); // parts 1 and 2 reached the service
    const pending = await h.outbox.listMessages(['pending']);
    expect(pending).toHaveLength(3);
    const dropped = pending.find((m) => m.lastError?.includes('ECONNRESET'))!;
    expect(dropped).toMatchObject({ attempts: 1, failures: 1 });
    expect(dropped.nextAttemptAt).not.toBeNull();
    const throttled = pending.find((m) => m.lastError?.includes('429'))!;
    // Retry-After 30 s, counted from the moment of the answer on the run's clock.
    expect(Date.parse(throttled.nextAttemptAt!) - h.clock.now().getTime()).toBe(30_000);
    // Every record is marked: the alerts are owed by the outbox now, not by the records.
    expect((await h.store.loadSubscriptions()).every((r) => r.lastAlertedAt !== null)).toBe(true);

    // A run soon after: part 4 (never tried) goes; parts 2 and 3 wait for back-off and Retry-After.
    expect(await h.notify()).toMatchObject({ sent: 1, pending: 2 });
    expect(mail.messages).toHaveLength(3);

    h.clock.advance(5 * MINUTE);
    const second = await h.notify();
    expect(second).toMatchObject({ sent: 2, pending: 0, failed: 0, throttled: false });

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

  it('a backlog of 600 non-compliant subscriptions goes out as 3 digests, each within the limits', async () => {
    const h = await harness();
    const ids = Array.from({ length: 600 }, (_, i) => subscriptionIdFor(10_000 + i));
    await h.scan(ids.map((id) => verdict(id, 'noncompliant', `Workload ${id.slice(0, 8)} <team & co>`)));
    expect(await h.service.queueOwedAlerts({ mode: 'digest', now: h.clock.now() })).toMatchObject({ owed: 600, queued: 600, messages: 3, marked: 600 });
    expect(await h.service.deliverPending(h.clock.now())).toMatchObject({ sent: 3, pending: 0 });
    expect(mail.messages.map((m) => m.subject)).toEqual([1, 2, 3].map((part) => `[contact-watch] ${part < 3 ? 250 : 100} Azure subscriptions without a valid security contact (${part < 3 ? 250 : 100} new) (part ${part} of 3)`));
    for (const message of mail.messages) expect(Buffer.byteLength(message.html!) + Buffer.byteLength(message.plainText!)).toBeLessThan(10 * 1024 * 1024);
    const covered = coveredBy(ids);
    expect(ids.every((id) => covered.get(id) === 1)).toBe(true);
  });

  it('a crash after the message is written but before the records are marked does not compose a second message', async () => {
    let crash = true;
    const h = await harness({
      recordStore: (store) => ({
        loadSubscriptions: () => store.loadSubscriptions(),
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
        acceptedSince: (since) => outbox.acceptedSince(since),
        pruneDelivered: (before, limit) => outbox.pruneDelivered(before, limit),
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
    await h.store.recordEvaluation(verdict(id, 'noncompliant', hostile), { evaluatedBy: 'event:1' });
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

  it('keeps a message that keeps failing, reports it, and sends it again when requeued', async () => {
    const h = await harness({ maxFailures: 2 });
    const id = subscriptionIdFor(600);
    await h.scan([verdict(id, 'error')]);
    mail.faults.add({ kind: 'drop', times: 2 });
    expect(await h.notify()).toMatchObject({ sent: 0, pending: 1, failed: 0 });
    h.clock.advance(2 * MINUTE);
    expect(await h.notify()).toMatchObject({ sent: 0, pending: 0, failed: 1 });
    h.clock.advance(DAY);
    expect(await h.notify()).toMatchObject({ sent: 0, pending: 0, failed: 1 }); // kept, never silently dropped
    const [dead] = await h.outbox.listMessages(['dead']);
    expect(dead).toMatchObject({ attempts: 2, failures: 2, subscriptionIds: [id] });
    expect(await requeueMessage(h.outbox, dead!.operationId)).toEqual({ operationId: dead!.operationId, outcome: 'requeued', from: 'dead', sendsAs: dead!.operationId });
    expect(await requeueMessage(h.outbox, dead!.operationId)).toEqual({ operationId: dead!.operationId, outcome: 'not-given-up', state: 'pending' });
    expect(await h.notify()).toMatchObject({ sent: 1, pending: 0, failed: 0 });
    expect(mail.messages).toHaveLength(1);
    expect(mail.messages[0]!.subject).toContain('without a valid security contact');
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
    expect(await h.outbox.getMessage(failed!.operationId)).toMatchObject({ state: 'replaced', lastError: expect.stringMatching(new RegExp(`^requeued as ${copyId}; it had failed: `)) });
    expect(await requeueMessage(h.outbox, failed!.operationId)).toEqual({ operationId: failed!.operationId, outcome: 'not-given-up', state: 'replaced' });

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
    expect(await h.notify('single')).toMatchObject({ sent: 2, pending: 3, rateLimited: true });
    h.clock.advance(MINUTE + 1000);
    expect(await h.notify('single')).toMatchObject({ sent: 1, pending: 2, rateLimited: true }); // hourly cap
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
    expect(accepted[2]! - accepted[0]!).toBeGreaterThanOrEqual(60_000);
  });

  it('is wired from the environment by createAlerting', async () => {
    const clock = manualClock('2025-06-02T08:00:00.000Z');
    const store = openStateStore(azurite.connectionString, { tablePrefix: uniquePrefix(), clock: clock.now });
    const settings = readAlertingSettings({
      CONTACT_WATCH_ACS_CONNECTION_STRING: mail.connectionString(azure.url),
      CONTACT_WATCH_EMAIL_SENDER: SENDER,
      CONTACT_WATCH_ALERT_RECIPIENTS: TEAM.join(';'),
      CONTACT_WATCH_REMINDER_DAYS: '1',
    });
    const alerting = await createAlerting({
      settings,
      store,
      tables: store.connection,
      portalUrl: PORTAL_URLS.AzureUSGovernment,
      sender: { pollIntervalMs: 5, retry: { maxRetries: 0 } },
    });
    const id = subscriptionIdFor(950);
    await store.recordEvaluation(verdict(id, 'noncompliant', 'Gov workloads'), { evaluatedBy: 'test' });
    await alerting.service.queueOwedAlerts({ mode: 'digest', now: clock.now() });
    expect(await alerting.service.deliverPending(clock.now())).toMatchObject({ sent: 1, pending: 0 });
    const [message] = mail.messages;
    expect(message!.to.map((a) => a.address)).toEqual(TEAM);
    expect(message!.html).toContain('https://portal.azure.us/');
    // The rules' own remediation text sits beside the failed rule, and the suggested command
    // writes the security team's addresses.
    expect(message!.plainText).toContain("Fix: Set the contact's e-mail addresses");
    expect(message!.plainText).toContain('"emails":"secops@fabrikam.io;cloud-platform@fabrikam.io"');
    // Reminder after one day (CONTACT_WATCH_REMINDER_DAYS=1).
    clock.advance(DAY);
    await alerting.service.queueOwedAlerts({ mode: 'digest', now: clock.now() });
    expect(await alerting.service.deliverPending(clock.now())).toMatchObject({ sent: 1 });
    expect(mail.messages[1]!.subject).toContain('1 reminder');
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
