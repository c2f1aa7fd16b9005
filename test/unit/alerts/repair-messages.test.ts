/**
 * What the alert e-mails say about contact-watch's own writes of a contact (docs/reference/alerts.md and docs/reference/remediation.md):
 * a subscription it repaired is reported as repaired automatically, never as failing; an alert
 * about a subscription it tried and failed to repair says so, and why.
 */
import { describe, expect, it } from 'vitest';
import type { OwedAlert } from '../../../src/core/alerts.js';
import type { ContactRemediation } from '../../../src/core/model.js';
import { PORTAL_URLS } from '../../../src/core/azure-portal.js';
import { composeDigests, renderDigest, renderSingle, type TemplateContext } from '../../../src/alerts/templates.js';

const NOW = new Date('2025-03-10T12:00:00.000Z');
const ctx: TemplateContext = { portalUrl: PORTAL_URLS.AzureCloud, now: NOW, reportUrl: 'https://contact-watch.fabrikam.net/api/report' };
const HOSTILE = 'Prod <script>alert(1)</script>\r\nBcc: attacker@evil.test\r\n"quoted" & \u202Egpj.exe';
const ANY_BIDI_CONTROL = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;

const REPAIRED_AT = '2025-03-10T11:15:30.250Z';

function repair(overrides: Partial<ContactRemediation> = {}): ContactRemediation {
  return {
    at: REPAIRED_AT,
    by: 'fix by alice@corp-sec.net',
    outcome: 'fixed',
    changes: ['removed "admin@contoso.com", which failed email-configured', 'added Owner to the notified roles'],
    ...overrides,
  };
}

function repaired(overrides: Partial<OwedAlert> = {}): OwedAlert {
  const subscriptionId = overrides.subscriptionId ?? '7a000000-0000-4000-8000-000000000001';
  return {
    key: `${subscriptionId}|repaired|compliant|${REPAIRED_AT}`,
    kind: 'repaired',
    subscriptionId,
    displayName: 'Payments prod',
    status: 'compliant',
    since: '2025-03-10T11:15:31.000Z',
    findings: [],
    repair: repair(),
    ...overrides,
  };
}

function failing(overrides: Partial<OwedAlert> = {}): OwedAlert {
  const subscriptionId = overrides.subscriptionId ?? '7b000000-0000-4000-8000-000000000001';
  return {
    key: `${subscriptionId}|alert|noncompliant|2025-03-07T12:00:00.000Z`,
    kind: 'alert',
    subscriptionId,
    displayName: 'Data lake',
    status: 'noncompliant',
    since: '2025-03-07T12:00:00.000Z',
    findings: [{ ruleId: 'owner-notifications', result: 'fail', message: 'role notifications are off' }],
    fix: {
      kind: 'put',
      body: {
        properties: {
          emails: 'lake@fabrikam.io',
          isEnabled: true,
          notificationsByRole: { state: 'On', roles: ['Owner'] },
          notificationsSources: [{ sourceType: 'Alert', minimalSeverity: 'High' }],
        },
      },
      placeholderEmails: false,
      changes: ['turned role notifications on'],
    },
    ...overrides,
  };
}

const FAILED_REPAIR = repair({
  outcome: 'failed',
  by: 'app: scan 5f0c',
  at: '2025-03-09T08:00:00.000Z',
  reason: 'the write was refused: HTTP 403 AuthorizationFailed (Microsoft.Security/securityContacts/write is missing)',
});

describe('a subscription contact-watch repaired', () => {
  it('is reported as repaired automatically: which subscription, when, by what, and what was changed', () => {
    const email = renderSingle(repaired(), ctx);
    expect(email.subject).toBe(
      '[contact-watch] Repaired automatically: subscription "Payments prod" (7a000000-0000-4000-8000-000000000001) has a valid security contact again',
    );
    for (const body of [email.plainText, email.html]) {
      expect(body).toContain('Repaired automatically: compliant now');
      expect(body).toContain('7a000000-0000-4000-8000-000000000001');
      expect(body).toContain('Payments prod');
      expect(body).toContain('2025-03-10 11:15:30Z');
      expect(body).toContain('fix by alice@corp-sec.net');
      expect(body).toContain('added Owner to the notified roles');
      expect(body).toContain('No action needed.');
      // Nobody is asked to fix anything.
      expect(body).not.toContain('How to fix');
      expect(body).not.toContain('az rest');
      expect(body).not.toContain('non-compliant');
    }
    expect(email.plainText).toContain(
      'Repaired automatically: 2025-03-10 11:15:30Z\nMade by: fix by alice@corp-sec.net\nWhat was changed:\n',
    );
    expect(email.plainText).toContain('  - removed "admin@contoso.com", which failed email-configured\n');
    expect(email.html).toContain('<li>removed &quot;admin@contoso.com&quot;, which failed email-configured</li>');
  });

  it('escapes the display name, who wrote it and what was changed, and keeps CR/LF and bidi controls out of the subject', () => {
    const hostile = repaired({
      displayName: HOSTILE,
      repair: repair({
        by: 'fix by <b>eve</b>\r\nBcc: x@evil.test \u202Eexe',
        changes: ['added "<img src=x onerror=alert(1)>@x.io" \u2066x'],
      }),
    });
    for (const email of [renderSingle(hostile, ctx), renderDigest([hostile, failing()], ctx)]) {
      expect(email.html).not.toMatch(/<(script|img|b)\b/);
      expect(email.html).toContain(
        'Prod &lt;script&gt;alert(1)&lt;/script&gt; Bcc: attacker@evil.test &quot;quoted&quot; &amp; \uFFFDgpj.exe',
      );
      expect(email.html).toContain('fix by &lt;b&gt;eve&lt;/b&gt; Bcc: x@evil.test \uFFFDexe');
      expect(email.html).toContain('added &quot;&lt;img src=x onerror=alert(1)&gt;@x.io&quot; \uFFFDx');
      expect(email.plainText).not.toMatch(/^Bcc:/m);
      expect(email.subject).not.toMatch(/[\r\n]/);
      for (const part of [email.subject, email.html, email.plainText]) expect(part).not.toMatch(ANY_BIDI_CONTROL);
    }
    expect(renderSingle(hostile, ctx).subject).toBe(
      '[contact-watch] Repaired automatically: subscription 7a000000-0000-4000-8000-000000000001 has a valid security contact again',
    );
  });

  it('has a section of its own in a digest, after the failing ones, and is never counted as failing', () => {
    const fixedNotice = failing({
      subscriptionId: '7c000000-0000-4000-8000-000000000001',
      kind: 'fixed',
      status: 'compliant',
      displayName: 'Sandbox',
      findings: [],
      fix: undefined,
    });
    const others = [
      failing(),
      failing({ subscriptionId: '7b000000-0000-4000-8000-000000000002', displayName: 'Ledger', repair: FAILED_REPAIR }),
    ];
    const email = renderDigest([repaired({ displayName: 'Aardvark' }), ...others, fixedNotice], ctx);
    expect(email.subject).toBe(
      '[contact-watch] 2 Azure subscriptions without a valid security contact (2 new, 1 fixed, 1 repaired automatically)',
    );
    expect(email.plainText).toContain(
      'contact-watch repaired the security contact of 1 subscription automatically; nothing needs to be done about it.',
    );
    expect(email.plainText).toMatch(/^2 subscriptions lack a valid/m);
    for (const body of [email.plainText, email.html]) {
      const section = body.indexOf('Repaired automatically (1 subscription)');
      expect(section).toBeGreaterThan(-1);
      // After every failing subscription (and the fixed notice), though its name sorts first.
      for (const id of [...others, fixedNotice].map((a) => a.subscriptionId)) expect(body.indexOf(id)).toBeLessThan(section);
      expect(body.indexOf('7a000000-0000-4000-8000-000000000001')).toBeGreaterThan(section);
      expect(body.slice(section)).toContain('fix by alice@corp-sec.net');
      expect(body.slice(section)).toContain('2025-03-10 11:15:30Z');
      expect(body.slice(section)).toContain('added Owner to the notified roles');
      expect(body.slice(section)).not.toContain('Security contact missing');
    }
    expect(email.plainText).toContain(
      '* Aardvark [7a000000-0000-4000-8000-000000000001]: repaired automatically at 2025-03-10 11:15:30Z (made by: fix by alice@corp-sec.net): removed "admin@contoso.com", which failed email-configured; added Owner to the notified roles',
    );
  });

  it('still reads right when the details of the write are missing (an alert rebuilt from its outbox key)', () => {
    const { repair: _repair, ...bare } = repaired();
    for (const email of [renderSingle(bare, ctx), renderDigest([bare], ctx)]) {
      expect(email.plainText).toContain('Repaired automatically');
      expect(email.plainText).toContain(bare.subscriptionId);
      expect(email.plainText).not.toMatch(/undefined|How to fix|Failed rules/);
    }
  });

  it('makes a digest of its own when nothing fails', () => {
    const email = renderDigest([repaired(), repaired({ subscriptionId: '7a000000-0000-4000-8000-000000000002', displayName: 'Web' })], ctx);
    expect(email.subject).toBe('[contact-watch] 2 Azure subscriptions repaired automatically (2 repaired automatically)');
    expect(email.plainText).not.toContain('How to fix');
    expect(email.plainText).not.toContain('lack a valid');
    expect(email.plainText).toContain('Repaired automatically (2 subscriptions):');
    const mixed = renderDigest([repaired(), failing({ kind: 'fixed', status: 'compliant', findings: [], fix: undefined })], ctx);
    expect(mixed.subject).toBe('[contact-watch] 2 Azure subscriptions fixed or repaired automatically (1 fixed, 1 repaired automatically)');
  });

  it('fits a digest of many, after the failing ones, and counts the rest instead of listing them', () => {
    const many = Array.from({ length: 2_000 }, (_, i) =>
      repaired({
        subscriptionId: `7a000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        displayName: `Subscription ${String(i).padStart(4, '0')}`,
      }),
    );
    const email = renderDigest([failing(), ...many], ctx, undefined, 60_000);
    expect(Buffer.byteLength(email.html) + Buffer.byteLength(email.plainText)).toBeLessThanOrEqual(60_000);
    const listed = many.filter((a) => email.plainText.includes(a.subscriptionId)).length;
    expect(listed).toBeGreaterThan(10);
    expect(listed).toBeLessThan(2_000);
    expect(email.plainText).toContain(`and ${2_000 - listed} more subscriptions (${2_000 - listed} repaired automatically)`);
    expect(email.plainText).toContain(failing().subscriptionId);
    expect(composeDigests([failing(), ...many], ctx).map((part) => part.alerts.length)).toEqual([2_001]);
  });
});

describe('an alert about a subscription contact-watch could not repair', () => {
  it('says everything it says otherwise, plus when the repair was tried and why it failed', () => {
    for (const kind of ['alert', 'reminder'] as const) {
      const plain = failing({ kind });
      const tried = failing({ kind, repair: FAILED_REPAIR });
      for (const render of [(a: OwedAlert) => renderSingle(a, ctx), (a: OwedAlert) => renderDigest([a], ctx)]) {
        const before = render(plain);
        const after = render(tried);
        const line =
          'contact-watch tried to repair it automatically at 2025-03-09 08:00:00Z and could not: the write was refused: HTTP 403 AuthorizationFailed (Microsoft.Security/securityContacts/write is missing)';
        expect(after.plainText.split('\n')).toContain(line);
        // One line more, nothing less.
        expect(after.plainText.replace(`${line}\n`, '')).toBe(before.plainText);
        expect(after.html).toContain(`<strong>${line}</strong>`);
        expect(after.subject).toBe(before.subject);
        expect(after.plainText).toContain('az rest --method put');
      }
    }
  });

  it('escapes the reason, and says the repair failed even without one', () => {
    const hostile = failing({ repair: { ...FAILED_REPAIR, reason: 'HTTP 400 <script>x</script>\r\nBcc: a@evil.test \u202Eexe' } });
    const email = renderSingle(hostile, ctx);
    expect(email.html).toContain('could not: HTTP 400 &lt;script&gt;x&lt;/script&gt; Bcc: a@evil.test \uFFFDexe');
    expect(email.html).not.toContain('<script>');
    expect(email.plainText).not.toMatch(/^Bcc:/m);
    expect(email.plainText).not.toMatch(ANY_BIDI_CONTROL);
    const { reason: _reason, ...withoutReason } = FAILED_REPAIR;
    expect(renderSingle(failing({ repair: withoutReason }), ctx).plainText).toContain(
      'contact-watch tried to repair it automatically at 2025-03-09 08:00:00Z and could not.',
    );
  });
});
