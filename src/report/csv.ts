/**
 * CSV for spreadsheets (`scan --format csv`).
 *
 * One row per subscription, with one column per rule holding `pass`, `fail` or `error` (empty
 * for a skipped subscription, which is not judged). That is the layout a spreadsheet user can
 * filter and pivot directly: "every subscription failing owner-notifications" is one filter on
 * one column, and counting rows counts subscriptions. The failing messages are joined in one
 * `failures` column (`rule, rule: message; rule: message`, rules sharing a message together). Rows are sorted by subscription id like the JSON report; the header names
 * follow the JSON keys. Records end in LF; fields holding a delimiter, quote or line break are
 * quoted by csv-stringify (RFC 4180 quoting). No byte-order mark, so the output pipes cleanly.
 *
 * Display names, e-mail addresses and messages are user input. A cell that a spreadsheet would
 * read as a formula (starting with `=`, `+`, `-`, `@`, their full-width forms, tab or CR, also
 * after leading spaces) is prefixed with `'`, as OWASP recommends against CSV injection, and
 * bidirectional controls are shown as U+FFFD (a spreadsheet is read by people, not parsed back).
 */
import { stringify, type Options as StringifyOptions } from 'csv-stringify/sync';
import { RULE_IDS } from '../core/model.js';
import type { ScanReport, SubscriptionVerdict } from '../core/model.js';
import { compareCodeUnits } from './triage-order.js';
import { groupedFailures } from './findings.js';
import { showBidiControls } from './azure-text.js';

export const CSV_COLUMNS = [
  'subscriptionId',
  'displayName',
  'state',
  'status',
  'source',
  'emails',
  'alertMinimalSeverity',
  'notifyRoles',
  'attackPathMinimalRiskLevel',
  'contactShape',
  ...RULE_IDS,
  'failures',
] as const;

/** Rows stringified at a time. */
const ROWS_PER_PART = 50;

const STRINGIFY_OPTIONS: StringifyOptions = {
  columns: [...CSV_COLUMNS],
  record_delimiter: 'unix',
  // csv-stringify quotes a field holding the record delimiter (LF) but not a lone CR, which
  // Excel and others read as a line break too.
  quoted_match: /\r/,
};

/**
 * The header, then the rows sorted by subscription id, fifty at a time. Each record stands
 * on its own, so the parts joined are exactly what one `stringify` of every row writes.
 */
export function* csvReportParts(report: ScanReport): Generator<string> {
  const sorted = [...report.subscriptions].sort((a, b) => compareCodeUnits(a.subscriptionId, b.subscriptionId));
  yield stringify([], { ...STRINGIFY_OPTIONS, header: true });
  for (let start = 0; start < sorted.length; start += ROWS_PER_PART) {
    yield stringify(sorted.slice(start, start + ROWS_PER_PART).map(csvRow), { ...STRINGIFY_OPTIONS, header: false });
  }
}

function csvRow(verdict: SubscriptionVerdict): string[] {
  const results = new Map(verdict.findings.map((finding) => [finding.ruleId as string, finding.result]));
  const row: string[] = [
    verdict.subscriptionId,
    verdict.displayName,
    verdict.state,
    verdict.status,
    verdict.source,
    verdict.contact.emails.join('; '),
    verdict.contact.alertMinimalSeverity ?? '',
    verdict.contact.notifyRoles.join('; '),
    verdict.contact.attackPathMinimalRiskLevel ?? '',
    verdict.contact.shape,
    ...RULE_IDS.map((ruleId) => results.get(ruleId) ?? ''),
    groupedFailures(verdict)
      .map((group) => `${group.ruleIds.join(', ')}: ${group.message}`)
      .join('; '),
  ];
  return row.map((cell) => neutraliseFormula(showBidiControls(cell)));
}

const FORMULA_START = /^(?:[\t\r]|[ ]*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20])/;

/** Prefixes `'` to a value a spreadsheet would evaluate as a formula. */
export function neutraliseFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}
