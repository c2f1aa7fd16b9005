/**
 * The local Azure test server: an HTTPS server on 127.0.0.1 that speaks the ARM, Resource Graph
 * and Defender for Cloud REST contracts, plus an App Service managed-identity endpoint on plain
 * HTTP (as App Service has it), so that the real SDK clients run against it unchanged.
 *
 * Every request goes through the same steps: read the body, classify it (the router), apply a
 * scripted fault if one matches, check the bearer token (ARM routes), answer, log.
 */
import { rm } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { armErrorBody, defaultErrorCode, sendArmError, sendJson, sendText } from './arm-errors.js';
import { FaultScript, type RequestKind, type ScriptedFault } from './faults.js';
import { RequestLog, type LoggedRequest } from './request-log.js';
import { getIdentityPlane } from './identity-plane.js';
import { DEFAULT_IDENTITY_CLIENT_ID, handleIdentity, IDENTITY_PATH } from './services/identity.js';
import { ResourceGraphService } from './services/resource-graph.js';
import { handleContactItem, handleContactList } from './services/security-contacts.js';
import { handleSubscriptionGet, handleSubscriptionList } from './services/subscriptions.js';
import { SimulatedTenant } from './tenant.js';
import { loadOrCreateTestTls, trustInThisProcess } from './tls.js';
import type { TokenCheck } from './tokens.js';
import type { HandlerContext, LocalAzure, LocalAzureOptions, LocalRequest, LocalService, ResolvedOptions } from './types.js';

export { DEFAULT_IDENTITY_CLIENT_ID };
const MAX_BODY_BYTES = 16 * 1024 * 1024;

type Handler = (ctx: HandlerContext) => void | Promise<void>;

interface Route {
  kind: RequestKind;
  pattern: RegExp;
  /** Names of the pattern's capture groups, in order. */
  params: string[];
  handler: Handler;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/**
 * Ports this process's servers have listened on. A server's URL is the resource its tokens are
 * for, and MSAL caches tokens per resource for the whole process: a later server on the port of
 * an earlier one would find its client holding a token already, and never see the identity
 * request a test may count. So a process never gives two servers the same port.
 */
const portsUsed = new Set<number>();

async function listenOnUnusedPort(server: Server): Promise<number> {
  const placeholders: NetServer[] = [];
  try {
    for (;;) {
      const port = await listen(server);
      if (!portsUsed.has(port)) {
        portsUsed.add(port);
        return port;
      }
      // Hold that port while asking again, so that the next answer is another one.
      await closeServer(server);
      const placeholder = createNetServer();
      await new Promise<void>((resolve, reject) => {
        placeholder.once('error', reject);
        placeholder.listen(port, '127.0.0.1', () => resolve());
      }).catch(() => undefined);
      placeholders.push(placeholder);
    }
  } finally {
    for (const placeholder of placeholders) placeholder.close();
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function authFailure(ctx: HandlerContext, check: Extract<TokenCheck, { ok: false }>): void {
  const description: Record<typeof check.reason, [string, string]> = {
    missing: ['AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing."],
    malformed: ['AuthenticationFailed', "Authentication failed. The 'Authorization' header is provided in an invalid format."],
    unknown: ['InvalidAuthenticationToken', 'The access token is invalid.'],
    expired: ['ExpiredAuthenticationToken', 'The access token expiry UTC time is earlier than current UTC time.'],
    audience: [
      'InvalidAuthenticationTokenAudience',
      `The access token has been obtained for wrong audience or resource '${check.resource ?? ''}'. ` +
        `It should exactly match with one of the allowed audiences '${ctx.url}/','${ctx.url}'.`,
    ],
  };
  const [code, message] = description[check.reason];
  sendArmError(ctx.res, 401, code, message, {
    headers: {
      'www-authenticate': `Bearer authorization_uri="https://login.microsoftonline.com/${ctx.tenant.tenantId}", error="invalid_token", error_description="${message.replace(/"/g, "'")}"`,
    },
  });
}

function sendFault(res: ServerResponse, fault: ScriptedFault): void {
  const status = fault.status!;
  const headers: Record<string, string> = { ...(fault.headers ?? {}) };
  if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
  if (typeof fault.body === 'string') {
    sendText(res, status, fault.body, { 'content-type': 'application/json; charset=utf-8', ...headers });
  } else {
    const body =
      fault.body ?? armErrorBody(defaultErrorCode(status), `Scripted fault ${fault.id}: the local Azure test server answers ${status}.`);
    sendJson(res, status, body, headers);
  }
}

/** What a scripted fault can match on: the subscriptions a request is about and, for Resource Graph, its query. */
function faultKeysOf(kind: RequestKind, params: Record<string, string>, body: Buffer): { subscriptionIds: string[]; query?: string } {
  if (params.subscriptionId) return { subscriptionIds: [params.subscriptionId] };
  if (kind !== 'resource-graph' || body.length === 0) return { subscriptionIds: [] };
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { subscriptions?: unknown; query?: unknown };
    return {
      subscriptionIds: Array.isArray(parsed.subscriptions) ? parsed.subscriptions.filter((id): id is string => typeof id === 'string') : [],
      ...(typeof parsed.query === 'string' ? { query: parsed.query } : {}),
    };
  } catch {
    return { subscriptionIds: [] };
  }
}

export async function startLocalAzure(options: LocalAzureOptions = {}): Promise<LocalAzure> {
  const { tls, generated } = await loadOrCreateTestTls();
  if (generated && options.trustInProcess !== false) trustInThisProcess(tls.caCertPem);

  const tenant = options.tenant ?? new SimulatedTenant();
  const faults = new FaultScript();
  const requests = new RequestLog(options.logRequests ?? true);
  // The managed identity and its tokens are per process (see identity-plane.ts).
  const identity = await getIdentityPlane(options.identity);
  const tokens = identity.tokens;
  const identityHeader = identity.header;
  const identityEndpoint = identity.endpoint;
  const identityClientId = options.identityClientId ?? DEFAULT_IDENTITY_CLIENT_ID;
  const resolved: ResolvedOptions = {
    latency: {
      resourceGraphPageMs: options.latency?.resourceGraphPageMs ?? 0,
      securityContactsMs: options.latency?.securityContactsMs ?? 0,
    },
    tenantSubscriptionLimit: options.tenantSubscriptionLimit ?? 10_000,
    resourceGraphQuota: options.resourceGraphQuota,
    subscriptionsPageSize: options.subscriptionsPageSize ?? 100,
  };
  const services: LocalService[] = options.services ?? [];
  const resourceGraph = new ResourceGraphService(resolved);

  // The router: ARM paths are case-insensitive; a trailing slash is tolerated.
  const armRoutes: Route[] = [
    {
      kind: 'resource-graph',
      pattern: /^\/providers\/Microsoft\.ResourceGraph\/resources\/?$/i,
      params: [],
      handler: (ctx) => resourceGraph.handle(ctx),
    },
    {
      kind: 'security-contacts',
      pattern: /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.Security\/securityContacts\/?$/i,
      params: ['subscriptionId'],
      handler: handleContactList,
    },
    {
      kind: 'security-contacts',
      pattern: /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.Security\/securityContacts\/([^/]+)\/?$/i,
      params: ['subscriptionId', 'name'],
      handler: handleContactItem,
    },
    { kind: 'subscriptions', pattern: /^\/subscriptions\/?$/i, params: [], handler: methodGuard(handleSubscriptionList) },
    {
      kind: 'subscriptions',
      pattern: /^\/subscriptions\/([^/]+)\/?$/i,
      params: ['subscriptionId'],
      handler: methodGuard(handleSubscriptionGet),
    },
  ];

  let url = '';

  async function dispatch(raw: IncomingMessage, res: ServerResponse, listener: 'arm' | 'identity'): Promise<void> {
    const startedAt = Date.now();
    let body: Buffer;
    try {
      body = await readBody(raw);
    } catch {
      res.destroy();
      return;
    }
    const base = listener === 'arm' ? url : identityEndpoint;
    const req: LocalRequest = { method: raw.method ?? 'GET', url: new URL(raw.url ?? '/', base), headers: raw.headers, body };
    const path = req.url.pathname;

    // Classify.
    let kind: RequestKind = 'other';
    let route: Route | undefined;
    const params: Record<string, string> = {};
    if (listener === 'identity') {
      if (path.replace(/\/+$/, '').toLowerCase() === IDENTITY_PATH) kind = 'identity';
    } else {
      for (const candidate of armRoutes) {
        const match = candidate.pattern.exec(path);
        if (!match) continue;
        route = candidate;
        kind = candidate.kind;
        candidate.params.forEach((name, index) => (params[name] = match[index + 1]!));
        if (params.subscriptionId) params.subscriptionId = safeDecode(params.subscriptionId);
        break;
      }
    }

    const log: Partial<LoggedRequest> = {};
    const ctx: HandlerContext = { req, res, url, tenant, tokens, options: resolved, params, log, identityHeader, identityClientId };
    let recorded = false;
    const record = (status: number): void => {
      if (recorded) return;
      recorded = true;
      requests.record({
        kind,
        method: req.method,
        path,
        query: Object.fromEntries(req.url.searchParams),
        apiVersion: log.apiVersion ?? req.url.searchParams.get('api-version') ?? undefined,
        subscriptionId: params.subscriptionId?.toLowerCase(),
        status,
        hadBearerToken: /^bearer\s/i.test(req.headers.authorization ?? ''),
        ...(log.service ? { service: log.service } : {}),
        ...(log.resourceGraph ? { resourceGraph: log.resourceGraph } : {}),
        ...(log.faultId !== undefined ? { faultId: log.faultId } : {}),
        ...(log.body !== undefined ? { body: log.body } : {}),
        startedAt,
        durationMs: Date.now() - startedAt,
      });
    };
    // The body of a contact write is kept whatever the answer (a fault's included): tests compare
    // what was sent with what a dry run said would be.
    if (kind === 'security-contacts' && req.method === 'PUT' && params.name !== undefined) log.body = loggedBody(body);
    // Recorded as soon as the answer is written (below), so that a client that has its response
    // already sees it in the log; 'close' catches the requests that end otherwise.
    res.on('close', () => record(res.headersSent ? res.statusCode : 0));

    try {
      // Scripted faults come first: they stand for whatever sits in front of the service.
      const keys = faultKeysOf(kind, params, body);
      const fault = faults.take({ kind, method: req.method, ...keys });
      if (fault) {
        log.faultId = fault.id;
        if (kind === 'resource-graph' && keys.query !== undefined && !log.resourceGraph) {
          log.resourceGraph = { query: keys.query, ...(keys.subscriptionIds.length ? { subscriptions: keys.subscriptionIds } : {}) };
        }
        if (fault.holdUntil) await Promise.resolve(fault.holdUntil).catch(() => undefined);
        if (fault.delayMs) await sleep(fault.delayMs);
        if (fault.dropConnection) {
          // (resetAndDestroy() does not work on TLS sockets; the client sees "socket hang up".)
          raw.socket.destroy();
          return;
        }
        if (fault.status !== undefined) {
          sendFault(res, fault);
          return;
        }
      }

      if (kind === 'identity') {
        handleIdentity(ctx);
        return;
      }
      if (listener === 'identity') {
        sendJson(res, 404, { error: 'not_found', error_description: `No managed identity endpoint at ${path}.` });
        return;
      }
      if (!route) {
        for (const service of services) {
          if (await service.handle(req, res, { tokens: publicTokens, url })) {
            log.service = service.name;
            return;
          }
        }
      }
      const check = tokens.check(req.headers.authorization, url);
      if (!check.ok) {
        authFailure(ctx, check);
        return;
      }
      if (!route) {
        sendArmError(res, 404, 'NotFound', `The local Azure test server has no route for ${req.method} ${path}.`);
        return;
      }
      await route.handler(ctx);
      if (!res.headersSent) sendArmError(res, 500, 'InternalServerError', `No answer was produced for ${req.method} ${path}.`);
    } catch (error) {
      console.error(`[local-azure] ${req.method} ${path} failed:`, error);
      if (!res.headersSent)
        sendArmError(res, 500, 'InternalServerError', `The local Azure test server failed: ${(error as Error).message}`);
      else res.destroy();
    } finally {
      if (res.headersSent) record(res.statusCode);
      else if (res.destroyed || raw.socket.destroyed) record(0);
    }
  }

  const publicTokens: LocalAzure['tokens'] = {
    isValid: (header, resource) => tokens.isValid(header, resource),
    issue: (resource) => tokens.issue(resource, identityClientId).token,
    expire: (token) => tokens.expire(token),
    expireAll: () => tokens.expireAll(),
  };

  const handle = (req: IncomingMessage, res: ServerResponse, listener: 'arm' | 'identity'): void => {
    dispatch(req, res, listener).catch((error: unknown) => {
      console.error('[local-azure] request failed before it could be answered:', error);
      res.destroy();
    });
  };
  const armServer = createHttpsServer({ key: tls.serverKeyPem, cert: tls.serverCertPem }, (req, res) => handle(req, res, 'arm'));
  const port = options.port === undefined ? await listenOnUnusedPort(armServer) : await listen(armServer, options.port);
  url = `https://127.0.0.1:${port}`;
  const detachIdentity = identity.attach((req, res) => handle(req, res, 'identity'));

  let closed = false;
  return {
    url,
    caCertPath: tls.caCertPath,
    identityEndpoint,
    identityHeader,
    env: () => ({
      AZURE_RESOURCE_MANAGER_ENDPOINT: url,
      IDENTITY_ENDPOINT: identityEndpoint,
      IDENTITY_HEADER: identityHeader,
      NODE_EXTRA_CA_CERTS: tls.caCertPath,
    }),
    tenant,
    faults,
    requests,
    tokens: publicTokens,
    async close() {
      if (closed) return;
      closed = true;
      detachIdentity();
      await closeServer(armServer);
      if (generated) await rm(tls.dir, { recursive: true, force: true });
    },
  };
}

/** A request body for the log: its JSON, or the text as sent when it is not JSON; undefined when empty. */
function loggedBody(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  const text = body.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function methodGuard(handler: Handler): Handler {
  return (ctx) => {
    if (ctx.req.method !== 'GET') {
      sendArmError(ctx.res, 405, 'MethodNotAllowed', `The requested resource does not support http method '${ctx.req.method}'.`);
      return;
    }
    return handler(ctx);
  };
}
