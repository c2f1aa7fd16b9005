/**
 * GitHub-flavoured Markdown for a pipeline job summary (`scan --format markdown`, e.g. appended
 * to `$GITHUB_STEP_SUMMARY` or uploaded as an Azure DevOps summary): the headline, a status
 * table, the failing subscriptions with their failed rules and messages, and how to fix each
 * failing rule.
 *
 * Every value from Azure is put through `markdownText`, which backslash-escapes the characters
 * that start inline Markdown or HTML (so a display name `<script>` or `[x](javascript:…)` shows
 * as text), escapes `|` so a cell cannot be split, turns line breaks into spaces so a row
 * cannot be ended early, shows bidirectional controls as U+FFFD and writes `https://…` and
 * `www.` text so that no renderer makes a link of it. Values only ever appear inside a line,
 * never at its start, so block syntax (`#`, `-`, `1.`) needs no escaping, and a `.` or `-` in an
 * address stays readable. The failing table is capped at MARKDOWN_FAILING_ROWS_MAX rows: GitHub
 * refuses job summaries over 1 MiB.
 */
import { RULE_IDS } from '../core/model.js';
import type { ScanReport, SubscriptionStatus, SubscriptionVerdict } from '../core/model.js';
import { emailNotificationsUrl } from '../core/azure-portal.js';
import type { RenderContext } from './render-context.js';
import { complianceRate, formatDuration, formatPercent, formatUtc, STATUS_LABELS } from './display.js';
import { defangAutolinks, showBidiControls } from './azure-text.js';
import { fixCounts, groupedFailures, isFailingStatus } from './findings.js';
import { inTriageOrder } from './triage-order.js';
import { frameworkControlsText } from './framework-references.js';

export const MARKDOWN_FAILING_ROWS_MAX = 500;

const STATUS_ICONS: Record<SubscriptionStatus, string> = {
  compliant: '✅',
  noncompliant: '❌',
  error: '⚠️',
  exempt: '🛡️',
  skipped: '⏸️',
};

/**
 * The summary in parts: the headline and the status table, each failing row, then how to fix
 * them. The failing subscriptions are found and put in triage order first (a list of
 * references), so the headline's counts and the fixes are known before any row is written.
 */
export function* markdownReportParts(report: ScanReport, context: RenderContext): Generator<string> {
  const s = report.summary;
  const rate = complianceRate(s);
  const duration = formatDuration(report.scan.startedAt, report.scan.finishedAt);
  const head: string[] = [];

  head.push('## Defender for Cloud security contacts', '');
  head.push(
    `**${formatPercent(rate)} compliant** (${rate.compliant} of ${rate.judged} judged subscriptions) · ` +
      `scan ${markdownText(report.scan.id)} **${report.scan.status}** · finished ${formatUtc(report.scan.finishedAt)}` +
      (duration ? ` after ${duration}` : ''),
    '',
  );
  if (report.scan.status !== 'succeeded') {
    head.push(
      report.scan.status === 'partial'
        ? '> [!WARNING]\n> Some subscriptions could not be read. They are reported as errors, never as compliant.'
        : '> [!CAUTION]\n> The scan failed; the results below are incomplete.',
      '',
    );
  }

  head.push('| Status | Subscriptions |', '| --- | ---: |');
  for (const status of ['noncompliant', 'error', 'compliant', 'exempt', 'skipped'] as const) {
    head.push(`| ${STATUS_ICONS[status]} ${STATUS_LABELS[status]} | ${s[status]} |`);
  }
  head.push(`| **Total** | **${s.subscriptions}** |`, '');

  const failing = inTriageOrder(report.subscriptions.filter((v) => isFailingStatus(v.status)));
  if (failing.length === 0) {
    head.push(s.subscriptions === 0 ? 'No subscriptions were found in the scanned scope.' : 'No subscription is failing.', '');
    yield `${head.join('\n')}\n`;
    return;
  }

  head.push(`### Failing subscriptions (${failing.length})`, '');
  head.push('| Subscription | Status | Failed rules |', '| --- | --- | --- |');
  yield `${head.join('\n')}\n`;
  for (const verdict of failing.slice(0, MARKDOWN_FAILING_ROWS_MAX)) {
    yield `| ${subscriptionCell(verdict, context)} | ${STATUS_ICONS[verdict.status]} ${verdict.status} | ${failuresCell(verdict)} |\n`;
  }
  const tail: string[] = [];
  if (failing.length > MARKDOWN_FAILING_ROWS_MAX) {
    tail.push('', `… and ${failing.length - MARKDOWN_FAILING_ROWS_MAX} more; the JSON, CSV or HTML report lists them all.`);
  }
  tail.push('');

  const fixes = howToFix(failing, context);
  if (fixes.length > 0) tail.push('### How to fix', '', ...fixes);
  yield `${tail.join('\n')}\n`;
}

function subscriptionCell(verdict: SubscriptionVerdict, context: RenderContext): string {
  const name = verdict.displayName === '' ? '(unknown name)' : markdownText(verdict.displayName);
  const url = emailNotificationsUrl(context.portalUrl, verdict.subscriptionId);
  const id = markdownText(verdict.subscriptionId);
  return `**${name}**<br>${url ? `[${id}](${url})` : id}`;
}

function failuresCell(verdict: SubscriptionVerdict): string {
  return groupedFailures(verdict)
    .map((group) => {
      const label =
        group.result === 'error' && group.ruleIds.length === RULE_IDS.length
          ? '**could not be read**'
          : `${group.ruleIds.map((id) => `**${id}**`).join(', ')}${group.result === 'error' ? ' (error)' : ''}`;
      return `${label}: ${markdownText(group.message)}`;
    })
    .join('<br>');
}

/**
 * One collapsible section per rule to fix, with the remediation. Rules share one whole-contact
 * PUT, so a command already shown is referred to instead of repeated.
 */
function howToFix(failing: SubscriptionVerdict[], context: RenderContext): string[] {
  const counts = fixCounts(failing);
  const shownCode = new Map<string, string>();
  const out: string[] = [];
  for (const rule of context.rules) {
    const count = counts.get(rule.id);
    if (!count) continue;
    const r = rule.remediation;
    out.push(
      `<details><summary><b>${rule.id}</b>: ${htmlText(rule.title)} (${count} subscription${count === 1 ? '' : 's'})</summary>`,
      '',
      ruleText(r.summary),
      '',
    );
    if (r.portal.length > 0) out.push('In the portal:', '', ...r.portal.map((step, i) => `${i + 1}. ${ruleText(step)}`), '');
    for (const [label, language, code] of [
      ['Azure CLI', 'sh', r.azCli],
      ['Bicep', 'bicep', r.bicep],
      ['Terraform (azapi provider)', 'hcl', r.terraform],
    ] as const) {
      if (code.trim() === '') continue;
      const shownFor = shownCode.get(code);
      if (shownFor) {
        out.push(`${label}: the same as for **${shownFor}** above.`, '');
      } else {
        shownCode.set(code, rule.id);
        out.push(`${label}:`, '', ...codeBlock(language, code), '');
      }
    }
    const references = [
      ...rule.references.cis.map((c) => `CIS ${c.version} ${c.recommendation}`),
      ...rule.references.mcsb.map((m) => `MCSB ${m}`),
    ];
    if (references.length > 0) out.push(`References: ${markdownText(references.join(', '))}`, '');
    const controls = frameworkControlsText(rule);
    if (controls !== '') out.push(`Other frameworks: ${markdownText(controls)}`, '');
    out.push('</details>', '');
  }
  const unreadable = failing.filter((v) => v.status === 'error').length;
  if (unreadable > 0) {
    out.push(
      `<details><summary><b>error</b>: the contact could not be read (${unreadable} subscription${unreadable === 1 ? '' : 's'})</summary>`,
      '',
      'A subscription whose security contact could not be read is never counted as compliant. Check that the scanning identity holds Reader and Security Reader on it, then scan again.',
      '',
      '</details>',
      '',
    );
  }
  return out;
}

/** A fenced code block whose fence is longer than any backtick run inside the code. */
function codeBlock(language: string, code: string): string[] {
  const longestRun = Math.max(0, ...Array.from(code.matchAll(/`+/g), (m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  return [`${fence}${language}`, code.replace(/\s+$/, ''), fence];
}

/**
 * Text from Azure made inert inside a line of GFM, including a table cell: line breaks become
 * spaces, bidirectional controls U+FFFD, URL and `www.` text is defanged (GFM would link it,
 * escapes or not), and every character that can open inline syntax, an HTML tag, an entity, a
 * table cell boundary, GitHub math (`$`) or a mention (`@`) is backslash-escaped.
 */
export function markdownText(text: string): string {
  const oneLine = text.replace(/[\r\n\t\u2028\u2029]+/g, ' ').replace(/[\u0000-\u001f\u007f]/g, '');
  return defangAutolinks(showBidiControls(oneLine)).replace(/[\\`*_{}[\]()<>|~&!$@]/g, (c) => `\\${c}`);
}

/**
 * The rules' own text (ours, written as plain Markdown, so backticks stay code): only `<` and
 * `>` outside code spans are escaped, so a placeholder such as `<subscription-id>` is not
 * swallowed as an HTML tag.
 */
function ruleText(text: string): string {
  return text
    .replace(/\r?\n/g, ' ')
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/[<>]/g, (c) => `\\${c}`)))
    .join('');
}

/** Text inside the raw HTML of a `<summary>` (where backslash escapes do not apply). */
function htmlText(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
