/**
 * The report formats of `contact-watch scan --format …` and `check --format …`.
 * Every formatter is a pure function of the report (or one verdict) and the render context.
 */
import type { ScanReport, SubscriptionVerdict } from '../core/model.js';
import { renderCsvReport } from './csv.js';
import { renderHtmlReport } from './html.js';
import { jsonReportChunks, renderJsonReport, renderJsonVerdict } from './json.js';
import { renderMarkdownReport } from './markdown.js';
import { ocsfContext, ocsfReportChunks, renderOcsfReport } from './ocsf.js';
import { renderSarifReport } from './sarif.js';
import type { RenderContext } from './render-context.js';
import { renderTableReport, renderTableVerdict, tableReportChunks } from './table.js';

export type { RenderContext } from './render-context.js';
export { reportJsonValue, verdictJsonValue } from './json.js';

export const REPORT_FORMATS = ['table', 'json', 'csv', 'markdown', 'sarif', 'html', 'ocsf'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const VERDICT_FORMATS = ['table', 'json'] as const;
export type VerdictFormat = (typeof VERDICT_FORMATS)[number];

/** The whole scan in one format; the text ends with a newline. */
export function renderReport(report: ScanReport, format: ReportFormat, context: RenderContext): string {
  switch (format) {
    case 'table':
      return renderTableReport(report);
    case 'json':
      return renderJsonReport(report);
    case 'csv':
      return renderCsvReport(report);
    case 'markdown':
      return renderMarkdownReport(report, context);
    case 'sarif':
      return renderSarifReport(report, context);
    case 'html':
      return renderHtmlReport(report, context);
    case 'ocsf':
      return renderOcsfReport(report, ocsfContext(context));
  }
}

/**
 * The report in pieces, for writing large reports without holding them as one string: JSON and
 * OCSF (what pipelines read at tenant scale) and table (the default) are streamed, the others come whole.
 */
export function renderReportChunks(report: ScanReport, format: ReportFormat, context: RenderContext): Iterable<string> {
  if (format === 'json') return jsonReportChunks(report);
  if (format === 'table') return tableReportChunks(report);
  if (format === 'ocsf') return ocsfReportChunks(report, ocsfContext(context));
  return [renderReport(report, format, context)];
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
