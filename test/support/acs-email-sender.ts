/**
 * The outbox sender over ACS Email alone, as the alert tests use it: the app builds its sender with
 * every configured channel (src/compose/alert-delivery.ts); these tests send e-mail only.
 */
import { OutboxSender, type OutboxSenderOptions, type RateLimit } from '../../src/alerts/outbox-sender.js';
import type { Outbox } from '../../src/alerts/ports.js';
import { ACS_RATE_LIMITS, AcsEmailTransport, type AcsEmailTransportOptions } from '../../src/adapters/email/acs-email-sender.js';

export interface AcsEmailSenderOptions extends AcsEmailTransportOptions, Omit<OutboxSenderOptions, 'channels' | 'outbox'> {
  outbox: Outbox;
  /** The e-mail rate (default: an Azure-managed domain's quota, 5 a minute and 10 an hour). */
  rate?: RateLimit;
}

/** `sendPending(now)` delivers the e-mails the outbox holds. */
export function createAcsEmailSender(options: AcsEmailSenderOptions): OutboxSender {
  const transport = new AcsEmailTransport(options);
  return new OutboxSender({ ...options, channels: { email: { transport, rate: options.rate ?? ACS_RATE_LIMITS.azureManagedDomain } } });
}
