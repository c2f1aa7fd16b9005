import { describe, expect, it } from 'vitest';
import { providerNotRegisteredContact } from '../../../../src/core/normalise.js';
import { emailConfiguredRule } from '../../../../src/core/rules/email-configured.js';
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
  RELAXED_POLICY,
} from './rule-test-kit.js';

describe('email-configured passes', () => {
  it('passes real addresses, separated by ; or , with white space around them', () => {
    expect(judge('email-configured', contactOf(item2023({ emails: ' soc@fabrikam.com ,ciso@fabrikam.com; ' })))).toEqual({
      result: 'pass',
      message: 'Security alerts are e-mailed to soc@fabrikam.com, ciso@fabrikam.com.',
    });
  });

  it.each([
    ['2023-12-01-preview', () => item2023()],
    ['2020-01-01-preview', () => item2020()],
    ['2017-08-01-preview', () => item2017()],
  ] as const)('passes a real address in the %s shape', (shape, item) => {
    const contact = contactOf(item());
    expect(contact.entries[0]?.shape).toBe(shape);
    expect(judge('email-configured', contact)).toEqual({
      result: 'pass',
      message: 'Security alerts are e-mailed to soc@fabrikam.com.',
    });
  });

  it('with allowedDomains, passes the domains and their subdomains, case-insensitively', () => {
    const policy = policyWith({ emails: { allowedDomains: ['fabrikam.com', 'northwind.io'] } });
    const contact = contactOf(item2023({ emails: 'SOC@Fabrikam.com;noc@eu.mail.fabrikam.com;ciso@northwind.io' }));
    expect(judge('email-configured', contact, policy).result).toBe('pass');
  });

  it('merges the addresses of several contacts: one empty contact does not fail the union', () => {
    const contact = contactOf(item2023({ emails: '' }, 'default'), item2017({ email: 'ciso@fabrikam.com' }));
    expect(judge('email-configured', contact)).toEqual({ result: 'pass', message: 'Security alerts are e-mailed to ciso@fabrikam.com.' });
  });

  it('judges addresses repeated across contacts once', () => {
    const contact = contactOf(item2023({ emails: 'SOC@fabrikam.com' }), item2020({ emails: 'soc@fabrikam.com' }));
    expect(judge('email-configured', contact).message).toBe('Security alerts are e-mailed to SOC@fabrikam.com.');
  });

  it('is required whatever the policy says', () => {
    expect(emailConfiguredRule.isRequired(RELAXED_POLICY)).toBe(true);
  });
});

describe('email-configured fails', () => {
  it('fails an empty list with "no security contact"', () => {
    expect(judge('email-configured', contactOf())).toEqual({ result: 'fail', message: 'no security contact' });
  });

  it('fails with "no security contact" when the provider is not registered', () => {
    expect(judge('email-configured', providerNotRegisteredContact()).message).toBe('no security contact');
  });

  it('fails the Azure examples, whose addresses are on contoso.com', () => {
    const outcome = judge('email-configured', contactOf(responseBody('2023-12-01-preview', 'GetSecurityContact_example.json')));
    expect(outcome).toEqual({
      result: 'fail',
      message: 'On a placeholder domain that reaches no security team: "john@contoso.com", "jane@contoso.com".',
    });
  });

  it('fails the 2020-01-01-preview and 2017-08-01-preview examples, naming their contoso.com addresses', () => {
    expect(judge('email-configured', contactOf(responseBody('2020-01-01-preview', 'GetSecurityContact_example.json')))).toEqual({
      result: 'fail',
      message: 'On a placeholder domain that reaches no security team: "john@contoso.com", "jane@contoso.com".',
    });
    expect(judge('email-configured', contactOf(responseBody('2017-08-01-preview', 'GetSecurityContact_full_example.json')))).toEqual({
      result: 'fail',
      message: 'On a placeholder domain that reaches no security team: "default1@contoso.com".',
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

  it('fails an empty address in the 2020-01-01-preview and 2017-08-01-preview shapes', () => {
    for (const item of [item2020({ emails: '' }), item2017({ email: '' })]) {
      expect(judge('email-configured', contactOf(item))).toEqual({
        result: 'fail',
        message: 'No e-mail address is set on the security contact.',
      });
    }
  });

  it('fails an invalid address and names it', () => {
    expect(judge('email-configured', contactOf(item2023({ emails: 'soc@fabrikam.com;soc-at-fabrikam.com' })))).toEqual({
      result: 'fail',
      message: 'Not a valid e-mail address: "soc-at-fabrikam.com".',
    });
  });

  it.each([
    'soc@example.com',
    'soc@example.org',
    'soc@example.net',
    'soc@contoso.com',
    'soc@corp.example',
    'soc@fabrikam.test',
    'soc@x.invalid',
    'soc@app.localhost',
  ])('fails the placeholder address %s', (address) => {
    const outcome = judge('email-configured', contactOf(item2023({ emails: `ciso@fabrikam.com;${address}` })));
    expect(outcome.result).toBe('fail');
    expect(outcome.message).toContain(`"${address}"`);
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

  it('merges the addresses of several contacts: a bad address in any of them fails', () => {
    const contact = contactOf(item2023(), item2017({ email: 'john@contoso.com' }));
    expect(judge('email-configured', contact).result).toBe('fail');
  });
});

describe('email-configured never passes what could not be read', () => {
  it('is error when the list could not be read at all', () => {
    expectJudgedUnreadable('email-configured', FORBIDDEN_READ, '403 Forbidden');
  });

  it.each([
    {
      shape: '2023-12-01-preview',
      unreadable: () => item2023({ emails: 42 }),
      reason: 'properties.emails must be a string, got number',
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
  ])('is error for $shape addresses of the wrong type, even beside a contact with a real address', ({ unreadable, reason }) => {
    const readable = item2023({}, 'Default');
    expectJudgedUnreadable('email-configured', { kind: 'listed', contacts: [readable, unreadable()] }, reason);
  });
});

describeRuleMetadata('email-configured', emailConfiguredRule, {
  cis: { '1.3.0': '2.13', '2.0.0': '2.1.19', '3.0.0': '3.1.13', '4.0.0': '9.1.13', '5.0.0': '8.1.13', '6.0.0': '8.1.13' },
  azurePolicy: ['4f4f78b8-e367-4b10-a341-d9a4ad5cf1c7'],
});

describe('email-configured remediation', () => {
  it('sets the addresses without registering the provider again', () => {
    expect(emailConfiguredRule.remediation.azCli).not.toContain('az provider register');
    expect(emailConfiguredRule.remediation.summary).toContain('properties.emails');
  });
});
