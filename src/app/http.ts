/**
 * What every HTTP handler shares: JSON answers, the error body of docs/reference/http-api.md
 * (`{ "error": { "code", "message" } }`), and validators for path and query values that answer
 * 400 with a message naming the parameter. A validator returns the value, or the 400 response to
 * send as is:
 *
 *   const id = subscriptionIdParam(request, 'subscriptionId');
 *   if (isErrorResponse(id)) return id;
 *
 * Query parameters a route does not read are ignored (the Functions host passes the function key
 * as `?code=…`); a parameter a route does read may appear at most once.
 */
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { isGuid, isSubscriptionId } from '../core/subscription-id.js';
import { escapeBidiControlsInJson } from '../report/azure-text.js';

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** A 400 (or other) answer produced by a validator, recognisable among valid values. */
export interface ErrorResponse extends HttpResponseInit {
  readonly isErrorResponse: true;
}

export function isErrorResponse(value: unknown): value is ErrorResponse {
  return typeof value === 'object' && value !== null && (value as { isErrorResponse?: unknown }).isErrorResponse === true;
}

/** `{ "error": { "code", "message" } }` with the given status (docs/reference/http-api.md). Never cached. */
export function jsonError(status: number, code: string, message: string, headers: Record<string, string> = {}): ErrorResponse {
  return {
    status,
    headers: { 'content-type': JSON_CONTENT_TYPE, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers },
    body: `${jsonText({ error: { code, message } })}\n`,
    isErrorResponse: true,
  };
}

/** A JSON answer (pretty-printed, newline-terminated, so a person reading it with curl can). */
export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return {
    status,
    headers: { 'content-type': JSON_CONTENT_TYPE, 'x-content-type-options': 'nosniff', ...headers },
    body: `${jsonText(value)}\n`,
  };
}

/** Pretty-printed JSON; bidirectional controls from Azure are written as `\uXXXX` escapes (the same value, nothing reordered on screen). */
function jsonText(value: unknown): string {
  return escapeBidiControlsInJson(JSON.stringify(value, null, 2));
}

/** How a value arrived: shown in messages, shortened, so a megabyte of junk is not echoed back. */
export function shownValue(text: string): string {
  const shown = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  return JSON.stringify(shown);
}

/** A subscription id from the route: a GUID, returned in lower case; otherwise 400 InvalidSubscriptionId. */
export function subscriptionIdParam(request: HttpRequest, name: string): string | ErrorResponse {
  const text = (request.params[name] ?? '').trim();
  if (!isSubscriptionId(text)) {
    return jsonError(
      400,
      'InvalidSubscriptionId',
      `${name}: ${shownValue(text)} is not a subscription id; expected a GUID such as 00000000-0000-0000-0000-000000000000. No request was sent to Azure.`,
    );
  }
  return text.toLowerCase();
}

/** A scan id from the route: a GUID, returned in lower case; otherwise 400 InvalidScanId. */
export function scanIdParam(request: HttpRequest, name: string): string | ErrorResponse {
  const text = (request.params[name] ?? '').trim();
  if (!isGuid(text)) {
    return jsonError(
      400,
      'InvalidScanId',
      `${name}: ${shownValue(text)} is not a scan id; expected a GUID such as 00000000-0000-0000-0000-000000000000, as in the Location header that POST /api/scans answers with. Nothing was read.`,
    );
  }
  return text.toLowerCase();
}

/** The one value of a query parameter, undefined when absent; 400 when it is given more than once. */
export function singleQueryValue(request: HttpRequest, name: string): string | undefined | ErrorResponse {
  const values = request.query.getAll(name);
  if (values.length > 1) return jsonError(400, 'InvalidQueryParameter', `${name}: give it once; it was given ${values.length} times.`);
  return values[0];
}

/** An integer query parameter in [min, max] (decimal digits only), the default when absent or empty. */
export function integerQueryParam(
  request: HttpRequest,
  name: string,
  range: { min: number; max: number; default: number; unit?: string },
): number | ErrorResponse {
  const text = singleQueryValue(request, name);
  if (isErrorResponse(text)) return text;
  if (text === undefined || text.trim() === '') return range.default;
  const unit = range.unit ? ` ${range.unit}` : '';
  const expected = `a whole number${unit} from ${range.min} to ${range.max}`;
  if (!/^\s*[+-]?\d+\s*$/.test(text)) {
    return jsonError(400, 'InvalidQueryParameter', `${name}: ${shownValue(text)} is not ${expected}.`);
  }
  const value = Number(text);
  if (value < range.min || value > range.max) {
    return jsonError(400, 'InvalidQueryParameter', `${name}: ${value} is out of range; expected ${expected}.`);
  }
  return value;
}

/** A query parameter that must be one of `allowed` (exact, lower case), or undefined when absent or empty. */
export function enumQueryParam<T extends string>(request: HttpRequest, name: string, allowed: readonly T[]): T | undefined | ErrorResponse {
  const text = singleQueryValue(request, name);
  if (isErrorResponse(text)) return text;
  if (text === undefined || text.trim() === '') return undefined;
  const value = text.trim().toLowerCase();
  if (!(allowed as readonly string[]).includes(value)) {
    return jsonError(400, 'InvalidQueryParameter', `${name}: ${shownValue(text)} is not one of ${allowed.join(', ')}.`);
  }
  return value as T;
}

/** 405 with an Allow header (the registrations bind one method; this is defence in depth). */
export function methodNotAllowed(request: HttpRequest, allowed: string, route: string): ErrorResponse | undefined {
  if (request.method.toUpperCase() === allowed) return undefined;
  return jsonError(405, 'MethodNotAllowed', `${request.method} is not allowed on ${route}; use ${allowed}.`, { allow: allowed });
}
