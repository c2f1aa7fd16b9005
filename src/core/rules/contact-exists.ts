import type { Rule } from './rule.js';
import { AZURE_POLICY_SECURITY_CONTACT_EMAIL, CIS_ADDITIONAL_EMAIL_ADDRESSES, MCSB_INCIDENT_RESPONSE, fail, pass } from './outcomes.js';
import { securityContactRemediation } from './remediation.js';

/** The subscription's securityContacts list holds at least one contact. */
export const contactExistsRule: Rule = {
  id: 'contact-exists',
  title: 'A Defender for Cloud security contact is set',
  rationale:
    'Microsoft e-mails the security contact when Defender for Cloud detects a threat or Microsoft finds the subscription ' +
    'compromised. Without a contact nobody outside the subscription owners hears of it, and a new or neglected ' +
    'subscription may have no owner who reads that mail.',
  references: {
    cis: CIS_ADDITIONAL_EMAIL_ADDRESSES,
    mcsb: MCSB_INCIDENT_RESPONSE,
    azurePolicy: [AZURE_POLICY_SECURITY_CONTACT_EMAIL],
    frameworks: [],
  },
  remediation: securityContactRemediation('contact'),
  isRequired: () => true,
  evaluate(contact) {
    const names = contact.entries.map((entry) => JSON.stringify(entry.name));
    if (names.length === 1) return pass(`Security contact ${names[0]} is set.`);
    if (names.length > 1) return pass(`${names.length} security contacts are set: ${names.join(', ')}.`);
    if (contact.absentReason !== undefined) {
      return fail(`No security contact can exist: ${contact.absentReason.trim().replace(/\.+$/, '')}.`);
    }
    return fail('No security contact is set on this subscription.');
  },
};
