/**
 * The rules' controls in other frameworks and their CIS 6.0.0 recommendations, pinned exactly, and
 * each mapping's source held to what it claims: an Azure Policy initiative citing the rule's own
 * built-in policy under the group that names the very control mapped, or a Prowler requirement for
 * the rule's own CIS check. (The claims themselves were read from Azure/azure-policy and
 * prowler-cloud/prowler; docs/reference/rules.md names the files.)
 */
import { describe, expect, it } from 'vitest';
import { RULES } from '../../../src/core/rules/index.js';
import {
  CONTROL_TITLES,
  ISO_IEC_27002_2022_INITIATIVE,
  NIST_SP_800_53_R5_1_1_INITIATIVE,
  NIST_SP_800_53_R5_INITIATIVE,
  PCI_DSS_4_0_1_INITIATIVE,
  SOC_2023_INITIATIVE,
  SOC_2_TYPE_2_INITIATIVE,
} from '../../../src/core/rules/frameworks.js';
import type { ControlFramework, Rule } from '../../../src/core/rules/rule.js';

/** Each initiative's prefix for its groups, and the framework its groups are controls of. */
const INITIATIVES = [
  { initiative: NIST_SP_800_53_R5_INITIATIVE, prefix: 'NIST_SP_800-53_R5_', framework: 'NIST SP 800-53 Rev. 5' },
  { initiative: NIST_SP_800_53_R5_1_1_INITIATIVE, prefix: 'NIST_SP_800-53_R5.1.1_', framework: 'NIST SP 800-53 Rev. 5' },
  { initiative: ISO_IEC_27002_2022_INITIATIVE, prefix: 'ISO_IEC_27002_2022_', framework: 'ISO/IEC 27001:2022' },
  { initiative: PCI_DSS_4_0_1_INITIATIVE, prefix: 'PCI_DSS_v4.0.1_', framework: 'PCI DSS 4.0' },
  { initiative: SOC_2_TYPE_2_INITIATIVE, prefix: 'SOC_2_', framework: 'SOC 2' },
  { initiative: SOC_2023_INITIATIVE, prefix: 'SOC_2023_', framework: 'SOC 2' },
] as const;

/** The check of Prowler's CIS mappings for each rule's recommendation. */
const PROWLER_CHECKS: Record<string, string> = {
  'contact-exists': 'defender_additional_email_configured_with_a_security_contact',
  'email-configured': 'defender_additional_email_configured_with_a_security_contact',
  'alert-notifications': 'defender_ensure_notify_alerts_severity_is_high',
  'owner-notifications': 'defender_ensure_notify_emails_to_owners',
  'attack-path-notifications': 'defender_attack_path_notifications_properly_configured',
};

/** Every rule's controls, by framework, as auditors will read them. */
const EXPECTED: Record<string, Partial<Record<ControlFramework, string[]>>> = {
  'contact-exists': {
    'NIST SP 800-53 Rev. 5': ['IR-4', 'IR-6', 'IR-6(2)', 'SI-4(12)'],
    'ISO/IEC 27001:2022': ['A.5.24', 'A.5.26'],
    'PCI DSS 4.0': ['12.10.1'],
    'SOC 2': ['CC7.3', 'CC7.4'],
  },
  'email-configured': {
    'NIST SP 800-53 Rev. 5': ['IR-4', 'IR-6', 'IR-6(2)', 'SI-4(12)'],
    'ISO/IEC 27001:2022': ['A.5.24', 'A.5.26'],
    'PCI DSS 4.0': ['12.10.1'],
    'SOC 2': ['CC7.3', 'CC7.4'],
  },
  'alert-notifications': {
    'NIST SP 800-53 Rev. 5': ['IR-4', 'IR-6', 'IR-6(2)', 'SI-4(12)'],
    'PCI DSS 4.0': ['11.5.1'],
    'SOC 2': ['CC7.3', 'CC7.4'],
  },
  'owner-notifications': {
    'NIST SP 800-53 Rev. 5': ['IR-4', 'IR-6(2)', 'SI-4(12)'],
    'SOC 2': ['CC7.4'],
  },
  // Attack paths are exposures found before an attack, not incidents; no mapping we know of ties
  // attack-path e-mails to these frameworks' incident controls.
  'attack-path-notifications': {},
};

function controlsByFramework(rule: Rule): Partial<Record<ControlFramework, string[]>> {
  const grouped: Partial<Record<ControlFramework, string[]>> = {};
  for (const reference of rule.references.frameworks) (grouped[reference.framework] ??= []).push(reference.control);
  return grouped;
}

describe('controls of other frameworks', () => {
  it.each(RULES.map((rule) => [rule.id, rule] as const))('%s maps exactly its controls', (id, rule) => {
    expect(controlsByFramework(rule)).toEqual(EXPECTED[id]);
  });

  it('gives every mapping a one-line reason, a source and the control title of its framework, each control once per rule', () => {
    for (const rule of RULES) {
      const keys = rule.references.frameworks.map((reference) => `${reference.framework} ${reference.control}`);
      expect(new Set(keys).size, rule.id).toBe(keys.length);
      for (const reference of rule.references.frameworks) {
        expect(reference.reason.trim().length, `${rule.id} ${reference.control}`).toBeGreaterThan(30);
        expect(reference.reason).not.toMatch(/\n/);
        expect(reference.reason).toMatch(/\.$/);
        expect(reference.source.trim()).not.toBe('');
        const titles: Record<string, string> = CONTROL_TITLES[reference.framework];
        expect(reference.title).toBe(titles[reference.control]);
      }
    }
  });

  it('gives each rule its own reasons: no two rules give the same reason', () => {
    const reasons = RULES.flatMap((rule) => rule.references.frameworks.map((reference) => reference.reason));
    expect(new Set(reasons).size).toBe(reasons.length);
  });

  it("cites, for each mapping from Microsoft's initiatives, the rule's own policy under the group that names the control", () => {
    const pattern = /^Azure Policy built-in initiative '([^']+)' \(version ([^)]+)\) maps policy ([0-9a-f-]{36}) to group (\S+)/;
    let checked = 0;
    for (const rule of RULES) {
      const policies = rule.references.azurePolicy.map((policy) => policy.definitionId);
      for (const reference of rule.references.frameworks) {
        const match = pattern.exec(reference.source);
        if (!match) continue;
        const [, displayName, version, policy, group] = match;
        const known = INITIATIVES.find((candidate) => candidate.initiative.displayName === displayName);
        expect(known, reference.source).toBeDefined();
        expect(known?.initiative.version).toBe(version);
        expect(known?.framework).toBe(reference.framework);
        expect(policies, `${rule.id} cites a policy it does not correspond to`).toContain(policy);
        // The initiative's name for the very control mapped: …_R5_IR-6(2), …_R5.1.1_IR.6, …_2022_5.24, SOC_2_CC7.4.
        const bare = reference.control.replace(/^A\./, '');
        const forms = known?.prefix.includes('R5.1.1') ? [bare.replace('-', '.')] : [bare];
        expect(
          forms.map((form) => `${known?.prefix}${form}`),
          reference.source,
        ).toContain(group);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it("cites, for each mapping from Prowler, a requirement of the control for the rule's own CIS check", () => {
    const pattern = /^Prowler's compliance mapping prowler\/compliance\/azure\/(\S+) maps check (\S+) to requirement (\S+)$/;
    const fromProwler = RULES.flatMap((rule) =>
      rule.references.frameworks.filter((reference) => pattern.test(reference.source)).map((reference) => ({ rule, reference })),
    );
    expect(fromProwler.map(({ rule, reference }) => `${rule.id} ${reference.control}`)).toEqual(['alert-notifications CC7.3']);
    for (const { rule, reference } of fromProwler) {
      const [, file, check, requirement] = pattern.exec(reference.source)!;
      expect(file).toBe('soc2_azure.json');
      expect(check).toBe(PROWLER_CHECKS[rule.id]);
      // Prowler writes SOC 2's CC7.3 as cc_7_3.
      expect(requirement).toBe(reference.control.toLowerCase().replace(/^cc(\d+)\.(\d+)$/, 'cc_$1_$2'));
    }
  });

  it('every mapping names either an initiative or a Prowler mapping as its source', () => {
    for (const rule of RULES) {
      for (const reference of rule.references.frameworks) {
        expect(reference.source).toMatch(/^(Azure Policy built-in initiative '|Prowler's compliance mapping )/);
      }
    }
  });
});

describe('CIS Microsoft Azure Foundations Benchmark 6.0.0', () => {
  it("gives each rule its recommendation, numbered as in 5.0.0 and titled as Prowler's mapping of 6.0.0 titles it", () => {
    const byRule = Object.fromEntries(
      RULES.map((rule) => {
        const references = rule.references.cis.filter((cis) => cis.version === '6.0.0');
        expect(references, rule.id).toHaveLength(1);
        const five = rule.references.cis.find((cis) => cis.version === '5.0.0');
        expect(references[0]?.recommendation).toBe(five?.recommendation);
        return [rule.id, `${references[0]?.recommendation} ${references[0]?.title}`];
      }),
    );
    expect(byRule).toEqual({
      'contact-exists': "8.1.13 Ensure 'Additional email addresses' is Configured with a Security Contact Email",
      'email-configured': "8.1.13 Ensure 'Additional email addresses' is Configured with a Security Contact Email",
      'alert-notifications': "8.1.14 Ensure that 'Notify about alerts with the following severity (or higher)' is Enabled",
      'owner-notifications': "8.1.12 Ensure That 'All users with the following roles' is Set to 'Owner'",
      'attack-path-notifications': "8.1.15 Ensure that 'Notify about attack paths with the following risk level (or higher)' is Enabled",
    });
  });
});
