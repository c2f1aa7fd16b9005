/**
 * The new-subscription watch's timer handler (docs/reference/scanning.md, "The new-subscription watch"):
 * every CONTACT_WATCH_WATCH_SCHEDULE, the subscriptions Resource Graph lists that contact-watch has
 * never recorded are evaluated at once, as a `ContactWatch.SubscriptionCreated` event would have
 * them (src/app/watch-new-subscriptions.ts).
 *
 * A late run (`isPastDue`) is logged and runs normally: the watch keeps no state of its own, so a
 * missed run loses nothing. A run that could not list the tenant or read the store is thrown, so
 * the host records the invocation as failed; the next run starts over.
 */
import type { InvocationContext, Timer, TimerHandler } from '@azure/functions';
import { watchNewSubscriptions } from '../watch-new-subscriptions.js';
import type { AppDependencies } from '../dependencies.js';

export function createSubscriptionWatchHandler(deps: AppDependencies): TimerHandler {
  return async (timer: Timer, context: InvocationContext): Promise<void> => {
    if (timer.isPastDue) {
      deps.log(context, 'watch.pastDue', { last: timer.scheduleStatus?.last, next: timer.scheduleStatus?.next });
    }
    await watchNewSubscriptions(deps, context);
  };
}
