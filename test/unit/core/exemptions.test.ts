import { describe, expect, it } from 'vitest';
import {
  applyExemptions,
  InvalidExemptionError,
  isExemptionActive,
  latestAllowedExpiry,
  parseCalendarDay,
  parseExemption,
  validateExemption,
} from '../../../src/core/exemptions.js';
import type { SubscriptionVerdict } from '../../../src/core/model.js';

const NOW = new Date('2025-05-01T09:15:00Z');
const ID = '00000000-0000-4000-8000-0000000000AB';
const valid = {
  subscriptionId: ID,
  reason: 'lab subscription',
  owner: 'jane@fabrikam.com',
  expiresOn: '2025-06-30',
  createdBy: 'jane@fabrikam.com',
};

function problems(input: unknown, now = NOW): string[] {
  const result = validateExemption(input, now);
  if (result.ok) throw new Error('accepted');
  return result.problems;
}

describe('validateExemption', () => {
  it('accepts a valid request: id lower-cased, text trimmed, createdAt now', () => {
    expect(validateExemption({ ...valid, reason: '  lab subscription ', owner: ' jane@fabrikam.com' }, NOW)).toEqual({
      ok: true,
      exemption: { ...valid, subscriptionId: ID.toLowerCase(), createdAt: '2025-05-01T09:15:00.000Z' },
    });
  });

  it.each([
    [{ reason: '   ' }, 'reason: must not be empty'],
    [{ reason: 'line one\nline two' }, 'reason: must be one line of text'],
    [{ reason: 'x'.repeat(1_001) }, 'reason: is 1001 characters long; at most 1000'],
    [{ owner: '' }, 'owner: must not be empty'],
    [{ owner: 'jane@' }, 'owner: "jane@" is not a valid e-mail address'],
    [{ owner: 'Jane <jane@fabrikam.com>' }, 'owner: "Jane <jane@fabrikam.com>" is not a valid e-mail address'],
    [{ expiresOn: '30/06/2025' }, 'expiresOn: "30/06/2025" is not a date in the form YYYY-MM-DD'],
    [{ expiresOn: '2025-02-30' }, 'expiresOn: "2025-02-30" is not a real date'],
    [{ expiresOn: '2025-13-01' }, 'expiresOn: "2025-13-01" is not a real date'],
    [{ expiresOn: '2025-04-30' }, 'expiresOn: 2025-04-30 is in the past (today is 2025-05-01, UTC)'],
    [{ expiresOn: '2026-05-02' }, 'expiresOn: 2026-05-02 is more than one year ahead; the latest allowed is 2026-05-01'],
    [{ createdBy: ' ' }, 'createdBy: must not be empty'],
    [{ subscriptionId: 'payments-prod' }, 'subscriptionId: "payments-prod" is not a subscription id (a GUID)'],
  ])('refuses %o', (change, message) => {
    expect(problems({ ...valid, ...change })).toEqual([expect.stringContaining(message)]);
  });

  it('accepts today and exactly one year ahead', () => {
    expect(validateExemption({ ...valid, expiresOn: '2025-05-01' }, NOW).ok).toBe(true);
    expect(validateExemption({ ...valid, expiresOn: '2026-05-01' }, NOW).ok).toBe(true);
  });

  it("names missing fields and lists every problem at once, with the caller's field names", () => {
    expect(problems({ subscriptionId: ID, reason: 'x' })).toEqual([
      'owner: is required (text)',
      'expiresOn: is required (text)',
      'createdBy: is required (text)',
    ]);
    expect(problems('nonsense')).toEqual([expect.stringContaining('must be an object')]);
    const result = validateExemption({ ...valid, owner: 'nobody', expiresOn: '2024-01-01' }, NOW, {
      fieldNames: { owner: '--owner', expiresOn: '--expires' },
    });
    expect(result).toEqual({
      ok: false,
      problems: ['--owner: "nobody" is not a valid e-mail address', '--expires: 2024-01-01 is in the past (today is 2025-05-01, UTC)'],
    });
  });

  it('parseExemption throws an error listing the problems', () => {
    expect(() => parseExemption({ ...valid, reason: '' }, NOW)).toThrow(InvalidExemptionError);
    expect(() => parseExemption({ ...valid, reason: '' }, NOW)).toThrow(/the exemption is not valid:\n {2}- reason: must not be empty/);
  });
});

describe('dates', () => {
  it('parseCalendarDay accepts only real dates', () => {
    expect(parseCalendarDay('2024-02-29')).toBe('2024-02-29');
    expect(parseCalendarDay('2025-02-29')).toBeNull();
    expect(parseCalendarDay('2025-5-1')).toBeNull();
  });

  it('latestAllowedExpiry is the same day next year, or 28 February after a leap day', () => {
    expect(latestAllowedExpiry(NOW)).toBe('2026-05-01');
    expect(latestAllowedExpiry(new Date('2024-02-29T12:00:00Z'))).toBe('2025-02-28');
    expect(latestAllowedExpiry(new Date('2025-12-31T23:59:59Z'))).toBe('2026-12-31');
  });

  it('isExemptionActive: the expiry day is inclusive, in UTC', () => {
    const exemption = { expiresOn: '2025-06-30' };
    expect(isExemptionActive(exemption, new Date('2025-06-30T00:00:00Z'))).toBe(true);
    expect(isExemptionActive(exemption, new Date('2025-06-30T23:59:59.999Z'))).toBe(true);
    expect(isExemptionActive(exemption, new Date('2025-07-01T00:00:00Z'))).toBe(false);
    // 2025-07-01T01:00+02:00 is still 2025-06-30 in UTC.
    expect(isExemptionActive(exemption, new Date('2025-07-01T01:00:00+02:00'))).toBe(true);
    expect(isExemptionActive({ expiresOn: 'garbage' }, NOW)).toBe(false);
  });
});

describe('applyExemptions', () => {
  it('exempts judged verdicts with an active exemption, keeps skipped, and leaves the rest', () => {
    const base: SubscriptionVerdict = {
      subscriptionId: ID.toLowerCase(),
      displayName: 'Lab',
      state: 'Enabled',
      status: 'noncompliant',
      source: 'security-contacts-api',
      contact: { emails: [], alertMinimalSeverity: null, notifyRoles: [], attackPathMinimalRiskLevel: null, shape: 'none' },
      findings: [],
    };
    const other = { ...base, subscriptionId: '10000000-0000-4000-8000-000000000001' };
    const exemptions = [{ ...valid, createdAt: NOW.toISOString() }];
    expect(applyExemptions([base, other], exemptions, NOW).map((v) => v.status)).toEqual(['exempt', 'noncompliant']);
    expect(applyExemptions([{ ...base, status: 'skipped' }], exemptions, NOW)[0]?.status).toBe('skipped');
    expect(applyExemptions([base], exemptions, new Date('2025-07-01T00:00:00Z'))[0]?.status).toBe('noncompliant');
  });
});
