import { describe, expect, it } from 'vitest';
import { PROVIDER_NOT_REGISTERED_REASON } from '../../../src/core/normalise.js';
import { DEFAULT_POLICY, parsePolicy } from '../../../src/core/policy.js';
import type { SubscriptionInfo } from '../../../src/core/model.js';
import { skippedVerdict, verdictFromApi, verdictFromContacts } from '../../../src/scan/verdicts.js';
import { contactItem } from '../../support/fixtures.js';

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
