/**
 * The JSON report of docs/reference/report.md, also the body of the HTTP API. Every object is rebuilt
 * key by key so the key order is the contract's whatever order the input was built in, and
 * nothing that is not in the contract leaks out. Values are kept exactly; bidirectional
 * controls in them are written as `\uXXXX` escapes (escapeBidiControlsInJson), so the text never
 * holds one that would reorder what a person reading it sees.
 */
import type { ScanReport, SubscriptionVerdict } from '../core/model.js';
import { compareCodeUnits, findingsInRuleOrder } from './triage-order.js';
import { escapeBidiControlsInJson } from './azure-text.js';
import { chunked } from './chunks.js';

/** The §7 document as a plain value (for the HTTP API, which serialises it itself). */
export function reportJsonValue(report: ScanReport) {
  return {
    schemaVersion: report.schemaVersion,
    scan: {
      id: report.scan.id,
      startedAt: report.scan.startedAt,
      finishedAt: report.scan.finishedAt,
      status: report.scan.status,
    },
    summary: {
      subscriptions: report.summary.subscriptions,
      compliant: report.summary.compliant,
      noncompliant: report.summary.noncompliant,
      exempt: report.summary.exempt,
      error: report.summary.error,
      skipped: report.summary.skipped,
    },
    subscriptions: [...report.subscriptions].sort((a, b) => compareCodeUnits(a.subscriptionId, b.subscriptionId)).map(verdictJsonValue),
  };
}

/** One element of §7's `subscriptions` (what `check --format json` and the compliance route answer). */
export function verdictJsonValue(verdict: SubscriptionVerdict) {
  return {
    subscriptionId: verdict.subscriptionId,
    displayName: verdict.displayName,
    state: verdict.state,
    status: verdict.status,
    source: verdict.source,
    contact: {
      emails: [...verdict.contact.emails],
      alertMinimalSeverity: verdict.contact.alertMinimalSeverity ?? null,
      notifyRoles: [...verdict.contact.notifyRoles],
      attackPathMinimalRiskLevel: verdict.contact.attackPathMinimalRiskLevel ?? null,
      shape: verdict.contact.shape,
    },
    findings: findingsInRuleOrder(verdict.findings).map((finding) => ({
      ruleId: finding.ruleId,
      result: finding.result,
      message: finding.message,
    })),
  };
}

export function renderJsonReport(report: ScanReport): string {
  return [...jsonReportParts(report)].join('');
}

/** The report in chunks of about CHUNK_CHARACTERS, for a stream or an upload. */
export function jsonReportChunks(report: ScanReport): Generator<string> {
  return chunked(jsonReportParts(report));
}

/**
 * The same text as `JSON.stringify(reportJsonValue(report), null, 2)` plus a newline, one
 * subscription at a time, so that a report of 50,000 subscriptions is written out without ever
 * being one string.
 */
export function* jsonReportParts(report: ScanReport): Generator<string> {
  const { subscriptions: _rendered, ...head } = reportJsonValue({ ...report, subscriptions: [] });
  const headText = escapeBidiControlsInJson(JSON.stringify(head, null, 2));
  const sorted = [...report.subscriptions].sort((a, b) => compareCodeUnits(a.subscriptionId, b.subscriptionId));
  if (sorted.length === 0) {
    yield `${headText.slice(0, -2)},\n  "subscriptions": []\n}\n`;
    return;
  }
  yield `${headText.slice(0, -2)},\n  "subscriptions": [`;
  for (const [index, verdict] of sorted.entries()) yield `${index === 0 ? '' : ','}\n    ${verdictJsonText(verdict, '    ')}`;
  yield '\n  ]\n}\n';
}

export function renderJsonVerdict(verdict: SubscriptionVerdict): string {
  return `${verdictJsonText(verdict, '')}\n`;
}

/** `JSON.stringify(verdictJsonValue(verdict), null, 2)`, bidirectional controls escaped, each line after the first indented by `indent`. */
function verdictJsonText(verdict: SubscriptionVerdict, indent: string): string {
  const whose =
    `{\n${indent}  "subscriptionId": ${JSON.stringify(verdict.subscriptionId)},` +
    `\n${indent}  "displayName": ${JSON.stringify(verdict.displayName)},` +
    `\n${indent}  "state": ${JSON.stringify(verdict.state)},\n`;
  return escapeBidiControlsInJson(whose) + judgementJsonText(verdict, indent);
}

/** What was written of a judgement: its text for one indent, and what it was written from. */
interface WrittenJudgement {
  status: SubscriptionVerdict['status'];
  source: SubscriptionVerdict['source'];
  contact: SubscriptionVerdict['contact'];
  indent: string;
  text: string;
}

/**
 * The text of what verdicts say beyond whose they are, by their findings. ContactJudge gives every
 * subscription with the same contact the same frozen contact and findings, so a report of 50,000
 * subscriptions writes each distinct judgement once instead of once per subscription. An exemption
 * keeps the findings under another status, so the status, source and contact are compared too.
 */
const writtenJudgements = new WeakMap<SubscriptionVerdict['findings'], WrittenJudgement>();

/** From `"status"` to the closing brace of the verdict's text. */
function judgementJsonText(verdict: SubscriptionVerdict, indent: string): string {
  const { status, source, contact } = verdict;
  const written = writtenJudgements.get(verdict.findings);
  if (written?.status === status && written.source === source && written.contact === contact && written.indent === indent) {
    return written.text;
  }
  const { subscriptionId: _id, displayName: _name, state: _state, ...judgement } = verdictJsonValue(verdict);
  // The opening brace and its line break are dropped: the verdict's own first lines come before.
  const text = escapeBidiControlsInJson(JSON.stringify(judgement, null, 2))
    .slice(2)
    .replace(/\n/g, `\n${indent}`);
  writtenJudgements.set(verdict.findings, { status, source, contact, indent, text: `${indent}${text}` });
  return `${indent}${text}`;
}
