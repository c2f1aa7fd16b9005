/**
 * An owed alert as the channel tests compose it: subscription `i`, noncompliant since three days
 * before NOW, two failing rules and the merged body that fixes them; `overrides` change the rest.
 */
import type { OwedAlert } from '../../../src/core/alerts.js';
import { PORTAL_URLS } from '../../../src/core/azure-portal.js';
import type { TemplateContext } from '../../../src/alerts/templates.js';

export const NOW = new Date('2025-03-10T12:00:00.000Z');
export const REPORT_URL = 'https://contact-watch.fabrikam.net/api/report';
export const ctx: TemplateContext = { portalUrl: PORTAL_URLS.AzureCloud, now: NOW, reportUrl: REPORT_URL };

export function subscriptionId(i: number): string {
  return `6f1b2c3d-0000-4000-8000-${String(i).padStart(12, '0')}`;
}

export function alert(i: number, overrides: Partial<OwedAlert> = {}): OwedAlert {
  const id = overrides.subscriptionId ?? subscriptionId(i);
  return {
    key: `${id}|alert|noncompliant|2025-03-07T12:00:00.000Z`,
    kind: 'alert',
    subscriptionId: id,
    displayName: `Payments ${i}`,
    status: 'noncompliant',
    since: '2025-03-07T12:00:00.000Z',
    findings: [
      { ruleId: 'email-configured', result: 'fail', message: 'admin@contoso.com is on a placeholder domain' },
      { ruleId: 'owner-notifications', result: 'fail', message: 'role notifications are off' },
    ],
    fix: {
      kind: 'put',
      body: {
        properties: {
          emails: 'payments-oncall@fabrikam.com',
          isEnabled: true,
          notificationsByRole: { state: 'On', roles: ['Owner'] },
          notificationsSources: [{ sourceType: 'Alert', minimalSeverity: 'Medium' }],
        },
      },
      placeholderEmails: false,
      changes: ['added Owner to the notified roles'],
    },
    ...overrides,
  };
}
