import { describe, expect, it } from 'vitest';
import type { OwedAlert } from '../../../src/core/alerts.js';
import { RULE_IDS, type Finding } from '../../../src/core/model.js';
import { ruleById } from '../../../src/core/rules/index.js';
import { azRestPutCommand, EXAMPLE_SECURITY_TEAM_ADDRESS, securityContactPortalSteps } from '../../../src/core/rules/remediation.js';
import { composeDigests, renderDigest, renderSingle, subjectSafe, type TemplateContext } from '../../../src/alerts/templates.js';
import { PORTAL_URLS } from '../../../src/core/azure-portal.js';

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
    fix: { kind: 'put', body: OWN_CONTACT_FIXED, placeholderEmails: false, changes: ['added Owner to the notified roles'] },
    ...overrides,
  };
}

/** The subscription's own contact (its address and phone) with the failing settings changed. */
const OWN_CONTACT_FIXED = {
  properties: {
    emails: 'payments-oncall@fabrikam.com',
    phone: '+1-555-0100',
    isEnabled: true,
    notificationsByRole: { state: 'On', roles: ['Contributor', 'Owner'] },
    notificationsSources: [
      { sourceType: 'Alert', minimalSeverity: 'Medium' },
      { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
    ],
  },
};

const ctx: TemplateContext = { portalUrl: PORTAL_URLS.AzureCloud, now: NOW };

describe('alert templates', () => {
  it('names the subscription, the failed rules with messages, how long, and how to fix it', () => {
    const email = renderSingle(alert(), ctx);
    const text = (value: string) =>
      value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
    for (const [body, shown] of [
      [email.html, text],
      [email.plainText, (value: string) => value],
    ] as const) {
      expect(body).toContain('Payments prod');
      expect(body).toContain('6f1b2c3d-0000-4000-8000-000000000001');
      expect(body).toContain('email-configured');
      expect(body).toContain('admin@contoso.com is on a placeholder domain');
      expect(body).toContain('role notifications are off');
      expect(body).toContain('3 days');
      // The fix is the rules' own: each failed rule's summary, and the portal steps of both rules.
      expect(body).toContain(`Fix: ${shown(ruleById('owner-notifications').remediation.summary)}`);
      expect(body).toContain(`Fix: ${shown(ruleById('email-configured').remediation.summary)}`);
      for (const step of securityContactPortalSteps(['emails', 'owners'])) expect(body).toContain(shown(step));
      expect(body).toContain('https://portal.azure.com/#view/Microsoft_Azure_Security/SecurityMenuBlade/~/EnvironmentSettings');
    }
    const steps = email.plainText.slice(email.plainText.indexOf('How to fix:'), email.plainText.indexOf('The subscription in the portal'));
    expect(steps.match(/^ {2}\d+\. /gm)).toHaveLength(5);
    expect(steps).not.toContain('Notify about alerts');
    expect(email.plainText).toContain(
      'az rest --method put --url "/subscriptions/6f1b2c3d-0000-4000-8000-000000000001/providers/Microsoft.Security/securityContacts/default?api-version=2023-12-01-preview"',
    );
    expect(email.html).toContain(
      'az rest --method put --url &quot;/subscriptions/6f1b2c3d-0000-4000-8000-000000000001/providers/Microsoft.Security/securityContacts/default?api-version=2023-12-01-preview&quot;',
    );
    expect(email.subject).toBe(
      '[contact-watch] Subscription "Payments prod" (6f1b2c3d-0000-4000-8000-000000000001) has no valid security contact',
    );
  });

  it("suggests the subscription's own contact with only the failing settings changed, exactly the merged body", () => {
    for (const email of [renderSingle(alert(), ctx), renderDigest([alert()], ctx)]) {
      const command = email.plainText.split('\n').find((line) => line.includes('az rest --method put'))!;
      const body = JSON.parse(/--body '(.*)'$/.exec(command)![1]!) as typeof OWN_CONTACT_FIXED;
      expect(body).toEqual(OWN_CONTACT_FIXED);
      expect(command.trim()).toBe(azRestPutCommand('6f1b2c3d-0000-4000-8000-000000000001', OWN_CONTACT_FIXED));
      expect(email.plainText).toContain('its addresses, phone and roles are kept');
      expect(email.plainText).not.toContain('# Replace');
    }
  });

  it('shows the example address of a merged body as it is, with a note to replace it', () => {
    const body = { properties: { ...OWN_CONTACT_FIXED.properties, emails: EXAMPLE_SECURITY_TEAM_ADDRESS } };
    const placeholder = alert({ fix: { kind: 'put', body, placeholderEmails: true, changes: [] } });
    for (const email of [renderSingle(placeholder, ctx), renderDigest([placeholder], ctx)]) {
      const lines = email.plainText.split('\n').map((line) => line.trim());
      const command = lines.find((line) => line.startsWith('az rest --method put'))!;
      expect(command).toBe(azRestPutCommand('6f1b2c3d-0000-4000-8000-000000000001', body));
      expect(JSON.parse(/--body '(.*)'$/.exec(command)![1]!)).toEqual(body);
      // The note comes right before the command it is about.
      expect(lines[lines.indexOf(command) - 1]).toBe(
        `# Replace ${EXAMPLE_SECURITY_TEAM_ADDRESS} with your security team's shared mailbox first.`,
      );
      expect(email.html).toContain(`# Replace ${EXAMPLE_SECURITY_TEAM_ADDRESS} with your security team&#39;s shared mailbox first.`);
    }
  });

  it('suggests no write for a contact that could not be read, and a read first where the fix is not known', () => {
    const unreadable = alert({
      status: 'error',
      findings: [{ ruleId: 'contact-exists', result: 'error', message: '403 AuthorizationFailed' }],
    });
    for (const body of [renderSingle(unreadable, ctx).plainText, renderDigest([unreadable], ctx).plainText]) {
      expect(body).not.toContain('az rest');
      expect(body).toContain('Security Reader');
    }
    const { fix: _fix, ...unknownFix } = alert();
    const readFirst = renderSingle(unknownFix, ctx).plainText;
    expect(readFirst).not.toContain('--method put --url');
    expect(readFirst).toContain(
      'az rest --method get --url "/subscriptions/6f1b2c3d-0000-4000-8000-000000000001/providers/Microsoft.Security/securityContacts?api-version=2023-12-01-preview"',
    );
    const tooLarge = renderSingle(alert({ fix: { kind: 'too-large', bytes: 412_000 } }), ctx).plainText;
    expect(tooLarge).toContain('contact-watch check 6f1b2c3d-0000-4000-8000-000000000001');
    const notFixable = renderSingle(
      alert({ fix: { kind: 'not-fixable', reason: 'the Microsoft.Security resource provider is not registered' } }),
      ctx,
    ).plainText;
    expect(notFixable).toContain('# Writing the contact cannot fix this: the Microsoft.Security resource provider is not registered');
    expect(notFixable).not.toContain('--method put');
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
      expect(email.html).toContain(
        'Prod &lt;script&gt;alert(1)&lt;/script&gt; Bcc: attacker@evil.test &quot;quoted&quot; &amp; &#39;single&#39;',
      );
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
    expect(renderSingle(hostile, ctx).subject).toBe(
      '[contact-watch] Subscription 6f1b2c3d-0000-4000-8000-000000000001 has no valid security contact',
    );
    // The HTML has no script, no external asset.
    const { html } = renderDigest([hostile, alert()], ctx);
    expect(html).not.toMatch(/<(script|link|img|iframe|object|embed|style)\b|@import|url\(/i);
  });

  it('never puts a non-GUID id into a link or a command', () => {
    const odd = alert({ subscriptionId: 'x"; rm -rf / #' });
    const email = renderSingle(odd, ctx);
    expect(email.html).not.toContain('rm -rf / #/');
    expect(email.plainText).not.toContain('az rest');
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
        alert({
          subscriptionId: '6f1b2c3d-0000-4000-8000-000000000003',
          kind: 'fixed',
          status: 'compliant',
          findings: [],
          displayName: 'Sandbox',
        }),
      ],
      ctx,
    );
    expect(email.subject).toBe('[contact-watch] 2 Azure subscriptions without a valid security contact (1 new, 1 reminder, 1 fixed)');
    expect(email.html).toContain('Data lake');
    expect(email.html).toContain('Fixed: compliant again');
    expect(email.plainText).toContain('Reminder: still non-compliant');
  });

  it('reports an unreadable subscription even without findings', () => {
    const email = renderSingle(alert({ status: 'error', findings: [] }), ctx);
    expect(email.subject).toContain('security contact could not be read');
    expect(email.plainText).toContain('The security contact could not be read.');
    // The fix for an unreadable contact is access first; a rule's fix text belongs to failed rules only.
    expect(email.plainText).toContain('Security Reader');
    expect(email.plainText).not.toContain(ruleById('contact-exists').remediation.summary);
    // Then the steps that make sure a whole contact exists.
    for (const step of ruleById('contact-exists').remediation.portal) expect(email.plainText).toContain(step);
  });

  it('splits only where a limit demands it: the subscriptions one message may cover', () => {
    const many = Array.from({ length: 600 }, (_, i) =>
      alert({ subscriptionId: `6f1b2c3d-0000-4000-8000-${String(i).padStart(12, '0')}`, displayName: `Sub ${String(i).padStart(3, '0')}` }),
    );
    expect(composeDigests(many, ctx).map((p) => p.alerts.length)).toEqual([600]);
    const capped = composeDigests([...many].reverse(), ctx, { maxSubscriptionsPerMessage: 250, maxMessageBytes: 96 * 1024 });
    expect(capped.map((p) => p.alerts.length)).toEqual([250, 250, 100]);
    expect(capped.map((p) => p.email.subject)).toEqual([1, 2, 3].map((n) => expect.stringContaining(`(part ${n} of 3)`)));
    // The parts follow the triage order (here the names'): the first part holds the first 250.
    expect(capped.flatMap((p) => p.alerts.map((a) => a.subscriptionId))).toEqual(many.map((a) => a.subscriptionId));
    // A small byte budget summarises instead of splitting into one message per subscription.
    const small = composeDigests(many.slice(0, 10), ctx, { maxSubscriptionsPerMessage: 250, maxMessageBytes: 30_000 });
    expect(small).toHaveLength(1);
    expect(Buffer.byteLength(small[0]!.email.html) + Buffer.byteLength(small[0]!.email.plainText)).toBeLessThanOrEqual(30_000);
  });
});

const BIDI_CONTROLS = [
  '\u202A',
  '\u202B',
  '\u202C',
  '\u202D',
  '\u202E',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\u200E',
  '\u200F',
  '\u061C',
];
const ANY_BIDI_CONTROL = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;

describe.each(BIDI_CONTROLS.map((c) => [`U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`, c] as const))(
  'alert e-mails with %s in a display name, a message and an address',
  (_name, control) => {
    const lure = alert({
      displayName: `Payroll ${control}gpj.exe`,
      findings: [{ ruleId: 'email-configured', result: 'fail', message: `Not a valid e-mail address: "ops${control}@fabrikam.io".` }],
    });
    const unreadable = alert({
      subscriptionId: '6f1b2c3d-0000-4000-8000-000000000009',
      status: 'error',
      displayName: `Finance ${control}legacy`,
      findings: RULE_IDS.map((ruleId): Finding => ({ ruleId, result: 'error', message: `403 from tenant ${control}contoso` })),
    });

    it('the subject, HTML and text show it as U+FFFD, never as it is', () => {
      const emails = [
        renderSingle(lure, ctx),
        renderSingle(unreadable, ctx),
        renderDigest([lure, unreadable], ctx),
        ...composeDigests([lure, unreadable], ctx).map((p) => p.email),
      ];
      for (const email of emails) {
        expect(email.subject).not.toMatch(ANY_BIDI_CONTROL);
        expect(email.html).not.toMatch(ANY_BIDI_CONTROL);
        expect(email.plainText).not.toMatch(ANY_BIDI_CONTROL);
      }
      const single = renderSingle(lure, ctx);
      expect(single.subject).toBe(
        '[contact-watch] Subscription "Payroll \uFFFDgpj.exe" (6f1b2c3d-0000-4000-8000-000000000001) has no valid security contact',
      );
      for (const body of [
        single.html,
        single.plainText,
        renderDigest([lure, unreadable], ctx).html,
        renderDigest([lure, unreadable], ctx).plainText,
      ]) {
        expect(body).toContain('Payroll \uFFFDgpj.exe');
        expect(body).toContain('ops\uFFFD@fabrikam.io');
      }
      expect(renderDigest([lure, unreadable], ctx).plainText).toContain('403 from tenant \uFFFDcontoso');
    });
  },
);

describe('alert e-mails and links in values from Azure', () => {
  it('a URL or www. address in a name or message cannot become a link in a mail client', () => {
    const lure = alert({
      displayName: 'Payments: reset at https://evil.example/x',
      findings: [{ ruleId: 'email-configured', result: 'fail', message: 'Not a valid e-mail address: "www.evil.example".' }],
    });
    for (const email of [renderSingle(lure, ctx), renderDigest([lure], ctx)]) {
      for (const body of [email.html, email.plainText]) {
        expect(body).not.toMatch(/[a-z]+:\/\/evil|www\.evil/i);
        expect(body).toContain('https[://]evil.example/x');
        expect(body).toContain('www[.]evil.example');
      }
    }
  });
});

/** Owed alerts as a tenant of `count` failing subscriptions produces them: mostly non-compliant, some unreadable, names of varied length. */
function tenantBacklog(count: number): OwedAlert[] {
  return Array.from({ length: count }, (_, i) => {
    const subscriptionId = `${(0x10000000 + i * 7919).toString(16).slice(-8)}-${String(i % 10_000).padStart(4, '0')}-4${String(i % 1000).padStart(3, '0')}-8000-${String(i).padStart(12, '0')}`;
    const unreadable = i % 7 === 3;
    const displayName =
      `${['Payments', 'Data platform', 'Sandbox', 'Web shop'][i % 4]} ${i} ${i % 11 === 0 ? 'with a rather long display name that a team chose for its landing zone subscription'.repeat(2) : ''}`.trim();
    const findings: Finding[] = unreadable
      ? RULE_IDS.map((ruleId) => ({
          ruleId,
          result: 'error',
          message: `The securityContacts API answered 403 AuthorizationFailed: the client 'contact-watch' does not have authorization to perform action 'Microsoft.Security/securityContacts/read' over scope '/subscriptions/${subscriptionId}'.`,
        }))
      : i % 3 === 0
        ? [
            { ruleId: 'contact-exists', result: 'fail', message: 'No security contact is set on this subscription.' },
            ...RULE_IDS.slice(1).map((ruleId): Finding => ({ ruleId, result: 'fail', message: 'no security contact' })),
          ]
        : [
            {
              ruleId: 'email-configured',
              result: 'fail',
              message: 'On a placeholder domain that reaches no security team: "admin@contoso.com", "security@example.com".',
            },
            { ruleId: 'owner-notifications', result: 'fail', message: 'Contact "default": notificationsByRole.state is "Off".' },
            { ruleId: 'attack-path-notifications', result: 'fail', message: 'No AttackPath notification source is configured.' },
          ];
    return alert({
      subscriptionId,
      displayName,
      status: unreadable ? 'error' : 'noncompliant',
      kind: i % 5 === 4 ? 'reminder' : 'alert',
      since: new Date(NOW.getTime() - (1 + (i % 40)) * 86_400_000).toISOString(),
      findings,
    });
  });
}

const REPORT_URL = 'https://contact-watch.fabrikam.net/api/report';
const fullCtx: TemplateContext = { ...ctx, reportUrl: REPORT_URL };
const KB = 1024;
const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

describe('digest size', () => {
  it.each([[25], [1_000], [10_000]])('a digest of %i owed alerts stays under 100 KB of HTML and of text', (count) => {
    const backlog = tenantBacklog(count);
    const emails = [renderDigest(backlog, fullCtx), ...composeDigests(backlog, fullCtx).map((part) => part.email)];
    for (const email of emails) {
      expect(bytes(email.html)).toBeLessThan(100 * KB);
      expect(bytes(email.plainText)).toBeLessThan(100 * KB);
      expect(bytes(email.html) + bytes(email.plainText)).toBeLessThan(100 * KB);
    }
  });

  it('names as many subscriptions as fit, counts the rest and links the report page', () => {
    const backlog = tenantBacklog(1_000);
    const email = renderDigest(backlog, fullCtx);
    const named = backlog.filter((a) => email.plainText.includes(a.subscriptionId));
    expect(named.length).toBeGreaterThanOrEqual(25);
    expect(named.length).toBeLessThan(1_000);
    for (const a of named) expect(email.html).toContain(a.subscriptionId);
    const unreadableCount = backlog.filter((a) => a.status === 'error').length;
    expect(unreadableCount).toBeGreaterThan(0);
    expect(email.subject).toBe(
      `[contact-watch] ${1_000 - unreadableCount} Azure subscriptions without a valid security contact, ${unreadableCount} could not be read (800 new, 200 reminders)`,
    );
    const rest = 1_000 - named.length;
    expect(email.plainText).toContain(`and ${rest} more subscriptions`);
    expect(email.html).toContain(`and ${rest} more subscriptions`);
    expect(email.html).toContain(`href="${REPORT_URL}"`);
    expect(email.plainText).toContain(REPORT_URL);
    // 25 fit: every one is named, none counted.
    const small = renderDigest(tenantBacklog(25), fullCtx);
    expect(tenantBacklog(25).every((a) => small.plainText.includes(a.subscriptionId) && small.html.includes(a.subscriptionId))).toBe(true);
    expect(small.plainText).not.toMatch(/and \d+ more subscriptions/);
  });

  it('shortens a huge value from Azure, so one subscription cannot make a message large', () => {
    const huge = alert({
      displayName: `Payments ${'x'.repeat(400_000)}`,
      findings: [{ ruleId: 'email-configured', result: 'fail', message: `Not a valid e-mail address: ${'"a@b", '.repeat(60_000)}` }],
    });
    for (const email of [renderSingle(huge, fullCtx), renderDigest([huge, ...tenantBacklog(30)], fullCtx)]) {
      expect(bytes(email.html) + bytes(email.plainText)).toBeLessThan(100 * KB);
      expect(email.plainText).toMatch(/Payments x+…/);
      expect(email.plainText).toContain(huge.subscriptionId);
    }
  });

  it('links the report page only when its URL is a web address', () => {
    const backlog = tenantBacklog(30);
    expect(renderDigest(backlog, { ...fullCtx, reportUrl: 'javascript:alert(1)' }).html).not.toContain('javascript:');
    expect(renderDigest(backlog, { ...fullCtx, reportUrl: undefined }).html).not.toContain('contact-watch.fabrikam.net');
    expect(renderSingle(backlog[0]!, fullCtx).html).toContain(`href="${REPORT_URL}"`);
  });
});

describe('digest order and unreadable subscriptions', () => {
  const unreadableMessage =
    "The securityContacts API answered 403 AuthorizationFailed: the client 'contact-watch' does not have authorization.";
  const unreadable = alert({
    subscriptionId: '00000000-0000-4000-8000-00000000000a',
    displayName: 'Archive',
    status: 'error',
    findings: RULE_IDS.map((ruleId): Finding => ({ ruleId, result: 'error', message: unreadableMessage })),
  });
  const alerts = [
    alert({ subscriptionId: '00000000-0000-4000-8000-000000000001', displayName: 'web shop' }),
    unreadable,
    alert({ subscriptionId: '00000000-0000-4000-8000-000000000002', displayName: 'Analytics', kind: 'reminder' }),
    alert({
      subscriptionId: '00000000-0000-4000-8000-000000000003',
      displayName: 'Zeta',
      kind: 'fixed',
      status: 'compliant',
      findings: [],
    }),
    alert({ subscriptionId: '00000000-0000-4000-8000-000000000005', displayName: 'Billing' }),
    alert({ subscriptionId: '00000000-0000-4000-8000-000000000004', displayName: 'Billing' }),
  ];
  // Like the report: non-compliant, then unreadable, then the rest; by display name, then id.
  const expected = ['Analytics', 'Billing', 'Billing', 'web shop', 'Archive', 'Zeta'];
  const expectedIds = ['2', '4', '5', '1', 'a', '3'].map((n) => `00000000-0000-4000-8000-00000000000${n}`);

  it('lists subscriptions in the order of the report, not by id', () => {
    const email = renderDigest(alerts, ctx);
    for (const body of [email.html, email.plainText]) {
      const positions = expectedIds.map((id) => body.indexOf(id));
      expect(positions.every((p) => p >= 0)).toBe(true);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    }
    expect(
      composeDigests(alerts, ctx, { maxSubscriptionsPerMessage: 2, maxMessageBytes: 96 * 1024 }).map((p) =>
        p.alerts.map((a) => a.displayName),
      ),
    ).toEqual([expected.slice(0, 2), expected.slice(2, 4), expected.slice(4, 6)]);
  });

  it('names the first subscriptions in that order when the digest summarises', () => {
    const backlog = tenantBacklog(300);
    const email = renderDigest([...backlog].reverse(), fullCtx);
    const rank = { noncompliant: 0, error: 1, compliant: 2 } as const;
    const names = new Intl.Collator('en', { sensitivity: 'base' });
    const triage = [...backlog].sort(
      (a, b) =>
        rank[a.status] - rank[b.status] || names.compare(a.displayName, b.displayName) || (a.subscriptionId < b.subscriptionId ? -1 : 1),
    );
    const shown = backlog
      .filter((a) => email.plainText.includes(a.subscriptionId))
      .sort((a, b) => email.plainText.indexOf(a.subscriptionId) - email.plainText.indexOf(b.subscriptionId));
    expect(shown.length).toBeLessThan(300);
    expect(shown.map((a) => a.subscriptionId)).toEqual(triage.slice(0, shown.length).map((a) => a.subscriptionId));
  });

  it('shows an unreadable subscription as could not be read, with its reason once and no failed rules', () => {
    for (const email of [renderDigest(alerts, ctx), renderDigest([unreadable], ctx), renderSingle(unreadable, ctx)]) {
      for (const body of [email.html, email.plainText]) {
        expect(body.split(unreadableMessage.replace(/'/g, body === email.html ? '&#39;' : "'")).length - 1).toBe(1);
        expect(body).toContain('could not be read');
        const section = body.slice(body.indexOf('Archive'));
        const end = section.indexOf(expectedIds[5]!);
        for (const ruleId of RULE_IDS) expect(end > 0 ? section.slice(0, end) : section).not.toContain(ruleId);
      }
    }
    expect(renderDigest([unreadable], ctx).subject).toBe('[contact-watch] 1 Azure subscription could not be read (1 new)');
    expect(renderDigest(alerts, ctx).subject).toBe(
      '[contact-watch] 4 Azure subscriptions without a valid security contact, 1 could not be read (4 new, 1 reminder, 1 fixed)',
    );
    expect(renderDigest(alerts, ctx).plainText).not.toMatch(/5 subscriptions? in your tenant lack/);
  });

  it('an unreadable subscription in a large digest is one row with its reason, once', () => {
    const backlog = [...tenantBacklog(24).filter((a) => a.status === 'noncompliant'), unreadable];
    const email = renderDigest(backlog, fullCtx);
    expect(email.plainText.split(unreadableMessage).length - 1).toBe(1);
    expect(email.html.split(unreadableMessage.replace(/'/g, '&#39;')).length - 1).toBe(1);
  });
});
