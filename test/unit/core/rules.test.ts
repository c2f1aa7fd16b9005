import { describe, expect, it } from 'vitest';
import { normaliseContactList, providerNotRegisteredContact } from '../../../src/core/normalise.js';
import { DEFAULT_POLICY, parsePolicy } from '../../../src/core/policy.js';
import { RULES, ruleById } from '../../../src/core/rules/index.js';
import type { Policy, RuleId, SubscriptionContact } from '../../../src/core/model.js';
import type { RuleOutcome } from '../../../src/core/rules/rule.js';
import { listItems, responseBody } from '../../support/fixtures.js';

function contactOf(...items: unknown[]): SubscriptionContact {
  const outcome = normaliseContactList(items);
  if (!outcome.ok) throw new Error(outcome.message);
  return outcome.contact;
}

/** The real 2023 GET example with its properties changed (contoso addresses replaced by real-looking ones). */
function item2023(changes: Record<string, unknown> = {}, name = 'default'): Record<string, unknown> {
  const item = responseBody('2023-12-01-preview', 'GetSecurityContact_example.json');
  return { ...item, name, properties: { ...(item['properties'] as object), emails: 'soc@fabrikam.com', ...changes } };
}

function item2020(changes: Record<string, unknown> = {}, name = 'default'): Record<string, unknown> {
  const item = responseBody('2020-01-01-preview', 'GetSecurityContact_example.json');
  return { ...item, name, properties: { ...(item['properties'] as object), emails: 'soc@fabrikam.com', ...changes } };
}

function item2017(changes: Record<string, unknown> = {}, name = 'default1'): Record<string, unknown> {
  const item = responseBody('2017-08-01-preview', 'GetSecurityContact_full_example.json');
  return { ...item, name, properties: { ...(item['properties'] as object), email: 'soc@fabrikam.com', ...changes } };
}

function policyWith(input: unknown): Policy {
  return parsePolicy(input, 'test-policy.json');
}

function judge(ruleId: RuleId, contact: SubscriptionContact, policy: Policy = DEFAULT_POLICY): RuleOutcome {
  return ruleById(ruleId).evaluate(contact, policy);
}

const OTHER_RULES: RuleId[] = ['email-configured', 'alert-notifications', 'owner-notifications', 'attack-path-notifications'];

describe('contact-exists', () => {
  it('fails an empty list, and every other rule fails with "no security contact"', () => {
    const none = contactOf();
    expect(judge('contact-exists', none)).toEqual({ result: 'fail', message: 'No security contact is set on this subscription.' });
    for (const ruleId of OTHER_RULES) {
      expect(judge(ruleId, none), ruleId).toEqual({ result: 'fail', message: 'no security contact' });
    }
  });

  it('says the provider is not registered when that is why no contact exists', () => {
    const outcome = judge('contact-exists', providerNotRegisteredContact());
    expect(outcome.result).toBe('fail');
    expect(outcome.message).toMatch(/^No security contact can exist: the Microsoft\.Security resource provider is not registered/);
    expect(outcome.message).toContain('az provider register --namespace Microsoft.Security');
    expect(judge('email-configured', providerNotRegisteredContact()).message).toBe('no security contact');
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

  it('passes with the contacts it found, named', () => {
    expect(judge('contact-exists', contactOf(item2023()))).toEqual({ result: 'pass', message: 'Security contact "default" is set.' });
    expect(judge('contact-exists', contactOf(...listItems('2017-08-01-preview', 'GetSecurityContactsSubscription_full_example.json'), item2023({}, 'Default')))).toEqual({
      result: 'pass',
      message: '2 security contacts are set: "default1", "Default".',
    });
  });
});

describe('email-configured', () => {
  it('fails the Azure examples, whose addresses are on contoso.com', () => {
    const outcome = judge('email-configured', contactOf(responseBody('2023-12-01-preview', 'GetSecurityContact_example.json')));
    expect(outcome).toEqual({
      result: 'fail',
      message: 'On a placeholder domain that reaches no security team: "john@contoso.com", "jane@contoso.com".',
    });
  });

  it.each(['', ' ', ' ; , '])('fails an emails value of %j as no address', (emails) => {
    expect(judge('email-configured', contactOf(item2023({ emails })))).toEqual({
      result: 'fail',
      message: 'No e-mail address is set on the security contact.',
    });
  });

  it('fails a contact without an emails field', () => {
    const item = item2023();
    delete (item['properties'] as Record<string, unknown>)['emails'];
    expect(judge('email-configured', contactOf(item)).result).toBe('fail');
  });

  it('passes real addresses, separated by ; or , with white space around them', () => {
    expect(judge('email-configured', contactOf(item2023({ emails: ' soc@fabrikam.com ,ciso@fabrikam.com; ' })))).toEqual({
      result: 'pass',
      message: 'Security alerts are e-mailed to soc@fabrikam.com, ciso@fabrikam.com.',
    });
  });

  it('fails an invalid address and names it', () => {
    expect(judge('email-configured', contactOf(item2023({ emails: 'soc@fabrikam.com;soc-at-fabrikam.com' })))).toEqual({
      result: 'fail',
      message: 'Not a valid e-mail address: "soc-at-fabrikam.com".',
    });
  });

  it.each(['soc@example.com', 'soc@example.org', 'soc@example.net', 'soc@contoso.com', 'soc@corp.example', 'soc@fabrikam.test', 'soc@x.invalid', 'soc@app.localhost'])(
    'fails the placeholder address %s',
    (address) => {
      const outcome = judge('email-configured', contactOf(item2023({ emails: `ciso@fabrikam.com;${address}` })));
      expect(outcome.result).toBe('fail');
      expect(outcome.message).toContain(`"${address}"`);
    },
  );

  it('with allowedDomains, passes the domains and their subdomains, case-insensitively', () => {
    const policy = policyWith({ emails: { allowedDomains: ['fabrikam.com', 'northwind.io'] } });
    const contact = contactOf(item2023({ emails: 'SOC@Fabrikam.com;noc@eu.mail.fabrikam.com;ciso@northwind.io' }));
    expect(judge('email-configured', contact, policy).result).toBe('pass');
  });

  it('with allowedDomains, fails and names addresses outside them', () => {
    const policy = policyWith({ emails: { allowedDomains: ['fabrikam.com'] } });
    const contact = contactOf(item2023({ emails: 'soc@fabrikam.com;me@gmail.com;x@evilfabrikam.com' }));
    expect(judge('email-configured', contact, policy)).toEqual({
      result: 'fail',
      message: 'Outside the allowed domains (fabrikam.com): "me@gmail.com", "x@evilfabrikam.com".',
    });
  });

  it('names every kind of problem in one message', () => {
    const policy = policyWith({ emails: { allowedDomains: ['fabrikam.com'] } });
    const contact = contactOf(item2023({ emails: 'bad@;a@contoso.com;me@gmail.com' }));
    expect(judge('email-configured', contact, policy).message).toBe(
      'Not a valid e-mail address: "bad@". On a placeholder domain that reaches no security team: "a@contoso.com". ' +
        'Outside the allowed domains (fabrikam.com): "me@gmail.com".',
    );
  });

  it('merges the addresses of several contacts: one empty contact does not fail the union', () => {
    const contact = contactOf(item2023({ emails: '' }, 'default'), item2017({ email: 'ciso@fabrikam.com' }));
    expect(judge('email-configured', contact)).toEqual({ result: 'pass', message: 'Security alerts are e-mailed to ciso@fabrikam.com.' });
  });

  it('merges the addresses of several contacts: a bad address in any of them fails', () => {
    const contact = contactOf(item2023(), item2017({ email: 'john@contoso.com' }));
    expect(judge('email-configured', contact).result).toBe('fail');
  });

  it('judges addresses repeated across contacts once', () => {
    const contact = contactOf(item2023({ emails: 'SOC@fabrikam.com' }), item2020({ emails: 'soc@fabrikam.com' }));
    expect(judge('email-configured', contact).message).toBe('Security alerts are e-mailed to SOC@fabrikam.com.');
  });
});

describe('alert-notifications', () => {
  const MEDIUM = policyWith({ alerts: { minimalSeverity: 'Medium' } });
  const LOW = policyWith({ alerts: { minimalSeverity: 'Low' } });
  const alertSource = (minimalSeverity: string) => ({
    notificationsSources: [
      { sourceType: 'Alert', minimalSeverity },
      { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
    ],
  });

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
    const outcome = judge('alert-notifications', contactOf(item2023(alertSource(severity))), policyWith({ alerts: { minimalSeverity: threshold } }));
    expect(outcome.result).toBe(result);
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

  it('reads the 2020 shape: state On with its minimal severity', () => {
    const example = contactOf(responseBody('2020-01-01-preview', 'GetSecurityContact_example.json'));
    expect(judge('alert-notifications', example, LOW)).toEqual({ result: 'pass', message: 'Alerts of severity Low and above are e-mailed.' });
    const high = contactOf(item2020({ alertNotifications: { state: 'On', minimalSeverity: 'High' } }));
    expect(judge('alert-notifications', high, MEDIUM).result).toBe('fail');
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

  it('reads the 2017 shape: "On" means High', () => {
    const contact = contactOf(item2017());
    expect(judge('alert-notifications', contact)).toEqual({ result: 'pass', message: 'Alerts of severity High and above are e-mailed.' });
    expect(judge('alert-notifications', contact, MEDIUM).result).toBe('fail');
  });

  it('fails the 2017 shape with alertNotifications Off', () => {
    expect(judge('alert-notifications', contactOf(item2017({ alertNotifications: 'Off' })))).toEqual({
      result: 'fail',
      message: 'Alert e-mails are off: contact "default1" has alertNotifications Off.',
    });
  });

  it('reads states and severities in any case', () => {
    const contact = contactOf(item2020({ alertNotifications: { state: 'on', minimalSeverity: 'medium' } }));
    expect(judge('alert-notifications', contact, MEDIUM).result).toBe('pass');
  });

  it('fails an unknown severity, naming it', () => {
    expect(judge('alert-notifications', contactOf(item2023(alertSource('Severe'))), DEFAULT_POLICY)).toEqual({
      result: 'fail',
      message: 'Contact "default": alert minimalSeverity "Severe" is not one of Low, Medium, High.',
    });
  });

  it('fails an unknown state, naming it', () => {
    expect(judge('alert-notifications', contactOf(item2020({ alertNotifications: { state: 'Enabled', minimalSeverity: 'High' } }))).message).toBe(
      'Contact "default": alertNotifications.state "Enabled" is not one of On, Off.',
    );
    expect(judge('alert-notifications', contactOf(item2017({ alertNotifications: 'Yes' }))).message).toBe(
      'Contact "default1": alertNotifications "Yes" is not one of On, Off.',
    );
  });

  it('merges several contacts: one enabled contact is enough', () => {
    const contact = contactOf(item2017({ alertNotifications: 'Off' }), item2023(alertSource('High'), 'default'));
    expect(judge('alert-notifications', contact).result).toBe('pass');
  });

  it('merges several contacts: the most inclusive enabled severity counts', () => {
    const contact = contactOf(item2023(alertSource('High')), item2020({ alertNotifications: { state: 'On', minimalSeverity: 'Low' } }, 'default2'));
    expect(judge('alert-notifications', contact, LOW)).toEqual({ result: 'pass', message: 'Alerts of severity Low and above are e-mailed.' });
  });

  it('merges several contacts: a disabled contact at Low does not count', () => {
    const contact = contactOf(item2023({ ...alertSource('Low'), isEnabled: false }), item2017({}, 'default2'));
    expect(judge('alert-notifications', contact, LOW).message).toBe('Alerts are e-mailed only from severity High; the policy requires Low and above.');
  });

  it('explains each contact when none has alert e-mails on', () => {
    const contact = contactOf(item2023({ isEnabled: false }), item2017({ alertNotifications: 'Off' }, 'default2'));
    expect(judge('alert-notifications', contact).message).toBe(
      'Alert e-mails are off: contact "default" is disabled (isEnabled is false); contact "default2" has alertNotifications Off.',
    );
  });
});

describe('owner-notifications', () => {
  it('passes the 2023 and 2020 GET examples (roles On with Owner)', () => {
    for (const item of [
      responseBody('2023-12-01-preview', 'GetSecurityContact_example.json'),
      responseBody('2020-01-01-preview', 'GetSecurityContact_example.json'),
    ]) {
      expect(judge('owner-notifications', contactOf(item))).toEqual({ result: 'pass', message: 'Subscription owners are e-mailed (roles: Owner).' });
    }
  });

  it('passes the list examples, whose roles ["Owner", "Admin"] include Owner, naming the unknown role', () => {
    for (const items of [
      listItems('2023-12-01-preview', 'GetSecurityContactsSubscription_example.json'),
      listItems('2020-01-01-preview', 'GetSecurityContactsSubscription_example.json'),
    ]) {
      expect(judge('owner-notifications', contactOf(...items))).toEqual({
        result: 'pass',
        message: 'Subscription owners are e-mailed (roles: Owner; also listed: "Admin", which is not one of Owner, AccountAdmin, ServiceAdmin, Contributor).',
      });
    }
  });

  it('fails an unknown role without Owner, naming it', () => {
    expect(judge('owner-notifications', contactOf(item2023({ notificationsByRole: { state: 'On', roles: ['Admin'] } })))).toEqual({
      result: 'fail',
      message:
        'Subscription owners are not e-mailed: contact "default" e-mails "Admin" but not Owner (role "Admin" is not one of Owner, AccountAdmin, ServiceAdmin, Contributor).',
    });
    expect(judge('owner-notifications', contactOf(item2023({ notificationsByRole: { state: 'On', roles: ['Contributor', 'Admin', 'Reader'] } })))).toEqual({
      result: 'fail',
      message:
        'Subscription owners are not e-mailed: contact "default" e-mails Contributor, "Admin", "Reader" but not Owner (roles "Admin", "Reader" are not one of Owner, AccountAdmin, ServiceAdmin, Contributor).',
    });
  });

  it('fails an unknown state even when the roles include Owner and another role is unknown', () => {
    expect(judge('owner-notifications', contactOf(item2023({ notificationsByRole: { state: 'Enabled', roles: ['Owner', 'Admin'] } })))).toEqual({
      result: 'fail',
      message: 'Contact "default": notificationsByRole.state "Enabled" is not one of On, Off.',
    });
  });

  it('fails the 2023 create response whose notificationsByRole has no state', () => {
    expect(judge('owner-notifications', contactOf(responseBody('2023-12-01-preview', 'CreateSecurityContact_example.json', '201')))).toEqual({
      result: 'fail',
      message: 'Subscription owners are not e-mailed: contact "default" does not set notificationsByRole.state.',
    });
  });

  it('fails role notifications Off', () => {
    expect(judge('owner-notifications', contactOf(item2023({ notificationsByRole: { state: 'Off', roles: ['Owner'] } }))).message).toBe(
      'Subscription owners are not e-mailed: contact "default" has notificationsByRole.state Off.',
    );
  });

  it('fails roles without Owner, and an empty role list', () => {
    expect(judge('owner-notifications', contactOf(item2023({ notificationsByRole: { state: 'On', roles: ['AccountAdmin', 'ServiceAdmin'] } }))).message).toBe(
      'Subscription owners are not e-mailed: contact "default" e-mails AccountAdmin, ServiceAdmin but not Owner.',
    );
    expect(judge('owner-notifications', contactOf(item2023({ notificationsByRole: { state: 'On', roles: [] } }))).message).toBe(
      'Subscription owners are not e-mailed: contact "default" lists no roles.',
    );
  });

  it('reads state and role case-insensitively', () => {
    expect(judge('owner-notifications', contactOf(item2023({ notificationsByRole: { state: 'on', roles: ['contributor', 'owner'] } })))).toEqual({
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

  it('fails unknown states, naming them', () => {
    expect(judge('owner-notifications', contactOf(item2023({ notificationsByRole: { state: 'Enabled', roles: ['Owner'] } }))).message).toBe(
      'Contact "default": notificationsByRole.state "Enabled" is not one of On, Off.',
    );
    expect(judge('owner-notifications', contactOf(item2017({ alertsToAdmins: 'Sometimes' }))).message).toBe(
      'Contact "default1": alertsToAdmins "Sometimes" is not one of On, Off.',
    );
  });

  it('merges several contacts: one contact e-mailing owners is enough', () => {
    const contact = contactOf(item2023({ notificationsByRole: { state: 'Off', roles: ['Owner'] } }), item2017({}, 'default2'));
    expect(judge('owner-notifications', contact).result).toBe('pass');
  });
});

describe('attack-path-notifications', () => {
  const attackPathSource = (minimalRiskLevel: string) => ({
    notificationsSources: [
      { sourceType: 'Alert', minimalSeverity: 'High' },
      { sourceType: 'AttackPath', minimalRiskLevel },
    ],
  });

  it('fails the 2023 example (Critical) under the default threshold High', () => {
    expect(judge('attack-path-notifications', contactOf(responseBody('2023-12-01-preview', 'GetSecurityContact_example.json')))).toEqual({
      result: 'fail',
      message: 'Attack paths are e-mailed only from risk level Critical; the policy requires High and above.',
    });
  });

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
    const outcome = judge('attack-path-notifications', contactOf(item2023(attackPathSource(level))), policyWith({ attackPaths: { minimalRiskLevel: threshold } }));
    expect(outcome.result).toBe(result);
  });

  it('says what it found when it passes', () => {
    expect(judge('attack-path-notifications', contactOf(item2023(attackPathSource('high'))))).toEqual({
      result: 'pass',
      message: 'Attack paths of risk level High and above are e-mailed.',
    });
  });

  it('fails a disabled contact and one without an AttackPath source', () => {
    expect(judge('attack-path-notifications', contactOf(item2023({ ...attackPathSource('Low'), isEnabled: false }))).message).toBe(
      'Attack path e-mails are off: contact "default" is disabled (isEnabled is false).',
    );
    expect(judge('attack-path-notifications', contactOf(item2023({ notificationsSources: [{ sourceType: 'Alert', minimalSeverity: 'Low' }] }))).message).toBe(
      'Attack path e-mails are off: contact "default" has no AttackPath notification source.',
    );
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

  it('fails an unknown risk level, naming it', () => {
    expect(judge('attack-path-notifications', contactOf(item2023(attackPathSource('Severe'))))).toEqual({
      result: 'fail',
      message: 'Contact "default": attack path minimalRiskLevel "Severe" is not one of Low, Medium, High, Critical.',
    });
  });

  it('merges several contacts: a 2023 contact beside a 2017 one passes', () => {
    const contact = contactOf(item2017(), item2023(attackPathSource('High')));
    expect(judge('attack-path-notifications', contact).result).toBe('pass');
  });
});

describe('RULES', () => {
  it('lists the five rules in contract order', () => {
    expect(RULES.map((rule) => rule.id)).toEqual([
      'contact-exists',
      'email-configured',
      'alert-notifications',
      'owner-notifications',
      'attack-path-notifications',
    ]);
  });

  it('finds a rule by id, and nothing for an unknown id', () => {
    expect(ruleById('owner-notifications').title).toBe('Subscription owners are e-mailed about security alerts');
    expect(ruleById('no-such-rule')).toBeUndefined();
  });

  it('requires contact-exists and email-configured whatever the policy says, the others as the policy says', () => {
    const relaxed = policyWith({ alerts: { required: false }, owners: { required: false }, attackPaths: { required: false } });
    expect(RULES.filter((rule) => rule.isRequired(relaxed)).map((rule) => rule.id)).toEqual(['contact-exists', 'email-configured']);
    expect(RULES.every((rule) => rule.isRequired(DEFAULT_POLICY))).toBe(true);
  });
});

describe('several contacts: a value no outcome depends on fails nothing', () => {
  it('owner-notifications passes when one contact e-mails Owner and another has a state it cannot read', () => {
    const owning = item2023({ notificationsByRole: { state: 'On', roles: ['Owner'] } });
    const unreadable = item2023({ notificationsByRole: { state: 'Enabled', roles: ['Owner'] } }, 'default2');
    expect(judge('owner-notifications', contactOf(owning, unreadable)).result).toBe('pass');
    // Without the contact that settles it, the unreadable state is what decides: it fails, named.
    expect(judge('owner-notifications', contactOf(item2023({ notificationsByRole: { state: 'Off', roles: ['Owner'] } }), unreadable))).toEqual({
      result: 'fail',
      message: 'Contact "default2": notificationsByRole.state "Enabled" is not one of On, Off.',
    });
  });

  it('alert-notifications passes when one contact e-mails from the threshold and another has a severity it cannot read', () => {
    const alerting = item2023({ notificationsSources: [{ sourceType: 'Alert', minimalSeverity: 'High' }] });
    const unreadable = item2023({ notificationsSources: [{ sourceType: 'Alert', minimalSeverity: 'Severe' }] }, 'default2');
    expect(judge('alert-notifications', contactOf(alerting, unreadable)).result).toBe('pass');
    // Under a stricter policy the readable contact does not settle it, and the unreadable value could.
    const strict = policyWith({ alerts: { minimalSeverity: 'Low' } });
    expect(judge('alert-notifications', contactOf(alerting, unreadable), strict)).toMatchObject({ result: 'fail', message: expect.stringContaining('"Severe"') });
  });

  it('attack-path-notifications passes when one contact e-mails from the threshold and another has a risk level it cannot read', () => {
    const paths = item2023({ notificationsSources: [{ sourceType: 'AttackPath', minimalRiskLevel: 'High' }] });
    const unreadable = item2023({ notificationsSources: [{ sourceType: 'AttackPath', minimalRiskLevel: 'Extreme' }] }, 'default2');
    expect(judge('attack-path-notifications', contactOf(paths, unreadable)).result).toBe('pass');
    expect(judge('attack-path-notifications', contactOf(unreadable))).toMatchObject({ result: 'fail', message: expect.stringContaining('"Extreme"') });
  });
});
