import { describe, expect, it } from 'vitest';
import { providerNotRegisteredContact } from '../../../../src/core/normalise.js';
import { contactExistsRule } from '../../../../src/core/rules/contact-exists.js';
import type { SubscriptionContact } from '../../../../src/core/model.js';
import { GET_AND_LIST_ITEMS, listItems } from '../../../support/fixtures.js';
import {
  contactOf,
  describeRuleMetadata,
  expectJudgedUnreadable,
  FORBIDDEN_READ,
  item2017,
  item2020,
  item2023,
  judge,
  RELAXED_POLICY,
} from './rule-test-kit.js';

const ROLES_OFF = { state: 'Off', roles: [] };

describe('contact-exists passes', () => {
  it('passes with the contacts it found, named', () => {
    expect(judge('contact-exists', contactOf(item2023()))).toEqual({ result: 'pass', message: 'Security contact "default" is set.' });
    expect(
      judge(
        'contact-exists',
        contactOf(...listItems('2017-08-01-preview', 'GetSecurityContactsSubscription_full_example.json'), item2023({}, 'Default')),
      ),
    ).toEqual({
      result: 'pass',
      message: '2 security contacts are set: "default1", "Default".',
    });
  });

  it.each(GET_AND_LIST_ITEMS)('passes the $version $file contact, whatever its settings', ({ item }) => {
    const found = item();
    expect(judge('contact-exists', contactOf(found))).toEqual({
      result: 'pass',
      message: `Security contact ${JSON.stringify(found['name'])} is set.`,
    });
  });

  it.each([
    ['2023-12-01-preview', () => item2023({ emails: '', isEnabled: false, notificationsByRole: ROLES_OFF, notificationsSources: [] })],
    ['2020-01-01-preview', () => item2020({ emails: '', alertNotifications: { state: 'Off' }, notificationsByRole: ROLES_OFF })],
    ['2017-08-01-preview', () => item2017({ email: '', alertNotifications: 'Off', alertsToAdmins: 'Off' })],
  ] as const)('passes a %s contact with no address and every notification off: it exists', (shape, item) => {
    const contact = contactOf(item());
    expect(contact.entries[0]?.shape).toBe(shape);
    expect(judge('contact-exists', contact).result).toBe('pass');
  });

  it('is required whatever the policy says', () => {
    expect(contactExistsRule.isRequired(RELAXED_POLICY)).toBe(true);
  });
});

describe('contact-exists fails', () => {
  it('fails an empty list', () => {
    expect(judge('contact-exists', contactOf())).toEqual({
      result: 'fail',
      message: 'No security contact is set on this subscription.',
    });
  });

  it('says the provider is not registered when that is why no contact exists', () => {
    const outcome = judge('contact-exists', providerNotRegisteredContact());
    expect(outcome.result).toBe('fail');
    expect(outcome.message).toMatch(/^No security contact can exist: the Microsoft\.Security resource provider is not registered/);
    expect(outcome.message).toContain('az provider register --namespace Microsoft.Security');
  });

  it('words a reason given by the service as one sentence', () => {
    const contact: SubscriptionContact = {
      entries: [],
      absentReason: "The subscription is not registered to use namespace 'Microsoft.Security'.",
    };
    expect(judge('contact-exists', contact)).toEqual({
      result: 'fail',
      message: "No security contact can exist: The subscription is not registered to use namespace 'Microsoft.Security'.",
    });
  });
});

describe('contact-exists never passes what could not be read', () => {
  it('is error when the list could not be read at all', () => {
    expectJudgedUnreadable('contact-exists', FORBIDDEN_READ, '403 Forbidden');
  });

  it.each([
    ['an item that is not an object', [42], 'contact 0: must be an object, got number'],
    ['an item without properties', [{ name: 'default' }], 'contact 0 (default): properties is missing'],
  ])('is error for %s, though the list is not empty', (_label, contacts, reason) => {
    expectJudgedUnreadable('contact-exists', { kind: 'listed', contacts }, reason);
  });

  it.each([
    {
      shape: '2023-12-01-preview',
      unreadable: () => item2023({ isEnabled: 'yes' }),
      reason: 'properties.isEnabled must be a boolean, got string',
    },
    {
      shape: '2020-01-01-preview',
      unreadable: () => item2020({ emails: ['soc@fabrikam.com'] }),
      reason: 'properties.emails must be a string, got array',
    },
    {
      shape: '2017-08-01-preview',
      unreadable: () => item2017({ email: 42 }),
      reason: 'properties.email must be a string, got number',
    },
  ])('is error for a $shape contact of the wrong types beside a readable one', ({ unreadable, reason }) => {
    const readable = item2023({}, 'Default');
    expectJudgedUnreadable('contact-exists', { kind: 'listed', contacts: [readable, unreadable()] }, reason);
  });
});

describeRuleMetadata('contact-exists', contactExistsRule, {
  cis: { '1.3.0': '2.13', '2.0.0': '2.1.19', '3.0.0': '3.1.13', '4.0.0': '9.1.13', '5.0.0': '8.1.13', '6.0.0': '8.1.13' },
  azurePolicy: ['4f4f78b8-e367-4b10-a341-d9a4ad5cf1c7'],
});

describe('contact-exists remediation', () => {
  it('registers the Microsoft.Security provider before creating the contact', () => {
    expect(contactExistsRule.remediation.azCli).toContain('az provider register --namespace Microsoft.Security');
  });
});
