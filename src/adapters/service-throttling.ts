/**
 * A throttled answer (429, or 503 naming a wait) ends a send instead of being waited out inside
 * the Azure SDK's pipeline, whose own throttling retry honours any wait, however long: the caller
 * records the wait (never more than one hour, docs/reference/alerts.md) and stops sending on that
 * channel for this run. Shared by the ACS e-mail client and the Teams and webhook transports.
 */
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { MAX_SERVICE_WAIT_MS } from '../alerts/send-outcomes.js';
import { requestedWait, RETRY_AFTER_HEADERS } from './retry-after.js';

/** Thrown by the throttle policy below; it is not a RestError, so the SDK's retry policy lets it through. */
export class ThrottledByService extends Error {
  override name = 'ThrottledByService';
  constructor(
    readonly status: number,
    readonly wait: ServiceWait,
  ) {
    super(`the service answered ${status} (throttled); retry after ${describeWait(wait)}`);
  }
}

/** How long the service asked us to wait, already bounded, and what it actually said. */
export interface ServiceWait {
  /** 0 .. MAX_SERVICE_WAIT_MS. */
  ms: number;
  /** The header it came from and its value (cut short), when it was longer than we honour or unreadable. */
  note?: string;
}

/** A throttled answer without a wait we can read: try again after a minute (for the timer, the next run). */
const DEFAULT_THROTTLE_WAIT_MS = 60_000;

function clampWait(ms: number, header: string, value: string): ServiceWait {
  if (ms > MAX_SERVICE_WAIT_MS) return { ms: MAX_SERVICE_WAIT_MS, note: `${header}: ${quoted(value)}, more than the one hour honoured` };
  return { ms: Math.max(0, Math.round(ms)) };
}

function quoted(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

function describeWait(wait: ServiceWait): string {
  const seconds = `${Math.ceil(wait.ms / 1000)} s`;
  return wait.note ? `${seconds} (${wait.note})` : seconds;
}

/**
 * How long a throttled answer asks us to wait (src/adapters/retry-after.ts), never more than
 * MAX_SERVICE_WAIT_MS: no value of a header may park a message for years or produce a time that
 * cannot be written down. Without a wait we can read, a minute.
 */
function serviceWait(headers: { get(name: string): string | undefined }): ServiceWait {
  const asked = requestedWait(headers);
  if (asked) return clampWait(asked.ms, asked.header === 'retry-after' ? 'Retry-After' : asked.header, asked.value);
  const value = headers.get('retry-after')?.trim();
  if (value) return { ms: DEFAULT_THROTTLE_WAIT_MS, note: `Retry-After: ${quoted(value)} is not a number of seconds or an HTTP date` };
  return { ms: DEFAULT_THROTTLE_WAIT_MS, note: 'no Retry-After' };
}

/**
 * Turns 429, and 503 naming a wait, into ThrottledByService instead of waiting inside the SDK
 * (whose own throttling retry honours any wait, however long).
 */
export const stopOnThrottlePolicy: PipelinePolicy = {
  name: 'contactWatchStopOnThrottle',
  async sendRequest(request, next) {
    const response = await next(request);
    const namesWait = RETRY_AFTER_HEADERS.some((header) => response.headers.get(header) !== undefined);
    if (response.status === 429 || (response.status === 503 && namesWait)) {
      throw new ThrottledByService(response.status, serviceWait(response.headers));
    }
    return response;
  },
};
