/**
 * The ports alerting needs: the subscription records (state store), the outbox, and a transport
 * per channel. Adapters implement them: src/adapters/table-storage (records, outbox),
 * src/adapters/email (ACS Email) and src/adapters/http-channels (the Teams workflow, the signed webhook).
 */
import type { AlertKind, OwedAlert } from '../core/alerts.js';
import type { AlertChannel, OutboxState } from '../core/outbox-states.js';
import type { SubscriptionRecord } from '../core/state-model.js';

/**
 * What alerting reads from and writes to the subscription records; the Table Storage state store
 * (src/adapters/table-storage/state-store.ts) satisfies it as it is.
 */
export interface AlertRecordStore {
  /** Every stored subscription record. */
  loadSubscriptions(): Promise<SubscriptionRecord[]>;
  /** The stored records of these subscriptions, read by key. */
  getSubscriptions(subscriptionIds: readonly string[]): Promise<SubscriptionRecord[]>;
  /** Sets `lastAlertedAt = at` on each of these subscriptions (an alert covering it was queued). */
  markAlerted(subscriptionIds: readonly string[], at: Date): Promise<unknown>;
}

export type AlertMode = 'digest' | 'single';

/**
 * One alert occurrence claimed in the outbox. Its key is the alert's occurrence key, so a second
 * claim of the same occurrence fails: whoever claims it first composes the message for it.
 */
export interface AlertClaim {
  key: string;
  /** The messages composed for it carry this batch id (one per channel, and per recipient group for e-mail). */
  batchId: string;
  mode: AlertMode;
  subscriptionId: string;
  kind: AlertKind;
  /** The alert as owed when it was claimed: enough to compose the message again. */
  alert: OwedAlert;
  createdAt: string;
  /**
   * The channels its batch was composed for (the claiming run's). Absent on claims written before
   * it was recorded: those are read as the reading run's channels, as every earlier version did.
   */
  channels?: AlertChannel[];
}

/** Which program runs alerts: the Functions app defines the deployment's channel set; the CLI follows it. */
export type AlertRunner = 'app' | 'cli';

/**
 * The channels the deployment alerts through, as last recorded in the outbox (docs/reference/alerts.md,
 * "Runs with fewer channels"). Names only, never where a channel delivers.
 */
export interface AlertChannelSet {
  /** Channel names; a name this version does not know is kept, and counts as a channel this run lacks. */
  channels: string[];
  /** ISO 8601: when this set was last written. */
  writtenAt: string;
  writtenBy: AlertRunner;
}

/**
 * What a message says. `subject` is the one-line summary every channel has (an e-mail's subject,
 * the title of a Teams card and of a webhook document); `html` and `plainText` are an e-mail's
 * bodies (empty on the other channels); `body` is the JSON document a Teams workflow or a webhook
 * receives (empty for e-mail).
 */
export interface OutboxMessageContent {
  subject: string;
  html: string;
  plainText: string;
  body: string;
}

export interface NewOutboxMessage extends OutboxMessageContent {
  /**
   * The id of every send of this message (a UUID), fixed when it is created: the e-mail's
   * `Operation-Id`, the webhook's `Idempotency-Key`.
   */
  operationId: string;
  batchId: string;
  /** The channel it goes out on. Only the channel is stored, never where it goes (a URL may carry a signature). */
  channel: AlertChannel;
  /** Which slice of the recipient list this message goes to (ACS allows 50 recipients a message); 0 on the other channels. */
  recipientGroup: number;
  mode: AlertMode;
  /** The e-mail's recipients; empty on the other channels. */
  to: string[];
  subscriptionIds: string[];
  alertKeys: string[];
  createdAt: string;
  /** Orders the messages composed at the same time (digest parts go out as part 1, 2, 3). */
  sequence: number;
}

export interface OutboxMessage extends NewOutboxMessage {
  state: OutboxState;
  /** Sends (and polls of an accepted message) tried so far. */
  attempts: number;
  /** Failed attempts in a row (throttling does not count); past the limit, and old enough, the message goes `dead`. */
  failures: number;
  lastError: string | null;
  /** The service asked for a wait (Retry-After, at most one hour): nothing is sent before this time. */
  nextAttemptAt: string | null;
  /** When the service first accepted it (rate limits count these). */
  acceptedAt: string | null;
  completedAt: string | null;
  /** The service's operation id and last status (Running, Succeeded, Failed, Canceled). */
  serviceOperationId: string | null;
  serviceStatus: string | null;
  /** Saved poller state, to poll an accepted message again without sending it again. */
  resumeState: string | null;
  /** Another sender holds the message until then. */
  leaseUntil: string | null;
  /** Opaque concurrency token of the stored row. */
  etag: string;
}

export type OutboxMessagePatch = Partial<
  Pick<
    OutboxMessage,
    | 'state'
    | 'attempts'
    | 'failures'
    | 'lastError'
    | 'nextAttemptAt'
    | 'acceptedAt'
    | 'completedAt'
    | 'serviceOperationId'
    | 'serviceStatus'
    | 'resumeState'
    | 'leaseUntil'
  >
>;

/** The stored row changed since it was read (another process updated it). */
export class OutboxConflictError extends Error {
  override name = 'OutboxConflictError';
}

export interface Outbox {
  /** Creates the table if needed. */
  ensure(): Promise<void>;
  /** Inserts the claim unless the occurrence is claimed already; then returns the existing claim. */
  claimAlert(claim: AlertClaim): Promise<{ created: true } | { created: false; existing: AlertClaim }>;
  /** Removes claims (used to undo claims whose message could not be written). */
  releaseClaims(keys: readonly string[]): Promise<void>;
  listClaims(batchId: string): Promise<AlertClaim[]>;
  /** Inserts the message; `exists` when a message with this operation id is stored already. */
  createMessage(message: NewOutboxMessage): Promise<'created' | 'exists'>;
  getMessage(operationId: string): Promise<OutboxMessage | null>;
  /** The messages in these states, oldest first (a digest's parts in order). */
  listMessages(states: readonly OutboxState[]): Promise<OutboxMessage[]>;
  /** Updates the message if it is unchanged since it was read; throws OutboxConflictError otherwise. */
  updateMessage(message: OutboxMessage, patch: OutboxMessagePatch): Promise<OutboxMessage>;
  /** When each message of `channel` accepted at or after `since` was accepted (for that channel's rate limits). */
  acceptedSince(since: Date, channel: AlertChannel): Promise<Date[]>;
  /**
   * Deletes up to `limit` rows composed before `before` that no run needs any more: messages
   * `sent` or `replaced`, and alert claims. Messages not delivered are never pruned.
   */
  pruneDelivered(before: Date, limit: number): Promise<{ messages: number; claims: number }>;
  /** The deployment's channel set, or null when none is recorded yet. */
  readChannelSet(): Promise<AlertChannelSet | null>;
  /** Records the deployment's channel set (replacing the one stored). */
  writeChannelSet(set: AlertChannelSet): Promise<void>;
}

/** What a transport sends: the message's content and, for e-mail, its recipients. */
export interface OutgoingMessage extends OutboxMessageContent {
  to: string[];
}

/** An e-mail as the ACS transport sends it (the same shape: the transport reads its e-mail parts). */
export type OutgoingEmail = OutgoingMessage;

/** What happened to one send (or one re-poll) of a message. */
export type SendOutcome =
  | { kind: 'succeeded'; serviceOperationId: string }
  /** The service accepted it and it had not finished within the wait: poll again later. */
  | { kind: 'running'; serviceOperationId: string; resumeState: string | null }
  /**
   * Terminal: the e-mail service reported Failed or Canceled, or a Teams workflow or webhook
   * receiver refused the message with a 4xx other than 408 and 429 (sending it again would be
   * refused again).
   */
  | { kind: 'failed'; serviceOperationId: string; status: string; error: string }
  /** 429 (or 503 with Retry-After): stop sending on this channel for now. */
  | { kind: 'throttled'; retryAfterMs: number; error: string; accepted: boolean }
  /** Anything else (connection dropped, timeout, 5xx after retries; for e-mail, 4xx too): try again later. */
  | { kind: 'error'; error: string; accepted: boolean };

/** Sends a channel's messages. */
export interface AlertTransport {
  /**
   * Sends the message under this id (or, with `resumeState`, only polls the operation started
   * earlier) and waits a bounded time for the end.
   */
  send(message: OutgoingMessage, operationId: string, options?: { resumeState?: string | null }): Promise<SendOutcome>;
}

/** The e-mail channel's transport (ACS Email, or the in-memory one of the tests). */
export type EmailTransport = AlertTransport;

/** What one alert run delivered, over every channel, and on each channel (`channels`). */
export interface DeliveryCounts extends ChannelDeliveryCounts {
  /** The same counts for each channel that has messages or is configured. */
  channels: Partial<Record<AlertChannel, ChannelDeliveryCounts>>;
}

export interface ChannelDeliveryCounts {
  /** Messages the service reported delivered in this run. */
  sent: number;
  /** Messages still queued after this run (pending or accepted, awaiting the service). */
  pending: number;
  /** Messages kept after the service failed them or we gave up on them (`failed` and `dead`). */
  failed: number;
  /** True when the service throttled us: a wait it asked for held this run, or stopped it early. */
  throttled: boolean;
  /** True when the configured rate limit left messages for later. */
  rateLimited: boolean;
  /** When the earliest of the messages still queued may be tried again, and why then; null when none is queued. */
  nextAttempt: NextAttempt | null;
}

/**
 * - `next-run`: due now; the next run (the timer's, an event's, or `scan --notify`) tries it.
 * - `retry-after`: the service asked for this wait (at most one hour); no run sends before it.
 * - `rate-limit`: the configured sending rate (messages per minute and per hour) is used up until then.
 * - `leased`: another run is sending it; if that run dies, this is when the message is free again.
 * - `not-configured`: its channel's settings are gone; it waits until they are set again.
 */
export type NextAttemptReason = 'next-run' | 'retry-after' | 'rate-limit' | 'leased' | 'not-configured';

export interface NextAttempt {
  /** ISO 8601. */
  at: string;
  reason: NextAttemptReason;
}
