/**
 * Access tokens handed out by the simulated managed identity: opaque random strings, each
 * bound to the resource it was requested for, as Entra ID binds a token to its audience.
 */
import { randomBytes } from 'node:crypto';

export interface IssuedToken {
  token: string;
  resource: string;
  /** Epoch milliseconds. */
  expiresOn: number;
  clientId: string;
}

export type TokenCheck =
  { ok: true; token: IssuedToken } | { ok: false; reason: 'missing' | 'malformed' | 'unknown' | 'expired' | 'audience'; resource?: string };

/** `https://host:1/` and `https://HOST:1` name the same audience. */
export function normaliseResource(resource: string): string {
  let value = resource.trim();
  while (value.endsWith('/')) value = value.slice(0, -1);
  try {
    const url = new URL(value);
    // URL lower-cases scheme and host; keep the path as written.
    const path = url.pathname === '/' ? '' : url.pathname;
    return `${url.protocol}//${url.host}${path}`;
  } catch {
    return value;
  }
}

export class TokenStore {
  private readonly tokens = new Map<string, IssuedToken>();

  constructor(readonly lifetimeSeconds = 24 * 3600) {}

  issue(resource: string, clientId: string): IssuedToken {
    if (this.tokens.size > 50_000) this.dropExpired();
    const issued: IssuedToken = {
      token: randomBytes(32).toString('base64url'),
      resource,
      expiresOn: Date.now() + this.lifetimeSeconds * 1000,
      clientId,
    };
    this.tokens.set(issued.token, issued);
    return issued;
  }

  /** Checks an `Authorization` header for a live bearer token issued for `resource`. */
  check(authorizationHeader: string | undefined, resource: string): TokenCheck {
    if (!authorizationHeader) return { ok: false, reason: 'missing' };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorizationHeader);
    if (!match?.[1]) return { ok: false, reason: 'malformed' };
    const issued = this.tokens.get(match[1]);
    if (!issued) return { ok: false, reason: 'unknown' };
    if (issued.expiresOn <= Date.now()) return { ok: false, reason: 'expired' };
    if (normaliseResource(issued.resource) !== normaliseResource(resource)) {
      return { ok: false, reason: 'audience', resource: issued.resource };
    }
    return { ok: true, token: issued };
  }

  isValid(authorizationHeader: string | undefined, resource: string): boolean {
    return this.check(authorizationHeader, resource).ok;
  }

  /** Makes one token expire now; an unknown token is ignored. */
  expire(token: string): void {
    const issued = this.tokens.get(token);
    if (issued) issued.expiresOn = 0;
  }

  /** Makes every token issued so far expire now (clients must fetch a new one). */
  expireAll(): void {
    for (const issued of this.tokens.values()) issued.expiresOn = 0;
  }

  get issuedCount(): number {
    return this.tokens.size;
  }

  private dropExpired(): void {
    const now = Date.now();
    for (const [key, issued] of this.tokens) if (issued.expiresOn <= now) this.tokens.delete(key);
  }
}
