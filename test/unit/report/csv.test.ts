import { describe, expect, it } from 'vitest';
import { RULE_IDS } from '../../../src/core/model.js';
import { CSV_COLUMNS, neutraliseFormula } from '../../../src/report/csv.js';
import { renderReport } from '../../../src/report/index.js';
import { buildReport, CONTEXT, EXEMPT, NONCOMPLIANT_HOSTILE, REPORT, SKIPPED, VERDICTS } from './report-fixture.js';

const HEADER =
  'subscriptionId,displayName,state,status,source,emails,alertMinimalSeverity,notifyRoles,attackPathMinimalRiskLevel,contactShape,' +
  'contact-exists,email-configured,alert-notifications,owner-notifications,attack-path-notifications,failures';

/** RFC 4180 reader, small enough to trust: quoted fields may hold `,`, `""` and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  expect(quoted, 'unterminated quote').toBe(false);
  expect(field === '' && row.length === 0, 'last record ends with a newline').toBe(true);
  return rows;
}

describe('scan --format csv', () => {
  it('writes the exact quoted output: one row per subscription, a column per rule, formulas neutralised', () => {
    const out = renderReport(buildReport([SKIPPED, NONCOMPLIANT_HOSTILE]), 'csv', CONTEXT);
    expect(out).toBe(
      `${HEADER}\n` +
        '0b1f6471-1bf0-4dda-aec3-111122223333,' +
        '"\'=cmd|\' /C calc\'!A0 <script>alert(1)</script>, ""Payments"" | prod\r\nline2",' +
        'Enabled,noncompliant,security-contacts-api,ops@example.com; @SUM(1+1),High,,,2017-08-01-preview,' +
        'pass,fail,pass,fail,fail,' +
        '"email-configured: Not a valid e-mail address: ""@SUM(1+1)"". On a placeholder domain that reaches no security team: ""ops@example.com"".; ' +
        'owner-notifications: Contact ""default1"": alertsToAdmins is ""Off"".; ' +
        'attack-path-notifications: The 2017-08-01-preview contact cannot express attack path notifications."\n' +
        'ffffffff-2222-4333-8444-555566667777,Old subscription,Disabled,skipped,resource-graph,,,,,none,,,,,,\n',
    );
  });

  it('parses back to the values of the report, sorted by subscription id', () => {
    const rows = parseCsv(renderReport(REPORT, 'csv', CONTEXT));
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(VERDICTS.length + 1);
    for (const row of rows) expect(row).toHaveLength(CSV_COLUMNS.length);
    const body = rows.slice(1);
    expect(body.map((r) => r[0])).toEqual(VERDICTS.map((v) => v.subscriptionId).sort());
    const hostile = body.find((r) => r[0] === NONCOMPLIANT_HOSTILE.subscriptionId)!;
    expect(hostile[1]).toBe(`'${NONCOMPLIANT_HOSTILE.displayName}`);
    const column = (name: string) => CSV_COLUMNS.indexOf(name as (typeof CSV_COLUMNS)[number]);
    expect(RULE_IDS.map((id) => hostile[column(id)])).toEqual(['pass', 'fail', 'pass', 'fail', 'fail']);
    const unreadable = body.find((r) => r[3] === 'error')!;
    expect(RULE_IDS.map((id) => unreadable[column(id)])).toEqual(['error', 'error', 'error', 'error', 'error']);
    // Rules failing with the same message are listed together, not five times over.
    expect(unreadable[column('failures')]).toBe(
      `${RULE_IDS.join(', ')}: The securityContacts API answered 403 AuthorizationFailed: the client does not have authorization to perform action Microsoft.Security/securityContacts/read.`,
    );
  });

  it('neutralises every cell a spreadsheet would run as a formula', () => {
    const rows = parseCsv(renderReport(REPORT, 'csv', CONTEXT));
    const exempt = rows.find((r) => r[0] === EXEMPT.subscriptionId)!;
    expect(exempt[1]).toBe("'+Research lab");
    expect(exempt[5]).toBe("'-lab@fabrikam.io");
    for (const row of rows) for (const cell of row) expect(cell).not.toMatch(/^\s*[=+\-@\t\r]/);

    for (const dangerous of ['=1+1', '+1', '-1', '@SUM(A1)', '\t=1', '\r=1', '  =1', '＝1', '＠x']) {
      expect(neutraliseFormula(dangerous)).toBe(`'${dangerous}`);
    }
    for (const harmless of ['Fabrikam', 'a=b', 'ops@fabrikam.io', '', "'quoted"]) expect(neutraliseFormula(harmless)).toBe(harmless);
  });

  it('quotes a field that holds a lone carriage return', () => {
    const out = renderReport(buildReport([{ ...SKIPPED, displayName: 'a\rb' }]), 'csv', CONTEXT);
    expect(out).toContain(',"a\rb",');
  });

  it('writes only the header for an empty scan', () => {
    expect(renderReport(buildReport([]), 'csv', CONTEXT)).toBe(`${HEADER}\n`);
  });
});
