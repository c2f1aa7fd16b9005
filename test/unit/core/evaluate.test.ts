import { describe, expect, it } from 'vitest';
import { EMPTY_CONTACT_SUMMARY, evaluateContact, unreadableFindings } from '../../../src/core/evaluate.js';
import { normaliseContactList, providerNotRegisteredContact } from '../../../src/core/normalise.js';
import { DEFAULT_POLICY, parsePolicy } from '../../../src/core/policy.js';
import { RULE_IDS, type SubscriptionContact } from '../../../src/core/model.js';
import { listItems, responseBody } from '../../support/fixtures.js';

function contactOf(...items: unknown[]): SubscriptionContact {
  const outcome = normaliseContactList(items);
  if (!outcome.ok) throw new Error(outcome.message);
  return outcome.contact;
}

/** The 2023 GET example made fully compliant: a real address and attack paths from High. */
function compliantItem(): Record<string, unknown> {
  const item = responseBody('2023-12-01-preview', 'GetSecurityContact_example.json');
  return {
    ...item,
    properties: {
      ...(item['properties'] as object),
      emails: 'soc@fabrikam.com',
      notificationsSources: [
        { sourceType: 'Alert', minimalSeverity: 'High' },
        { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
      ],
    },
  };
}

describe('evaluateContact', () => {
  it('gives a compliant contact five passing findings in contract order and its summary', () => {
    const verdict = evaluateContact(contactOf(compliantItem()), DEFAULT_POLICY);
    expect(verdict.status).toBe('compliant');
    expect(verdict.findings.map((finding) => finding.ruleId)).toEqual([...RULE_IDS]);
    expect(verdict.findings.map((finding) => finding.result)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass']);
    expect(verdict.contact).toEqual({
      emails: ['soc@fabrikam.com'],
      alertMinimalSeverity: 'High',
      notifyRoles: ['Owner'],
      attackPathMinimalRiskLevel: 'High',
      shape: '2023-12-01-preview',
    });
  });

  it('is noncompliant when a required rule fails', () => {
    const verdict = evaluateContact(contactOf(responseBody('2023-12-01-preview', 'GetSecurityContact_example.json')), DEFAULT_POLICY);
    expect(verdict.status).toBe('noncompliant');
    expect(verdict.findings.filter((finding) => finding.result === 'fail').map((finding) => finding.ruleId)).toEqual([
      'email-configured',
      'attack-path-notifications',
    ]);
  });

  it('reports a rule the policy does not require but lets it decide nothing', () => {
    const policy = parsePolicy({ attackPaths: { required: false } }, 'policy.json');
    const item = compliantItem();
    (item['properties'] as Record<string, unknown>)['notificationsSources'] = [{ sourceType: 'Alert', minimalSeverity: 'High' }];
    const verdict = evaluateContact(contactOf(item), policy);
    expect(verdict.status).toBe('compliant');
    expect(verdict.findings[4]).toEqual({
      ruleId: 'attack-path-notifications',
      result: 'fail',
      message: 'Attack path e-mails are off: contact "default" has no AttackPath notification source.',
    });
  });

  it('never lets the policy waive email-configured', () => {
    const policy = parsePolicy(
      { alerts: { required: false }, owners: { required: false }, attackPaths: { required: false } },
      'policy.json',
    );
    const item = compliantItem();
    (item['properties'] as Record<string, unknown>)['emails'] = '';
    expect(evaluateContact(contactOf(item), policy).status).toBe('noncompliant');
  });

  it('judges an empty list noncompliant, every rule failing, with an empty summary', () => {
    const policy = parsePolicy(
      { alerts: { required: false }, owners: { required: false }, attackPaths: { required: false } },
      'policy.json',
    );
    const verdict = evaluateContact(contactOf(), policy);
    expect(verdict.status).toBe('noncompliant');
    expect(verdict.findings).toEqual([
      { ruleId: 'contact-exists', result: 'fail', message: 'No security contact is set on this subscription.' },
      { ruleId: 'email-configured', result: 'fail', message: 'no security contact' },
      { ruleId: 'alert-notifications', result: 'fail', message: 'no security contact' },
      { ruleId: 'owner-notifications', result: 'fail', message: 'no security contact' },
      { ruleId: 'attack-path-notifications', result: 'fail', message: 'no security contact' },
    ]);
    expect(verdict.contact).toEqual(EMPTY_CONTACT_SUMMARY);
  });

  it('judges a subscription without the Microsoft.Security provider noncompliant, saying so', () => {
    const verdict = evaluateContact(providerNotRegisteredContact(), DEFAULT_POLICY);
    expect(verdict.status).toBe('noncompliant');
    expect(verdict.findings[0]?.message).toContain('resource provider is not registered');
  });

  it('judges merged contacts of three shapes together', () => {
    const legacy = listItems('2017-08-01-preview', 'GetSecurityContactsSubscription_full_example.json')[0]!;
    (legacy['properties'] as Record<string, unknown>)['email'] = 'ciso@fabrikam.com';
    const verdict = evaluateContact(contactOf(legacy, compliantItem()), DEFAULT_POLICY);
    expect(verdict.status).toBe('compliant');
    expect(verdict.contact.emails).toEqual(['ciso@fabrikam.com', 'soc@fabrikam.com']);
    expect(verdict.contact.shape).toBe('2023-12-01-preview');
  });
});

describe('unreadableFindings', () => {
  it('gives all five rules error with the message', () => {
    expect(unreadableFindings('403 Forbidden: AuthorizationFailed')).toEqual(
      RULE_IDS.map((ruleId) => ({ ruleId, result: 'error', message: '403 Forbidden: AuthorizationFailed' })),
    );
    expect(unreadableFindings('x')).toHaveLength(5);
  });
});
