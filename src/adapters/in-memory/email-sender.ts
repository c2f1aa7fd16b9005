/**
 * The alerts' mail transport (EmailTransport in src/alerts/ports.ts) in memory: it keeps what it
 * was asked to send instead of sending it, and answers the way the ACS transport
 * (src/adapters/email/acs-email-sender.ts) expects Azure Communication Services Email to, as the
 * local ACS test service does:
 *
 * - the `Operation-Id` is our idempotency key: a repeated id is the same operation, nothing new is
 *   kept, and its outcome (delivered or failed) is answered again (what contact-watch relies on,
 *   not a documented guarantee of ACS);
 * - an id that is not a UUID, a subject with a line break, or no recipients or more than 50 is
 *   refused (400), nothing kept;
 * - scripted faults: `throttle` answers 429 with a Retry-After (honoured up to one hour, as the ACS
 *   transport does), `refuse` answers an error status, `fail-delivery` accepts the message and
 *   reports it Failed (EmailDropped).
 *
 * Delivery ends at once (never `running`): there is nothing to wait for.
 */
import { MAX_SERVICE_WAIT_MS } from '../../alerts/send-outcomes.js';
import type { EmailTransport, OutgoingEmail, SendOutcome } from '../../alerts/ports.js';
import { isGuid } from '../../core/subscription-id.js';

export interface InMemoryEmail {
  operationId: string;
  receivedAt: string;
  senderAddress: string;
  to: Array<{ address: string }>;
  subject: string;
  html: string;
  plainText: string;
  status: 'Succeeded' | 'Failed';
}

/** One send as it arrived: kept (`accepted`), a repeated Operation-Id (`repeated`), or the error status answered. */
export interface InMemorySendAttempt {
  operationId: string;
  outcome: 'accepted' | 'repeated' | number;
  at: string;
}

/** Faults apply to the next sends in the order they were added; `operationId` limits one to that message. */
export type InMemoryEmailFault =
  | { kind: 'throttle'; retryAfterSeconds?: number; times?: number; operationId?: string }
  | { kind: 'refuse'; status?: number; code?: string; times?: number; operationId?: string }
  | { kind: 'fail-delivery'; times?: number };

export interface InMemoryEmailSenderOptions {
  /** The sender address the messages carry. Default `DoNotReply@contact-watch.invalid`. */
  senderAddress?: string;
  clock?: () => Date;
}

const MAX_RECIPIENTS = 50;
const DROPPED = 'EmailDropped: Email was dropped after several attempts to deliver.';

export class InMemoryEmailSender implements EmailTransport {
  /** Every message accepted, in order (a repeated Operation-Id adds nothing). */
  readonly messages: InMemoryEmail[] = [];
  readonly sendAttempts: InMemorySendAttempt[] = [];
  private readonly senderAddress: string;
  private readonly clock: () => Date;
  private scripted: Array<InMemoryEmailFault & { remaining: number }> = [];

  readonly faults = {
    add: (fault: InMemoryEmailFault): void => {
      const times = fault.times ?? 1;
      if (!(times > 0)) throw new RangeError(`a fault applies at least once, not ${times} times`);
      this.scripted.push({ ...fault, remaining: times });
    },
    clear: (): void => {
      this.scripted = [];
    },
    /** Faults not yet used up. */
    pending: (): readonly (InMemoryEmailFault & { remaining: number })[] => this.scripted,
  };

  constructor(options: InMemoryEmailSenderOptions = {}) {
    this.senderAddress = options.senderAddress ?? 'DoNotReply@contact-watch.invalid';
    this.clock = options.clock ?? (() => new Date());
  }

  /** Forgets every message, attempt and fault. */
  reset(): void {
    this.messages.length = 0;
    this.sendAttempts.length = 0;
    this.scripted = [];
  }

  async send(email: OutgoingEmail, operationId: string, options: { resumeState?: string | null } = {}): Promise<SendOutcome> {
    const id = operationId.toLowerCase();
    if (options.resumeState) {
      // A poll of an operation sent before: its outcome, never a second message.
      const known = this.messages.find((message) => message.operationId === id);
      if (known) return outcomeOf(known);
      return { kind: 'error', error: `HTTP 404 NotFound: Operation ${operationId} was not found.`, accepted: true };
    }
    const attempt: InMemorySendAttempt = { operationId, outcome: 0, at: this.clock().toISOString() };
    this.sendAttempts.push(attempt);
    const fault = this.take(['throttle', 'refuse'], id);
    if (fault?.kind === 'throttle') {
      attempt.outcome = 429;
      return throttled(fault.retryAfterSeconds ?? 1);
    }
    if (fault?.kind === 'refuse') {
      attempt.outcome = fault.status ?? 400;
      return refused(attempt.outcome, fault.code ?? 'BadRequest', 'The request was refused (scripted).');
    }
    if (!isGuid(operationId)) {
      attempt.outcome = 400;
      return refused(400, 'InvalidOperationId', 'Operation-Id must be a UUID.');
    }
    const existing = this.messages.find((message) => message.operationId === id);
    if (existing) {
      attempt.outcome = 'repeated';
      return outcomeOf(existing);
    }
    const problem = invalid(email);
    if (problem) {
      attempt.outcome = 400;
      return refused(400, 'BadRequest', problem);
    }
    const message: InMemoryEmail = {
      operationId: id,
      receivedAt: attempt.at,
      senderAddress: this.senderAddress,
      to: email.to.map((address) => ({ address })),
      subject: email.subject,
      html: email.html,
      plainText: email.plainText,
      status: this.take(['fail-delivery'], id) ? 'Failed' : 'Succeeded',
    };
    this.messages.push(message);
    attempt.outcome = 'accepted';
    return outcomeOf(message);
  }

  private take(kinds: ReadonlyArray<InMemoryEmailFault['kind']>, operationId: string): InMemoryEmailFault | undefined {
    const fault = this.scripted.find((candidate) => {
      const only = 'operationId' in candidate ? candidate.operationId?.toLowerCase() : undefined;
      return kinds.includes(candidate.kind) && (only === undefined || only === operationId);
    });
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.scripted = this.scripted.filter((candidate) => candidate !== fault);
    return fault;
  }
}

function outcomeOf(message: InMemoryEmail): SendOutcome {
  return message.status === 'Succeeded'
    ? { kind: 'succeeded', serviceOperationId: message.operationId }
    : { kind: 'failed', serviceOperationId: message.operationId, status: message.status, error: DROPPED };
}

/** As the ACS transport reports a 429: the wait asked for, at most one hour. */
function throttled(retryAfterSeconds: number): SendOutcome {
  const asked = Math.max(0, retryAfterSeconds * 1000);
  const ms = Math.min(asked, MAX_SERVICE_WAIT_MS);
  const note = asked > MAX_SERVICE_WAIT_MS ? ` (Retry-After: "${retryAfterSeconds}", more than the one hour honoured)` : '';
  const error = `the service answered 429 (throttled); retry after ${Math.ceil(ms / 1000)} s${note}`;
  return { kind: 'throttled', retryAfterMs: ms, error, accepted: false };
}

function refused(status: number, code: string, message: string): SendOutcome {
  return { kind: 'error', error: `HTTP ${status} ${code}: ${message}`, accepted: false };
}

function invalid(email: OutgoingEmail): string | undefined {
  if (/[\r\n]/.test(email.subject)) return 'content.subject must not contain CR or LF.';
  if (email.to.length === 0) return 'At least one recipient is required.';
  if (email.to.length > MAX_RECIPIENTS) return `A message may have at most ${MAX_RECIPIENTS} recipients.`;
  return undefined;
}
