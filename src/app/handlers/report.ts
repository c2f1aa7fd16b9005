/**
 * GET /api/report — one self-contained HTML page (CONTRACT §8): compliance at a glance, the
 * failing subscriptions with their failed rules and each owner's next step, the exemptions and
 * their expiry (expired ones marked), and an SVG chart of compliance over the stored scan runs.
 *
 * Built from what Table Storage holds, nothing is read from Azure: the stored records (a
 * ScanReport view of store.loadSubscriptions(), `gone` left out, active exemptions applied as the
 * next scan would), the last 60 scan runs (trend) and the exemptions. The page is the CLI's HTML
 * report (src/report/html.ts) with three extra sections. It loads nothing: inline CSS and SVG,
 * system fonts; the page's Content-Security-Policy (meta, and the same as a header here, plus
 * `frame-ancestors 'none'`) forbids any other load. Every value is escaped by the `html` tag.
 */
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { applyExemptions, isExemptionActive, utcDay } from '../../core/exemptions.js';
import { SUBSCRIPTION_STATUSES } from '../../core/model.js';
import type { ScanReport, ScanStatus, SubscriptionVerdict } from '../../core/model.js';
import { RULES, ruleById } from '../../core/rules/index.js';
import type { Exemption, ScanRunRecord, SubscriptionRecord } from '../../core/state-model.js';
import { renderHtmlReport } from '../../report/html.js';
import { html, type Html } from '../../report/html-tag.js';
import { compareCodeUnits, inTriageOrder } from '../../report/triage-order.js';
import { emailNotificationsUrl } from '../../core/azure-portal.js';
import { formatUtc } from '../../report/display.js';
import { isFailingStatus, rulesToFix } from '../../report/findings.js';
import { renderTrendSection } from '../../report/trend.js';
import { jsonError, methodNotAllowed } from '../http.js';
import { readUndeliveredAlerts } from '../alerts.js';
import { looksLikeSecret } from '../log.js';
import { isGivenUp } from '../../alerts/outbox-admin.js';
import type { OutboxMessage } from '../../alerts/ports.js';
import type { AppDependencies } from '../types.js';

/** How many past scan runs the trend shows (at the default schedule, 30 hours). */
export const TREND_RUNS = 60;

export function createReportHandler(deps: AppDependencies): HttpHandler {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const wrongMethod = methodNotAllowed(request, 'GET', 'GET /api/report');
    if (wrongMethod) return wrongMethod;

    // The outbox is read best effort, beside the state: the page is about compliance, and says
    // when this part is missing.
    const undeliveredRead = readUndeliveredAlerts(deps).catch((error: unknown) => {
      deps.log(context, 'report.outboxUnavailable', { reason: readableReason(error) });
      return undefined;
    });
    let records: SubscriptionRecord[];
    let runs: ScanRunRecord[];
    let exemptions: Exemption[];
    try {
      [records, runs, exemptions] = await Promise.all([
        deps.store.loadSubscriptions(),
        deps.store.listScanRuns(TREND_RUNS),
        deps.store.listExemptions(),
      ]);
    } catch (error) {
      const reason = readableReason(error);
      deps.log(context, 'report.unavailable', { reason });
      return jsonError(
        503,
        'StorageUnavailable',
        `The report could not be built: the app's storage could not be read (${reason}). Try again; the app's log has the details under invocation id ${context.invocationId}.`,
      );
    }

    const undelivered = await undeliveredRead;
    const now = deps.clock();
    const report = storedStateReport(records, runs, exemptions, now);
    const page = renderHtmlReport(
      report,
      { rules: RULES, portalUrl: deps.settings.cloud.portalUrl },
      {
        extraSections: [
          renderTrendSection(runs),
          nextStepsSection(report.subscriptions, records, deps.settings.cloud.portalUrl, now),
          exemptionsSection(exemptions, records, now),
          alertEmailsSection(undelivered),
        ],
      },
    );
    deps.log(context, 'report.rendered', { subscriptions: report.summary.subscriptions, runs: runs.length, exemptions: exemptions.length, bytes: page.length });
    return {
      status: 200,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': `${pageContentSecurityPolicy(page)}; frame-ancestors 'none'`,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
      },
      body: page,
    };
  };
}

/**
 * The stored state as a ScanReport: every record but `gone` ones, active exemptions applied (an
 * exemption granted since the last scan counts at once; an expired one is shown as expired in its
 * section and ends at the next scan). `scan` describes the newest finished run, or the stored
 * state itself (id `stored-state`) when no run has finished.
 */
export function storedStateReport(records: readonly SubscriptionRecord[], runs: readonly ScanRunRecord[], exemptions: readonly Exemption[], now: Date): ScanReport {
  const verdicts = applyExemptions(
    records.filter((record) => record.status !== 'gone').map(recordVerdict),
    exemptions,
    now,
  ).sort((a, b) => compareCodeUnits(a.subscriptionId, b.subscriptionId));
  const summary = { subscriptions: verdicts.length, compliant: 0, noncompliant: 0, exempt: 0, error: 0, skipped: 0 };
  for (const verdict of verdicts) summary[verdict.status] += 1;
  const newest = [...runs]
    .filter((run) => run.outcome !== 'running')
    .sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0))[0];
  const scan = newest
    ? { id: newest.scanId, startedAt: newest.startedAt, finishedAt: newest.finishedAt ?? newest.startedAt, status: newest.outcome as ScanStatus }
    : { id: 'stored-state', startedAt: now.toISOString(), finishedAt: now.toISOString(), status: 'succeeded' as const };
  return { schemaVersion: 1, scan, summary, subscriptions: verdicts };
}

function recordVerdict(record: SubscriptionRecord): SubscriptionVerdict {
  const status = record.status as SubscriptionVerdict['status'];
  return {
    subscriptionId: record.subscriptionId,
    displayName: record.displayName,
    state: record.state,
    status: (SUBSCRIPTION_STATUSES as readonly string[]).includes(status) ? status : 'error',
    source: record.source,
    contact: record.contact,
    findings: record.findings,
  };
}

/** The meta tag's policy (it carries the inline script's hash), to send as a header too. */
function pageContentSecurityPolicy(page: string): string {
  const match = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(page);
  return match?.[1] ?? "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";
}

/** Each failing subscription: since when, the last alert, and the one thing its owner should do next. */
function nextStepsSection(verdicts: readonly SubscriptionVerdict[], records: readonly SubscriptionRecord[], portalUrl: string, now: Date): Html {
  const failing = inTriageOrder(verdicts).filter((verdict) => isFailingStatus(verdict.status));
  if (failing.length === 0) return html``;
  const byId = new Map(records.map((record) => [record.subscriptionId, record]));
  return html`<section class="panel" aria-labelledby="next-steps-title">
  <style>${NEXT_STEPS_STYLE}</style>
  <h2 id="next-steps-title">Owners' next steps <span class="pill">${failing.length}</span></h2>
  <p class="muted">What each failing subscription's owner should do, failing longest first within each status. The details are in "Failing subscriptions" and "How to fix" below.</p>
  <div class="table-wrap">
  <table class="subs next-steps">
    <thead><tr><th scope="col">Subscription</th><th scope="col">Failing since</th><th scope="col">Last alert</th><th scope="col">Next step</th></tr></thead>
    <tbody>
      ${failing
        .map((verdict) => ({ verdict, record: byId.get(verdict.subscriptionId) }))
        .sort((a, b) => TRIAGE(a.verdict) - TRIAGE(b.verdict) || compareCodeUnits(a.record?.noncompliantSince ?? '', b.record?.noncompliantSince ?? ''))
        .map(({ verdict, record }) => {
          const since = record?.noncompliantSince ?? record?.statusSince ?? null;
          const url = emailNotificationsUrl(portalUrl, verdict.subscriptionId);
          return html`<tr class="step-${verdict.status}">
        <td><span class="sub-name"><bdi>${verdict.displayName === '' ? '(unknown name)' : verdict.displayName}</bdi></span><code class="sub-id">${verdict.subscriptionId}</code></td>
        <td>${since ? html`<time datetime="${since}">${formatUtc(since)}</time><span class="settings">${daysAgo(since, now)}</span>` : html`<span class="muted">unknown</span>`}</td>
        <td>${record?.lastAlertedAt ? html`<time datetime="${record.lastAlertedAt}">${formatUtc(record.lastAlertedAt)}</time>` : html`<span class="muted">not yet</span>`}</td>
        <td>${nextStep(verdict)}${url ? html` <a class="noprint" href="${url}" target="_blank" rel="noopener noreferrer">Email notifications<span aria-hidden="true"> ↗</span></a>` : ''}</td>
      </tr>`;
        })}
    </tbody>
  </table>
  </div>
</section>`;
}

const TRIAGE = (verdict: SubscriptionVerdict): number => (verdict.status === 'noncompliant' ? 0 : 1);

function nextStep(verdict: SubscriptionVerdict): Html {
  if (verdict.status === 'error') {
    return html`<strong>Let contact-watch read it:</strong> grant the app's identity Reader and Security Reader on the subscription (<a href="#fix-error">details</a>).`;
  }
  const rules = rulesToFix(verdict);
  const steps = rules.map((id) => ({ id, summary: ruleById(id).remediation.summary }));
  if (steps.length === 0) return html`<span class="muted">Fix the failing rules below.</span>`;
  return html`<ul class="failures">${steps.map((step) => html`<li><a class="rule" href="#fix-${step.id}">${step.id}</a> ${step.summary}</li>`)}</ul>`;
}

function daysAgo(iso: string, now: Date): string {
  const days = Math.floor((now.getTime() - Date.parse(iso)) / 86_400_000);
  if (!Number.isFinite(days) || days < 0) return '';
  return days === 0 ? 'today' : days === 1 ? '1 day ago' : `${days} days ago`;
}

/** Every exemption with its owner and expiry; expired ones marked (they no longer count). */
function exemptionsSection(exemptions: readonly Exemption[], records: readonly SubscriptionRecord[], now: Date): Html {
  if (exemptions.length === 0) {
    return html`<section class="panel" aria-labelledby="exemptions-title">
  <h2 id="exemptions-title">Exemptions</h2>
  <p class="muted">No subscription is exempt. An exemption needs a reason, an owner and an expiry at most a year ahead (<code>contact-watch exempt</code>).</p>
</section>`;
  }
  const names = new Map(records.map((record) => [record.subscriptionId, record.displayName]));
  const today = utcDay(now);
  const rows = [...exemptions]
    .map((exemption) => ({ exemption, active: isExemptionActive(exemption, now) }))
    .sort((a, b) => Number(b.active) - Number(a.active) || compareCodeUnits(a.exemption.expiresOn, b.exemption.expiresOn));
  const expired = rows.filter((row) => !row.active).length;
  return html`<section class="panel" aria-labelledby="exemptions-title">
  <style>${EXEMPTIONS_STYLE}</style>
  <h2 id="exemptions-title">Exemptions <span class="pill">${rows.length - expired} active</span>${expired > 0 ? html` <span class="pill pill-expired">${expired} expired</span>` : ''}</h2>
  <p class="muted">An exemption counts until the end of its expiry day (UTC). An expired one no longer counts: its subscription is judged again at the next scan.</p>
  <div class="table-wrap">
  <table class="subs exemptions">
    <thead><tr><th scope="col">Subscription</th><th scope="col">Expires</th><th scope="col">Reason</th><th scope="col">Owner</th><th scope="col">Granted</th></tr></thead>
    <tbody>
      ${rows.map(({ exemption, active }) => {
        const name = names.get(exemption.subscriptionId.toLowerCase());
        return html`<tr class="${active ? 'exemption-active' : 'exemption-expired'}">
        <td><span class="sub-name"><bdi>${name === undefined || name === '' ? '(not in the stored state)' : name}</bdi></span><code class="sub-id">${exemption.subscriptionId}</code></td>
        <td><time datetime="${exemption.expiresOn}">${exemption.expiresOn}</time> ${active ? html`<span class="settings">${expiresIn(exemption.expiresOn, today)}</span>` : html`<span class="badge b-expired">Expired</span>`}</td>
        <td class="message">${exemption.reason}</td>
        <td><bdi>${exemption.owner}</bdi></td>
        <td><span class="settings">by <bdi>${exemption.createdBy}</bdi>, ${formatUtc(exemption.createdAt)}</span></td>
      </tr>`;
      })}
    </tbody>
  </table>
  </div>
</section>`;
}

/** The first line of an error's message, unless it might carry a secret. */
function readableReason(error: unknown): string {
  return error instanceof Error && !looksLikeSecret(error.message) ? (error.message.split('\n')[0] ?? '') : 'see the app log';
}

/** The alert e-mails not delivered: waiting ones counted, failed or given-up ones listed with the way to send them again. */
function alertEmailsSection(undelivered: readonly OutboxMessage[] | undefined): Html {
  if (undelivered === undefined) {
    return html`<section class="panel" aria-labelledby="alert-emails-title">
  <h2 id="alert-emails-title">Alert e-mails</h2>
  <p class="muted">The alert outbox could not be read; the app's log says why (<code>report.outboxUnavailable</code>).</p>
</section>`;
  }
  const givenUp = undelivered.filter((message) => isGivenUp(message.state));
  const waiting = undelivered.length - givenUp.length;
  if (undelivered.length === 0) {
    return html`<section class="panel" aria-labelledby="alert-emails-title">
  <h2 id="alert-emails-title">Alert e-mails</h2>
  <p class="muted">Every alert e-mail has been delivered.</p>
</section>`;
  }
  return html`<section class="panel" aria-labelledby="alert-emails-title">
  <h2 id="alert-emails-title">Alert e-mails${waiting > 0 ? html` <span class="pill">${waiting} waiting</span>` : ''}${givenUp.length > 0 ? html` <span class="pill pill-expired">${givenUp.length} not delivered</span>` : ''}</h2>
  <p class="muted">Waiting e-mails go out with the next alert run, within the sending rate. ${
    givenUp.length > 0
      ? html`E-mails the service failed, or that kept failing, are kept until someone sends them again: <code>contact-watch requeue &lt;operation id&gt;</code> (or <code>--all</code>) with <code>CONTACT_WATCH_STORAGE</code> set to this app's storage; <code>contact-watch outbox</code> lists them.`
      : ''
  }</p>
  ${
    givenUp.length > 0
      ? html`<div class="table-wrap">
  <table class="subs alert-emails">
    <thead><tr><th scope="col">Operation id</th><th scope="col">State</th><th scope="col">Composed</th><th scope="col">Subscriptions</th><th scope="col">Attempts</th><th scope="col">Last error</th></tr></thead>
    <tbody>
      ${givenUp.map(
        (message) => html`<tr>
        <td><code>${message.operationId}</code></td>
        <td>${message.state === 'dead' ? 'given up' : 'failed'}</td>
        <td>${formatUtc(message.createdAt)}</td>
        <td>${message.subscriptionIds.length}</td>
        <td>${message.attempts}</td>
        <td class="message">${message.lastError ?? ''}</td>
      </tr>`,
      )}
    </tbody>
  </table>
  </div>`
      : ''
  }
</section>`;
}

function expiresIn(expiresOn: string, today: string): string {
  const days = Math.round((Date.parse(`${expiresOn}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / 86_400_000);
  return days === 0 ? 'ends today' : days === 1 ? 'ends tomorrow' : `${days} days left`;
}

const NEXT_STEPS_STYLE = html`
.next-steps .failures li { margin: 0 0 4px; }
.next-steps .step-error .rule { color: var(--error); }
`;

const EXEMPTIONS_STYLE = html`
.b-expired { color: var(--noncompliant); background: var(--noncompliant-bg); }
.pill-expired { background: var(--noncompliant-bg); color: var(--noncompliant); }
.exemption-expired td { opacity: .75; }
.exemption-expired td:nth-child(2) { opacity: 1; }
`;
