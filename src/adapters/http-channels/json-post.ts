/**
 * One JSON POST of an alert message to a Teams workflow or a webhook receiver, and what its answer
 * means for the outbox (src/alerts/outbox-sender.ts):
 *
 * - 2xx: delivered (`succeeded`);
 * - 429, or 503 naming a wait: `throttled`, with the wait asked for (Retry-After, at most one hour);
 * - 408, 5xx, a dropped connection or a timeout, and the refusals that can end by themselves (401,
 *   403, 404, 409, 425: see MAY_MEND_ITSELF): `error`, the message stays owed and the next run
 *   tries it again;
 * - any other answer (another 4xx: the body refused, the URL gone; or a redirect, which is not
 *   followed, so a signed body never goes where it was not configured to): `failed`, kept in the
 *   outbox and counted, for a person to look at and requeue.
 *
 * It goes through the Azure SDK's HTTP pipeline (@azure/core-rest-pipeline, already what every
 * Azure client here uses), with only the policies it needs: the retry policy retries a dropped
 * connection, 408 and 5xx a bounded number of times within the send, with exponential back-off; a
 * throttled answer is not waited out there but ends the send (src/adapters/service-throttling.ts);
 * the proxy policy honours HTTPS_PROXY, and Node NODE_EXTRA_CA_CERTS, as for the Azure clients. No
 * log or tracing policy: they would record the URL's path.
 *
 * The URL (and a webhook's secret) are secrets: no error text this returns holds them, so neither
 * the outbox's `lastError` nor a log line can.
 */
import {
  createDefaultHttpClient,
  createHttpHeaders,
  createEmptyPipeline,
  createPipelineRequest,
  defaultRetryPolicy,
  isRestError,
  proxyPolicy,
  userAgentPolicy,
  type HttpClient,
  type Pipeline,
} from '@azure/core-rest-pipeline';
import type { SendOutcome } from '../../alerts/ports.js';
import { redactSecrets } from '../../core/secret-text.js';
import { stopOnThrottlePolicy, ThrottledByService } from '../service-throttling.js';
import { messageOf } from '../../core/error-message.js';

export interface JsonPostOptions {
  /** Retries within one send of a dropped connection, 408 or 5xx (default 2, from 1 s to 8 s apart); 0 leaves each fault to the next run. */
  retry?: { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
  /** How long one request may take to be answered (default 30 s); a timeout is an error, tried again next run. */
  timeoutMs?: number;
  /** The HTTP client under the pipeline (default: Node's, as every Azure client here uses). */
  httpClient?: HttpClient;
}

/** What a request's answer says, in at most this many characters of its body. */
const ANSWER_EXCERPT_CHARS = 300;

/**
 * Removes the configured secrets from a text: the URL, its query (a workflow's `sp`, `sv`, `sig`),
 * each query value and the webhook secret wherever they appear, then anything else that looks like
 * a key, a signature or a token.
 */
export function secretScrubber(url: string, secrets: readonly string[] = []): (text: string) => string {
  const parsed = new URL(url);
  const values = [url, parsed.href, parsed.search, ...[...parsed.searchParams.values()].filter((value) => value.length >= 6), ...secrets]
    .filter((value) => value.length > 0)
    .sort((a, b) => b.length - a.length);
  return (text) => {
    let scrubbed = text;
    for (const value of values) scrubbed = scrubbed.split(value).join('<redacted>');
    return redactSecrets(scrubbed.replace(/\b(sig|code|token|key)=[^&\s"'<>]+/gi, '$1=<redacted>'));
  };
}

/**
 * Refusals that can end without anyone resending: a receiver being redeployed (404), a clock that
 * drifted past the replay window or a key being rotated (401, 403), a conflict (409), too early
 * (425). They stay owed like a 5xx, and only a message still refused after ten tries and a day is
 * given up (`dead`). Any other 4xx (a body refused, 400, 413, 422; a URL gone, 410) or a redirect
 * would meet the same answer again: `failed`, for a person to look at.
 */
const MAY_MEND_ITSELF = new Set([401, 403, 404, 409, 425]);

export class JsonPoster {
  private readonly pipeline: Pipeline;
  private readonly httpClient: HttpClient;
  private readonly timeoutMs: number;
  private readonly scrub: (text: string) => string;

  /**
   * @param url where to POST (a secret)
   * @param receiver what answers there, as messages name it: "the Teams workflow", "the webhook"
   * @param secrets other secrets no error text may hold (the webhook's signing secret)
   */
  constructor(
    private readonly url: string,
    private readonly receiver: string,
    options: JsonPostOptions = {},
    secrets: readonly string[] = [],
  ) {
    this.scrub = secretScrubber(url, secrets);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.httpClient = options.httpClient ?? createDefaultHttpClient();
    // Built by hand rather than with createPipelineFromOptions: its tracing and log policies record
    // the request's URL, whose query they redact but whose path can hold the receiver's token
    // (many webhook URLs carry it there). No redirect policy either: a redirect is not followed.
    this.pipeline = createEmptyPipeline();
    this.pipeline.addPolicy(proxyPolicy());
    this.pipeline.addPolicy(userAgentPolicy({ userAgentPrefix: 'contact-watch' }));
    this.pipeline.addPolicy(
      defaultRetryPolicy({
        maxRetries: options.retry?.maxRetries ?? 2,
        retryDelayInMs: options.retry?.retryDelayInMs ?? 1000,
        maxRetryDelayInMs: options.retry?.maxRetryDelayInMs ?? 8000,
      }),
      { phase: 'Retry' },
    );
    this.pipeline.addPolicy(stopOnThrottlePolicy, { afterPhase: 'Retry' });
  }

  /** POSTs `body` (JSON text) with these headers; `operationId` names the message in the outcome. */
  async post(body: string, headers: Record<string, string>, operationId: string): Promise<SendOutcome> {
    const request = createPipelineRequest({
      url: this.url,
      method: 'POST',
      body,
      timeout: this.timeoutMs,
      headers: createHttpHeaders({ 'content-type': 'application/json; charset=utf-8', ...headers }),
    });
    let status: number;
    let answer: string;
    try {
      const response = await this.pipeline.sendRequest(this.httpClient, request);
      status = response.status;
      answer = (response.bodyAsText ?? '').slice(0, ANSWER_EXCERPT_CHARS);
    } catch (error) {
      if (error instanceof ThrottledByService)
        return { kind: 'throttled', retryAfterMs: error.wait.ms, error: error.message, accepted: false };
      return { kind: 'error', error: this.describeFailure(error), accepted: false };
    }
    if (status >= 200 && status < 300) return { kind: 'succeeded', serviceOperationId: operationId };
    const said = `${this.receiver} answered ${status}${answer.trim() ? `: ${answer.replace(/\s+/g, ' ').trim()}` : ''}`;
    if (status === 408 || status >= 500 || MAY_MEND_ITSELF.has(status)) return { kind: 'error', error: this.scrub(said), accepted: false };
    return { kind: 'failed', serviceOperationId: operationId, status: `HTTP ${status}`, error: this.scrub(said) };
  }

  /** A request that got no answer, in words: never the URL. */
  private describeFailure(error: unknown): string {
    if (error instanceof Error && error.name === 'AbortError') {
      const limit = this.timeoutMs >= 1000 ? `${Math.round(this.timeoutMs / 1000)} s` : `${this.timeoutMs} ms`;
      return `${this.receiver} did not answer within ${limit}`;
    }
    const code = isRestError(error) && error.code ? `${error.code}: ` : '';
    const message = messageOf(error);
    return this.scrub(`${this.receiver} could not be reached: ${code}${message}`);
  }
}
