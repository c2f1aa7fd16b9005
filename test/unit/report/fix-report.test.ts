import { describe, expect, it } from 'vitest';
import type { FixReport, FixReportEntry, SecurityContactPutBody } from '../../../src/core/model.js';
import { renderFixReport, summaryLine } from '../../../src/report/fix-report.js';
import { expectValidFixReport } from '../../support/report-schema.js';

const ID = {
  fixed: '10000000-0000-4000-8000-000000000001',
  hostile: '20000000-0000-4000-8000-000000000002',
  unchanged: '30000000-0000-4000-8000-000000000003',
  skipped: '40000000-0000-4000-8000-000000000004',
  notFixable: '50000000-0000-4000-8000-000000000005',
};

const FIXED_BODY: SecurityContactPutBody = {
  properties: {
    emails: 'secops@fabrikam.com',
    phone: '+1 555 0100',
    isEnabled: true,
    notificationsByRole: { state: 'On', roles: ['AccountAdmin', 'Owner'] },
    notificationsSources: [
      { sourceType: 'Alert', minimalSeverity: 'High' },
      { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
      { sourceType: 'Custom', note: 'carried over' },
    ],
  },
};

/** Text a subscription owner controls, with what a terminal would act on or hide. */
const HOSTILE_NAME = 'a\u001b[2J\u001b]0;pwned\u0007b\r\nc\u202ed';
const HOSTILE_BODY: SecurityContactPutBody = {
  properties: {
    emails: 'soc@fabrikam.com;evil\u202egpj.exe@fabrikam.com;\u001b[31mred@fabrikam.com\u0085\u2028',
    isEnabled: true,
    notificationsByRole: { state: 'On', roles: ['Owner', 'Role\r\nInjected'] },
    notificationsSources: [{ sourceType: 'Alert', minimalSeverity: 'High' }],
  },
};

const ENTRIES: FixReportEntry[] = [
  { subscriptionId: ID.fixed, displayName: 'Payments', result: 'fixed', body: FIXED_BODY },
  {
    subscriptionId: ID.hostile,
    displayName: HOSTILE_NAME,
    result: 'failed',
    reason: 'written, but the contact read back still fails email-configured (\u001b[31mred\u202e)',
    body: HOSTILE_BODY,
  },
  { subscriptionId: ID.unchanged, displayName: 'Development', result: 'unchanged', reason: 'the contact is compliant' },
  {
    subscriptionId: ID.skipped,
    displayName: 'Old lab',
    result: 'skipped',
    reason: 'the subscription is Disabled: it is listed, not judged',
  },
  {
    subscriptionId: ID.notFixable,
    displayName: 'Sandbox',
    result: 'not-fixable',
    reason: 'the Microsoft.Security resource provider is not registered (409 MissingSubscriptionRegistration)',
  },
];

function report(subscriptions: FixReportEntry[] = ENTRIES, dryRun = false): FixReport {
  return {
    schemaVersion: 1,
    fix: { dryRun, startedAt: '2025-05-01T10:00:00.000Z', finishedAt: '2025-05-01T10:00:42.000Z' },
    subscriptions,
  };
}

const CHANGES = new Map<string, readonly string[]>([
  [ID.fixed, ['turned role notifications on', 'added Owner to the notified roles']],
  [ID.hostile, ['removed address admin@contoso.com, which failed email-configured']],
]);

/** Characters a terminal acts on or that reorder text: none may reach it raw. */
const RAW_CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const putLine = (id: string, result: string) =>
  `PUT /subscriptions/${id}/providers/Microsoft.Security/securityContacts/default?api-version=2023-12-01-preview (${result})`;

describe('fix --format table', () => {
  const text = renderFixReport(report(), 'table', CHANGES);
  const lines = text.split('\n');
  const tableEnd = lines.indexOf('');
  const rows = lines.slice(1, tableEnd);

  it('has a header and one row per subscription, in the order given', () => {
    expect(lines[0]).toMatch(/^SUBSCRIPTION ID +NAME +RESULT +DETAILS$/);
    expect(lines[0]!.indexOf('NAME')).toBe(36 + 2);
    expect(rows.map((row) => row.slice(0, 36))).toEqual(ENTRIES.map((entry) => entry.subscriptionId));
  });

  it('aligns the result column, and gives each row its result', () => {
    const column = lines[0]!.indexOf('RESULT');
    expect(rows.map((row) => row.slice(column).split(' ')[0])).toEqual(ENTRIES.map((entry) => entry.result));
    expect(lines.every((line) => line === line.trimEnd())).toBe(true);
  });

  it('shows the reason where there is one, else what the body changes', () => {
    expect(rows[0]).toMatch(/ fixed +turned role notifications on; added Owner to the notified roles$/);
    // A failed write has both; the reason says why it failed.
    expect(rows[1]).toMatch(/ failed +written, but the contact read back still fails email-configured \(\uFFFD\[31mred\uFFFD\)$/);
    expect(rows[1]).not.toContain('admin@contoso.com');
    expect(rows[2]).toMatch(/ unchanged +the contact is compliant$/);
    expect(rows[3]).toMatch(/ skipped +the subscription is Disabled: it is listed, not judged$/);
    expect(rows[4]).toMatch(
      / not-fixable +the Microsoft\.Security resource provider is not registered \(409 MissingSubscriptionRegistration\)$/,
    );
  });

  it('leaves the details empty where there is neither', () => {
    const out = renderFixReport(
      report([{ subscriptionId: ID.fixed, displayName: 'Payments', result: 'fixed', body: FIXED_BODY }]),
      'table',
      new Map(),
    );
    expect(out.split('\n')[1]).toMatch(/ fixed$/);
  });

  it('lists exactly each body sent, after its PUT line, then the summary', () => {
    expect(lines.slice(tableEnd)).toEqual([
      '',
      'Bodies sent:',
      putLine(ID.fixed, 'fixed'),
      JSON.stringify(FIXED_BODY),
      putLine(ID.hostile, 'failed'),
      expect.any(String),
      '',
      'fix: 5 subscription(s): 1 fixed, 1 unchanged, 1 not-fixable, 1 failed, 1 skipped',
      '',
    ]);
    expect(JSON.parse(lines[tableEnd + 3]!)).toEqual(FIXED_BODY);
    expect(JSON.parse(lines[tableEnd + 5]!)).toEqual(HOSTILE_BODY);
  });

  it('makes hostile text visible in the table and escapes it in the body', () => {
    expect(text).not.toMatch(RAW_CONTROLS);
    expect(rows[1]).toContain('a\uFFFD[2J\uFFFD]0;pwned\uFFFDb c\uFFFDd');
    const body = lines[tableEnd + 5]!;
    for (const escape of ['\\u202e', '\\u001b', '\\u0085', '\\u2028', '\\r\\n']) expect(body).toContain(escape);
  });

  it('names the bodies of a dry run as those that would be sent', () => {
    const dry = report(
      [
        { subscriptionId: ID.fixed, displayName: 'Payments', result: 'would-fix', body: FIXED_BODY },
        { subscriptionId: ID.unchanged, displayName: 'Development', result: 'unchanged', reason: 'the contact is compliant' },
      ],
      true,
    );
    const out = renderFixReport(dry, 'table', CHANGES).split('\n');
    expect(out.slice(out.indexOf('Bodies that would be sent:'))).toEqual([
      'Bodies that would be sent:',
      putLine(ID.fixed, 'would-fix'),
      JSON.stringify(FIXED_BODY),
      '',
      'fix --dry-run: 2 subscription(s): 1 would-fix, 1 unchanged',
      '',
    ]);
    expect(out).not.toContain('Bodies sent:');
    expect(out[1]).toMatch(/ would-fix +turned role notifications on; added Owner to the notified roles$/);
  });

  it('has no bodies section when nothing was or would be written', () => {
    const out = renderFixReport(report(ENTRIES.slice(2)), 'table', CHANGES);
    expect(out).not.toContain('Bodies');
    expect(out).not.toContain('PUT ');
  });

  it('truncates a long name with an ellipsis, keeping the columns aligned', () => {
    const long = {
      subscriptionId: ID.unchanged,
      displayName: 'N'.repeat(60),
      result: 'unchanged' as const,
      reason: 'the contact is compliant',
    };
    const out = renderFixReport(report([long, ENTRIES[0]!]), 'table', CHANGES).split('\n');
    expect(out[1]).toContain(`${'N'.repeat(39)}… `);
    expect(out[1]).not.toContain('N'.repeat(40));
    expect(out[1]!.indexOf('unchanged')).toBe(out[0]!.indexOf('RESULT'));
    expect(out[2]!.indexOf('fixed')).toBe(out[0]!.indexOf('RESULT'));
  });

  it('says so when the scope held no subscription', () => {
    expect(renderFixReport(report([]), 'table', new Map())).toBe('No subscriptions were found in the scope.\n\nfix: 0 subscription(s)\n');
  });
});

describe('fix --format json', () => {
  it('is exactly the report', () => {
    const out = renderFixReport(report(), 'json', CHANGES);
    expectValidFixReport(JSON.parse(out));
    expect(out.endsWith('}\n')).toBe(true);
    expect(JSON.parse(out)).toEqual(report());
    // What the table alone shows stays out of it.
    expect(out).not.toContain('turned role notifications on');
    expect(Object.keys(JSON.parse(out) as object)).toEqual(['schemaVersion', 'fix', 'subscriptions']);
  });

  it('escapes hostile text, the data staying exact', () => {
    const out = renderFixReport(report([ENTRIES[1]!]), 'json', new Map());
    expectValidFixReport(JSON.parse(out));
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u202a-\u202e]/);
    for (const escape of ['\\u001b[2J', '\\r\\n', '\\u202e']) expect(out).toContain(escape);
    expect(JSON.parse(out)).toEqual(report([ENTRIES[1]!]));
  });
});

describe('summaryLine', () => {
  it('counts each result that occurred, in a fixed order', () => {
    expect(summaryLine(report())).toBe('fix: 5 subscription(s): 1 fixed, 1 unchanged, 1 not-fixable, 1 failed, 1 skipped');
    const many = report([...ENTRIES, { ...ENTRIES[0]!, subscriptionId: '60000000-0000-4000-8000-000000000006' }, { ...ENTRIES[2]! }]);
    expect(summaryLine(many)).toBe('fix: 7 subscription(s): 2 fixed, 2 unchanged, 1 not-fixable, 1 failed, 1 skipped');
  });

  it('says a dry run is one, and leaves out the counts of an empty scope', () => {
    expect(summaryLine(report([{ ...ENTRIES[0]!, result: 'would-fix' }], true))).toBe('fix --dry-run: 1 subscription(s): 1 would-fix');
    expect(summaryLine(report([], true))).toBe('fix --dry-run: 0 subscription(s)');
  });
});
