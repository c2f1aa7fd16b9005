/**
 * The app's structured log: one JSON object per line through the invocation's logger, so the
 * Functions host (and Application Insights, when configured) keeps it with the invocation.
 *
 *   {"event":"scan.finished","invocationId":"…","functionName":"scanTimer","subscriptions":200,…}
 *
 * Nothing secret is ever written: values under keys that name a secret, and strings that look
 * like one (an account key, an ACS access key, a SAS, a bearer token, a JWT, a URL with a
 * password: looksLikeSecret of src/core/secret-text.ts), are replaced by REDACTED. Errors are
 * written as their name, message and status code, never with request or response headers.
 */
import type { InvocationContext } from '@azure/functions';
import { looksLikeSecret } from '../core/secret-text.js';

/** Writes one structured line about `event` for the invocation (AppDependencies.log). */
export type StructuredLog = (context: InvocationContext, event: string, fields?: Record<string, unknown>) => void;

export const REDACTED = '[redacted]';

/** Keys whose value is never logged (compared without case, `-` or `_`). */
const SECRET_KEY_PARTS = [
  'connectionstring',
  'accesskey',
  'accountkey',
  'token',
  'password',
  'secret',
  'authorization',
  'sharedaccesssignature',
  'apikey',
  'cookie',
  'identityheader',
  'credential',
];
const SECRET_KEYS_EXACT = new Set(['sig', 'key', 'xmsidentityheader']);

/** Event names ending so are failures (context.error) or warnings (context.warn). */
const ERROR_SUFFIXES = ['.failed', '.error'];
const WARNING_SUFFIXES = ['.dropped', '.rejected', '.pending', '.lost', '.malformed', '.deferred', '.channelsRemoved'];

const MAX_DEPTH = 8;

export function isSecretKey(key: string): boolean {
  const normal = key.toLowerCase().replace(/[-_\s]/g, '');
  return SECRET_KEYS_EXACT.has(normal) || SECRET_KEY_PARTS.some((part) => normal.includes(part));
}

/** A copy of `value` safe to log: secrets replaced, errors reduced to their message, cycles cut. */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return looksLikeSecret(value) ? REDACTED : value;
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  if (value instanceof Error) return errorValue(value);
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, seen) ?? null);
    if (value instanceof Map)
      return redactEntries(
        [...value.entries()].map(([key, item]) => [String(key), item]),
        depth,
        seen,
      );
    if (value instanceof Set) return [...value].map((item) => redact(item, depth + 1, seen) ?? null);
    return redactEntries(Object.entries(value), depth, seen);
  } finally {
    seen.delete(value);
  }
}

function redactEntries(entries: [string, unknown][], depth: number, seen: WeakSet<object>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, item] of entries) {
    if (isSecretKey(key)) {
      if (item !== undefined) result[key] = REDACTED;
      continue;
    }
    const safe = redact(item, depth + 1, seen);
    if (safe !== undefined) result[key] = safe;
  }
  return result;
}

/** An error by its message: never its request, response or headers. */
function errorValue(error: Error): Record<string, unknown> {
  const extra = error as Error & { code?: unknown; statusCode?: unknown; setting?: unknown };
  return {
    name: error.name,
    message: looksLikeSecret(error.message) ? REDACTED : error.message,
    ...(typeof extra.code === 'string' || typeof extra.code === 'number' ? { code: extra.code } : {}),
    ...(typeof extra.statusCode === 'number' ? { statusCode: extra.statusCode } : {}),
    ...(typeof extra.setting === 'string' ? { setting: extra.setting } : {}),
  };
}

/** The JSON line for one event; `event`, `invocationId` and `functionName` cannot be overwritten by fields. */
export function formatLogLine(
  context: Pick<InvocationContext, 'invocationId' | 'functionName'>,
  event: string,
  fields: Record<string, unknown> = {},
): string {
  const safe = redact(fields);
  const rest = typeof safe === 'object' && safe !== null && !Array.isArray(safe) ? (safe as Record<string, unknown>) : { fields: safe };
  const { event: _event, invocationId: _invocationId, functionName: _functionName, ...other } = rest;
  return JSON.stringify({ event, invocationId: context.invocationId, functionName: context.functionName, ...other });
}

export type LogLevelName = 'information' | 'warning' | 'error';

export function levelOf(event: string): LogLevelName {
  if (ERROR_SUFFIXES.some((suffix) => event.endsWith(suffix))) return 'error';
  if (WARNING_SUFFIXES.some((suffix) => event.endsWith(suffix))) return 'warning';
  return 'information';
}

/** The app's logger (AppDependencies.log). */
export function createLogger(): StructuredLog {
  return (context, event, fields = {}) => {
    const line = formatLogLine(context, event, fields);
    const level = levelOf(event);
    if (level === 'error') context.error(line);
    else if (level === 'warning') context.warn(line);
    else context.log(line);
  };
}
