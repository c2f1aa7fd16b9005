/**
 * One subscription, read fresh from the securityContacts API (never Resource Graph, which lags):
 * the `check` command and the vending gate. With a wait, the read is repeated with back-off until
 * the subscription is compliant or the time is up — a new subscription's contact can take a
 * while to appear.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Policy, SubscriptionInfo, SubscriptionVerdict } from '../core/model.js';
import type { SecurityContactsSource, SubscriptionLookup } from './ports.js';
import { isJudged, skippedVerdict, verdictFromApi } from './verdicts.js';

export interface CheckDependencies {
  contacts: SecurityContactsSource;
  subscriptions: SubscriptionLookup;
  policy: Policy;
  clock?: () => Date;
  signal?: AbortSignal;
}

export interface CheckOptions {
  /** Keep re-reading for up to this many seconds while the subscription is not compliant. */
  waitSeconds?: number;
  /** First pause between reads; doubles each time up to maxPollIntervalMs. */
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
  onRetry?: (verdict: SubscriptionVerdict, nextReadInMs: number) => void;
}

export async function checkSubscription(
  subscriptionId: string,
  deps: CheckDependencies,
  options: CheckOptions = {},
): Promise<SubscriptionVerdict> {
  const clock = deps.clock ?? (() => new Date());
  const deadline = clock().getTime() + Math.max(0, options.waitSeconds ?? 0) * 1000;
  let pause = options.pollIntervalMs ?? 2_000;
  const maxPause = options.maxPollIntervalMs ?? 15_000;

  const subscription = await describeSubscription(subscriptionId, deps);
  for (;;) {
    const verdict = isJudged(subscription)
      ? verdictFromApi(subscription, await deps.contacts.listContacts(subscriptionId, deps.signal), deps.policy)
      : skippedVerdict(subscription);
    const remaining = deadline - clock().getTime();
    if (verdict.status !== 'noncompliant' && verdict.status !== 'error') return verdict;
    if (remaining <= 0) return verdict;
    const wait = Math.min(pause, remaining);
    options.onRetry?.(verdict, wait);
    await sleep(wait, undefined, { signal: deps.signal });
    pause = Math.min(pause * 2, maxPause);
  }
}

/** Name and state from ARM; if they cannot be read, the contact is still judged. */
async function describeSubscription(subscriptionId: string, deps: CheckDependencies): Promise<SubscriptionInfo> {
  const lookup = await deps.subscriptions.getSubscription(subscriptionId, deps.signal);
  return lookup.kind === 'found' ? lookup.subscription : { subscriptionId, displayName: '', state: 'Unknown' };
}
