/** How the reports put a scan in words and figures: status labels, the compliance rate, times, a contact's settings. */
import type { ScanReport, SubscriptionStatus, SubscriptionVerdict } from '../core/model.js';

export const STATUS_LABELS: Record<SubscriptionStatus, string> = {
  compliant: 'Compliant',
  noncompliant: 'Non-compliant',
  error: 'Error',
  exempt: 'Exempt',
  skipped: 'Skipped',
};

/**
 * The compliance rate: compliant subscriptions out of the judged ones (compliant, noncompliant
 * and error: an unreadable subscription counts against it). Exempt and skipped subscriptions are
 * left out of both sides. Rounded down, so a rate of 100 % means every judged subscription passes.
 */
export interface ComplianceRate {
  compliant: number;
  judged: number;
  /** Whole percent, rounded down; null when nothing was judged. */
  percent: number | null;
}

export function complianceRate(summary: ScanReport['summary']): ComplianceRate {
  const judged = summary.compliant + summary.noncompliant + summary.error;
  return {
    compliant: summary.compliant,
    judged,
    percent: judged === 0 ? null : Math.floor((summary.compliant * 100) / judged),
  };
}

export function formatPercent(rate: ComplianceRate): string {
  return rate.percent === null ? 'n/a' : `${rate.percent}%`;
}

/** `2025-03-01T10:00:05.123Z` → `2025-03-01 10:00:05 UTC`; text that is not a date is returned as is. */
export function formatUtc(iso: string): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  return `${new Date(time).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** The scan's duration, e.g. `42 s` or `3 min 5 s`; empty when a timestamp cannot be read. */
export function formatDuration(startedAt: string, finishedAt: string): string {
  const ms = Date.parse(finishedAt) - Date.parse(startedAt);
  if (!Number.isFinite(ms) || ms < 0) return '';
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** The contact's alert, role and attack-path settings in words, for tables and summaries. */
export function describeContact(verdict: SubscriptionVerdict): {
  emails: string;
  alerts: string;
  roles: string;
  attackPaths: string;
} {
  const c = verdict.contact;
  return {
    emails: c.emails.length > 0 ? c.emails.join(', ') : 'none',
    alerts: c.alertMinimalSeverity === null ? 'none' : `${c.alertMinimalSeverity} and above`,
    roles: c.notifyRoles.length > 0 ? c.notifyRoles.join(', ') : 'none',
    attackPaths: c.attackPathMinimalRiskLevel === null ? 'none' : `${c.attackPathMinimalRiskLevel} and above`,
  };
}
