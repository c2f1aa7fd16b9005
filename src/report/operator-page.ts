/**
 * The operator page (GET /api/report, docs/reference/http-api.md), from what Table Storage holds: compliance at a
 * glance, the failing subscriptions with their failed rules and each owner's next step, the
 * exemptions and their expiry (expired ones marked), the alert messages not delivered (on every
 * channel: e-mail, Teams, webhook), and an SVG
 * chart of compliance over the stored scan runs. Nothing is read from Azure.
 *
 * The stored records become a ScanReport (`gone` left out, active exemptions applied as the next
 * scan would), and the page is the CLI's HTML report (html.ts) with four extra sections: it loads
 * nothing, and its Content-Security-Policy is the report's. Each record's merged fix gives its
 * subscription's own command, and its last write by contact-watch (lastRemediation) is noted
 * wherever the page lists it. Every value is escaped by the `html` tag.
 */
import { ALERT_CHANNEL_LABELS, ALERT_CHANNELS, isGivenUp, type AlertChannel, type OutboxState } from '../core/outbox-states.js';
import { emailNotificationsUrl } from '../core/azure-portal.js';
import { applyExemptions, isExemptionActive, utcDay } from '../core/exemptions.js';
import { SUBSCRIPTION_STATUSES } from '../core/model.js';
import type { ContactRemediation, ScanReport, ScanStatus, SubscriptionVerdict } from '../core/model.js';
import type { Exemption, ScanRunRecord, SubscriptionRecord } from '../core/state-model.js';
import { formatUtc } from './display.js';
import { isFailingStatus, rulesToFix } from './findings.js';
import { html, type Html } from './html-tag.js';
import { CONTENT_SECURITY_POLICY, renderHtmlReport } from './html.js';
import { ruleById, type RenderContext } from './render-context.js';
import { compareCodeUnits, inTriageOrder } from './triage-order.js';
import { renderTrendSection } from './trend.js';

/** What the page is built from. */
/** What the page shows of an alert message the outbox has not delivered (an outbox message holds this and more). */
export interface UndeliveredMessage {
  operationId: string;
  channel: AlertChannel;
  state: OutboxState;
  createdAt: string;
  subscriptionIds: readonly string[];
  attempts: number;
  lastError: string | null;
}

export interface OperatorPageInput {
  records: readonly SubscriptionRecord[];
  /** The stored scan runs shown in the trend, newest first. */
  runs: readonly ScanRunRecord[];
  exemptions: readonly Exemption[];
  /** The alert messages not delivered yet, on any channel; undefined when the outbox could not be read (the page says so). */
  undelivered: readonly UndeliveredMessage[] | undefined;
  /** "Now" for the page: exemptions' expiry, how long ago something failed. */
  now: Date;
}

export interface OperatorPage {
  html: string;
  /** The policy the page's meta tag carries, to send as a header too. */
  contentSecurityPolicy: string;
  /** How many subscriptions the page shows. */
  subscriptions: number;
}

export function renderOperatorPage(input: OperatorPageInput, context: RenderContext): OperatorPage {
  const report = storedStateReport(input.records, input.runs, input.exemptions, input.now);
  const repairs = new Map(
    input.records.flatMap((record) => (record.lastRemediation ? [[record.subscriptionId, record.lastRemediation]] : [])),
  );
  const repairNote = (subscriptionId: string) => {
    const repair = repairs.get(subscriptionId);
    return repair ? remediationNote(repair) : undefined;
  };
  const page = renderHtmlReport(report, context, {
    extraSections: [
      renderTrendSection(input.runs),
      nextStepsSection(report.subscriptions, input.records, context, input.now, repairNote),
      exemptionsSection(input.exemptions, input.records, input.now),
      alertMessagesSection(input.undelivered),
    ],
    subscriptionNote: repairNote,
  });
  return { html: page, contentSecurityPolicy: CONTENT_SECURITY_POLICY, subscriptions: report.summary.subscriptions };
}

/**
 * The stored state as a ScanReport: every record but `gone` ones, active exemptions applied (an
 * exemption granted since the last scan counts at once; an expired one is shown as expired in its
 * section and ends at the next scan). `scan` describes the newest finished run, or the stored
 * state itself (id `stored-state`) when no run has finished.
 */
function storedStateReport(
  records: readonly SubscriptionRecord[],
  runs: readonly ScanRunRecord[],
  exemptions: readonly Exemption[],
  now: Date,
): ScanReport {
  const verdicts = applyExemptions(records.filter((record) => record.status !== 'gone').map(recordVerdict), exemptions, now).sort((a, b) =>
    compareCodeUnits(a.subscriptionId, b.subscriptionId),
  );
  const summary = { subscriptions: verdicts.length, compliant: 0, noncompliant: 0, exempt: 0, error: 0, skipped: 0 };
  for (const verdict of verdicts) summary[verdict.status] += 1;
  const newest = [...runs]
    .filter((run) => run.outcome !== 'running')
    .sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0))[0];
  const scan = newest
    ? {
        id: newest.scanId,
        startedAt: newest.startedAt,
        finishedAt: newest.finishedAt ?? newest.startedAt,
        status: newest.outcome as ScanStatus,
      }
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
    ...(record.fix ? { fix: record.fix } : {}),
  };
}

/** contact-watch's last write of a subscription's contact, in a line: when, by whom or what, and how it ended. */
function remediationNote(repair: ContactRemediation): Html {
  const when = html`<time datetime="${repair.at}">${formatUtc(repair.at)}</time>`;
  switch (repair.outcome) {
    case 'fixed':
      return html`<span class="settings remediation remediation-fixed">Repaired automatically at ${when} (<bdi>${repair.by}</bdi>)</span>`;
    case 'failed':
      return html`<span class="settings remediation remediation-failed">Automatic repair failed at ${when} (<bdi>${repair.by}</bdi>)${repair.reason ? html`: ${repair.reason}` : ''}</span>`;
    case 'sent':
      // The sender stopped before it recorded how the write ended: the next reading shows the contact.
      return html`<span class="settings remediation remediation-failed">A repair was sent at ${when} (<bdi>${repair.by}</bdi>); how it ended was not recorded</span>`;
  }
}

/** Each failing subscription: since when, the last alert, and the one thing its owner should do next. */
function nextStepsSection(
  verdicts: readonly SubscriptionVerdict[],
  records: readonly SubscriptionRecord[],
  context: RenderContext,
  now: Date,
  note: (subscriptionId: string) => Html | undefined,
): Html {
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
        .sort(
          (a, b) =>
            TRIAGE(a.verdict) - TRIAGE(b.verdict) || compareCodeUnits(a.record?.noncompliantSince ?? '', b.record?.noncompliantSince ?? ''),
        )
        .map(({ verdict, record }) => {
          const since = record?.noncompliantSince ?? record?.statusSince ?? null;
          const url = emailNotificationsUrl(context.portalUrl, verdict.subscriptionId);
          return html`<tr class="step-${verdict.status}">
        <td><span class="sub-name"><bdi>${verdict.displayName === '' ? '(unknown name)' : verdict.displayName}</bdi></span><code class="sub-id">${verdict.subscriptionId}</code>${note(verdict.subscriptionId)}</td>
        <td>${since ? html`<time datetime="${since}">${formatUtc(since)}</time><span class="settings">${daysAgo(since, now)}</span>` : html`<span class="muted">unknown</span>`}</td>
        <td>${record?.lastAlertedAt ? html`<time datetime="${record.lastAlertedAt}">${formatUtc(record.lastAlertedAt)}</time>` : html`<span class="muted">not yet</span>`}</td>
        <td>${nextStep(verdict, context)}${url ? html` <a class="noprint" href="${url}" target="_blank" rel="noopener noreferrer">Email notifications<span aria-hidden="true"> ↗</span></a>` : ''}</td>
      </tr>`;
        })}
    </tbody>
  </table>
  </div>
</section>`;
}

const TRIAGE = (verdict: SubscriptionVerdict): number => (verdict.status === 'noncompliant' ? 0 : 1);

function nextStep(verdict: SubscriptionVerdict, context: RenderContext): Html {
  if (verdict.status === 'error') {
    return html`<strong>Let contact-watch read it:</strong> grant the app's identity Reader and Security Reader on the subscription (<a href="#fix-error">details</a>).`;
  }
  const rules = rulesToFix(verdict);
  const steps = rules.flatMap((id) => {
    const rule = ruleById(context, id);
    return rule ? [{ id, summary: rule.remediation.summary }] : [];
  });
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

/**
 * The alert messages not delivered, on every channel: waiting ones counted, failed or given-up ones
 * listed with their channel and the way to send them again.
 */
function alertMessagesSection(undelivered: readonly UndeliveredMessage[] | undefined): Html {
  if (undelivered === undefined) {
    return html`<section class="panel" aria-labelledby="alert-messages-title">
  <h2 id="alert-messages-title">Alert messages</h2>
  <p class="muted">The alert outbox could not be read; the app's log says why (<code>report.outboxUnavailable</code>).</p>
</section>`;
  }
  const givenUp = undelivered.filter((message) => isGivenUp(message.state));
  const waiting = undelivered.length - givenUp.length;
  if (undelivered.length === 0) {
    return html`<section class="panel" aria-labelledby="alert-messages-title">
  <h2 id="alert-messages-title">Alert messages</h2>
  <p class="muted">Every alert message has been delivered, on every channel.</p>
</section>`;
  }
  return html`<section class="panel" aria-labelledby="alert-messages-title">
  <h2 id="alert-messages-title">Alert messages${waiting > 0 ? html` <span class="pill">${waiting} waiting</span>` : ''}${givenUp.length > 0 ? html` <span class="pill pill-expired">${givenUp.length} not delivered</span>` : ''}</h2>
  <p class="muted">${
    waiting > 0
      ? html`Waiting (${perChannel(undelivered.filter((message) => !isGivenUp(message.state)))}): they go out with the next alert run, within each channel's sending rate. `
      : ''
  }${
    givenUp.length > 0
      ? html`Messages the channel refused, or that kept failing, are kept until someone sends them again: <code>contact-watch requeue &lt;operation id&gt;</code> (or <code>--all</code>) with <code>CONTACT_WATCH_STORAGE</code> set to this app's storage; <code>contact-watch outbox</code> lists them.`
      : ''
  }</p>
  ${
    givenUp.length > 0
      ? html`<div class="table-wrap">
  <table class="subs alert-messages">
    <thead><tr><th scope="col">Operation id</th><th scope="col">Channel</th><th scope="col">State</th><th scope="col">Composed</th><th scope="col">Subscriptions</th><th scope="col">Attempts</th><th scope="col">Last error</th></tr></thead>
    <tbody>
      ${givenUp.map(
        (message) => html`<tr>
        <td><code>${message.operationId}</code></td>
        <td>${ALERT_CHANNEL_LABELS[message.channel]}</td>
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

/** `e-mail 2, Teams 1`: how many of the messages each channel has, in the channels' order. */
function perChannel(messages: readonly UndeliveredMessage[]): string {
  return ALERT_CHANNELS.map(
    (channel) => [ALERT_CHANNEL_LABELS[channel], messages.filter((message) => message.channel === channel).length] as const,
  )
    .filter(([, count]) => count > 0)
    .map(([label, count]) => `${label} ${count}`)
    .join(', ');
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
