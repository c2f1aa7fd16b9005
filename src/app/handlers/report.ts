/**
 * GET /api/report — the operator page (src/report/operator-page.ts), built from what Table Storage
 * holds: the stored records, the last TREND_RUNS scan runs, the exemptions and, best effort, the
 * alert e-mails not delivered. The page's Content-Security-Policy goes in a header too, with
 * `frame-ancestors 'none'`.
 */
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { RULES } from '../../core/rules/index.js';
import type { Exemption, ScanRunRecord, SubscriptionRecord } from '../../core/state-model.js';
import { renderOperatorPage } from '../../report/operator-page.js';
import { jsonError, methodNotAllowed } from '../http.js';
import { looksLikeSecret } from '../../core/secret-text.js';
import type { AppDependencies } from '../dependencies.js';

/** How many past scan runs the trend shows (at the default schedule, 30 hours). */
export const TREND_RUNS = 60;

export function createReportHandler(deps: AppDependencies): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const wrongMethod = methodNotAllowed(request, 'GET', 'GET /api/report');
    if (wrongMethod) return wrongMethod;

    // The outbox is read best effort, beside the state: the page is about compliance, and says
    // when this part is missing.
    const undeliveredRead = deps.alerts.undelivered().catch((error: unknown) => {
      deps.log(context, 'report.outboxUnavailable', { reason: readableReason(error) });
      return undefined;
    });
    let records: SubscriptionRecord[];
    let runs: ScanRunRecord[];
    let exemptions: Exemption[];
    try {
      [records, runs, exemptions] = await Promise.all([
        deps.store.loadSubscriptions(),
        deps.store.listScanRuns(TREND_RUNS),
        deps.store.listExemptions(),
      ]);
    } catch (error) {
      const reason = readableReason(error);
      deps.log(context, 'report.unavailable', { reason });
      return jsonError(
        503,
        'StorageUnavailable',
        `The report could not be built: the app's storage could not be read (${reason}). Try again; the app's log has the details under invocation id ${context.invocationId}.`,
      );
    }

    const page = renderOperatorPage(
      { records, runs, exemptions, undelivered: await undeliveredRead, now: deps.clock() },
      { rules: RULES, portalUrl: deps.settings.cloud.portalUrl },
    );
    deps.log(context, 'report.rendered', {
      subscriptions: page.subscriptions,
      runs: runs.length,
      exemptions: exemptions.length,
      bytes: page.html.length,
    });
    return {
      status: 200,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': `${page.contentSecurityPolicy}; frame-ancestors 'none'`,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
      },
      body: page.html,
    };
  };
}

/** The first line of an error's message, unless it might carry a secret. */
function readableReason(error: unknown): string {
  return error instanceof Error && !looksLikeSecret(error.message) ? (error.message.split('\n')[0] ?? '') : 'see the app log';
}
