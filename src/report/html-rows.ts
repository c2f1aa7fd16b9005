/**
 * The subscription rows of the HTML report (html.ts): a failing subscription with what fails and its
 * own fix, and a compliant, exempt or skipped one. Every value goes through the `html` tag.
 */
import { RULE_IDS } from '../core/model.js';
import type { SubscriptionStatus, SubscriptionVerdict } from '../core/model.js';
import { emailNotificationsUrl } from '../core/azure-portal.js';
import { describeContact, shortReason, STATUS_LABELS } from './display.js';
import { failingFindings, groupedFailures, type FailureGroup } from './findings.js';
import { html, type Html } from './html-tag.js';
import type { RenderContext } from './render-context.js';
import { subscriptionFixHtml } from './subscription-fix.js';

/** A short note shown under a subscription's name (HtmlReportOptions.subscriptionNote). */
export type SubscriptionNote = (subscriptionId: string) => Html | undefined;

/** A row of the failing table: what fails and the subscription's own fix, its contact, its portal page. */
export function failingRow(verdict: SubscriptionVerdict, context: RenderContext, note: SubscriptionNote | undefined): Html {
  return html`<tr data-filter="${filterText(verdict)}">
        <td>${subscriptionCell(verdict, note)}</td>
        <td>${statusBadge(verdict.status)}</td>
        <td><ul class="failures">${groupedFailures(verdict).map((group) => html`<li>${failureLabels(group)}${failureMessage(group)}</li>`)}</ul>${subscriptionFixHtml(verdict)}</td>
        <td>${contactCell(verdict)}</td>
        <td class="noprint">${portalLink(verdict, context)}</td>
      </tr>`;
}

/** A row of a collapsed group of compliant, exempt or skipped subscriptions. */
export function otherRow(verdict: SubscriptionVerdict, context: RenderContext, note: SubscriptionNote | undefined): Html {
  return html`<tr data-filter="${filterText(verdict)}">
          <td>${subscriptionCell(verdict, note)}</td>
          <td>${verdict.state}</td>
          <td>${contactCell(verdict)}</td>
          <td>${otherNotes(verdict)}</td>
          <td class="noprint">${portalLink(verdict, context)}</td>
        </tr>`;
}

/** A failure's message; for a read that failed, its short reason, with the service's whole answer (some sixty words for a 403) one click away. */
function failureMessage(group: FailureGroup): Html {
  const reason = group.result === 'error' ? shortReason(group.message) : group.message;
  if (reason === group.message) return html`<span class="message">${group.message}</span>`;
  return html`<span class="message">${reason}</span><details class="full-answer"><summary>The service's full answer</summary><p class="message">${group.message}</p></details>`;
}

/** Rule chips linking to their remediation; an unreadable contact is one "could not be read" chip. */
function failureLabels(group: FailureGroup): Html {
  if (group.result === 'error') {
    const label = group.ruleIds.length === RULE_IDS.length ? 'could not be read' : `${group.ruleIds.join(', ')}: error`;
    return html`<a class="rule rule-error" href="#fix-error">${label}</a> `;
  }
  return html`${group.ruleIds.map((id) => html`<a class="rule" href="#fix-${id}">${id}</a> `)}`;
}

function subscriptionCell(verdict: SubscriptionVerdict, note: SubscriptionNote | undefined): Html {
  return html`<span class="sub-name"><bdi>${verdict.displayName === '' ? '(unknown name)' : verdict.displayName}</bdi></span>
          <code class="sub-id">${verdict.subscriptionId}</code>${note?.(verdict.subscriptionId)}`;
}

function contactCell(verdict: SubscriptionVerdict): Html {
  if (verdict.status === 'error' || verdict.status === 'skipped') return html`<span class="muted">not read</span>`;
  if (verdict.contact.shape === 'none') return html`<span class="muted">no contact</span>`;
  const c = describeContact(verdict);
  return html`${verdict.contact.emails.length > 0 ? html`<ul class="emails">${verdict.contact.emails.map((e) => html`<li><bdi>${e}</bdi></li>`)}</ul>` : html`<span class="muted">no e-mail address</span>`}
          <span class="settings">alerts ${c.alerts} · roles ${c.roles} · attack paths ${c.attackPaths}</span>`;
}

function portalLink(verdict: SubscriptionVerdict, context: RenderContext): Html | '' {
  const url = emailNotificationsUrl(context.portalUrl, verdict.subscriptionId);
  if (url === undefined) return '';
  return html`<a class="portal" href="${url}" target="_blank" rel="noopener noreferrer" title="Defender for Cloud › Environment settings › Email notifications">Email notifications<span aria-hidden="true"> ↗</span></a>`;
}

export function statusBadge(status: SubscriptionStatus): Html {
  return html`<span class="badge b-${status}">${STATUS_LABELS[status]}</span>`;
}

function filterText(verdict: SubscriptionVerdict): string {
  return [
    verdict.displayName,
    verdict.subscriptionId,
    verdict.status,
    ...failingFindings(verdict).map((f) => f.ruleId),
    ...verdict.contact.emails,
  ]
    .join(' ')
    .toLowerCase();
}

function otherNotes(verdict: SubscriptionVerdict): Html | string {
  if (verdict.status === 'skipped') return `Not judged: the subscription is ${verdict.state}.`;
  const failures = groupedFailures(verdict);
  if (failures.length === 0) return verdict.status === 'compliant' ? 'Every rule passes.' : '';
  const lead = verdict.status === 'exempt' ? 'Would fail:' : 'Fails a rule the policy does not require:';
  return html`<span class="muted">${lead}</span><ul class="failures">${failures.map(
    (group) =>
      html`<li>${group.ruleIds.map((id) => html`<span class="rule">${id}</span> `)}<span class="message">${group.message}</span></li>`,
  )}</ul>`;
}
