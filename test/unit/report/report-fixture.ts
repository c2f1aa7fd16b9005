/**
 * A realistic scan report for the formatter tests: one subscription of every status, a
 * noncompliant one failing several rules, one without any contact, and display names and
 * addresses carrying markup, formula starts, separators, quotes and line breaks (display names
 * are user input). Subscriptions are deliberately out of id order and one verdict's findings
 * out of rule order, so the formatters' sorting is exercised.
 */
import type { Finding, ScanReport, SubscriptionVerdict } from '../../../src/core/model.js';
import { DEFAULT_POLICY } from '../../../src/core/policy.js';
import { RULES } from '../../../src/core/rules/index.js';
import type { RenderContext } from '../../../src/report/index.js';

/**
 * What the CLI gives the formats: the rules, the portal, the policy scanned with (the default) and
 * contact-watch's version (a fixed one here, so that what is rendered does not change with a release).
 */
export const CONTEXT: RenderContext = {
  rules: RULES,
  portalUrl: 'https://portal.azure.com',
  policy: DEFAULT_POLICY,
  productVersion: '0.0.0-test',
};

/** Every kind of hostile input at once: markup, a formula start, `|`, a comma, a quote, CR/LF. */
export const HOSTILE_NAME = '=cmd|\' /C calc\'!A0 <script>alert(1)</script>, "Payments" | prod\r\nline2';

const pass = (ruleId: Finding['ruleId'], message: string): Finding => ({ ruleId, result: 'pass', message });
const fail = (ruleId: Finding['ruleId'], message: string): Finding => ({ ruleId, result: 'fail', message });

export const COMPLIANT: SubscriptionVerdict = {
  subscriptionId: '20ff7fc3-e762-44dd-bd96-b71116dcdc23',
  displayName: 'Fabrikam Production',
  state: 'Enabled',
  status: 'compliant',
  source: 'resource-graph',
  contact: {
    emails: ['secops@fabrikam.io', 'soc@fabrikam.io'],
    alertMinimalSeverity: 'Medium',
    notifyRoles: ['Owner', 'ServiceAdmin'],
    attackPathMinimalRiskLevel: 'Critical',
    shape: '2023-12-01-preview',
  },
  findings: [
    pass('contact-exists', 'Contact "default" exists.'),
    pass('email-configured', 'Security alerts are e-mailed to secops@fabrikam.io, soc@fabrikam.io.'),
    pass('alert-notifications', 'Alert e-mails are on from Medium severity.'),
    pass('owner-notifications', 'Owners are notified.'),
    pass('attack-path-notifications', 'Attack path e-mails are on from Critical risk level.'),
  ],
};

/** Several failed rules, the hostile display name, and findings out of rule order. */
export const NONCOMPLIANT_HOSTILE: SubscriptionVerdict = {
  subscriptionId: '0b1f6471-1bf0-4dda-aec3-111122223333',
  displayName: HOSTILE_NAME,
  state: 'Enabled',
  status: 'noncompliant',
  source: 'security-contacts-api',
  contact: {
    emails: ['ops@example.com', '@SUM(1+1)'],
    alertMinimalSeverity: 'High',
    notifyRoles: [],
    attackPathMinimalRiskLevel: null,
    shape: '2017-08-01-preview',
  },
  findings: [
    fail('attack-path-notifications', 'The 2017-08-01-preview contact cannot express attack path notifications.'),
    pass('contact-exists', 'Contact "default1" exists.'),
    fail(
      'email-configured',
      'Not a valid e-mail address: "@SUM(1+1)". On a placeholder domain that reaches no security team: "ops@example.com".',
    ),
    pass('alert-notifications', 'Alert e-mails are on from High severity.'),
    fail('owner-notifications', 'Contact "default1": alertsToAdmins is "Off".'),
  ],
  // Both addresses fail, so the merge drops them and adds the policy's; the rest is turned on.
  fix: {
    kind: 'put',
    body: {
      properties: {
        emails: 'secops@fabrikam.io',
        isEnabled: true,
        notificationsByRole: { state: 'On', roles: ['Owner'] },
        notificationsSources: [
          { sourceType: 'Alert', minimalSeverity: 'High' },
          { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
        ],
      },
    },
    placeholderEmails: false,
    changes: [
      'removed "ops@example.com", "@SUM(1+1)", which failed email-configured',
      'added "secops@fabrikam.io", as no valid address remained',
      'turned role notifications on',
      'added Owner to the notified roles',
      'added attack path e-mails from High risk level',
    ],
  },
};

/** The Microsoft.Security provider is not registered: no contact can exist. */
export const NO_CONTACT: SubscriptionVerdict = {
  subscriptionId: '4c6d8e2a-9b7f-4e1d-8c3b-5a6f7e8d9c0b',
  displayName: 'Sandbox, team "A"',
  state: 'Enabled',
  status: 'noncompliant',
  source: 'security-contacts-api',
  contact: { emails: [], alertMinimalSeverity: null, notifyRoles: [], attackPathMinimalRiskLevel: null, shape: 'none' },
  findings: [
    fail(
      'contact-exists',
      'The Microsoft.Security resource provider is not registered on this subscription, so no security contact can exist.',
    ),
    fail('email-configured', 'no security contact'),
    fail('alert-notifications', 'no security contact'),
    fail('owner-notifications', 'no security contact'),
    fail('attack-path-notifications', 'no security contact'),
  ],
  fix: { kind: 'not-fixable', reason: 'the Microsoft.Security resource provider is not registered on this subscription' },
};

const UNREADABLE_MESSAGE =
  'The securityContacts API answered 403 AuthorizationFailed: the client does not have authorization to perform action Microsoft.Security/securityContacts/read.';

export const UNREADABLE: SubscriptionVerdict = {
  subscriptionId: 'a1b2c3d4-0000-4000-8000-000000000001',
  displayName: 'Legacy | Finance',
  state: 'Warned',
  status: 'error',
  source: 'security-contacts-api',
  contact: { emails: [], alertMinimalSeverity: null, notifyRoles: [], attackPathMinimalRiskLevel: null, shape: 'none' },
  findings: (
    ['contact-exists', 'email-configured', 'alert-notifications', 'owner-notifications', 'attack-path-notifications'] as const
  ).map((ruleId): Finding => ({ ruleId, result: 'error', message: UNREADABLE_MESSAGE })),
};

export const EXEMPT: SubscriptionVerdict = {
  subscriptionId: 'c9d8e7f6-1111-4222-8333-444455556666',
  displayName: '+Research lab',
  state: 'Enabled',
  status: 'exempt',
  source: 'security-contacts-api',
  contact: {
    emails: ['-lab@fabrikam.io'],
    alertMinimalSeverity: 'High',
    notifyRoles: ['Owner'],
    attackPathMinimalRiskLevel: 'High',
    shape: '2023-12-01-preview',
  },
  findings: [
    pass('contact-exists', 'Contact "default" exists.'),
    fail('email-configured', 'Outside the allowed domains (contoso-corp.com): "-lab@fabrikam.io".'),
    pass('alert-notifications', 'Alert e-mails are on from High severity.'),
    pass('owner-notifications', 'Owners are notified.'),
    pass('attack-path-notifications', 'Attack path e-mails are on from High risk level.'),
  ],
};

export const SKIPPED: SubscriptionVerdict = {
  subscriptionId: 'ffffffff-2222-4333-8444-555566667777',
  displayName: 'Old subscription',
  state: 'Disabled',
  status: 'skipped',
  source: 'resource-graph',
  contact: { emails: [], alertMinimalSeverity: null, notifyRoles: [], attackPathMinimalRiskLevel: null, shape: 'none' },
  findings: [],
};

export const VERDICTS = [COMPLIANT, NONCOMPLIANT_HOSTILE, NO_CONTACT, UNREADABLE, EXEMPT, SKIPPED];

export function buildReport(verdicts: SubscriptionVerdict[] = VERDICTS): ScanReport {
  const summary = { subscriptions: verdicts.length, compliant: 0, noncompliant: 0, exempt: 0, error: 0, skipped: 0 };
  for (const verdict of verdicts) summary[verdict.status] += 1;
  return {
    schemaVersion: 1,
    scan: {
      id: '5f0c2a1e-7d3b-4c9a-9e2f-0a1b2c3d4e5f',
      startedAt: '2025-03-01T10:00:00.000Z',
      finishedAt: '2025-03-01T10:00:42.500Z',
      status: verdicts.some((v) => v.status === 'error') ? 'partial' : 'succeeded',
    },
    summary,
    subscriptions: verdicts,
  };
}

export const REPORT = buildReport();
