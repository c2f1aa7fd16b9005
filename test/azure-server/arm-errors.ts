/**
 * How ARM answers: JSON bodies, the `{ "error": { "code", "message" } }` error shape and the
 * request-id headers every ARM response carries.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

export type Headers = Record<string, string>;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Headers = {}): void {
  sendText(res, status, JSON.stringify(body), { 'content-type': 'application/json; charset=utf-8', ...headers });
}

export function sendText(res: ServerResponse, status: number, text: string, headers: Headers = {}): void {
  if (res.headersSent || res.destroyed) return;
  const requestId = randomUUID();
  res.writeHead(status, {
    'x-ms-request-id': requestId,
    'x-ms-correlation-request-id': requestId,
    'cache-control': 'no-cache',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Headers = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'x-ms-request-id': randomUUID(), 'content-length': '0', ...headers });
  res.end();
}

export interface ArmErrorDetail {
  code: string;
  message: string;
  target?: string;
}

export function armErrorBody(code: string, message: string, details?: ArmErrorDetail[]): unknown {
  return { error: details ? { code, message, details } : { code, message } };
}

export function sendArmError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  options: { headers?: Headers; details?: ArmErrorDetail[] } = {},
): void {
  sendJson(res, status, armErrorBody(code, message, options.details), options.headers);
}

/** The error code ARM uses for a status when a fault script names only the status. */
export function defaultErrorCode(status: number): string {
  switch (status) {
    case 400:
      return 'BadRequest';
    case 401:
      return 'InvalidAuthenticationToken';
    case 403:
      return 'AuthorizationFailed';
    case 404:
      return 'NotFound';
    case 409:
      return 'Conflict';
    case 429:
      return 'TooManyRequests';
    case 500:
      return 'InternalServerError';
    case 502:
      return 'BadGateway';
    case 503:
      return 'ServiceUnavailable';
    case 504:
      return 'GatewayTimeout';
    default:
      return status >= 500 ? 'InternalServerError' : 'BadRequest';
  }
}

// ---- Errors ARM itself answers with (same codes and wording as management.azure.com) ----

export function missingApiVersion(res: ServerResponse, headers?: Headers): void {
  sendArmError(res, 400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.', {
    headers,
  });
}

/** ARM's answer for an api-version that an ARM-owned endpoint (subscriptions) does not support. */
export function invalidApiVersion(res: ServerResponse, apiVersion: string, supported: readonly string[], headers?: Headers): void {
  sendArmError(
    res,
    400,
    'InvalidApiVersionParameter',
    `The api-version '${apiVersion}' is invalid. The supported versions are '${supported.join(',')}'.`,
    { headers },
  );
}

/** ARM's answer for an api-version that a resource provider type does not support. */
export function noRegisteredProviderFound(
  res: ServerResponse,
  apiVersion: string,
  resourceType: string,
  supported: readonly string[],
  headers?: Headers,
): void {
  sendArmError(
    res,
    400,
    'NoRegisteredProviderFound',
    `No registered resource provider found for location 'global' and API version '${apiVersion}' for type '${resourceType}'. ` +
      `The supported api-versions are '${supported.join(', ')}'. The supported locations are ''.`,
    { headers },
  );
}

export function subscriptionNotFound(res: ServerResponse, subscriptionId: string): void {
  sendArmError(res, 404, 'SubscriptionNotFound', `The subscription '${subscriptionId}' could not be found.`);
}

export function invalidSubscriptionId(res: ServerResponse, subscriptionId: string): void {
  sendArmError(res, 400, 'InvalidSubscriptionId', `The provided subscription identifier '${subscriptionId}' is malformed or invalid.`);
}

export const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
