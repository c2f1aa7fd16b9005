/**
 * What the local Teams workflow and webhook receivers share: a POST endpoint under a path prefix
 * on the local Azure test server (HTTPS, the same certificate), a log of every request that reached
 * it, and scripted faults in the manner of the ACS Email service's (throttle with Retry-After, 5xx,
 * a dropped connection before or after the request was taken, a refusal, a redirect, a held answer). Each
 * receiver says what it does with a request the faults let through.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { LocalRequest, LocalService } from '../types.js';
import { dropConnection, ScriptedFaults, sendJson } from './scripted-faults.js';

/**
 * Scripted faults, tried in the order they were added; `skip` lets that many requests through
 * before the fault starts; `times` (default 1) is how many requests it answers.
 */
export type ReceiverFault =
  /** 429 (or `status`, e.g. 503) with `Retry-After: <retryAfterSeconds>` (default 1), or that exact header value, or none when null. */
  | { kind: 'throttle'; times?: number; skip?: number; retryAfterSeconds?: number; retryAfter?: string | null; status?: number }
  /** A server error (default 500): nothing taken. */
  | { kind: 'fail'; times?: number; skip?: number; status?: number }
  /** The connection is dropped without an answer: `before-accept` (default) nothing is taken; `after-accept` the request is taken first. */
  | { kind: 'drop'; times?: number; skip?: number; when?: 'before-accept' | 'after-accept' }
  /** A client error (default 400) with this code: nothing taken. */
  | { kind: 'refuse'; times?: number; skip?: number; status?: number; code?: string }
  /** A redirect (default 307) to `location`, as a moved endpoint or a captive proxy answers: nothing taken. */
  | { kind: 'redirect'; times?: number; skip?: number; status?: number; location: string }
  /**
   * A receiver that hangs: no answer until `until` settles, then the connection is dropped without
   * the request being taken (a client with a shorter timeout has given up by then).
   */
  | { kind: 'hold'; times?: number; skip?: number; until: PromiseLike<unknown> };

/** One request as it reached the receiver. */
export interface ReceivedRequest {
  at: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** The raw body, as sent (what a signature is computed over). */
  body: string;
  /** Taken (`accepted`), a repeat the receiver recognised (`repeated`), `dropped`, or the status answered. */
  outcome: 'accepted' | 'repeated' | 'dropped' | number;
  faulted?: ReceiverFault['kind'];
}

/** What a receiver does with a request the faults let through. */
export type ReceiverAnswer =
  | { outcome: 'accepted' | 'repeated'; status: number; body?: unknown }
  | { outcome: 'refused'; status: number; code: string; message: string };

export interface PostReceiver extends LocalService {
  /** Every request that reached the receiver, in order. */
  readonly requests: ReceivedRequest[];
  readonly faults: ScriptedFaults<ReceiverFault>;
  /** Forgets the requests and faults (and what the receiver took). */
  reset(): void;
}

export function createPostReceiver(options: {
  name: string;
  /** Requests whose path starts with this are the receiver's. */
  pathPrefix: string;
  /** What the receiver does with a request (after the faults). */
  receive(req: LocalRequest, body: string): ReceiverAnswer;
  /** Forgets what the receiver took (called by reset). */
  forget(): void;
}): PostReceiver {
  const requests: ReceivedRequest[] = [];
  const faults = new ScriptedFaults<ReceiverFault>();

  return {
    name: options.name,
    requests,
    faults,
    reset() {
      requests.length = 0;
      faults.clear();
      options.forget();
    },
    async handle(req, res) {
      if (!req.url.pathname.startsWith(options.pathPrefix)) return false;
      const body = req.body.toString('utf8');
      const entry: ReceivedRequest = {
        at: new Date().toISOString(),
        path: req.url.pathname,
        query: Object.fromEntries(req.url.searchParams),
        headers: req.headers,
        body,
        outcome: 0,
      };
      requests.push(entry);
      if (req.method !== 'POST') {
        entry.outcome = 405;
        sendJson(res, 405, { error: { code: 'MethodNotAllowed', message: 'Use POST.' } });
        return true;
      }
      const fault = faults.take();
      if (fault) entry.faulted = fault.kind;
      if (fault?.kind === 'hold') {
        await Promise.resolve(fault.until).catch(() => undefined);
        entry.outcome = 'dropped';
        dropConnection(res);
        return true;
      }
      if (fault?.kind === 'throttle') {
        entry.outcome = fault.status ?? 429;
        const retryAfter = fault.retryAfter === undefined ? String(fault.retryAfterSeconds ?? 1) : fault.retryAfter;
        sendJson(
          res,
          entry.outcome,
          { error: { code: 'TooManyRequests', message: 'Rate limit is exceeded. Try again later.' } },
          {
            ...(retryAfter === null ? {} : { 'retry-after': retryAfter }),
          },
        );
        return true;
      }
      if (fault?.kind === 'fail') {
        entry.outcome = fault.status ?? 500;
        sendJson(res, entry.outcome, { error: { code: 'InternalServerError', message: 'The receiver failed (scripted).' } });
        return true;
      }
      if (fault?.kind === 'refuse') {
        entry.outcome = fault.status ?? 400;
        sendJson(res, entry.outcome, { error: { code: fault.code ?? 'BadRequest', message: 'The request was refused (scripted).' } });
        return true;
      }
      if (fault?.kind === 'redirect') {
        entry.outcome = fault.status ?? 307;
        sendJson(res, entry.outcome, undefined, { location: fault.location });
        return true;
      }
      if (fault?.kind === 'drop' && (fault.when ?? 'before-accept') === 'before-accept') {
        entry.outcome = 'dropped';
        dropConnection(res);
        return true;
      }
      const answer = options.receive(req, body);
      if (answer.outcome === 'refused') {
        entry.outcome = answer.status;
        sendJson(res, answer.status, { error: { code: answer.code, message: answer.message } });
        return true;
      }
      entry.outcome = answer.outcome;
      if (fault?.kind === 'drop') {
        // Taken, and then the answer is lost.
        dropConnection(res);
        return true;
      }
      sendJson(res, answer.status, answer.body);
      return true;
    },
  };
}
