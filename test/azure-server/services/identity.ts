/**
 * The App Service managed-identity endpoint (api-version 2019-08-01), as MSAL node's AppService
 * source calls it for `new DefaultAzureCredential()` when IDENTITY_ENDPOINT and IDENTITY_HEADER
 * are set:
 *   GET <IDENTITY_ENDPOINT>?api-version=2019-08-01&resource=<scope without /.default>[&client_id=…]
 *   X-IDENTITY-HEADER: <IDENTITY_HEADER>
 * and answers `{ access_token, expires_on (epoch seconds, string), resource, token_type, client_id }`.
 */
import type { ServerResponse } from 'node:http';
import { sendJson } from '../arm-errors.js';
import type { TokenStore } from '../tokens.js';
import type { HandlerContext, LocalRequest } from '../types.js';

export const IDENTITY_PATH = '/msi/token';
export const APP_SERVICE_MSI_API_VERSION = '2019-08-01';
/** The client id the simulated managed identity reports unless told otherwise. */
export const DEFAULT_IDENTITY_CLIENT_ID = '7d0b5b3e-1c2a-4f6e-9a53-4c8e2f1d0a11';

export interface IdentitySettings {
  /** The expected X-IDENTITY-HEADER. */
  header: string;
  tokens: TokenStore;
  clientId: string;
}

function oauthError(res: ServerResponse, status: number, error: string, description: string): void {
  sendJson(res, status, { error, error_description: description });
}

export function answerIdentity(req: LocalRequest, res: ServerResponse, settings: IdentitySettings): void {
  if (req.method !== 'GET') {
    oauthError(res, 405, 'invalid_request', `The method ${req.method} is not allowed on the managed identity endpoint.`);
    return;
  }
  const secret = req.headers['x-identity-header'];
  if (secret === undefined) {
    oauthError(res, 400, 'invalid_request', 'The X-IDENTITY-HEADER header is missing.');
    return;
  }
  if (secret !== settings.header) {
    oauthError(res, 401, 'unauthorized_client', 'The X-IDENTITY-HEADER header does not match IDENTITY_HEADER.');
    return;
  }
  const apiVersion = req.url.searchParams.get('api-version');
  if (apiVersion !== APP_SERVICE_MSI_API_VERSION) {
    oauthError(res, 400, 'invalid_request', `api-version '${apiVersion ?? ''}' is not supported; use ${APP_SERVICE_MSI_API_VERSION}.`);
    return;
  }
  const resource = req.url.searchParams.get('resource');
  if (!resource) {
    oauthError(res, 400, 'invalid_request', "The 'resource' query parameter is missing.");
    return;
  }
  const clientId = req.url.searchParams.get('client_id') ?? settings.clientId;
  const issued = settings.tokens.issue(resource, clientId);
  sendJson(res, 200, {
    access_token: issued.token,
    expires_on: String(Math.floor(issued.expiresOn / 1000)),
    resource,
    token_type: 'Bearer',
    client_id: clientId,
  });
}

export function handleIdentity(ctx: HandlerContext): void {
  answerIdentity(ctx.req, ctx.res, { header: ctx.identityHeader, tokens: ctx.tokens, clientId: ctx.identityClientId });
}
