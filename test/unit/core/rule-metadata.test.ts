import { describe, expect, it } from 'vitest';
import { RULES, ruleById } from '../../../src/core/rules/index.js';
import { securityContactRemediation, securityContactRestBody } from '../../../src/core/rules/remediation.js';
import { normaliseContactList } from '../../../src/core/normalise.js';
import { evaluateContact } from '../../../src/core/evaluate.js';
import { DEFAULT_POLICY } from '../../../src/core/policy.js';
import type { RuleId } from '../../../src/core/model.js';
import type { Remediation } from '../../../src/core/rules/rule.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Benchmark version → recommendation, per rule (checked against published benchmark listings). */
const EXPECTED_CIS: Record<RuleId, Record<string, string>> = {
  'contact-exists': { '1.3.0': '2.13', '2.0.0': '2.1.19', '3.0.0': '3.1.13', '4.0.0': '9.1.13', '5.0.0': '8.1.13' },
  'email-configured': { '1.3.0': '2.13', '2.0.0': '2.1.19', '3.0.0': '3.1.13', '4.0.0': '9.1.13', '5.0.0': '8.1.13' },
  'alert-notifications': { '1.3.0': '2.14', '2.0.0': '2.1.20', '3.0.0': '3.1.14', '4.0.0': '9.1.14', '5.0.0': '8.1.14' },
  'owner-notifications': { '1.3.0': '2.15', '2.0.0': '2.1.18', '3.0.0': '3.1.12', '4.0.0': '9.1.12', '5.0.0': '8.1.12' },
  // Attack path notifications entered the benchmark in 4.0.0.
  'attack-path-notifications': { '4.0.0': '9.1.15', '5.0.0': '8.1.15' },
};

const EXPECTED_AZURE_POLICY: Record<RuleId, string[]> = {
  'contact-exists': ['4f4f78b8-e367-4b10-a341-d9a4ad5cf1c7'],
  'email-configured': ['4f4f78b8-e367-4b10-a341-d9a4ad5cf1c7'],
  'alert-notifications': ['6e2593d9-add6-4083-9c9b-4b7d2188c899'],
  'owner-notifications': ['0b15565f-aa9e-48ba-8619-45960f2c314d'],
  'attack-path-notifications': [],
};

/** The JSON after `--body '` in the az CLI script, shell quoting undone. */
function azCliBody(remediation: Remediation): unknown {
  const match = /--body '((?:[^']|'\\'')*)'/.exec(remediation.azCli);
  if (!match?.[1]) throw new Error(`no --body in ${remediation.azCli}`);
  return JSON.parse(match[1].replaceAll("'\\''", "'"));
}

describe.each(RULES.map((rule) => [rule.id, rule] as const))('%s metadata', (id, rule) => {
  it('has a title and a rationale', () => {
    expect(rule.title.length).toBeGreaterThan(10);
    expect(rule.rationale.length).toBeGreaterThan(40);
  });

  it('references the CIS recommendation of every benchmark version it applies to', () => {
    const byVersion = Object.fromEntries(rule.references.cis.map((reference) => [reference.version, reference.recommendation]));
    expect(byVersion).toEqual(EXPECTED_CIS[id]);
    for (const reference of rule.references.cis) {
      expect(reference.benchmark).toBe('CIS Microsoft Azure Foundations Benchmark');
      expect(reference.title).toMatch(/^Ensure /);
    }
  });

  it('references MCSB IR-2 and its built-in Azure Policy definitions', () => {
    expect(rule.references.mcsb).toEqual(['IR-2']);
    expect(rule.references.azurePolicy.map((definition) => definition.definitionId)).toEqual(EXPECTED_AZURE_POLICY[id]);
    for (const definition of rule.references.azurePolicy) {
      expect(definition.definitionId).toMatch(GUID);
      expect(definition.displayName).not.toBe('');
    }
  });

  it('has a remediation whose REST body is a 2023-12-01-preview contact passing all five rules', () => {
    const item = { name: 'default', type: 'Microsoft.Security/securityContacts', ...(rule.remediation.restBody as object) };
    const normalised = normaliseContactList([item]);
    if (!normalised.ok) throw new Error(normalised.message);
    expect(normalised.contact.entries[0]?.shape).toBe('2023-12-01-preview');
    const verdict = evaluateContact(normalised.contact, DEFAULT_POLICY);
    expect(verdict.findings.filter((finding) => finding.result !== 'pass')).toEqual([]);
    expect(verdict.status).toBe('compliant');
  });

  it('has an az CLI command that PUTs the same body to the 2023-12-01-preview API', () => {
    const { azCli, restBody } = rule.remediation;
    expect(azCli).toContain(
      'az rest --method put --url "https://management.azure.com/subscriptions/<subscription-id>/providers/Microsoft.Security/securityContacts/default?api-version=2023-12-01-preview"',
    );
    expect(azCliBody(rule.remediation)).toEqual(restBody);
  });

  it('has Bicep for the same API version at subscription scope, and portal steps', () => {
    expect(rule.remediation.bicep).toContain("targetScope = 'subscription'");
    expect(rule.remediation.bicep).toContain("resource securityContact 'Microsoft.Security/securityContacts@2023-12-01-preview'");
    expect(rule.remediation.bicep).toContain("emails: 'secops@your-company.internal'");
    expect(rule.remediation.portal.at(-1)).toBe('Select Save.');
    expect(rule.remediation.summary).not.toBe('');
  });
});

describe('remediations say which part they fix', () => {
  it('gives each rule its own summary and portal step', () => {
    expect(new Set(RULES.map((rule) => rule.remediation.summary)).size).toBe(RULES.length);
    expect(ruleById('owner-notifications').remediation.portal).toContain("In 'All users with the following roles', select Owner.");
    expect(ruleById('alert-notifications').remediation.summary).toContain('Alert notification source');
    expect(ruleById('attack-path-notifications').remediation.summary).toContain('AttackPath notification source');
    expect(ruleById('contact-exists').remediation.azCli).toContain('az provider register --namespace Microsoft.Security');
    expect(ruleById('email-configured').remediation.azCli).not.toContain('az provider register');
  });
});

describe('securityContactRemediation', () => {
  it('fills in a subscription and addresses, quoting them safely for the shell and Bicep', () => {
    const remediation = securityContactRemediation('emails', {
      subscriptionId: '00000000-1111-2222-3333-444444444444',
      emails: "o'brien@fabrikam.com;soc@fabrikam.com",
    });
    expect(remediation.azCli).toContain('/subscriptions/00000000-1111-2222-3333-444444444444/providers/Microsoft.Security/securityContacts/default?');
    expect(azCliBody(remediation)).toEqual(securityContactRestBody("o'brien@fabrikam.com;soc@fabrikam.com"));
    expect(remediation.bicep).toContain("emails: 'o\\'brien@fabrikam.com;soc@fabrikam.com'");
  });
});
