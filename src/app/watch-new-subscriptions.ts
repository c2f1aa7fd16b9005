/**
 * The new-subscription watch (docs/reference/scanning.md, "The new-subscription watch"): no Azure event
 * announces a subscription created anywhere in the tenant, so between scans the watch lists the
 * tenant's subscription ids from Resource Graph (ids and states only: one request per 1,000
 * subscriptions), compares them with the ids the store has recorded (the row keys alone), and
 * evaluates each new one at once, exactly as a `ContactWatch.SubscriptionCreated` event would
 * (src/app/evaluate-subscription.ts): read fresh, recorded, one alert of its own after the grace
 * period, repaired when remediation is on.
 *
 * - Only subscriptions contact-watch has never recorded are new; one recorded as `gone` that shows
 *   again is left to the scan, as is every subscription that disappeared. So is a new one in a
 *   state the scan does not judge (Disabled, Deleted, Expired): nothing is owed for it.
 * - It needs no scan lease and does not hold off a scan: an evaluation racing a scan is what an
 *   event racing a scan is. The record keeps the later reading, and the alert is claimed once in
 *   the outbox, whichever of the two gets there first
 *   (test/integration/app/subscription-watch.test.ts shows it).
 * - Until a scan has recorded the whole tenant once, and recorded at least one subscription, every
 *   subscription would look new (a scan that ran before the identity could read the tenant saw
 *   none); the watch waits for such a scan (`watch.skipped`) rather than alert on the tenant one
 *   subscription at a time.
 * - Resource Graph or the store failing is logged (`watch.failed`) and thrown; nothing was
 *   recorded, so the next run finds the same subscriptions new. One subscription that cannot be
 *   evaluated (the securityContacts API unavailable, or a subscription so new the app cannot read
 *   it yet) is logged and left unrecorded, so the next run tries it again, while the others of the
 *   run go on.
 * - More than MAX_WATCH_EVALUATIONS new subscriptions at once (a batch moved into the tenant, or
 *   read access just granted on a management group) is what the scan's digest is for: the watch
 *   then evaluates none of them and leaves them all to the next scan (`watch.deferred`), rather than
 *   send a message of its own for each, a few dozen every five minutes.
 */
import type { InvocationContext } from '@azure/functions';
import pLimit from 'p-limit';
import { UNJUDGED_SUBSCRIPTION_STATES } from '../core/model.js';
import { bySubscriptionId } from '../core/subscription-id.js';
import type { ListedSubscription, SubscriptionIdListing } from '../scan/watch-ports.js';
import { evaluateSubscription } from './evaluate-subscription.js';
import type { AppDependencies } from './dependencies.js';
import { messageOf } from '../core/error-message.js';

/** New subscriptions one run evaluates at most, each with an alert of its own; more at once are left to the scan. */
export const MAX_WATCH_EVALUATIONS = 25;
/** New subscriptions evaluated at the same time. */
const WATCH_EVALUATION_CONCURRENCY = 4;

export type WatchOutcome =
  | { kind: 'skipped'; reason: string }
  | {
      kind: 'ran';
      /** Subscriptions Resource Graph listed. */
      listed: number;
      /** False when Resource Graph listed only part of the tenant (its tenant-scope limit). */
      complete: boolean;
      /** New subscriptions in a judged state, sorted by id. */
      newSubscriptionIds: string[];
      /** New subscriptions in a state nothing is owed for (Disabled, Deleted, Expired), left to the scan. */
      notJudged: number;
      /** Evaluated and recorded by this run. */
      evaluated: string[];
      /** Not evaluated: a failure the next run tries again. */
      failed: string[];
      /** All of them when there were more than MAX_WATCH_EVALUATIONS: left to the next scan. */
      deferred: string[];
      /** Resource Graph requests this run sent. */
      resourceGraphRequests: number;
    };

export async function watchNewSubscriptions(deps: AppDependencies, context: InvocationContext): Promise<WatchOutcome> {
  const baseline = await step(deps, context, 'store', () => deps.store.latestCompleteRun());
  if (!baseline) {
    const reason = 'no scan has recorded the whole tenant yet: until one has, every subscription would look new';
    deps.log(context, 'watch.skipped', { reason });
    return { kind: 'skipped', reason };
  }

  const requestsBefore = deps.azure.subscriptionIds.stats.requests;
  const [listing, known] = await Promise.all([
    step(deps, context, 'resource-graph', () => deps.azure.subscriptionIds.listSubscriptionIds()),
    step(deps, context, 'store', () => deps.store.knownSubscriptionIds()),
  ]);
  const resourceGraphRequests = deps.azure.subscriptionIds.stats.requests - requestsBefore;
  if (known.size === 0) {
    const reason = 'the last complete scan recorded no subscription: until one has, every subscription would look new';
    deps.log(context, 'watch.skipped', { reason });
    return { kind: 'skipped', reason };
  }
  const { judged, notJudged } = newSubscriptions(listing, known);
  const tooMany = judged.length > MAX_WATCH_EVALUATIONS;
  const toEvaluate = tooMany ? [] : judged;
  const deferred = tooMany ? judged : [];

  deps.log(context, 'watch.listed', {
    subscriptions: listing.subscriptions.length,
    known: known.size,
    new: judged.length,
    notJudged,
    complete: listing.complete,
    resourceGraphRequests,
  });
  if (!listing.complete) {
    deps.log(context, 'watch.partialListing', {
      reason:
        "the tenant is over Resource Graph's tenant-scope subscription limit: the watch sees only the subscriptions within it, the scan lists the rest through the Subscriptions API",
    });
  }
  if (deferred.length > 0) {
    deps.log(context, 'watch.deferred', {
      evaluating: 0,
      leftForLater: deferred.length,
      reason: `more than ${MAX_WATCH_EVALUATIONS} new subscriptions at once: they are left to the next scan, whose digest reports them together`,
    });
  }

  // When the watch saw them: a new subscription the app cannot read yet (401/403/404, its read access
  // inherited from a management group still on its way) is then left unrecorded, as an event's would be,
  // and tried again by the next run; the scan records it as `error` if it stays so.
  const seenAt = deps.clock().toISOString();
  const evaluated: string[] = [];
  const failures: { subscriptionId: string; error: string }[] = [];
  const limit = pLimit(WATCH_EVALUATION_CONCURRENCY);
  await Promise.all(
    toEvaluate.map(({ subscriptionId }) =>
      limit(async () => {
        try {
          await evaluateSubscription(deps, context, {
            subscriptionId,
            evaluatedBy: `watch:${context.invocationId}`,
            alertMode: 'single',
            announcedAt: seenAt,
            repair: { by: `app on watch ${context.invocationId}` },
          });
          evaluated.push(subscriptionId);
        } catch (error) {
          failures.push({ subscriptionId, error: messageOf(error) });
        }
      }),
    ),
  );

  evaluated.sort();
  failures.sort(bySubscriptionId);
  deps.log(context, 'watch.finished', {
    new: judged.length,
    evaluated: evaluated.length,
    failed: failures.length,
    deferred: deferred.length,
    ...(failures.length > 0 ? { retryNextRun: failures } : {}),
  });
  return {
    kind: 'ran',
    listed: listing.subscriptions.length,
    complete: listing.complete,
    newSubscriptionIds: judged.map((subscription) => subscription.subscriptionId),
    notJudged,
    evaluated,
    failed: failures.map((failure) => failure.subscriptionId),
    deferred: deferred.map((subscription) => subscription.subscriptionId),
    resourceGraphRequests,
  };
}

/** The listed subscriptions the store has no record of: those in a judged state sorted by id, and how many others. */
function newSubscriptions(listing: SubscriptionIdListing, known: ReadonlySet<string>): { judged: ListedSubscription[]; notJudged: number } {
  const unknown = listing.subscriptions.filter((subscription) => !known.has(subscription.subscriptionId));
  const judged = unknown.filter((subscription) => !UNJUDGED_SUBSCRIPTION_STATES.includes(subscription.state)).sort(bySubscriptionId);
  return { judged, notJudged: unknown.length - judged.length };
}

/** Runs one read of the watch; a failure is logged with the stage it happened in, then thrown (the next run starts over). */
async function step<T>(
  deps: AppDependencies,
  context: InvocationContext,
  stage: 'resource-graph' | 'store',
  read: () => Promise<T>,
): Promise<T> {
  try {
    return await read();
  } catch (error) {
    deps.log(context, 'watch.failed', { stage, error });
    throw error;
  }
}
