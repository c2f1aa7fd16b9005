/**
 * What contact-watch remembers about each subscription between runs (Table Storage in
 * production). Pure types; the table layout lives in src/adapters/table-storage.
 */
import type { ContactSummary, Finding, RuleId, SubscriptionStatus, VerdictSource } from './model.js';

/** `gone`: no longer in the tenant, set only after a successful complete scan. */
export type RecordedStatus = SubscriptionStatus | 'gone';

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
