/**
 * Where the rules' controls in other frameworks (NIST SP 800-53 Rev. 5, ISO/IEC 27001:2022 Annex A,
 * PCI DSS 4.0, SOC 2) come from. Each mapping names its source exactly: Microsoft's Azure Policy
 * regulatory-compliance initiatives (the public repository Azure/azure-policy,
 * built-in-policies/policySetDefinitions/Regulatory Compliance/), which map the built-in policies
 * our rules correspond to onto controls, or Prowler's compliance mapping of the CIS checks
 * (prowler-cloud/prowler, prowler/compliance/azure/). A control a source maps is kept only when
 * its own text is about being prepared for, told of, or responding to security incidents; the
 * others those initiatives attach to the same policies (logging, protection of audit records,
 * recovery, incident tracking, policy documents) are left out, as is a control the rule does not
 * serve. docs/reference/rules.md ("Other frameworks") says which were left out and why.
 */
import type { ControlFramework, FrameworkReference } from './rule.js';

/** A regulatory-compliance initiative as published in Azure/azure-policy (display name and version). */
interface AzurePolicyInitiative {
  displayName: string;
  version: string;
}

export const NIST_SP_800_53_R5_INITIATIVE: AzurePolicyInitiative = { displayName: 'NIST SP 800-53 Rev. 5', version: '14.19.0' };
export const NIST_SP_800_53_R5_1_1_INITIATIVE: AzurePolicyInitiative = { displayName: 'NIST SP 800-53 R5.1.1', version: '1.7.0' };
export const ISO_IEC_27002_2022_INITIATIVE: AzurePolicyInitiative = { displayName: 'ISO/IEC 27002 2022', version: '1.7.0' };
export const PCI_DSS_4_0_1_INITIATIVE: AzurePolicyInitiative = { displayName: 'PCI DSS v4.0.1', version: '1.6.0' };
export const SOC_2_TYPE_2_INITIATIVE: AzurePolicyInitiative = { displayName: 'SOC 2 Type 2', version: '1.12.0' };
export const SOC_2023_INITIATIVE: AzurePolicyInitiative = { displayName: 'SOC 2023', version: '1.7.0' };

/**
 * `Azure Policy built-in initiative 'NIST SP 800-53 Rev. 5' (version 14.19.0) maps policy <id> to group NIST_SP_800-53_R5_IR-4`:
 * `group` is the initiative's own name for the control (its policyDefinitionGroups), so the claim can be found there.
 */
export function initiativeSource(initiative: AzurePolicyInitiative, definitionId: string, group: string, note?: string): string {
  const mapping = `Azure Policy built-in initiative '${initiative.displayName}' (version ${initiative.version}) maps policy ${definitionId} to group ${group}`;
  return note === undefined ? mapping : `${mapping} (${note})`;
}

/** ISO/IEC 27001:2022 Annex A lists the controls of ISO/IEC 27002:2022, which Microsoft's initiative maps, under the same numbers. */
export const ISO_27002_NUMBERING = 'ISO/IEC 27001:2022 Annex A lists the controls of ISO/IEC 27002:2022 under the same numbers';

/** Microsoft's initiative for PCI DSS 4.0 maps none of our policies; its 4.0.1 one does, and 4.0.1 keeps 4.0's numbering. */
export const PCI_DSS_4_0_1_NUMBERING = 'PCI DSS 4.0.1 keeps the requirement numbers of 4.0';

/** `Prowler's compliance mapping prowler/compliance/azure/soc2_azure.json maps check <check> to requirement cc_7_3`. */
export function prowlerSource(file: string, check: string, requirement: string): string {
  return `Prowler's compliance mapping prowler/compliance/azure/${file} maps check ${check} to requirement ${requirement}`;
}

/** The controls' titles, each from its framework's own text (SOC 2 and PCI DSS have none: their criterion or requirement text). */
export const CONTROL_TITLES = {
  'NIST SP 800-53 Rev. 5': {
    'IR-4': 'Incident Handling',
    'IR-6': 'Incident Reporting',
    'IR-6(2)': 'Vulnerabilities Related to Incidents',
    'SI-4(12)': 'Automated Organization-generated Alerts',
  },
  'ISO/IEC 27001:2022': {
    'A.5.24': 'Information security incident management planning and preparation',
    'A.5.26': 'Response to information security incidents',
  },
  'PCI DSS 4.0': {
    '11.5.1': 'Intrusion-detection and/or intrusion-prevention techniques are used to detect and/or prevent intrusions into the network',
    '12.10.1': 'An incident response plan exists and is ready to be activated in the event of a suspected or confirmed security incident',
  },
  'SOC 2': {
    'CC7.3':
      'The entity evaluates security events to determine whether they could or have resulted in a failure of the entity to meet its ' +
      'objectives (security incidents) and, if so, takes actions to prevent or address such failures',
    'CC7.4':
      'The entity responds to identified security incidents by executing a defined incident response program to understand, contain, ' +
      'remediate, and communicate security incidents, as appropriate',
  },
} as const satisfies Record<ControlFramework, Record<string, string>>;

type ControlOf<F extends ControlFramework> = keyof (typeof CONTROL_TITLES)[F] & string;

/** One mapping, its title taken from {@link CONTROL_TITLES} so that a control is titled the same everywhere. */
export function control<F extends ControlFramework>(framework: F, id: ControlOf<F>, reason: string, source: string): FrameworkReference {
  const titles: Record<string, string> = CONTROL_TITLES[framework];
  return { framework, control: id, title: titles[id]!, reason, source };
}
