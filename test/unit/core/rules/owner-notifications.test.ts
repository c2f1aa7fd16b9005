import { describe, expect, it } from 'vitest';
import { providerNotRegisteredContact } from '../../../../src/core/normalise.js';
import { DEFAULT_POLICY } from '../../../../src/core/policy.js';
import { ownerNotificationsRule } from '../../../../src/core/rules/owner-notifications.js';
import { listItems, responseBody } from '../../../support/fixtures.js';
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

describe('owner-notifications passes', () => {
  it('passes the 2023 and 2020 GET examples (roles On with Owner)', () => {
    for (const item of [
      responseBody('2023-12-01-preview', 'GetSecurityContact_example.json'),
      responseBody('2020-01-01-preview', 'GetSecurityContact_example.json'),
    ]) {
      expect(judge('owner-notifications', contactOf(item))).toEqual({
        result: 'pass',
        message: 'Subscription owners are e-mailed (roles: Owner).',
      });
    }
  });

  it('passes the list examples, whose roles ["Owner", "Admin"] include Owner, naming the unknown role', () => {
    for (const items of [
      listItems('2023-12-01-preview', 'GetSecurityContactsSubscription_example.json'),
      listItems('2020-01-01-preview', 'GetSecurityContactsSubscription_example.json'),
    ]) {
      expect(judge('owner-notifications', contactOf(...items))).toEqual({
        result: 'pass',
        message:
          'Subscription owners are e-mailed (roles: Owner; also listed: "Admin", which is not one of Owner, AccountAdmin, ServiceAdmin, Contributor).',
      });
    }
  });

  it('reads state and role case-insensitively', () => {
    expect(
      judge('owner-notifications', contactOf(item2023({ notificationsByRole: { state: 'on', roles: ['contributor', 'owner'] } }))),
    ).toEqual({
      result: 'pass',
      message: 'Subscription owners are e-mailed (roles: Contributor, Owner).',
    });
  });

  it('does not depend on isEnabled, as the contract words it', () => {
    expect(judge('owner-notifications', contactOf(item2023({ isEnabled: false }))).result).toBe('pass');
  });

  it('reads the 2017 shape: alertsToAdmins On passes, Off fails', () => {
    expect(judge('owner-notifications', contactOf(item2017()))).toEqual({
      result: 'pass',
      message: 'Subscription admins and owners are e-mailed (alertsToAdmins is On).',
    });
    expect(judge('owner-notifications', contactOf(item2017({ alertsToAdmins: 'Off' })))).toEqual({
      result: 'fail',
      message: 'Subscription owners are not e-mailed: contact "default1" has alertsToAdmins Off.',
    });
  });

  it('merges several contacts: one contact e-mailing owners is enough', () => {
    const contact = contactOf(item2023({ notificationsByRole: { state: 'Off', roles: ['Owner'] } }), item2017({}, 'default2'));
    expect(judge('owner-notifications', contact).result).toBe('pass');
  });

  it('is required as the policy says', () => {
    expect(ownerNotificationsRule.isRequired(DEFAULT_POLICY)).toBe(true);
    expect(ownerNotificationsRule.isRequired(policyWith({ owners: { required: false } }))).toBe(false);
  });
});

describe('owner-notifications fails', () => {
  it('fails an empty list with "no security contact"', () => {
    for (const none of [contactOf(), providerNotRegisteredContact()]) {
      expect(judge('owner-notifications', none)).toEqual({ result: 'fail', message: 'no security contact' });
    }
  });

  it('fails the 2023 create response whose notificationsByRole has no state', () => {
    expect(
      judge('owner-notifications', contactOf(responseBody('2023-12-01-preview', 'CreateSecurityContact_example.json', '201'))),
    ).toEqual({
      result: 'fail',
      message: 'Subscription owners are not e-mailed: contact "default" does not set notificationsByRole.state.',
    });
  });

  it('fails role notifications Off', () => {
    expect(judge('owner-notifications', contactOf(item2023({ notificationsByRole: { state: 'Off', roles: ['Owner'] } }))).message).toBe(
      'Subscription owners are not e-mailed: contact "default" has notificationsByRole.state Off.',
    );
  });

  it('fails role notifications Off in the 2020 shape', () => {
    expect(judge('owner-notifications', contactOf(item2020({ notificationsByRole: { state: 'Off', roles: ['Owner'] } })))).toEqual({
      result: 'fail',
      message: 'Subscription owners are not e-mailed: contact "default" has notificationsByRole.state Off.',
    });
  });

  it('fails the 2017 shape without alertsToAdmins', () => {
    const item = item2017();
    delete (item['properties'] as Record<string, unknown>)['alertsToAdmins'];
    expect(judge('owner-notifications', contactOf(item))).toEqual({
      result: 'fail',
      message: 'Subscription owners are not e-mailed: contact "default1" does not set alertsToAdmins.',
    });
  });

  it('fails roles without Owner, and an empty role list', () => {
    expect(
      judge('owner-notifications', contactOf(item2023({ notificationsByRole: { state: 'On', roles: ['AccountAdmin', 'ServiceAdmin'] } })))
        .message,
    ).toBe('Subscription owners are not e-mailed: contact "default" e-mails AccountAdmin, ServiceAdmin but not Owner.');
    expect(judge('owner-notifications', contactOf(item2023({ notificationsByRole: { state: 'On', roles: [] } }))).message).toBe(
      'Subscription owners are not e-mailed: contact "default" lists no roles.',
    );
  });

  it('fails an unknown role without Owner, naming it', () => {
    expect(judge('owner-notifications', contactOf(item2023({ notificationsByRole: { state: 'On', roles: ['Admin'] } })))).toEqual({
      result: 'fail',
      message:
        'Subscription owners are not e-mailed: contact "default" e-mails "Admin" but not Owner (role "Admin" is not one of Owner, AccountAdmin, ServiceAdmin, Contributor).',
    });
    expect(
      judge(
        'owner-notifications',
        contactOf(item2023({ notificationsByRole: { state: 'On', roles: ['Contributor', 'Admin', 'Reader'] } })),
      ),
    ).toEqual({
      result: 'fail',
      message:
        'Subscription owners are not e-mailed: contact "default" e-mails Contributor, "Admin", "Reader" but not Owner (roles "Admin", "Reader" are not one of Owner, AccountAdmin, ServiceAdmin, Contributor).',
    });
  });
});

describe('owner-notifications never passes what it cannot read', () => {
  it('fails an unknown state even when the roles include Owner and another role is unknown', () => {
    expect(
      judge('owner-notifications', contactOf(item2023({ notificationsByRole: { state: 'Enabled', roles: ['Owner', 'Admin'] } }))),
    ).toEqual({
      result: 'fail',
      message: 'Contact "default": notificationsByRole.state "Enabled" is not one of On, Off.',
    });
  });

  it('fails unknown states, naming them', () => {
    expect(judge('owner-notifications', contactOf(item2023({ notificationsByRole: { state: 'Enabled', roles: ['Owner'] } }))).message).toBe(
      'Contact "default": notificationsByRole.state "Enabled" is not one of On, Off.',
    );
    expect(judge('owner-notifications', contactOf(item2017({ alertsToAdmins: 'Sometimes' }))).message).toBe(
      'Contact "default1": alertsToAdmins "Sometimes" is not one of On, Off.',
    );
  });

  it('fails an unknown 2020 state, naming it', () => {
    expect(judge('owner-notifications', contactOf(item2020({ notificationsByRole: { state: 'Yes', roles: ['Owner'] } })))).toEqual({
      result: 'fail',
      message: 'Contact "default": notificationsByRole.state "Yes" is not one of On, Off.',
    });
  });

  it('passes when one contact e-mails Owner and another has a state it cannot read', () => {
    const owning = item2023({ notificationsByRole: { state: 'On', roles: ['Owner'] } });
    const unreadable = item2023({ notificationsByRole: { state: 'Enabled', roles: ['Owner'] } }, 'default2');
    expect(judge('owner-notifications', contactOf(owning, unreadable)).result).toBe('pass');
    // Without the contact that settles it, the unreadable state is what decides: it fails, named.
    expect(
      judge('owner-notifications', contactOf(item2023({ notificationsByRole: { state: 'Off', roles: ['Owner'] } }), unreadable)),
    ).toEqual({
      result: 'fail',
      message: 'Contact "default2": notificationsByRole.state "Enabled" is not one of On, Off.',
    });
  });

  it('is error when the list could not be read at all', () => {
    expectJudgedUnreadable('owner-notifications', FORBIDDEN_READ, '403 Forbidden');
  });

  it.each([
    {
      shape: '2023-12-01-preview',
      unreadable: () => item2023({ notificationsByRole: { state: 'On', roles: 'Owner' } }),
      reason: 'notificationsByRole.roles must be an array, got string',
    },
    {
      shape: '2020-01-01-preview',
      unreadable: () => item2020({ notificationsByRole: { state: 1, roles: ['Owner'] } }),
      reason: 'notificationsByRole.state must be a string, got number',
    },
    {
      shape: '2017-08-01-preview',
      unreadable: () => item2017({ alertsToAdmins: 1 }),
      reason: 'properties.alertsToAdmins must be a string, got number',
    },
  ])('is error for $shape role settings of the wrong type, even beside a contact that e-mails owners', ({ unreadable, reason }) => {
    const readable = item2023({}, 'Default');
    expectJudgedUnreadable('owner-notifications', { kind: 'listed', contacts: [readable, unreadable()] }, reason);
  });
});

describeRuleMetadata('owner-notifications', ownerNotificationsRule, {
  cis: { '1.3.0': '2.15', '2.0.0': '2.1.18', '3.0.0': '3.1.12', '4.0.0': '9.1.12', '5.0.0': '8.1.12', '6.0.0': '8.1.12' },
  azurePolicy: ['0b15565f-aa9e-48ba-8619-45960f2c314d'],
});

describe('owner-notifications remediation', () => {
  it('selects Owner in the portal', () => {
    expect(ownerNotificationsRule.remediation.portal).toContain("In 'All users with the following roles', select Owner.");
    expect(ownerNotificationsRule.remediation.summary).toContain('properties.notificationsByRole');
  });
});
