import { describe, expect, it } from 'vitest';
import { REPORT_FORMATS, renderReport, renderReportChunks, renderVerdict } from '../../../src/report/index.js';
import { terminalText } from '../../../src/report/table.js';
import { CHUNK_CHARACTERS } from '../../../src/report/chunks.js';
import { EXAMPLE_SECURITY_TEAM_ADDRESS, azRestPutCommand } from '../../../src/core/rules/remediation.js';
import type { SecurityContactPutBody } from '../../../src/core/model.js';
import {
  buildReport,
  COMPLIANT,
  CONTEXT,
  EXEMPT,
  NO_CONTACT,
  NONCOMPLIANT_HOSTILE,
  REPORT,
  SKIPPED,
  UNREADABLE,
} from './report-fixture.js';

describe('scan --format table', () => {
  const text = renderReport(REPORT, 'table', CONTEXT);
  const lines = text.split('\n');

  it('lists every subscription once, failing ones first, then a summary', () => {
    expect(lines[0]).toMatch(/^SUBSCRIPTION ID\s+NAME\s+STATUS\s+DETAILS$/);
    const order = [NONCOMPLIANT_HOSTILE, NO_CONTACT, UNREADABLE, EXEMPT, SKIPPED, COMPLIANT].map((v) => v.subscriptionId);
    const rowIds = lines.slice(1, 7).map((line) => line.slice(0, 36));
    expect(rowIds).toEqual(order);
    expect(text).toContain(
      '6 subscription(s): 1 compliant, 2 noncompliant, 1 error, 1 exempt, 1 skipped; 25% of judged subscriptions compliant (1 of 4)',
    );
    expect(text).toContain('Scan 5f0c2a1e-7d3b-4c9a-9e2f-0a1b2c3d4e5f partial, finished 2025-03-01 10:00:42 UTC after 43 s');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('aligns the columns and truncates long names with an ellipsis', () => {
    const statusColumn = lines[0]!.indexOf('STATUS');
    for (const line of lines.slice(1, 7)) expect(line.slice(statusColumn)).toMatch(/^(noncompliant|error|exempt|skipped|compliant)\b/);
    const hostileRow = lines[1]!;
    expect(hostileRow).toContain("=cmd|' /C calc'!A0 <script>alert(1)</sc…");
    expect(lines.every((line) => line === line.trimEnd())).toBe(true);
  });

  it('says why each subscription is not compliant', () => {
    expect(lines[1]).toMatch(/noncompliant {2}email-configured, owner-notifications, attack-path-notifications$/);
    expect(lines[2]).toContain('contact-exists: The Microsoft.Security resource provider is not registered');
    // The service's answer in a few words; `check` prints it whole.
    expect(lines[3]).toMatch(
      /error {9}could not be read: 403 AuthorizationFailed: the identity cannot read this subscription's security contacts$/,
    );
    expect(lines[5]).toContain('state Disabled, not judged');
  });

  it('ends by pointing at check for the details and the exact fix, with a failing subscription to paste', () => {
    expect(lines.slice(-3)).toEqual([
      'Details and the exact fix for one subscription: contact-watch check <subscription-id>',
      `  for example: contact-watch check ${NONCOMPLIANT_HOSTILE.subscriptionId}`,
      '',
    ]);
    const unreadableFirst = renderReport(buildReport([COMPLIANT, UNREADABLE]), 'table', CONTEXT);
    expect(unreadableFirst).toContain(`  for example: contact-watch check ${UNREADABLE.subscriptionId}\n`);
    // Nothing to look into: no pointer.
    const clean = renderReport(buildReport([COMPLIANT, EXEMPT, SKIPPED]), 'table', CONTEXT);
    expect(clean).not.toContain('contact-watch check');
    expect(clean.trimEnd().split('\n').at(-1)).toMatch(/^Scan /);
  });

  it('keeps control characters of display names away from the terminal', () => {
    const hostile = { ...NONCOMPLIANT_HOSTILE, displayName: 'a\u001b[2J\u001b]0;pwned\u0007b\r\nc\u202ed' };
    const out = renderReport(buildReport([hostile]), 'table', CONTEXT);
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(out).toContain('a\uFFFD[2J\uFFFD]0;pwned\uFFFDb c\uFFFDd');
    expect(terminalText('line1\r\nline2\ttab')).toBe('line1 line2 tab');
  });

  it('says so when the scope held no subscription', () => {
    const out = renderReport(buildReport([]), 'table', CONTEXT);
    expect(out).toContain('No subscriptions were found in the scanned scope.');
    expect(out).toContain(
      '0 subscription(s): 0 compliant, 0 noncompliant, 0 error, 0 exempt, 0 skipped; n/a of judged subscriptions compliant (0 of 0)',
    );
  });
});

describe('scan --format table, streamed', () => {
  it('comes in chunks of about CHUNK_CHARACTERS, whose columns are as wide as the widest row anywhere', () => {
    const many = {
      ...REPORT,
      subscriptions: Array.from({ length: 1_200 }, (_, i) => ({
        ...COMPLIANT,
        subscriptionId: `${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`,
        // Only the last row has a long name: every row's NAME column is padded to it.
        displayName: i === 1_199 ? 'zz a much longer subscription name' : `sub ${i}`,
      })),
    };
    const chunks = [...renderReportChunks(many, 'table', CONTEXT)];
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks.slice(0, -1)) expect(chunk.length - CHUNK_CHARACTERS).toBeGreaterThanOrEqual(0);
    for (const chunk of chunks) expect(chunk.length).toBeLessThan(CHUNK_CHARACTERS + 200);
    expect(chunks.join('')).toBe(renderReport(many, 'table', CONTEXT));
    expect(chunks.at(-1)).not.toContain('contact-watch check'); // all compliant
    const first = chunks[0]!.split('\n')[1]!;
    const last = chunks
      .at(-1)!
      .split('\n')
      .find((line) => line.startsWith('00001199-'))!;
    expect(first.indexOf('compliant')).toBe(last.indexOf('compliant'));
    expect(first).toBe(`00000000-0000-4000-8000-000000000000  ${'sub 0'.padEnd('zz a much longer subscription name'.length)}  compliant`);
  });
});

describe('check --format table', () => {
  it('shows the subscription, its contact, and every rule with its result and message', () => {
    const out = renderVerdict(NONCOMPLIANT_HOSTILE, 'table', CONTEXT);
    expect(out).toContain('Subscription   0b1f6471-1bf0-4dda-aec3-111122223333');
    expect(out).toContain('Status         noncompliant');
    expect(out).toContain('E-mails        ops@example.com, @SUM(1+1)');
    expect(out).toContain('Name           =cmd|\' /C calc\'!A0 <script>alert(1)</script>, "Payments" | prod line2');
    const ruleLines = out.split('\n').filter((line) => /^[a-z-]+ {2,}(pass|fail|error) {2,}/.test(line));
    expect(ruleLines.map((line) => line.split(/\s+/, 2))).toEqual([
      ['contact-exists', 'pass'],
      ['email-configured', 'fail'],
      ['alert-notifications', 'pass'],
      ['owner-notifications', 'fail'],
      ['attack-path-notifications', 'fail'],
    ]);
    expect(out).toContain('Contact "default1": alertsToAdmins is "Off".');
  });

  it('gives the remediation summary under each failed rule, and none under a passing one', () => {
    const out = renderVerdict(NONCOMPLIANT_HOSTILE, 'table', CONTEXT);
    const lines = out.split('\n');
    const fixes = lines.filter((line) => line.trimStart().startsWith('fix: '));
    expect(fixes).toHaveLength(3);
    const owner = CONTEXT.rules.find((rule) => rule.id === 'owner-notifications')!;
    const ownerLine = lines.findIndex((line) => line.startsWith('owner-notifications'));
    expect(lines[ownerLine + 1]!.trim()).toBe(`fix: ${owner.remediation.summary}`);
    const alertLine = lines.findIndex((line) => line.startsWith('alert-notifications'));
    expect(lines[alertLine + 1]).toMatch(/^owner-notifications/);
  });

  it('shows only the contact-exists fix when there is no contact at all', () => {
    const out = renderVerdict(NO_CONTACT, 'table', CONTEXT);
    const fixes = out.split('\n').filter((line) => line.trimStart().startsWith('fix: '));
    const create = CONTEXT.rules.find((rule) => rule.id === 'contact-exists')!;
    expect(fixes.map((line) => line.trim())).toEqual([`fix: ${create.remediation.summary}`]);
  });

  it('shows error results whole, without a fix, and a skipped subscription as not judged', () => {
    const unreadable = renderVerdict(UNREADABLE, 'table', CONTEXT);
    expect(unreadable).toMatch(/^email-configured {2,}error {2,}The securityContacts API answered 403 .*securityContacts\/read\.$/m);
    expect(unreadable).not.toContain('fix: ');
    expect(renderVerdict(SKIPPED, 'table', CONTEXT)).toContain('Not judged: the subscription is Disabled.');
  });
});

describe('check --format table: the suggested write', () => {
  const merged: SecurityContactPutBody = {
    properties: {
      emails: "soc@fabrikam.io;o'brien@fabrikam.io",
      phone: '(214)275-4038',
      isEnabled: true,
      notificationsByRole: { state: 'On', roles: ['Owner', 'Admin'] },
      notificationsSources: [
        { sourceType: 'Alert', minimalSeverity: 'Medium' },
        { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
      ],
    },
  };

  it("shows a noncompliant subscription's merged body as the exact az rest command", () => {
    const out = renderVerdict(
      { ...NONCOMPLIANT_HOSTILE, fix: { kind: 'put', body: merged, placeholderEmails: false, changes: [] } },
      'table',
      CONTEXT,
    );
    const lines = out.split('\n');
    expect(lines).toContain(azRestPutCommand(NONCOMPLIANT_HOSTILE.subscriptionId, merged));
    expect(out).toContain("Suggested fix: the subscription's own contact with only the failing settings changed");
    expect(out).not.toContain(EXAMPLE_SECURITY_TEAM_ADDRESS);
    // The same write as Terraform is one command away.
    expect(lines).toContain(
      'The same write as Terraform (azapi provider), as a file to apply: ' +
        `contact-watch check ${NONCOMPLIANT_HOSTILE.subscriptionId} --format terraform > security-contact.tf`,
    );
  });

  it('says the example address must be replaced when the body holds it', () => {
    const placeholder = { properties: { ...merged.properties, emails: EXAMPLE_SECURITY_TEAM_ADDRESS } };
    const out = renderVerdict(
      { ...NO_CONTACT, fix: { kind: 'put', body: placeholder, placeholderEmails: true, changes: [] } },
      'table',
      CONTEXT,
    );
    expect(out).toContain('Suggested fix: the security contact to create (bash, Azure CLI):');
    expect(out).toContain(`Replace ${EXAMPLE_SECURITY_TEAM_ADDRESS} with your security team's shared mailbox before running it`);
    expect(out.split('\n')).toContain(azRestPutCommand(NO_CONTACT.subscriptionId, placeholder));
  });

  it('gives the reason instead of a command when writing cannot fix it', () => {
    const out = renderVerdict(
      { ...NO_CONTACT, fix: { kind: 'not-fixable', reason: 'the provider is not registered\u001b[2J' } },
      'table',
      CONTEXT,
    );
    expect(out).toContain('Writing the contact cannot fix this: the provider is not registered\uFFFD[2J');
    expect(out).not.toContain('az rest');
  });

  it('shows no command for a compliant subscription, nor where no fix was computed', () => {
    expect(renderVerdict({ ...COMPLIANT, fix: { kind: 'none' } }, 'table', CONTEXT)).not.toContain('az rest');
    expect(
      renderVerdict({ ...COMPLIANT, fix: { kind: 'put', body: merged, placeholderEmails: false, changes: [] } }, 'table', CONTEXT),
    ).not.toContain('az rest');
    const { fix: _fix, ...withoutFix } = NONCOMPLIANT_HOSTILE;
    expect(renderVerdict(withoutFix, 'table', CONTEXT)).not.toContain('az rest');
  });

  it('keeps the fix out of check --format json, which stays one element of the report', () => {
    const json = JSON.parse(
      renderVerdict(
        { ...NONCOMPLIANT_HOSTILE, fix: { kind: 'put', body: merged, placeholderEmails: false, changes: [] } },
        'json',
        CONTEXT,
      ),
    );
    expect(json).not.toHaveProperty('fix');
    expect(json).toEqual(JSON.parse(renderVerdict(NONCOMPLIANT_HOSTILE, 'json', CONTEXT)));
  });
});

describe('every format', () => {
  it('renders the fixture report and ends with a newline', () => {
    for (const format of REPORT_FORMATS) {
      const out = renderReport(REPORT, format, CONTEXT);
      expect(out.length, format).toBeGreaterThan(100);
      expect(out.endsWith('\n'), format).toBe(true);
    }
    expect(REPORT_FORMATS).toEqual(['table', 'json', 'csv', 'markdown', 'sarif', 'html', 'ocsf']);
  });
});
