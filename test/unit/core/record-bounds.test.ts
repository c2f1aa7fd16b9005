import { describe, expect, it } from 'vitest';
import type { ContactSummary, Finding } from '../../../src/core/model.js';
import { boundForStorage, cut, minimalForStorage, RECORD_LIMITS, type StorableFields } from '../../../src/core/record-bounds.js';

const CONTACT: ContactSummary = {
  emails: ['secops@fabrikam.com'],
  alertMinimalSeverity: 'High',
  notifyRoles: ['Owner'],
  attackPathMinimalRiskLevel: null,
  shape: '2023-12-01-preview',
};
const FINDINGS: Finding[] = [
  { ruleId: 'contact-exists', result: 'pass', message: 'A security contact exists.' },
  { ruleId: 'attack-path-notifications', result: 'fail', message: 'No AttackPath notification source.' },
];

function fields(overrides: Partial<StorableFields> = {}): StorableFields {
  return { displayName: 'Payments', state: 'Enabled', findings: FINDINGS, contact: CONTACT, fix: null, ...overrides };
}

describe('boundForStorage', () => {
  it('leaves an ordinary record as it is, with nothing omitted', () => {
    const ordinary = fields({ fix: { kind: 'not-fixable', reason: 'the provider is not registered' } });
    expect(boundForStorage(ordinary)).toEqual({ ...ordinary, omitted: null });
  });

  it('keeps 400 KB of addresses to a bounded, marked prefix, and says how many were left out', () => {
    const emails = Array.from({ length: 20_000 }, (_, i) => `mailbox-${i}@fabrikam.com`);
    const bounded = boundForStorage(fields({ contact: { ...CONTACT, emails } }));
    expect(bounded.contact.emails).toEqual(emails.slice(0, bounded.contact.emails.length));
    expect(bounded.contact.emails.length).toBeLessThanOrEqual(RECORD_LIMITS.emailAddresses);
    expect(bounded.contact.emails.join('').length).toBeLessThanOrEqual(RECORD_LIMITS.emailCharacters);
    expect(bounded.omitted).toBe(
      `Left out to keep this record within the storage limits: ${(20_000 - bounded.contact.emails.length).toLocaleString('en')} of 20,000 e-mail addresses.`,
    );
    // The verdict itself is whole.
    expect(bounded.findings).toEqual(FINDINGS);
  });

  it('cuts one address longer than any valid address to a marked prefix', () => {
    const huge = `${'x'.repeat(100_000)}@fabrikam.com`;
    const bounded = boundForStorage(fields({ contact: { ...CONTACT, emails: [huge] } }));
    expect(bounded.contact.emails[0]!.length).toBeLessThanOrEqual(RECORD_LIMITS.emailAddressCharacters);
    expect(bounded.contact.emails[0]).toMatch(/^x+… \[[\d,]+ more characters not stored\]$/);
    expect(bounded.omitted).toContain('e-mail addresses longer than any valid address');
  });

  it('cuts long messages, names and roles, keeping every rule result', () => {
    const findings: Finding[] = FINDINGS.map((finding) => ({ ...finding, message: 'y'.repeat(50_000) }));
    const bounded = boundForStorage(
      fields({
        displayName: 'n'.repeat(10_000),
        findings,
        contact: { ...CONTACT, notifyRoles: Array.from({ length: 100 }, (_, i) => `Role${i}`) },
      }),
    );
    expect(bounded.findings.map((f) => [f.ruleId, f.result])).toEqual(FINDINGS.map((f) => [f.ruleId, f.result]));
    expect(
      bounded.findings.every(
        (f) => f.message.length <= RECORD_LIMITS.messageCharacters && f.message.endsWith('more characters not stored]'),
      ),
    ).toBe(true);
    expect(bounded.displayName.length).toBeLessThanOrEqual(RECORD_LIMITS.displayNameCharacters);
    expect(bounded.contact.notifyRoles).toHaveLength(RECORD_LIMITS.roles);
    expect(bounded.omitted).toMatch(/characters of the display name; .* characters of rule messages; 80 notification roles\.$/);
  });

  it('stores a fix too large to keep as too-large, with its size', () => {
    const emails = Array.from({ length: 2_000 }, (_, i) => `mailbox-${i}@fabrikam.com`).join(';');
    const body = {
      properties: { emails, isEnabled: true, notificationsByRole: { state: 'On', roles: ['Owner'] }, notificationsSources: [] },
    };
    const fix = { kind: 'put' as const, body, placeholderEmails: false, changes: [] };
    const bounded = boundForStorage(fields({ fix }));
    expect(bounded.fix).toEqual({ kind: 'too-large', bytes: JSON.stringify(fix).length });
    expect(bounded.omitted).toContain('the suggested fix');
  });
});

describe('cut', () => {
  it('never splits a surrogate pair and stays within the limit', () => {
    const text = '😀'.repeat(1_000);
    for (const limit of [40, 41, 42, 43]) {
      const shortened = cut(text, limit);
      expect(shortened.length).toBeLessThanOrEqual(limit);
      expect(shortened).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    }
    expect(cut('short', 40)).toBe('short');
  });

  it('keeps within a limit too small for its marker, with a plain ellipsis', () => {
    expect(cut('s'.repeat(100), 32)).toBe(`${'s'.repeat(31)}…`);
    expect(cut('x'.repeat(1_000_000), 10)).toHaveLength(10);
  });
});

describe('minimalForStorage', () => {
  it('keeps the status, rule results and dates, and drops the free text with a note', () => {
    const record = { ...fields(), status: 'noncompliant', statusSince: '2026-01-01T00:00:00.000Z', omitted: null };
    const minimal = minimalForStorage(record, 'PropertyValueTooLarge');
    expect(minimal).toMatchObject({ status: 'noncompliant', statusSince: '2026-01-01T00:00:00.000Z', fix: null, contact: { emails: [] } });
    expect(minimal.findings.map((f) => [f.ruleId, f.result])).toEqual(FINDINGS.map((f) => [f.ruleId, f.result]));
    expect(minimal.omitted).toBe(
      'Table Storage refused the whole record (PropertyValueTooLarge); only its status, rule results and dates were kept.',
    );
  });
});
