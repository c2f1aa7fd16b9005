/**
 * Delivers what the outbox holds through an e-mail transport, one message at a time, within the
 * configured rate, recording every outcome on the message before moving on:
 *
 *   pending --send--> sent | accepted (poll again next run) | failed (service said Failed)
 *           \--error/throttle--> pending (attempts+1, lastError, nextAttemptAt with back-off)
 *           \--too many failures--> dead (kept, listed and counted; outbox-admin.ts `requeueMessage` revives it)
 *
 * Before a send the message is leased (an ETag-checked write), so two processes never send the
 * same message at the same time; and every send of a message carries its fixed operationId, so
 * even a send repeated after a crash cannot deliver twice.
 */
import type { DeliveryCounts, EmailTransport, Outbox, OutboxMessage, SendOutcome } from './ports.js';
import { OutboxConflictError } from './ports.js';

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
  /** Back-off after a failed attempt: base * 2^(failures-1), capped (default 1 min .. 6 h). */
  backoff?: { baseMs: number; maxMs: number };
  /** Failed attempts in a row after which a message goes `dead` (default 10). */
  maxFailures?: number;
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

export class OutboxSender {
  private readonly outbox: Outbox;
  private readonly transport: EmailTransport;
  private readonly rate: RateLimit;
  private readonly maxRateWaitMs: number;
  private readonly backoff: { baseMs: number; maxMs: number };
  private readonly maxFailures: number;
  private readonly maxConsecutiveErrors: number;
  private readonly leaseMs: number;
  private readonly sleep: ((ms: number) => Promise<void>) | undefined;
  private readonly realTime: () => number;

  constructor(options: OutboxSenderOptions) {
    this.outbox = options.outbox;
    this.transport = options.transport;
    this.rate = options.rate ?? { perMinute: 5, perHour: 10 };
    this.maxRateWaitMs = options.maxRateWaitMs ?? 65_000;
    this.backoff = options.backoff ?? { baseMs: MINUTE, maxMs: 6 * HOUR };
    this.maxFailures = options.maxFailures ?? 10;
    this.maxConsecutiveErrors = options.maxConsecutiveErrors ?? 3;
    this.leaseMs = options.leaseMs ?? 10 * MINUTE;
    this.sleep = options.sleep;
    this.realTime = options.realTime ?? Date.now;
    if (!(this.rate.perMinute > 0) || !(this.rate.perHour > 0)) throw new Error('OutboxSender: rate limits must be positive');
  }

  /** Sends every message that is due at `now`; returns what happened and what is left. */
  async sendPending(now: Date): Promise<DeliveryCounts> {
    const startedReal = this.realTime();
    let slept = 0;
    const clock = () => new Date(now.getTime() + (this.realTime() - startedReal) + slept);
    const wait = async (ms: number) => {
      if (this.sleep) {
        await this.sleep(ms);
        slept += ms;
      } else {
        await new Promise((resolve) => setTimeout(resolve, ms));
      }
    };

    const counts: DeliveryCounts = { sent: 0, pending: 0, failed: 0, throttled: false, rateLimited: false };
    const queued = await this.outbox.listMessages(['accepted', 'pending']);
    const due = queued
      .filter((message) => message.state === 'accepted' || !message.nextAttemptAt || Date.parse(message.nextAttemptAt) <= now.getTime())
      .filter((message) => !message.leaseUntil || Date.parse(message.leaseUntil) <= now.getTime())
      // Accepted messages first (polling costs no quota), then the oldest.
      .sort((a, b) =>
        a.state !== b.state ? (a.state === 'accepted' ? -1 : 1) : a.createdAt.localeCompare(b.createdAt) || a.sequence - b.sequence,
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
      const outcome = await this.transport.send(
        { subject: leased.subject, html: leased.html, plainText: leased.plainText, to: leased.to },
        leased.operationId,
        { resumeState: leased.state === 'accepted' ? leased.resumeState : null },
      );
      const at = clock();
      if (leased.state === 'pending' && (outcome.kind === 'succeeded' || outcome.kind === 'running' || ('accepted' in outcome && outcome.accepted))) {
        accepts.push(at.getTime());
      }
      await this.record(leased, outcome, at);
      if (outcome.kind === 'succeeded') counts.sent += 1;
      if (outcome.kind === 'throttled') {
        counts.throttled = true;
        break; // Retry-After: the rest waits for the next run.
      }
      consecutiveErrors = outcome.kind === 'error' ? consecutiveErrors + 1 : 0;
      if (consecutiveErrors >= this.maxConsecutiveErrors) break;
    }

    const remaining = await this.outbox.listMessages(['accepted', 'pending', 'failed', 'dead']);
    counts.pending = remaining.filter((m) => m.state === 'accepted' || m.state === 'pending').length;
    counts.failed = remaining.filter((m) => m.state === 'failed' || m.state === 'dead').length;
    return counts;
  }

  /** True when a message may be sent now, after waiting for the per-minute window if that is short enough. */
  private async waitForRate(accepts: number[], clock: () => Date, wait: (ms: number) => Promise<void>): Promise<boolean> {
    for (;;) {
      const nowMs = clock().getTime();
      const lastHour = accepts.filter((t) => t > nowMs - HOUR);
      if (lastHour.length >= this.rate.perHour) return false;
      const lastMinute = lastHour.filter((t) => t > nowMs - MINUTE).sort((a, b) => a - b);
      if (lastMinute.length < this.rate.perMinute) return true;
      const freeAt = lastMinute[lastMinute.length - this.rate.perMinute]! + MINUTE;
      const waitMs = freeAt - nowMs + 10;
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

  private async record(message: OutboxMessage, outcome: SendOutcome, at: Date): Promise<void> {
    const iso = at.toISOString();
    const attempts = message.attempts + 1;
    const base = { attempts, leaseUntil: null };
    let patch: Parameters<Outbox['updateMessage']>[1];
    switch (outcome.kind) {
      case 'succeeded':
        patch = {
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
        break;
      case 'running':
        patch = {
          ...base,
          state: 'accepted',
          failures: 0,
          serviceOperationId: outcome.serviceOperationId,
          serviceStatus: 'Running',
          acceptedAt: message.acceptedAt ?? iso,
          resumeState: outcome.resumeState,
          nextAttemptAt: null,
        };
        break;
      case 'failed':
        patch = {
          ...base,
          state: 'failed',
          serviceOperationId: outcome.serviceOperationId,
          serviceStatus: outcome.status,
          lastError: outcome.error,
          acceptedAt: message.acceptedAt ?? iso,
          completedAt: iso,
          nextAttemptAt: null,
        };
        break;
      case 'throttled':
        patch = {
          ...base,
          lastError: outcome.error,
          nextAttemptAt: new Date(at.getTime() + outcome.retryAfterMs).toISOString(),
          ...(outcome.accepted && !message.acceptedAt ? { acceptedAt: iso } : {}),
        };
        break;
      case 'error': {
        const failures = message.failures + 1;
        const delay = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** (failures - 1));
        patch = {
          ...base,
          failures,
          lastError: outcome.error,
          nextAttemptAt: new Date(at.getTime() + delay).toISOString(),
          ...(failures >= this.maxFailures ? { state: 'dead' as const } : {}),
          ...(outcome.accepted && !message.acceptedAt ? { acceptedAt: iso } : {}),
        };
        break;
      }
    }
    try {
      await this.outbox.updateMessage(message, patch);
    } catch (error) {
      // Another process changed the row after our lease expired; its record wins, and the
      // operationId keeps the service from sending twice whatever happens next.
      if (!(error instanceof OutboxConflictError)) throw error;
    }
  }
}
