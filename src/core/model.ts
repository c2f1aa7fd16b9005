/**
 * The core model of contact-watch: what a security contact is once every API shape has been
 * read, what a rule says about it, and the verdict for one subscription.
 * Pure types; no SDK, no I/O.
 */

export const ALERT_SEVERITIES = ['Low', 'Medium', 'High'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

export const ATTACK_PATH_RISK_LEVELS = ['Low', 'Medium', 'High', 'Critical'] as const;
export type AttackPathRiskLevel = (typeof ATTACK_PATH_RISK_LEVELS)[number];

/** The securityContacts API versions whose shapes we read, newest first; `none` = no contact. */
export const CONTACT_SHAPES = ['2023-12-01-preview', '2020-01-01-preview', '2017-08-01-preview', 'none'] as const;
export type ContactShape = (typeof CONTACT_SHAPES)[number];

export const SUBSCRIPTION_STATUSES = ['compliant', 'noncompliant', 'exempt', 'error', 'skipped'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

export type RuleResult = 'pass' | 'fail' | 'error';

export const RULE_IDS = [
  'contact-exists',
  'email-configured',
  'alert-notifications',
  'owner-notifications',
  'attack-path-notifications',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

/**
 * A setting read from the service that may hold a value we do not recognise. The rules fail
 * such a value with a message that names it, so the raw text is kept next to the parsed one.
 */
export type EnumReading<T extends string> = { kind: 'known'; value: T } | { kind: 'unknown'; raw: string } | { kind: 'absent' };

/**
 * One element of a 2023 contact's `notificationsSources`, every member as the service returned it:
 * `{sourceType: "Alert", minimalSeverity}`, `{sourceType: "AttackPath", minimalRiskLevel}`, or a
 * source type no rule knows.
 */
export interface NotificationSourceAsRead {
  sourceType: string;
  [member: string]: unknown;
}

/** One securityContacts entry, whatever API version produced it. */
export interface NormalisedContactEntry {
  name: string;
  shape: Exclude<ContactShape, 'none'>;
  /** Addresses as written, split on `;` and `,`, trimmed, empty parts dropped. */
  emails: string[];
  /**
   * `phone` as written, null when not set (or not a string). No rule reads it; a fix writes the
   * whole contact, so it is kept to be carried over.
   */
  phone: string | null;
  /** 2023 shape: `isEnabled`; absent means enabled (only an explicit false turns it off). */
  enabled: boolean;
  alerts: {
    /** State read from the shape (`On`/`Off`, case-insensitive); unknown text is kept. */
    state: EnumReading<'On' | 'Off'>;
    minimalSeverity: EnumReading<AlertSeverity>;
  };
  roles: {
    state: EnumReading<'On' | 'Off'>;
    /** Canonical role names where known, raw text otherwise. */
    roles: EnumReading<string>[];
  };
  attackPaths: {
    /** True when an `AttackPath` notification source exists (2023 shape only). */
    present: boolean;
    minimalRiskLevel: EnumReading<AttackPathRiskLevel>;
  };
  /**
   * 2023 shape: `notificationsSources` exactly as read, in their order, source types and members
   * no rule reads included; empty for older shapes. The readings above are what the rules judge;
   * this is what a fix carries over.
   */
  notificationSources: NotificationSourceAsRead[];
}

/** The contact of one subscription: every entry of its list, merged by the rules. */
export interface SubscriptionContact {
  entries: NormalisedContactEntry[];
  /** Why no contact can exist, when the service said so (e.g. provider not registered). */
  absentReason?: string;
}

/** The contact as the JSON report shows it (docs/reference/report.md). */
export interface ContactSummary {
  emails: string[];
  alertMinimalSeverity: AlertSeverity | null;
  notifyRoles: string[];
  attackPathMinimalRiskLevel: AttackPathRiskLevel | null;
  shape: ContactShape;
}

export interface Finding {
  ruleId: RuleId;
  result: RuleResult;
  message: string;
}

export const SUBSCRIPTION_STATES = ['Enabled', 'Warned', 'PastDue', 'Disabled', 'Deleted', 'Expired'] as const;
/** Subscription states in which a subscription is listed but not judged. */
export const UNJUDGED_SUBSCRIPTION_STATES: readonly string[] = ['Disabled', 'Deleted', 'Expired'];

/** A subscription as the tenant lists it. */
export interface SubscriptionInfo {
  subscriptionId: string; // lower-case GUID
  displayName: string;
  state: string;
  tenantId?: string;
  tags?: Record<string, string>;
}

export type VerdictSource = 'resource-graph' | 'security-contacts-api';

/** One element of the report's `subscriptions` array (docs/reference/report.md). */
export interface SubscriptionVerdict {
  subscriptionId: string;
  displayName: string;
  state: string;
  status: SubscriptionStatus;
  source: VerdictSource;
  contact: ContactSummary;
  findings: Finding[];
  /**
   * The merged fix (docs/reference/remediation.md) where the contact was read from the securityContacts API;
   * absent where it was not computed (Resource Graph rows, skipped subscriptions). Never part of
   * the JSON report (§7), which lists exactly its own fields.
   */
  fix?: ContactFix;
}

/**
 * The body of `PUT .../securityContacts/default?api-version=2023-12-01-preview` (docs/reference/remediation.md):
 * the subscription's merged contact in the 2023 shape, changed only where a required rule fails.
 * Unknown members of a notification source are carried over as they were read.
 */
export interface SecurityContactPutBody {
  properties: {
    emails: string;
    phone?: string;
    isEnabled: boolean;
    notificationsByRole: { state: string; roles: string[] };
    notificationsSources: Array<{ sourceType: string; minimalSeverity?: string; minimalRiskLevel?: string; [member: string]: unknown }>;
  };
}

/**
 * What it takes to make a subscription compliant by writing its contact, as the merge of
 * docs/reference/remediation.md decides it (shared by `fix`, `check` and the alert e-mails):
 * - `none`: nothing to write (every rule the policy requires passes);
 * - `put`: the body to write; `placeholderEmails` is true when no valid address would remain and
 *   the policy names no `remediation.emails`, so the body holds the example address
 *   EXAMPLE_SECURITY_TEAM_ADDRESS, which a person must replace before sending it;
 * - `not-fixable`: writing the contact cannot make it compliant (the Microsoft.Security provider
 *   is not registered, so no contact can be written; or a write would change nothing the failing
 *   rules judge), with the reason;
 * - `too-large`: the body exists but is too large to store or show (an oversized contact); the
 *   fix must be computed from a fresh read (`contact-watch fix`).
 */
export type ContactFix =
  | { kind: 'none' }
  /** `changes`: what writing `body` changes, one line each for people (see contact-changes.ts). */
  | { kind: 'put'; body: SecurityContactPutBody; placeholderEmails: boolean; changes: string[] }
  | { kind: 'not-fixable'; reason: string }
  | { kind: 'too-large'; bytes: number };

/**
 * What `contact-watch fix` (and the app, with CONTACT_WATCH_REMEDIATION on) did for one
 * subscription (docs/reference/remediation.md).
 */
export const FIX_RESULTS = ['fixed', 'would-fix', 'unchanged', 'not-fixable', 'failed', 'skipped'] as const;
export type FixResult = (typeof FIX_RESULTS)[number];

/** One element of the fix report's `subscriptions` (docs/reference/remediation.md "Output"). */
export interface FixReportEntry {
  subscriptionId: string;
  displayName: string;
  result: FixResult;
  reason?: string;
  /** The PUT body sent, or that would be sent. */
  body?: SecurityContactPutBody;
}

/** What `contact-watch fix --format json` writes. */
export interface FixReport {
  schemaVersion: 1;
  fix: { dryRun: boolean; startedAt: string; finishedAt: string };
  subscriptions: FixReportEntry[];
}

/**
 * A write of a subscription's security contact by contact-watch, as the record keeps it: when it
 * was sent, who or what sent it, what it changed (for people) and whether the contact read back
 * afterwards was compliant. The history row keeps the body sent as well.
 */
export interface ContactRemediation {
  /** When the PUT was sent (ISO-8601). */
  at: string;
  /** Who or what made it: `fix by alice`, `app on event <id>`, `app after scan <id>`. */
  by: string;
  /**
   * `sent`: recorded right before the PUT, so that no write is ever sent unrecorded; its outcome
   * follows in a later entry (none follows only when the sender stopped before it knew).
   * `fixed` when the contact read back afterwards was compliant; `failed` otherwise.
   */
  outcome: 'sent' | 'fixed' | 'failed';
  /** What the write changed, one line each for people ("added Owner to the notified roles"). */
  changes: string[];
  /** Why it failed: the write's refusal, or what the contact read back still failed. */
  reason?: string;
  /**
   * True when the write failed for a reason that may pass (408, 429 or 5xx after the retries, no
   * answer): worth trying again at the next scan, unlike a refusal such as a 403.
   */
  retryable?: boolean;
}

export type ScanStatus = 'succeeded' | 'partial' | 'failed';

export interface ScanReport {
  schemaVersion: 1;
  scan: { id: string; startedAt: string; finishedAt: string; status: ScanStatus };
  summary: {
    subscriptions: number;
    compliant: number;
    noncompliant: number;
    exempt: number;
    error: number;
    skipped: number;
  };
  subscriptions: SubscriptionVerdict[];
}

/** The policy of docs/reference/policy.md, with every default filled in. */
export interface Policy {
  alerts: { required: boolean; minimalSeverity: AlertSeverity };
  owners: { required: boolean };
  attackPaths: { required: boolean; minimalRiskLevel: AttackPathRiskLevel };
  emails: { allowedDomains: string[] };
  /**
   * What a fix (docs/reference/remediation.md) adds where a contact would be left without a valid address. Each
   * address passes email-configured under this policy; empty when the policy names none.
   */
  remediation: { emails: string[] };
}
