/**
 * Delivers what the outbox holds, channel by channel through each channel's transport (e-mail,
 * a Teams workflow, a signed webhook), one message at a time within the channel's rate, recording
 * every outcome on the message before moving on:
 *
 *   pending --send--> sent | accepted (poll again next run) | failed (the service said Failed, or refused it)
 *           \--error--> pending (failures+1, lastError): the next run tries it again
 *           \--throttled--> pending (nextAttemptAt = the service's wait, at most one hour):
 *                           no run sends anything on that channel before then
 *           \--still failing a day after it was composed--> dead (kept, listed and counted;
 *                           outbox-admin.ts `requeueMessage` revives it)
 *
 * The channels are independent: each has its own loop over its own messages, run side by side,
 * so a channel that is down, throttled or slow never holds back, stops or repeats another's
 * messages. Each message belongs to one channel (the alert service writes one per channel).
 *
 * There is no back-off of our own between runs: the runs are the back-off (the timer's every 30
 * minutes by default, or a person's), and within a run the transport's own retries and
 * `maxConsecutiveErrors` bound what an outage costs. Only the service may ask for a longer wait,
 * and a wait it asks for holds every send on its channel, since its quota is the resource's, not
 * one message's.
 *
 * Before a send the message is leased (an ETag-checked write), so two processes never send the
 * same message at the same time; and every send of a message carries its fixed operationId, our
 * idempotency key, so that a send repeated after a crash names the operation it repeats (the local
 * ACS test service answers it without delivering again; Microsoft documents the Operation-Id as
 * the id of the long-running operation, not as a guarantee against a second delivery; a webhook
 * receiver gets it as the Idempotency-Key; a Teams workflow has no way to use it).
 */
import { ALERT_CHANNELS, type AlertChannel } from '../core/outbox-states.js';
import type {
  AlertTransport,
  ChannelDeliveryCounts,
  DeliveryCounts,
  NextAttempt,
  Outbox,
  OutboxMessage,
  OutboxMessagePatch,
  SendOutcome,
} from './ports.js';
import { OutboxConflictError } from './ports.js';
import { leasedUntil, outcomePatch, serviceWaitUntil } from './send-outcomes.js';
import { rateFreeAt, waitForRate, type RateLimit } from './sending-rate.js';
import { setTimeout as delay } from 'node:timers/promises';
import { messageOf } from '../core/error-message.js';

export type { RateLimit } from './sending-rate.js';

/** How one channel is sent. */
export interface ChannelSending {
  transport: AlertTransport;
  /**
   * Messages per minute and per hour (for e-mail, the ACS quota: 5 and 10 on an Azure-managed
   * domain). None: the service's own answers (429 with Retry-After) are the only limit.
   */
  rate?: RateLimit;
}

export interface OutboxSenderOptions {
  outbox: Outbox;
  /** The configured channels; messages of a channel not here stay queued (`not-configured`). */
  channels: Partial<Record<AlertChannel, ChannelSending>>;
  /** How long one run may wait for a channel's per-minute window to free up (default 65 s). */
  maxRateWaitMs?: number;
  /**
   * A message is given up (`dead`) when it has failed this many attempts in a row (default 10)
   * and was composed at least `giveUpAfterMs` before (default one day). Both, so that neither a
   * burst of event runs within minutes nor an outage of some hours uses a message up: it goes
   * out by itself once the service is back, and only one that still fails after a day needs a person.
   */
  maxFailures?: number;
  giveUpAfterMs?: number;
  /** A channel's run stops after this many failed sends in a row (the service is probably down; default 3). */
  maxConsecutiveErrors?: number;
  /** How long a sender holds a message it is sending (default 10 min). */
  leaseMs?: number;
  /** Waits (tests pass a fast one; its time is added to the run's clock). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Real time in ms (default Date.now). A run's clock is the `now` it was given plus the real time
   * since it started (and what `sleep` waited), so that leases, accepts and Retry-After are timed
   * from when they happen. Tests pass one that stands still, so that no outcome depends on how
   * fast the machine runs.
   */
  realTime?: () => number;
}

/** What one channel's loop did, for the counts made once every channel is done. */
interface ChannelRun {
  sent: number;
  throttled: boolean;
  rateLimited: boolean;
  /** When the channel's messages were accepted in the last hour (its rate windows). */
  accepts: number[];
  /** The channel's clock when its loop ended. */
  endedAt: number;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export class OutboxSender {
  private readonly outbox: Outbox;
  private readonly channels: Partial<Record<AlertChannel, ChannelSending>>;
  private readonly maxRateWaitMs: number;
  /** When a message that keeps failing is given up (see OutboxSenderOptions). */
  private readonly giveUp: { maxFailures: number; giveUpAfterMs: number };
  private readonly maxConsecutiveErrors: number;
  private readonly leaseMs: number;
  private readonly sleep: ((ms: number) => Promise<void>) | undefined;
  private readonly realTime: () => number;

  constructor(options: OutboxSenderOptions) {
    this.outbox = options.outbox;
    this.channels = options.channels;
    this.maxRateWaitMs = options.maxRateWaitMs ?? 65_000;
    this.giveUp = { maxFailures: options.maxFailures ?? 10, giveUpAfterMs: options.giveUpAfterMs ?? DAY };
    this.maxConsecutiveErrors = options.maxConsecutiveErrors ?? 3;
    this.leaseMs = options.leaseMs ?? 10 * MINUTE;
    this.sleep = options.sleep;
    this.realTime = options.realTime ?? Date.now;
    for (const [channel, sending] of Object.entries(this.channels)) {
      if (sending.rate && !(sending.rate.perMinute > 0 && sending.rate.perHour > 0))
        throw new Error(`OutboxSender: the ${channel} rate limits must be positive`);
    }
  }

  /** Sends every message that is due at `now`, on every configured channel; returns what happened and what is left. */
  async sendPending(now: Date): Promise<DeliveryCounts> {
    if (Number.isNaN(now.getTime())) throw new Error('OutboxSender.sendPending: `now` is not a valid date');
    // `now` is when this run started: every channel's clock counts from here, reads included.
    const startedReal = this.realTime();
    const queued = await this.outbox.listMessages(['accepted', 'pending']);
    const configured = ALERT_CHANNELS.filter((channel) => this.channels[channel]);
    // Side by side; each loop runs to its end even when another fails (a storage error), so that no
    // send goes on after this run has returned; then the first failure is thrown.
    const settled = await Promise.allSettled(
      configured.map((channel) =>
        this.sendChannel(
          channel,
          queued.filter((message) => message.channel === channel),
          now,
          startedReal,
        ),
      ),
    );
    const runs = new Map<AlertChannel, ChannelRun>();
    for (const [index, result] of settled.entries()) {
      if (result.status === 'rejected') throw result.reason;
      runs.set(configured[index]!, result.value);
    }

    const remaining = await this.outbox.listMessages(['accepted', 'pending', 'failed', 'dead']);
    const counts: DeliveryCounts = { ...noDelivery(), channels: {} };
    for (const channel of ALERT_CHANNELS) {
      const messages = remaining.filter((message) => message.channel === channel);
      const run = runs.get(channel);
      if (!run && messages.length === 0) continue;
      const stillQueued = messages.filter((m) => m.state === 'accepted' || m.state === 'pending');
      const endedAt = run?.endedAt ?? now.getTime();
      const channelCounts: ChannelDeliveryCounts = {
        sent: run?.sent ?? 0,
        pending: stillQueued.length,
        failed: messages.filter((m) => m.state === 'failed' || m.state === 'dead').length,
        throttled: run?.throttled ?? false,
        rateLimited: run?.rateLimited ?? false,
        nextAttempt: run
          ? this.nextAttempt(stillQueued, run.accepts, this.channels[channel]!.rate, endedAt)
          : stillQueued.length > 0
            ? { at: new Date(endedAt).toISOString(), reason: 'not-configured' }
            : null,
      };
      counts.channels[channel] = channelCounts;
      counts.sent += channelCounts.sent;
      counts.pending += channelCounts.pending;
      counts.failed += channelCounts.failed;
      counts.throttled ||= channelCounts.throttled;
      counts.rateLimited ||= channelCounts.rateLimited;
      const next = channelCounts.nextAttempt;
      if (next && (!counts.nextAttempt || Date.parse(next.at) < Date.parse(counts.nextAttempt.at))) counts.nextAttempt = next;
    }
    return counts;
  }

  /** One channel's loop over its queued messages, on a clock of its own (the run's, plus what this channel waited). */
  private async sendChannel(channel: AlertChannel, queued: readonly OutboxMessage[], now: Date, startedReal: number): Promise<ChannelRun> {
    const sending = this.channels[channel]!;
    let slept = 0;
    const clock = () => new Date(now.getTime() + (this.realTime() - startedReal) + slept);
    const wait = async (ms: number) => {
      if (this.sleep) {
        await this.sleep(ms);
        slept += ms;
      } else {
        await delay(ms);
      }
    };

    const run: ChannelRun = { sent: 0, throttled: false, rateLimited: false, accepts: [], endedAt: now.getTime() };
    const heldUntil = serviceWaitUntil(queued, now.getTime());
    if (heldUntil !== null && queued.length > 0) run.throttled = true;
    const due = (heldUntil !== null ? [] : queued)
      .filter((message) => leasedUntil(message, now.getTime()) === null)
      // Accepted messages first (polling costs no quota); then those that failed least, so that
      // messages the service keeps refusing never hold back the ones behind them; then the oldest.
      .sort((a, b) =>
        a.state !== b.state
          ? a.state === 'accepted'
            ? -1
            : 1
          : a.failures - b.failures || a.createdAt.localeCompare(b.createdAt) || a.sequence - b.sequence,
      );

    if (sending.rate && queued.length > 0) {
      run.accepts = (await this.outbox.acceptedSince(new Date(now.getTime() - HOUR), channel)).map((d) => d.getTime());
    }
    let consecutiveErrors = 0;

    for (const message of due) {
      if (message.state === 'pending' && sending.rate) {
        const go = await waitForRate(sending.rate, run.accepts, clock, wait, this.maxRateWaitMs);
        if (!go) {
          run.rateLimited = true;
          break;
        }
      }
      const leased = await this.lease(message, clock());
      if (!leased) continue; // someone else is on it
      const outcome = await this.attempt(sending.transport, leased);
      const at = clock();
      if (
        leased.state === 'pending' &&
        (outcome.kind === 'succeeded' || outcome.kind === 'running' || ('accepted' in outcome && outcome.accepted))
      ) {
        run.accepts.push(at.getTime());
      }
      await this.record(leased, outcome, at);
      if (outcome.kind === 'succeeded') run.sent += 1;
      if (outcome.kind === 'throttled') {
        run.throttled = true;
        break; // The service's wait holds every send on this channel: the rest waits for it.
      }
      consecutiveErrors = outcome.kind === 'error' ? consecutiveErrors + 1 : 0;
      if (consecutiveErrors >= this.maxConsecutiveErrors) break;
    }
    run.endedAt = clock().getTime();
    return run;
  }

  /** When the earliest queued message may be tried again, and what holds it until then. */
  private nextAttempt(
    queued: readonly OutboxMessage[],
    accepts: readonly number[],
    rate: RateLimit | undefined,
    nowMs: number,
  ): NextAttempt | null {
    const held = serviceWaitUntil(queued, nowMs);
    const rateFree = rate ? rateFreeAt(rate, accepts, nowMs) : nowMs;
    let earliest: { at: number; reason: NextAttempt['reason'] } | null = null;
    for (const message of queued) {
      let candidate: { at: number; reason: NextAttempt['reason'] } =
        held !== null
          ? { at: held, reason: 'retry-after' }
          : message.state === 'pending' && rateFree > nowMs
            ? { at: rateFree, reason: 'rate-limit' }
            : { at: nowMs, reason: 'next-run' };
      const lease = leasedUntil(message, nowMs);
      if (lease !== null && lease > candidate.at) candidate = { at: lease, reason: 'leased' };
      if (!earliest || candidate.at < earliest.at) earliest = candidate;
    }
    return earliest && { at: new Date(earliest.at).toISOString(), reason: earliest.reason };
  }

  private async lease(message: OutboxMessage, at: Date): Promise<OutboxMessage | null> {
    try {
      return await this.outbox.updateMessage(message, { leaseUntil: new Date(at.getTime() + this.leaseMs).toISOString() });
    } catch (error) {
      if (error instanceof OutboxConflictError) return null;
      throw error;
    }
  }

  /** One send; a transport that throws counts as a failed attempt, so the message is still recorded and released. */
  private async attempt(transport: AlertTransport, message: OutboxMessage): Promise<SendOutcome> {
    try {
      return await transport.send(
        { subject: message.subject, html: message.html, plainText: message.plainText, body: message.body, to: message.to },
        message.operationId,
        { resumeState: message.state === 'accepted' ? message.resumeState : null },
      );
    } catch (error) {
      return { kind: 'error', error: `the ${message.channel} transport failed: ${errorMessage(error)}`, accepted: false };
    }
  }

  /**
   * Records the outcome and releases the lease. A write that fails is tried once more, and then
   * at least the lease is released: a message must not sit leased (unsendable) because storage
   * hiccupped. Whatever is lost is learnt again from the service on the next send, which carries
   * the same Operation-Id: a repeat of the same operation, not a new message.
   */
  private async record(message: OutboxMessage, outcome: SendOutcome, at: Date): Promise<void> {
    let patch: OutboxMessagePatch;
    try {
      patch = outcomePatch(message, outcome, at, this.giveUp);
    } catch (error) {
      patch = { attempts: message.attempts + 1, leaseUntil: null, lastError: `the outcome could not be recorded: ${errorMessage(error)}` };
    }
    const release: OutboxMessagePatch = { attempts: message.attempts + 1, leaseUntil: null };
    let firstError: unknown;
    for (const write of [patch, patch, release]) {
      try {
        await this.outbox.updateMessage(message, write);
        return;
      } catch (error) {
        // Another process changed the row after our lease expired; its record wins, and any
        // later send carries the same operationId (our idempotency key).
        if (error instanceof OutboxConflictError) return;
        firstError ??= error;
      }
    }
    throw firstError;
  }
}

function noDelivery(): ChannelDeliveryCounts {
  return { sent: 0, pending: 0, failed: 0, throttled: false, rateLimited: false, nextAttempt: null };
}

function errorMessage(error: unknown): string {
  return messageOf(error);
}
