/**
 * The Event Grid trigger's handler (docs/reference/events.md): a `ContactWatch.SubscriptionCreated` event
 * from the vending pipeline, or a securityContacts write/delete from a subscription's system
 * topic, re-evaluates that subscription at once (src/app/evaluate-subscription.ts).
 *
 * - A malformed event is logged (`event.malformed`, with the reason, never the payload) and
 *   dropped: a retry cannot mend it, so the invocation succeeds. That includes a SubscriptionCreated
 *   dated further ahead of the app's clock than the clock skew allowed (src/app/events.ts).
 * - An event of another type or operation is logged (`event.ignored`, with the reason) and dropped.
 * - A transient failure (securityContacts API or Table Storage unavailable, or a subscription just
 *   vended that the app cannot read yet) is thrown, so the invocation fails and Event Grid
 *   delivers the event again.
 * - A repeated delivery never alerts twice: the second evaluation finds the record already alerted
 *   on in its status (lastAlertedAt), and two deliveries at once compute the same occurrence key,
 *   which the outbox lets only one of them claim (test/integration/app/contact-events.test.ts).
 */
import type { InvocationContext } from '@azure/functions';
import { parseContactWatchEvent } from '../events.js';
import { evaluateSubscription } from '../evaluate-subscription.js';
import type { AppDependencies } from '../dependencies.js';

export function createContactEventHandler(deps: AppDependencies): (event: unknown, context: InvocationContext) => Promise<void> {
  return async (event: unknown, context: InvocationContext): Promise<void> => {
    const parsed = parseContactWatchEvent(event, deps.clock());
    switch (parsed.kind) {
      case 'malformed':
        deps.log(context, 'event.malformed', { reason: parsed.reason });
        return;
      case 'ignored':
        deps.log(context, 'event.ignored', {
          eventId: parsed.eventId,
          eventType: parsed.eventType,
          schema: parsed.schema,
          reason: parsed.reason,
        });
        return;
      case 'subscription-created':
      case 'contact-changed': {
        deps.log(context, 'event.received', {
          eventId: parsed.eventId,
          kind: parsed.kind,
          schema: parsed.schema,
          subscriptionId: parsed.subscriptionId,
          ...(parsed.kind === 'contact-changed' ? { operation: parsed.operation } : {}),
        });
        await evaluateSubscription(deps, context, {
          subscriptionId: parsed.subscriptionId,
          evaluatedBy: `event:${parsed.eventId}`,
          alertMode: 'single',
          ...(parsed.kind === 'subscription-created' && parsed.eventTime ? { announcedAt: parsed.eventTime } : {}),
          // A new subscription and a deleted contact are repaired at once (when remediation is on);
          // a contact someone is editing is left to them, and to the timer.
          ...(parsed.kind === 'subscription-created' || parsed.operation === 'delete'
            ? { repair: { by: `app on event ${parsed.eventId}` } }
            : {}),
        });
        return;
      }
    }
  };
}
