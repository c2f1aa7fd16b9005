import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, PolicyError, parsePolicy, parsePolicyJson } from '../../../src/core/policy.js';

function policyErrorOf(run: () => unknown): PolicyError {
  try {
    run();
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
  throw new Error('expected a PolicyError');
}

describe('DEFAULT_POLICY', () => {
  it('requires every rule with thresholds High, no domain restriction and no remediation addresses', () => {
    expect(DEFAULT_POLICY).toEqual({
      alerts: { required: true, minimalSeverity: 'High' },
      owners: { required: true },
      attackPaths: { required: true, minimalRiskLevel: 'High' },
      emails: { allowedDomains: [] },
      remediation: { emails: [] },
    });
  });

  it('cannot be changed by accident', () => {
    expect(Object.isFrozen(DEFAULT_POLICY.alerts)).toBe(true);
    expect(Object.isFrozen(DEFAULT_POLICY.emails.allowedDomains)).toBe(true);
    expect(Object.isFrozen(DEFAULT_POLICY.remediation.emails)).toBe(true);
  });
});

describe('parsePolicy', () => {
  it('fills every default into an empty policy', () => {
    expect(parsePolicy({}, 'policy.json')).toEqual(DEFAULT_POLICY);
  });

  it('reads the example of the contract', () => {
    const policy = parsePolicy(
      {
        alerts: { required: true, minimalSeverity: 'High' },
        owners: { required: true },
        attackPaths: { required: true, minimalRiskLevel: 'High' },
        emails: { allowedDomains: [] },
        remediation: { emails: ['secops@corp-sec.net'] },
      },
      'policy.json',
    );
    expect(policy).toEqual({ ...DEFAULT_POLICY, remediation: { emails: ['secops@corp-sec.net'] } });
  });

  it('fills the defaults of a partial section and keeps what is given', () => {
    const policy = parsePolicy({ alerts: { minimalSeverity: 'Medium' }, attackPaths: { required: false } }, 'policy.json');
    expect(policy.alerts).toEqual({ required: true, minimalSeverity: 'Medium' });
    expect(policy.attackPaths).toEqual({ required: false, minimalRiskLevel: 'High' });
    expect(policy.owners).toEqual({ required: true });
  });

  it('lower-cases allowed domains', () => {
    expect(parsePolicy({ emails: { allowedDomains: ['Fabrikam.COM', 'eu.northwind.io'] } }, 'p').emails.allowedDomains).toEqual([
      'fabrikam.com',
      'eu.northwind.io',
    ]);
  });

  it('accepts remediation addresses inside the allowed domains, subdomains included', () => {
    const policy = parsePolicy(
      { emails: { allowedDomains: ['Fabrikam.com'] }, remediation: { emails: ['SecOps@fabrikam.com', 'soc@eu.fabrikam.com'] } },
      'p',
    );
    expect(policy.remediation.emails).toEqual(['SecOps@fabrikam.com', 'soc@eu.fabrikam.com']);
  });

  it('gives each parse its own allowedDomains array', () => {
    const first = parsePolicy({}, 'p');
    first.emails.allowedDomains.push('fabrikam.com');
    expect(parsePolicy({}, 'p').emails.allowedDomains).toEqual([]);
  });

  it.each([
    [{ alerts: { minimalSeverity: 'Critical' } }, 'policy.json: alerts.minimalSeverity must be one of Low, Medium, High (got "Critical")'],
    [{ alerts: { minimalSeverity: 'high' } }, 'policy.json: alerts.minimalSeverity must be one of Low, Medium, High (got "high")'],
    [
      { attackPaths: { minimalRiskLevel: 'Severe' } },
      'policy.json: attackPaths.minimalRiskLevel must be one of Low, Medium, High, Critical (got "Severe")',
    ],
    [{ alert: {} }, 'policy.json: unknown key "alert"'],
    [{ alerts: { required: true, severity: 'High' } }, 'policy.json: unknown key "alerts.severity"'],
    [{ owners: { required: 'yes' } }, 'policy.json: owners.required must be a boolean (got "yes")'],
    [{ emails: { allowedDomains: 'fabrikam.com' } }, 'policy.json: emails.allowedDomains must be an array (got "fabrikam.com")'],
    [
      { emails: { allowedDomains: ['fabrikam.com', '@northwind.io'] } },
      'policy.json: emails.allowedDomains[1] must be a domain name such as fabrikam.com (got "@northwind.io")',
    ],
    [
      { emails: { allowedDomains: ['*.fabrikam.com'] } },
      'policy.json: emails.allowedDomains[0] must be a domain name such as fabrikam.com (got "*.fabrikam.com")',
    ],
    [{ emails: { allowedDomains: [42] } }, 'policy.json: emails.allowedDomains[0] must be a string (got 42)'],
    [{ emails: null }, 'policy.json: emails must be an object (got null)'],
    [
      { remediation: { emails: ['secops@'] } },
      'policy.json: remediation.emails[0] must be a valid e-mail address such as secops@fabrikam.com (got "secops@")',
    ],
    [
      { remediation: { emails: ['soc@fabrikam.com;noc@fabrikam.com'] } },
      'policy.json: remediation.emails[0] must be a valid e-mail address such as secops@fabrikam.com (got "soc@fabrikam.com;noc@fabrikam.com")',
    ],
    [
      { remediation: { emails: ['soc@fabrikam.com', 'secops@contoso.com'] } },
      'policy.json: remediation.emails[1] is on a placeholder domain that reaches no security team (got "secops@contoso.com")',
    ],
    [
      { remediation: { emails: ['secops@corp.test'] } },
      'policy.json: remediation.emails[0] is on a placeholder domain that reaches no security team (got "secops@corp.test")',
    ],
    [
      { emails: { allowedDomains: ['fabrikam.com'] }, remediation: { emails: ['soc@fabrikam.com', 'soc@evilfabrikam.com'] } },
      'policy.json: remediation.emails[1] is outside emails.allowedDomains (fabrikam.com) (got "soc@evilfabrikam.com")',
    ],
    [{ remediation: { emails: 'secops@fabrikam.com' } }, 'policy.json: remediation.emails must be an array (got "secops@fabrikam.com")'],
    [{ remediation: { emails: [7] } }, 'policy.json: remediation.emails[0] must be a string (got 7)'],
    [{ remediation: { email: ['secops@fabrikam.com'] } }, 'policy.json: unknown key "remediation.email"'],
    [{ remediation: null }, 'policy.json: remediation must be an object (got null)'],
    [[], 'policy.json: the policy must be a JSON object (got array)'],
    ['High', 'policy.json: the policy must be a JSON object (got "High")'],
    [null, 'policy.json: the policy must be a JSON object (got null)'],
  ])('refuses %j', (input, message) => {
    const error = policyErrorOf(() => parsePolicy(input, 'policy.json'));
    expect(error.message).toBe(message);
    expect(error.origin).toBe('policy.json');
    expect(error.name).toBe('PolicyError');
  });

  it('names every problem at once', () => {
    expect(policyErrorOf(() => parsePolicy({ alert: {}, owners: { required: 1 } }, 'CONTACT_WATCH_POLICY')).message).toBe(
      'CONTACT_WATCH_POLICY: owners.required must be a boolean (got 1); unknown key "alert"',
    );
  });
});

describe('parsePolicyJson', () => {
  it('parses JSON text', () => {
    expect(parsePolicyJson('{"owners": {"required": false}}', 'policy.json').owners.required).toBe(false);
  });

  it('says when the text is not JSON, naming the origin', () => {
    const error = policyErrorOf(() => parsePolicyJson('{"alerts": ', 'policy.json'));
    expect(error.message).toMatch(/^policy\.json: the policy is not valid JSON \(.+\)$/);
    expect(error).toBeInstanceOf(Error);
  });

  it('never repeats a secret pasted in place of the policy or into one of its values', () => {
    const secret = 'c2VjcmV0LWtleQ';
    for (const text of [
      `DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey=${secret}`,
      `{"alerts": ${secret}=}`,
      `{"alerts": sig=${secret}}`,
      `{"alerts": {"minimalSeverity": "https://user:${secret}@contoso.example"}}`,
      `{"emails": {"allowedDomains": ["sig=${secret}"]}}`,
      `{"accesskey=${secret}": true}`,
    ]) {
      const error = policyErrorOf(() => parsePolicyJson(text, 'CONTACT_WATCH_POLICY'));
      expect(error.message).toMatch(/^CONTACT_WATCH_POLICY: /);
      expect(error.message).not.toContain(secret);
    }
    expect(
      policyErrorOf(() => parsePolicyJson(`{"alerts": {"minimalSeverity": "https://user:${secret}@contoso.example"}}`, 'p')).message,
    ).toBe('p: alerts.minimalSeverity must be one of Low, Medium, High (got "https://…:…@contoso.example/")');
  });

  it('validates what it parsed', () => {
    expect(policyErrorOf(() => parsePolicyJson('{"alerts": {"minimalSeverity": "Critical"}}', 'policy.json')).message).toBe(
      'policy.json: alerts.minimalSeverity must be one of Low, Medium, High (got "Critical")',
    );
  });
});
