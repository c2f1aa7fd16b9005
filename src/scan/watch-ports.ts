/**
 * The ports of the new-subscription watch (src/app/watch-new-subscriptions.ts): the tenant's
 * subscription ids as Resource Graph lists them, and the ids contact-watch has recorded. Kept
 * apart from ports.ts because only the Functions app's watch uses them.
 */
import type { ResourceGraphStats } from './ports.js';

/** One subscription as the watch lists it: its id and its state, nothing more. */
export interface ListedSubscription {
  /** Lower-case GUID. */
  subscriptionId: string;
  /** `Enabled`, `Warned`, `PastDue`, `Disabled`, `Deleted` or `Expired`, as Azure says it. */
  state: string;
}

export interface SubscriptionIdListing {
  subscriptions: ListedSubscription[];
  /**
   * False when Resource Graph said the tenant is over its tenant-scope subscription limit: the
   * listing holds only the subscriptions within the limit (the scan reads the rest another way).
   */
  complete: boolean;
}

export interface SubscriptionIdSource {
  /** Every subscription Resource Graph shows this identity at tenant scope: ids and states only. */
  listSubscriptionIds(signal?: AbortSignal): Promise<SubscriptionIdListing>;
  /** Requests sent to Resource Graph: one per page of 1,000 subscriptions. */
  readonly stats: ResourceGraphStats;
}

export interface KnownSubscriptionIds {
  /**
   * The lower-case id of every subscription with a stored record, whatever its status (`gone`
   * included): the keys alone, without reading the records.
   */
  knownSubscriptionIds(): Promise<Set<string>>;
}
