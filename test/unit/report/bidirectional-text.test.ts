/**
 * Bidirectional formatting characters in values from Azure (docs/reference/alerts.md): a display name
 * `Payroll <U+202E>gpj.exe` would read as `Payroll exe.jpg`. No report, in any format, writes
 * them as they are: the formats for people show each one as U+FFFD, the data formats (JSON,
 * SARIF, the HTTP API) keep the value exactly but write the character as a `\uXXXX` escape.
 */
import { describe, expect, it } from 'vitest';
import { jsonError, jsonResponse } from '../../../src/app/http.js';
import type { Finding, SubscriptionVerdict } from '../../../src/core/model.js';
import { REPORT_FORMATS, renderReport, renderReportChunks, renderVerdict, reportJsonValue } from '../../../src/report/index.js';
import { buildReport, COMPLIANT, CONTEXT, NONCOMPLIANT_HOSTILE, UNREADABLE } from './report-fixture.js';
import { expectValidReport, expectValidVerdict } from '../../support/report-schema.js';

/** The embeddings and overrides, the isolates, and the three implicit marks (LRM, RLM, ALM). */
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
const codePoint = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** A non-compliant and an unreadable subscription carrying `control` in every value a person reads. */
function reportWith(control: string) {
  const noncompliant: SubscriptionVerdict = {
    ...NONCOMPLIANT_HOSTILE,
    displayName: `Payroll ${control}gpj.exe`,
    contact: { ...NONCOMPLIANT_HOSTILE.contact, emails: [`ops${control}@fabrikam.io`] },
    findings: NONCOMPLIANT_HOSTILE.findings.map((finding): Finding =>
      finding.ruleId === 'email-configured' ? { ...finding, message: `Not a valid e-mail address: "ops${control}@fabrikam.io".` } : finding,
    ),
  };
  const unreadable: SubscriptionVerdict = {
    ...UNREADABLE,
    displayName: `Finance ${control}legacy`,
    findings: UNREADABLE.findings.map((finding) => ({ ...finding, message: `403 from tenant ${control}contoso` })),
  };
  return { report: buildReport([COMPLIANT, noncompliant, unreadable]), noncompliant, unreadable };
}

describe.each(BIDI_CONTROLS.map((control) => [codePoint(control), control] as const))('a value holding %s', (_name, control) => {
  const { report, noncompliant, unreadable } = reportWith(control);

  it.each(REPORT_FORMATS.map((format) => [format]))('--format %s never writes it as it is', (format) => {
    const text = renderReport(report, format, CONTEXT);
    expect(text).not.toMatch(ANY_BIDI_CONTROL);
    expect([...renderReportChunks(report, format, CONTEXT)].join('')).not.toMatch(ANY_BIDI_CONTROL);
  });

  it.each([['table'], ['markdown'], ['csv'], ['html']] as const)('--format %s shows it as U+FFFD where the value is', (format) => {
    const text = renderReport(report, format, CONTEXT);
    expect(text).toContain('Payroll \uFFFDgpj.exe');
    expect(text).toContain('Finance \uFFFDlegacy');
    if (format !== 'table') expect(text).toContain('ops\uFFFD');
  });

  it('--format json keeps every value exactly, with the character written as a \\u escape', () => {
    const text = renderReport(report, 'json', CONTEXT);
    const escape = `\\u${control.codePointAt(0)!.toString(16).padStart(4, '0')}`;
    expect(text).toContain(`"displayName": "Payroll ${escape}gpj.exe"`);
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(reportJsonValue(report))));
    expectValidReport(JSON.parse(text));
    const parsed = JSON.parse(text) as { subscriptions: Array<{ displayName: string; contact: { emails: string[] } }> };
    expect(parsed.subscriptions.map((s) => s.displayName)).toContain(noncompliant.displayName);
    expect(parsed.subscriptions.flatMap((s) => s.contact.emails)).toContain(`ops${control}@fabrikam.io`);
  });

  it('check --format json and table never write it as it is; JSON keeps the value', () => {
    const json = renderVerdict(unreadable, 'json', CONTEXT);
    expect(json).not.toMatch(ANY_BIDI_CONTROL);
    expect(JSON.parse(json).displayName).toBe(unreadable.displayName);
    expectValidVerdict(JSON.parse(json));
    expect(renderVerdict(noncompliant, 'table', CONTEXT)).not.toMatch(ANY_BIDI_CONTROL);
  });

  it('--format sarif keeps the display name and message exactly', () => {
    const sarif = JSON.parse(renderReport(report, 'sarif', CONTEXT));
    const results = sarif.runs[0].results as Array<{ message: { text: string }; properties: { displayName: string } }>;
    expect(results.map((r) => r.properties.displayName)).toContain(noncompliant.displayName);
    expect(results.some((r) => r.message.text.includes(`"ops${control}@fabrikam.io"`))).toBe(true);
  });

  it('the HTTP API answers it as a \\u escape in JSON, the value unchanged', () => {
    const answer = jsonResponse(200, reportJsonValue(report));
    expect(answer.body as string).not.toMatch(ANY_BIDI_CONTROL);
    expect(JSON.parse(answer.body as string)).toEqual(JSON.parse(JSON.stringify(reportJsonValue(report))));
    const error = jsonError(400, 'InvalidQuery', `unknown value "x${control}y"`);
    expect(error.body as string).not.toMatch(ANY_BIDI_CONTROL);
    expect(JSON.parse(error.body as string).error.message).toBe(`unknown value "x${control}y"`);
  });
});
