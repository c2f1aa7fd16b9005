/**
 * A verdict's failing findings condensed for people: which fail, which rules' remediation fixes
 * the subscription, and findings with one message grouped into one line.
 */
import type { Finding, RuleId, SubscriptionStatus, SubscriptionVerdict } from '../core/model.js';
import { findingsInRuleOrder } from './triage-order.js';

export function isFailingStatus(status: SubscriptionStatus): boolean {
  return status === 'noncompliant' || status === 'error';
}

/** Findings that did not pass, in rule order. */
export function failingFindings(verdict: Pick<SubscriptionVerdict, 'findings'>): Finding[] {
  return findingsInRuleOrder(verdict.findings.filter((finding) => finding.result !== 'pass'));
}

/**
 * The rules whose remediation fixes this subscription: its `fail` findings, except that a
 * missing contact (contact-exists fails, so every rule fails) is fixed by creating the contact.
 */
export function rulesToFix(verdict: Pick<SubscriptionVerdict, 'findings'>): RuleId[] {
  const failed = failingFindings(verdict).filter((finding) => finding.result === 'fail');
  if (failed.some((finding) => finding.ruleId === 'contact-exists')) return ['contact-exists'];
  return failed.map((finding) => finding.ruleId);
}

/**
 * How many of these subscriptions fail each rule, by rule id, counted the way they are fixed (see
 * rulesToFix): a subscription without a contact fails every rule but counts once, under
 * contact-exists. Only subscriptions whose contact was read and judged count: non-compliant ones,
 * and compliant ones failing a rule the policy does not require; exempt, skipped and unreadable
 * ones do not. The report page's "Rules" and "How to fix" both give this number.
 */
export function fixCounts(verdicts: readonly SubscriptionVerdict[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const verdict of verdicts) {
    if (verdict.status !== 'noncompliant' && verdict.status !== 'compliant') continue;
    for (const ruleId of rulesToFix(verdict)) counts.set(ruleId, (counts.get(ruleId) ?? 0) + 1);
  }
  return counts;
}

/**
 * Failing findings grouped by result and message, in rule order of first appearance. An
 * unreadable subscription (five `error` findings with one message) or a missing contact (every
 * rule failing with "no security contact") then reads as one line instead of five.
 */
export interface FailureGroup {
  result: 'fail' | 'error';
  ruleIds: RuleId[];
  message: string;
}

export function groupedFailures(verdict: Pick<SubscriptionVerdict, 'findings'>): FailureGroup[] {
  const groups: FailureGroup[] = [];
  for (const finding of failingFindings(verdict)) {
    const result = finding.result === 'error' ? 'error' : 'fail';
    const group = groups.find((g) => g.result === result && g.message === finding.message);
    if (group) group.ruleIds.push(finding.ruleId);
    else groups.push({ result, ruleIds: [finding.ruleId], message: finding.message });
  }
  return groups;
}
