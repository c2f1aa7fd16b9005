/**
 * A scan's reads of the securityContacts API: each started as soon as a subscription is doubtful,
 * at most `concurrency` in flight. When the scan stops (its signal is aborted), reads not yet sent
 * are dropped and those in flight are aborted; `settled` resolves only once every read has ended,
 * so that no read finishes into a scan that has already failed or returned.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import type { SubscriptionInfo, SubscriptionVerdict } from '../core/model.js';
import type { SecurityContactsSource } from './ports.js';
import type { ContactJudge } from './verdicts.js';

export interface ConfirmationOptions {
  contacts: SecurityContactsSource;
  judge: ContactJudge;
  concurrency: number;
  /** The scan's signal: aborted when the scan stops. */
  signal: AbortSignal;
  /** Stops the scan: a read threw (it was aborted, or no token could be had). */
  stop: (error: unknown) => void;
  confirmed: (verdict: SubscriptionVerdict) => void;
}

export class Confirmations {
  /** Reads asked for (each subscription at most once: the triage hands each over once). */
  started = 0;
  private readonly limit: LimitFunction;
  private pending = 0;
  private idle: (() => void)[] = [];
  private failure: { error: unknown } | undefined;

  constructor(private readonly options: ConfirmationOptions) {
    this.limit = pLimit(options.concurrency);
  }

  confirm(subscription: SubscriptionInfo): void {
    const { contacts, judge, signal } = this.options;
    this.started += 1;
    this.pending += 1;
    void this.limit(async () => {
      if (signal.aborted) return;
      const read = await contacts.listContacts(subscription.subscriptionId, signal);
      if (!signal.aborted) this.options.confirmed(judge.fromApi(subscription, read));
    })
      .catch((error: unknown) => {
        // A read ended by the scan's stop is not a failure of its own.
        if (signal.aborted) return;
        this.failure ??= { error };
        this.options.stop(error);
      })
      .finally(() => {
        this.pending -= 1;
        if (this.pending === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
  }

  /** The first error a read threw before the scan was stopped, if any. */
  get failed(): { error: unknown } | undefined {
    return this.failure;
  }

  /** Resolves once no read is queued or in flight. */
  settled(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }
}
