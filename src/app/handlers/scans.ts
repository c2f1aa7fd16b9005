/**
 * POST /api/scans: a scan now (docs/reference/http-api.md). 200 with the §7 JSON report when the scan finishes
 * within the answer budget (60 s); otherwise 202 with `Location: /api/scans/{scanId}` while the
 * scan goes on, and GET /api/scans/{scanId} (./scan-result.ts) answers for it from then on. 409
 * while another scan holds the lease. The route takes no body: anything over
 * MAX_SCAN_REQUEST_BODY_BYTES is refused with 413 before the scan starts. Errors are
 * `{ "error": { "code", "message" } }`.
 *
 * Why a budget: Azure's front end drops an HTTP request after 230 s whatever the function does,
 * and a tenant scan can take longer. 60 s leaves that limit far behind, and a client's own
 * timeouts (often 100 s) too.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { renderJsonReport } from '../../report/json.js';
import { JSON_CONTENT_TYPE, jsonError, jsonResponse, methodNotAllowed } from '../http.js';
import { scanFailureOf, startScanJob } from '../scan-job.js';
import type { ScanFailure } from '../../scan/ports.js';
import type { AppDependencies } from '../dependencies.js';

/** The route takes no body; a small one (`{}` from a pipeline tool) is tolerated and ignored. */
export const MAX_SCAN_REQUEST_BODY_BYTES = 1024;
/** How long POST /api/scans waits for the scan before answering 202 (docs/reference/http-api.md). */
export const SCAN_ANSWER_BUDGET_MS = 60_000;
/** The Retry-After of a 202: a scan of a large tenant takes minutes, so polling faster gains nothing. */
export const SCAN_POLL_AFTER_SECONDS = 10;

export interface ScansHandlerOptions {
  /** How long to wait for the scan before answering 202, counted from the request's arrival. Default SCAN_ANSWER_BUDGET_MS. */
  answerWithinMs?: number;
}

export function createScansHandler(deps: AppDependencies, options: ScansHandlerOptions = {}): HttpHandler {
  const budgetMs = options.answerWithinMs ?? SCAN_ANSWER_BUDGET_MS;
  if (!Number.isFinite(budgetMs) || budgetMs < 0)
    throw new RangeError(`answerWithinMs must be a number of milliseconds ≥ 0, not ${budgetMs}`);

  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const answerBy = Date.now() + budgetMs;
    // The registration binds POST only; this is defence in depth.
    const wrongMethod = methodNotAllowed(request, 'POST', '/api/scans');
    if (wrongMethod) return wrongMethod;
    if (!(await bodyWithinLimit(request, MAX_SCAN_REQUEST_BODY_BYTES))) {
      return jsonError(
        413,
        'PayloadTooLarge',
        `POST /api/scans takes no body; send at most ${MAX_SCAN_REQUEST_BODY_BYTES} bytes (an empty body is best).`,
      );
    }

    let start;
    try {
      start = await startScanJob(deps, context, 'http');
    } catch (error) {
      // startScanJob has logged `scan.failed` with the details; the caller gets what it can act on.
      return scanFailedResponse(scanFailureOf(error, context));
    }
    if (start.kind === 'busy') {
      return jsonError(
        409,
        'ScanInProgress',
        `A scan is already running: the scan lease is held by ${start.holder} until ${start.expiresAt}. Try again when it has finished; GET /api/report shows its result.`,
      );
    }

    // The answer waits for the scan to be recorded, not for its alerts: those are in the outbox
    // by then, and the e-mail quota can hold them for a minute.
    const outcome = await settledWithin(start.recorded, answerBy - Date.now());
    if (outcome.kind === 'late') {
      // The scan goes on in this process, holding the lease, and keeps its outcome for the GET.
      // (Its later log lines still name this invocation; the host notes that they come after it.)
      deps.log(context, 'scan.accepted', { scanId: start.scanId, answerWithinMs: budgetMs, location: scanLocation(start.scanId) });
      return scanRunningResponse(start.scanId, start.startedAt);
    }
    // A failed scan has been logged (`scan.failed`) and kept by the job.
    if (outcome.kind === 'failed') return scanFailedResponse(scanFailureOf(outcome.error, context));
    return reportResponse(renderJsonReport(outcome.value));
  };
}

/** `/api/scans/{scanId}`: relative, so it stays right behind a custom domain or a gateway. */
export function scanLocation(scanId: string): string {
  return `/api/scans/${scanId}`;
}

/** 202: the scan is running; poll its Location. */
export function scanRunningResponse(scanId: string, startedAt: string): HttpResponseInit {
  const location = scanLocation(scanId);
  return jsonResponse(
    202,
    {
      scan: { id: scanId, status: 'running', startedAt },
      message: `The scan is still running. GET ${location} (with a function key) answers 202 while it runs and 200 with its report once it has finished.`,
    },
    { location, 'retry-after': String(SCAN_POLL_AFTER_SECONDS), 'cache-control': 'no-store' },
  );
}

/** 200 with the §7 report: `document` is its JSON text, as POST and GET answer it alike. */
export function reportResponse(document: string): HttpResponseInit {
  return {
    status: 200,
    headers: { 'content-type': JSON_CONTENT_TYPE, 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' },
    body: document,
  };
}

/** A scan that could not run, as POST answers it at once and GET answers it later. */
export function scanFailedResponse(failure: ScanFailure): HttpResponseInit {
  const where = `The app's log has the details under invocation id ${failure.invocationId}.`;
  if (failure.kind === 'azure') {
    // Azure (Resource Graph) could not be read: an upstream failure.
    return jsonError(
      502,
      'ScanFailed',
      `The scan could not run: ${failure.reason}. Check that the app's managed identity has Reader and Security Reader on the tenant root management group, then try again. ${where}`,
    );
  }
  return jsonError(
    503,
    'ScanUnavailable',
    `The scan could not be run or recorded: ${failure.reason}. Check that the app's storage account is reachable, then try again. ${where}`,
  );
}

type Settled<T> = { kind: 'done'; value: T } | { kind: 'failed'; error: unknown } | { kind: 'late' };

/** How `promise` settles within `ms`, or `late`; it is never cancelled, only no longer waited for. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<Settled<T>> {
  const timer = new AbortController();
  const late = delay(Math.max(0, ms), undefined, { signal: timer.signal }).then(
    (): Settled<T> => ({ kind: 'late' }),
    (): Settled<T> => ({ kind: 'late' }), // aborted: the race is already decided
  );
  try {
    return await Promise.race([
      promise.then(
        (value): Settled<T> => ({ kind: 'done', value }),
        (error: unknown): Settled<T> => ({ kind: 'failed', error }),
      ),
      late,
    ]);
  } finally {
    timer.abort();
  }
}

/** Reads at most limit + 1 bytes: a declared or actual size over the limit is false. */
async function bodyWithinLimit(request: HttpRequest, limit: number): Promise<boolean> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (Number.isFinite(declared) && declared > limit) return false;
  if (!request.body) return true;
  const reader = request.body.getReader();
  let received = 0;
  try {
    for (;;) {
      const { done, value } = (await reader.read()) as { done: true; value?: undefined } | { done: false; value: Uint8Array };
      if (done) return true;
      received += value.byteLength;
      if (received > limit) return false;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
