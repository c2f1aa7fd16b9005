import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { FaultScript } from './faults.js';
import type { LoggedRequest, RequestLog } from './request-log.js';
import type { SimulatedTenant } from './tenant.js';
import type { TokenStore } from './tokens.js';

export interface LocalAzureOptions {
  /** Default: an empty tenant. */
  tenant?: SimulatedTenant;
  latency?: { resourceGraphPageMs?: number; securityContactsMs?: number };
  /** Subscriptions a tenant- or management-group-scope Resource Graph query covers (default 10,000, as Azure). */
  tenantSubscriptionLimit?: number;
  /** Extra REST services mounted on the same server (e.g. ACS Email). */
  services?: LocalService[];
  /**
   * Resource Graph's per-user quota (default: unlimited). Its windows follow `clock` (epoch ms,
   * default Date.now); a test passes a clock of its own so that where a window ends does not
   * depend on how fast the machine is.
   */
  resourceGraphQuota?: ResourceGraphQuota;
  /** Keep a per-request log (default true); counters are always kept. */
  logRequests?: boolean;
  /** Port of the ARM endpoint on 127.0.0.1 (default 0: any free port). */
  port?: number;
  /**
   * The process's managed-identity endpoint: its port (default any free port) and IDENTITY_HEADER
   * secret (default random). Honoured only by the first server a process starts (identity-plane.ts).
   */
  identity?: { port?: number; header?: string };
  /** Page size of `GET /subscriptions` (default 100). */
  subscriptionsPageSize?: number;
  /** client_id the managed identity reports (default: a fixed GUID). */
  identityClientId?: string;
  /**
   * Also trust the CA inside this process (tls.setDefaultCACertificates) when it is not the one
   * NODE_EXTRA_CA_CERTS already names. Default true; only matters for a CA generated on the spot.
   */
  trustInProcess?: boolean;
}

export interface LocalAzure {
  /** `https://127.0.0.1:<port>`: the ARM endpoint (no trailing slash). */
  url: string;
  /** PEM of the CA that signed the server certificate. */
  caCertPath: string;
  /** App Service managed-identity endpoint (`http://127.0.0.1:<port>/msi/token`). */
  identityEndpoint: string;
  identityHeader: string;
  /** AZURE_RESOURCE_MANAGER_ENDPOINT, IDENTITY_ENDPOINT, IDENTITY_HEADER, NODE_EXTRA_CA_CERTS. */
  env(): Record<string, string>;
  /** Live: tests change it while the server runs. */
  tenant: SimulatedTenant;
  faults: FaultScript;
  requests: RequestLog;
  tokens: LocalTokens;
  close(): Promise<void>;
}

export interface LocalTokens {
  /** True when the header carries a live bearer token issued for `resource` (trailing slash ignored). */
  isValid(authorizationHeader: string | undefined, resource: string): boolean;
  /** Issues a token without going through the identity endpoint (for raw fetch tests). */
  issue(resource: string): string;
  /** Makes this token expire now (the client must fetch a new one). */
  expire(token: string): void;
  /**
   * Makes every token issued so far expire. Every local server of a process shares one token
   * store (identity-plane.ts), and test files that share a worker process share the tokens their
   * clients cached: this reaches them too. expire(token) reaches only the test's own token.
   */
  expireAll(): void;
}

export interface LocalService {
  name: string;
  /** Return true when the request was handled. */
  handle(req: LocalRequest, res: ServerResponse, ctx: { tokens: LocalAzure['tokens']; url: string }): Promise<boolean> | boolean;
}

export interface LocalRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** What a route handler gets. */
export interface HandlerContext {
  req: LocalRequest;
  res: ServerResponse;
  /** The ARM endpoint. */
  url: string;
  tenant: SimulatedTenant;
  tokens: TokenStore;
  options: ResolvedOptions;
  /** Route parameters, e.g. subscriptionId. */
  params: Record<string, string>;
  /** Fields the handler adds to the request's log entry. */
  log: Partial<LoggedRequest>;
  identityHeader: string;
  /** The managed identity's client id (what tokens are issued to). */
  identityClientId: string;
}

export interface ResolvedOptions {
  latency: { resourceGraphPageMs: number; securityContactsMs: number };
  tenantSubscriptionLimit: number;
  resourceGraphQuota?: ResourceGraphQuota;
  subscriptionsPageSize: number;
}

export interface ResourceGraphQuota {
  requestsPerWindow: number;
  windowMs: number;
  clock?: () => number;
}
