/**
 * POST /api/scans: a scan now (CONTRACT §8). 200 with the §7 JSON report, 409 while another scan
 * holds the lease. The route takes no body: anything over MAX_SCAN_REQUEST_BODY_BYTES is refused
 * with 413 before the scan starts. Errors are `{ "error": { "code", "message" } }`.
 */
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { ScanFailedError } from '../../scan/scan.js';
import { reportJsonValue } from '../../report/json.js';
import { jsonError, jsonResponse, methodNotAllowed } from '../http.js';
import { looksLikeSecret } from '../log.js';
import { runScanJob } from '../scan-job.js';
import type { AppDependencies } from '../types.js';

/** The route takes no body; a small one (`{}` from a pipeline tool) is tolerated and ignored. */
export const MAX_SCAN_REQUEST_BODY_BYTES = 1024;

export function createScansHandler(deps: AppDependencies): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    // The registration binds POST only; this is defence in depth.
    const wrongMethod = methodNotAllowed(request, 'POST', '/api/scans');
    if (wrongMethod) return wrongMethod;
    if (!(await bodyWithinLimit(request, MAX_SCAN_REQUEST_BODY_BYTES))) {
      return jsonError(413, 'PayloadTooLarge', `POST /api/scans takes no body; send at most ${MAX_SCAN_REQUEST_BODY_BYTES} bytes (an empty body is best).`);
    }

    let outcome;
    try {
      outcome = await runScanJob(deps, context, 'http');
    } catch (error) {
      // runScanJob has logged `scan.failed` with the details; the caller gets what it can act on.
      return scanFailedResponse(error, context);
    }
    if (outcome.kind === 'busy') {
      return jsonError(
        409,
        'ScanInProgress',
        `A scan is already running: the scan lease is held by ${outcome.holder} until ${outcome.expiresAt}. Try again when it has finished; GET /api/report shows its result.`,
      );
    }
    return jsonResponse(200, reportJsonValue(outcome.report), { 'cache-control': 'no-store' });
  };
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
      const { done, value } = await reader.read();
      if (done) return true;
      received += value.byteLength;
      if (received > limit) return false;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

function scanFailedResponse(error: unknown, context: InvocationContext): HttpResponseInit {
  const reason = (error instanceof Error && !looksLikeSecret(error.message) ? error.message : 'see the app log').replace(/[.\s]+$/, '');
  const where = `The app's log has the details under invocation id ${context.invocationId}.`;
  if (error instanceof ScanFailedError) {
    // Azure (Resource Graph) could not be read: an upstream failure.
    return jsonError(
      502,
      'ScanFailed',
      `The scan could not run: ${reason}. Check that the app's managed identity has Reader and Security Reader on the tenant root management group, then try again. ${where}`,
    );
  }
  return jsonError(
    503,
    'ScanUnavailable',
    `The scan could not be run or recorded: ${reason}. Check that the app's storage account is reachable, then try again. ${where}`,
  );
}
