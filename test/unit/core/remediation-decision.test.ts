import { describe, expect, it } from 'vitest';
import { mergeContactFix } from '../../../src/core/contact-merge.js';
import { evaluateContact, EMPTY_CONTACT_SUMMARY, unreadableFindings } from '../../../src/core/evaluate.js';
import { RULE_IDS } from '../../../src/core/model.js';
import type { ContactFix, Finding, SecurityContactPutBody, SubscriptionVerdict } from '../../../src/core/model.js';
import { normaliseContactList } from '../../../src/core/normalise.js';
import { DEFAULT_POLICY, parsePolicy } from '../../../src/core/policy.js';
import { decideRemediation } from '../../../src/core/remediation-decision.js';

const ID = 'a0000000-0000-4000-8000-00000000000a';

const BODY: SecurityContactPutBody = {
  properties: {
    emails: 'secops@fabrikam.com',
    isEnabled: true,
    notificationsByRole: { state: 'On', roles: ['Owner'] },
    notificationsSources: [
      { sourceType: 'Alert', minimalSeverity: 'High' },
      { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
    ],
  },
};

const FAILING: Finding[] = RULE_IDS.map((ruleId) =>
  ruleId === 'owner-notifications'
    ? { ruleId, result: 'fail', message: 'roles do not include Owner' }
    : { ruleId, result: 'pass', message: 'ok' },
);

function verdict(
  status: SubscriptionVerdict['status'],
  fix?: ContactFix,
  overrides: Partial<SubscriptionVerdict> = {},
): SubscriptionVerdict {
  return {
    subscriptionId: ID,
    displayName: 'Payments',
    state: 'Enabled',
    status,
    source: 'security-contacts-api',
    contact: EMPTY_CONTACT_SUMMARY,
    findings: status === 'noncompliant' ? FAILING : [],
    ...(fix ? { fix } : {}),
    ...overrides,
  };
}

const PUT: ContactFix = { kind: 'put', body: BODY, placeholderEmails: false, changes: ['added Owner to the notified roles'] };

describe('decideRemediation: statuses that are never written', () => {
  it('leaves a skipped subscription skipped, naming its state', () => {
    expect(decideRemediation(verdict('skipped', undefined, { state: 'Disabled', source: 'resource-graph' }))).toEqual({
      kind: 'leave',
      result: 'skipped',
      reason: 'the subscription is Disabled: it is listed, not judged',
    });
  });

  it('leaves an exempt subscription unchanged, even with a fix at hand', () => {
    expect(decideRemediation(verdict('exempt', PUT, { findings: FAILING }))).toEqual({
      kind: 'leave',
      result: 'unchanged',
      reason: 'the subscription is exempt',
    });
  });

  it('leaves a compliant subscription unchanged', () => {
    expect(decideRemediation(verdict('compliant', { kind: 'none' }))).toEqual({
      kind: 'leave',
      result: 'unchanged',
      reason: 'the contact is compliant',
    });
  });

  it('fails an error subscription with the read error', () => {
    const unreadable = verdict('error', undefined, { findings: unreadableFindings('403 AuthorizationFailed: no read access') });
    expect(decideRemediation(unreadable)).toEqual({
      kind: 'refuse',
      result: 'failed',
      reason: 'the contact could not be read: 403 AuthorizationFailed: no read access',
    });
    expect(decideRemediation(verdict('error'))).toEqual({
      kind: 'refuse',
      result: 'failed',
      reason: 'the contact could not be read: no reason given',
    });
  });
});

describe('decideRemediation: a noncompliant subscription, by its fix', () => {
  it('writes the body of a put, with its changes', () => {
    expect(decideRemediation(verdict('noncompliant', PUT))).toEqual({
      kind: 'write',
      body: BODY,
      changes: ['added Owner to the notified roles'],
    });
  });

  it('refuses a put that holds the example address: not-fixable, naming remediation.emails', () => {
    const decision = decideRemediation(verdict('noncompliant', { ...PUT, placeholderEmails: true }));
    expect(decision).toEqual({
      kind: 'refuse',
      result: 'not-fixable',
      reason: 'no valid address would remain and the policy names no remediation.emails to add',
    });
  });

  it('passes on the reason of a not-fixable fix', () => {
    const fix: ContactFix = { kind: 'not-fixable', reason: '409 MissingSubscriptionRegistration: Microsoft.Security is not registered' };
    expect(decideRemediation(verdict('noncompliant', fix))).toEqual({
      kind: 'refuse',
      result: 'not-fixable',
      reason: '409 MissingSubscriptionRegistration: Microsoft.Security is not registered',
    });
  });

  it('fails a contact too large to merge, with its size', () => {
    expect(decideRemediation(verdict('noncompliant', { kind: 'too-large', bytes: 123_456 }))).toEqual({
      kind: 'refuse',
      result: 'failed',
      reason: 'the contact is too large to merge (123456 bytes of JSON)',
    });
  });

  it('fails a verdict without a merged fix (read from Resource Graph)', () => {
    expect(decideRemediation(verdict('noncompliant', undefined, { source: 'resource-graph' }))).toEqual({
      kind: 'refuse',
      result: 'failed',
      reason: 'the contact was not read from the securityContacts API, so no fix was merged',
    });
    // `none` beside a noncompliant status cannot come from one reading under one policy; it is still never written.
    expect(decideRemediation(verdict('noncompliant', { kind: 'none' }))).toMatchObject({ kind: 'refuse', result: 'failed' });
  });
});

describe('decideRemediation over the merge', () => {
  const item = (emails: string) => ({
    name: 'default',
    type: 'Microsoft.Security/securityContacts',
    properties: {
      emails,
      isEnabled: true,
      notificationsByRole: { state: 'On', roles: ['Owner'] },
      notificationsSources: [
        { sourceType: 'Alert', minimalSeverity: 'High' },
        { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
      ],
    },
  });

  function judged(emails: string, policy = DEFAULT_POLICY): SubscriptionVerdict {
    const listed = normaliseContactList([item(emails)]);
    if (!listed.ok) throw new Error(listed.message);
    const evaluation = evaluateContact(listed.contact, policy);
    return {
      ...verdict(evaluation.status),
      findings: evaluation.findings,
      contact: evaluation.contact,
      fix: mergeContactFix(listed.contact, evaluation.findings, policy),
    };
  }

  it('refuses to write a made-up address where the policy names none', () => {
    expect(decideRemediation(judged('admin@contoso.com'))).toMatchObject({ kind: 'refuse', result: 'not-fixable' });
  });

  it("writes the policy's remediation address in place of the invalid one", () => {
    const policy = parsePolicy({ remediation: { emails: ['soc@fabrikam.io'] } }, 'policy.json');
    expect(decideRemediation(judged('admin@contoso.com', policy))).toEqual({
      kind: 'write',
      body: { properties: item('soc@fabrikam.io').properties },
      changes: [
        'removed address admin@contoso.com, which failed email-configured',
        'added address soc@fabrikam.io, as no valid address remained',
      ],
    });
  });
});
