/**
 * GET /api/subscriptions/{subscriptionId}/compliance[?wait=SECONDS] — the vending gate
 * (docs/reference/http-api.md and docs/reference/cli.md `check --wait`). 200 with one element of §7's `subscriptions`, read fresh from
 * the securityContacts API; the failing findings' messages say what to fix.
 *
 * - `subscriptionId` must be a GUID: otherwise 400 before any request to Azure.
 * - `wait` is a whole number of seconds from 0 to `maxWaitSeconds` (default 200). A larger value
 *   is REFUSED with 400 naming the cap rather than silently shortened: a pipeline that asked for
 *   more than the app can give should learn so at once, not after a wait it did not ask for.
 *   While the subscription is noncompliant or error, it is read again with back-off
 *   (pollIntervalMs, doubling up to maxPollIntervalMs) until compliant or the time is up.
 * - The whole answer is bounded: `wait` plus `readAllowanceMs` (default 20 s), so 220 s at most,
 *   inside the 230 s at which Azure's load balancer drops an HTTP request. When Azure is slow and
 *   the bound is reached, the reads are aborted and the last verdict read is answered; if none
 *   was read, the answer is status `error` ("no answer … within N s"), never `compliant`.
 * - An active exemption (Table Storage) makes the status `exempt` (findings kept); then there is
 *   nothing to wait for, so the subscription is read once. If the exemptions cannot be read the
 *   answer is 503: a gate must not fail a pipeline that an exemption lets through, nor guess.
 * - Answers carry `Cache-Control: no-store`: a cached "noncompliant" would defeat `wait`.
 */
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { applyExemptions, isExemptionActive } from '../../core/exemptions.js';
import type { SubscriptionVerdict } from '../../core/model.js';
import type { Exemption } from '../../core/state-model.js';
import { verdictJsonValue } from '../../report/json.js';
import { checkSubscription } from '../../scan/check.js';
import { errorVerdict } from '../../scan/verdicts.js';
import { integerQueryParam, isErrorResponse, jsonError, jsonResponse, methodNotAllowed, subscriptionIdParam } from '../http.js';
import { looksLikeSecret } from '../../core/secret-text.js';
import type { AppDependencies } from '../dependencies.js';
import { messageOf } from '../../core/error-message.js';

/** Azure's front end drops an HTTP request after 230 s; the gate stays well inside it. */
export const DEFAULT_MAX_WAIT_SECONDS = 200;
/** Time for the reads themselves on top of `wait` (a read of ARM plus its retries). */
export const DEFAULT_READ_ALLOWANCE_MS = 20_000;

export interface ComplianceHandlerOptions {
  /** The largest `wait` accepted (default 200); larger values are answered with 400. */
  maxWaitSeconds?: number;
  /** First pause between reads while waiting (default 2000 ms); doubles each time. */
  pollIntervalMs?: number;
  /** Longest pause between reads (default 15000 ms). */
  maxPollIntervalMs?: number;
  /** How long the reads may take beyond `wait` before the answer is given anyway (default 20 s). */
  readAllowanceMs?: number;
}

const ROUTE = 'GET /api/subscriptions/{subscriptionId}/compliance';
const NO_STORE = { 'cache-control': 'no-store' };

export function createComplianceHandler(deps: AppDependencies, options: ComplianceHandlerOptions = {}): HttpHandler {
  const maxWaitSeconds = options.maxWaitSeconds ?? DEFAULT_MAX_WAIT_SECONDS;
  const readAllowanceMs = options.readAllowanceMs ?? DEFAULT_READ_ALLOWANCE_MS;

  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const wrongMethod = methodNotAllowed(request, 'GET', ROUTE);
    if (wrongMethod) return wrongMethod;
    const subscriptionId = subscriptionIdParam(request, 'subscriptionId');
    if (isErrorResponse(subscriptionId)) return subscriptionId;
    const waitSeconds = integerQueryParam(request, 'wait', { min: 0, max: maxWaitSeconds, default: 0, unit: 'of seconds' });
    if (isErrorResponse(waitSeconds)) return waitSeconds;

    const startedAt = Date.now();
    const budgetMs = waitSeconds * 1000 + readAllowanceMs;
    const controller = new AbortController();
    let latest: SubscriptionVerdict | undefined;
    let reads = 0;
    let exemptions: Exemption[] | undefined;

    const work = (async () => {
      exemptions = await deps.store.listExemptions();
      const exempted = exemptions.some((e) => e.subscriptionId.toLowerCase() === subscriptionId && isExemptionActive(e, deps.clock()));
      const verdict = await checkSubscription(
        subscriptionId,
        { contacts: deps.azure.contacts, subscriptions: deps.azure.subscriptions, policy: deps.settings.policy, signal: controller.signal },
        {
          waitSeconds: exempted ? 0 : waitSeconds,
          ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
          ...(options.maxPollIntervalMs !== undefined ? { maxPollIntervalMs: options.maxPollIntervalMs } : {}),
          onRetry: (current, nextReadInMs) => {
            latest = current;
            reads += 1;
            deps.log(context, 'compliance.waiting', { subscriptionId, status: current.status, nextReadInMs });
          },
        },
      );
      reads += 1;
      return verdict;
    })();
    // The work may settle after the deadline has answered; its failure then matters to no one.
    work.catch(() => undefined);

    let outcome: { kind: 'verdict'; verdict: SubscriptionVerdict } | { kind: 'deadline' } | { kind: 'failed'; error: unknown };
    let timer: NodeJS.Timeout | undefined;
    try {
      outcome = await Promise.race([
        work.then((verdict) => ({ kind: 'verdict' as const, verdict })),
        new Promise<{ kind: 'deadline' }>((resolve) => {
          timer = setTimeout(() => resolve({ kind: 'deadline' }), budgetMs);
        }),
      ]);
    } catch (error) {
      outcome = { kind: 'failed', error };
    } finally {
      clearTimeout(timer);
      controller.abort();
    }

    if (outcome.kind === 'failed') {
      const reason = describe(outcome.error);
      if (exemptions === undefined) {
        deps.log(context, 'compliance.failed', { subscriptionId, stage: 'exemptions', reason });
        return jsonError(
          503,
          'ExemptionsUnavailable',
          `The exemptions could not be read from the app's storage (${reason}), so the answer could be wrong. Try again; the app's log has the details under invocation id ${context.invocationId}.`,
          NO_STORE,
        );
      }
      deps.log(context, 'compliance.failed', { subscriptionId, stage: 'azure', reason });
      return jsonError(
        502,
        'AzureUnavailable',
        `Azure could not be asked about subscription ${subscriptionId}: ${reason}. Check the app's managed identity (Reader and Security Reader), then try again. Invocation id ${context.invocationId}.`,
        NO_STORE,
      );
    }

    let verdict: SubscriptionVerdict;
    if (outcome.kind === 'verdict') {
      verdict = outcome.verdict;
    } else if (latest !== undefined) {
      // Out of time while waiting: what was last read is the answer (noncompliant or error).
      verdict = latest;
    } else {
      const seconds = Math.round(budgetMs / 1000);
      verdict = errorVerdict(
        { subscriptionId, displayName: '', state: 'Unknown' },
        'security-contacts-api',
        `no answer from Azure within ${seconds} s; the contact could not be read. Try again.`,
      );
    }
    if (exemptions === undefined) {
      // The deadline came before storage answered: only a non-passing answer is safe to give.
      return jsonError(
        503,
        'ExemptionsUnavailable',
        `The app's storage did not answer within ${Math.round(budgetMs / 1000)} s, so exemptions could not be checked. Try again.`,
        NO_STORE,
      );
    }
    [verdict] = applyExemptions([verdict], exemptions, deps.clock()) as [SubscriptionVerdict];

    deps.log(context, 'compliance.checked', {
      subscriptionId,
      status: verdict.status,
      failedRules: verdict.findings.filter((f) => f.result !== 'pass').map((f) => f.ruleId),
      waitSeconds,
      reads,
      timedOut: outcome.kind === 'deadline',
      durationMs: Date.now() - startedAt,
    });
    return jsonResponse(200, verdictJsonValue(verdict), NO_STORE);
  };
}

function describe(error: unknown): string {
  const text = messageOf(error);
  return looksLikeSecret(text) ? 'see the app log' : text.split('\n')[0]!.slice(0, 300);
}
