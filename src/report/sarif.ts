/**
 * SARIF 2.1.0 (`scan --format sarif`), for code-scanning dashboards and the Azure DevOps SARIF
 * viewer.
 *
 * - `runs[0].tool.driver.rules`: one entry per rule of the context, with its title, rationale,
 *   remediation (text and Markdown, Terraform included), its CIS / MCSB references and the
 *   controls of other frameworks it serves as tags, and every reference in full in `properties`
 *   (`frameworks`: each control with its title, why the rule serves it and the mapping's source).
 * - `results`: one per finding that did not pass, of every `noncompliant` or `error`
 *   subscription (exempt, skipped and compliant subscriptions have nothing to act on).
 *   Level: `fail` → "error" (the setting is wrong and must be fixed); `error` → "warning" (the
 *   contact could not be read, so nothing is known to be wrong yet, but it is not compliant).
 * - Location: a logical location `/subscriptions/<id>` (kind "resource"); there is no file.
 *   (GitHub code scanning only shows results with a physical file location, so it will accept
 *   but not display these; viewers that read logical locations do.)
 * - `partialFingerprints["contactWatch/subscriptionRule/v1"]` is `<subscriptionId>/<ruleId>`, so
 *   the same problem on the same subscription is the same result from one scan to the next.
 * - Values from Azure are kept exactly; bidirectional controls in them are written as `\uXXXX`
 *   escapes, so a viewer showing the raw log shows nothing reordered.
 */
import type { Finding, ScanReport, SubscriptionVerdict } from '../core/model.js';
import type { Rule } from '../core/rules/rule.js';
import type { RenderContext } from './render-context.js';
import { compareCodeUnits } from './triage-order.js';
import { escapeBidiControlsInJson, oneLine } from './azure-text.js';
import { failingFindings, isFailingStatus } from './findings.js';

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';
/** What the tool checks and why; the project has no public home page to point at yet. */
export const TOOL_INFORMATION_URI = 'https://learn.microsoft.com/azure/defender-for-cloud/configure-email-notifications';
export const FINGERPRINT_KEY = 'contactWatch/subscriptionRule/v1';

/** `"results": []` as JSON.stringify writes it, and where a result sits: runs[0].results[i]. */
const RESULTS_EMPTY = '"results": []';
const RESULTS_INDENT = ' '.repeat(6);
const RESULT_INDENT = ' '.repeat(8);

/**
 * The same text as `JSON.stringify(sarifLog(report, context), null, 2)` plus a newline, in parts:
 * the log up to its results, each result indented as it sits in the whole document, then the
 * rest, so that the results of 50,000 failing subscriptions are never one string.
 */
export function* sarifReportParts(report: ScanReport, context: RenderContext): Generator<string> {
  const shell = escapeBidiControlsInJson(JSON.stringify(sarifLog(report, context, { withResults: false }), null, 2));
  // `results` is the run's last key; in JSON text its quotes are unescaped only as a key.
  const at = shell.lastIndexOf(RESULTS_EMPTY) + RESULTS_EMPTY.length - 1;
  let written = 0;
  for (const result of sarifResults(report, context)) {
    const text = escapeBidiControlsInJson(JSON.stringify(result, null, 2)).replace(/\n/g, `\n${RESULT_INDENT}`);
    yield `${written === 0 ? shell.slice(0, at) : ','}\n${RESULT_INDENT}${text}`;
    written += 1;
  }
  yield written === 0 ? `${shell}\n` : `\n${RESULTS_INDENT}${shell.slice(at)}\n`;
}

/** The SARIF log; without its results (`withResults: false`), for writing them one by one. */
export function sarifLog(report: ScanReport, context: RenderContext, { withResults = true } = {}) {
  const rules = context.rules.map(sarifRule);
  return {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0' as const,
    runs: [
      {
        tool: {
          driver: {
            name: 'contact-watch',
            informationUri: TOOL_INFORMATION_URI,
            rules,
          },
        },
        automationDetails: { id: `contact-watch/${report.scan.id}` },
        invocations: [
          {
            executionSuccessful: report.scan.status !== 'failed',
            startTimeUtc: report.scan.startedAt,
            endTimeUtc: report.scan.finishedAt,
          },
        ],
        results: withResults ? [...sarifResults(report, context)] : [],
      },
    ],
  };
}

/** One result per finding that did not pass, of each failing subscription, by subscription id. */
function* sarifResults(report: ScanReport, context: RenderContext) {
  const ruleIndex = new Map(context.rules.map((rule, index) => [rule.id as string, index]));
  const failing = report.subscriptions
    .filter((verdict) => isFailingStatus(verdict.status))
    .sort((a, b) => compareCodeUnits(a.subscriptionId, b.subscriptionId));
  for (const verdict of failing) {
    for (const finding of failingFindings(verdict)) yield sarifResult(verdict, finding, ruleIndex.get(finding.ruleId));
  }
}

function sarifRule(rule: Rule) {
  const r = rule.remediation;
  return {
    id: rule.id,
    name: pascalCase(rule.id),
    shortDescription: { text: rule.title },
    fullDescription: { text: rule.rationale },
    help: { text: helpText(rule), markdown: helpMarkdown(rule) },
    defaultConfiguration: { level: 'error' as const },
    properties: {
      tags: [
        'security',
        'azure',
        'defender-for-cloud',
        ...rule.references.cis.map((c) => `CIS ${c.version} ${c.recommendation}`),
        ...rule.references.mcsb.map((m) => `MCSB ${m}`),
        ...rule.references.frameworks.map((f) => `${f.framework} ${f.control}`),
      ],
      precision: 'very-high',
      cis: rule.references.cis.map((c) => ({ version: c.version, recommendation: c.recommendation, title: c.title })),
      mcsb: [...rule.references.mcsb],
      azurePolicy: rule.references.azurePolicy.map((p) => ({ definitionId: p.definitionId, displayName: p.displayName })),
      frameworks: rule.references.frameworks.map((f) => ({
        framework: f.framework,
        control: f.control,
        title: f.title,
        reason: f.reason,
        source: f.source,
      })),
      remediationSummary: r.summary,
    },
  };
}

function sarifResult(verdict: SubscriptionVerdict, finding: Finding, ruleIndex: number | undefined) {
  const name = oneLine(verdict.displayName);
  const who = name === '' ? `Subscription ${verdict.subscriptionId}` : `Subscription "${name}" (${verdict.subscriptionId})`;
  return {
    ruleId: finding.ruleId,
    ...(ruleIndex === undefined ? {} : { ruleIndex }),
    level: finding.result === 'error' ? ('warning' as const) : ('error' as const),
    message: { text: `${who}: ${oneLine(finding.message)}` },
    locations: [
      {
        logicalLocations: [
          {
            fullyQualifiedName: `/subscriptions/${verdict.subscriptionId}`,
            name: verdict.displayName === '' ? verdict.subscriptionId : verdict.displayName,
            kind: 'resource',
          },
        ],
      },
    ],
    partialFingerprints: { [FINGERPRINT_KEY]: `${verdict.subscriptionId}/${finding.ruleId}` },
    properties: {
      subscriptionId: verdict.subscriptionId,
      displayName: verdict.displayName,
      status: verdict.status,
      result: finding.result,
    },
  };
}

function helpText(rule: Rule): string {
  const r = rule.remediation;
  const parts = [r.summary];
  if (r.portal.length > 0) parts.push(['In the portal:', ...r.portal.map((step, i) => `${i + 1}. ${step}`)].join('\n'));
  if (r.azCli.trim() !== '') parts.push(`Azure CLI:\n${r.azCli.trimEnd()}`);
  if (r.bicep.trim() !== '') parts.push(`Bicep:\n${r.bicep.trimEnd()}`);
  if (r.terraform.trim() !== '') parts.push(`Terraform (azapi provider):\n${r.terraform.trimEnd()}`);
  const references = referenceLines(rule);
  if (references.length > 0) parts.push(['References:', ...references].join('\n'));
  return parts.join('\n\n');
}

/** One line per reference, `- …`, for both help forms (plain text shows the Markdown code span as it is). */
function referenceLines(rule: Rule): string[] {
  return [
    ...rule.references.cis.map((c) => `- ${c.benchmark} ${c.version}, ${c.recommendation}: ${c.title}`),
    ...rule.references.mcsb.map((m) => `- Microsoft cloud security benchmark ${m}`),
    ...rule.references.azurePolicy.map((p) => `- Azure Policy: ${p.displayName} (\`${p.definitionId}\`)`),
    ...rule.references.frameworks.map((f) => `- ${f.framework} ${f.control} ${f.title} — ${f.reason}`),
  ];
}

function helpMarkdown(rule: Rule): string {
  const r = rule.remediation;
  const parts = [`**${rule.title}**`, rule.rationale, r.summary];
  if (r.portal.length > 0) parts.push(['In the portal:', '', ...r.portal.map((step, i) => `${i + 1}. ${step}`)].join('\n'));
  if (r.azCli.trim() !== '') parts.push(`Azure CLI:\n\n${fenced('sh', r.azCli)}`);
  if (r.bicep.trim() !== '') parts.push(`Bicep:\n\n${fenced('bicep', r.bicep)}`);
  if (r.terraform.trim() !== '') parts.push(`Terraform (azapi provider):\n\n${fenced('hcl', r.terraform)}`);
  const references = referenceLines(rule);
  if (references.length > 0) parts.push(['References:', '', ...references].join('\n'));
  return parts.join('\n\n');
}

function fenced(language: string, code: string): string {
  const longestRun = Math.max(0, ...Array.from(code.matchAll(/`+/g), (m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  return `${fence}${language}\n${code.trimEnd()}\n${fence}`;
}

function pascalCase(id: string): string {
  return id
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}
