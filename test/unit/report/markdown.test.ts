import { describe, expect, it } from 'vitest';
import type { SubscriptionVerdict } from '../../../src/core/model.js';
import { renderReport } from '../../../src/report/index.js';
import { MARKDOWN_FAILING_ROWS_MAX, markdownText } from '../../../src/report/markdown.js';
import { buildReport, COMPLIANT, CONTEXT, NO_CONTACT, NONCOMPLIANT_HOSTILE, REPORT, UNREADABLE } from './report-fixture.js';

const md = renderReport(REPORT, 'markdown', CONTEXT);
const lines = md.split('\n');

/** The `|` that separate cells: those not escaped by a backslash. */
const cellSeparators = (line: string) => line.match(/(?<!\\)\|/g)?.length ?? 0;

describe('scan --format markdown', () => {
  it('leads with the compliance rate, the scan and a table of the statuses', () => {
    expect(lines[0]).toBe('## Defender for Cloud security contacts');
    expect(md).toContain('**25% compliant** (1 of 4 judged subscriptions)');
    expect(md).toContain('**partial**');
    expect(md).toContain('| ❌ Non-compliant | 2 |');
    expect(md).toContain('| ⚠️ Error | 1 |');
    expect(md).toContain('| ✅ Compliant | 1 |');
    expect(md).toContain('| **Total** | **6** |');
    expect(md).toContain('Some subscriptions could not be read.');
  });

  it('lists each failing subscription on one table row of three cells, with its failed rules and messages', () => {
    expect(md).toContain('### Failing subscriptions (3)');
    const start = lines.indexOf('| Subscription | Status | Failed rules |');
    const rows = lines.slice(start + 2, start + 5);
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row.startsWith('| ')).toBe(true);
      expect(cellSeparators(row)).toBe(4);
    }
    expect(lines[start + 5]).toBe('');
    expect(rows[0]).toContain(NONCOMPLIANT_HOSTILE.subscriptionId);
    expect(rows[0]).toContain('**email-configured**: Not a valid e-mail address');
    expect(rows[0]).toContain('**owner-notifications**: Contact "default1": alertsToAdmins is "Off".');
    expect(rows[1]).toContain(NO_CONTACT.subscriptionId);
    expect(rows[1]).toContain(
      '**email-configured**, **alert-notifications**, **owner-notifications**, **attack-path-notifications**: no security contact',
    );
    expect(rows[2]).toContain(UNREADABLE.subscriptionId);
    expect(rows[2]).toContain('**could not be read**: The securityContacts API answered 403');
    expect(md).not.toContain(COMPLIANT.subscriptionId);
  });

  it('escapes markup, pipes and line breaks in values from Azure', () => {
    expect(md).not.toContain('<script>');
    expect(md).not.toContain('\r');
    expect(md).toContain('**=cmd\\|\' /C calc\'\\!A0 \\<script\\>alert\\(1\\)\\</script\\>, "Payments" \\| prod line2**');
    expect(md).toContain('**Legacy \\| Finance**');
    expect(md).toContain('"\\@SUM\\(1+1\\)"');

    expect(markdownText('[click](javascript:alert(1))')).toBe('\\[click\\]\\(javascript:alert\\(1\\)\\)');
    expect(markdownText('<img src=x onerror=alert(1)>')).toBe('\\<img src=x onerror=alert\\(1\\)\\>');
    expect(markdownText('*bold* _it_ `code` ~~s~~ $x$ @org/team &amp; a\\b')).toBe(
      '\\*bold\\* \\_it\\_ \\`code\\` \\~\\~s\\~\\~ \\$x\\$ \\@org/team \\&amp; a\\\\b',
    );
    expect(markdownText('one\r\ntwo\nthree')).toBe('one two three');
  });

  it('leaves no URL or www. text from Azure that a renderer would turn into a link', () => {
    const lure: SubscriptionVerdict = {
      ...NONCOMPLIANT_HOSTILE,
      displayName: 'Payments: reset at https://evil.example/x or www.evil.example',
      findings: NONCOMPLIANT_HOSTILE.findings.map((finding) =>
        finding.ruleId === 'email-configured'
          ? { ...finding, message: 'Not a valid e-mail address: "HTTP://evil.example/login", "WWW.evil.example" and "ftp://evil.example".' }
          : finding,
      ),
    };
    const out = renderReport(buildReport([lure, UNREADABLE]), 'markdown', CONTEXT);
    // GitHub's cmark-gfm finds links in the source; remark-gfm and markdown-it's linkify in the
    // text once backslash escapes are undone. Neither may find one.
    const decoded = out.replace(/\\([!-/:-@[-`{-~])/g, '$1');
    for (const text of [out, decoded]) {
      expect(text).not.toMatch(/[a-z]+:\/\/evil|www\.evil/i);
    }
    // Still readable, in the form threat reports write such addresses.
    expect(decoded).toContain('Payments: reset at https[://]evil.example/x or www[.]evil.example');
    expect(decoded).toContain('"HTTP[://]evil.example/login", "WWW[.]evil.example" and "ftp[://]evil.example"');
    expect(markdownText('www.evil.example')).not.toContain('www.');
  });

  it('links each failing subscription to its e-mail notification settings in the portal', () => {
    expect(md).toContain(
      `[${NONCOMPLIANT_HOSTILE.subscriptionId}](https://portal.azure.com/#view/Microsoft_Azure_Security/PolicyMenuBlade/~/emailNotifications/subscriptionId/${NONCOMPLIANT_HOSTILE.subscriptionId})`,
    );
    const gov = renderReport(REPORT, 'markdown', { ...CONTEXT, portalUrl: 'https://portal.azure.us/' });
    expect(gov).toContain(
      `(https://portal.azure.us/#view/Microsoft_Azure_Security/PolicyMenuBlade/~/emailNotifications/subscriptionId/${UNREADABLE.subscriptionId})`,
    );
  });

  it('explains how to fix each failing rule once, in collapsible sections', () => {
    expect(md).toContain('### How to fix');
    const summaries = lines.filter((line) => line.startsWith('<details><summary>'));
    expect(summaries.map((line) => /<b>([a-z-]+)<\/b>/.exec(line)?.[1])).toEqual([
      'contact-exists',
      'email-configured',
      'owner-notifications',
      'attack-path-notifications',
      'error',
    ]);
    // The subscription without a contact needs the contact created, not four separate fixes.
    expect(summaries[1]).toContain('(1 subscription)');
    expect(md.match(/<\/details>/g)).toHaveLength(5);
    // Rules sharing one whole-contact PUT: each distinct command is printed once, then referred to.
    const fixed = CONTEXT.rules.filter((rule) => rule.id !== 'alert-notifications');
    const distinctAz = new Set(fixed.map((rule) => rule.remediation.azCli));
    const distinctBicep = new Set(fixed.map((rule) => rule.remediation.bicep));
    const distinctTerraform = new Set(fixed.map((rule) => rule.remediation.terraform));
    expect(md.split('```sh\n').length - 1).toBe(distinctAz.size);
    expect(md.split('```bicep\n').length - 1).toBe(distinctBicep.size);
    expect(md.split('```hcl\n').length - 1).toBe(distinctTerraform.size);
    expect(md.match(/^(Azure CLI|Bicep|Terraform \(azapi provider\)): the same as for \*\*[a-z-]+\*\* above\.$/gm)).toHaveLength(
      3 * fixed.length - distinctAz.size - distinctBicep.size - distinctTerraform.size,
    );
    for (const az of distinctAz) expect(md).toContain(az.trimEnd());
  });

  it("names each failing rule's controls of other frameworks, grouped by framework", () => {
    const contactExists = CONTEXT.rules.find((rule) => rule.id === 'contact-exists')!;
    expect(contactExists.references.frameworks.length).toBeGreaterThan(0);
    expect(lines).toContain(
      'Other frameworks: NIST SP 800-53 Rev. 5 IR-4, IR-6, IR-6\\(2\\), SI-4\\(12\\); ISO/IEC 27001:2022 A.5.24, A.5.26; PCI DSS 4.0 12.10.1; SOC 2 CC7.3, CC7.4',
    );
  });

  it('caps the failing table for the 1 MiB job-summary limit and says how many were left out', () => {
    const many = Array.from({ length: MARKDOWN_FAILING_ROWS_MAX + 3 }, (_, i) => ({
      ...NONCOMPLIANT_HOSTILE,
      subscriptionId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    }));
    const out = renderReport(buildReport(many), 'markdown', CONTEXT);
    expect(out).toContain(`### Failing subscriptions (${MARKDOWN_FAILING_ROWS_MAX + 3})`);
    expect(out).toContain('… and 3 more; the JSON, CSV or HTML report lists them all.');
    expect(out.split('\n').filter((line) => line.includes('00000000-0000-4000-8000-'))).toHaveLength(MARKDOWN_FAILING_ROWS_MAX);
    expect(Buffer.byteLength(out)).toBeLessThan(1024 * 1024);
  });

  it('says so when nothing fails', () => {
    const out = renderReport(buildReport([COMPLIANT]), 'markdown', CONTEXT);
    expect(out).toContain('**100% compliant** (1 of 1 judged subscriptions)');
    expect(out).toContain('No subscription is failing.');
    expect(out).not.toContain('###');
  });
});
