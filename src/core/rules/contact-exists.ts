import type { Rule } from './rule.js';
import { AZURE_POLICY_SECURITY_CONTACT_EMAIL, CIS_ADDITIONAL_EMAIL_ADDRESSES, MCSB_INCIDENT_RESPONSE, fail, pass } from './outcomes.js';
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

const POLICY = AZURE_POLICY_SECURITY_CONTACT_EMAIL.definitionId;

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
    frameworks: [
      control(
        'NIST SP 800-53 Rev. 5',
        'IR-4',
        'Handling an incident Defender for Cloud detects starts with Microsoft reaching someone; a subscription without a contact reaches nobody.',
        initiativeSource(NIST_SP_800_53_R5_INITIATIVE, POLICY, 'NIST_SP_800-53_R5_IR-4'),
      ),
      control(
        'NIST SP 800-53 Rev. 5',
        'IR-6',
        'The contact is where Defender for Cloud and Microsoft report suspected incidents in the subscription; without one they have nowhere to report them.',
        initiativeSource(NIST_SP_800_53_R5_1_1_INITIATIVE, POLICY, 'NIST_SP_800-53_R5.1.1_IR.6'),
      ),
      control(
        'NIST SP 800-53 Rev. 5',
        'IR-6(2)',
        "Defender for Cloud's reports of an incident, and of the weaknesses it exploited, need a contact to be sent to.",
        initiativeSource(NIST_SP_800_53_R5_INITIATIVE, POLICY, 'NIST_SP_800-53_R5_IR-6(2)'),
      ),
      control(
        'NIST SP 800-53 Rev. 5',
        'SI-4(12)',
        "Defender for Cloud's automated alerts are e-mailed to the people the contact names; with no contact they alert no one.",
        initiativeSource(NIST_SP_800_53_R5_INITIATIVE, POLICY, 'NIST_SP_800-53_R5_SI-4(12)'),
      ),
      control(
        'ISO/IEC 27001:2022',
        'A.5.24',
        'Creating the contact establishes, in Azure, who is told of the incidents Microsoft detects in the subscription.',
        initiativeSource(ISO_IEC_27002_2022_INITIATIVE, POLICY, 'ISO_IEC_27002_2022_5.24', ISO_27002_NUMBERING),
      ),
      control(
        'ISO/IEC 27001:2022',
        'A.5.26',
        'The response to an incident Microsoft detects starts when its notification reaches a responder, which takes a contact.',
        initiativeSource(ISO_IEC_27002_2022_INITIATIVE, POLICY, 'ISO_IEC_27002_2022_5.26', ISO_27002_NUMBERING),
      ),
      control(
        'PCI DSS 4.0',
        '12.10.1',
        "The contact is the Azure part of the plan's communication and contact strategies for a suspected or confirmed incident.",
        initiativeSource(PCI_DSS_4_0_1_INITIATIVE, POLICY, 'PCI_DSS_v4.0.1_12.10.1', PCI_DSS_4_0_1_NUMBERING),
      ),
      control(
        'SOC 2',
        'CC7.3',
        'Security events Defender for Cloud detects in the subscription reach the people who evaluate them only through a contact.',
        initiativeSource(SOC_2023_INITIATIVE, POLICY, 'SOC_2023_CC7.3'),
      ),
      control(
        'SOC 2',
        'CC7.4',
        'Communicating an incident Microsoft identifies in the subscription to the response team needs a contact to reach.',
        initiativeSource(SOC_2_TYPE_2_INITIATIVE, POLICY, 'SOC_2_CC7.4'),
      ),
    ],
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
