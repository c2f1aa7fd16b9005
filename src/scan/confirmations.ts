/**
 * A scan's reads of the securityContacts API: each asked for as soon as a subscription is doubtful,
 * at most `concurrency` in flight, the rest waiting in order. When the scan stops (its signal is
 * aborted), reads not yet sent are dropped and those in flight are aborted; `settled` resolves only
 * once every read has ended, so that no read finishes into a scan that has already failed or
 * returned.
 *
 * The waiting subscriptions are a plain list rather than a p-limit queue: a tenant scan may find
 * tens of thousands doubtful long before it can read them, and a queued p-limit task (a closure and
 * its promises) costs a hundred times what a place in a list does.
 */
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
  private readonly waiting: (SubscriptionInfo | undefined)[] = [];
  /** Index in `waiting` of the next subscription to read. */
  private next = 0;
  private inFlight = 0;
  private idle: (() => void)[] = [];
  private failure: { error: unknown } | undefined;

  constructor(private readonly options: ConfirmationOptions) {}

  confirm(subscription: SubscriptionInfo): void {
    this.started += 1;
    this.waiting.push(subscription);
    this.sendWhatFits();
  }

  /** The first error a read threw before the scan was stopped, if any. */
  get failed(): { error: unknown } | undefined {
    return this.failure;
  }

  /** Resolves once no read is waiting or in flight. */
  settled(): Promise<void> {
    if (this.options.signal.aborted) this.dropWaiting();
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private sendWhatFits(): void {
    const { concurrency, signal } = this.options;
    if (signal.aborted) this.dropWaiting();
    while (this.inFlight < concurrency && this.next < this.waiting.length) {
      const subscription = this.waiting[this.next]!;
      this.waiting[this.next] = undefined;
      this.next += 1;
      this.inFlight += 1;
      void this.read(subscription).finally(() => {
        this.inFlight -= 1;
        this.sendWhatFits();
      });
    }
    // Keeps the list from growing for ever on a long scan: what was sent is let go.
    if (this.next > 4_096 && this.next * 2 > this.waiting.length) {
      this.waiting.splice(0, this.next);
      this.next = 0;
    }
    if (this.isIdle()) for (const resolve of this.idle.splice(0)) resolve();
  }

  private async read(subscription: SubscriptionInfo): Promise<void> {
    const { contacts, judge, signal } = this.options;
    try {
      const read = await contacts.listContacts(subscription.subscriptionId, signal);
      if (!signal.aborted) this.options.confirmed(judge.fromApi(subscription, read));
    } catch (error) {
      // A read ended by the scan's stop is not a failure of its own.
      if (signal.aborted) return;
      this.failure ??= { error };
      this.options.stop(error);
    }
  }

  private dropWaiting(): void {
    this.waiting.length = 0;
    this.next = 0;
  }

  private isIdle(): boolean {
    return this.inFlight === 0 && this.next >= this.waiting.length;
  }
}
