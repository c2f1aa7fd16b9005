/**
 * Alert delivery for the app's handlers: queue what is owed (a digest after a scan, one message
 * for the subscription an event evaluated) on every configured channel, then send what is pending.
 * A send that fails stays in the outbox for the next run; it is logged per channel (`alert.sent`,
 * and `alert.pending`: how many remain queued or failed, and when the next attempt is due), never
 * thrown, so it never fails the scan or the event.
 */
import type { InvocationContext } from '@azure/functions';
import type { DeliveryCounts } from '../alerts/ports.js';
import { ALERT_CHANNELS } from '../core/outbox-states.js';
import type { AppDependencies } from './dependencies.js';
import { messageOf } from '../core/error-message.js';

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
    // The app defines the deployment's channel set (src/alerts/channel-set.ts), so it is never
    // short of a channel; it says when its settings dropped one. Channel names only, never URLs.
    if (queued.removedChannels.length > 0) deps.log(context, 'alert.channelsRemoved', { removed: queued.removedChannels });
    if (queued.queued > 0) deps.log(context, 'alert.queued', { alerts: queued.queued, messages: queued.messages });
    // One line per channel, so that a channel that fails is seen as such beside one that delivers.
    for (const channel of ALERT_CHANNELS) {
      const counts = delivery.channels[channel];
      if (!counts) continue;
      if (counts.sent > 0) deps.log(context, 'alert.sent', { channel, messages: counts.sent });
      if (counts.pending > 0 || counts.failed > 0) {
        // What stderr says after scan --notify: how many remain queued, when the next attempt is due and why then.
        deps.log(context, 'alert.pending', {
          channel,
          pending: counts.pending,
          failed: counts.failed,
          ...(counts.nextAttempt ? { nextAttemptAt: counts.nextAttempt.at, nextAttemptReason: counts.nextAttempt.reason } : {}),
        });
      }
    }
    if (pruned && (pruned.messages > 0 || pruned.claims > 0 || pruned.error)) deps.log(context, 'outbox.pruned', { ...pruned });
    return delivery;
  } catch (error) {
    deps.log(context, 'alert.failed', { error: messageOf(error) });
    return undefined;
  }
}
