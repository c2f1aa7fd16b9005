import type { SubscriptionInfo } from '../core/model.js';

/**
 * The ports the scan needs from the outside world. Adapters in src/adapters implement them
 * against Azure; tests can implement them against the local Azure test server through the
 * same adapters.
 */

/** Where a scan looks: the whole tenant, named subscriptions, or management groups. */
export interface ScanScope {
  subscriptionIds?: string[];
  managementGroupIds?: string[];
}

/** A raw securityContacts list item (`{ id, name, type, properties, ... }`), not yet validated. */
export type RawSecurityContact = unknown;

export interface ResourceGraphStats {
  requests: number;
}

export interface TenantInventory {
  subscriptions: SubscriptionInfo[];
  /** Raw contact items by lower-case subscription id, as Resource Graph indexes them. */
  contactsBySubscription: Map<string, RawSecurityContact[]>;
  /**
   * The management groups named in the scope under which no subscription showed, as they were
   * named: a mistyped id, a display name given for an id, or a group this identity cannot read.
   * Empty for other scopes.
   */
  managementGroupsWithoutSubscriptions: string[];
}

export interface TenantInventorySource {
  /** Reads the subscriptions in scope and the security contacts Resource Graph indexes for them. */
  readInventory(scope: ScanScope, signal?: AbortSignal): Promise<TenantInventory>;
  readonly stats: ResourceGraphStats;
}

/** The answer of the securityContacts API for one subscription. */
export type ContactListRead =
  | { kind: 'listed'; contacts: RawSecurityContact[] }
  /** 409 MissingSubscriptionRegistration: Microsoft.Security is not registered, so no contact can exist. */
  | { kind: 'provider-not-registered'; message: string }
  /** Could not be read (403, 404, persistent 5xx/429, a body that is not JSON or not a list...). */
  | {
      kind: 'unreadable';
      message: string;
      /**
       * True when asking again later may succeed: 408/429/5xx still failing after the retries, or no
       * answer at all. False (or absent) for answers that will not change by themselves (403, 404, a
       * body that is not a contact list). The Event Grid trigger throws on a transient failure so
       * that Event Grid redelivers the event, and records the others as `error` like a scan does.
       */
      transient?: boolean;
      /** The HTTP status, when the service answered with one (403, 404, 503 …). */
      status?: number;
    };

export interface SecurityContactsSource {
  listContacts(subscriptionId: string, signal?: AbortSignal): Promise<ContactListRead>;
  readonly stats: { calls: number };
}

/** Reads one subscription's name and state fresh from ARM (for `check`, and for named subscriptions Resource Graph does not show yet). */
export type SubscriptionLookupResult =
  | { kind: 'found'; subscription: SubscriptionInfo }
  /** `status`: the HTTP status ARM answered with (403, 404 …), absent when there was no answer. */
  | { kind: 'unreadable'; message: string; status?: number };

export interface SubscriptionLookup {
  getSubscription(subscriptionId: string, signal?: AbortSignal): Promise<SubscriptionLookupResult>;
}
