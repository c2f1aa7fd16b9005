/**
 * Plain fixed-width text for a terminal (`scan --format table`, `check --format table`).
 * No colour codes: stdout may be a file or a pipe. Display names are user input, so control
 * characters (including ANSI escape sequences and CR/LF) and bidirectional overrides are made
 * visible instead of reaching the terminal.
 */
import type { ScanReport, SubscriptionVerdict } from '../core/model.js';
import { EXAMPLE_SECURITY_TEAM_ADDRESS, azRestPutCommand } from '../core/rules/remediation.js';
import { complianceRate, describeContact, formatDuration, formatPercent, formatUtc, shortReason } from './display.js';
import { failingFindings, isFailingStatus } from './findings.js';
import { findingsInRuleOrder, inTriageOrder } from './triage-order.js';
import { ruleById, type RenderContext } from './render-context.js';
import { showBidiControls, VISIBLE_REPLACEMENT } from './azure-text.js';

const NAME_WIDTH_MAX = 40;

/**
 * One row per subscription, failing ones first, then a summary and where to read one subscription's
 * details; a line at a time. The column widths are measured in a first pass over the verdicts,
 * then the rows are written.
 */
export function* tableReportParts(report: ScanReport): Generator<string> {
  const verdicts = inTriageOrder(report.subscriptions);
  if (verdicts.length === 0) {
    yield 'No subscriptions were found in the scanned scope.\n';
  } else {
    const header = ['SUBSCRIPTION ID', 'NAME', 'STATUS', 'DETAILS'] as const;
    const widths = [header[0].length, header[1].length, header[2].length];
    for (const verdict of verdicts) {
      widths[0] = Math.max(widths[0]!, width(verdict.subscriptionId));
      widths[1] = Math.max(widths[1]!, width(terminalText(verdict.displayName)));
      widths[2] = Math.max(widths[2]!, width(verdict.status));
    }
    widths[1] = Math.min(NAME_WIDTH_MAX, widths[1]!);
    const line = (row: readonly string[]): string =>
      [...widths.map((w, i) => pad(truncate(terminalText(row[i]!), w), w)), terminalText(row[3]!)].join('  ').trimEnd();
    yield `${line(header)}\n`;
    for (const v of verdicts) yield `${line([v.subscriptionId, terminalText(v.displayName), v.status, details(v)])}\n`;
  }
  yield `\n${[...summaryLines(report), ...detailsHint(verdicts)].join('\n')}\n`;
}

/**
 * The DETAILS column names the failing rules only: the messages, the contact and the exact fix of
 * one subscription are `check`'s. Said once, at the end (what a terminal still shows after 50,000
 * rows), with the first failing subscription as an example to paste.
 */
function detailsHint(verdicts: readonly SubscriptionVerdict[]): string[] {
  const first = verdicts.find((verdict) => isFailingStatus(verdict.status));
  if (first === undefined) return [];
  return [
    'Details and the exact fix for one subscription: contact-watch check <subscription-id>',
    `  for example: contact-watch check ${terminalText(first.subscriptionId)}`,
  ];
}

/** The `check` view: the subscription, its contact, then every rule with its result and message. */
export function renderTableVerdict(verdict: SubscriptionVerdict, context: RenderContext): string {
  const contact = describeContact(verdict);
  const lines = [
    ...keyValues([
      ['Subscription', verdict.subscriptionId],
      ['Name', verdict.displayName === '' ? '(unknown)' : verdict.displayName],
      ['State', verdict.state],
      ['Status', verdict.status],
      ['Read from', verdict.source === 'security-contacts-api' ? 'securityContacts API' : 'Resource Graph'],
      ['E-mails', contact.emails],
      ['Alert e-mails', contact.alerts],
      ['Notify roles', contact.roles],
      ['Attack paths', contact.attackPaths],
      ['Contact shape', verdict.contact.shape],
    ]),
    '',
  ];

  const findings = findingsInRuleOrder(verdict.findings);
  if (findings.length === 0) {
    lines.push(verdict.status === 'skipped' ? `Not judged: the subscription is ${terminalText(verdict.state)}.` : 'No rule results.');
  } else {
    const ruleWidth = Math.max('RULE'.length, ...findings.map((f) => width(f.ruleId)));
    const resultWidth = 'RESULT'.length;
    const indent = ' '.repeat(ruleWidth + resultWidth + 4);
    lines.push(`${pad('RULE', ruleWidth)}  ${pad('RESULT', resultWidth)}  MESSAGE`);
    // Without a contact every rule fails; creating the contact is the one fix to show.
    const contactMissing = findings.some((f) => f.ruleId === 'contact-exists' && f.result === 'fail');
    for (const finding of findings) {
      lines.push(`${pad(finding.ruleId, ruleWidth)}  ${pad(finding.result, resultWidth)}  ${terminalText(finding.message)}`.trimEnd());
      const showFix = finding.result === 'fail' && (!contactMissing || finding.ruleId === 'contact-exists');
      const remediation = showFix ? ruleById(context, finding.ruleId)?.remediation.summary : undefined;
      if (remediation) lines.push(`${indent}fix: ${terminalText(remediation)}`);
    }
  }
  // The suggested write is this subscription's own contact with only what fails changed, so
  // pasting it never wipes the addresses, phone or settings the subscription has.
  const fix = verdict.status === 'noncompliant' ? verdict.fix : undefined;
  if (fix?.kind === 'put') {
    const creates = verdict.contact.shape === 'none';
    lines.push(
      '',
      creates
        ? 'Suggested fix: the security contact to create (bash, Azure CLI):'
        : "Suggested fix: the subscription's own contact with only the failing settings changed (bash, Azure CLI):",
    );
    if (fix.placeholderEmails) {
      lines.push(
        `Replace ${EXAMPLE_SECURITY_TEAM_ADDRESS} with your security team's shared mailbox before running it ` +
          '(or name it in the policy as remediation.emails).',
      );
    }
    // Printable ASCII only (see azRestPutCommand), so it is shown exactly as it must be pasted.
    lines.push(azRestPutCommand(verdict.subscriptionId, fix.body));
    lines.push(
      '',
      'The same write as Terraform (azapi provider), as a file to apply: ' +
        `contact-watch check ${verdict.subscriptionId} --format terraform > security-contact.tf`,
    );
  } else if (fix?.kind === 'not-fixable') {
    lines.push('', `Writing the contact cannot fix this: ${terminalText(fix.reason)}`);
  } else if (fix?.kind === 'too-large') {
    lines.push('', `The suggested contact is too large to show (${fix.bytes} bytes).`);
  }
  return `${lines.join('\n')}\n`;
}

function summaryLines(report: ScanReport): string[] {
  const s = report.summary;
  const rate = complianceRate(s);
  const duration = formatDuration(report.scan.startedAt, report.scan.finishedAt);
  return [
    `${s.subscriptions} subscription(s): ${s.compliant} compliant, ${s.noncompliant} noncompliant, ${s.error} error, ` +
      `${s.exempt} exempt, ${s.skipped} skipped; ${formatPercent(rate)} of judged subscriptions compliant (${rate.compliant} of ${rate.judged})`,
    `Scan ${terminalText(report.scan.id)} ${report.scan.status}, finished ${formatUtc(report.scan.finishedAt)}${duration ? ` after ${duration}` : ''}`,
  ];
}

/** What a reader needs to know about a subscription beyond its status, in one line. */
function details(verdict: SubscriptionVerdict): string {
  if (verdict.status === 'skipped') return `state ${verdict.state}, not judged`;
  const failing = failingFindings(verdict);
  const error = failing.find((f) => f.result === 'error');
  if (verdict.status === 'error' && error) return `could not be read: ${shortReason(error.message)}`;
  const missing = failing.find((f) => f.ruleId === 'contact-exists');
  if (missing) return `contact-exists: ${missing.message}`;
  return failing.map((f) => (f.result === 'error' ? `${f.ruleId} (error)` : f.ruleId)).join(', ');
}

function keyValues(pairs: Array<[string, string]>): string[] {
  const keyWidth = Math.max(...pairs.map(([key]) => key.length));
  return pairs.map(([key, value]) => `${pad(key, keyWidth)}  ${terminalText(value)}`.trimEnd());
}

const TERMINAL_CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * Text from Azure made safe for a terminal: line breaks and tabs become spaces, every other
 * control character (ESC of an ANSI sequence, BEL, C1 controls) and the bidirectional controls
 * (as in every format, see showBidiControls) become U+FFFD, so nothing in a display name can
 * move the cursor, recolour the screen or reorder what the reader sees.
 */
export function terminalText(text: string): string {
  return showBidiControls(text.replace(/[\r\n\t]+/g, ' ').replace(TERMINAL_CONTROLS, VISIBLE_REPLACEMENT));
}

/** Code points (a surrogate pair is one character); without one, the length itself, allocating nothing. */
const SURROGATE = /[\uD800-\uDFFF]/;

export function width(text: string): number {
  return SURROGATE.test(text) ? Array.from(text).length : text.length;
}

export function truncate(text: string, max: number): string {
  if (width(text) <= max) return text;
  return `${Array.from(text)
    .slice(0, max - 1)
    .join('')}…`;
}

export function pad(text: string, to: number): string {
  return text + ' '.repeat(Math.max(0, to - width(text)));
}
