import { describe, expect, it } from 'vitest';
import { providerNotRegisteredContact } from '../../../../src/core/normalise.js';
import { DEFAULT_POLICY } from '../../../../src/core/policy.js';
import { attackPathNotificationsRule } from '../../../../src/core/rules/attack-path-notifications.js';
import { responseBody } from '../../../support/fixtures.js';
import {
  contactOf,
  describeRuleMetadata,
  expectJudgedUnreadable,
  FORBIDDEN_READ,
  item2017,
  item2020,
  item2023,
  judge,
  policyWith,
} from './rule-test-kit.js';

const attackPathSource = (minimalRiskLevel: string) => ({
  notificationsSources: [
    { sourceType: 'Alert', minimalSeverity: 'High' },
    { sourceType: 'AttackPath', minimalRiskLevel },
  ],
});

describe('attack-path-notifications passes', () => {
  it.each([
    ['Critical', 'Critical', 'pass'],
    ['Critical', 'High', 'fail'],
    ['High', 'High', 'pass'],
    ['Medium', 'High', 'pass'],
    ['Low', 'High', 'pass'],
    ['High', 'Medium', 'fail'],
    ['Medium', 'Low', 'fail'],
    ['Low', 'Low', 'pass'],
  ])('a contact at %s under threshold %s: %s', (level, threshold, result) => {
    const outcome = judge(
      'attack-path-notifications',
      contactOf(item2023(attackPathSource(level))),
      policyWith({ attackPaths: { minimalRiskLevel: threshold } }),
    );
    expect(outcome.result).toBe(result);
  });

  it('says what it found when it passes', () => {
    expect(judge('attack-path-notifications', contactOf(item2023(attackPathSource('high'))))).toEqual({
      result: 'pass',
      message: 'Attack paths of risk level High and above are e-mailed.',
    });
  });

  it('passes the 2023 example under a policy that asks for Critical only', () => {
    const example = contactOf(responseBody('2023-12-01-preview', 'GetSecurityContact_example.json'));
    expect(judge('attack-path-notifications', example, policyWith({ attackPaths: { minimalRiskLevel: 'Critical' } }))).toEqual({
      result: 'pass',
      message: 'Attack paths of risk level Critical and above are e-mailed.',
    });
  });

  it('merges several contacts: a 2023 contact beside a 2017 one passes', () => {
    const contact = contactOf(item2017(), item2023(attackPathSource('High')));
    expect(judge('attack-path-notifications', contact).result).toBe('pass');
  });

  it('is required as the policy says', () => {
    expect(attackPathNotificationsRule.isRequired(DEFAULT_POLICY)).toBe(true);
    expect(attackPathNotificationsRule.isRequired(policyWith({ attackPaths: { required: false } }))).toBe(false);
  });
});

describe('attack-path-notifications fails', () => {
  it('fails an empty list with "no security contact"', () => {
    for (const none of [contactOf(), providerNotRegisteredContact()]) {
      expect(judge('attack-path-notifications', none)).toEqual({ result: 'fail', message: 'no security contact' });
    }
  });

  it('fails the 2023 example (Critical) under the default threshold High', () => {
    expect(judge('attack-path-notifications', contactOf(responseBody('2023-12-01-preview', 'GetSecurityContact_example.json')))).toEqual({
      result: 'fail',
      message: 'Attack paths are e-mailed only from risk level Critical; the policy requires High and above.',
    });
  });

  it('fails a disabled contact and one without an AttackPath source', () => {
    expect(judge('attack-path-notifications', contactOf(item2023({ ...attackPathSource('Low'), isEnabled: false }))).message).toBe(
      'Attack path e-mails are off: contact "default" is disabled (isEnabled is false).',
    );
    expect(
      judge('attack-path-notifications', contactOf(item2023({ notificationsSources: [{ sourceType: 'Alert', minimalSeverity: 'Low' }] })))
        .message,
    ).toBe('Attack path e-mails are off: contact "default" has no AttackPath notification source.');
  });

  it('fails an AttackPath source without minimalRiskLevel', () => {
    expect(judge('attack-path-notifications', contactOf(item2023({ notificationsSources: [{ sourceType: 'AttackPath' }] })))).toEqual({
      result: 'fail',
      message: 'Attack path e-mails are off: contact "default" has an AttackPath notification source without minimalRiskLevel.',
    });
  });

  it.each([
    ['2017-08-01-preview', () => item2017()],
    ['2020-01-01-preview', () => item2020()],
  ] as const)('fails the %s shape, saying it is an older API shape', (shape, item) => {
    expect(judge('attack-path-notifications', contactOf(item()), policyWith({ attackPaths: { minimalRiskLevel: 'Critical' } }))).toEqual({
      result: 'fail',
      message:
        `Attack path e-mails are off: contact "${shape === '2017-08-01-preview' ? 'default1' : 'default'}" uses an older API shape (${shape}) ` +
        'that cannot express attack path notifications; write it again with 2023-12-01-preview.',
    });
  });
});

describe('attack-path-notifications never passes what it cannot read', () => {
  it('fails an unknown risk level, naming it', () => {
    expect(judge('attack-path-notifications', contactOf(item2023(attackPathSource('Severe'))))).toEqual({
      result: 'fail',
      message: 'Contact "default": attack path minimalRiskLevel "Severe" is not one of Low, Medium, High, Critical.',
    });
  });

  it('passes when one contact e-mails from the threshold and another has a risk level it cannot read', () => {
    const paths = item2023({ notificationsSources: [{ sourceType: 'AttackPath', minimalRiskLevel: 'High' }] });
    const unreadable = item2023({ notificationsSources: [{ sourceType: 'AttackPath', minimalRiskLevel: 'Extreme' }] }, 'default2');
    expect(judge('attack-path-notifications', contactOf(paths, unreadable)).result).toBe('pass');
    expect(judge('attack-path-notifications', contactOf(unreadable))).toMatchObject({
      result: 'fail',
      message: expect.stringContaining('"Extreme"'),
    });
  });

  it('is error when the list could not be read at all', () => {
    expectJudgedUnreadable('attack-path-notifications', FORBIDDEN_READ, '403 Forbidden');
  });

  it.each([
    {
      shape: '2023-12-01-preview',
      unreadable: () => item2023({ notificationsSources: [{ sourceType: 'AttackPath', minimalRiskLevel: 3 }] }),
      reason: 'minimalRiskLevel must be a string, got number',
    },
    {
      shape: '2020-01-01-preview',
      unreadable: () => item2020({ emails: ['soc@fabrikam.com'] }),
      reason: 'properties.emails must be a string, got array',
    },
    {
      shape: '2017-08-01-preview',
      unreadable: () => item2017({ alertsToAdmins: 1 }),
      reason: 'properties.alertsToAdmins must be a string, got number',
    },
  ])('is error for a $shape contact of the wrong types, even beside a contact that e-mails attack paths', ({ unreadable, reason }) => {
    const readable = item2023(attackPathSource('High'), 'Default');
    expectJudgedUnreadable('attack-path-notifications', { kind: 'listed', contacts: [readable, unreadable()] }, reason);
  });
});

// Attack path notifications entered the benchmark in 4.0.0.
describeRuleMetadata('attack-path-notifications', attackPathNotificationsRule, {
  cis: { '4.0.0': '9.1.15', '5.0.0': '8.1.15', '6.0.0': '8.1.15' },
  azurePolicy: [],
});

describe('attack-path-notifications remediation', () => {
  it('adds an AttackPath notification source, written with the 2023-12-01-preview API', () => {
    expect(attackPathNotificationsRule.remediation.summary).toContain('AttackPath notification source');
    expect(attackPathNotificationsRule.remediation.summary).toContain('must be written again with 2023-12-01-preview');
  });
});
