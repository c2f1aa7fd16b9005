/** The verdict for one subscription's contact: all five findings and whether it is compliant. */
import { RULE_IDS, type ContactSummary, type Finding, type Policy, type SubscriptionContact } from './model.js';
import { RULES } from './rules/index.js';
import { summariseContact } from './normalise.js';

/** The summary of a subscription whose contact was not read or does not exist. */
export const EMPTY_CONTACT_SUMMARY: ContactSummary = Object.freeze({
  emails: Object.freeze([]) as unknown as string[],
  alertMinimalSeverity: null,
  notifyRoles: Object.freeze([]) as unknown as string[],
  attackPathMinimalRiskLevel: null,
  shape: 'none',
});

/**
 * Judges a contact that was read. Findings cover all five rules in contract order; the contact is
 * `compliant` only when every rule the policy requires passes (contact-exists and email-configured
 * are always required). A rule the policy does not require is reported but never decides.
 */
export function evaluateContact(
  contact: SubscriptionContact,
  policy: Policy,
): { status: 'compliant' | 'noncompliant'; findings: Finding[]; contact: ContactSummary } {
  const findings: Finding[] = [];
  let compliant = true;
  for (const rule of RULES) {
    const outcome = rule.evaluate(contact, policy);
    findings.push({ ruleId: rule.id, result: outcome.result, message: outcome.message });
    if (outcome.result !== 'pass' && rule.isRequired(policy)) compliant = false;
  }
  return { status: compliant ? 'compliant' : 'noncompliant', findings, contact: summariseContact(contact) };
}

/** The findings of a subscription whose contact could not be read: every rule `error`, with the reason. */
export function unreadableFindings(message: string): Finding[] {
  return RULE_IDS.map((ruleId) => ({ ruleId, result: 'error' as const, message }));
}
