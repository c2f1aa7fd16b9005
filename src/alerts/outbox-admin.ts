/**
 * What an operator does with the outbox (`contact-watch outbox`, `contact-watch requeue`, and the
 * report page's "Alert e-mails" section): see every message not delivered yet, on every channel,
 * and queue again the ones the service failed or the sender gave up on. The next alert run (the
 * timer, an event, `scan --notify`) sends them, on the channel each was written for.
 */
import { nameBasedUuid } from './alert-service.js';
import { UNDELIVERED_STATES, type OutboxState } from '../core/outbox-states.js';
import type { Outbox, OutboxMessage } from './ports.js';

/** Every message not delivered, oldest first (a digest's parts in order). */
export function listUndeliveredMessages(outbox: Pick<Outbox, 'listMessages'>): Promise<OutboxMessage[]> {
  return outbox.listMessages(UNDELIVERED_STATES);
}

export type RequeueOutcome =
  /** `sendsAs`: the Operation-Id the next send carries (a new one for a `failed` message). */
  | { operationId: string; outcome: 'requeued'; from: 'failed' | 'dead'; sendsAs: string }
  | { operationId: string; outcome: 'not-found' }
  /** Pending, accepted, sent or replaced: nothing to requeue. */
  | { operationId: string; outcome: 'not-given-up'; state: OutboxState };

/**
 * Queues a given-up message again, sendable at once:
 * - `dead` (we stopped trying after repeated errors): back to `pending` under its own Operation-Id,
 *   failures reset, attempts kept: our idempotency key, so that a service that did accept one of
 *   the earlier sends can answer the repeat with that operation (the local ACS test service does;
 *   it is not a documented guarantee of ACS).
 * - `failed` (the service said Failed or Canceled, or a Teams workflow or webhook receiver refused
 *   it): the old id names the operation that failed and could be answered with that same failure
 *   (a webhook receiver that de-duplicates by Idempotency-Key would), so a copy is written under a new
 *   Operation-Id — derived from the old one, so a requeue interrupted and run again writes the
 *   same copy — and the old row becomes `replaced`, naming the copy.
 * An ETag conflict (a sender touched the message meanwhile) is thrown.
 */
export async function requeueMessage(
  outbox: Pick<Outbox, 'getMessage' | 'updateMessage' | 'createMessage'>,
  operationId: string,
): Promise<RequeueOutcome> {
  const message = await outbox.getMessage(operationId);
  if (!message) return { operationId, outcome: 'not-found' };
  if (message.state === 'dead') {
    await outbox.updateMessage(message, { state: 'pending', failures: 0, nextAttemptAt: null, leaseUntil: null });
    return { operationId, outcome: 'requeued', from: 'dead', sendsAs: operationId };
  }
  if (message.state !== 'failed') return { operationId, outcome: 'not-given-up', state: message.state };

  const copyId = nameBasedUuid(`${message.operationId}#requeued#${message.attempts}`);
  await outbox.createMessage({
    operationId: copyId,
    batchId: message.batchId,
    channel: message.channel,
    recipientGroup: message.recipientGroup,
    mode: message.mode,
    to: message.to,
    subscriptionIds: message.subscriptionIds,
    alertKeys: message.alertKeys,
    createdAt: message.createdAt,
    sequence: message.sequence,
    subject: message.subject,
    html: message.html,
    plainText: message.plainText,
    body: message.body,
  });
  await outbox.updateMessage(message, {
    state: 'replaced',
    lastError: `requeued as ${copyId}; it had failed: ${message.lastError ?? message.serviceStatus ?? 'unknown'}`,
  });
  return { operationId, outcome: 'requeued', from: 'failed', sendsAs: copyId };
}

/** How long a delivered message (and its alert claims) is kept: the audit trail of what was sent. */
export const DELIVERED_RETENTION_DAYS = 90;
/** Rows one alert run deletes at most, so housekeeping never makes a run long. */
export const PRUNE_LIMIT_PER_RUN = 500;

/**
 * Housekeeping after a scan's alert run: deletes messages delivered (or replaced by a requeued
 * copy) more than DELIVERED_RETENTION_DAYS ago, and claims as old. A claim only matters while its
 * subscription's record is unmarked — minutes, until the next run completes the batch — so an old
 * one is never needed; messages not delivered are kept whatever their age.
 */
export async function pruneDeliveredAlerts(
  outbox: Pick<Outbox, 'pruneDelivered'>,
  now: Date,
): Promise<{ messages: number; claims: number }> {
  return outbox.pruneDelivered(new Date(now.getTime() - DELIVERED_RETENTION_DAYS * 86_400_000), PRUNE_LIMIT_PER_RUN);
}

/** What the housekeeping after a scan's alert run deleted, or why it could not. */
export interface PruneResult {
  messages: number;
  claims: number;
  error?: string;
}
