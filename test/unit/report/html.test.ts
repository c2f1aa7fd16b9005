import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ContactFix, SecurityContactPutBody, SubscriptionVerdict } from '../../../src/core/model.js';
import { azRestPutCommand, EXAMPLE_SECURITY_TEAM_ADDRESS } from '../../../src/core/rules/remediation.js';
import { renderHtmlReport } from '../../../src/report/html.js';
import { html, Html } from '../../../src/report/html-tag.js';
import { renderReport } from '../../../src/report/index.js';
import { renderTerraformFix } from '../../../src/report/terraform-fix.js';
import { parseHcl } from '../../support/hcl-parser.js';
import {
  buildReport,
  COMPLIANT,
  CONTEXT,
  EXEMPT,
  HOSTILE_NAME,
  NO_CONTACT,
  NONCOMPLIANT_HOSTILE,
  REPORT,
  SKIPPED,
  UNREADABLE,
} from './report-fixture.js';

const page = renderReport(REPORT, 'html', CONTEXT);

/** The page with the text of <pre> blocks (az commands, Bicep: text to copy, not loads) removed. */
const withoutCode = page.replace(/<pre>[\s\S]*?<\/pre>/g, '<pre></pre>');

describe('scan --format html', () => {
  it('is one complete HTML document', () => {
    expect(page.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(page.trimEnd().endsWith('</html>')).toBe(true);
    expect(page).toContain('<meta charset="utf-8">');
    expect(page.match(/<body>/g)).toHaveLength(1);
  });

  it('carries no script from the data: the hostile display name arrives as text', () => {
    expect(page.match(/<script/gi)).toHaveLength(1); // the page's own, at the end
    expect(page.indexOf('<script>')).toBeGreaterThan(page.indexOf('</footer>'));
    expect(page).not.toContain('alert(1)</script>');
    expect(page).toContain('=cmd|&#39; /C calc&#39;!A0 &lt;script&gt;alert(1)&lt;/script&gt;, &quot;Payments&quot; | prod\r\nline2');
  });

  it('escapes values from Azure in attributes too', () => {
    const hostile = {
      ...NONCOMPLIANT_HOSTILE,
      displayName: '"><img src=x onerror=alert(1)>',
      contact: { ...NONCOMPLIANT_HOSTILE.contact, emails: ['x\'@y.io" onmouseover="alert(1)'] },
    };
    const out = renderReport(buildReport([hostile]), 'html', CONTEXT);
    expect(out).not.toMatch(/<img/i);
    // No tag carries an event handler: the attacker's text stays inside escaped text and quoted
    // attribute values (a value cannot end early: `"` inside it is &quot;).
    const tagsWithoutValues = out.replace(/="[^"]*"/g, '=""');
    expect(tagsWithoutValues).not.toMatch(/<[a-z][^<>]*\son[a-z]+=/i);
    expect(tagsWithoutValues).toMatch(/<tr data-filter="">/);
    expect(out).toContain('data-filter="&quot;&gt;&lt;img src=x onerror=alert(1)&gt; ');
  });

  it('loads nothing from outside: no external script, style, font or image; only links to the portal', () => {
    expect(page).not.toMatch(/<link\b/i);
    expect(page).not.toMatch(/\bsrc\s*=/i);
    expect(page).not.toMatch(/@import|url\(/i);
    expect(page).not.toMatch(/<(iframe|object|embed|img|video|audio|image|use)\b/i);
    expect(page).not.toMatch(/xlink:href|xmlns=/i);
    const urls = withoutCode.match(/https?:\/\/[^\s"'<>]*/g) ?? [];
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) expect(url.startsWith('https://portal.azure.com/#view/')).toBe(true);
    for (const match of withoutCode.matchAll(/https?:\/\//g)) {
      const before = withoutCode.slice(Math.max(0, match.index - 300), match.index);
      expect(before).toMatch(/<a [^<>]*href="$/);
    }
  });

  it('declares a Content-Security-Policy that forbids external loads and allows only its own script', () => {
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(page)?.[1];
    expect(csp).toBeDefined();
    const directives = new Map(
      csp!.split(';').map((directive) => {
        const [name, ...values] = directive.trim().split(/\s+/);
        return [name!, values.join(' ')];
      }),
    );
    expect(directives.get('default-src')).toBe("'none'");
    expect(directives.get('base-uri')).toBe("'none'");
    const script = /<script>([\s\S]*?)<\/script>/.exec(page)![1]!;
    const hash = createHash('sha256').update(script).digest('base64');
    expect(directives.get('script-src')).toBe(`'sha256-${hash}'`);
  });

  it('shows the scan status and time, the numbers per status and the compliance rate', () => {
    expect(page).toContain('<span class="scan-status scan-partial">partial</span>');
    expect(page).toContain('<time datetime="2025-03-01T10:00:42.500Z">2025-03-01 10:00:42 UTC</time>');
    expect(page).toContain('Partial scan.');
    const count = (status: string) =>
      new RegExp(`<li class="count c-${status}[^"]*">\\s*<span class="count-number">(\\d+)</span>`).exec(page)?.[1];
    expect([count('noncompliant'), count('error'), count('compliant'), count('exempt'), count('skipped')]).toEqual([
      '2',
      '1',
      '1',
      '1',
      '1',
    ]);
    expect(page).toContain('<span class="count-number">6</span><span class="count-label">Subscriptions</span>');
    expect(page).toContain('<text x="21" y="21" class="donut-text">25%</text>');
    expect(page).toContain('<strong>1</strong> of <strong>4</strong> judged subscriptions');
    expect(page).toMatch(/<title>Security contacts: 25% compliant, 3 failing/);
  });

  it('draws the donut from the judged subscriptions', () => {
    const segments = [...page.matchAll(/<circle class="seg seg-(\w+)"[^>]*stroke-dasharray="([\d.]+) ([\d.]+)"/g)].map((m) => [
      m[1],
      Number(m[2]),
    ]);
    expect(segments).toEqual([
      ['compliant', 25],
      ['noncompliant', 50],
      ['error', 25],
    ]);
  });

  it('lists the failing subscriptions first, with their failed rules, messages and a portal link', () => {
    const failingTable = /<table class="subs failing">([\s\S]*?)<\/table>/.exec(page)![1]!;
    const rowIds = [...failingTable.matchAll(/<code class="sub-id">([^<]+)<\/code>/g)].map((m) => m[1]);
    expect(rowIds).toEqual([NONCOMPLIANT_HOSTILE.subscriptionId, NO_CONTACT.subscriptionId, UNREADABLE.subscriptionId]);
    expect(failingTable).toContain('<a class="rule" href="#fix-owner-notifications">owner-notifications</a>');
    expect(failingTable).toContain('Contact &quot;default1&quot;: alertsToAdmins is &quot;Off&quot;.');
    expect(failingTable).toContain('<a class="rule rule-error" href="#fix-error">could not be read</a>');
    for (const id of rowIds) {
      expect(failingTable).toContain(
        `href="https://portal.azure.com/#view/Microsoft_Azure_Security/PolicyMenuBlade/~/emailNotifications/subscriptionId/${id}"`,
      );
    }
    expect(page.indexOf('Failing subscriptions')).toBeLessThan(page.indexOf('Other subscriptions'));
  });

  it('uses the portal of the cloud scanned, and no link at all for a portal URL that is not http(s)', () => {
    const gov = renderReport(REPORT, 'html', { ...CONTEXT, portalUrl: 'https://portal.azure.us' });
    expect(gov).toContain(
      `href="https://portal.azure.us/#view/Microsoft_Azure_Security/PolicyMenuBlade/~/emailNotifications/subscriptionId/${UNREADABLE.subscriptionId}"`,
    );
    expect(gov).not.toContain('portal.azure.com');
    const bad = renderReport(REPORT, 'html', { ...CONTEXT, portalUrl: 'javascript:alert(1)//' });
    expect(bad).not.toContain('javascript:');
    expect(bad).not.toContain('Email notifications<span');
  });

  it('gives the remediation of each failing rule in a collapsed section: portal steps, az command, Bicep, Terraform, references', () => {
    const fixes = [...page.matchAll(/<details class="fix" id="fix-([a-z-]+)">/g)].map((m) => m[1]);
    expect(fixes).toEqual(['contact-exists', 'email-configured', 'owner-notifications', 'attack-path-notifications', 'error']);
    for (const ruleId of fixes.filter((id) => id !== 'error')) {
      const rule = CONTEXT.rules.find((r) => r.id === ruleId)!;
      const section = page.slice(page.indexOf(`id="fix-${ruleId}"`)).split('</details>')[0]!;
      expect(section).toContain('<h3>In the portal</h3>');
      for (const step of rule.remediation.portal) expect(section).toContain(`<li>${escape(step)}</li>`);
      expect(section).toContain(`<h3>Azure CLI</h3><pre><code>${escape(rule.remediation.azCli.trimEnd())}</code></pre>`);
      expect(section).toContain(`<h3>Bicep</h3><pre><code>${escape(rule.remediation.bicep.trimEnd())}</code></pre>`);
      expect(section).toContain(
        `<h3>Terraform <span class="muted">(azapi provider)</span></h3><pre><code>${escape(rule.remediation.terraform.trimEnd())}</code></pre>`,
      );
      for (const cis of rule.references.cis)
        expect(section).toContain(escape(`${cis.version}, recommendation ${cis.recommendation}: ${cis.title}`));
      for (const reference of rule.references.frameworks) {
        expect(section).toContain(
          `<li><strong>${escape(reference.control)}</strong> ${escape(reference.title)} — ${escape(reference.reason)} <span class="muted">Source: ${escape(reference.source)}.</span></li>`,
        );
      }
      expect(section.includes('<h3>Other frameworks</h3>')).toBe(rule.references.frameworks.length > 0);
    }
    expect(page).not.toMatch(/<details[^>]* open/);
  });

  it('puts the compliant, exempt and skipped subscriptions in collapsed sections after the failing ones', () => {
    const others = page.slice(page.indexOf('Other subscriptions'));
    expect([...others.matchAll(/<details class="others">\s*<summary><span class="badge b-(\w+)">/g)].map((m) => m[1])).toEqual([
      'compliant',
      'exempt',
      'skipped',
    ]);
    for (const verdict of [COMPLIANT, EXEMPT, SKIPPED]) expect(others).toContain(verdict.subscriptionId);
    expect(others).toContain('Would fail:');
    expect(others).toContain('Not judged: the subscription is Disabled.');
  });

  it('shows the filter box only when the script runs, and prints and themes without it', () => {
    expect(page).toContain('<div class="filter noprint" hidden>');
    expect(page).toContain('@media (prefers-color-scheme: dark)');
    expect(page).toContain('@media print');
    expect(page).toContain('<meta name="color-scheme" content="light dark">');
  });

  it('says so when nothing fails or nothing was found', () => {
    const clean = renderReport(buildReport([COMPLIANT, SKIPPED]), 'html', CONTEXT);
    expect(clean).toContain('No subscription is failing.');
    expect(clean).not.toContain('How to fix');
    expect(clean).not.toContain('id="fix-title"');
    expect(clean).toContain('<text x="21" y="21" class="donut-text">100%</text>');
    const empty = renderReport(buildReport([]), 'html', CONTEXT);
    expect(empty).toContain('No subscriptions were found in the scanned scope.');
    expect(empty).toContain('<text x="21" y="21" class="donut-text">n/a</text>');
  });
});

/** The text of markup as a reader sees (and copies) it: tags dropped, entities decoded. */
function shown(markup: string): string {
  return markup
    .replace(/<[^>]*>/g, '')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** The failing table's row of one subscription. */
function rowOf(page: string, subscriptionId: string): string {
  const table = /<table class="subs failing">([\s\S]*?)<\/table>/.exec(page)![1]!;
  const row = table.split('<tr').find((candidate) => candidate.includes(`<code class="sub-id">${subscriptionId}</code>`));
  if (!row) throw new Error(`no failing row for ${subscriptionId}`);
  return row;
}

/** The commands of a row's collapsed fix, as a reader copies them. */
function commandsIn(row: string): string[] {
  return [...row.matchAll(/<details class="sub-fix">[\s\S]*?<pre><code>([\s\S]*?)<\/code><\/pre>[\s\S]*?<\/details>/g)].map((m) =>
    shown(m[1]!),
  );
}

function putFix(body: SecurityContactPutBody, placeholderEmails = false): ContactFix {
  return { kind: 'put', body, placeholderEmails, changes: ['added Owner to the notified roles'] };
}

function contactBody(emails: string, phone?: string): SecurityContactPutBody {
  return {
    properties: {
      emails,
      ...(phone ? { phone } : {}),
      isEnabled: true,
      notificationsByRole: { state: 'On', roles: ['Contributor', 'Owner'] },
      notificationsSources: [
        { sourceType: 'Alert', minimalSeverity: 'Medium' },
        { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
      ],
    },
  };
}

describe("each failing subscription's own fix", () => {
  const payments: SubscriptionVerdict = {
    ...NONCOMPLIANT_HOSTILE,
    subscriptionId: '11111111-2222-4333-8444-000000000001',
    displayName: 'Payments',
    fix: putFix(contactBody("payments-oncall@fabrikam.io;o'brien@fabrikam.io", '+1-555-0100')),
  };
  const ledger: SubscriptionVerdict = {
    ...NONCOMPLIANT_HOSTILE,
    subscriptionId: '11111111-2222-4333-8444-000000000002',
    displayName: 'Ledger',
    fix: putFix(contactBody('ledger-team@fabrikam.io')),
  };
  const page = renderReport(buildReport([payments, ledger, NO_CONTACT, UNREADABLE, COMPLIANT]), 'html', CONTEXT);

  it('puts the exact az rest command of its merged body in its own row, its addresses and phone kept', () => {
    for (const verdict of [payments, ledger]) {
      const fix = verdict.fix as Extract<ContactFix, { kind: 'put' }>;
      const commands = commandsIn(rowOf(page, verdict.subscriptionId));
      expect(commands).toEqual([azRestPutCommand(verdict.subscriptionId, fix.body)]);
      const body = JSON.parse(/--body '(.*)'$/.exec(commands[0]!)![1]!) as SecurityContactPutBody;
      expect(body).toEqual(fix.body);
    }
    const paymentsRow = rowOf(page, payments.subscriptionId);
    // The subscription's own addresses and phone (the apostrophe escaped for the shell), never another's.
    expect(commandsIn(paymentsRow)[0]).toContain('"emails":"payments-oncall@fabrikam.io;o\\u0027brien@fabrikam.io","phone":"+1-555-0100"');
    expect(paymentsRow).not.toContain('ledger-team@fabrikam.io');
    expect(rowOf(page, ledger.subscriptionId)).not.toContain('payments-oncall@fabrikam.io');
    // What the write changes, for people, above the command.
    expect(paymentsRow).toContain('<li>added Owner to the notified roles</li>');
    // Collapsed, like every section of the page.
    expect(paymentsRow).toContain('<details class="sub-fix">\n          <summary>Fix this subscription (Azure CLI or Terraform)</summary>');
    expect(page).not.toMatch(/<details[^>]* open/);
  });

  it('puts the same write as Terraform under the command, its body the merged body, exactly as check --format terraform prints it', async () => {
    for (const verdict of [payments, ledger]) {
      const fix = verdict.fix as Extract<ContactFix, { kind: 'put' }>;
      const row = rowOf(page, verdict.subscriptionId);
      const terraform = [...row.matchAll(/<details class="sub-fix-terraform">[\s\S]*?<pre><code>([\s\S]*?)<\/code><\/pre>/g)].map((m) =>
        shown(m[1]!),
      );
      expect(terraform).toEqual([renderTerraformFix(verdict)]);
      const parsed = (await parseHcl('security-contact.tf', terraform[0]!)) as {
        resource: { azapi_resource: { security_contact: { body: unknown; parent_id: string }[] } };
      };
      const [resource] = parsed.resource.azapi_resource.security_contact;
      expect(resource?.parent_id).toBe(`/subscriptions/${verdict.subscriptionId}`);
      expect(resource?.body).toEqual(fix.body);
    }
  });

  it('gives the reason where writing the contact cannot fix it, once, and nothing where the contact could not be read', () => {
    // The row's failure already says the provider is not registered: not said twice.
    expect(rowOf(page, NO_CONTACT.subscriptionId)).toContain(
      '<p class="sub-fix-note">Writing the contact cannot fix this, for the reason above.</p>',
    );
    expect(commandsIn(rowOf(page, NO_CONTACT.subscriptionId))).toEqual([]);
    const reason = 'writing the contact named default would not be enough: the other contact (default1) would still fail <the rules>';
    const other = renderReport(buildReport([{ ...NONCOMPLIANT_HOSTILE, fix: { kind: 'not-fixable', reason } }]), 'html', CONTEXT);
    expect(rowOf(other, NONCOMPLIANT_HOSTILE.subscriptionId)).toContain(
      `<p class="sub-fix-note">Writing the contact cannot fix this: ${escape(reason)}</p>`,
    );
    const unreadable = renderReport(buildReport([{ ...UNREADABLE, fix: ledger.fix! }]), 'html', CONTEXT);
    expect(rowOf(unreadable, UNREADABLE.subscriptionId)).not.toContain('sub-fix');
    expect(unreadable).not.toContain('--method put --url &quot;/subscriptions/a1b2c3d4');
  });

  it('points to contact-watch check for a fix too large to show, and says to replace the example address', () => {
    const large = renderReport(buildReport([{ ...ledger, fix: { kind: 'too-large', bytes: 412_000 } }]), 'html', CONTEXT);
    expect(rowOf(large, ledger.subscriptionId)).toContain(
      `<p class="sub-fix-note">Its fix is too large to show here: <code>contact-watch check ${ledger.subscriptionId}</code> prints the exact command.</p>`,
    );
    const body = contactBody(EXAMPLE_SECURITY_TEAM_ADDRESS);
    const placeholder = renderReport(buildReport([{ ...ledger, fix: putFix(body, true) }]), 'html', CONTEXT);
    const row = rowOf(placeholder, ledger.subscriptionId);
    expect(row).toContain(
      `Replace <code>${EXAMPLE_SECURITY_TEAM_ADDRESS}</code> with your security team's shared mailbox before running it`,
    );
    expect(commandsIn(row)).toEqual([azRestPutCommand(ledger.subscriptionId, body)]);
  });

  it('shows no command for a subscription that is not failing, whatever fix it carries', () => {
    const others = renderReport(
      buildReport([
        { ...COMPLIANT, fix: ledger.fix! },
        { ...EXEMPT, fix: payments.fix! },
      ]),
      'html',
      CONTEXT,
    );
    expect(others).not.toContain('sub-fix"');
    expect(others).not.toContain('az rest --method put --url &quot;/subscriptions/20ff7fc3');
  });

  it('keeps escaping a hostile display name and hostile text in the body', () => {
    const hostile: SubscriptionVerdict = {
      ...NONCOMPLIANT_HOSTILE,
      fix: putFix(contactBody('"<script>alert(1)</script>"@evil.io;x\u202E@fabrikam.io')),
      contact: { ...NONCOMPLIANT_HOSTILE.contact, emails: ['<img src=x onerror=alert(1)>@x.io'] },
    };
    const out = renderReport(buildReport([hostile]), 'html', CONTEXT);
    expect(out.match(/<script/gi)).toHaveLength(1); // the page's own
    expect(out).not.toMatch(/<img/i);
    expect(out).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
    const row = rowOf(out, hostile.subscriptionId);
    expect(row).toContain(escape(HOSTILE_NAME));
    // The command is still exact: what the reader copies is the command for this body.
    expect(commandsIn(row)).toEqual([azRestPutCommand(hostile.subscriptionId, (hostile.fix as Extract<ContactFix, { kind: 'put' }>).body)]);
    expect(row).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('wraps a long command inside its box instead of overflowing it, in every code block of the page', () => {
    const style = /<style>([\s\S]*?)<\/style>/.exec(page)![1]!;
    const rule = /(?:^|\n)pre \{([^}]*)\}/.exec(style)?.[1] ?? '';
    expect(rule).toMatch(/white-space:\s*pre-wrap/);
    expect(rule).toMatch(/overflow-wrap:\s*anywhere/);
    // No rule for one kind of block sets it back (the browser test measures the boxes).
    const preRules = [...style.matchAll(/([^{}]*)\{([^{}]*)\}/g)].filter((m) => /(^|[\s,>])pre\b/.test(m[1]!)).map((m) => m[2]!);
    expect(preRules.length).toBeGreaterThan(0);
    for (const body of preRules) expect(body).not.toMatch(/white-space:\s*pre\s*(;|$)|overflow-x/);
  });

  it('keeps the generic remediation of each failing rule as well', () => {
    expect(page).toContain('<details class="fix" id="fix-owner-notifications">');
  });
});

/** The number the Rules table gives each rule, and the one in each rule's "How to fix" summary. */
function ruleNumbers(page: string): { rules: Record<string, number>; fixes: Record<string, number> } {
  const table = /<table class="rules">([\s\S]*?)<\/table>/.exec(page)?.[1] ?? '';
  const rules = Object.fromEntries(
    [...table.matchAll(/<code class="rule-id">([a-z-]+)<\/code><\/td>\s*<td class="num">(\d+)<\/td>/g)].map((m) => [m[1]!, Number(m[2])]),
  );
  const fixes = Object.fromEntries(
    [
      ...page.matchAll(
        /<details class="fix" id="fix-([a-z-]+)">\s*<summary>[\s\S]*?<span class="pill">(\d+) subscriptions? failing<\/span>/g,
      ),
    ].map((m) => [m[1]!, Number(m[2])]),
  );
  return { rules, fixes };
}

describe('the failing rules, counted one way', () => {
  it('gives each rule the same number in "Rules" and "How to fix": a missing contact once, under contact-exists', () => {
    const { rules, fixes } = ruleNumbers(page);
    // NONCOMPLIANT_HOSTILE fails three rules; NO_CONTACT fails all five, but only for want of a contact.
    expect(rules).toEqual({
      'contact-exists': 1,
      'email-configured': 1,
      'alert-notifications': 0,
      'owner-notifications': 1,
      'attack-path-notifications': 1,
    });
    expect(fixes).toEqual({ 'contact-exists': 1, 'email-configured': 1, 'owner-notifications': 1, 'attack-path-notifications': 1 });
    expect(page).toContain('Each number is how many of the 3 subscriptions whose contact was read fail the rule');
    expect(page).toContain('counted once, under <code>contact-exists</code>');
  });

  it('counts a compliant subscription that fails a rule the policy does not require, in both places', () => {
    const relaxed: SubscriptionVerdict = {
      ...COMPLIANT,
      subscriptionId: '20ff7fc3-e762-44dd-bd96-000000000002',
      findings: COMPLIANT.findings.map((f) =>
        f.ruleId === 'attack-path-notifications' ? { ...f, result: 'fail', message: 'No attack path e-mails.' } : f,
      ),
    };
    const { rules, fixes } = ruleNumbers(renderReport(buildReport([COMPLIANT, relaxed, NONCOMPLIANT_HOSTILE, EXEMPT]), 'html', CONTEXT));
    expect(rules['attack-path-notifications']).toBe(2);
    expect(fixes['attack-path-notifications']).toBe(2);
    // The exempt subscription's failing email-configured is not counted.
    expect(rules['email-configured']).toBe(1);
    expect(fixes['email-configured']).toBe(1);
  });
});

describe('a subscription whose contact could not be read', () => {
  const subscriptionId = '161e7e9f-d36a-40a7-a563-edd620c5f815';
  // What describeHttpFailure makes of the service's 403, with text a hostile tenant could plant.
  const answer =
    "403 AuthorizationFailed: The client '7d0b5b3e-1c2a-4f6e-9a53-4c8e2f1d0a11' with object id '7d0b5b3e-1c2a-4f6e-9a53-4c8e2f1d0a11' " +
    `does not have authorization to perform action 'Microsoft.Security/securityContacts/read' over scope '/subscriptions/${subscriptionId}' ` +
    'or the scope is invalid. If access was recently granted, please refresh your credentials. <b>\u202Etxt.exe</b>';
  const locked: SubscriptionVerdict = {
    ...UNREADABLE,
    subscriptionId,
    findings: UNREADABLE.findings.map((f) => ({ ...f, message: answer })),
  };
  const row = rowOf(renderReport(buildReport([locked, COMPLIANT]), 'html', CONTEXT), subscriptionId);

  it("shows a short reason in its row, and the service's full answer in a collapsed section under it", () => {
    expect(row).toContain(
      '<a class="rule rule-error" href="#fix-error">could not be read</a> <span class="message">403 AuthorizationFailed: the identity cannot read this subscription&#39;s security contacts</span>' +
        '<details class="full-answer"><summary>The service\'s full answer</summary><p class="message">403 AuthorizationFailed: The client',
    );
    const full = /<details class="full-answer">[\s\S]*?<p class="message">([\s\S]*?)<\/p><\/details>/.exec(row)?.[1] ?? '';
    expect(shown(full)).toBe(answer.replace('\u202E', '\uFFFD'));
    expect(row.match(/<details class="full-answer">/g)).toHaveLength(1); // five error findings, one message
    expect(row).not.toMatch(/<details[^>]* open/);
  });

  it('keeps the full answer escaped, its bidirectional controls shown', () => {
    expect(row).not.toContain('<b>');
    expect(row).toContain('&lt;b&gt;\uFFFDtxt.exe&lt;/b&gt;');
    expect(row).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
  });

  it('needs no second copy when the message is already short, nor for a failed rule', () => {
    const short = {
      ...UNREADABLE,
      findings: UNREADABLE.findings.map((f) => ({ ...f, message: 'no answer from https://management.azure.com' })),
    };
    const out = rowOf(renderReport(buildReport([short]), 'html', CONTEXT), UNREADABLE.subscriptionId);
    expect(out).toContain('<span class="message">no answer from https://management.azure.com</span>');
    expect(out).not.toContain('full-answer');
    expect(rowOf(page, NONCOMPLIANT_HOSTILE.subscriptionId)).not.toContain('full-answer');
  });
});

describe('renderHtmlReport options', () => {
  it('places extra sections (e.g. a trend) after the glance, escaped by the same tag', () => {
    const trend = html`<section class="panel" id="trend"><h2>Trend</h2><p>${'<b>not bold</b>'}</p></section>`;
    const out = renderHtmlReport(REPORT, CONTEXT, { extraSections: [trend] });
    expect(out).toContain('<section class="panel" id="trend"><h2>Trend</h2><p>&lt;b&gt;not bold&lt;/b&gt;</p></section>');
    expect(out.indexOf('id="trend"')).toBeGreaterThan(out.indexOf('id="glance-title"'));
    expect(out.indexOf('id="trend"')).toBeLessThan(out.indexOf('id="failing-title"'));
  });
});

describe('the html template tag', () => {
  it('escapes every interpolated value except markup it built itself', () => {
    const name = '<b>"x" & \'y\'</b>';
    expect(html`<p title="${name}">${name}</p>`.markup).toBe(
      '<p title="&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;">&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;</p>',
    );
    expect(html`<ul>${['<a>', html`<li>ok</li>`]}</ul>`.markup).toBe('<ul>&lt;a&gt;<li>ok</li></ul>');
    expect(html`${null}${undefined}${false}${0}`.markup).toBe('0');
    expect(html`x` instanceof Html).toBe(true);
  });
});

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
