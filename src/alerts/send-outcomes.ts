/**
 * What a send's outcome makes of an outbox message (src/alerts/outbox-sender.ts), and what holds a
 * queued message back: a wait the service asked for, or another sender's lease.
 */
import type { OutboxMessage, OutboxMessagePatch, SendOutcome } from './ports.js';

const MINUTE = 60_000;

/** The longest wait the service may impose (docs/reference/alerts.md: a longer Retry-After counts as one hour). */
export const MAX_SERVICE_WAIT_MS = 60 * MINUTE;

/**
 * How far past MAX_SERVICE_WAIT_MS a stored wait may lie and still be honoured: the wait is
 * counted from the moment of the answer, which a later run (on another instance's clock) may see
 * a little ahead of its own start. Anything further was not written by a bounded wait (earlier
 * versions parked messages for years) and holds nothing.
 */
const STORED_WAIT_SLACK_MS = 5 * MINUTE;

/**
 * What the outbox records of one send's outcome. An error counts against the message: it is given
 * up (`dead`) once it has failed `maxFailures` times in a row and was composed `giveUpAfterMs` before.
 */
export function outcomePatch(
  message: OutboxMessage,
  outcome: SendOutcome,
  at: Date,
  { maxFailures, giveUpAfterMs }: { maxFailures: number; giveUpAfterMs: number },
): OutboxMessagePatch {
  const iso = at.toISOString();
  const base = { attempts: message.attempts + 1, leaseUntil: null };
  switch (outcome.kind) {
    case 'succeeded':
      return {
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
    case 'running':
      return {
        ...base,
        state: 'accepted',
        failures: 0,
        serviceOperationId: outcome.serviceOperationId,
        serviceStatus: 'Running',
        acceptedAt: message.acceptedAt ?? iso,
        resumeState: outcome.resumeState,
        nextAttemptAt: null,
      };
    case 'failed':
      return {
        ...base,
        state: 'failed',
        serviceOperationId: outcome.serviceOperationId,
        serviceStatus: outcome.status,
        lastError: outcome.error,
        acceptedAt: message.acceptedAt ?? iso,
        completedAt: iso,
        nextAttemptAt: null,
      };
    case 'throttled':
      return {
        ...base,
        lastError: outcome.error,
        nextAttemptAt: new Date(at.getTime() + boundedServiceWait(outcome.retryAfterMs)).toISOString(),
        ...(outcome.accepted && !message.acceptedAt ? { acceptedAt: iso } : {}),
      };
    case 'error': {
      const failures = message.failures + 1;
      const givenUp = failures >= maxFailures && at.getTime() - Date.parse(message.createdAt) >= giveUpAfterMs;
      return {
        ...base,
        failures,
        lastError: outcome.error,
        nextAttemptAt: null,
        ...(givenUp ? { state: 'dead' as const } : {}),
        ...(outcome.accepted && !message.acceptedAt ? { acceptedAt: iso } : {}),
      };
    }
  }
}

/** A wait the transport reports, within 0 .. MAX_SERVICE_WAIT_MS whatever it is (NaN counts as none). */
function boundedServiceWait(ms: number): number {
  return ms > 0 ? Math.min(ms, MAX_SERVICE_WAIT_MS) : 0;
}

/**
 * The end of the latest wait the service asked for that still holds, or null. Only a throttled
 * answer sets a queued message's `nextAttemptAt`, so the latest one ahead is the service's word.
 */
export function serviceWaitUntil(messages: readonly OutboxMessage[], nowMs: number): number | null {
  let until: number | null = null;
  for (const message of messages) {
    const at = message.nextAttemptAt ? Date.parse(message.nextAttemptAt) : Number.NaN;
    if (at > nowMs && at <= nowMs + MAX_SERVICE_WAIT_MS + STORED_WAIT_SLACK_MS && (until === null || at > until)) until = at;
  }
  return until;
}

/** When another sender's lease on the message ends, or null when it holds none (an unreadable lease holds nothing). */
export function leasedUntil(message: OutboxMessage, nowMs: number): number | null {
  const until = message.leaseUntil ? Date.parse(message.leaseUntil) : Number.NaN;
  return until > nowMs ? until : null;
}
