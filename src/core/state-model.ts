/**
 * What contact-watch remembers about each subscription between runs (Table Storage in
 * production). Pure types; the table layout lives in src/adapters/table-storage.
 */
import { SUBSCRIPTION_STATUSES } from './model.js';
import type { ContactFix, ContactRemediation, ContactSummary, Finding, RuleId, SecurityContactPutBody, VerdictSource } from './model.js';

/** `gone`: no longer in the tenant, set only by a run that listed every subscription of the tenant. */
export const RECORDED_STATUSES = [...SUBSCRIPTION_STATUSES, 'gone'] as const;
export type RecordedStatus = (typeof RECORDED_STATUSES)[number];

export interface SubscriptionRecord {
  subscriptionId: string; // lower-case GUID
  displayName: string;
  state: string;
  status: RecordedStatus;
  failedRules: RuleId[];
  findings: Finding[];
  contact: ContactSummary;
  source: VerdictSource;
  firstSeenAt: string; // ISO-8601
  lastEvaluatedAt: string;
  /** When the subscription entered its current status. */
  statusSince: string;
  /** When it last became noncompliant or error (null while compliant/exempt/skipped). */
  noncompliantSince: string | null;
  /** When an alert covering this subscription was last queued (null: never). */
  lastAlertedAt: string | null;
  /** The scan run or event that last evaluated it. */
  lastEvaluatedBy: string;
  /**
   * When the reading this record was judged from was taken: the start of the scan that read it, or
   * the moment an event or check began its read. A write never replaces a record judged from a
   * later reading, whichever write arrives last.
   */
  readAt: string;
  /** The merged fix from the last reading of the securityContacts API (see ContactFix), or null. */
  fix: ContactFix | null;
  /**
   * What was left out of this record to keep it within Table Storage's limits (an oversized
   * contact or message), said for people; null when nothing was. The status and the failed rules
   * are always kept whole.
   */
  omitted: string | null;
  /** contact-watch's last write of this subscription's contact, or null when it never wrote one. */
  lastRemediation: ContactRemediation | null;
}

/** What a tenant scan needs of a stored subscription to check Resource Graph's lagging view against. */
export interface RecordedSubscription {
  status: RecordedStatus;
  displayName: string;
  state: string;
}

/** An append-only entry of the status history: the audit evidence. */
export interface StatusChange {
  subscriptionId: string;
  at: string;
  from: RecordedStatus | null; // null: first seen
  to: RecordedStatus;
  findingsBefore: Finding[];
  findingsAfter: Finding[];
  evaluatedBy: string;
  /**
   * Set when the entry records a write of the contact by contact-watch (a history entry is kept
   * for every write, whether or not the status moved), with the body that was sent.
   */
  remediation?: ContactRemediation & { body: SecurityContactPutBody | { omittedBytes: number } };
}

export interface Exemption {
  subscriptionId: string;
  reason: string;
  owner: string; // e-mail
  expiresOn: string; // YYYY-MM-DD, inclusive
  createdBy: string;
  createdAt: string;
}

export interface ScanRunRecord {
  scanId: string;
  startedAt: string;
  finishedAt: string | null;
  outcome: 'running' | 'succeeded' | 'partial' | 'failed';
  counts: { subscriptions: number; compliant: number; noncompliant: number; exempt: number; error: number; skipped: number };
  resourceGraphRequests: number;
  securityContactsCalls: number;
  durationMs: number | null;
  trigger: string; // 'cli' | 'timer' | 'http' | ...
}

/** A scan run as the record keeps it: ScanRunRecord plus what recording it adds. */
export interface StoredScanRun extends ScanRunRecord {
  /**
   * True for a run that listed the whole tenant, read every subscription it listed (an `error`
   * verdict is a reading) and stored every record: it vouches for the evaluation of every
   * subscription it did not mark gone (see withLatestCompleteRun).
   */
  complete: boolean;
  /** When the run's state was planned: the lastEvaluatedAt of what it wrote. Null while running. */
  evaluatedAt: string | null;
  /** Subscription entities (state rows) and history rows the run wrote. */
  subscriptionWrites: number;
  historyWrites: number;
  /** Subscriptions whose record Table Storage refused (named in `error`); the run stands for the rest. */
  refusedWrites: number;
  /** Why the run failed, or which records were refused. */
  error: string | null;
}
