/**
 * Rule metadata across rules, and the remediation builder they share. Each rule's own metadata
 * (title, rationale, CIS references per benchmark version, remediation) is checked in its test
 * file in test/unit/core/rules/.
 */
import { describe, expect, it } from 'vitest';
import { RULES } from '../../../src/core/rules/index.js';
import { securityContactRemediation, securityContactRestBody } from '../../../src/core/rules/remediation.js';
import { azCliBody } from './rules/rule-test-kit.js';

describe('remediations say which part they fix', () => {
  it('gives each rule its own summary', () => {
    expect(new Set(RULES.map((rule) => rule.remediation.summary)).size).toBe(RULES.length);
  });
});

describe('securityContactRemediation', () => {
  it('fills in a subscription and addresses, quoting them safely for the shell and Bicep', () => {
    const remediation = securityContactRemediation('emails', {
      subscriptionId: '00000000-1111-2222-3333-444444444444',
      emails: "o'brien@fabrikam.com;soc@fabrikam.com",
    });
    expect(remediation.azCli).toContain(
      '/subscriptions/00000000-1111-2222-3333-444444444444/providers/Microsoft.Security/securityContacts/default?',
    );
    expect(azCliBody(remediation)).toEqual(securityContactRestBody("o'brien@fabrikam.com;soc@fabrikam.com"));
    expect(remediation.bicep).toContain("emails: 'o\\'brien@fabrikam.com;soc@fabrikam.com'");
  });
});
