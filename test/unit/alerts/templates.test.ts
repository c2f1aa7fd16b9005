import { describe, expect, it } from 'vitest';
import type { OwedAlert } from '../../../src/core/alerts.js';
import { composeDigests, PORTAL_URLS, renderDigest, renderSingle, subjectSafe, type TemplateContext } from '../../../src/alerts/templates.js';

const NOW = new Date('2025-03-10T12:00:00.000Z');
const HOSTILE = 'Prod <script>alert(1)</script>\r\nBcc: attacker@evil.test\r\n"quoted" & \'single\'';

function alert(overrides: Partial<OwedAlert> = {}): OwedAlert {
  const subscriptionId = overrides.subscriptionId ?? '6f1b2c3d-0000-4000-8000-000000000001';
  return {
    key: `${subscriptionId}|alert|noncompliant|2025-03-07T12:00:00.000Z`,
    kind: 'alert',
    subscriptionId,
    displayName: 'Payments prod',
    status: 'noncompliant',
    since: '2025-03-07T12:00:00.000Z',
    findings: [
      { ruleId: 'email-configured', result: 'fail', message: 'admin@contoso.com is on a placeholder domain' },
      { ruleId: 'owner-notifications', result: 'fail', message: 'role notifications are off' },
    ],
    ...overrides,
  };
}

const ctx: TemplateContext = { portalUrl: PORTAL_URLS.AzureCloud, now: NOW };

describe('alert templates', () => {
  it('names the subscription, the failed rules with messages, how long, and how to fix it', () => {
    const email = renderSingle(alert(), { ...ctx, ruleFixes: { 'owner-notifications': { summary: 'Turn role notifications on for owners.' } } });
    for (const body of [email.html, email.plainText]) {
      expect(body).toContain('Payments prod');
      expect(body).toContain('6f1b2c3d-0000-4000-8000-000000000001');
      expect(body).toContain('email-configured');
      expect(body).toContain('admin@contoso.com is on a placeholder domain');
      expect(body).toContain('role notifications are off');
      expect(body).toContain('3 days');
      expect(body).toContain('Turn role notifications on for owners.');
      expect(body).toContain('https://portal.azure.com/#view/Microsoft_Azure_Security/SecurityMenuBlade/~/EnvironmentSettings');
    }
    expect(email.plainText).toContain('az rest --method put --url "/subscriptions/6f1b2c3d-0000-4000-8000-000000000001/providers/Microsoft.Security/securityContacts/default?api-version=2023-12-01-preview"');
    expect(email.html).toContain('az rest --method put --url &quot;/subscriptions/6f1b2c3d-0000-4000-8000-000000000001/providers/Microsoft.Security/securityContacts/default?api-version=2023-12-01-preview&quot;');
    expect(email.subject).toBe('[contact-watch] Subscription "Payments prod" (6f1b2c3d-0000-4000-8000-000000000001) has no valid security contact');
  });

  it('links the portal of the right cloud', () => {
    const gov = renderSingle(alert(), { ...ctx, portalUrl: PORTAL_URLS.AzureUSGovernment });
    expect(gov.html).toContain('href="https://portal.azure.us/#resource/subscriptions/6f1b2c3d-0000-4000-8000-000000000001/overview"');
    expect(gov.html).not.toContain('portal.azure.com');
    const china = renderDigest([alert()], { ...ctx, portalUrl: 'portal.azure.cn' });
    expect(china.plainText).toContain('https://portal.azure.cn/#view/');
  });

  it('escapes a hostile display name in HTML and keeps it out of the subject', () => {
    const hostile = alert({
      displayName: HOSTILE,
      findings: [{ ruleId: 'email-configured', result: 'fail', message: '"<img src=x onerror=alert(1)>@x.com" is not an e-mail address' }],
    });
    for (const email of [renderSingle(hostile, ctx), renderDigest([hostile], ctx)]) {
      expect(email.html).not.toContain('<script>');
      expect(email.html).not.toContain('<img');
      expect(email.html).toContain('Prod &lt;script&gt;alert(1)&lt;/script&gt; Bcc: attacker@evil.test &quot;quoted&quot; &amp; &#39;single&#39;');
      expect(email.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
      expect(email.subject).not.toMatch(/[\r\n]/);
      expect(email.subject).not.toContain('Bcc');
      expect(email.subject).not.toContain('<script');
      expect(email.subject).not.toContain('Prod');
      // The plain text shows the name on one line: the CR/LF cannot start a fake line.
      expect(email.plainText).not.toMatch(/^Bcc:/m);
      expect(email.plainText).toContain('Prod <script>alert(1)</script> Bcc: attacker@evil.test');
    }
    // Only the id names the subscription in the subject.
    expect(renderSingle(hostile, ctx).subject).toBe('[contact-watch] Subscription 6f1b2c3d-0000-4000-8000-000000000001 has no valid security contact');
    // The HTML has no script, no external asset.
    const { html } = renderDigest([hostile, alert()], ctx);
    expect(html).not.toMatch(/<(script|link|img|iframe|object|embed|style)\b|@import|url\(/i);
  });

  it('never puts a non-GUID id into a link or a command', () => {
    const odd = alert({ subscriptionId: 'x"; rm -rf / #' });
    const email = renderSingle(odd, ctx);
    expect(email.html).not.toContain('rm -rf / #/');
    expect(email.plainText).toContain('--url "/subscriptions/<subscription-id>/providers');
    expect(email.subject).toBe('[contact-watch] Subscription "Payments prod" has no valid security contact');
  });

  it('subjectSafe drops a value with any control character', () => {
    expect(subjectSafe('Prod')).toBe('Prod');
    expect(subjectSafe('a\rb')).toBeNull();
    expect(subjectSafe('a\nb')).toBeNull();
    expect(subjectSafe('a\u2028b')).toBeNull();
    expect(subjectSafe('a\tb')).toBeNull();
    expect(subjectSafe('x'.repeat(200))?.length).toBe(80);
  });

  it('says how many subscriptions a digest covers, with reminders and fixed notices', () => {
    const email = renderDigest(
      [
        alert(),
        alert({ subscriptionId: '6f1b2c3d-0000-4000-8000-000000000002', kind: 'reminder', displayName: 'Data lake' }),
        alert({ subscriptionId: '6f1b2c3d-0000-4000-8000-000000000003', kind: 'fixed', status: 'compliant', findings: [], displayName: 'Sandbox' }),
      ],
      ctx,
    );
    expect(email.subject).toBe('[contact-watch] 2 Azure subscriptions without a valid security contact (1 new, 1 reminder, 1 fixed)');
    expect(email.html).toContain('Data lake');
    expect(email.html).toContain('Fixed: compliant again');
    expect(email.plainText).toContain('Reminder: still non-compliant');
  });

  it('splits a large backlog into the fewest digests within the limits, never one per subscription', () => {
    const many = Array.from({ length: 600 }, (_, i) =>
      alert({ subscriptionId: `6f1b2c3d-0000-4000-8000-${String(i).padStart(12, '0')}`, displayName: `Sub ${i}` }),
    );
    const parts = composeDigests(many, ctx);
    expect(parts.map((p) => p.alerts.length)).toEqual([250, 250, 100]);
    expect(parts[0]!.email.subject).toContain('(part 1 of 3)');
    expect(parts.flatMap((p) => p.alerts.map((a) => a.subscriptionId))).toEqual(many.map((a) => a.subscriptionId));
    for (const part of parts) {
      const size = Buffer.byteLength(part.email.html) + Buffer.byteLength(part.email.plainText);
      expect(size).toBeLessThan(10 * 1024 * 1024);
    }
    // A byte budget splits too.
    const bySize = composeDigests(many.slice(0, 10), ctx, { maxSubscriptionsPerMessage: 250, maxMessageBytes: 30_000 });
    expect(bySize.length).toBeGreaterThan(1);
    expect(bySize.length).toBeLessThan(10);
    expect(composeDigests(many.slice(0, 3), ctx)).toHaveLength(1);
    expect(composeDigests(many.slice(0, 3), ctx)[0]!.email.subject).not.toContain('part');
    expect(composeDigests([], ctx)).toEqual([]);
  });

  it('reports an unreadable subscription even without findings', () => {
    const email = renderSingle(alert({ status: 'error', findings: [] }), { ...ctx, ruleFixes: { 'contact-exists': { summary: 'Create the contact.' } } });
    expect(email.subject).toContain('security contact could not be read');
    expect(email.plainText).toContain('The security contact could not be read.');
    // The fix for an unreadable contact is access first; a rule's fix text belongs to failed rules only.
    expect(email.plainText).toContain('Security Reader');
    expect(email.plainText).not.toContain('Create the contact.');
  });
});
