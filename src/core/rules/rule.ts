import type { Policy, RuleId, RuleResult, SubscriptionContact } from '../model.js';

/** A CIS Microsoft Azure Foundations Benchmark recommendation, by benchmark version. */
export interface CisReference {
  benchmark: 'CIS Microsoft Azure Foundations Benchmark';
  version: '1.3.0' | '2.0.0' | '3.0.0' | '4.0.0' | '5.0.0' | '6.0.0';
  recommendation: string; // e.g. "2.1.19"
  title: string;
}

/** A control framework, other than the CIS benchmark, that security teams are audited against. */
export type ControlFramework = 'NIST SP 800-53 Rev. 5' | 'ISO/IEC 27001:2022' | 'PCI DSS 4.0' | 'SOC 2';

/** One control of a framework that a rule helps to meet, with why and where the mapping comes from. */
export interface FrameworkReference {
  framework: ControlFramework;
  /** The control id exactly as the framework writes it, e.g. "IR-6" or "A.5.24" or "12.10.1" or "CC7.3". */
  control: string;
  /** The control's title in the framework's own words (for PCI DSS and SOC 2, which have none: the requirement's text). */
  title: string;
  /** One line: why this rule serves that control. */
  reason: string;
  /** Where the mapping is taken from (the framework's own text or a named public mapping). */
  source: string;
}

export interface AzurePolicyReference {
  definitionId: string; // GUID of the built-in policy definition
  displayName: string;
}

/** Which part of the security contact a rule's remediation fixes (`contact`: create the whole contact). */
export type RemediationTarget = 'contact' | 'emails' | 'alerts' | 'owners' | 'attackPaths';

/** How to fix a failing rule, correct for the 2023-12-01-preview securityContacts API. */
export interface Remediation {
  /** The part of the contact it fixes: remediations of several rules combine by it (securityContactPortalSteps). */
  target: RemediationTarget;
  summary: string;
  portal: string[];
  azCli: string;
  restBody: unknown;
  bicep: string;
  /** A whole security-contact.tf: an azapi_resource with the same body as the REST PUT. */
  terraform: string;
}

export interface RuleOutcome {
  result: RuleResult;
  message: string;
}

/** One rule: its metadata beside its logic. */
export interface Rule {
  id: RuleId;
  title: string;
  rationale: string;
  references: {
    cis: CisReference[];
    mcsb: string[]; // e.g. ["IR-2"]
    azurePolicy: AzurePolicyReference[];
    /** Other frameworks' controls (NIST, ISO, PCI DSS, SOC 2) the rule serves. */
    frameworks: FrameworkReference[];
  };
  remediation: Remediation;
  /** Whether a failure of this rule makes the subscription non-compliant under the policy. */
  isRequired(policy: Policy): boolean;
  /** Judges a contact that was read. (Unreadable contacts never reach a rule.) */
  evaluate(contact: SubscriptionContact, policy: Policy): RuleOutcome;
}
