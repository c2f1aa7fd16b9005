/**
 * The alert channels beside e-mail end to end (docs/reference/alerts.md): the state store and the
 * outbox in Azurite, the real transports (the Azure SDK's HTTP pipeline) against a local Teams
 * workflow and a local webhook receiver on the local Azure test server, ACS Email beside them, a
 * controllable clock. Each owed alert reaches each channel exactly once, through throttling,
 * server errors and dropped connections across runs; one channel's trouble never holds back or
 * doubles another's; the webhook's signature verifies with the procedure the docs give; and no
 * URL or secret of a channel reaches the outbox, a log line or stderr.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { TableClient } from '@azure/data-tables';
import azureFunctions from '@azure/functions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedTenant, startLocalAzure, type LocalAzure } from '../../azure-server/index.js';
import { createCommunicationEmailService, type CommunicationEmailService } from '../../azure-server/services/communication-email.js';
import { createTeamsWorkflowReceiver, type TeamsWorkflowReceiver } from '../../azure-server/services/teams-workflow.js';
import { createWebhookReceiver, type WebhookReceiver } from '../../azure-server/services/signed-webhook.js';
import { startAzurite, type AzuriteTables } from '../../support/azurite.js';
import { azuriteTestTables, testAppDependencies } from '../../support/app.js';
import { runCliInProcess } from '../../support/cli.js';
import { expectValidTeamsMessage } from '../../support/adaptive-card-schema.js';
import { manualClock, recordTenantRun, subscriptionIdFor, uniquePrefix, verdict } from '../../contract/support.js';
import { openStateStore } from '../../../src/adapters/table-storage/index.js';
import { TableOutbox } from '../../../src/adapters/table-storage/outbox.js';
import { createAlerting, queueAndDeliverAlerts, type Alerting } from '../../../src/compose/alert-delivery.js';
import { readAlertingSettings } from '../../../src/compose/alerting-settings.js';
import { requeueMessage } from '../../../src/alerts/outbox-admin.js';
import { AlertService } from '../../../src/alerts/alert-service.js';
import type { NewOutboxMessage, Outbox } from '../../../src/alerts/ports.js';
import { deliverOwedAlerts } from '../../../src/app/deliver-owed-alerts.js';
import { DIGEST_LIMITS } from '../../../src/alerts/templates.js';
import { PORTAL_URLS } from '../../../src/core/azure-portal.js';
import type { SubscriptionVerdict } from '../../../src/core/model.js';
import type { StateStore } from '../../../src/scan/ports.js';

const SENDER = 'DoNotReply@alerts.fabrikam.io';
const TEAM = ['secops@fabrikam.io'];
const WEBHOOK_SECRET = 'whsec-7d1c0a4e9b2f4c3aa1e5d6f708192a3b4c5d6e7f';
const WEBHOOK_TOKEN = 'receiver-token-9f8e7d6c5b4a';
const REPORT_URL = 'https://contact-watch.fabrikam.net/api/report';
const MINUTE = 60_000;
const HOUR = 3_600_000;

let azurite: AzuriteTables;
let azure: LocalAzure;
let mail: CommunicationEmailService;
let teams: TeamsWorkflowReceiver;
let webhook: WebhookReceiver;
let tenant: SimulatedTenant;
const accessKey = Buffer.from('local-channels-test-access-key').toString('base64');

beforeAll(async () => {
  mail = createCommunicationEmailService({ accessKey, senderAddresses: [SENDER], retryAfterSeconds: 0 });
  teams = createTeamsWorkflowReceiver();
  webhook = createWebhookReceiver({ secret: WEBHOOK_SECRET });
  tenant = new SimulatedTenant();
  [azurite, azure] = await Promise.all([startAzurite(), startLocalAzure({ tenant, services: [mail, teams, webhook] })]);
});
afterAll(async () => {
  await Promise.all([azurite?.stop(), azure?.close()]);
});
beforeEach(() => {
  mail.reset();
  teams.reset();
  webhook.reset();
});

/** Every channel configured, as the app settings name them. */
function channelEnv(): Record<string, string> {
  return {
    CONTACT_WATCH_ACS_CONNECTION_STRING: mail.connectionString(azure.url),
    CONTACT_WATCH_EMAIL_SENDER: SENDER,
    CONTACT_WATCH_ALERT_RECIPIENTS: TEAM.join(';'),
    CONTACT_WATCH_EMAIL_RATE_PER_MINUTE: '1000',
    CONTACT_WATCH_EMAIL_RATE_PER_HOUR: '10000',
    CONTACT_WATCH_TEAMS_WORKFLOW_URL: teams.workflowUrl(azure.url),
    CONTACT_WATCH_WEBHOOK_URL: `${webhook.url(azure.url)}?token=${WEBHOOK_TOKEN}`,
    CONTACT_WATCH_WEBHOOK_SECRET: WEBHOOK_SECRET,
    CONTACT_WATCH_REPORT_URL: REPORT_URL,
  };
}

/** What must never be written anywhere: the workflow's signature and URL, the webhook's token and secret. */
function secrets(): string[] {
  return [teams.signature, teams.workflowUrl(azure.url), WEBHOOK_TOKEN, WEBHOOK_SECRET];
}

interface Harness {
  clock: ReturnType<typeof manualClock>;
  store: StateStore;
  outbox: TableOutbox;
  alerting: Alerting;
  scan(verdicts: SubscriptionVerdict[]): Promise<void>;
  notify(mode?: 'digest' | 'single', subscriptionIds?: string[]): ReturnType<Alerting['sender']['sendPending']>;
}

async function harness(
  options: { env?: Record<string, string>; maxSubscriptionsPerMessage?: number; timeoutMs?: number } = {},
): Promise<Harness> {
  const clock = manualClock('2026-12-07T08:00:00.000Z');
  const store = openStateStore(azurite.connectionString, { tablePrefix: uniquePrefix(), clock: clock.now });
  const alerting = await createAlerting({
    settings: readAlertingSettings({ ...channelEnv(), ...options.env }),
    store,
    tables: store.connection,
    portalUrl: PORTAL_URLS.AzureCloud,
    // Each fault a receiver scripts is seen by the outbox: no retry within a send; the run's clock
    // is the harness clock alone, so waits land where the test puts them however slow the machine.
    sender: { pollIntervalMs: 5, maxPollWaitMs: 20_000, retry: { maxRetries: 0 }, realTime: () => 0, maxRateWaitMs: 0 },
    http: { retry: { maxRetries: 0 }, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) },
    ...(options.maxSubscriptionsPerMessage
      ? { limits: { ...DIGEST_LIMITS, maxSubscriptionsPerMessage: options.maxSubscriptionsPerMessage } }
      : {}),
  });
  let scans = 0;
  return {
    clock,
    store,
    outbox: alerting.outbox,
    alerting,
    async scan(verdicts) {
      scans += 1;
      await recordTenantRun(store, `scan-${scans}`, verdicts);
    },
    async notify(mode = 'digest', subscriptionIds) {
      await alerting.service.queueOwedAlerts({ mode, now: clock.now(), ...(subscriptionIds ? { subscriptionIds } : {}) });
      return alerting.service.deliverPending(clock.now());
    },
  };
}

/** How many Teams cards name each subscription id (each card's text, every id it lists). */
function cardsNaming(ids: readonly string[]): number[] {
  return ids.map((id) => teams.cards.filter((posted) => posted.raw.includes(id)).length);
}

/** How many webhook deliveries list each subscription id among their alerts. */
function deliveriesListing(ids: readonly string[]): number[] {
  return ids.map((id) => webhook.deliveries.filter((delivery) => delivery.document.alerts?.some((a) => a.subscriptionId === id)).length);
}

function emailsNaming(ids: readonly string[]): number[] {
  return ids.map((id) => mail.messages.filter((message) => message.plainText?.includes(id)).length);
}

/** Every row of the outbox table under `prefix` as stored, its gzipped content unpacked: what a leak check reads. */
async function storedRows(prefix: string): Promise<string> {
  const client = TableClient.fromConnectionString(azurite.connectionString, `${prefix}outbox`, { allowInsecureConnection: true });
  const rows: string[] = [];
  for await (const entity of client.listEntities()) {
    const unpacked = Object.entries(entity).map(([name, value]) =>
      value instanceof Uint8Array ? `${name}=${safeGunzip(value)}` : `${name}=${JSON.stringify(value)}`,
    );
    rows.push(unpacked.join('\n'));
  }
  return rows.join('\n');
}

function safeGunzip(value: Uint8Array): string {
  try {
    return gunzipSync(Buffer.from(value)).toString('utf8');
  } catch {
    // One chunk of a payload spread over several properties: the whole is checked through getMessage.
    return Buffer.from(value).toString('latin1');
  }
}

describe('alerts on e-mail, Teams and the webhook', () => {
  it('a scan sends one digest on each channel, covering every owed alert once; the next scan sends nothing', async () => {
    const h = await harness();
    const ids = Array.from({ length: 40 }, (_, i) => subscriptionIdFor(10 + i));
    await h.scan(ids.map((id) => verdict(id, 'noncompliant', `Landing zone ${id.slice(0, 4)}`)));
    const counts = await h.notify();
    expect(counts).toMatchObject({ sent: 3, pending: 0, failed: 0 });
    expect(counts.channels).toEqual({
      email: expect.objectContaining({ sent: 1, pending: 0 }),
      teams: expect.objectContaining({ sent: 1, pending: 0 }),
      webhook: expect.objectContaining({ sent: 1, pending: 0 }),
    });

    expect(mail.messages).toHaveLength(1);
    expect(teams.cards).toHaveLength(1);
    const card = expectValidTeamsMessage(teams.cards[0]!.raw);
    const listed = cardsNaming(ids).filter((count) => count === 1).length;
    expect(listed).toBeGreaterThan(0);
    expect(listed).toBeLessThanOrEqual(25);
    expect(teams.cards[0]!.raw).toContain(`and ${ids.length - listed} more subscriptions`);
    expect(card.actions).toContainEqual({ type: 'Action.OpenUrl', title: 'Open the report', url: REPORT_URL });

    expect(webhook.deliveries).toHaveLength(1);
    expect(deliveriesListing(ids)).toEqual(ids.map(() => 1));
    expect(webhook.deliveries[0]!.document).toMatchObject({ mode: 'digest', findingsOmitted: 0, subject: mail.messages[0]!.subject });

    // The outbox holds one message per channel, each sent, each naming its channel.
    const sent = await h.outbox.listMessages(['sent']);
    expect(sent.map((message) => message.channel).sort()).toEqual(['email', 'teams', 'webhook']);

    h.clock.advance(30 * MINUTE);
    await h.scan(ids.map((id) => verdict(id, 'noncompliant', `Landing zone ${id.slice(0, 4)}`)));
    expect(await h.notify()).toMatchObject({ sent: 0, pending: 0 });
    expect([mail.messages.length, teams.cards.length, webhook.deliveries.length]).toEqual([1, 1, 1]);
  });

  it('through a dropped connection, a 5xx and a 429 on Teams and the webhook, every alert reaches each channel exactly once across runs', async () => {
    const h = await harness({ maxSubscriptionsPerMessage: 4 });
    const ids = Array.from({ length: 16 }, (_, i) => subscriptionIdFor(100 + i));
    await h.scan(ids.map((id) => verdict(id, 'noncompliant')));

    // Four digest parts a channel. Teams: the first is dropped before the workflow takes it, the
    // second answered 503, the third throttled for 30 s. The webhook: a 500, then a connection
    // dropped after the receiver took the document, then a 429.
    teams.faults.add({ kind: 'drop' });
    teams.faults.add({ kind: 'fail', status: 503 });
    teams.faults.add({ kind: 'throttle', retryAfterSeconds: 30 });
    webhook.faults.add({ kind: 'fail' });
    webhook.faults.add({ kind: 'drop', when: 'after-accept' });
    webhook.faults.add({ kind: 'throttle', retryAfterSeconds: 30 });

    const first = await h.notify();
    // E-mail is not held back by either: all four parts go out in this run.
    expect(first.channels.email).toMatchObject({ sent: 4, pending: 0 });
    expect(first.channels.teams).toMatchObject({ sent: 0, pending: 4, throttled: true, nextAttempt: { reason: 'retry-after' } });
    expect(first.channels.webhook).toMatchObject({ sent: 0, pending: 4, throttled: true, nextAttempt: { reason: 'retry-after' } });
    expect(Date.parse(first.channels.teams!.nextAttempt!.at) - h.clock.now().getTime()).toBe(30_000);
    expect(emailsNaming(ids)).toEqual(ids.map(() => 1));
    expect(teams.cards).toHaveLength(0);
    expect(webhook.deliveries).toHaveLength(1); // taken, its answer lost

    // Soon after: the services' waits hold every send on those two channels; nothing moves.
    h.clock.advance(10_000);
    expect(await h.notify()).toMatchObject({ sent: 0, pending: 8 });

    h.clock.advance(25_000);
    const last = await h.notify();
    expect(last).toMatchObject({ sent: 8, pending: 0, failed: 0 });
    expect(cardsNaming(ids)).toEqual(ids.map(() => 1));
    expect(teams.cards).toHaveLength(4);
    for (const posted of teams.cards) expectValidTeamsMessage(posted.raw);
    expect(deliveriesListing(ids)).toEqual(ids.map(() => 1));
    expect(webhook.deliveries).toHaveLength(4);
    expect(emailsNaming(ids)).toEqual(ids.map(() => 1));

    // The document whose answer was lost was sent again under the same Idempotency-Key, and the
    // receiver took it once.
    const keys = webhook.requests.map((request) => String(request.headers['idempotency-key']));
    const repeated = webhook.requests.filter((request) => request.outcome === 'repeated');
    expect(repeated).toHaveLength(1);
    expect(keys.filter((key) => key === repeated[0]!.headers['idempotency-key'])).toHaveLength(2);
    expect(new Set(keys).size).toBe(4);
  });

  it('a Teams workflow that keeps failing never holds back e-mail or the webhook, nor makes them send twice; event runs send one message each', async () => {
    const h = await harness();
    const ids = [subscriptionIdFor(200), subscriptionIdFor(201), subscriptionIdFor(202)];
    teams.faults.add({ kind: 'fail', status: 502, times: 50 });
    for (const id of ids) {
      h.clock.advance(MINUTE);
      await h.store.recordEvaluation(verdict(id, 'noncompliant', `Event ${id.slice(0, 8)}`), {
        evaluatedBy: 'event',
        readAt: h.clock.now(),
      });
      const counts = await h.notify('single', [id]);
      expect(counts.channels.email).toMatchObject({ pending: 0 });
      expect(counts.channels.webhook).toMatchObject({ pending: 0 });
    }
    expect(emailsNaming(ids)).toEqual([1, 1, 1]);
    expect(mail.messages).toHaveLength(3);
    expect(deliveriesListing(ids)).toEqual([1, 1, 1]);
    expect(webhook.deliveries.map((delivery) => delivery.document.mode)).toEqual(['single', 'single', 'single']);
    const stuck = await h.outbox.listMessages(['pending']);
    expect(stuck.map((message) => message.channel)).toEqual(['teams', 'teams', 'teams']);
    expect(stuck.every((message) => message.lastError?.startsWith('the Teams workflow answered 502'))).toBe(true);

    // The workflow recovers: the next run posts one card per subscription, and nothing else repeats.
    teams.faults.clear();
    h.clock.advance(MINUTE);
    expect(await h.notify()).toMatchObject({ sent: 3, pending: 0 });
    expect(teams.cards).toHaveLength(3);
    expect(cardsNaming(ids)).toEqual([1, 1, 1]);
    for (const posted of teams.cards) {
      const card = expectValidTeamsMessage(posted.raw);
      expect(JSON.stringify(card)).toContain('has no valid security contact');
    }
    expect([mail.messages.length, webhook.deliveries.length]).toEqual([3, 3]);
  });

  it('a refusal that can end by itself (401, 404) stays owed and is tried again, without the URL', async () => {
    const h = await harness({
      env: { CONTACT_WATCH_TEAMS_WORKFLOW_URL: teams.workflowUrl(azure.url).replace(/sig=[^&]+/, 'sig=expired-signature-value') },
    });
    const id = subscriptionIdFor(300);
    await h.scan([verdict(id, 'noncompliant')]);
    webhook.faults.add({ kind: 'refuse', status: 404, code: 'NotFound' });
    const counts = await h.notify();
    expect(counts.channels.teams).toMatchObject({ sent: 0, pending: 1, failed: 0 });
    expect(counts.channels.webhook).toMatchObject({ sent: 0, pending: 1, failed: 0 });
    expect(counts.channels.email).toMatchObject({ sent: 1 });
    const waiting = await h.outbox.listMessages(['pending']);
    expect(waiting.map((message) => [message.channel, message.failures])).toEqual([
      ['teams', 1],
      ['webhook', 1],
    ]);
    const teamsMessage = waiting.find((message) => message.channel === 'teams')!;
    expect(teamsMessage.lastError).toMatch(/^the Teams workflow answered 401: .*DirectApiInvalidAuthorizationSignature/);
    expect(teamsMessage.lastError).not.toContain('expired-signature-value');
    // The next run tries both again: the webhook receiver is back and takes it; the workflow's
    // signature is still wrong, so its card stays owed (dead only after ten tries and a day).
    h.clock.advance(MINUTE);
    const again = await h.notify();
    expect(again.channels.webhook).toMatchObject({ sent: 1, pending: 0 });
    expect(again.channels.teams).toMatchObject({ sent: 0, pending: 1, failed: 0 });
    expect(teams.requests).toHaveLength(2);
    expect(webhook.deliveries.map((delivery) => delivery.deliveryId)).toEqual([waiting[1]!.operationId]);
  });

  it('a refusal that will not end by itself (400, 410) is failed, kept and counted; a requeue after the fix delivers it', async () => {
    const h = await harness();
    const id = subscriptionIdFor(305);
    await h.scan([verdict(id, 'noncompliant')]);
    teams.faults.add({ kind: 'refuse', status: 400, code: 'BadRequest' });
    webhook.faults.add({ kind: 'refuse', status: 410, code: 'Gone' });
    const counts = await h.notify();
    expect(counts.channels.teams).toMatchObject({ sent: 0, pending: 0, failed: 1 });
    expect(counts.channels.webhook).toMatchObject({ sent: 0, pending: 0, failed: 1 });
    const failed = await h.outbox.listMessages(['failed']);
    expect(failed.map((message) => [message.channel, message.serviceStatus])).toEqual([
      ['teams', 'HTTP 400'],
      ['webhook', 'HTTP 410'],
    ]);
    // A second run does not send them again.
    h.clock.advance(MINUTE);
    expect(await h.notify()).toMatchObject({ sent: 0, failed: 2 });
    expect(teams.requests).toHaveLength(1);

    // The webhook receiver is mended: the requeued copy goes out under a new id.
    const copy = await requeueMessage(h.outbox, failed[1]!.operationId);
    expect(copy).toMatchObject({ outcome: 'requeued', from: 'failed' });
    expect(await h.notify()).toMatchObject({ sent: 1, failed: 1 });
    expect(webhook.deliveries.map((delivery) => delivery.deliveryId)).toEqual([(copy as { sendsAs: string }).sendsAs]);
  });

  it('a redirect (302 from Teams, 307 from the webhook) is failed, kept and not followed: the body goes only where it was configured to', async () => {
    const h = await harness();
    const id = subscriptionIdFor(310);
    await h.scan([verdict(id, 'noncompliant')]);
    // Each points at the other receiver on the same server, which would log whatever reached it.
    teams.faults.add({ kind: 'redirect', status: 302, location: `${webhook.url(azure.url)}?token=${WEBHOOK_TOKEN}` });
    webhook.faults.add({ kind: 'redirect', status: 307, location: teams.workflowUrl(azure.url) });
    const counts = await h.notify();
    expect(counts.channels.teams).toMatchObject({ sent: 0, pending: 0, failed: 1 });
    expect(counts.channels.webhook).toMatchObject({ sent: 0, pending: 0, failed: 1 });
    expect(counts.channels.email).toMatchObject({ sent: 1 });
    expect([teams.requests.map((request) => request.outcome), webhook.requests.map((request) => request.outcome)]).toEqual([[302], [307]]);
    const failed = await h.outbox.listMessages(['failed']);
    expect(failed.map((message) => [message.channel, message.serviceStatus])).toEqual([
      ['teams', 'HTTP 302'],
      ['webhook', 'HTTP 307'],
    ]);
    expect(failed.map((message) => message.lastError)).toEqual([
      expect.stringMatching(/^the Teams workflow answered 302/),
      expect.stringMatching(/^the webhook answered 307/),
    ]);
    // Kept for a person, not tried again by the next run.
    h.clock.advance(MINUTE);
    expect(await h.notify()).toMatchObject({ sent: 0, failed: 2 });
    expect([teams.requests.length, webhook.requests.length]).toEqual([1, 1]);
  });

  it('a Retry-After of 1e9 seconds from Teams holds Teams one hour at most, and only Teams', async () => {
    const h = await harness();
    const id = subscriptionIdFor(400);
    await h.scan([verdict(id, 'noncompliant')]);
    teams.faults.add({ kind: 'throttle', retryAfter: '1000000000' });
    const counts = await h.notify();
    expect(counts.channels.teams).toMatchObject({ pending: 1, throttled: true });
    expect(Date.parse(counts.channels.teams!.nextAttempt!.at) - h.clock.now().getTime()).toBe(HOUR);
    expect(counts.channels.email).toMatchObject({ sent: 1, throttled: false });
    expect(counts.channels.webhook).toMatchObject({ sent: 1, throttled: false });
    h.clock.advance(HOUR);
    expect((await h.notify()).channels.teams).toMatchObject({ sent: 1, pending: 0 });
    expect(teams.cards).toHaveLength(1);
  });

  it('a workflow that does not answer in time leaves the card owed; the next run posts it', async () => {
    const h = await harness({ timeoutMs: 300 });
    const id = subscriptionIdFor(500);
    await h.scan([verdict(id, 'noncompliant')]);
    let release!: () => void;
    teams.faults.add({ kind: 'hold', until: new Promise<void>((resolve) => (release = resolve)) });
    const counts = await h.notify();
    release();
    expect(counts.channels.teams).toMatchObject({ sent: 0, pending: 1 });
    const [held] = await h.outbox.listMessages(['pending']);
    expect(held!.lastError).toBe('the Teams workflow did not answer within 300 ms');
    h.clock.advance(MINUTE);
    expect((await h.notify()).channels.teams).toMatchObject({ sent: 1, pending: 0 });
    expect(teams.cards).toHaveLength(1);
  });

  it('a run that dies after writing the e-mail but before the Teams card: the card is written once the claim lease is over, and each goes out once', async () => {
    const h = await harness();
    const ids = [subscriptionIdFor(550), subscriptionIdFor(551)];
    await h.scan(ids.map((id) => verdict(id, 'noncompliant')));
    let crash = true;
    const dying: Outbox = Object.assign(Object.create(h.outbox) as Outbox, {
      createMessage: (message: NewOutboxMessage) =>
        crash && message.channel !== 'email' ? Promise.reject(new Error('process died')) : h.outbox.createMessage(message),
      releaseClaims: (keys: readonly string[]) => (crash ? Promise.reject(new Error('process died')) : h.outbox.releaseClaims(keys)),
    });
    const service = (outbox: Outbox) =>
      new AlertService({
        store: h.store,
        outbox,
        sender: h.alerting.sender,
        channels: { email: { recipients: TEAM }, teams: true, webhook: true },
        template: { portalUrl: PORTAL_URLS.AzureCloud },
      });
    await expect(service(dying).queueOwedAlerts({ mode: 'digest', now: h.clock.now() })).rejects.toThrow('process died');
    crash = false;

    // Within the claim lease another run marks nothing: the batch is not whole, and its writer may still be at it.
    h.clock.advance(MINUTE);
    expect(await service(h.outbox).queueOwedAlerts({ mode: 'digest', now: h.clock.now() })).toMatchObject({ messages: 0, marked: 0 });
    // After it, the missing messages are written from the claims, and the records marked.
    h.clock.advance(10 * MINUTE);
    expect(await service(h.outbox).queueOwedAlerts({ mode: 'digest', now: h.clock.now() })).toMatchObject({ messages: 2, marked: 2 });
    expect(await h.notify()).toMatchObject({ sent: 3, pending: 0 });
    expect(emailsNaming(ids)).toEqual([1, 1]);
    expect(cardsNaming(ids)).toEqual([1, 1]);
    expect(deliveriesListing(ids)).toEqual([1, 1]);
  });

  it('a card whose answer was lost after the workflow took it is posted again: the residual risk the docs name', async () => {
    const h = await harness();
    const id = subscriptionIdFor(600);
    await h.scan([verdict(id, 'noncompliant')]);
    teams.faults.add({ kind: 'drop', when: 'after-accept' });
    expect((await h.notify()).channels.teams).toMatchObject({ sent: 0, pending: 1 });
    expect((await h.notify()).channels.teams).toMatchObject({ sent: 1, pending: 0 });
    expect(cardsNaming([id])).toEqual([2]);
    // The webhook, with its Idempotency-Key, took it once.
    expect(deliveriesListing([id])).toEqual([1]);
  });
});

/** The settings of a run with only these channels (e-mail always: the ACS settings). */
function envWith(channels: { teams?: boolean; webhook?: boolean }): Record<string, string> {
  const env = channelEnv();
  if (!channels.teams) delete env.CONTACT_WATCH_TEAMS_WORKFLOW_URL;
  if (!channels.webhook) {
    delete env.CONTACT_WATCH_WEBHOOK_URL;
    delete env.CONTACT_WATCH_WEBHOOK_SECRET;
  }
  return env;
}

/** One alert run as the app (`runner: 'app'`) or `scan --notify` (`cli`) makes it, against one store. */
function alertRuns(
  store = openStateStore(azurite.connectionString, { tablePrefix: uniquePrefix(), clock: manualClock('2026-12-07T08:00:00.000Z').now }),
) {
  const clock = manualClock('2026-12-07T08:00:00.000Z');
  const run = (env: Record<string, string>, runner: 'app' | 'cli', over: typeof store = store) =>
    queueAndDeliverAlerts({
      mode: 'digest',
      settings: readAlertingSettings(env),
      store: over,
      portalUrl: PORTAL_URLS.AzureCloud,
      clock: clock.now,
      runner,
      sender: { pollIntervalMs: 5, maxPollWaitMs: 20_000, retry: { maxRetries: 0 }, realTime: () => 0, maxRateWaitMs: 0 },
      http: { retry: { maxRetries: 0 } },
    });
  return { store, clock, run };
}

describe('runs with fewer channels than the deployment', () => {
  it('a CLI run with only e-mail after the app recorded three channels claims and marks nothing, yet sends what is queued; the app then alerts on all three', async () => {
    const { store, clock, run } = alertRuns();
    const [earlier, later] = [subscriptionIdFor(900), subscriptionIdFor(901)];
    await recordTenantRun(store, 'scan-1', [verdict(earlier, 'noncompliant')]);
    mail.faults.add({ kind: 'drop' });
    const first = await run(envWith({ teams: true, webhook: true }), 'app');
    expect(first.queued).toMatchObject({ queued: 1, missingChannels: [], removedChannels: [] });
    expect(first.delivery.channels.email).toMatchObject({ sent: 0, pending: 1 });

    clock.advance(MINUTE);
    await recordTenantRun(store, 'scan-2', [verdict(earlier, 'noncompliant'), verdict(later, 'noncompliant')]);
    const outbox = await TableOutbox.connect(store.connection);
    const cli = await run(envWith({}), 'cli');
    expect(cli.queued).toMatchObject({ owed: 1, queued: 0, messages: 0, marked: 0, missingChannels: ['teams', 'webhook'] });
    expect(await outbox.listClaims((await outbox.listMessages(['sent']))[0]!.batchId)).toHaveLength(1);
    expect((await store.getSubscriptions([later]))[0]!.lastAlertedAt).toBeNull();
    // What was queued on e-mail went out all the same.
    expect(cli.delivery.channels.email).toMatchObject({ sent: 1, pending: 0 });
    expect(emailsNaming([earlier, later])).toEqual([1, 0]);
    // The set is the app's still.
    expect(await outbox.readChannelSet()).toMatchObject({ channels: ['email', 'teams', 'webhook'], writtenBy: 'app' });

    clock.advance(MINUTE);
    const app = await run(envWith({ teams: true, webhook: true }), 'app');
    expect(app.queued).toMatchObject({ queued: 1, marked: 1, missingChannels: [] });
    expect(app.delivery).toMatchObject({ sent: 3, pending: 0 });
    expect([emailsNaming([later]), cardsNaming([later]), deliveriesListing([later])]).toEqual([[1], [1], [1]]);
    expect([emailsNaming([earlier]), cardsNaming([earlier]), deliveriesListing([earlier])]).toEqual([[1], [1], [1]]);

    // The command line says so, naming the channels and never where they deliver.
    const defaults = openStateStore(azurite.connectionString);
    await (
      await TableOutbox.connect(defaults.connection)
    ).writeChannelSet({
      channels: ['email', 'teams', 'webhook'],
      writtenAt: clock.now().toISOString(),
      writtenBy: 'app',
    });
    tenant.addSubscription({ subscriptionId: subscriptionIdFor(902), displayName: 'No contact', contacts: [] });
    const cliRun = await runCliInProcess(['scan', '--notify'], {
      ...azure.env(),
      ...envWith({}),
      CONTACT_WATCH_STORAGE: azurite.connectionString,
    });
    tenant.removeSubscription(subscriptionIdFor(902));
    expect(cliRun.code, cliRun.stderr).toBe(0);
    expect(cliRun.stderr).toContain(
      'contact-watch: the deployment also alerts through Teams and webhook; this run has no Teams or webhook settings (CONTACT_WATCH_TEAMS_WORKFLOW_URL, CONTACT_WATCH_WEBHOOK_URL), so it leaves the owed alerts to a run that has them',
    );
    expect(cliRun.stderr.match(/the deployment also alerts/g)).toHaveLength(1);
    for (const secret of secrets()) expect(cliRun.stderr).not.toContain(secret);
  });

  it('an interrupted batch is marked only once it has a message on each channel it was composed for, even by a run without one of them', async () => {
    const { store, clock, run } = alertRuns();
    const ids = [subscriptionIdFor(910), subscriptionIdFor(911)];
    await recordTenantRun(
      store,
      'scan-1',
      ids.map((id) => verdict(id, 'noncompliant')),
    );
    let crash = true;
    const outbox = await TableOutbox.connect(store.connection);
    // The app writes the e-mail and the card, and dies before the webhook document.
    const dying = Object.assign(Object.create(outbox) as Outbox, {
      createMessage: (message: NewOutboxMessage) =>
        crash && message.channel === 'webhook' ? Promise.reject(new Error('process died')) : outbox.createMessage(message),
      releaseClaims: () => Promise.reject(new Error('process died')),
    });
    const app = new AlertService({
      store,
      outbox: dying,
      sender: { sendPending: () => Promise.reject(new Error('process died')) },
      channels: { email: { recipients: TEAM }, teams: true, webhook: true },
      template: { portalUrl: PORTAL_URLS.AzureCloud },
      runner: 'app',
    });
    await expect(app.queueOwedAlerts({ mode: 'digest', now: clock.now() })).rejects.toThrow('process died');
    crash = false;
    // The channel set is deleted (as an operator removing a channel where only the CLI alerts
    // would): a run with e-mail and Teams passes the channel check, but the batch's webhook
    // document is missing, so within the lease it marks nothing...
    await (await store.connection.table('outbox')).deleteEntity('config', 'channels');
    clock.advance(MINUTE);
    const within = await run(envWith({ teams: true }), 'cli');
    expect(within.queued).toMatchObject({ alreadyQueued: 2, messages: 0, marked: 0, missingChannels: [] });
    expect(within.delivery.channels).toMatchObject({ email: { sent: 1 }, teams: { sent: 1 } });
    // ... and after it, it writes the document (it waits for a run with the webhook's settings) and marks.
    clock.advance(10 * MINUTE);
    const after = await run(envWith({ teams: true }), 'cli');
    expect(after.queued).toMatchObject({ messages: 1, marked: 2 });
    expect(after.delivery.channels.webhook).toMatchObject({ pending: 1, nextAttempt: { reason: 'not-configured' } });
    expect(webhook.deliveries).toHaveLength(0);
    // The app's next run sends it; every channel has each alert once.
    clock.advance(MINUTE);
    expect((await run(channelEnv(), 'app')).delivery).toMatchObject({ sent: 1, pending: 0 });
    expect([emailsNaming(ids), cardsNaming(ids), deliveriesListing(ids)]).toEqual([
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
  });

  it('a channel removed from the app: its next run records the smaller set and says so; a CLI run with that set then queues', async () => {
    const { store, clock, run } = alertRuns();
    expect((await run(channelEnv(), 'app')).queued).toMatchObject({ owed: 0, removedChannels: [] });
    await recordTenantRun(store, 'scan-1', [verdict(subscriptionIdFor(920), 'noncompliant')]);
    // Before the app drops the webhook, a CLI run without it is refused.
    expect((await run(envWith({ teams: true }), 'cli')).queued).toMatchObject({ queued: 0, missingChannels: ['webhook'] });

    const tables = azuriteTestTables(azurite);
    const prefix = uniquePrefix();
    const deps = testAppDependencies({
      azure,
      mail,
      tables,
      tablePrefix: prefix,
      env: envWith({ teams: true }),
      http: { retry: { maxRetries: 0 } },
    });
    const appOutbox = await TableOutbox.connect(deps.store.connection);
    await appOutbox.writeChannelSet({ channels: ['email', 'teams', 'webhook'], writtenAt: clock.now().toISOString(), writtenBy: 'app' });
    const context = new azureFunctions.InvocationContext({ invocationId: 'removed-1', functionName: 'scanTimer' });
    await deliverOwedAlerts(deps, context, { mode: 'digest' });
    const lines = deps.lines.filter((line) => line.invocationId === 'removed-1');
    expect(lines).toContainEqual(expect.objectContaining({ event: 'alert.channelsRemoved', removed: ['webhook'] }));
    expect(await appOutbox.readChannelSet()).toMatchObject({ channels: ['email', 'teams'], writtenBy: 'app' });

    // The same on the first store: the app without the webhook, then a CLI run without it queues.
    clock.advance(MINUTE);
    expect((await run(envWith({ teams: true }), 'app')).queued).toMatchObject({ queued: 1, removedChannels: ['webhook'] });
    await recordTenantRun(store, 'scan-2', [
      verdict(subscriptionIdFor(920), 'noncompliant'),
      verdict(subscriptionIdFor(921), 'noncompliant'),
    ]);
    clock.advance(MINUTE);
    const cli = await run(envWith({ teams: true }), 'cli');
    expect(cli.queued).toMatchObject({ queued: 1, marked: 1, missingChannels: [] });
    expect([emailsNaming([subscriptionIdFor(921)]), cardsNaming([subscriptionIdFor(921)])]).toEqual([[1], [1]]);
    // A CLI run with e-mail alone is still refused: Teams is in the set.
    await recordTenantRun(store, 'scan-3', [verdict(subscriptionIdFor(922), 'noncompliant')]);
    expect((await run(envWith({}), 'cli')).queued).toMatchObject({ queued: 0, missingChannels: ['teams'] });
  });

  it('a failure while queuing still sends what is queued, on every channel, and is then reported', async () => {
    const { store, run } = alertRuns();
    const ids = [subscriptionIdFor(930), subscriptionIdFor(931)];
    await recordTenantRun(
      store,
      'scan-1',
      ids.map((id) => verdict(id, 'noncompliant')),
    );
    const failingMark = Object.assign(Object.create(store) as typeof store, {
      markAlerted: () => Promise.reject(new Error('Table Storage refused the write')),
    });
    await expect(run(channelEnv(), 'app', failingMark)).rejects.toThrow('Table Storage refused the write');
    expect([emailsNaming(ids), cardsNaming(ids), deliveriesListing(ids)]).toEqual([
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
    // The next run marks the records and sends nothing twice.
    const next = await run(channelEnv(), 'app');
    expect(next.queued).toMatchObject({ queued: 0, marked: 2 });
    expect(next.delivery).toMatchObject({ sent: 0, pending: 0 });
  });
});

describe('the webhook signature', () => {
  /** The verification function of docs/reference/alerts.md, as a reader would copy it. */
  async function documentedVerification(): Promise<
    (secret: string, headers: Record<string, unknown>, rawBody: string | Buffer, nowSeconds?: number) => boolean
  > {
    const docs = readFileSync(new URL('../../../docs/reference/alerts.md', import.meta.url), 'utf8');
    const block = [...docs.matchAll(/```js\n([\s\S]*?)```/g)]
      .map((match) => match[1]!)
      .find((code) => code.includes('verifyContactWatchDelivery'));
    expect(block, 'docs/reference/alerts.md has the verification example').toBeDefined();
    const module = (await import(`data:text/javascript,${encodeURIComponent(block!)}`)) as {
      verifyContactWatchDelivery: (
        secret: string,
        headers: Record<string, unknown>,
        rawBody: string | Buffer,
        nowSeconds?: number,
      ) => boolean;
    };
    return module.verifyContactWatchDelivery;
  }

  it('verifies with the documented procedure; a tampered body, an old timestamp or another secret does not', async () => {
    const verify = await documentedVerification();
    const h = await harness();
    const id = subscriptionIdFor(700);
    await h.scan([verdict(id, 'noncompliant')]);
    webhook.faults.add({ kind: 'fail' });
    await h.notify();
    h.clock.advance(MINUTE);
    await h.notify();
    const attempts = webhook.requests;
    expect(attempts.map((request) => request.outcome)).toEqual([500, 'accepted']);

    for (const request of attempts) {
      const headers = request.headers as Record<string, string>;
      const sentAt = Number(headers['x-contactwatch-timestamp']);
      expect(headers['x-contactwatch-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(verify(WEBHOOK_SECRET, headers, request.body)).toBe(true);
      expect(verify(WEBHOOK_SECRET, headers, Buffer.from(request.body))).toBe(true);
      // Each attempt is signed afresh; both carry the same id, in the header and in the signed body.
      expect(JSON.parse(request.body).deliveryId).toBe(headers['idempotency-key']);

      expect(verify(WEBHOOK_SECRET, headers, request.body.replace('"noncompliant"', '"compliant"'))).toBe(false);
      expect(verify(WEBHOOK_SECRET, headers, `${request.body} `)).toBe(false);
      expect(verify(`${WEBHOOK_SECRET}x`, headers, request.body)).toBe(false);
      expect(verify(WEBHOOK_SECRET, headers, request.body, sentAt + 301)).toBe(false);
      expect(verify(WEBHOOK_SECRET, headers, request.body, sentAt + 299)).toBe(true);
      expect(verify(WEBHOOK_SECRET, { ...headers, 'x-contactwatch-timestamp': String(sentAt - 1) }, request.body)).toBe(false);
      expect(
        verify(
          WEBHOOK_SECRET,
          { ...headers, 'x-contactwatch-signature': headers['x-contactwatch-signature']!.toUpperCase() },
          request.body,
        ),
      ).toBe(false);
      expect(verify(WEBHOOK_SECRET, { ...headers, 'x-contactwatch-timestamp': undefined }, request.body)).toBe(false);
    }
    expect(attempts[0]!.headers['idempotency-key']).toBe(attempts[1]!.headers['idempotency-key']);
  });
});

describe('the secrets of the channels', () => {
  it('never reach the outbox, a log line or stderr, whatever goes wrong', async () => {
    // The app: an event's alert run with the channels failing in every way they can.
    const tables = azuriteTestTables(azurite);
    const prefix = uniquePrefix();
    const deps = testAppDependencies({
      azure,
      mail,
      tables,
      tablePrefix: prefix,
      env: channelEnv(),
      http: { retry: { maxRetries: 0 } },
    });
    const id = subscriptionIdFor(800);
    await deps.store.recordEvaluation(verdict(id, 'noncompliant'), { evaluatedBy: 'test', readAt: new Date() });
    teams.faults.add({ kind: 'refuse', status: 400, code: 'BadRequest' });
    webhook.faults.add({ kind: 'drop' });
    const context = new azureFunctions.InvocationContext({ invocationId: 'channels-1', functionName: 'contactEvents' });
    const delivery = await deliverOwedAlerts(deps, context, { mode: 'single', subscriptionIds: [id] });
    expect(delivery?.channels).toMatchObject({ email: { sent: 1 }, teams: { failed: 1 }, webhook: { pending: 1 } });
    const lines = deps.lines.filter((line) => line.invocationId === 'channels-1');
    expect(lines.map((line) => [line.event, line.channel])).toEqual([
      ['alert.queued', undefined],
      ['alert.sent', 'email'],
      ['alert.pending', 'teams'],
      ['alert.pending', 'webhook'],
    ]);
    expect(lines.find((line) => line.channel === 'teams')).toMatchObject({ pending: 0, failed: 1 });

    const outbox = await TableOutbox.connect(deps.store.connection);
    const stored = [await storedRows(prefix), JSON.stringify(await outbox.listMessages(['sent', 'pending', 'failed']))].join('\n');
    expect(stored).toContain('channel');
    for (const secret of secrets()) {
      expect(JSON.stringify(lines)).not.toContain(secret);
      expect(stored).not.toContain(secret);
    }

    // The command line: scan --notify reports each channel, and prints no secret.
    tenant.addSubscription({ subscriptionId: subscriptionIdFor(801), displayName: 'Sandbox', contacts: [] });
    teams.faults.add({ kind: 'refuse', status: 410, code: 'Gone' });
    const run = await runCliInProcess(['scan', '--notify'], {
      ...azure.env(),
      ...channelEnv(),
      CONTACT_WATCH_STORAGE: azurite.connectionString,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /alerts: 1 owed, 1 newly queued; e-mail: 1 message\(s\) sent, 0 queued \| Teams: 0 message\(s\) sent, 0 queued; 1 failed and kept in the outbox \(contact-watch outbox\) \| webhook: 1 message\(s\) sent, 0 queued/,
    );
    const listing = await runCliInProcess(['outbox', '--format', 'json'], {
      ...azure.env(),
      ...channelEnv(),
      CONTACT_WATCH_STORAGE: azurite.connectionString,
    });
    expect(JSON.parse(listing.stdout)).toEqual([expect.objectContaining({ channel: 'teams', state: 'failed' })]);
    for (const secret of secrets()) {
      expect(run.stderr + run.stdout).not.toContain(secret);
      expect(listing.stdout).not.toContain(secret);
    }
  });
});
