import type { SubscriptionInfo } from '../core/model.js';

/**
 * The ports the scan needs from the outside world. Adapters in src/adapters implement them
 * against Azure; tests can implement them against the local Azure test server through the
 * same adapters.
 */

// ---- the scan lease and the scans' reports (the Functions app's scan job) -------------------

/**
 * Who holds the right to run the tenant scan. One scan at a time across scaled-out instances: a
 * lease row in Table Storage with an expiry, taken and released with its ETag.
 */
export interface ScanLease {
  /** Takes the lease if it is free or expired; otherwise says who holds it until when. */
  tryAcquire(holder: string, ttlMs: number): Promise<{ acquired: true; token: LeaseToken } | { acquired: false; holder: string; expiresAt: string }>;
  /** Extends a lease this holder still has (long scans); false if it was lost. */
  renew(token: LeaseToken, ttlMs: number): Promise<boolean>;
  /** Gives the lease back (only if still held with this token). */
  release(token: LeaseToken): Promise<void>;
}

export interface LeaseToken {
  holder: string;
  etag: string;
  expiresAt: string;
}

/**
 * Why a scan failed, as its callers are told: `azure` when Azure (Resource Graph) could not be
 * read (502 ScanFailed), `storage` when the scan could not be run or recorded (503 ScanUnavailable).
 * `reason` is safe to show (never a secret); the app's log has the details under `invocationId`.
 */
export interface ScanFailure {
  kind: 'azure' | 'storage';
  reason: string;
  invocationId: string;
}

/** A scan as GET /api/scans/{scanId} finds it. Times are ISO-8601. */
export type StoredScan =
  /** Under way while `aliveUntil` (its lease's expiry, moved on at each renewal) is ahead. */
  | { status: 'running'; scanId: string; trigger: string; startedAt: string; aliveUntil: string }
  /** `document` is the §7 JSON report, the exact text POST /api/scans answers. */
  | { status: 'finished'; scanId: string; trigger: string; startedAt: string; finishedAt: string; document: string }
  | { status: 'failed'; scanId: string; trigger: string; startedAt: string; failedAt: string; failure: ScanFailure };

/**
 * Every scan's outcome, kept so that any instance can answer for a scan another one ran: one
 * record per scan id, written by the scan job (under the scan lease) as the scan goes. Only the
 * newest `retainedScans` scans are kept; older ones are pruned as new ones start.
 */
export interface ScanReportStore {
  readonly retainedScans: number;
  /** A new scan, running until `aliveUntil`. Prunes a bounded number of scans beyond retention; a failed prune is reported, not thrown. */
  recordStarted(scan: { scanId: string; trigger: string; startedAt: string; aliveUntil: string }): Promise<{ prunedScans: number; pruneError?: unknown }>;
  /** Moves a running scan's `aliveUntil` on (its lease was renewed). */
  recordAlive(scanId: string, aliveUntil: string): Promise<void>;
  /** The scan finished: `document` (the §7 report's text, in pieces) is kept with it. */
  recordFinished(scanId: string, finished: { finishedAt: string; document: Iterable<string> }): Promise<void>;
  recordFailed(scanId: string, failed: { failedAt: string; failure: ScanFailure }): Promise<void>;
  /** The scan with this (lower-case) id, or undefined when it is unknown or no longer kept. */
  get(scanId: string): Promise<StoredScan | undefined>;
}

// ---- what a scan reads ------------------------------------------------------------------------

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
