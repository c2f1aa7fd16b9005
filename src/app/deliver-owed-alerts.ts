/**
 * Alert delivery for the app's handlers: queue what is owed (a digest after a scan, one message
 * for the subscription an event evaluated), then send what is pending. A send that fails stays in
 * the outbox for the next run; it is logged (`alert.pending`: how many remain queued, and when the
 * next attempt is due), never thrown, so it never fails the scan or the event.
 */
import type { InvocationContext } from '@azure/functions';
import type { DeliveryCounts } from '../alerts/ports.js';
import type { AppDependencies } from './dependencies.js';

export interface AlertDeliveryOptions {
  mode: 'digest' | 'single';
  /** Only these subscriptions (an event's); default every owed alert. */
  subscriptionIds?: string[];
}

export async function deliverOwedAlerts(
  deps: AppDependencies,
  context: InvocationContext,
  options: AlertDeliveryOptions,
): Promise<DeliveryCounts | undefined> {
  try {
    const { queued, delivery, pruned } = await deps.alerts.queueAndDeliver({
      mode: options.mode,
      ...(options.subscriptionIds ? { subscriptionIds: options.subscriptionIds } : {}),
    });
    if (queued.queued > 0) deps.log(context, 'alert.queued', { alerts: queued.queued, messages: queued.messages });
    if (delivery.sent > 0) deps.log(context, 'alert.sent', { messages: delivery.sent });
    if (delivery.pending > 0 || delivery.failed > 0) {
      // What stderr says after scan --notify: how many remain queued, when the next attempt is due and why then.
      deps.log(context, 'alert.pending', {
        pending: delivery.pending,
        failed: delivery.failed,
        ...(delivery.nextAttempt ? { nextAttemptAt: delivery.nextAttempt.at, nextAttemptReason: delivery.nextAttempt.reason } : {}),
      });
    }
    if (pruned && (pruned.messages > 0 || pruned.claims > 0 || pruned.error)) deps.log(context, 'outbox.pruned', { ...pruned });
    return delivery;
  } catch (error) {
    deps.log(context, 'alert.failed', { error: error instanceof Error ? error.message : String(error) });
    return undefined;
  }
}
