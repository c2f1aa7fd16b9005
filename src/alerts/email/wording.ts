/** What the alert e-mails say about a subscription and a set of them, the same in both bodies. */
import { describeDuration, type OwedAlert } from '../../core/alerts.js';
import type { RuleId } from '../../core/model.js';
import { failingFindings, groupedFailures, rulesToFix, type FailureGroup } from '../../report/findings.js';
import { fixSummary } from './fix-instructions.js';

export const PRODUCT = 'contact-watch';

export const RULE_TITLES: Record<RuleId, string> = {
  'contact-exists': 'Security contact exists',
  'email-configured': 'E-mail addresses configured',
  'alert-notifications': 'Alert e-mails on',
  'owner-notifications': 'E-mails to subscription owners',
  'attack-path-notifications': 'Attack path e-mails on',
};

/** The status in words, as the digest's rows and sections say it. */
export function statusWords(alert: OwedAlert): string {
  if (alert.kind === 'fixed') return 'compliant again';
  return alert.status === 'error' ? 'could not be read' : 'non-compliant';
}

export function headline(alert: OwedAlert): string {
  switch (alert.kind) {
    case 'alert':
      return alert.status === 'error' ? 'Security contact could not be read' : 'Security contact missing or incomplete';
    case 'reminder':
      return alert.status === 'error' ? 'Reminder: security contact still could not be read' : 'Reminder: still non-compliant';
    case 'fixed':
      return 'Fixed: compliant again';
  }
}

/**
 * Why a subscription could not be read, once: every rule carries the same answer of the service
 * (a 403, say), so its distinct messages are the reason.
 */
export function unreadableReasons(alert: OwedAlert): string[] {
  const messages = [...new Set(alert.findings.filter((finding) => finding.result !== 'pass').map((finding) => finding.message))];
  return messages.length > 0 ? messages : ['The security contact could not be read.'];
}

/**
 * The failed rules of a non-compliant subscription as the report groups them: rules failing with
 * the same message are one line (without a contact, four rules fail with "no security contact"),
 * and a rule's fix text is shown where fixing that rule is the fix (see rulesToFix).
 */
export function failedRules(alert: OwedAlert): Array<FailureGroup & { fixTexts: string[] }> {
  const toFix = new Set<string>(rulesToFix(alert));
  const groups = groupedFailures(alert).map((group) => ({
    ...group,
    fixTexts: group.result === 'fail' ? [...new Set(group.ruleIds.filter((id) => toFix.has(id)).map(fixSummary))] : [],
  }));
  return groups.length > 0 ? groups : [{ ruleIds: ['contact-exists'], result: 'error', message: 'No finding was recorded.', fixTexts: [] }];
}

export function sinceText(alert: OwedAlert, now: Date): string {
  const since = Date.parse(alert.since);
  const when = Number.isNaN(since)
    ? 'an unknown time'
    : new Date(since)
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z')
        .replace('T', ' ');
  return `${describeDuration(alert.since, now)} (since ${when})`;
}

/** What is wrong in one line: the reason it could not be read, the missing contact, or the failed rules. */
export function whatFails(alert: OwedAlert): string {
  if (alert.kind === 'fixed') return 'every required rule passes';
  if (alert.status === 'error') return `reason: ${unreadableReasons(alert).join(' ')}`;
  const failing = failingFindings(alert);
  const missing = failing.find((finding) => finding.ruleId === 'contact-exists' && finding.result === 'fail');
  if (missing) return `contact-exists: ${missing.message}`;
  if (failing.length === 0) return 'no finding was recorded';
  return `failed: ${failing.map((finding) => (finding.result === 'error' ? `${finding.ruleId} (could not be evaluated)` : finding.ruleId)).join(', ')}`;
}

export function rowStatus(alert: OwedAlert): string {
  return `${statusWords(alert)}${alert.kind === 'reminder' ? ' (reminder)' : ''}`;
}

export interface Counts {
  noncompliant: number;
  unreadable: number;
  fixed: number;
}

export function countStatuses(alerts: readonly OwedAlert[]): Counts {
  const counts: Counts = { noncompliant: 0, unreadable: 0, fixed: 0 };
  for (const alert of alerts) {
    if (alert.kind === 'fixed') counts.fixed += 1;
    else if (alert.status === 'error') counts.unreadable += 1;
    else counts.noncompliant += 1;
  }
  return counts;
}

export const plural = (count: number, one: string, many: string) => (count === 1 ? one : many);

export function countWords(alerts: readonly OwedAlert[]): string {
  const count = (kind: OwedAlert['kind']) => alerts.filter((alert) => alert.kind === kind).length;
  const parts: string[] = [];
  const fresh = count('alert');
  const reminders = count('reminder');
  const fixed = count('fixed');
  if (fresh) parts.push(`${fresh} new`);
  if (reminders) parts.push(`${reminders} ${plural(reminders, 'reminder', 'reminders')}`);
  if (fixed) parts.push(`${fixed} fixed`);
  return parts.join(', ');
}

/** What the subscriptions have in common, in a sentence per status. */
export function digestIntro(counts: Counts): string {
  const sentences: string[] = [];
  if (counts.noncompliant > 0) {
    sentences.push(
      `${counts.noncompliant} ${plural(counts.noncompliant, 'subscription lacks', 'subscriptions lack')} a valid Microsoft Defender for Cloud security contact, so security alerts for ${plural(counts.noncompliant, 'it', 'them')} may reach no one.`,
    );
  }
  if (counts.unreadable > 0) {
    sentences.push(
      `${counts.unreadable} ${plural(counts.unreadable, 'subscription', 'subscriptions')} could not be read, so contact-watch cannot tell whether ${plural(counts.unreadable, 'it has', 'they have')} one.`,
    );
  }
  if (counts.fixed > 0) {
    sentences.push(`${counts.fixed} ${plural(counts.fixed, 'subscription has', 'subscriptions have')} a valid security contact again.`);
  }
  return sentences.join(' ');
}

export function singleIntro(alert: OwedAlert): string {
  if (alert.kind === 'fixed') return 'This subscription has a valid security contact again.';
  return alert.status === 'error'
    ? "contact-watch could not read this subscription's Microsoft Defender for Cloud security contact, so it cannot tell whether security alerts reach anyone."
    : 'This subscription lacks a valid Microsoft Defender for Cloud security contact, so its security alerts may reach no one.';
}

/** The subscriptions a digest counts without listing them, and where they are listed. */
export function remainderWords(rest: readonly OwedAlert[], reportUrl: string | undefined): { sentence: string; where: string } {
  const counts = countStatuses(rest);
  const kinds = [
    counts.noncompliant > 0 ? `${counts.noncompliant} without a valid security contact` : '',
    counts.unreadable > 0 ? `${counts.unreadable} could not be read` : '',
    counts.fixed > 0 ? `${counts.fixed} fixed` : '',
  ].filter(Boolean);
  return {
    sentence: `… and ${rest.length} more ${plural(rest.length, 'subscription', 'subscriptions')} (${kinds.join(', ')}), not listed to keep this message small enough for mail clients.`,
    where: reportUrl
      ? 'The report lists every one:'
      : "The contact-watch report lists every one (the app's /api/report page, or `contact-watch scan --format html`).",
  };
}
