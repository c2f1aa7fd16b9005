/**
 * The states of an alert message in the outbox, and which of them mean it has not reached its
 * recipients; and the channels a message goes out on. Shared by the sender, the operator's
 * commands and the operator page.
 */

/**
 * Where an alert message goes (docs/reference/alerts.md): `email` through Azure Communication
 * Services, `teams` as an Adaptive Card to a Teams workflow, `webhook` as a signed JSON document.
 * Each owed alert is written once per configured channel, in this order.
 */
export const ALERT_CHANNELS = ['email', 'teams', 'webhook'] as const;
export type AlertChannel = (typeof ALERT_CHANNELS)[number];

/** How people are told the channel: the command line's output and the operator page. */
export const ALERT_CHANNEL_LABELS: Record<AlertChannel, string> = { email: 'e-mail', teams: 'Teams', webhook: 'webhook' };

/**
 * - `pending`: not yet accepted by the service (never sent, or the send failed or was throttled);
 *   sent by the next run, or once `nextAttemptAt` (the service's wait) has passed.
 * - `accepted`: the service accepted it (202) but had not finished when we stopped polling; polled again.
 * - `sent`: the service reported Succeeded.
 * - `failed`: the service reported Failed or Canceled (terminal; kept and counted).
 * - `dead`: gave up after too many failed attempts (kept and counted).
 * - `replaced`: a `failed` message a person requeued (`contact-watch requeue`, outbox-admin.ts):
 *   a copy under a new Operation-Id is sent instead, since the old id names the operation that
 *   failed and could be answered with that failure. `lastError` names the copy. (A requeued
 *   `dead` message goes back to `pending` under its own Operation-Id.)
 */
export const OUTBOX_STATES = ['pending', 'accepted', 'sent', 'failed', 'dead', 'replaced'] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];

/** States of a message that has not (yet) reached its recipients. */
export const UNDELIVERED_STATES = ['pending', 'accepted', 'failed', 'dead'] as const satisfies readonly OutboxState[];

/** States a message is only sent from again when a person requeues it. */
export const GIVEN_UP_STATES = ['failed', 'dead'] as const satisfies readonly OutboxState[];

/** A message sent again only when a person requeues it. */
export function isGivenUp(state: OutboxState): boolean {
  return (GIVEN_UP_STATES as readonly OutboxState[]).includes(state);
}
