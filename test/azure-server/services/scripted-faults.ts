/**
 * What the local data-plane services share (the ACS Email service, the Teams workflow and the
 * webhook receiver): a list of scripted faults that requests use up in the order they were added,
 * and the two ways such a service answers outside its own logic, with JSON or not at all.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** A fault answers `times` requests (default 1), after letting `skip` matching ones through. */
export interface ScriptableFault {
  times?: number;
  skip?: number;
}

export class ScriptedFaults<F extends ScriptableFault> {
  private scripted: (F & { remaining: number })[] = [];

  add(fault: F): void {
    const times = fault.times ?? 1;
    if (!(times > 0)) throw new Error(`faults.add: times must be positive, got ${times}`);
    this.scripted.push({ ...fault, remaining: times });
  }

  clear(): void {
    this.scripted = [];
  }

  /** Faults not yet used up. */
  pending(): readonly (F & { remaining: number })[] {
    return this.scripted;
  }

  /** Uses up the first fault `matches` accepts (or counts down its `skip`), and returns it when it answers this request. */
  take(matches: (fault: F) => boolean = () => true): F | undefined {
    const index = this.scripted.findIndex(matches);
    if (index < 0) return undefined;
    const fault = this.scripted[index]!;
    if (fault.skip && fault.skip > 0) {
      fault.skip -= 1;
      return undefined;
    }
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.scripted.splice(index, 1);
    return fault;
  }
}

/** A JSON answer (no body when `body` is undefined), unless the connection is gone already. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}),
    'content-length': String(Buffer.byteLength(text)),
    'x-ms-request-id': randomUUID(),
    ...headers,
  });
  res.end(text);
}

/** Drops the connection without an answer. */
export function dropConnection(res: ServerResponse): void {
  const socket = res.socket;
  if (!socket) return;
  // A TCP reset, as a load balancer dropping the connection does: the client sees ECONNRESET.
  // (A TLS socket cannot send a reset; then it is simply destroyed.)
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
