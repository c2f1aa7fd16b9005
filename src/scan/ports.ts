import type { ExemptionValidationOptions } from '../core/exemptions.js';
import type { ContactRemediation, ScanStatus, SecurityContactPutBody, SubscriptionInfo, SubscriptionVerdict } from '../core/model.js';
import type {
  Exemption,
  RecordedStatus,
  RecordedSubscription,
  StatusChange,
  StoredScanRun,
  SubscriptionRecord,
} from '../core/state-model.js';

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
  tryAcquire(
    holder: string,
    ttlMs: number,
  ): Promise<{ acquired: true; token: LeaseToken } | { acquired: false; holder: string; expiresAt: string }>;
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
  recordStarted(scan: {
    scanId: string;
    trigger: string;
    startedAt: string;
    aliveUntil: string;
  }): Promise<{ prunedScans: number; pruneError?: unknown }>;
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

/**
 * What Resource Graph shows, handed over row by row as its pages arrive, so that a scan can act on
 * each subscription as soon as what Resource Graph shows of it is known.
 */
export interface InventoryListener {
  /** A subscription in scope. Each is handed over once, however often the scope's parts list it. */
  subscription(subscription: SubscriptionInfo): void;
  /**
   * A contact Resource Graph indexes for a subscription (lower-case id). A contact may come before
   * or after its subscription, and the same contact (by id) may come again when the scope is read
   * in overlapping parts.
   */
  contact(subscriptionId: string, contactId: string, item: RawSecurityContact): void;
  /**
   * Every contact Resource Graph indexes for a subscription in scope whose (lower-case) id sorts
   * before this one has been handed over: the contacts come in subscription order and have passed
   * it. Said only while the rows are seen to keep that order, so a contact handed over later for
   * such a subscription means the order did not hold after all.
   */
  contactsCompleteBefore(subscriptionId: string): void;
  /**
   * What contactsCompleteBefore said does not hold for subscriptions not decided yet: the ordered
   * read covered only part of the scope (the tenant turned out to be over Resource Graph's
   * tenant-scope limit), and the rest of the scope's contacts come another way.
   */
  contactsOrderLost(): void;
  /**
   * Every contact Resource Graph indexes for these subscriptions (lower-case ids) has been handed
   * over — or, without ids, for every subscription in scope: what it shows of them is final. Once
   * readInventory has resolved, that is true of every subscription whether or not this was called.
   */
  contactsComplete(subscriptionIds?: readonly string[]): void;
}

export interface InventoryOutcome {
  /**
   * The management groups named in the scope under which no subscription showed, as they were
   * named: a mistyped id, a display name given for an id, or a group this identity cannot read.
   * Empty for other scopes.
   */
  managementGroupsWithoutSubscriptions: string[];
}

export interface TenantInventorySource {
  /**
   * Reads the subscriptions in scope and the security contacts Resource Graph indexes for them,
   * handing each row to `listener` as its page arrives. Rejects when Resource Graph cannot be read
   * (or `signal` is aborted); rows already handed over are then not the whole scope.
   */
  readInventory(scope: ScanScope, listener: InventoryListener, signal?: AbortSignal): Promise<InventoryOutcome>;
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

// ---- the record: what a stored scan, an evaluation and the readers need of it ------------------

/**
 * contact-watch's memory between runs: each subscription's current state, its status history, the
 * scan runs and the exemptions. The Table Storage adapter (src/adapters/table-storage) implements
 * it: only what changed is written, each update conditional on what it read, and a run that fails
 * while writing undoes what it wrote.
 */
export interface StateStore {
  readonly stats: StateStoreStats;

  /** Every stored subscription (gone ones included), sorted by id; optionally only one status. */
  loadSubscriptions(filter?: { status?: RecordedStatus }): Promise<SubscriptionRecord[]>;
  getSubscription(subscriptionId: string): Promise<SubscriptionRecord | undefined>;
  /**
   * The records of these subscriptions as stored, sorted by id: point reads, so the cost does not
   * grow with the tenant. Their evaluation times are their own, not vouched for by the newest
   * complete run (what alerting needs; see getSubscription for the readers' view).
   */
  getSubscriptions(subscriptionIds: readonly string[]): Promise<SubscriptionRecord[]>;
  /** The status changes of one subscription, oldest first. */
  history(subscriptionId: string): Promise<StatusChange[]>;
  /** Every stored subscription's status, name and state by lower-case id, for a tenant scan to check its readings against. */
  recordedSubscriptions(): Promise<Map<string, RecordedSubscription>>;

  /** start scan row → evaluate → load → plan → write → finish scan row. */
  recordRun(init: RunInit & { evaluate: () => Promise<RunResult> }): Promise<RecordedRun>;
  /** Writes the scan row (outcome `running`). */
  startRun(init: RunInit): Promise<RunHandle>;
  /** Loads, plans, writes and finishes the scan row; on failure undoes its writes and marks the run failed. */
  finishRun(handle: RunHandle, result: RunResult): Promise<RecordedRun>;
  /** Marks the run failed (the scan itself could not finish); nothing else is written. */
  failRun(handle: RunHandle, error: unknown): Promise<StoredScanRun>;
  /** Newest first. */
  listScanRuns(limit?: number): Promise<StoredScanRun[]>;
  /** The newest run that listed the whole tenant and read every subscription it listed (one point read). */
  latestCompleteRun(): Promise<StoredScanRun | undefined>;
  /**
   * Deletes scan runs, history rows and departed subscriptions older than the retention, at most
   * `maxPruneDeletes` rows; at most once a day unless the last call stopped at that bound.
   * Returns what it deleted, or null when it was not due.
   */
  pruneExpired(): Promise<PruneOutcome | null>;

  /**
   * One subscription read fresh (Event Grid trigger, `check`), read at `readAt`: written with its
   * history, unless the stored record was judged from a later reading (then left as it is).
   */
  recordEvaluation(verdict: SubscriptionVerdict, options: EvaluationOptions): Promise<RecordedEvaluation>;
  /** Sets lastAlertedAt (never moving it back) on each existing subscription; returns the updated records. */
  markAlerted(subscriptionIds: readonly string[], at: Date): Promise<SubscriptionRecord[]>;
  /**
   * Read-modify-write of one existing subscription, retried on 412. `mutate` returns the new
   * record, or undefined to leave it. It may not change the id or the status (status changes go
   * through runs and evaluations, which keep the history). Returns the stored record.
   */
  updateSubscription(
    subscriptionId: string,
    mutate: (current: SubscriptionRecord) => SubscriptionRecord | undefined | Promise<SubscriptionRecord | undefined>,
  ): Promise<SubscriptionRecord | undefined>;

  /** Validates (see core/exemptions.ts) and stores; replaces an earlier exemption of the subscription. */
  putExemption(request: unknown, options?: ExemptionValidationOptions): Promise<Exemption>;
  getExemption(subscriptionId: string): Promise<Exemption | undefined>;
  /** True when there was one. */
  removeExemption(subscriptionId: string): Promise<boolean>;
  /** Every exemption, expired ones included (use isExemptionActive), sorted by subscription id. */
  listExemptions(): Promise<Exemption[]>;
}

export interface EvaluationOptions {
  /** Written as lastEvaluatedBy and into the history: `event:<id>`, `check:<uuid>`, `fix by alice`. */
  evaluatedBy: string;
  /** When the reading began. */
  readAt: Date;
  /**
   * The write of the contact this reading followed (remediation), with the body sent: kept as the
   * record's lastRemediation and in a history entry of its own, even where the status stayed.
   */
  remediation?: ContactRemediation & { body: SecurityContactPutBody };
}

export interface RunInit {
  scanId: string;
  /** What started it: `cli`, `timer`, `http`, ... */
  trigger: string;
  /** When the scan started reading; default now. */
  startedAt?: Date;
}

export interface RunHandle {
  readonly scanId: string;
  readonly trigger: string;
  readonly startedAt: Date;
  /** The scan row's key (inverted start time). */
  readonly rowKey: string;
}

export interface RunResult {
  status: ScanStatus;
  /** `tenant`: every subscription the identity can see; `subset`: named subscriptions or groups. */
  scope: 'tenant' | 'subset';
  /**
   * True when the tenant's subscription listing was read in full, whatever became of the contact
   * reads. With scope `tenant`, only then is a stored subscription without a verdict marked gone.
   */
  subscriptionListComplete: boolean;
  /** The verdicts as the rules judged them, before exemptions (the store applies those). */
  verdicts: readonly SubscriptionVerdict[];
  /** The subscriptions the run obtained an answer for (see StateUpdateInput.readSubscriptionIds). */
  readSubscriptionIds: Iterable<string>;
  resourceGraphRequests?: number;
  securityContactsCalls?: number;
}

export interface RecordedRun {
  run: StoredScanRun;
  /** The subscription records the run wrote (only changed ones). */
  records: SubscriptionRecord[];
  /** The status changes it appended to the history. */
  changes: StatusChange[];
  /**
   * Subscriptions whose record Table Storage refused, even cut down to its status and rule
   * results. The run stands for every other subscription; these keep what was stored before.
   */
  refused: RefusedWrite[];
}

/** A subscription whose record Table Storage refused even in its minimal form. */
export interface RefusedWrite {
  subscriptionId: string;
  reason: string;
}

export type RecordedEvaluation =
  | {
      /** The record as stored now (the newer one, when this evaluation was superseded). */
      record: SubscriptionRecord;
      change: StatusChange | null;
      /** True when the stored record was judged from a later reading and was left as it was. */
      superseded: boolean;
      refused?: undefined;
    }
  /** Table Storage refused the record, even in its minimal form; what was stored before stays. */
  | { record: undefined; change: null; superseded: false; refused: string };

/** What the store sent, for progress lines and tests. */
export interface StateStoreStats {
  transactions: number;
  transactionOperations: number;
  conflictRetries: number;
}

/** A write that could not be completed; for a run, what it had written was undone where possible. */
export class StateWriteError extends Error {
  override name = 'StateWriteError';
}

/** A concurrent writer kept winning until the retries ran out. */
export class WriteConflictError extends StateWriteError {
  override name = 'WriteConflictError';
}

/** How long the record keeps what only grows with time (history, departed subscriptions, scan runs). */
export interface RetentionSettings {
  /** Days a status history row, and the record of a subscription gone from the tenant, is kept. */
  historyDays: number;
  /** Days a scan run's row is kept. */
  scanRunDays: number;
}

/** What one `pruneExpired` call deleted. */
export interface PruneOutcome {
  scanRuns: number;
  historyRows: number;
  /** Records of subscriptions gone from the tenant longer than the history retention. */
  goneSubscriptions: number;
  /** False when the per-call bound stopped it: the next call goes on where it stopped. */
  complete: boolean;
}
