/**
 * GET /api/subscriptions[?status=STATUS] — the stored state of every subscription, from Table
 * Storage (docs/reference/http-api.md), as the last scan or event recorded it; nothing is read from Azure.
 *
 * STATUS is one of compliant, noncompliant, exempt, error, skipped, gone (`gone`: no longer in
 * the tenant, kept for the record); anything else is 400 naming the parameter.
 *
 * The contract leaves the shape open; it is:
 *
 *   200 {
 *     "subscriptions": [                       // sorted by subscriptionId
 *       {
 *         "subscriptionId": "GUID, lower case",
 *         "displayName": "…", "state": "Enabled",
 *         "status": "compliant|noncompliant|exempt|error|skipped|gone",
 *         "failedRules": ["email-configured", …],           // rules that did not pass
 *         "findings": [ { "ruleId", "result", "message" } ], // §7, in rule order
 *         "contact": { "emails", "alertMinimalSeverity", "notifyRoles", "attackPathMinimalRiskLevel", "shape" }, // §7
 *         "source": "resource-graph|security-contacts-api",
 *         "firstSeenAt": "ISO-8601", "lastEvaluatedAt": "ISO-8601",
 *         "statusSince": "ISO-8601",                         // when it entered its status
 *         "noncompliantSince": "ISO-8601|null",              // while noncompliant or error
 *         "lastAlertedAt": "ISO-8601|null"
 *       }
 *     ]
 *   }
 */
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { RECORDED_STATUSES, type SubscriptionRecord } from '../../core/state-model.js';
import { compareCodeUnits, findingsInRuleOrder } from '../../report/triage-order.js';
import { enumQueryParam, isErrorResponse, jsonError, jsonResponse, methodNotAllowed } from '../http.js';
import { looksLikeSecret } from '../../core/secret-text.js';
import type { AppDependencies } from '../dependencies.js';

export function createSubscriptionsHandler(deps: AppDependencies): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const wrongMethod = methodNotAllowed(request, 'GET', 'GET /api/subscriptions');
    if (wrongMethod) return wrongMethod;
    const status = enumQueryParam(request, 'status', RECORDED_STATUSES);
    if (isErrorResponse(status)) return status;

    let records: SubscriptionRecord[];
    try {
      records = await deps.store.loadSubscriptions(status === undefined ? {} : { status });
    } catch (error) {
      const reason = error instanceof Error && !looksLikeSecret(error.message) ? error.message.split('\n')[0] : 'see the app log';
      deps.log(context, 'subscriptions.unavailable', { reason });
      return jsonError(
        503,
        'StorageUnavailable',
        `The stored state could not be read from the app's storage: ${reason}. Try again; the app's log has the details under invocation id ${context.invocationId}.`,
      );
    }
    const subscriptions = records
      .filter((record) => status === undefined || record.status === status)
      .sort((a, b) => compareCodeUnits(a.subscriptionId, b.subscriptionId))
      .map(subscriptionRecordJsonValue);
    deps.log(context, 'subscriptions.listed', { status: status ?? null, count: subscriptions.length });
    return jsonResponse(200, { subscriptions }, { 'cache-control': 'no-store' });
  };
}

/** One stored record as the route answers it (key order fixed; lastEvaluatedBy stays internal). */
export function subscriptionRecordJsonValue(record: SubscriptionRecord) {
  return {
    subscriptionId: record.subscriptionId,
    displayName: record.displayName,
    state: record.state,
    status: record.status,
    failedRules: [...record.failedRules],
    findings: findingsInRuleOrder(record.findings).map((finding) => ({
      ruleId: finding.ruleId,
      result: finding.result,
      message: finding.message,
    })),
    contact: {
      emails: [...record.contact.emails],
      alertMinimalSeverity: record.contact.alertMinimalSeverity ?? null,
      notifyRoles: [...record.contact.notifyRoles],
      attackPathMinimalRiskLevel: record.contact.attackPathMinimalRiskLevel ?? null,
      shape: record.contact.shape,
    },
    source: record.source,
    firstSeenAt: record.firstSeenAt,
    lastEvaluatedAt: record.lastEvaluatedAt,
    statusSince: record.statusSince,
    noncompliantSince: record.noncompliantSince,
    lastAlertedAt: record.lastAlertedAt,
  };
}
