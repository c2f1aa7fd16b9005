/** What the server saw: counters by kind (always kept) and, unless turned off, one entry per request. */
import type { RequestKind } from './faults.js';

export interface LoggedRequest {
  kind: RequestKind;
  method: string;
  /** URL path as sent (percent-encoding kept). */
  path: string;
  query: Record<string, string>;
  apiVersion?: string;
  /** The subscription in the path, lower case. */
  subscriptionId?: string;
  /** 0 when the connection was dropped without an answer. */
  status: number;
  hadBearerToken: boolean;
  /** The mounted service that answered, for kind `other`. */
  service?: string;
  /** Resource Graph requests: what the body asked for. */
  resourceGraph?: {
    query: string;
    subscriptions?: string[];
    managementGroups?: string[];
    top?: number;
    skip?: number;
    skipToken?: string;
    resultFormat?: string;
  };
  /**
   * PUT of a security contact: the request body as sent, parsed as JSON (the text itself when it is
   * not JSON). Kept whatever the answer, a scripted fault's included.
   */
  body?: unknown;
  /** Set when a scripted fault answered or delayed the request. */
  faultId?: number;
  startedAt: number;
  durationMs: number;
}

/** One PUT of a security contact, as contactWrites() lists it. */
export interface ContactWrite {
  /** Lower case. */
  subscriptionId: string;
  /** The contact's name as in the path (`default`), percent-decoded. */
  name: string;
  /** The request body (LoggedRequest.body). */
  body: unknown;
  /** What the request was answered with (0: the connection was dropped). */
  status: number;
  faultId?: number;
}

const CONTACT_ITEM_PATH = /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.Security\/securityContacts\/([^/]+)\/?$/i;

export class RequestLog {
  private readonly counts = new Map<RequestKind, number>();
  private entries: LoggedRequest[] = [];

  constructor(private readonly keepEntries: boolean) {}

  /** Requests of a kind (every request counts, whether logged or not). */
  count(kind: RequestKind): number {
    return this.counts.get(kind) ?? 0;
  }

  /** The per-request log, oldest first (empty when the server runs with logRequests: false). */
  all(): readonly LoggedRequest[] {
    return this.entries;
  }

  /** Logged requests of one kind. */
  of(kind: RequestKind): LoggedRequest[] {
    return this.entries.filter((entry) => entry.kind === kind);
  }

  /**
   * Every PUT of a security contact, oldest first: each attempt, so a write the client retried
   * shows once per try. `{ accepted: true }` keeps those answered 200 or 201 (the writes that
   * changed the tenant). Empty when the server runs with logRequests: false.
   */
  contactWrites(options: { accepted?: boolean } = {}): ContactWrite[] {
    const writes: ContactWrite[] = [];
    for (const entry of this.entries) {
      if (entry.kind !== 'security-contacts' || entry.method !== 'PUT') continue;
      const match = CONTACT_ITEM_PATH.exec(entry.path);
      if (!match) continue;
      if (options.accepted && entry.status !== 200 && entry.status !== 201) continue;
      writes.push({
        subscriptionId: entry.subscriptionId ?? decode(match[1]!).toLowerCase(),
        name: decode(match[2]!),
        body: entry.body,
        status: entry.status,
        ...(entry.faultId !== undefined ? { faultId: entry.faultId } : {}),
      });
    }
    return writes;
  }

  clear(): void {
    this.counts.clear();
    this.entries = [];
  }

  /** @internal used by the server. */
  record(entry: LoggedRequest): void {
    this.counts.set(entry.kind, (this.counts.get(entry.kind) ?? 0) + 1);
    if (this.keepEntries) this.entries.push(entry);
  }
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
