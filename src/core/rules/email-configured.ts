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
import {
  ISO_27002_NUMBERING,
  ISO_IEC_27002_2022_INITIATIVE,
  NIST_SP_800_53_R5_1_1_INITIATIVE,
  NIST_SP_800_53_R5_INITIATIVE,
  PCI_DSS_4_0_1_INITIATIVE,
  PCI_DSS_4_0_1_NUMBERING,
  SOC_2023_INITIATIVE,
  SOC_2_TYPE_2_INITIATIVE,
  control,
  initiativeSource,
} from './frameworks.js';
import { mergedEmailAddresses } from '../normalise.js';
import { findEmailAddressProblem, type EmailAddressProblem } from '../email-addresses.js';

const POLICY = AZURE_POLICY_SECURITY_CONTACT_EMAIL.definitionId;

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
    frameworks: [
      control(
        'NIST SP 800-53 Rev. 5',
        'IR-4',
        "Incident handling starts only if Microsoft's notice reaches the security team, not a sample, mistyped or outside address.",
        initiativeSource(NIST_SP_800_53_R5_INITIATIVE, POLICY, 'NIST_SP_800-53_R5_IR-4'),
      ),
      control(
        'NIST SP 800-53 Rev. 5',
        'IR-6',
        'Suspected incidents are reported to the incident response capability only at real addresses of the security team.',
        initiativeSource(NIST_SP_800_53_R5_1_1_INITIATIVE, POLICY, 'NIST_SP_800-53_R5.1.1_IR.6'),
      ),
      control(
        'NIST SP 800-53 Rev. 5',
        'IR-6(2)',
        'Reports of incidents and of the weaknesses behind them reach the designated people only at valid addresses in their domains.',
        initiativeSource(NIST_SP_800_53_R5_INITIATIVE, POLICY, 'NIST_SP_800-53_R5_IR-6(2)'),
      ),
      control(
        'NIST SP 800-53 Rev. 5',
        'SI-4(12)',
        "Automated alerts reach the organisation's chosen personnel only when the contact's addresses are that team's own.",
        initiativeSource(NIST_SP_800_53_R5_INITIATIVE, POLICY, 'NIST_SP_800-53_R5_SI-4(12)'),
      ),
      control(
        'ISO/IEC 27001:2022',
        'A.5.24',
        'Real addresses within the organisation make the contact a working channel to the people with incident management roles.',
        initiativeSource(ISO_IEC_27002_2022_INITIATIVE, POLICY, 'ISO_IEC_27002_2022_5.24', ISO_27002_NUMBERING),
      ),
      control(
        'ISO/IEC 27001:2022',
        'A.5.26',
        'A placeholder, mistyped or outside address silently drops the notification that would start the response.',
        initiativeSource(ISO_IEC_27002_2022_INITIATIVE, POLICY, 'ISO_IEC_27002_2022_5.26', ISO_27002_NUMBERING),
      ),
      control(
        'PCI DSS 4.0',
        '12.10.1',
        "The plan's contact strategy holds in Azure only if the addresses Microsoft writes to are valid and the organisation's.",
        initiativeSource(PCI_DSS_4_0_1_INITIATIVE, POLICY, 'PCI_DSS_v4.0.1_12.10.1', PCI_DSS_4_0_1_NUMBERING),
      ),
      control(
        'SOC 2',
        'CC7.3',
        'Security events are evaluated only by people who receive them: at valid addresses of the security team.',
        initiativeSource(SOC_2023_INITIATIVE, POLICY, 'SOC_2023_CC7.3'),
      ),
      control(
        'SOC 2',
        'CC7.4',
        'An identified incident can be communicated to the response team only through addresses that reach it.',
        initiativeSource(SOC_2_TYPE_2_INITIATIVE, POLICY, 'SOC_2_CC7.4'),
      ),
    ],
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
