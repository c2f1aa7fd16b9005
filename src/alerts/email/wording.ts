/** What the alert e-mails say about a subscription and a set of them, the same in both bodies. */
import { describeDuration, type OwedAlert } from '../../core/alerts.js';
import type { ContactRemediation, RuleId } from '../../core/model.js';
import { failingFindings, groupedFailures, rulesToFix, type FailureGroup } from '../../report/findings.js';
import { fixSummary } from './fix-instructions.js';
import { inert, MESSAGE_MAX, NAME_MAX } from './safe-text.js';

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
  if (alert.kind === 'repaired') return 'compliant';
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
    case 'repaired':
      return 'Repaired automatically: compliant now';
  }
}

/** A notice that needs nothing done (a fixed or a repaired subscription), as opposed to an alert or a reminder. */
export function isNotice(alert: OwedAlert): boolean {
  return alert.kind === 'fixed' || alert.kind === 'repaired';
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

/** A moment as the messages write it, `2025-03-07 12:00:00Z`; `an unknown time` when it is not a date. */
export function utcText(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms)
    ? 'an unknown time'
    : new Date(ms)
        .toISOString()
        .replace(/\.\d{3}Z$/, 'Z')
        .replace('T', ' ');
}

export function sinceText(alert: OwedAlert, now: Date): string {
  return `${describeDuration(alert.since, now)} (since ${utcText(alert.since)})`;
}

/** The most changes a message lists for one repair; a write changes a handful of settings. */
const CHANGES_MAX = 20;

/**
 * A write of the contact by contact-watch in words, made inert: when, by whom or what, and what it
 * changed (the lines quote addresses the contact held, so they are treated as text from Azure).
 */
export interface RepairWords {
  when: string;
  by: string;
  changes: string[];
}

export function repairWords(repair: ContactRemediation): RepairWords {
  const changes = repair.changes.slice(0, CHANGES_MAX).map((change) => inert(change, MESSAGE_MAX));
  if (repair.changes.length > CHANGES_MAX) changes.push(`… and ${repair.changes.length - CHANGES_MAX} more`);
  return {
    when: utcText(repair.at),
    by: inert(repair.by, NAME_MAX) || 'contact-watch',
    changes: changes.length > 0 ? changes : ['(what was changed was not recorded)'],
  };
}

/** The line an alert or reminder adds when contact-watch tried to repair the subscription during this spell and could not. */
export function failedRepairText(repair: ContactRemediation): string {
  const reason = repair.reason ? inert(repair.reason, MESSAGE_MAX) : '';
  return `contact-watch tried to repair it automatically at ${utcText(repair.at)} and could not${reason ? `: ${reason}` : '.'}`;
}

/** What the digest's repaired section says once, above its list. */
export const REPAIRED_SECTION_NOTE =
  "contact-watch wrote these subscriptions' security contacts itself, changing only what failed the policy, and read each back compliant. Nothing needs to be done.";

/** What is wrong in one line: the reason it could not be read, the missing contact, or the failed rules. */
export function whatFails(alert: OwedAlert): string {
  if (alert.kind === 'fixed') return 'every required rule passes';
  if (alert.kind === 'repaired') return `repaired automatically${alert.repair ? `: ${alert.repair.changes.join('; ')}` : ''}`;
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

/** A digest's subscriptions by what is said of them; a repaired one is never counted as failing. */
export interface Counts {
  noncompliant: number;
  unreadable: number;
  fixed: number;
  repaired: number;
}

export function countStatuses(alerts: readonly OwedAlert[]): Counts {
  const counts: Counts = { noncompliant: 0, unreadable: 0, fixed: 0, repaired: 0 };
  for (const alert of alerts) {
    if (alert.kind === 'fixed') counts.fixed += 1;
    else if (alert.kind === 'repaired') counts.repaired += 1;
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
  const repaired = count('repaired');
  if (fresh) parts.push(`${fresh} new`);
  if (reminders) parts.push(`${reminders} ${plural(reminders, 'reminder', 'reminders')}`);
  if (fixed) parts.push(`${fixed} fixed`);
  if (repaired) parts.push(`${repaired} repaired automatically`);
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
  if (counts.repaired > 0) {
    sentences.push(
      `contact-watch repaired the security contact of ${counts.repaired} ${plural(counts.repaired, 'subscription', 'subscriptions')} automatically; nothing needs to be done about ${plural(counts.repaired, 'it', 'them')}.`,
    );
  }
  return sentences.join(' ');
}

export function singleIntro(alert: OwedAlert): string {
  if (alert.kind === 'fixed') return 'This subscription has a valid security contact again.';
  if (alert.kind === 'repaired') {
    return "contact-watch repaired this subscription's Microsoft Defender for Cloud security contact automatically: it changed only what failed the policy, and the contact read back afterwards is compliant. Nothing needs to be done.";
  }
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
    counts.repaired > 0 ? `${counts.repaired} repaired automatically` : '',
  ].filter(Boolean);
  return {
    sentence: `… and ${rest.length} more ${plural(rest.length, 'subscription', 'subscriptions')} (${kinds.join(', ')}), not listed to keep this message small enough for mail clients.`,
    where: reportUrl
      ? 'The report lists every one:'
      : "The contact-watch report lists every one (the app's /api/report page, or `contact-watch scan --format html`).",
  };
}
