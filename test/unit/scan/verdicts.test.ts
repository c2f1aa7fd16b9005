import { describe, expect, it } from 'vitest';
import { PROVIDER_NOT_REGISTERED_REASON } from '../../../src/core/normalise.js';
import { DEFAULT_POLICY, parsePolicy } from '../../../src/core/policy.js';
import type { SubscriptionInfo } from '../../../src/core/model.js';
import { ContactJudge, skippedVerdict, verdictFromApi, verdictFromContacts } from '../../../src/scan/verdicts.js';
import { compliantContact2023, contactItem } from '../../support/fixtures.js';

const SUBSCRIPTION: SubscriptionInfo = {
  subscriptionId: '20ff7fc3-e762-44dd-bd96-b71116dcdc23',
  displayName: 'Fabrikam',
  state: 'Enabled',
};

/** The 2023 GET example with real addresses: it e-mails attack paths from Critical only, so it fails under the default policy. */
function criticalAttackPathsOnly(): any {
  const item = contactItem('2023-12-01-preview');
  item.properties.emails = 'soc@fabrikam.io;noc@fabrikam.io';
  return item;
}

describe('the merged fix on a verdict', () => {
  it('is computed for a contact read from the securityContacts API: its own addresses and phone, attack paths from High', () => {
    const verdict = verdictFromApi(SUBSCRIPTION, { kind: 'listed', contacts: [criticalAttackPathsOnly()] }, DEFAULT_POLICY);
    expect(verdict.status).toBe('noncompliant');
    expect(verdict.fix).toEqual({
      kind: 'put',
      placeholderEmails: false,
      changes: ['attack path e-mails now for risk level High and above (was Critical)'],
      body: {
        properties: {
          emails: 'soc@fabrikam.io;noc@fabrikam.io',
          phone: '(214)275-4038',
          isEnabled: true,
          notificationsByRole: { state: 'On', roles: ['Owner'] },
          notificationsSources: [
            { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
            { sourceType: 'Alert', minimalSeverity: 'Medium' },
          ],
        },
      },
    });
  });

  it('uses the remediation addresses of the policy it judged by', () => {
    const policy = parsePolicy({ remediation: { emails: ['secops@fabrikam.io'] } }, 'policy.json');
    const verdict = verdictFromApi(SUBSCRIPTION, { kind: 'listed', contacts: [contactItem('2023-12-01-preview')] }, policy);
    expect(verdict.fix).toMatchObject({ kind: 'put', placeholderEmails: false, body: { properties: { emails: 'secops@fabrikam.io' } } });
  });

  it('is none for a compliant contact', () => {
    const verdict = verdictFromApi(
      SUBSCRIPTION,
      { kind: 'listed', contacts: [criticalAttackPathsOnly()] },
      parsePolicy({ attackPaths: { minimalRiskLevel: 'Critical' } }, 'p'),
    );
    expect(verdict.status).toBe('compliant');
    expect(verdict.fix).toEqual({ kind: 'none' });
  });

  it('is not-fixable when the Microsoft.Security provider is not registered', () => {
    const verdict = verdictFromApi(
      SUBSCRIPTION,
      { kind: 'provider-not-registered', message: 'MissingSubscriptionRegistration' },
      DEFAULT_POLICY,
    );
    expect(verdict.status).toBe('noncompliant');
    expect(verdict.fix).toEqual({ kind: 'not-fixable', reason: PROVIDER_NOT_REGISTERED_REASON });
  });

  it('is not computed for Resource Graph rows, unreadable contacts or skipped subscriptions', () => {
    expect(verdictFromContacts(SUBSCRIPTION, 'resource-graph', [criticalAttackPathsOnly()], DEFAULT_POLICY)).not.toHaveProperty('fix');
    expect(verdictFromApi(SUBSCRIPTION, { kind: 'unreadable', message: '403' }, DEFAULT_POLICY)).not.toHaveProperty('fix');
    expect(verdictFromApi(SUBSCRIPTION, { kind: 'listed', contacts: [{ properties: { emails: 42 } }] }, DEFAULT_POLICY)).not.toHaveProperty(
      'fix',
    );
    expect(skippedVerdict({ ...SUBSCRIPTION, state: 'Disabled' })).not.toHaveProperty('fix');
  });
});

describe("a scan's ContactJudge", () => {
  const OTHER: SubscriptionInfo = { subscriptionId: '30ff7fc3-e762-44dd-bd96-b71116dcdc23', displayName: 'Contoso', state: 'Warned' };
  /** The same contact, as it sits in another subscription. */
  const rehomed = (item: any, subscriptionId: string) => ({
    ...item,
    id: `/subscriptions/${subscriptionId}/providers/Microsoft.Security/securityContacts/default`,
  });

  it('judges as verdictFromContacts and verdictFromApi do', () => {
    const judge = new ContactJudge(DEFAULT_POLICY);
    const items = [criticalAttackPathsOnly()];
    expect(judge.fromContacts(SUBSCRIPTION, 'resource-graph', items)).toEqual(
      verdictFromContacts(SUBSCRIPTION, 'resource-graph', items, DEFAULT_POLICY),
    );
    for (const read of [
      { kind: 'listed', contacts: items },
      { kind: 'provider-not-registered', message: '409' },
      { kind: 'unreadable', message: '403 AuthorizationFailed', status: 403 },
    ] as const) {
      expect(judge.fromApi(SUBSCRIPTION, read)).toEqual(verdictFromApi(SUBSCRIPTION, read, DEFAULT_POLICY));
    }
  });

  it('shares one frozen judgement between subscriptions whose contacts differ only in their resource ids', () => {
    const judge = new ContactJudge(DEFAULT_POLICY);
    const first = judge.fromApi(SUBSCRIPTION, {
      kind: 'listed',
      contacts: [rehomed(criticalAttackPathsOnly(), SUBSCRIPTION.subscriptionId)],
    });
    const second = judge.fromApi(OTHER, { kind: 'listed', contacts: [rehomed(criticalAttackPathsOnly(), OTHER.subscriptionId)] });
    expect(second).toMatchObject({ subscriptionId: OTHER.subscriptionId, displayName: 'Contoso', state: 'Warned', status: 'noncompliant' });
    expect(second.findings).toBe(first.findings);
    expect(second.fix).toBe(first.fix);
    expect(Object.isFrozen(first.findings[0])).toBe(true);
    expect(() => (first.findings as unknown[]).push({})).toThrow(TypeError);
  });

  it('judges a contact that differs in anything but its id, or from another source, on its own', () => {
    const judge = new ContactJudge(DEFAULT_POLICY);
    const failing = judge.fromContacts(SUBSCRIPTION, 'resource-graph', [criticalAttackPathsOnly()]);
    const passing = judge.fromContacts(OTHER, 'resource-graph', [compliantContact2023()]);
    const fromApi = judge.fromApi(OTHER, { kind: 'listed', contacts: [criticalAttackPathsOnly()] });
    expect([failing.status, passing.status]).toEqual(['noncompliant', 'compliant']);
    expect(passing.findings).not.toBe(failing.findings);
    expect(fromApi.source).toBe('security-contacts-api');
    expect(fromApi.fix).toMatchObject({ kind: 'put' });
    expect(failing).not.toHaveProperty('fix');
  });
});
