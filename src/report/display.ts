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

/** The scan's duration, e.g. `0.3 s`, `42 s` or `3 min 5 s`; empty when a timestamp cannot be read. */
export function formatDuration(startedAt: string, finishedAt: string): string {
  const ms = Date.parse(finishedAt) - Date.parse(startedAt);
  if (!Number.isFinite(ms) || ms < 0) return '';
  // A small scope is scanned in a fraction of a second, which "0 s" would hide.
  if (ms < 1000) return `${(ms / 1000).toFixed(1)} s`;
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

/**
 * Why a contact could not be read, in a few words: the service's full answer runs to some sixty
 * words (a 403 names the client, its object id, the action and the scope), which hides what a
 * reader needs. An HTTP answer becomes its status and code and what they mean for reading a
 * contact, e.g. `403 AuthorizationFailed: the identity cannot read this subscription's security
 * contacts`; anything else its first sentence, cut at a word near SHORT_REASON_MAX characters.
 * A short message comes back as it is; where the result differs, the full message must stay within
 * reach (the page's collapsed "full answer", `check`).
 */
export function shortReason(message: string): string {
  const text = message.trim();
  const answer = HTTP_ANSWER.exec(text);
  if (answer) {
    const status = Number(answer[1]);
    const meaning = httpMeaning(status);
    if (meaning !== undefined) return `${status}${answer[2] ? ` ${answer[2]}` : ''}: ${meaning}`;
  }
  const sentence = /^.*?[.!?](?=\s|$)/s.exec(text)?.[0] ?? text;
  const chars = Array.from(sentence);
  if (chars.length <= SHORT_REASON_MAX) return sentence;
  const head = chars.slice(0, SHORT_REASON_MAX).join('');
  const space = head.lastIndexOf(' ');
  return `${(space > SHORT_REASON_MAX / 2 ? head.slice(0, space) : head).replace(/[\s,;:(]+$/, '')}…`;
}

const SHORT_REASON_MAX = 110;

/** `403 AuthorizationFailed: …` as the adapters describe an answer (arm-http.ts), optionally after "… answered". */
const HTTP_ANSWER = /^(?:[^:]{0,60}?\banswered\s+)?([1-5]\d\d)(?:\s+([A-Z][\w.]*))?(?=$|[\s:(])/;

function httpMeaning(status: number): string | undefined {
  if (status === 401) return "the identity's token was not accepted";
  if (status === 403) return "the identity cannot read this subscription's security contacts";
  if (status === 404) return 'the subscription or its security contacts were not found';
  if (status === 429) return 'Azure kept throttling the requests, even after retries';
  if (status === 408 || status >= 500) return 'the service kept failing, even after retries';
  return undefined;
}
