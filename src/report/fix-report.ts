/**
 * What `contact-watch fix` prints (docs/reference/remediation.md "Output"): `json`, the report as the contract
 * gives it, or `table`, for people: one row per subscription, then each body sent or that
 * would be sent, exactly, then a summary.
 */
import { FIX_RESULTS, type FixReport } from '../core/model.js';
import { REMEDIATION_API_VERSION } from '../core/rules/remediation.js';
import { escapeBidiControlsInJson } from './azure-text.js';
import { pad, terminalText, truncate, width } from './table.js';

export type FixReportFormat = 'table' | 'json';

const NAME_WIDTH_MAX = 40;

/**
 * `changes` (what each body changes, by subscription id) goes into the table's details; the JSON
 * holds exactly the contract's fields.
 */
export function renderFixReport(report: FixReport, format: FixReportFormat, changes: ReadonlyMap<string, readonly string[]>): string {
  if (format === 'json') return `${escapeBidiControlsInJson(JSON.stringify(report, null, 2))}\n`;
  const entries = report.subscriptions;
  if (entries.length === 0) return `No subscriptions were found in the scope.\n\n${summaryLine(report)}\n`;

  const rows = entries.map((entry) => [
    entry.subscriptionId,
    terminalText(entry.displayName),
    entry.result,
    terminalText(entry.reason ?? changes.get(entry.subscriptionId)?.join('; ') ?? ''),
  ]);
  const header = ['SUBSCRIPTION ID', 'NAME', 'RESULT', 'DETAILS'];
  const widths = [0, 1, 2].map((column) => Math.max(width(header[column]!), ...rows.map((row) => width(row[column]!))));
  widths[1] = Math.min(NAME_WIDTH_MAX, widths[1]!);
  const line = (row: readonly string[]) => [...widths.map((w, column) => pad(truncate(row[column]!, w), w)), row[3]!].join('  ').trimEnd();
  const lines = [line(header), ...rows.map(line)];

  const written = entries.filter((entry) => entry.body !== undefined);
  if (written.length > 0) {
    lines.push('', report.fix.dryRun ? 'Bodies that would be sent:' : 'Bodies sent:');
    for (const entry of written) {
      lines.push(
        `PUT /subscriptions/${entry.subscriptionId}/providers/Microsoft.Security/securityContacts/default?api-version=${REMEDIATION_API_VERSION} (${entry.result})`,
        jsonForTerminal(entry.body),
      );
    }
  }
  lines.push('', summaryLine(report));
  return `${lines.join('\n')}\n`;
}

/** `fix: 3 fixed, 1 unchanged, …` (dry run: `fix --dry-run: 2 would-fix, …`); results that did not occur are left out. */
export function summaryLine(report: FixReport): string {
  const counts = FIX_RESULTS.map((result) => [result, report.subscriptions.filter((entry) => entry.result === result).length] as const);
  const present = counts.filter(([, count]) => count > 0).map(([result, count]) => `${count} ${result}`);
  return `${report.fix.dryRun ? 'fix --dry-run' : 'fix'}: ${report.subscriptions.length} subscription(s)${present.length > 0 ? `: ${present.join(', ')}` : ''}`;
}

/**
 * Compact JSON that is the very same value, with every character a terminal would act on or hide
 * (C0/C1 controls, line separators, bidirectional controls) written as a `\uXXXX` escape: such a
 * character can only be inside a string, where the escape decodes to it.
 */
function jsonForTerminal(value: unknown): string {
  return escapeBidiControlsInJson(JSON.stringify(value)).replace(
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
