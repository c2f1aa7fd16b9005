/**
 * Sends alert e-mails through Azure Communication Services Email (`@azure/communication-email`).
 *
 * - Authentication: a connection string `endpoint=…;accesskey=…` (HMAC, signed by the SDK) or an
 *   endpoint with a TokenCredential (managed identity; scope `https://communication.azure.com/.default`).
 *   The connection string is for local runs: the ACS resource infra/ deploys has local
 *   authentication off, so it refuses an access key.
 * - Idempotency: every send passes the outbox message's `operationId` to `beginSend(message,
 *   { operationId })`, which the SDK sends as the `Operation-Id` header: our idempotency key, the
 *   same on every retry. The REST specification calls it the id of the long-running operation;
 *   that a repeated id is the same operation and no second e-mail is what the local ACS test
 *   service does, not a documented guarantee of the service. The SDK's own retries of a dropped
 *   connection resend the same request, header included.
 * - Throttling: a 429 (or 503 naming a wait) is not waited out inside the SDK; it ends the send as
 *   `throttled` with the service's wait, at most one hour (docs/reference/alerts.md), so the caller stops for
 *   this run.
 * - Polling: until Succeeded/Failed/Canceled, at most `maxPollWaitMs`; an operation still
 *   `Running` is returned with its poller state so the next run polls it without sending again.
 * - Nothing here logs; error texts are redacted of keys and signatures before they are returned.
 */
import { EmailClient, type EmailClientOptions, type EmailMessage } from '@azure/communication-email';
import type { TokenCredential } from '@azure/core-auth';
import { stopOnThrottlePolicy, ThrottledByService } from '../service-throttling.js';
import { SettingsError } from '../../core/settings-error.js';
import { redactSecrets } from '../../core/secret-text.js';
import type { EmailTransport, OutgoingEmail, SendOutcome } from '../../alerts/ports.js';

/** ACS quotas for sending e-mail (messages per minute and per hour). */
export const ACS_RATE_LIMITS = {
  azureManagedDomain: { perMinute: 5, perHour: 10 },
  customDomain: { perMinute: 30, perHour: 100 },
} as const;

export type AcsConnection = { connectionString: string } | { endpoint: string; credential: TokenCredential };

export interface AcsEmailTransportOptions {
  connection: AcsConnection;
  /** The verified sender address, `DoNotReply@<domain>` (CONTACT_WATCH_EMAIL_SENDER). */
  senderAddress: string;
  /** Time between polls of a running operation (default 2 s). */
  pollIntervalMs?: number;
  /** How long one send waits for a terminal status before leaving it for the next run (default 60 s). */
  maxPollWaitMs?: number;
  /** Retries of a dropped connection or 5xx within one send (same Operation-Id). */
  retry?: { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
  /** Waits between polls (tests pass a fast one). */
  sleep?: (ms: number) => Promise<void>;
  /** Extra client options (e.g. `tlsOptions`, `httpClient`) for tests. */
  clientOptions?: EmailClientOptions;
}

/** Parses `endpoint=https://…;accesskey=…` without ever echoing the value (it holds a secret). */
export function parseAcsConnectionString(
  text: string,
  setting = 'CONTACT_WATCH_ACS_CONNECTION_STRING',
): { endpoint: string; accessKey: string } {
  const parts = new Map<string, string>();
  for (const segment of text.trim().split(';')) {
    if (!segment.trim()) continue;
    const eq = segment.indexOf('=');
    if (eq <= 0) continue;
    parts.set(segment.slice(0, eq).trim().toLowerCase(), segment.slice(eq + 1).trim());
  }
  const endpoint = parts.get('endpoint');
  const accessKey = parts.get('accesskey');
  const shape = `${setting} must look like endpoint=https://<resource>.communication.azure.com/;accesskey=<key>`;
  if (!endpoint || !accessKey) throw new SettingsError(setting, `${shape} (the endpoint or the accesskey part is missing).`);
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new SettingsError(setting, `${shape} (its endpoint is not an absolute URL).`);
  }
  const local = url.hostname === '127.0.0.1' || url.hostname === 'localhost';
  if (url.protocol !== 'https:' && !(local && url.protocol === 'http:')) {
    throw new SettingsError(setting, `${shape} (its endpoint must be https://).`);
  }
  if (url.username || url.password)
    throw new SettingsError(setting, `${shape} (its endpoint must not carry credentials: the accesskey part signs each request).`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new SettingsError(setting, `${shape} (its endpoint must have no path, query or fragment).`);
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(accessKey)) throw new SettingsError(setting, `${shape} (its accesskey is not base64).`);
  return { endpoint: url.origin, accessKey };
}

const TERMINAL = new Set(['Succeeded', 'Failed', 'Canceled']);

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const status = (error as { statusCode?: number }).statusCode;
    const code = (error as { code?: string }).code;
    const prefix = [status ? `HTTP ${status}` : '', code ?? ''].filter(Boolean).join(' ');
    return redactSecrets(prefix ? `${prefix}: ${error.message}` : error.message);
  }
  return redactSecrets(String(error));
}

export class AcsEmailTransport implements EmailTransport {
  private readonly client: EmailClient;
  private readonly senderAddress: string;
  private readonly pollIntervalMs: number;
  private readonly maxPollWaitMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: AcsEmailTransportOptions) {
    this.senderAddress = options.senderAddress;
    this.pollIntervalMs = options.pollIntervalMs ?? 2000;
    this.maxPollWaitMs = options.maxPollWaitMs ?? 60_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    const clientOptions: EmailClientOptions = {
      ...options.clientOptions,
      retryOptions: {
        maxRetries: options.retry?.maxRetries ?? 2,
        retryDelayInMs: options.retry?.retryDelayInMs ?? 1000,
        maxRetryDelayInMs: options.retry?.maxRetryDelayInMs ?? 8000,
      },
      additionalPolicies: [...(options.clientOptions?.additionalPolicies ?? []), { policy: stopOnThrottlePolicy, position: 'perRetry' }],
    };
    if ('connectionString' in options.connection) {
      const { endpoint, accessKey } = parseAcsConnectionString(options.connection.connectionString);
      // A KeyCredential-shaped object: the SDK signs each request with HMAC-SHA256.
      this.client = new EmailClient(endpoint, { key: accessKey }, clientOptions);
    } else {
      this.client = new EmailClient(options.connection.endpoint, options.connection.credential, clientOptions);
    }
  }

  async send(email: OutgoingEmail, operationId: string, options: { resumeState?: string | null } = {}): Promise<SendOutcome> {
    const message: EmailMessage = {
      senderAddress: this.senderAddress,
      content: { subject: email.subject, html: email.html, plainText: email.plainText },
      recipients: { to: email.to.map((address) => ({ address })) },
      disableUserEngagementTracking: true,
    };
    // What the service said last: the raw status and body of every response the SDK got.
    let accepted = Boolean(options.resumeState);
    let lastStatus: string | undefined;
    let lastError: string | undefined;
    let serviceOperationId = operationId;
    const onResponse = (raw: { status: number; parsedBody?: unknown }) => {
      const body = raw.parsedBody as { id?: string; status?: string; error?: { code?: string; message?: string } } | undefined;
      if (raw.status === 202) accepted = true;
      if (raw.status >= 200 && raw.status < 300 && body?.status) {
        lastStatus = body.status;
        if (body.id) serviceOperationId = body.id;
        if (body.error) lastError = redactSecrets(`${body.error.code ?? 'Error'}: ${body.error.message ?? ''}`);
      }
    };
    const started = Date.now();
    let poller: Awaited<ReturnType<EmailClient['beginSend']>> | undefined;
    try {
      poller = await this.client.beginSend(message, {
        operationId,
        onResponse,
        ...(options.resumeState ? { resumeFrom: options.resumeState } : {}),
      });
      while (!poller.isDone() && Date.now() - started < this.maxPollWaitMs) {
        await this.sleep(Math.min(this.pollIntervalMs, Math.max(0, this.maxPollWaitMs - (Date.now() - started))));
        await poller.poll();
      }
    } catch (error) {
      if (lastStatus && TERMINAL.has(lastStatus) && lastStatus !== 'Succeeded') {
        return { kind: 'failed', serviceOperationId, status: lastStatus, error: lastError ?? errorText(error) };
      }
      if (error instanceof ThrottledByService) {
        return { kind: 'throttled', retryAfterMs: error.wait.ms, error: error.message, accepted };
      }
      if (accepted && lastStatus === 'Running') {
        // Accepted, then polling broke: the next run polls (or re-sends with the same id).
        return { kind: 'running', serviceOperationId, resumeState: poller ? poller.toString() : null };
      }
      return { kind: 'error', error: errorText(error), accepted };
    }
    if (lastStatus === 'Succeeded' || (poller.isDone() && !lastStatus)) return { kind: 'succeeded', serviceOperationId };
    if (lastStatus && TERMINAL.has(lastStatus)) {
      return { kind: 'failed', serviceOperationId, status: lastStatus, error: lastError ?? `the service reported ${lastStatus}` };
    }
    return { kind: 'running', serviceOperationId, resumeState: poller.toString() };
  }
}
