/**
 * What every rule's test file shares: contacts built from the Azure REST examples of each API
 * shape, judging one rule, how a scan judges a list it cannot read, and the checks every rule's
 * metadata must pass. Each rule's own expectations stay in its own test file.
 */
import { describe, expect, it } from 'vitest';
import { normaliseContactList } from '../../../../src/core/normalise.js';
import { evaluateContact } from '../../../../src/core/evaluate.js';
import { DEFAULT_POLICY, parsePolicy } from '../../../../src/core/policy.js';
import { ruleById } from '../../../../src/core/rules/index.js';
import type { Policy, RuleId, SubscriptionContact, SubscriptionInfo } from '../../../../src/core/model.js';
import type { Remediation, Rule, RuleOutcome } from '../../../../src/core/rules/rule.js';
import type { ContactListRead } from '../../../../src/scan/ports.js';
import { verdictFromApi } from '../../../../src/scan/verdicts.js';
import { responseBody } from '../../../support/fixtures.js';

export function contactOf(...items: unknown[]): SubscriptionContact {
  const outcome = normaliseContactList(items);
  if (!outcome.ok) throw new Error(outcome.message);
  return outcome.contact;
}

/** The real 2023 GET example with its properties changed (contoso addresses replaced by real-looking ones). */
export function item2023(changes: Record<string, unknown> = {}, name = 'default'): Record<string, unknown> {
  const item = responseBody('2023-12-01-preview', 'GetSecurityContact_example.json');
  return { ...item, name, properties: { ...(item['properties'] as object), emails: 'soc@fabrikam.com', ...changes } };
}

export function item2020(changes: Record<string, unknown> = {}, name = 'default'): Record<string, unknown> {
  const item = responseBody('2020-01-01-preview', 'GetSecurityContact_example.json');
  return { ...item, name, properties: { ...(item['properties'] as object), emails: 'soc@fabrikam.com', ...changes } };
}

export function item2017(changes: Record<string, unknown> = {}, name = 'default1'): Record<string, unknown> {
  const item = responseBody('2017-08-01-preview', 'GetSecurityContact_full_example.json');
  return { ...item, name, properties: { ...(item['properties'] as object), email: 'soc@fabrikam.com', ...changes } };
}

export function policyWith(input: unknown): Policy {
  return parsePolicy(input, 'test-policy.json');
}

/** A policy that requires only what it cannot waive: contact-exists and email-configured. */
export const RELAXED_POLICY = policyWith({
  alerts: { required: false },
  owners: { required: false },
  attackPaths: { required: false },
});

export function judge(ruleId: RuleId, contact: SubscriptionContact, policy: Policy = DEFAULT_POLICY): RuleOutcome {
  return ruleById(ruleId).evaluate(contact, policy);
}

const SUBSCRIPTION: SubscriptionInfo = {
  subscriptionId: '20ff7fc3-e762-44dd-bd96-b71116dcdc23',
  displayName: 'Fabrikam',
  state: 'Enabled',
};

/** What the securityContacts API source gives when ARM refuses the read. */
export const FORBIDDEN_READ: ContactListRead = { kind: 'unreadable', message: '403 Forbidden: AuthorizationFailed', status: 403 };

/**
 * Judges what the securityContacts API answered as a scan does, and expects the subscription
 * `error` with this rule `error` and the reason: a contact that could not be read never reaches a
 * rule, so it can neither pass the rule nor make the subscription compliant.
 */
export function expectJudgedUnreadable(ruleId: RuleId, read: ContactListRead, reason: string): void {
  const verdict = verdictFromApi(SUBSCRIPTION, read, DEFAULT_POLICY);
  expect(verdict.status).toBe('error');
  expect(verdict.findings.find((finding) => finding.ruleId === ruleId)).toEqual({
    ruleId,
    result: 'error',
    message: expect.stringContaining(reason),
  });
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The JSON after `--body '` in the az CLI script, shell quoting undone. */
export function azCliBody(remediation: Remediation): unknown {
  const match = /--body '((?:[^']|'\\'')*)'/.exec(remediation.azCli);
  if (!match?.[1]) throw new Error(`no --body in ${remediation.azCli}`);
  return JSON.parse(match[1].replaceAll("'\\''", "'"));
}

export interface ExpectedReferences {
  /** Benchmark version → recommendation (checked against published benchmark listings). */
  cis: Record<string, string>;
  /** The built-in Azure Policy definitions, by id. */
  azurePolicy: string[];
}

/**
 * The metadata every rule carries beside its logic: registered under its id, a title, a rationale,
 * its CIS recommendation in every benchmark version it applies to, MCSB and Azure Policy
 * references, and a remediation for the 2023-12-01-preview API that fixes what it says it fixes.
 */
export function describeRuleMetadata(id: RuleId, rule: Rule, expected: ExpectedReferences): void {
  describe(`${id} metadata`, () => {
    it('is the rule the registry holds under its id', () => {
      expect(rule.id).toBe(id);
      expect(ruleById(id)).toBe(rule);
    });

    it('has a title and a rationale', () => {
      expect(rule.title.length).toBeGreaterThan(10);
      expect(rule.rationale.length).toBeGreaterThan(40);
    });

    it('references the CIS recommendation of every benchmark version it applies to', () => {
      const byVersion = Object.fromEntries(rule.references.cis.map((reference) => [reference.version, reference.recommendation]));
      expect(byVersion).toEqual(expected.cis);
      for (const reference of rule.references.cis) {
        expect(reference.benchmark).toBe('CIS Microsoft Azure Foundations Benchmark');
        expect(reference.title).toMatch(/^Ensure /);
      }
    });

    it('references MCSB IR-2 and its built-in Azure Policy definitions', () => {
      expect(rule.references.mcsb).toEqual(['IR-2']);
      expect(rule.references.azurePolicy.map((definition) => definition.definitionId)).toEqual(expected.azurePolicy);
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

    it('has an az CLI command that PUTs the same body to the 2023-12-01-preview API, in whichever cloud is signed in', () => {
      const { azCli, restBody } = rule.remediation;
      expect(azCli).toContain(
        'az rest --method put --url "/subscriptions/<subscription-id>/providers/Microsoft.Security/securityContacts/default?api-version=2023-12-01-preview"',
      );
      expect(azCli).not.toContain('management.azure.com');
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
}
