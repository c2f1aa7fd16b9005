/**
 * Which alerts are owed (docs/reference/alerts.md). Pure: the records and the clock come in, the owed
 * alerts come out; nothing here knows about e-mail or storage.
 */
import type { ContactFix, ContactRemediation, Finding } from './model.js';
import type { SubscriptionRecord } from './state-model.js';

/**
 * - `alert`: the subscription entered `noncompliant` or `error` and has not been alerted on since.
 * - `reminder`: it is still so and its last alert is older than the reminder interval.
 * - `fixed`: an optional notice that a subscription alerted on before is compliant now.
 * - `repaired`: contact-watch wrote the subscription's contact itself and it is compliant now
 *   (docs/reference/remediation.md). It reports a write already made, so it is owed whatever the notice and grace
 *   settings, and it stands in for a `fixed` notice about the same return to compliance.
 */
export type AlertKind = 'alert' | 'reminder' | 'fixed' | 'repaired';

export interface AlertSettings {
  /** Days between reminders while a subscription stays non-compliant; 0 = never (CONTACT_WATCH_REMINDER_DAYS). */
  reminderDays: number;
  /** Send a notice when a subscription that was alerted on becomes compliant. */
  fixedNotices: boolean;
  /** How long a newly seen subscription may lack a contact before it is alerted on (CONTACT_WATCH_NEW_SUBSCRIPTION_GRACE_MINUTES). */
  newSubscriptionGraceMinutes: number;
}

export const DEFAULT_ALERT_SETTINGS: AlertSettings = {
  reminderDays: 7,
  fixedNotices: false,
  newSubscriptionGraceMinutes: 0,
};

/**
 * One alert that is owed, with everything a message needs to describe it (it is stored as is in
 * the outbox, so a message can be composed again from it after a crash).
 */
export interface OwedAlert {
  /**
   * Names this occurrence of the alert. The same record state always gives the same key, and
   * recording the alert on the record (lastAlertedAt) moves on to a new key; the outbox uses it
   * as a row key so the same occurrence can never be queued twice.
   */
  key: string;
  kind: AlertKind;
  subscriptionId: string;
  displayName: string;
  status: 'noncompliant' | 'error' | 'compliant';
  /** Since when the subscription has been so (ISO-8601). */
  since: string;
  /** The findings that did not pass (empty for `fixed`). */
  findings: Finding[];
  /**
   * The merged fix (docs/reference/remediation.md) from the subscription's last reading: the exact PUT body that
   * changes only what fails, so a suggested command never wipes a contact. Absent when unknown.
   */
  fix?: ContactFix;
  /**
   * contact-watch's write of the contact: for `repaired`, the write that repaired it; for `alert`
   * and `reminder`, a write tried during the current bad spell that failed (so the message can
   * say it was tried, and why it did not work). Absent otherwise.
   */
  repair?: ContactRemediation;
}

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** Epoch milliseconds of an ISO timestamp, or null when it is absent or not a date. */
function instant(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

/** The occurrence key of an alert: `<subscriptionId>|<kind>|<status>|<basis timestamp>`. */
export function alertKey(subscriptionId: string, kind: AlertKind, status: string, basis: string): string {
  return `${subscriptionId}|${kind}|${status}|${basis}`;
}

/**
 * The alert owed for one record at `now`, or null.
 *
 * Occurrence keys: an `alert` (and a `fixed` notice) is anchored to `statusSince`, the moment the
 * record entered its status; a `reminder` is anchored to `lastAlertedAt`, the alert it follows; a
 * `repaired` notice to the time of the write it reports (`lastRemediation.at`).
 */
export function owedAlertFor(record: SubscriptionRecord, now: Date, settings: AlertSettings = DEFAULT_ALERT_SETTINGS): OwedAlert | null {
  const nowMs = now.getTime();
  const statusSince = instant(record.statusSince);
  const lastAlerted = instant(record.lastAlertedAt);
  const alertedInThisStatus = lastAlerted !== null && statusSince !== null && lastAlerted >= statusSince;
  const repair = record.lastRemediation ?? null;
  const repairedAt = instant(repair?.at);

  if (record.status === 'noncompliant' || record.status === 'error') {
    if (record.status === 'noncompliant' && settings.newSubscriptionGraceMinutes > 0) {
      const firstSeen = instant(record.firstSeenAt);
      if (firstSeen !== null && nowMs - firstSeen < settings.newSubscriptionGraceMinutes * MINUTE_MS) return null;
    }
    const since = record.noncompliantSince ?? record.statusSince;
    const badSince = instant(since);
    // A repair that failed during this bad spell is part of what the alert has to say; one from
    // an earlier spell is not about the present problem.
    const failedRepair = repair?.outcome === 'failed' && repairedAt !== null && badSince !== null && repairedAt >= badSince;
    const base = {
      subscriptionId: record.subscriptionId,
      displayName: record.displayName,
      status: record.status,
      since,
      findings: record.findings.filter((finding) => finding.result !== 'pass'),
      ...(record.fix ? { fix: record.fix } : {}),
      ...(failedRepair ? { repair } : {}),
    };
    if (!alertedInThisStatus) {
      return { key: alertKey(record.subscriptionId, 'alert', record.status, record.statusSince), kind: 'alert', ...base };
    }
    if (settings.reminderDays > 0 && lastAlerted !== null && nowMs - lastAlerted >= settings.reminderDays * DAY_MS) {
      return {
        key: alertKey(record.subscriptionId, 'reminder', record.status, record.lastAlertedAt as string),
        kind: 'reminder',
        ...base,
      };
    }
    return null;
  }

  // A repaired notice is owed once for a write by contact-watch that left the subscription
  // compliant: the write came before the reading that began this compliant spell (the store
  // stamps the status when it records that reading, after the write), and no alert followed it.
  // It takes the place of the fixed notice for that return to compliance: marking it alerted
  // (after the reading was recorded, so after statusSince) leaves no fixed notice owed.
  if (
    record.status === 'compliant' &&
    repair?.outcome === 'fixed' &&
    repairedAt !== null &&
    statusSince !== null &&
    statusSince >= repairedAt &&
    (lastAlerted === null || lastAlerted < repairedAt)
  ) {
    return {
      key: alertKey(record.subscriptionId, 'repaired', record.status, repair.at),
      kind: 'repaired',
      subscriptionId: record.subscriptionId,
      displayName: record.displayName,
      status: 'compliant',
      since: record.statusSince,
      findings: [],
      repair,
    };
  }

  // A fixed notice is owed once when a subscription we alerted on (before it became compliant)
  // is compliant now. Exempt, skipped and gone subscriptions are owed nothing.
  if (record.status === 'compliant' && settings.fixedNotices && lastAlerted !== null && !alertedInThisStatus) {
    return {
      key: alertKey(record.subscriptionId, 'fixed', record.status, record.statusSince),
      kind: 'fixed',
      subscriptionId: record.subscriptionId,
      displayName: record.displayName,
      status: 'compliant',
      since: record.statusSince,
      findings: [],
    };
  }
  return null;
}

/** Every alert owed at `now`, sorted by subscription id. */
export function owedAlerts(
  records: Iterable<SubscriptionRecord>,
  now: Date,
  settings: AlertSettings = DEFAULT_ALERT_SETTINGS,
): OwedAlert[] {
  const owed: OwedAlert[] = [];
  for (const record of records) {
    const alert = owedAlertFor(record, now, settings);
    if (alert) owed.push(alert);
  }
  return owed.sort((a, b) => (a.subscriptionId < b.subscriptionId ? -1 : a.subscriptionId > b.subscriptionId ? 1 : 0));
}

/** "3 days", "5 hours", "less than a minute": how long something has been so. */
export function describeDuration(sinceIso: string, now: Date): string {
  const since = instant(sinceIso);
  if (since === null) return 'an unknown time';
  const ms = Math.max(0, now.getTime() - since);
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (ms >= DAY_MS) return plural(Math.floor(ms / DAY_MS), 'day');
  if (ms >= 3_600_000) return plural(Math.floor(ms / 3_600_000), 'hour');
  if (ms >= MINUTE_MS) return plural(Math.floor(ms / MINUTE_MS), 'minute');
  return 'less than a minute';
}
