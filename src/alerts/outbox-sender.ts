/**
 * Delivers what the outbox holds through an e-mail transport, one message at a time, within the
 * configured rate, recording every outcome on the message before moving on:
 *
 *   pending --send--> sent | accepted (poll again next run) | failed (service said Failed)
 *           \--error--> pending (failures+1, lastError): the next run tries it again
 *           \--throttled--> pending (nextAttemptAt = the service's wait, at most one hour):
 *                           no run sends anything before then
 *           \--still failing a day after it was composed--> dead (kept, listed and counted;
 *                           outbox-admin.ts `requeueMessage` revives it)
 *
 * There is no back-off of our own between runs: the runs are the back-off (the timer's every 30
 * minutes by default, or a person's), and within a run the transport's own retries and
 * `maxConsecutiveErrors` bound what an outage costs. Only the service may ask for a longer wait,
 * and a wait it asks for holds every send, since its quota is the resource's, not one message's.
 *
 * Before a send the message is leased (an ETag-checked write), so two processes never send the
 * same message at the same time; and every send of a message carries its fixed operationId, our
 * idempotency key, so that a send repeated after a crash names the operation it repeats (the local
 * ACS test service answers it without delivering again; Microsoft documents the Operation-Id as
 * the id of the long-running operation, not as a guarantee against a second delivery).
 */
import type { DeliveryCounts, EmailTransport, NextAttempt, Outbox, OutboxMessage, OutboxMessagePatch, SendOutcome } from './ports.js';
import { OutboxConflictError } from './ports.js';
import { setTimeout as delay } from 'node:timers/promises';

export interface RateLimit {
  perMinute: number;
  perHour: number;
}

export interface OutboxSenderOptions {
  outbox: Outbox;
  transport: EmailTransport;
  /** Messages per minute and per hour (default: the ACS quota of an Azure-managed domain, 5 and 10). */
  rate?: RateLimit;
  /** How long one run may wait for the per-minute window to free up (default 65 s). */
  maxRateWaitMs?: number;
  /**
   * A message is given up (`dead`) when it has failed this many attempts in a row (default 10)
   * and was composed at least `giveUpAfterMs` before (default one day). Both, so that neither a
   * burst of event runs within minutes nor an outage of some hours uses a message up: it goes
   * out by itself once the service is back, and only one that still fails after a day needs a person.
   */
  maxFailures?: number;
  giveUpAfterMs?: number;
  /** A run stops after this many failed sends in a row (the service is probably down; default 3). */
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

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The longest wait the service may impose (docs/reference/alerts.md: a longer Retry-After counts as one hour). */
export const MAX_SERVICE_WAIT_MS = HOUR;

/**
 * How far past MAX_SERVICE_WAIT_MS a stored wait may lie and still be honoured: the wait is
 * counted from the moment of the answer, which a later run (on another instance's clock) may see
 * a little ahead of its own start. Anything further was not written by a bounded wait (earlier
 * versions parked messages for years) and holds nothing.
 */
const STORED_WAIT_SLACK_MS = 5 * MINUTE;

export class OutboxSender {
  private readonly outbox: Outbox;
  private readonly transport: EmailTransport;
  private readonly rate: RateLimit;
  private readonly maxRateWaitMs: number;
  private readonly maxFailures: number;
  private readonly giveUpAfterMs: number;
  private readonly maxConsecutiveErrors: number;
  private readonly leaseMs: number;
  private readonly sleep: ((ms: number) => Promise<void>) | undefined;
  private readonly realTime: () => number;

  constructor(options: OutboxSenderOptions) {
    this.outbox = options.outbox;
    this.transport = options.transport;
    this.rate = options.rate ?? { perMinute: 5, perHour: 10 };
    this.maxRateWaitMs = options.maxRateWaitMs ?? 65_000;
    this.maxFailures = options.maxFailures ?? 10;
    this.giveUpAfterMs = options.giveUpAfterMs ?? DAY;
    this.maxConsecutiveErrors = options.maxConsecutiveErrors ?? 3;
    this.leaseMs = options.leaseMs ?? 10 * MINUTE;
    this.sleep = options.sleep;
    this.realTime = options.realTime ?? Date.now;
    if (!(this.rate.perMinute > 0) || !(this.rate.perHour > 0)) throw new Error('OutboxSender: rate limits must be positive');
  }

  /** Sends every message that is due at `now`; returns what happened and what is left. */
  async sendPending(now: Date): Promise<DeliveryCounts> {
    if (Number.isNaN(now.getTime())) throw new Error('OutboxSender.sendPending: `now` is not a valid date');
    const startedReal = this.realTime();
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

    const counts: DeliveryCounts = { sent: 0, pending: 0, failed: 0, throttled: false, rateLimited: false, nextAttempt: null };
    const queued = await this.outbox.listMessages(['accepted', 'pending']);
    const heldUntil = serviceWaitUntil(queued, now.getTime());
    if (heldUntil !== null && queued.length > 0) counts.throttled = true;
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

    const accepts = (await this.outbox.acceptedSince(new Date(now.getTime() - HOUR))).map((d) => d.getTime());
    let consecutiveErrors = 0;

    for (const message of due) {
      if (message.state === 'pending') {
        const go = await this.waitForRate(accepts, clock, wait);
        if (!go) {
          counts.rateLimited = true;
          break;
        }
      }
      const leased = await this.lease(message, clock());
      if (!leased) continue; // someone else is on it
      const outcome = await this.attempt(leased);
      const at = clock();
      if (
        leased.state === 'pending' &&
        (outcome.kind === 'succeeded' || outcome.kind === 'running' || ('accepted' in outcome && outcome.accepted))
      ) {
        accepts.push(at.getTime());
      }
      await this.record(leased, outcome, at);
      if (outcome.kind === 'succeeded') counts.sent += 1;
      if (outcome.kind === 'throttled') {
        counts.throttled = true;
        break; // The service's wait holds every send: the rest waits for it.
      }
      consecutiveErrors = outcome.kind === 'error' ? consecutiveErrors + 1 : 0;
      if (consecutiveErrors >= this.maxConsecutiveErrors) break;
    }

    const remaining = await this.outbox.listMessages(['accepted', 'pending', 'failed', 'dead']);
    const stillQueued = remaining.filter((m) => m.state === 'accepted' || m.state === 'pending');
    counts.pending = stillQueued.length;
    counts.failed = remaining.filter((m) => m.state === 'failed' || m.state === 'dead').length;
    counts.nextAttempt = this.nextAttempt(stillQueued, accepts, clock().getTime());
    return counts;
  }

  /** When the earliest queued message may be tried again, and what holds it until then. */
  private nextAttempt(queued: readonly OutboxMessage[], accepts: readonly number[], nowMs: number): NextAttempt | null {
    const held = serviceWaitUntil(queued, nowMs);
    const rateFree = this.rateFreeAt(accepts, nowMs);
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

  /** When the configured rate next allows a send (now, when it does already). */
  private rateFreeAt(accepts: readonly number[], nowMs: number): number {
    const { hourFreeAt, minuteFreeAt } = this.rateWindows(accepts, nowMs);
    return Math.max(hourFreeAt, minuteFreeAt);
  }

  /** When each window of the configured rate next has room: `nowMs` where it has room already. */
  private rateWindows(accepts: readonly number[], nowMs: number): { hourFreeAt: number; minuteFreeAt: number } {
    const lastHour = accepts.filter((t) => t > nowMs - HOUR).sort((a, b) => a - b);
    const lastMinute = lastHour.filter((t) => t > nowMs - MINUTE);
    return {
      hourFreeAt: lastHour.length >= this.rate.perHour ? lastHour[lastHour.length - this.rate.perHour]! + HOUR : nowMs,
      minuteFreeAt: lastMinute.length >= this.rate.perMinute ? lastMinute[lastMinute.length - this.rate.perMinute]! + MINUTE : nowMs,
    };
  }

  /**
   * True when a message may be sent now, after waiting for the per-minute window if that is short
   * enough; false when the hourly quota is spent or the minute's wait is longer than maxRateWaitMs.
   */
  private async waitForRate(accepts: number[], clock: () => Date, wait: (ms: number) => Promise<void>): Promise<boolean> {
    for (;;) {
      const nowMs = clock().getTime();
      const { hourFreeAt, minuteFreeAt } = this.rateWindows(accepts, nowMs);
      if (hourFreeAt > nowMs) return false;
      if (minuteFreeAt <= nowMs) return true;
      const waitMs = minuteFreeAt - nowMs + 10;
      if (waitMs > this.maxRateWaitMs) return false;
      await wait(waitMs);
    }
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
  private async attempt(message: OutboxMessage): Promise<SendOutcome> {
    try {
      return await this.transport.send(
        { subject: message.subject, html: message.html, plainText: message.plainText, to: message.to },
        message.operationId,
        { resumeState: message.state === 'accepted' ? message.resumeState : null },
      );
    } catch (error) {
      return { kind: 'error', error: `the e-mail transport failed: ${errorMessage(error)}`, accepted: false };
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
      patch = this.outcomePatch(message, outcome, at);
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

  private outcomePatch(message: OutboxMessage, outcome: SendOutcome, at: Date): OutboxMessagePatch {
    const iso = at.toISOString();
    const base = { attempts: message.attempts + 1, leaseUntil: null };
    switch (outcome.kind) {
      case 'succeeded':
        return {
          ...base,
          state: 'sent',
          failures: 0,
          serviceOperationId: outcome.serviceOperationId,
          serviceStatus: 'Succeeded',
          acceptedAt: message.acceptedAt ?? iso,
          completedAt: iso,
          resumeState: null,
          nextAttemptAt: null,
        };
      case 'running':
        return {
          ...base,
          state: 'accepted',
          failures: 0,
          serviceOperationId: outcome.serviceOperationId,
          serviceStatus: 'Running',
          acceptedAt: message.acceptedAt ?? iso,
          resumeState: outcome.resumeState,
          nextAttemptAt: null,
        };
      case 'failed':
        return {
          ...base,
          state: 'failed',
          serviceOperationId: outcome.serviceOperationId,
          serviceStatus: outcome.status,
          lastError: outcome.error,
          acceptedAt: message.acceptedAt ?? iso,
          completedAt: iso,
          nextAttemptAt: null,
        };
      case 'throttled':
        return {
          ...base,
          lastError: outcome.error,
          nextAttemptAt: new Date(at.getTime() + boundedServiceWait(outcome.retryAfterMs)).toISOString(),
          ...(outcome.accepted && !message.acceptedAt ? { acceptedAt: iso } : {}),
        };
      case 'error': {
        const failures = message.failures + 1;
        const givenUp = failures >= this.maxFailures && at.getTime() - Date.parse(message.createdAt) >= this.giveUpAfterMs;
        return {
          ...base,
          failures,
          lastError: outcome.error,
          nextAttemptAt: null,
          ...(givenUp ? { state: 'dead' as const } : {}),
          ...(outcome.accepted && !message.acceptedAt ? { acceptedAt: iso } : {}),
        };
      }
    }
  }
}

/** A wait the transport reports, within 0 .. MAX_SERVICE_WAIT_MS whatever it is (NaN counts as none). */
function boundedServiceWait(ms: number): number {
  return ms > 0 ? Math.min(ms, MAX_SERVICE_WAIT_MS) : 0;
}

/**
 * The end of the latest wait the service asked for that still holds, or null. Only a throttled
 * answer sets a queued message's `nextAttemptAt`, so the latest one ahead is the service's word.
 */
function serviceWaitUntil(messages: readonly OutboxMessage[], nowMs: number): number | null {
  let until: number | null = null;
  for (const message of messages) {
    const at = message.nextAttemptAt ? Date.parse(message.nextAttemptAt) : Number.NaN;
    if (at > nowMs && at <= nowMs + MAX_SERVICE_WAIT_MS + STORED_WAIT_SLACK_MS && (until === null || at > until)) until = at;
  }
  return until;
}

/** When another sender's lease on the message ends, or null when it holds none (an unreadable lease holds nothing). */
function leasedUntil(message: OutboxMessage, nowMs: number): number | null {
  const until = message.leaseUntil ? Date.parse(message.leaseUntil) : Number.NaN;
  return until > nowMs ? until : null;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
