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
  /** Set when a scripted fault answered or delayed the request. */
  faultId?: number;
  startedAt: number;
  durationMs: number;
}

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
