/**
 * One self-contained HTML page (`scan --format html`, and the base of the HTTP API's report):
 * compliance at a glance, the failing subscriptions with their failed rules and messages, how to
 * fix each failing rule, and the rest collapsed. Each non-compliant subscription with a merged fix
 * (docs/reference/remediation.md) carries its own command, collapsed in its row: its contact with only what fails
 * changed, so the command a reader copies never wipes an address the subscription has.
 *
 * Self-contained: inline CSS, system fonts, inline SVG, no external script, font, image or
 * stylesheet, so it works offline and from a mail attachment; a Content-Security-Policy meta
 * tag forbids any other load and allows only the page's own inline script (by its hash). The
 * script (filtering, opening sections before printing) is optional: the page is fully useful
 * without it. Light and dark follow `prefers-color-scheme`; printing expands every section.
 * The stylesheet and the script are the files under assets/, inlined as text by the bundler
 * (`?raw`, see assets/text-imports.d.ts).
 *
 * Every value is written through the `html` template tag (html-tag.ts): escaped, bidirectional
 * controls shown, unless it is markup the tag built.
 */
import { createHash } from 'node:crypto';
import type { ScanReport, SubscriptionStatus, SubscriptionVerdict } from '../core/model.js';
import type { Rule } from '../core/rules/rule.js';
import STYLE from './assets/report.css?raw';
import SCRIPT_FILE from './assets/report.js?raw';
import { html, Html } from './html-tag.js';
import { failingRow, otherRow, statusBadge, type SubscriptionNote } from './html-rows.js';
import { complianceRate, formatDuration, formatPercent, formatUtc, STATUS_LABELS } from './display.js';
import { fixCounts, isFailingStatus } from './findings.js';
import type { RenderContext } from './render-context.js';
import { ruleReferencesHtml } from './html-references.js';
import { inTriageOrder } from './triage-order.js';

export interface HtmlReportOptions {
  /**
   * Extra sections (built with the `html` tag, so values stay escaped) placed after "at a
   * glance", e.g. the HTTP API's trend over past scans. They must not need scripts or loads:
   * the page's Content-Security-Policy allows neither.
   */
  extraSections?: readonly Html[];
  /**
   * A short note shown under a subscription's name wherever the page lists it (built with the
   * `html` tag), e.g. the operator page's account of contact-watch's last write of its contact.
   */
  subscriptionNote?: SubscriptionNote;
}

export function renderHtmlReport(report: ScanReport, context: RenderContext, options: HtmlReportOptions = {}): string {
  return [...htmlReportParts(report, context, options)].join('');
}

/**
 * The page in parts, so that a page of 50,000 subscriptions is never one string. What the top of
 * the page says (the counts, the rate, each rule's number of failing subscriptions) is taken from
 * the summary and counted in a first pass over the verdicts, which are put in triage order as a
 * list of references; then the page is written from top to bottom, one subscription row at a time.
 */
export function* htmlReportParts(report: ScanReport, context: RenderContext, options: HtmlReportOptions = {}): Generator<string> {
  const s = report.summary;
  const rate = complianceRate(s);
  const ordered = inTriageOrder(report.subscriptions);
  const failing = ordered.filter((v) => isFailingStatus(v.status));
  const failingCount = s.noncompliant + s.error;
  const ruleCounts = fixCounts(report.subscriptions); // "Rules" and "How to fix" give the same number per rule
  const title = `Security contacts: ${formatPercent(rate)} compliant, ${failingCount} failing (${formatUtc(report.scan.finishedAt)})`;

  yield html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${new Html(CONTENT_SECURITY_POLICY)}">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="contact-watch">
<title>${title}</title>
<style>
${new Html(STYLE)}</style>
</head>
<body>
<header class="page-header">
  <div>
    <p class="eyebrow">contact-watch report</p>
    <h1>Microsoft Defender for Cloud security contacts</h1>
  </div>
  ${scanMeta(report)}
</header>
<main>
${scanBanner(report)}
${glance(report)}
${options.extraSections ?? []}
`.markup;
  yield* failingSection(failing, s.subscriptions, context, options);
  yield html`
${rulesSection(report, ruleCounts, context)}
${fixSection(failing, ruleCounts, context)}
`.markup;
  yield* othersSection(ordered, context, options);
  yield html`
</main>
<footer>
  <p>Compliance is the share of judged subscriptions (compliant, non-compliant and error) that are compliant; exempt and skipped subscriptions are not counted. A subscription whose contact could not be read is never counted as compliant.</p>
  <p>Generated by contact-watch from scan ${report.scan.id}.</p>
</footer>
<script>${new Html(SCRIPT)}</script>
</body>
</html>
`.markup;
}

function scanMeta(report: ScanReport): Html {
  const duration = formatDuration(report.scan.startedAt, report.scan.finishedAt);
  return html`<dl class="scan-meta">
    <div><dt>Scan</dt><dd><span class="scan-status scan-${report.scan.status}">${report.scan.status}</span></dd></div>
    <div><dt>Finished</dt><dd><time datetime="${report.scan.finishedAt}">${formatUtc(report.scan.finishedAt)}</time></dd></div>
    ${duration ? html`<div><dt>Took</dt><dd>${duration}</dd></div>` : ''}
    <div><dt>Scan id</dt><dd><code>${report.scan.id}</code></dd></div>
  </dl>`;
}

function scanBanner(report: ScanReport): Html | '' {
  if (report.scan.status === 'partial') {
    return html`<p class="banner banner-warn" role="status"><strong>Partial scan.</strong> ${report.summary.error === 1 ? '1 subscription' : `${report.summary.error} subscriptions`} could not be read. They are listed as errors below and are never counted as compliant.</p>`;
  }
  if (report.scan.status === 'failed') {
    return html`<p class="banner banner-bad" role="alert"><strong>The scan failed.</strong> The results below are incomplete; do not read a missing subscription as compliant.</p>`;
  }
  return '';
}

const GLANCE_ORDER: readonly SubscriptionStatus[] = ['noncompliant', 'error', 'compliant', 'exempt', 'skipped'];

function glance(report: ScanReport): Html {
  const s = report.summary;
  const rate = complianceRate(s);
  return html`<section class="glance panel" aria-labelledby="glance-title">
  <h2 id="glance-title" class="visually-hidden">At a glance</h2>
  <div class="rate">
    ${donut(s)}
    <div class="rate-text">
      <p class="rate-title">Compliance</p>
      <p class="rate-caption"><strong>${rate.compliant}</strong> of <strong>${rate.judged}</strong> judged subscriptions have a compliant security contact</p>
      <ul class="legend">
        ${(['compliant', 'noncompliant', 'error'] as const).map(
          (status) => html`<li><span class="swatch sw-${status}" aria-hidden="true"></span>${STATUS_LABELS[status]} ${s[status]}</li>`,
        )}
      </ul>
    </div>
  </div>
  <ul class="counts">
    ${GLANCE_ORDER.map(
      (status) => html`<li class="count c-${status}${s[status] > 0 && isFailingStatus(status) ? ' alarm' : ''}">
      <span class="count-number">${s[status]}</span>
      <span class="count-label">${STATUS_LABELS[status]}</span>
      <span class="count-hint">${STATUS_HINTS[status]}</span>
    </li>`,
    )}
    <li class="count c-total"><span class="count-number">${s.subscriptions}</span><span class="count-label">Subscriptions</span><span class="count-hint">in the scanned scope</span></li>
  </ul>
</section>`;
}

const STATUS_HINTS: Record<SubscriptionStatus, string> = {
  noncompliant: 'a required rule fails',
  error: 'contact could not be read',
  compliant: 'every required rule passes',
  exempt: 'an exemption is active',
  skipped: 'disabled, deleted or expired',
};

/** A donut of the judged subscriptions (compliant, noncompliant, error) with the rate inside. */
function donut(summary: ScanReport['summary']): Html {
  const rate = complianceRate(summary);
  const radius = 15.915494; // circumference 100, so dash lengths are percentages
  let offset = 0;
  const segments = (['compliant', 'noncompliant', 'error'] as const)
    .filter((status) => summary[status] > 0)
    .map((status) => {
      const share = (summary[status] * 100) / rate.judged;
      const segment = html`<circle class="seg seg-${status}" cx="21" cy="21" r="${radius}" stroke-dasharray="${share.toFixed(3)} ${(100 - share).toFixed(3)}" stroke-dashoffset="${(25 - offset).toFixed(3)}"><title>${STATUS_LABELS[status]}: ${summary[status]}</title></circle>`;
      offset += share;
      return segment;
    });
  const label =
    rate.percent === null
      ? 'No subscription was judged.'
      : `${rate.percent}% compliant: ${summary.compliant} compliant, ${summary.noncompliant} non-compliant, ${summary.error} error.`;
  return html`<svg class="donut" viewBox="0 0 42 42" role="img" aria-label="${label}">
      <circle class="seg-track" cx="21" cy="21" r="${radius}"></circle>
      ${segments}
      <text x="21" y="21" class="donut-text">${formatPercent(rate)}</text>
    </svg>`;
}

function* failingSection(
  failing: SubscriptionVerdict[],
  total: number,
  context: RenderContext,
  options: HtmlReportOptions,
): Generator<string> {
  if (failing.length === 0) {
    yield html`<section class="panel" aria-labelledby="failing-title">
  <h2 id="failing-title">Failing subscriptions</h2>
  <p class="all-good">${total === 0 ? 'No subscriptions were found in the scanned scope.' : 'No subscription is failing. Every judged subscription has a security contact that meets the policy.'}</p>
</section>`.markup;
    return;
  }
  yield html`<section class="panel" aria-labelledby="failing-title">
  <div class="section-head">
    <h2 id="failing-title">Failing subscriptions <span class="pill">${failing.length}</span></h2>
    <div class="filter noprint" hidden><label>Filter <input type="search" id="filter" placeholder="name, id, rule or e-mail" autocomplete="off"></label></div>
  </div>
  <div class="table-wrap">
  <table class="subs failing">
    <thead><tr><th scope="col">Subscription</th><th scope="col">Status</th><th scope="col">What fails</th><th scope="col">Current contact</th><th scope="col" class="noprint">Portal</th></tr></thead>
    <tbody>
      `.markup;
  for (const verdict of failing) yield failingRow(verdict, context, options.subscriptionNote).markup;
  yield `
    </tbody>
  </table>
  </div>
</section>`;
}

/** Per rule: on how many of the subscriptions whose contact was read it fails, counted as fixCounts counts. */
function rulesSection(report: ScanReport, counts: ReadonlyMap<string, number>, context: RenderContext): Html | '' {
  const readable = report.summary.compliant + report.summary.noncompliant;
  if (context.rules.length === 0 || readable === 0) return '';
  const rows = context.rules.map((rule) => {
    const failed = counts.get(rule.id) ?? 0;
    const share = (failed * 100) / readable;
    return html`<tr>
        <td><span class="rule-title">${rule.title}</span> <code class="rule-id">${rule.id}</code></td>
        <td class="num">${failed}</td>
        <td class="bar-cell"><svg class="bar" viewBox="0 0 100 6" preserveAspectRatio="none" role="img" aria-label="${Math.round(share)}% of the subscriptions whose contact was read fail this rule"><rect class="bar-track" width="100" height="6" rx="1"></rect>${failed > 0 ? html`<rect class="bar-fail" width="${Math.max(share, 1).toFixed(2)}" height="6" rx="1"></rect>` : ''}</svg></td>
      </tr>`;
  });
  return html`<section class="panel" aria-labelledby="rules-title">
  <h2 id="rules-title">Rules</h2>
  <p class="muted">Each number is how many of the ${readable} subscription${readable === 1 ? '' : 's'} whose contact was read fail the rule${[...counts.values()].some((n) => n > 0) ? '; "How to fix" below counts the same way' : ''}. A subscription without a security contact fails every rule but is counted once, under <code>contact-exists</code>: creating the contact is its fix. A rule the policy does not require is counted too, but does not make a subscription non-compliant. Exempt subscriptions, and those whose contact could not be read, are not counted.</p>
  <table class="rules">
    <thead><tr><th scope="col">Rule</th><th scope="col" class="num">Subscriptions failing</th><th scope="col"><span class="visually-hidden">Share</span></th></tr></thead>
    <tbody>${rows}</tbody>
  </table>
</section>`;
}

/** One collapsible remediation per rule that fails somewhere (counted as in "Rules", see fixCounts). */
function fixSection(failing: SubscriptionVerdict[], counts: ReadonlyMap<string, number>, context: RenderContext): Html | '' {
  const unreadable = failing.filter((v) => v.status === 'error').length;
  const fixes = context.rules.filter((rule) => (counts.get(rule.id) ?? 0) > 0);
  if (fixes.length === 0 && unreadable === 0) return '';
  return html`<section class="panel" aria-labelledby="fix-title">
  <h2 id="fix-title">How to fix</h2>
  ${fixes.map((rule) => fixDetails(rule, counts.get(rule.id) ?? 0, context))}
  ${
    unreadable > 0
      ? html`<details class="fix" id="fix-error">
    <summary><span class="rule rule-error">error</span> The contact could not be read <span class="pill">${unreadable} subscription${unreadable === 1 ? '' : 's'}</span></summary>
    <div class="fix-body">
      <p>A subscription whose security contact could not be read is never counted as compliant. The table gives the reason, with the service's full answer under it. Check that the scanning identity holds <strong>Reader</strong> and <strong>Security Reader</strong> on the subscription, then scan again.</p>
    </div>
  </details>`
      : ''
  }
</section>`;
}

function fixDetails(rule: Rule, count: number, context: RenderContext): Html {
  const r = rule.remediation;
  const restBody = r.restBody === undefined || r.restBody === null ? '' : JSON.stringify(r.restBody, null, 2);
  return html`<details class="fix" id="fix-${rule.id}">
    <summary><span class="rule">${rule.id}</span> ${rule.title} <span class="pill">${count} subscription${count === 1 ? '' : 's'} failing</span></summary>
    <div class="fix-body">
      <p class="rationale">${rule.rationale}</p>
      <p class="fix-summary"><strong>Fix:</strong> ${r.summary}</p>
      ${r.portal.length > 0 ? html`<h3>In the portal</h3><ol>${r.portal.map((step) => html`<li>${step}</li>`)}</ol>` : ''}
      ${r.azCli.trim() !== '' ? html`<h3>Azure CLI</h3><pre><code>${r.azCli.trimEnd()}</code></pre>` : ''}
      ${r.bicep.trim() !== '' ? html`<h3>Bicep</h3><pre><code>${r.bicep.trimEnd()}</code></pre>` : ''}
      ${r.terraform.trim() !== '' ? html`<h3>Terraform <span class="muted">(azapi provider)</span></h3><pre><code>${r.terraform.trimEnd()}</code></pre>` : ''}
      ${restBody !== '' ? html`<h3>REST request body <span class="muted">(PUT …/providers/Microsoft.Security/securityContacts/default?api-version=2023-12-01-preview)</span></h3><pre><code>${restBody}</code></pre>` : ''}
      ${ruleReferencesHtml(rule, context)}
    </div>
  </details>`;
}

/** Compliant, exempt and skipped subscriptions, each group collapsed. */
function* othersSection(ordered: SubscriptionVerdict[], context: RenderContext, options: HtmlReportOptions): Generator<string> {
  const groups = (['compliant', 'exempt', 'skipped'] as const)
    .map((status) => ({ status, verdicts: ordered.filter((v) => v.status === status) }))
    .filter((group) => group.verdicts.length > 0);
  if (groups.length === 0) return;
  yield `<section class="panel" aria-labelledby="others-title">
  <h2 id="others-title">Other subscriptions</h2>
  `;
  for (const { status, verdicts } of groups) {
    yield html`<details class="others">
    <summary>${statusBadge(status)} <span class="pill">${verdicts.length}</span> <span class="muted">${STATUS_HINTS[status]}</span></summary>
    <div class="table-wrap">
    <table class="subs">
      <thead><tr><th scope="col">Subscription</th><th scope="col">State</th><th scope="col">Contact</th><th scope="col">Notes</th><th scope="col" class="noprint">Portal</th></tr></thead>
      <tbody>
        `.markup;
    for (const verdict of verdicts) yield otherRow(verdict, context, options.subscriptionNote).markup;
    yield `
      </tbody>
    </table>
    </div>
  </details>`;
  }
  yield `
</section>`;
}

/**
 * Optional behaviour (assets/report.js): shows the filter box (hidden without script), filters the
 * subscription rows, opens the remediation a rule link points at, and opens every section for
 * printing. The page carries the file's text without its final line break, and the policy below
 * allows exactly that text by its hash.
 */
const SCRIPT = SCRIPT_FILE.trimEnd();

const SCRIPT_HASH = createHash('sha256').update(SCRIPT).digest('base64');

/** Nothing may load from anywhere; only the inline style and the page's own script run. (A constant without `"`, written unescaped.) */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "style-src 'unsafe-inline'",
  `script-src 'sha256-${SCRIPT_HASH}'`,
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');
