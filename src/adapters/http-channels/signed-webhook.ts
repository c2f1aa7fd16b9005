/**
 * Sends alert documents to a webhook: a JSON POST signed with HMAC-SHA256, in the scheme of
 * Stripe's and Slack's webhooks (docs/reference/alerts.md "Verifying a delivery"):
 *
 *   X-ContactWatch-Timestamp: <Unix seconds when this attempt was sent>
 *   X-ContactWatch-Signature: sha256=<hex HMAC-SHA256, keyed with the secret's UTF-8 bytes, of "<timestamp>.<raw body>">
 *   Idempotency-Key: <the message's id, the same on every attempt>
 *
 * The body begins with `"deliveryId"`, the same id, so that it is covered by the signature. Each
 * attempt is signed afresh (its own timestamp), so a receiver can refuse any timestamp older than
 * its replay window and still get every retry; it recognises a retry by the id.
 */
import { createHmac } from 'node:crypto';
import type { AlertTransport, OutgoingMessage, SendOutcome } from '../../alerts/ports.js';
import { withDeliveryId } from '../../alerts/webhook/document.js';
import { JsonPoster, type JsonPostOptions } from './json-post.js';

export const TIMESTAMP_HEADER = 'X-ContactWatch-Timestamp';
export const SIGNATURE_HEADER = 'X-ContactWatch-Signature';
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

export interface SignedWebhookTransportOptions extends JsonPostOptions {
  /** Where to POST (CONTACT_WATCH_WEBHOOK_URL; it may carry a token of the receiver's: a secret). */
  url: string;
  /** The signing secret (CONTACT_WATCH_WEBHOOK_SECRET), at least 32 bytes. */
  secret: string;
  /** Unix time in ms for the timestamp (default Date.now). */
  now?: () => number;
}

/** The signature of a body sent at `timestamp` (Unix seconds), as the header carries it. */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

export class SignedWebhookTransport implements AlertTransport {
  private readonly poster: JsonPoster;
  private readonly secret: string;
  private readonly now: () => number;

  constructor(options: SignedWebhookTransportOptions) {
    this.poster = new JsonPoster(options.url, 'the webhook', options, [options.secret]);
    this.secret = options.secret;
    this.now = options.now ?? Date.now;
  }

  send(message: OutgoingMessage, operationId: string): Promise<SendOutcome> {
    const body = withDeliveryId(message.body, operationId);
    const timestamp = Math.floor(this.now() / 1000);
    return this.poster.post(
      body,
      {
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: webhookSignature(this.secret, timestamp, body),
        [IDEMPOTENCY_KEY_HEADER]: operationId,
      },
      operationId,
    );
  }
}
