/**
 * The report formats of `contact-watch scan --format …` and `check --format …`.
 *
 * A report format is a ReportRenderer: a pure function of the report and the render context that
 * returns its text as an iterable of parts in order (a generator yielding a heading, then one
 * subscription's row, …). Joined, the parts are the whole report, ending with a newline.
 * renderReportChunks groups them into chunks of about 16K characters (chunks.ts) that the command
 * line writes as the stream takes them (src/cli/report-output.ts). No format holds a
 * 50,000-subscription report as one string or one array of lines: what must be known before the
 * first line (table column widths, triage order, the HTML page's summary) is measured in a first
 * pass over the verdicts, and the text is written in the second.
 */
import type { ScanReport, SubscriptionVerdict } from '../core/model.js';
import { chunked } from './chunks.js';
import { csvReportParts } from './csv.js';
import { htmlReportParts } from './html.js';
import { jsonReportParts, renderJsonVerdict } from './json.js';
import { markdownReportParts } from './markdown.js';
import { ocsfContext, ocsfEventLines } from './ocsf.js';
import { sarifReportParts } from './sarif.js';
import type { RenderContext } from './render-context.js';
import { renderTableVerdict, tableReportParts } from './table.js';

export type { RenderContext } from './render-context.js';
export { reportJsonValue, verdictJsonValue } from './json.js';

/** A report format: the report's text in parts, in order; joined, they are the whole report. */
export type ReportRenderer = (report: ScanReport, context: RenderContext) => Iterable<string>;

export const REPORT_FORMATS = ['table', 'json', 'csv', 'markdown', 'sarif', 'html', 'ocsf'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** Each format's renderer: a new format is a name in REPORT_FORMATS and its function here. */
const REPORT_RENDERERS: Record<ReportFormat, ReportRenderer> = {
  table: tableReportParts,
  json: jsonReportParts,
  csv: csvReportParts,
  markdown: markdownReportParts,
  sarif: sarifReportParts,
  html: (report, context) => htmlReportParts(report, context),
  ocsf: (report, context) => ocsfEventLines(report, ocsfContext(context)),
};

export const VERDICT_FORMATS = ['table', 'json'] as const;
export type VerdictFormat = (typeof VERDICT_FORMATS)[number];

/** The report in one format, in chunks of about 16K characters, for writing to a stream. */
export function renderReportChunks(report: ScanReport, format: ReportFormat, context: RenderContext): Iterable<string> {
  return chunked(REPORT_RENDERERS[format](report, context));
}

/** The whole report in one format as one string (small reports, tests); the text ends with a newline. */
export function renderReport(report: ScanReport, format: ReportFormat, context: RenderContext): string {
  return [...REPORT_RENDERERS[format](report, context)].join('');
}

/** One subscription (`check`); JSON is one element of the report's `subscriptions` (docs/reference/report.md). */
export function renderVerdict(verdict: SubscriptionVerdict, format: VerdictFormat, context: RenderContext): string {
  switch (format) {
    case 'table':
      return renderTableVerdict(verdict, context);
    case 'json':
      return renderJsonVerdict(verdict);
  }
}
