/**
 * One subscription evaluated on its own, as the Event Grid trigger does it (docs/reference/events.md): read
 * fresh (the securityContacts API and ARM, never Resource Graph, which lags), recorded, and alerted
 * on in one message of its own if an alert is owed.
 *
 * What is thrown and what is recorded:
 * - a transient failure — the securityContacts API still answering 408/429/5xx after the
 *   pipeline's retries, no answer at all, no token, or Table Storage failing — is thrown
 *   (TransientEvaluationError or the store's error) and nothing is recorded, so the invocation
 *   fails and Event Grid delivers the event again;
 * - an answer that will not change by itself (403, 404, a body that is not a contact list) is
 *   recorded as `error`, like any scan records it, and alerted on as such;
 * - except right after vending: a `ContactWatch.SubscriptionCreated` whose subscription answers
 *   401, 403 or 404 within NEW_SUBSCRIPTION_ACCESS_WINDOW_MINUTES of the event is thrown as
 *   transient too. The app's read access is inherited from a management group, and a subscription
 *   just created or moved can take minutes before ARM lets the app see it; Event Grid's retries
 *   (10 s, 30 s, 1 min, 5 min, 10 min, 30 min, …) cover that, and only a subscription still
 *   unreadable after the window is recorded as `error` and alerted on.
 *
 * Exemptions are applied by the store (recordEvaluation reads the subscription's exemption and
 * refuses an `exempt` verdict), so the verdict goes in as the rules judged it. The grace period
 * for new subscriptions (CONTACT_WATCH_NEW_SUBSCRIPTION_GRACE_MINUTES) is applied where alerts
 * are owed (src/core/alerts.ts, from the record's firstSeenAt): a new subscription without a
 * contact is recorded at once, and its alert goes out with the first evaluation or timer run
 * after the grace, unless its contact was set by then.
 */
import type { InvocationContext } from '@azure/functions';
import type { DeliveryCounts } from '../alerts/ports.js';
import { owedAlertFor } from '../core/alerts.js';
import type { SubscriptionVerdict } from '../core/model.js';
import type { SubscriptionRecord } from '../core/state-model.js';
import { checkSubscription } from '../scan/check.js';
import type { ContactListRead, RecordedEvaluation, SecurityContactsSource, SubscriptionLookup } from '../scan/ports.js';
import { deliverOwedAlerts } from './deliver-owed-alerts.js';
import { graceUntil, repairInApp, type AppRepairOutcome } from './repair-subscriptions.js';
import type { AppDependencies } from './dependencies.js';

export interface EvaluateSubscriptionRequest {
  /** A subscription id (GUID). */
  subscriptionId: string;
  /** Written as lastEvaluatedBy and into the status history, e.g. `event:<event id>`. */
  evaluatedBy: string;
  /** An event-driven evaluation sends one message for its subscription (docs/reference/alerts.md). */
  alertMode: 'single';
  /**
   * When the vending pipeline announced the subscription (`ContactWatch.SubscriptionCreated`'s
   * event time). Within NEW_SUBSCRIPTION_ACCESS_WINDOW_MINUTES of it, a 401/403/404 is retried
   * instead of recorded. Absent for contact changes, and for events that carry no time.
   */
  announcedAt?: string;
  /**
   * Repair the subscription when it is noncompliant and CONTACT_WATCH_REMEDIATION is on (a new
   * subscription, a deleted contact), past its grace period; `by` is who the record says wrote it.
   */
  repair?: { by: string };
}

/**
 * How long after a subscription is announced a 401/403/404 is taken for access still on its way
 * (a role inherited from a management group reaching a new subscription) rather than an answer.
 */
export const NEW_SUBSCRIPTION_ACCESS_WINDOW_MINUTES = 30;

/** Statuses a new subscription answers with before the app's inherited read access reaches it. */
const ACCESS_NOT_YET_STATUSES = new Set([401, 403, 404]);

export interface SubscriptionEvaluation {
  /** As the rules judged it (before exemptions). */
  verdict: SubscriptionVerdict;
  /** As stored (exemptions applied), and the status change when there was one. */
  recorded: RecordedEvaluation;
  /** Set when an alert is owed but held back by the new-subscription grace period: when it falls due. */
  alertDeferredUntil?: string;
  /** What alert delivery did; undefined when it failed (logged; the alert stays owed). */
  delivery: DeliveryCounts | undefined;
  /** What the repair did, when one was asked for and due. */
  repair?: AppRepairOutcome;
}

/** The subscription could not be read for a reason that may pass; thrown so Event Grid retries. */
export class TransientEvaluationError extends Error {
  override name = 'TransientEvaluationError';
  constructor(
    readonly subscriptionId: string,
    message: string,
  ) {
    super(message);
  }
}

export async function evaluateSubscription(
  deps: AppDependencies,
  context: InvocationContext,
  request: EvaluateSubscriptionRequest,
): Promise<SubscriptionEvaluation> {
  const subscriptionId = request.subscriptionId.toLowerCase();
  const contacts = rememberingReads(deps.azure.contacts);
  const subscriptions = lookupWithStoredFallback(deps);

  // Taken before the read: a record judged from a later reading (another event, a scan) is never
  // replaced by this one, whichever write arrives last.
  const readAt = deps.clock();
  let verdict: SubscriptionVerdict;
  try {
    verdict = await checkSubscription(subscriptionId, { contacts, subscriptions, policy: deps.settings.policy, clock: deps.clock });
  } catch (error) {
    // No token, an aborted request: nothing about this subscription was learnt; retry the event.
    deps.log(context, 'evaluation.failed', { subscriptionId, evaluatedBy: request.evaluatedBy, stage: 'read', transient: true, error });
    throw error;
  }
  const read = contacts.last;
  if (read?.kind === 'unreadable' && read.transient === true) {
    deps.log(context, 'evaluation.failed', {
      subscriptionId,
      evaluatedBy: request.evaluatedBy,
      stage: 'read',
      transient: true,
      error: read.message,
    });
    throw new TransientEvaluationError(
      subscriptionId,
      `the security contacts of ${subscriptionId} could not be read (it may pass; the event will be retried): ${read.message}`,
    );
  }
  const retryUntil = accessStillOnItsWayUntil(read, request, deps.clock());
  if (read?.kind === 'unreadable' && retryUntil) {
    deps.log(context, 'evaluation.failed', {
      subscriptionId,
      evaluatedBy: request.evaluatedBy,
      stage: 'read',
      transient: true,
      reason: 'a new subscription the app cannot read yet: its inherited read access may still be on its way',
      retryUntil,
      error: read.message,
    });
    throw new TransientEvaluationError(
      subscriptionId,
      `the new subscription ${subscriptionId} cannot be read yet (${read.message}); read access inherited from a management group can take minutes to reach it, so the event will be retried until ${retryUntil}`,
    );
  }

  let recorded: RecordedEvaluation;
  try {
    recorded = await deps.store.recordEvaluation(verdict, { evaluatedBy: request.evaluatedBy, readAt });
  } catch (error) {
    deps.log(context, 'evaluation.failed', { subscriptionId, evaluatedBy: request.evaluatedBy, stage: 'store', transient: true, error });
    throw error;
  }

  if (recorded.refused !== undefined) {
    // Nothing a retry could mend: Table Storage will not take even the record's minimal form.
    deps.log(context, 'subscription.notStored', {
      subscriptionId,
      evaluatedBy: request.evaluatedBy,
      status: verdict.status,
      reason: recorded.refused,
    });
    return { verdict, recorded, delivery: undefined };
  }
  const { record, change } = recorded;
  if (recorded.superseded) {
    deps.log(context, 'subscription.superseded', {
      subscriptionId,
      evaluatedBy: request.evaluatedBy,
      readAt: readAt.toISOString(),
      storedReadAt: record.readAt,
      storedStatus: record.status,
      reason: 'the stored record was judged from a later reading; it stays',
    });
  }
  deps.log(context, 'subscription.evaluated', {
    subscriptionId,
    status: record.status,
    evaluatedBy: request.evaluatedBy,
    firstSeen: change !== null && change.from === null,
    failedRules: record.failedRules,
    nameFrom: subscriptions.source,
  });
  if (change && change.from !== null) {
    deps.log(context, 'subscription.statusChanged', { subscriptionId, from: change.from, to: change.to, evaluatedBy: request.evaluatedBy });
  }

  let repair: AppRepairOutcome | undefined;
  if (request.repair && deps.settings.remediation.enabled && record.status === 'noncompliant' && !recorded.superseded) {
    const until = graceUntil(record, deps);
    if (until) {
      repair = { kind: 'in-grace', until };
      deps.log(context, 'remediation.deferred', {
        subscriptionId,
        reason: 'a new subscription is given time to have its contact set',
        until,
      });
    } else {
      repair = await repairInApp(
        deps,
        context,
        { subscriptionId, displayName: record.displayName, state: record.state },
        request.repair.by,
      );
      // The invocation that holds the claim repairs and alerts; an alert from here would announce
      // a problem that is being repaired.
      if (repair.kind === 'claimed-elsewhere') return { verdict, recorded, delivery: undefined, repair };
    }
  }

  const now = deps.clock();
  const deferredUntil = repair?.kind === 'repaired' ? undefined : alertDeferredUntil(record, now, deps.settings.alerting.alerts);
  if (deferredUntil) {
    deps.log(context, 'alert.deferred', {
      subscriptionId,
      reason: 'a new subscription is given time to have its contact set',
      graceMinutes: deps.settings.alerting.alerts.newSubscriptionGraceMinutes,
      until: deferredUntil,
    });
  }

  const delivery = await deliverOwedAlerts(deps, context, { mode: request.alertMode, subscriptionIds: [subscriptionId] });
  return { verdict, recorded, delivery, ...(deferredUntil ? { alertDeferredUntil: deferredUntil } : {}), ...(repair ? { repair } : {}) };
}

/**
 * Until when a new subscription's 401/403/404 is retried rather than recorded: the end of the
 * access window after its announcement, or undefined when the answer is to be recorded now (an
 * announcement older than the window, or none). The event parser refuses announcements further
 * ahead than the clock skew allowed; one within it counts from now, so the window never reaches
 * more than NEW_SUBSCRIPTION_ACCESS_WINDOW_MINUTES past the present.
 */
function accessStillOnItsWayUntil(read: ContactListRead | undefined, request: EvaluateSubscriptionRequest, now: Date): string | undefined {
  if (read?.kind !== 'unreadable' || read.status === undefined || !ACCESS_NOT_YET_STATUSES.has(read.status) || !request.announcedAt)
    return undefined;
  const announced = Date.parse(request.announcedAt);
  if (!Number.isFinite(announced)) return undefined;
  const deadline = Math.min(announced, now.getTime()) + NEW_SUBSCRIPTION_ACCESS_WINDOW_MINUTES * 60_000;
  return now.getTime() < deadline ? new Date(deadline).toISOString() : undefined;
}

/** When the alert held back by the grace period falls due, or undefined when nothing is held back. */
function alertDeferredUntil(
  record: SubscriptionRecord,
  now: Date,
  settings: AppDependencies['settings']['alerting']['alerts'],
): string | undefined {
  if (settings.newSubscriptionGraceMinutes <= 0) return undefined;
  if (owedAlertFor(record, now, settings) !== null) return undefined;
  if (owedAlertFor(record, now, { ...settings, newSubscriptionGraceMinutes: 0 }) === null) return undefined;
  return new Date(Date.parse(record.firstSeenAt) + settings.newSubscriptionGraceMinutes * 60_000).toISOString();
}

/** The contacts source, remembering its last answer (checkSubscription keeps only the verdict). */
function rememberingReads(source: SecurityContactsSource): SecurityContactsSource & { last: ContactListRead | undefined } {
  const wrapper = {
    last: undefined as ContactListRead | undefined,
    stats: source.stats,
    async listContacts(subscriptionId: string, signal?: AbortSignal): Promise<ContactListRead> {
      wrapper.last = await source.listContacts(subscriptionId, signal);
      return wrapper.last;
    },
  };
  return wrapper;
}

/**
 * Name and state fresh from ARM; when ARM cannot say, what the store last knew, so that a passing
 * ARM failure does not blank a known subscription's name in its record and alert. (A subscription
 * neither knows is judged with an empty name, as `check` does.)
 */
function lookupWithStoredFallback(deps: AppDependencies): SubscriptionLookup & { source: 'arm' | 'store' | 'none' } {
  const lookup = {
    source: 'arm' as 'arm' | 'store' | 'none',
    async getSubscription(subscriptionId: string, signal?: AbortSignal) {
      const fresh = await deps.azure.subscriptions.getSubscription(subscriptionId, signal);
      if (fresh.kind === 'found') return fresh;
      const stored = await deps.store.getSubscription(subscriptionId);
      if (!stored || stored.status === 'gone') {
        lookup.source = 'none';
        return fresh;
      }
      lookup.source = 'store';
      return {
        kind: 'found' as const,
        subscription: { subscriptionId: stored.subscriptionId, displayName: stored.displayName, state: stored.state },
      };
    },
  };
  return lookup;
}
