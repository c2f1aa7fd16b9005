import { describe, expect, it } from 'vitest';
import { providerNotRegisteredContact } from '../../../../src/core/normalise.js';
import { DEFAULT_POLICY } from '../../../../src/core/policy.js';
import { alertNotificationsRule } from '../../../../src/core/rules/alert-notifications.js';
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

const MEDIUM = policyWith({ alerts: { minimalSeverity: 'Medium' } });
const LOW = policyWith({ alerts: { minimalSeverity: 'Low' } });
const alertSource = (minimalSeverity: string) => ({
  notificationsSources: [
    { sourceType: 'Alert', minimalSeverity },
    { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
  ],
});

describe('alert-notifications passes', () => {
  it('passes the 2023 example (Medium) under the default threshold High', () => {
    expect(judge('alert-notifications', contactOf(item2023()))).toEqual({
      result: 'pass',
      message: 'Alerts of severity Medium and above are e-mailed.',
    });
  });

  it.each([
    ['High', 'High', 'pass'],
    ['Medium', 'High', 'pass'],
    ['Low', 'High', 'pass'],
    ['High', 'Medium', 'fail'],
    ['Medium', 'Medium', 'pass'],
    ['Low', 'Medium', 'pass'],
    ['High', 'Low', 'fail'],
    ['Medium', 'Low', 'fail'],
    ['Low', 'Low', 'pass'],
  ])('a contact at %s under threshold %s: %s', (severity, threshold, result) => {
    const outcome = judge(
      'alert-notifications',
      contactOf(item2023(alertSource(severity))),
      policyWith({ alerts: { minimalSeverity: threshold } }),
    );
    expect(outcome.result).toBe(result);
  });

  it('reads the 2020 shape: state On with its minimal severity', () => {
    const example = contactOf(responseBody('2020-01-01-preview', 'GetSecurityContact_example.json'));
    expect(judge('alert-notifications', example, LOW)).toEqual({
      result: 'pass',
      message: 'Alerts of severity Low and above are e-mailed.',
    });
    const high = contactOf(item2020({ alertNotifications: { state: 'On', minimalSeverity: 'High' } }));
    expect(judge('alert-notifications', high, MEDIUM).result).toBe('fail');
  });

  it('reads the 2017 shape: "On" means High', () => {
    const contact = contactOf(item2017());
    expect(judge('alert-notifications', contact)).toEqual({ result: 'pass', message: 'Alerts of severity High and above are e-mailed.' });
    expect(judge('alert-notifications', contact, MEDIUM).result).toBe('fail');
  });

  it('reads states and severities in any case', () => {
    const contact = contactOf(item2020({ alertNotifications: { state: 'on', minimalSeverity: 'medium' } }));
    expect(judge('alert-notifications', contact, MEDIUM).result).toBe('pass');
  });

  it('merges several contacts: one enabled contact is enough', () => {
    const contact = contactOf(item2017({ alertNotifications: 'Off' }), item2023(alertSource('High'), 'default'));
    expect(judge('alert-notifications', contact).result).toBe('pass');
  });

  it('merges several contacts: the most inclusive enabled severity counts', () => {
    const contact = contactOf(
      item2023(alertSource('High')),
      item2020({ alertNotifications: { state: 'On', minimalSeverity: 'Low' } }, 'default2'),
    );
    expect(judge('alert-notifications', contact, LOW)).toEqual({
      result: 'pass',
      message: 'Alerts of severity Low and above are e-mailed.',
    });
  });

  it('is required as the policy says', () => {
    expect(alertNotificationsRule.isRequired(DEFAULT_POLICY)).toBe(true);
    expect(alertNotificationsRule.isRequired(policyWith({ alerts: { required: false } }))).toBe(false);
  });
});

describe('alert-notifications fails', () => {
  it('fails an empty list with "no security contact"', () => {
    for (const none of [contactOf(), providerNotRegisteredContact()]) {
      expect(judge('alert-notifications', none)).toEqual({ result: 'fail', message: 'no security contact' });
    }
  });

  it('says what it found and what the policy wants when the severity is too high', () => {
    expect(judge('alert-notifications', contactOf(item2023(alertSource('High'))), MEDIUM)).toEqual({
      result: 'fail',
      message: 'Alerts are e-mailed only from severity High; the policy requires Medium and above.',
    });
  });

  it('fails a disabled 2023 contact (isEnabled false)', () => {
    expect(judge('alert-notifications', contactOf(item2023({ isEnabled: false })))).toEqual({
      result: 'fail',
      message: 'Alert e-mails are off: contact "default" is disabled (isEnabled is false).',
    });
  });

  it('fails a 2023 contact without an Alert source', () => {
    const contact = contactOf(item2023({ notificationsSources: [{ sourceType: 'AttackPath', minimalRiskLevel: 'High' }] }));
    expect(judge('alert-notifications', contact)).toEqual({
      result: 'fail',
      message: 'Alert e-mails are off: contact "default" has no Alert notification source.',
    });
  });

  it('fails a 2023 Alert source without minimalSeverity', () => {
    const contact = contactOf(item2023({ notificationsSources: [{ sourceType: 'Alert' }] }));
    expect(judge('alert-notifications', contact).message).toBe(
      'Alert e-mails are off: contact "default" has an Alert notification source without minimalSeverity.',
    );
  });

  it('fails the 2020 shape with state Off or no state', () => {
    expect(judge('alert-notifications', contactOf(item2020({ alertNotifications: { state: 'Off', minimalSeverity: 'Low' } })))).toEqual({
      result: 'fail',
      message: 'Alert e-mails are off: contact "default" has alertNotifications.state Off.',
    });
    expect(judge('alert-notifications', contactOf(item2020({ alertNotifications: { minimalSeverity: 'Low' } }))).message).toBe(
      'Alert e-mails are off: contact "default" does not set alertNotifications.state.',
    );
  });

  it('fails the 2020 shape with state On but no minimalSeverity', () => {
    expect(judge('alert-notifications', contactOf(item2020({ alertNotifications: { state: 'On' } })))).toEqual({
      result: 'fail',
      message: 'Alert e-mails are off: contact "default" does not set alertNotifications.minimalSeverity.',
    });
  });

  it('fails the 2017 shape with alertNotifications Off', () => {
    expect(judge('alert-notifications', contactOf(item2017({ alertNotifications: 'Off' })))).toEqual({
      result: 'fail',
      message: 'Alert e-mails are off: contact "default1" has alertNotifications Off.',
    });
  });

  it('fails the 2017 shape without alertNotifications', () => {
    const item = item2017();
    delete (item['properties'] as Record<string, unknown>)['alertNotifications'];
    expect(judge('alert-notifications', contactOf(item))).toEqual({
      result: 'fail',
      message: 'Alert e-mails are off: contact "default1" does not set alertNotifications.',
    });
  });

  it('merges several contacts: a disabled contact at Low does not count', () => {
    const contact = contactOf(item2023({ ...alertSource('Low'), isEnabled: false }), item2017({}, 'default2'));
    expect(judge('alert-notifications', contact, LOW).message).toBe(
      'Alerts are e-mailed only from severity High; the policy requires Low and above.',
    );
  });

  it('explains each contact when none has alert e-mails on', () => {
    const contact = contactOf(item2023({ isEnabled: false }), item2017({ alertNotifications: 'Off' }, 'default2'));
    expect(judge('alert-notifications', contact).message).toBe(
      'Alert e-mails are off: contact "default" is disabled (isEnabled is false); contact "default2" has alertNotifications Off.',
    );
  });
});

describe('alert-notifications never passes what it cannot read', () => {
  it('fails an unknown severity, naming it', () => {
    expect(judge('alert-notifications', contactOf(item2023(alertSource('Severe'))), DEFAULT_POLICY)).toEqual({
      result: 'fail',
      message: 'Contact "default": alert minimalSeverity "Severe" is not one of Low, Medium, High.',
    });
  });

  it('fails an unknown 2020 severity, naming it', () => {
    const contact = contactOf(item2020({ alertNotifications: { state: 'On', minimalSeverity: 'Urgent' } }));
    expect(judge('alert-notifications', contact)).toEqual({
      result: 'fail',
      message: 'Contact "default": alert minimalSeverity "Urgent" is not one of Low, Medium, High.',
    });
  });

  it('fails an unknown state, naming it', () => {
    expect(
      judge('alert-notifications', contactOf(item2020({ alertNotifications: { state: 'Enabled', minimalSeverity: 'High' } }))).message,
    ).toBe('Contact "default": alertNotifications.state "Enabled" is not one of On, Off.');
    expect(judge('alert-notifications', contactOf(item2017({ alertNotifications: 'Yes' }))).message).toBe(
      'Contact "default1": alertNotifications "Yes" is not one of On, Off.',
    );
  });

  it('passes when one contact e-mails from the threshold and another has a severity it cannot read', () => {
    const alerting = item2023({ notificationsSources: [{ sourceType: 'Alert', minimalSeverity: 'High' }] });
    const unreadable = item2023({ notificationsSources: [{ sourceType: 'Alert', minimalSeverity: 'Severe' }] }, 'default2');
    expect(judge('alert-notifications', contactOf(alerting, unreadable)).result).toBe('pass');
    // Under a stricter policy the readable contact does not settle it, and the unreadable value could.
    const strict = policyWith({ alerts: { minimalSeverity: 'Low' } });
    expect(judge('alert-notifications', contactOf(alerting, unreadable), strict)).toMatchObject({
      result: 'fail',
      message: expect.stringContaining('"Severe"'),
    });
  });

  it('is error when the list could not be read at all', () => {
    expectJudgedUnreadable('alert-notifications', FORBIDDEN_READ, '403 Forbidden');
  });

  it.each([
    {
      shape: '2023-12-01-preview',
      unreadable: () => item2023({ notificationsSources: [{ sourceType: 'Alert', minimalSeverity: 3 }] }),
      reason: 'minimalSeverity must be a string, got number',
    },
    {
      shape: '2020-01-01-preview',
      unreadable: () => item2020({ alertNotifications: { state: true, minimalSeverity: 'High' } }),
      reason: 'alertNotifications.state must be a string, got boolean',
    },
    {
      shape: '2017-08-01-preview',
      unreadable: () => item2017({ alertNotifications: true }),
      reason: 'properties.alertNotifications must be a string, got boolean',
    },
  ])('is error for $shape alert settings of the wrong type, even beside a contact that e-mails alerts', ({ unreadable, reason }) => {
    const readable = item2023(alertSource('High'), 'Default');
    expectJudgedUnreadable('alert-notifications', { kind: 'listed', contacts: [readable, unreadable()] }, reason);
  });
});

describeRuleMetadata('alert-notifications', alertNotificationsRule, {
  cis: { '1.3.0': '2.14', '2.0.0': '2.1.20', '3.0.0': '3.1.14', '4.0.0': '9.1.14', '5.0.0': '8.1.14', '6.0.0': '8.1.14' },
  azurePolicy: ['6e2593d9-add6-4083-9c9b-4b7d2188c899'],
});

describe('alert-notifications remediation', () => {
  it('adds an Alert notification source', () => {
    expect(alertNotificationsRule.remediation.summary).toContain('Alert notification source');
    expect(alertNotificationsRule.remediation.portal).toContain(
      "Tick 'Notify about alerts with the following severity (or higher)' and choose High, or the lower severity your policy requires.",
    );
  });
});
