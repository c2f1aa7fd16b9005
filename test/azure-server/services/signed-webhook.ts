/**
 * A local webhook receiver for contact-watch's alert documents, written the way
 * docs/reference/alerts.md tells a receiver to be: it verifies `X-ContactWatch-Signature` (an
 * HMAC-SHA256 of "<timestamp>.<raw body>" with the shared secret, compared in constant time),
 * refuses a timestamp more than five minutes from its clock (401), and takes each delivery once:
 * a request whose Idempotency-Key it has taken already is answered 200 and not taken again
 * (`repeated`). Faults are scripted through `faults` (post-receiver.ts).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createPostReceiver, type PostReceiver } from './post-receiver.js';

export const REPLAY_WINDOW_SECONDS = 300;

export interface ReceivedDelivery {
  at: string;
  deliveryId: string;
  /** The document as parsed. */
  document: Record<string, unknown> & { alerts?: { subscriptionId: string; key: string }[] };
  raw: string;
}

export interface WebhookReceiver extends PostReceiver {
  /** Every delivery taken, once each. */
  readonly deliveries: ReceivedDelivery[];
  /** The receiver's URL on the local server at `baseUrl`. */
  url(baseUrl: string): string;
}

function header(value: string | string[] | undefined): string {
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}

export function createWebhookReceiver(options: { secret: string; path?: string; now?: () => number }): WebhookReceiver {
  const path = options.path ?? '/hooks/contact-watch';
  const now = options.now ?? Date.now;
  const deliveries: ReceivedDelivery[] = [];
  const refused = (status: number, code: string, message: string) => ({ outcome: 'refused' as const, status, code, message });
  const receiver = createPostReceiver({
    name: 'webhook',
    pathPrefix: path,
    forget: () => void (deliveries.length = 0),
    receive(req, body) {
      const timestamp = header(req.headers['x-contactwatch-timestamp']);
      const signature = header(req.headers['x-contactwatch-signature']);
      if (!/^\d+$/.test(timestamp)) return refused(401, 'BadTimestamp', 'X-ContactWatch-Timestamp is missing or not Unix seconds.');
      if (Math.abs(now() / 1000 - Number(timestamp)) > REPLAY_WINDOW_SECONDS) {
        return refused(401, 'StaleTimestamp', 'X-ContactWatch-Timestamp is outside the replay window.');
      }
      const expected = Buffer.from(
        `sha256=${createHmac('sha256', Buffer.from(options.secret, 'utf8')).update(`${timestamp}.${body}`).digest('hex')}`,
      );
      const given = Buffer.from(signature);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return refused(401, 'BadSignature', 'X-ContactWatch-Signature does not match the body.');
      }
      let document: ReceivedDelivery['document'];
      try {
        document = JSON.parse(body);
      } catch {
        return refused(400, 'BadBody', 'The body is not JSON.');
      }
      const deliveryId = header(req.headers['idempotency-key']);
      if (!deliveryId || document.deliveryId !== deliveryId) return refused(400, 'BadDeliveryId', 'deliveryId and Idempotency-Key differ.');
      if (deliveries.some((delivery) => delivery.deliveryId === deliveryId)) return { outcome: 'repeated', status: 200 };
      deliveries.push({ at: new Date().toISOString(), deliveryId, document, raw: body });
      return { outcome: 'accepted', status: 202 };
    },
  });
  return Object.assign(receiver, { deliveries, url: (baseUrl: string) => `${baseUrl.replace(/\/+$/, '')}${path}` });
}
