import { describe, expect, it } from 'vitest';
import {
  dedupeEmailAddresses,
  emailDomain,
  findEmailAddressProblem,
  isDomainAllowed,
  isDomainName,
  isPlaceholderDomain,
  isValidEmailSyntax,
  splitEmailList,
} from '../../../src/core/email-addresses.js';

describe('splitEmailList', () => {
  it.each([
    ['a@fabrikam.com;b@fabrikam.com', ['a@fabrikam.com', 'b@fabrikam.com']],
    ['a@fabrikam.com, b@fabrikam.com', ['a@fabrikam.com', 'b@fabrikam.com']],
    ['  a@fabrikam.com ; ,b@fabrikam.com;', ['a@fabrikam.com', 'b@fabrikam.com']],
    ['\ta@fabrikam.com\n', ['a@fabrikam.com']],
    ['', []],
    [' ; , ', []],
  ])('%j', (text, expected) => {
    expect(splitEmailList(text)).toEqual(expected);
  });
});

describe('isValidEmailSyntax', () => {
  it.each([
    'soc@fabrikam.com',
    'first.last@fabrikam.com',
    "o'brien+alerts@mail.fabrikam.co.uk",
    'SOC_Team-1@Fabrikam.COM',
    'x@a-b.io',
    `${'a'.repeat(64)}@fabrikam.com`,
  ])('accepts %s', (address) => {
    expect(isValidEmailSyntax(address)).toBe(true);
  });

  it.each([
    '',
    'soc',
    'soc@',
    '@fabrikam.com',
    'soc@fabrikam',
    'soc@@fabrikam.com',
    'soc@fabrikam..com',
    '.soc@fabrikam.com',
    'soc.@fabrikam.com',
    'so..c@fabrikam.com',
    'soc team@fabrikam.com',
    'soc@-fabrikam.com',
    'soc@fabrikam-.com',
    'soc@fabrikam.c',
    'soc@fabrikam.123',
    'soc@[10.0.0.1]',
    'Jane <jane@fabrikam.com>',
    'soc@localhost',
    `${'a'.repeat(65)}@fabrikam.com`,
    `soc@${'a'.repeat(64)}.com`,
    `soc@${'abcdefghi.'.repeat(25)}com`,
  ])('refuses %j', (address) => {
    expect(isValidEmailSyntax(address)).toBe(false);
  });
});

describe('emailDomain', () => {
  it('lower-cases the part after the last @', () => {
    expect(emailDomain('Jane@Mail.Fabrikam.COM')).toBe('mail.fabrikam.com');
    expect(emailDomain('no-at-sign')).toBe('');
  });
});

describe('isPlaceholderDomain', () => {
  it.each([
    'example.com',
    'EXAMPLE.ORG',
    'example.net',
    'contoso.com',
    'mail.contoso.com',
    'corp.example',
    'fabrikam.test',
    'nothing.invalid',
    'app.localhost',
    'localhost',
  ])('%s is a placeholder', (domain) => {
    expect(isPlaceholderDomain(domain)).toBe(true);
  });

  it.each([
    'fabrikam.com',
    'notexample.com',
    'example.co',
    'contoso.co.uk',
    'mycontoso.com',
    'example.com.fabrikam.com',
    'test.com',
    'testing.io',
  ])('%s is not', (domain) => {
    expect(isPlaceholderDomain(domain)).toBe(false);
  });
});

describe('isDomainAllowed', () => {
  it('allows every domain when the list is empty', () => {
    expect(isDomainAllowed('anything.io', [])).toBe(true);
  });

  it('allows the domain itself and its subdomains, case-insensitively', () => {
    expect(isDomainAllowed('fabrikam.com', ['fabrikam.com'])).toBe(true);
    expect(isDomainAllowed('eu.mail.fabrikam.com', ['fabrikam.com'])).toBe(true);
    expect(isDomainAllowed('Fabrikam.COM', ['fabrikam.com'])).toBe(true);
    expect(isDomainAllowed('northwind.io', ['fabrikam.com', 'northwind.io'])).toBe(true);
  });

  it('refuses look-alikes and parents', () => {
    expect(isDomainAllowed('evilfabrikam.com', ['fabrikam.com'])).toBe(false);
    expect(isDomainAllowed('fabrikam.com.evil.io', ['fabrikam.com'])).toBe(false);
    expect(isDomainAllowed('fabrikam.com', ['mail.fabrikam.com'])).toBe(false);
  });
});

describe('isDomainName', () => {
  it.each(['fabrikam.com', 'mail.fabrikam.co.uk', 'a-b.io'])('accepts %s', (text) => {
    expect(isDomainName(text)).toBe(true);
  });
  it.each(['', 'fabrikam', '@fabrikam.com', '*.fabrikam.com', 'https://fabrikam.com', 'fabrikam.com.', ' fabrikam.com', 'fab rikam.com'])(
    'refuses %j',
    (text) => {
      expect(isDomainName(text)).toBe(false);
    },
  );
});

describe('findEmailAddressProblem', () => {
  it('judges syntax first, then placeholder, then allowed domains', () => {
    expect(findEmailAddressProblem('soc@contoso', [])).toBe('invalid-syntax');
    expect(findEmailAddressProblem('soc@contoso.com', ['fabrikam.com'])).toBe('placeholder-domain');
    expect(findEmailAddressProblem('soc@northwind.io', ['fabrikam.com'])).toBe('domain-not-allowed');
    expect(findEmailAddressProblem('soc@eu.fabrikam.com', ['fabrikam.com'])).toBeNull();
    expect(findEmailAddressProblem('soc@northwind.io', [])).toBeNull();
  });
});

describe('dedupeEmailAddresses', () => {
  it('keeps the first spelling of addresses that differ only in case', () => {
    expect(dedupeEmailAddresses(['Jane@Fabrikam.com', 'john@fabrikam.com', 'jane@fabrikam.com'])).toEqual([
      'Jane@Fabrikam.com',
      'john@fabrikam.com',
    ]);
  });
});
