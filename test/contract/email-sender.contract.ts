/**
 * The alerts' mail transport's contract (EmailTransport, src/alerts/ports.ts), for any mail
 * service: the ACS transport against the local ACS Email service, or the in-memory sender. The
 * Operation-Id is the idempotency key, a 429 stops the send with the service's wait (at most one
 * hour), a refused send is an error and keeps nothing, a Failed delivery is reported with the
 * service's error.
 */
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { EmailTransport, OutgoingEmail } from '../../src/alerts/ports.js';

/** A mail service a transport sends to, as a test sees and steers it. */
export interface MailService {
  readonly name: string;
  /** The sender address its transports put on every message. */
  readonly senderAddress: string;
  transport(): EmailTransport;
  /** Every message accepted, in order (a repeated Operation-Id adds nothing). */
  messages(): ReadonlyArray<{
    operationId: string;
    senderAddress: string;
    subject: string;
    html?: string;
    plainText?: string;
    to: Array<{ address: string }>;
    status: string;
  }>;
  /** Every send that reached the service, with its Operation-Id and what became of it. */
  sendAttempts(): ReadonlyArray<{ operationId: string | undefined; outcome: 'accepted' | 'repeated' | 'dropped' | number }>;
  /** The next send is answered 429 with this Retry-After. */
  throttleNextSend(retryAfterSeconds: number): void;
  /** The next send is refused with this status and code; nothing is kept. */
  refuseNextSend(status: number, code: string): void;
  /** The next message accepted ends Failed (EmailDropped). */
  failNextDelivery(): void;
  /** Forgets every message, attempt and fault. */
  reset(): void;
}

const HOUR = 3_600_000;

export const EMAIL: OutgoingEmail = {
  subject: '[contact-watch] 1 Azure subscription without a valid security contact (1 new)',
  html: '<p>Payments prod &lt;script&gt;</p>',
  plainText: 'Payments prod <script>',
  body: '',
  to: ['secops@contoso-alerts.example.net'],
};

export function emailSenderContract(service: MailService): void {
  beforeEach(() => service.reset());

  describe(`the mail transport (${service.name})`, () => {
    it('sends, passing the outbox operationId as Operation-Id', async () => {
      const operationId = randomUUID();
      const outcome = await service.transport().send(EMAIL, operationId);
      expect(outcome).toEqual({ kind: 'succeeded', serviceOperationId: operationId });
      expect(service.sendAttempts().map((a) => a.operationId)).toEqual([operationId]);
      expect(service.messages()).toHaveLength(1);
      expect(service.messages()[0]).toMatchObject({
        operationId,
        senderAddress: service.senderAddress,
        subject: EMAIL.subject,
        html: EMAIL.html,
        plainText: EMAIL.plainText,
        to: [{ address: 'secops@contoso-alerts.example.net' }],
        status: 'Succeeded',
      });
    });

    it('a repeated send of the same operationId (next run) does not produce a second e-mail', async () => {
      const operationId = randomUUID();
      await service.transport().send(EMAIL, operationId);
      const again = await service.transport().send(EMAIL, operationId);
      expect(again.kind).toBe('succeeded');
      expect(service.sendAttempts()).toHaveLength(2);
      expect(service.sendAttempts().map((a) => a.outcome)).toEqual(['accepted', 'repeated']);
      expect(service.messages()).toHaveLength(1);
    });

    it("stops on 429 with the service's Retry-After instead of waiting", async () => {
      service.throttleNextSend(120);
      const outcome = await service.transport().send(EMAIL, randomUUID());
      expect(outcome).toMatchObject({ kind: 'throttled', retryAfterMs: 120_000, accepted: false });
      expect(outcome.kind === 'throttled' && outcome.error).toMatch(/^the service answered 429 \(throttled\); retry after 120 s$/);
      // One attempt: the send did not wait out the Retry-After to try again.
      expect(service.sendAttempts()).toHaveLength(1);
      expect(service.messages()).toHaveLength(0);
    });

    it('never waits longer than one hour, whatever the Retry-After; the next send goes through', async () => {
      service.throttleNextSend(7_200);
      const operationId = randomUUID();
      const outcome = await service.transport().send(EMAIL, operationId);
      expect(outcome).toMatchObject({ kind: 'throttled', retryAfterMs: HOUR, accepted: false });
      expect(outcome.kind === 'throttled' && outcome.error).toMatch(/more than the one hour honoured/);
      expect(await service.transport().send(EMAIL, operationId)).toEqual({ kind: 'succeeded', serviceOperationId: operationId });
      expect(service.messages()).toHaveLength(1);
    });

    it('reports a Failed delivery with the service error', async () => {
      service.failNextDelivery();
      const operationId = randomUUID();
      const outcome = await service.transport().send(EMAIL, operationId);
      expect(outcome).toMatchObject({ kind: 'failed', status: 'Failed', serviceOperationId: operationId });
      expect(outcome.kind === 'failed' && outcome.error).toContain('EmailDropped');
    });

    it('answers a repeated Operation-Id of a failed delivery with that failure, sending nothing new', async () => {
      service.failNextDelivery();
      const operationId = randomUUID();
      await service.transport().send(EMAIL, operationId);
      const again = await service.transport().send(EMAIL, operationId);
      expect(again).toMatchObject({ kind: 'failed', status: 'Failed', serviceOperationId: operationId });
      expect(service.messages().map((m) => m.status)).toEqual(['Failed']);
    });

    it('reports a refused send as an error, not accepted, and keeps nothing', async () => {
      service.refuseNextSend(400, 'BadRequest');
      const refused = await service.transport().send(EMAIL, randomUUID());
      expect(refused).toMatchObject({ kind: 'error', accepted: false });
      expect(refused.kind === 'error' && refused.error).toMatch(/400/);
      const withoutRecipients = await service.transport().send({ ...EMAIL, to: [] }, randomUUID());
      expect(withoutRecipients).toMatchObject({ kind: 'error', accepted: false });
      expect(service.messages()).toHaveLength(0);
    });
  });
}
