/**
 * GET /api/scans/{scanId}: one scan's outcome (docs/reference/http-api.md), for the Location a 202 of POST
 * /api/scans names and for any scan the timer ran (its id is `scan.id` of the report, and
 * `scanId` of its log lines). Read from storage, so any instance answers; it never waits on the
 * scan.
 *
 *   202 while it runs (Location and Retry-After as POST's 202)
 *   200 with its §7 JSON report once it has finished, the same text POST would have answered
 *   502 ScanFailed / 503 ScanUnavailable when it failed, as POST answers a scan that fails at once
 *   503 ScanInterrupted when it is still `running` after its lease expired: the instance running
 *       it stopped (restarted, scaled in) and nothing will finish it
 *   404 ScanNotFound for a GUID no kept scan has (never started, or pruned)
 *   400 InvalidScanId for anything else, before anything is read
 */
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { isErrorResponse, jsonError, methodNotAllowed, scanIdParam } from '../http.js';
import { looksLikeSecret } from '../../core/secret-text.js';
import type { StoredScan } from '../../scan/ports.js';
import type { AppDependencies } from '../dependencies.js';
import { reportResponse, scanFailedResponse, scanRunningResponse } from './scans.js';

export function createScanResultHandler(deps: AppDependencies): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    // The registration binds GET only; this is defence in depth.
    const wrongMethod = methodNotAllowed(request, 'GET', '/api/scans/{scanId}');
    if (wrongMethod) return wrongMethod;
    const scanId = scanIdParam(request, 'scanId');
    if (isErrorResponse(scanId)) return scanId;

    let scan: StoredScan | undefined;
    try {
      scan = await deps.scanReports.get(scanId);
    } catch (error) {
      const reason = error instanceof Error && !looksLikeSecret(error.message) ? error.message.split('\n')[0] : 'see the app log';
      deps.log(context, 'scan.result.unavailable', { scanId, reason });
      return jsonError(
        503,
        'StorageUnavailable',
        `Scan ${scanId} could not be read from the app's storage: ${reason}. Try again; the app's log has the details under invocation id ${context.invocationId}.`,
      );
    }

    const answer = answerFor(scanId, scan, deps.clock(), deps.scanReports.retainedScans);
    deps.log(context, 'scan.result', { scanId, status: scan?.status ?? 'unknown', answer: answer.status });
    return answer;
  };
}

function answerFor(scanId: string, scan: StoredScan | undefined, now: Date, retainedScans: number): HttpResponseInit {
  if (!scan) {
    return jsonError(
      404,
      'ScanNotFound',
      `No scan ${scanId} is kept here: it was never started, or it is older than the newest ${retainedScans} scans this app keeps. POST /api/scans starts a new scan.`,
    );
  }
  switch (scan.status) {
    case 'finished':
      return reportResponse(scan.document);
    case 'failed':
      return scanFailedResponse(scan.failure);
    case 'running':
      // A running scan renews its lease and with it `aliveUntil`; past it, its instance is gone.
      if (Date.parse(scan.aliveUntil) <= now.getTime()) {
        return jsonError(
          503,
          'ScanInterrupted',
          `Scan ${scanId}, started at ${scan.startedAt}, stopped without finishing: the instance running it stopped, and its scan lease expired at ${scan.aliveUntil}. Start a new scan with POST /api/scans.`,
        );
      }
      return scanRunningResponse(scanId, scan.startedAt);
  }
}
