/**
 * Scripted failures: each fault matches requests of one kind (optionally of one subscription),
 * is consumed by the requests it answers, and faults are tried in the order they were added.
 */

export type RequestKind = 'identity' | 'resource-graph' | 'subscriptions' | 'security-contacts' | 'other';
/** `other`: requests to a mounted service (the ACS Email service), which no other kind covers. */
export type FaultTarget = RequestKind | 'any';

export interface FaultSpec {
  target: FaultTarget;
  /** Only requests about this subscription (for Resource Graph: whose `subscriptions` scope names it). */
  subscriptionId?: string;
  /** Only Resource Graph requests whose query text matches (e.g. /securityresources/i): the two queries run side by side. */
  query?: RegExp;
  /**
   * Only requests with this HTTP method ('PUT', 'get' …; case-insensitive): a fault for the writes
   * of security contacts that leaves the reads alone, or the other way round.
   */
  method?: string;
  /** How many requests the fault answers before it is used up (default 1; Infinity for ever). */
  times?: number;
  /** Answer with this status (an ARM error body matching it unless `body` is given). */
  status?: number;
  /** Adds `Retry-After: <seconds>`. */
  retryAfterSeconds?: number;
  headers?: Record<string, string>;
  /** A string is sent as is; an object as JSON. */
  body?: string | object;
  /** Waits this long first; alone (no status, no drop) it only delays the real answer. */
  delayMs?: number;
  /**
   * Holds the request until this settles (fulfilled or rejected), then goes on as the rest of the
   * fault says; alone it only holds the real answer. A gate the test opens, for "still running"
   * without depending on how long anything takes.
   */
  holdUntil?: PromiseLike<unknown>;
  /** Closes the connection without answering (the client sees a reset socket). */
  dropConnection?: boolean;
}

/** What a fault can match on in a request. */
export interface FaultRequest {
  kind: RequestKind;
  /** The HTTP method as sent. */
  method: string;
  /** The subscriptions the request is about (for Resource Graph: its `subscriptions` scope). */
  subscriptionIds: readonly string[];
  /** Resource Graph: the query text. */
  query?: string;
}

export interface ScriptedFault extends FaultSpec {
  readonly id: number;
  /** Requests still to be answered by this fault. */
  remaining: number;
  /** Requests answered so far. */
  hits: number;
}

export class FaultScript {
  private faults: ScriptedFault[] = [];
  private nextId = 1;

  add(spec: FaultSpec): ScriptedFault {
    const times = spec.times ?? 1;
    if (!(times > 0)) throw new Error(`faults.add: times must be positive, got ${times}`);
    if (spec.status !== undefined && (spec.status < 100 || spec.status > 599)) {
      throw new Error(`faults.add: status must be an HTTP status, got ${spec.status}`);
    }
    if (spec.method !== undefined && !/^[A-Za-z]+$/.test(spec.method)) {
      throw new Error(`faults.add: method must be an HTTP method such as 'PUT', got '${spec.method}'`);
    }
    const fault: ScriptedFault = { ...spec, id: this.nextId++, remaining: times, hits: 0 };
    this.faults.push(fault);
    return fault;
  }

  clear(): void {
    this.faults = [];
  }

  /** Faults not yet used up, in order. */
  pending(): readonly ScriptedFault[] {
    return this.faults;
  }

  /** Finds and consumes the first fault for a request, if any. */
  take(request: FaultRequest): ScriptedFault | undefined {
    const index = this.faults.findIndex((fault) => matches(fault, request));
    if (index < 0) return undefined;
    const fault = this.faults[index]!;
    fault.remaining -= 1;
    fault.hits += 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault;
  }
}

function matches(fault: ScriptedFault, { kind, method, subscriptionIds, query }: FaultRequest): boolean {
  if (fault.target !== 'any' && fault.target !== kind) return false;
  if (fault.method !== undefined && fault.method.toUpperCase() !== method.toUpperCase()) return false;
  if (fault.query && !(query !== undefined && fault.query.test(query))) return false;
  if (fault.subscriptionId === undefined) return true;
  const wanted = fault.subscriptionId.toLowerCase();
  return subscriptionIds.some((id) => id.toLowerCase() === wanted);
}
