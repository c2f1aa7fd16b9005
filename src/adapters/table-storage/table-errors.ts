/** How the Table adapters read Table Storage's refusals: which mean "someone else wrote first" and which "this content will never go". */
import { RestError } from '@azure/data-tables';
import { isRestError } from '@azure/core-rest-pipeline';

export function statusOf(error: unknown): number | undefined {
  return error instanceof RestError ? error.statusCode : (error as { statusCode?: number } | null)?.statusCode;
}

/** True when Table Storage answered with one of these statuses. */
export function hasStatus(error: unknown, ...statuses: number[]): boolean {
  const status = statusOf(error);
  return status !== undefined && statuses.includes(status);
}

/** 412: changed since read; 409: created since read; 404: deleted since read. */
export function isConflict(error: unknown): boolean {
  const status = statusOf(error);
  return status === 412 || status === 409 || status === 404;
}

/**
 * Table Storage refused what was sent (400 InvalidInput, PropertyValueTooLarge, EntityTooLarge;
 * 413 RequestBodyTooLarge): sending it again cannot help, unlike a 408, 429 or 5xx.
 */
export function isRefused(error: unknown): boolean {
  const status = statusOf(error);
  return status === 400 || status === 413;
}

/** The first line of an error's message, for run rows and refusal reasons. */
export function describeError(error: unknown): string {
  return error instanceof Error ? (error.message.split('\n')[0] ?? error.name) : String(error);
}

/** Network failures that mean no answer came from the storage endpoint at all, in words. */
const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
};

/**
 * When a request got no answer because its endpoint could not be reached (the SDK's RestError for
 * ECONNREFUSED, ENOTFOUND…, here or among its causes): the code in words and the request's URL.
 */
export function unreachableEndpoint(error: unknown): { reason: string; url: string | undefined } | undefined {
  const seen = new Set<unknown>();
  for (let current = error; current instanceof Error && !seen.has(current); current = current.cause) {
    seen.add(current);
    if (!isRestError(current) || current.statusCode !== undefined) continue;
    const reason = current.code === undefined ? undefined : UNREACHABLE[current.code];
    if (reason) return { reason, url: current.request?.url };
  }
  return undefined;
}
