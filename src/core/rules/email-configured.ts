import type { Rule } from './rule.js';
import {
  AZURE_POLICY_SECURITY_CONTACT_EMAIL,
  CIS_ADDITIONAL_EMAIL_ADDRESSES,
  MCSB_INCIDENT_RESPONSE,
  fail,
  failWithoutContact,
  pass,
} from './outcomes.js';
import { securityContactRemediation } from './remediation.js';
import { mergedEmailAddresses } from '../normalise.js';
import { findEmailAddressProblem, type EmailAddressProblem } from '../email-addresses.js';

function quoteAll(addresses: readonly string[]): string {
  return addresses.map((address) => JSON.stringify(address)).join(', ');
}

/**
 * At least one address; every address syntactically valid, not on a placeholder domain and, when
 * the policy names allowed domains, within one of them. Addresses of all contacts are judged together.
 */
export const emailConfiguredRule: Rule = {
  id: 'email-configured',
  title: "The security contact has real e-mail addresses of the organisation's security team",
  rationale:
    'Security alerts are only useful if they reach people who act on them. An empty, mistyped or sample address ' +
    '(example.com, contoso.com) silently drops every alert, and an address outside the organisation sends them to a stranger.',
  references: {
    cis: CIS_ADDITIONAL_EMAIL_ADDRESSES,
    mcsb: MCSB_INCIDENT_RESPONSE,
    azurePolicy: [AZURE_POLICY_SECURITY_CONTACT_EMAIL],
    frameworks: [],
  },
  remediation: securityContactRemediation('emails'),
  isRequired: () => true,
  evaluate(contact, policy) {
    const missing = failWithoutContact(contact);
    if (missing) return missing;
    const addresses = mergedEmailAddresses(contact);
    if (addresses.length === 0) return fail('No e-mail address is set on the security contact.');
    const { allowedDomains } = policy.emails;
    const byProblem = new Map<EmailAddressProblem, string[]>();
    for (const address of addresses) {
      const problem = findEmailAddressProblem(address, allowedDomains);
      if (problem !== null) byProblem.set(problem, [...(byProblem.get(problem) ?? []), address]);
    }
    const sentences: string[] = [];
    const invalid = byProblem.get('invalid-syntax');
    if (invalid) sentences.push(`Not a valid e-mail address: ${quoteAll(invalid)}.`);
    const placeholder = byProblem.get('placeholder-domain');
    if (placeholder) sentences.push(`On a placeholder domain that reaches no security team: ${quoteAll(placeholder)}.`);
    const outside = byProblem.get('domain-not-allowed');
    if (outside) sentences.push(`Outside the allowed domains (${allowedDomains.join(', ')}): ${quoteAll(outside)}.`);
    if (sentences.length > 0) return fail(sentences.join(' '));
    return pass(`Security alerts are e-mailed to ${addresses.join(', ')}.`);
  },
};
