/**
 * What the ARM adapters share: retry settings for the SDK pipelines, a policy that gives every
 * throttling answer a wait the SDK can honour and refuses waits too long to honour, one guarded
 * request (a GET, or an idempotent PUT) for the clients we drive with raw requests, and the wording
 * of failures (status, ARM error code and message).
 */
import type { AdditionalPolicyConfig, ServiceClient } from '@azure/core-client';
import {
  createPipelineRequest,
  isRestError,
  RestError,
  tracingPolicyName,
  type HttpMethods,
  type Pipeline,
  type PipelinePolicy,
  type PipelineRequest,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';
import { requestedWait, RETRY_AFTER_HEADERS } from './retry-after.js';

/** Retry settings handed to the SDK pipelines' default retry policy (and to our throttling fallback). */
export interface RetrySettings {
  /** Retries after the first attempt, for 408, 429, 5xx (except 501, 505) and transport errors. */
  maxRetries: number;
  /** First back-off; doubles per retry, with jitter. Retry-After, when sent, wins. */
  retryDelayInMs: number;
  maxRetryDelayInMs: number;
  /**
   * The longest wait a Retry-After (or Resource Graph's quota reset) is honoured for; an answer
   * asking for more is not retried but reported, naming the wait (default 120 s). A scan waiting an
   * hour on one throttled request would outlive its function's time limit holding the scan lease.
   */
  maxRetryAfterMs?: number;
}

export const DEFAULT_RETRY_SETTINGS: RetrySettings = { maxRetries: 5, retryDelayInMs: 1_000, maxRetryDelayInMs: 30_000 };

/** The default of RetrySettings.maxRetryAfterMs. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 120_000;

/** What every ARM adapter takes: retry settings, the per-request time limit, and extra pipeline policies. */
export interface ArmClientOptions {
  retry?: RetrySettings;
  requestTimeoutMs?: number;
  /** Added to the client's pipeline (a proxy's, a test's fault injection). */
  additionalPolicies?: AdditionalPolicyConfig[];
  /**
   * `false`: no span per request. The SDK's tracing policy makes one for every request, which the
   * Functions app's telemetry exports; where nothing exports them (the CLI) it still builds each
   * span's attributes, about a tenth of a securityContacts read's CPU time.
   */
  spans?: boolean;
}

/**
 * A request that has not answered in this time is abandoned. The SDK's retry policy does not retry
 * its own time-outs, so armSend sends it once more (TIMEOUT_RETRIES) before reporting it unanswered.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/** How often armSend sends a request again after it timed out (a hung connection is usually one-off). */
export const TIMEOUT_RETRIES = 1;

/** Set on a response whose wait was refused (over maxRetryAfterMs): the wait asked for, in ms. */
export const REFUSED_RETRY_AFTER_HEADER = 'x-contact-watch-refused-retry-after-ms';

/**
 * Sits inside the SDK's retry loop and shapes each answer's wait before the retry policy reads it:
 * - A wait longer than maxRetryAfterMs (Retry-After in any of its forms, or a 429's Resource Graph
 *   quota reset) is refused: its headers are removed, so the SDK does not sleep on it, and
 *   REFUSED_RETRY_AFTER_HEADER says what was asked, for the failure's wording. A 429 is then not
 *   retried (the SDK's exponential strategy leaves 429 alone); a 5xx is retried on the SDK's own
 *   bounded back-off.
 * - A 429 without any wait (the SDK's throttling strategy would not retry it) gets `retry-after-ms`:
 *   exponential back-off, or the quota reset when that is longer. The SDK then waits and retries
 *   it, counted against the same maxRetries.
 */
export function retryAfterPolicy(retry: RetrySettings): PipelinePolicy {
  const attempts = new WeakMap<PipelineRequest, number>();
  const longest = retry.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  return {
    name: 'contactWatchRetryAfter',
    async sendRequest(request, next) {
      const response = await next(request);
      const asked = retryAfterMs(response);
      if (asked !== undefined) {
        if (asked > longest) refuseWait(response, asked);
        return response;
      }
      if (response.status !== 429) return response;
      const quotaReset = parseTimeSpan(response.headers.get('x-ms-user-quota-resets-after'));
      if (quotaReset !== undefined && quotaReset > longest) {
        refuseWait(response, quotaReset);
        return response;
      }
      const attempt = attempts.get(request) ?? 0;
      attempts.set(request, attempt + 1);
      const backOff = Math.min(retry.maxRetryDelayInMs, retry.retryDelayInMs * 2 ** attempt);
      response.headers.set('retry-after-ms', String(Math.max(quotaReset ?? 0, backOff)));
      return response;
    },
  };
}

function refuseWait(response: PipelineResponse, askedMs: number): void {
  for (const name of RETRY_AFTER_HEADERS) response.headers.delete(name);
  response.headers.set(REFUSED_RETRY_AFTER_HEADER, String(Math.round(askedMs)));
}

/** The wait an answer asks for, in ms (src/adapters/retry-after.ts); undefined when none is readable. */
export function retryAfterMs(response: Pick<PipelineResponse, 'headers'>): number | undefined {
  return requestedWait(response.headers)?.ms;
}

/** An SDK client's pipeline as every ARM client here has it: retryAfterPolicy inside the retry loop, and spans unless `spans` is false. */
export function preparePipeline(pipeline: Pipeline, retry: RetrySettings, options: Pick<ArmClientOptions, 'spans'>): void {
  pipeline.addPolicy(retryAfterPolicy(retry), { afterPhase: 'Retry' });
  if (options.spans === false) pipeline.removePolicy({ name: tracingPolicyName });
}

/**
 * A .NET TimeSpan as Resource Graph sends it (`hh:mm:ss`, optionally `d.hh:mm:ss` and fractional
 * seconds) in milliseconds; undefined when absent or not of that form.
 */
export function parseTimeSpan(text: string | undefined | null): number | undefined {
  const match = /^\s*(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d+))?\s*$/.exec(text ?? '');
  if (!match) return undefined;
  const [, days = '0', hours = '0', minutes = '0', seconds = '0', fraction = ''] = match;
  const ms =
    ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000 +
    Number(seconds) * 1_000 +
    Math.round(Number(`0.${fraction || '0'}`) * 1_000);
  return Number.isFinite(ms) ? ms : undefined;
}

export interface ArmErrorInfo {
  code?: string;
  message?: string;
  details: { code?: string; message?: string }[];
}

/** The ARM error of a body (`{ error: { code, message, details } }`, or the same fields at the top). */
export function readArmError(body: unknown): ArmErrorInfo {
  const outer = asRecord(body);
  const error = asRecord(outer?.error) ?? outer;
  const details = Array.isArray(error?.details) ? error.details.map(asRecord).filter((d) => d !== undefined) : [];
  return {
    code: stringOrUndefined(error?.code),
    message: stringOrUndefined(error?.message),
    details: details.map((d) => ({ code: stringOrUndefined(d.code), message: stringOrUndefined(d.message) })),
  };
}

/**
 * "403 AuthorizationFailed: The client ... does not have authorization ..." — the status, the ARM
 * error code and message, and a note when the SDK already retried or a wait was refused.
 */
export function describeHttpFailure(
  status: number,
  body: unknown,
  bodyText: string | undefined,
  retry: RetrySettings,
  headers?: Pick<PipelineResponse['headers'], 'get'>,
): string {
  const error = readArmError(body);
  let text = `${status}`;
  if (error.code) text += ` ${error.code}`;
  if (error.message) text += `: ${error.message}`;
  const details = error.details
    .map((d) => [d.code, d.message].filter(Boolean).join(': '))
    .filter((d) => d && d !== `${error.code}: ${error.message}`);
  if (details.length > 0) text += ` (${details.join('; ')})`;
  if (!error.code && !error.message && bodyText?.trim()) text += `: ${excerpt(bodyText)}`;
  const refused = Number(headers?.get(REFUSED_RETRY_AFTER_HEADER) ?? Number.NaN);
  if (Number.isFinite(refused)) {
    const longest = retry.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
    text += ` (asked to wait ${formatWait(refused)} before retrying, longer than the ${formatWait(longest)} contact-watch waits`;
    text += status === 429 ? '; not retried)' : `; still failing after ${retry.maxRetries} retries on its own back-off)`;
  } else if (isRetriedStatus(status)) {
    text += ` (still failing after ${retry.maxRetries} retries)`;
  }
  return text;
}

/** Statuses the SDK retry policy retries (with our throttling fallback). */
export function isRetriedStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

export function describeTransportError(error: RestError, url: string, retry: RetrySettings): string {
  const code = error.code && error.code !== RestError.REQUEST_SEND_ERROR ? `${error.code}: ` : '';
  return `no answer from ${new URL(url).origin} (${code}${error.message}; still failing after ${retry.maxRetries} retries)`;
}

export type JsonBody = { ok: true; value: unknown } | { ok: false; reason: string };

export type ArmResult =
  | { kind: 'response'; status: number; headers: PipelineResponse['headers']; json: JsonBody; bodyText: string | undefined }
  | { kind: 'transport-error'; message: string };

/** What armGet returns (the same as every armSend). */
export type ArmGetResult = ArmResult;

/**
 * A request armSend may send. Only methods that are safe to send twice: the SDK's retry policy and
 * TIMEOUT_RETRIES send a request again when an answer did not come back, whether or not the service
 * acted on the first one.
 */
export interface ArmRequest {
  method: Extract<HttpMethods, 'GET' | 'PUT'>;
  url: string;
  /** Sent as JSON (`content-type: application/json`). */
  body?: unknown;
}

/**
 * One request through a client's pipeline (bearer token, retries honouring Retry-After, redirects
 * within the same origin). Non-2xx answers come back as responses; a request that never got an
 * answer comes back as a transport error, after TIMEOUT_RETRIES more tries when it timed out.
 * Aborts and credential failures are thrown: they are not about one resource.
 */
export async function armSend(
  client: Pick<ServiceClient, 'sendRequest'>,
  request: ArmRequest,
  retry: RetrySettings,
  signal?: AbortSignal,
  timeout = DEFAULT_REQUEST_TIMEOUT_MS,
): Promise<ArmResult> {
  const { url } = request;
  let response: PipelineResponse;
  try {
    response = await sendRetryingTimeouts(client, request, signal, timeout);
  } catch (error) {
    if (signal?.aborted) throw error;
    // The HTTP client turns its own timeout into an AbortError, which the retry policy passes on.
    if (isTimeout(error)) {
      const tries = TIMEOUT_RETRIES + 1;
      return {
        kind: 'transport-error',
        message: `no answer from ${new URL(url).origin} within ${timeout / 1000} s${tries > 1 ? ` (${tries} tries)` : ''}`,
      };
    }
    if (!isRestError(error)) throw error;
    // An answer that still throws: the pipeline's deserializer refuses a body that claims a JSON
    // content type but is not JSON. Judge it like any other answer.
    if (error.response) {
      const { status, headers, bodyAsText } = error.response;
      const bodyText = bodyAsText ?? undefined;
      return { kind: 'response', status, headers, json: parseJson(bodyText), bodyText };
    }
    return { kind: 'transport-error', message: describeTransportError(error, url, retry) };
  }
  const bodyText = response.bodyAsText ?? undefined;
  return {
    kind: 'response',
    status: response.status,
    headers: response.headers,
    json: parsedBody(response) ?? parseJson(bodyText),
    bodyText,
  };
}

/**
 * The body as the client's deserialization policy already parsed it (core-client parses every
 * answer with a JSON content type into `parsedBody`), so that it is not parsed a second time;
 * undefined when it did not (no body, another content type).
 */
function parsedBody(response: PipelineResponse): JsonBody | undefined {
  const parsed = (response as PipelineResponse & { parsedBody?: unknown }).parsedBody;
  return parsed === undefined ? undefined : { ok: true, value: parsed };
}

/** armSend of a GET. */
export function armGet(
  client: Pick<ServiceClient, 'sendRequest'>,
  url: string,
  retry: RetrySettings,
  signal?: AbortSignal,
  timeout = DEFAULT_REQUEST_TIMEOUT_MS,
): Promise<ArmResult> {
  return armSend(client, { method: 'GET', url }, retry, signal, timeout);
}

/** armSend of a PUT with a JSON body; for resources whose PUT replaces the whole resource (idempotent). */
export function armPut(
  client: Pick<ServiceClient, 'sendRequest'>,
  url: string,
  body: unknown,
  retry: RetrySettings,
  signal?: AbortSignal,
  timeout = DEFAULT_REQUEST_TIMEOUT_MS,
): Promise<ArmResult> {
  return armSend(client, { method: 'PUT', url, body }, retry, signal, timeout);
}

/** Sends the request, and again (up to TIMEOUT_RETRIES times) when it timed out without the caller aborting. */
async function sendRetryingTimeouts(
  client: Pick<ServiceClient, 'sendRequest'>,
  { method, url, body }: ArmRequest,
  signal: AbortSignal | undefined,
  timeout: number,
): Promise<PipelineResponse> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  for (let retry = 0; ; retry += 1) {
    const request = createPipelineRequest({ url, method, abortSignal: signal, timeout, ...(text !== undefined ? { body: text } : {}) });
    if (text !== undefined) request.headers.set('content-type', 'application/json');
    try {
      return await client.sendRequest(request);
    } catch (error) {
      if (signal?.aborted || !isTimeout(error) || retry >= TIMEOUT_RETRIES) throw error;
    }
  }
}

/** A request abandoned by its own timeout (the caller's signal was not aborted). */
export function isTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

export function parseJson(text: string | undefined): JsonBody {
  if (text === undefined || text.trim() === '') return { ok: false, reason: 'the body is empty' };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, reason: `the body is not JSON (${excerpt(text)})` };
  }
}

/**
 * A nextLink we may follow with our bearer token: an absolute https URL on the same origin as the
 * ARM endpoint. Returns the URL, or a message saying why not.
 */
export function checkNextLink(nextLink: string, endpoint: string): { ok: true; url: string } | { ok: false; message: string } {
  let url: URL;
  try {
    url = new URL(nextLink, `${endpoint}/`);
  } catch {
    return { ok: false, message: `the nextLink "${excerpt(nextLink)}" is not a URL` };
  }
  const trusted = new URL(endpoint);
  if (url.origin !== trusted.origin) {
    return {
      ok: false,
      message: `the nextLink points at ${url.protocol}//${url.host}, not at ${trusted.host}; it was not followed, so our token is never sent elsewhere`,
    };
  }
  return { ok: true, url: url.toString() };
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A wait as people read it: "0.5 s", "3.2 s", "3600 s". */
export function formatWait(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1).replace(/\.0$/, '')} s` : `${Math.round(ms / 1000)} s`;
}

export function excerpt(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
