/**
 * One failing subscription's own fix on the HTML report and the operator page (docs/reference/remediation.md):
 * the command that writes its merged contact, exactly as `check` prints it, and the same write as
 * Terraform, as `check --format terraform` prints it.
 */
import type { SubscriptionVerdict } from '../core/model.js';
import { azRestPutCommand, EXAMPLE_SECURITY_TEAM_ADDRESS, terraformForSubscription } from '../core/rules/remediation.js';
import { isSubscriptionId } from '../core/subscription-id.js';
import { failingFindings } from './findings.js';
import { html, joinHtml, type Html } from './html-tag.js';

/**
 * This subscription's own fix, from its merged fix (docs/reference/remediation.md): the exact `az rest` command
 * that writes its contact with only what fails changed (what `check` prints), collapsed under its
 * failures; or why writing the contact cannot fix it, or where to get a command too large to show.
 * Nothing for a contact that could not be read, or whose fix is not known (the rules' generic
 * remediation below still applies).
 */
export function subscriptionFixHtml(verdict: SubscriptionVerdict): Html | '' {
  if (verdict.status !== 'noncompliant') return '';
  const fix = verdict.fix;
  // The id goes into a command: only a GUID does (azRestPutCommand refuses anything else).
  const id = isSubscriptionId(verdict.subscriptionId) ? verdict.subscriptionId.toLowerCase() : undefined;
  switch (fix?.kind) {
    case 'put': {
      if (id === undefined) return '';
      // Records stored before fixes said what they change have no list.
      const changes = (fix.changes as string[] | undefined) ?? [];
      const lines = [
        html`<p>This subscription's own contact with only what fails changed; everything else it holds is kept.${changes.length > 0 ? html` What it changes:` : ''}</p>`,
        ...(changes.length > 0 ? [html`<ul>${changes.map((change) => html`<li>${change}</li>`)}</ul>`] : []),
        ...(fix.placeholderEmails
          ? [
              html`<p class="sub-fix-warn">Replace <code>${EXAMPLE_SECURITY_TEAM_ADDRESS}</code> with your security team's shared mailbox before running it (or name it in the policy as <code>remediation.emails</code>).</p>`,
            ]
          : []),
        html`<pre><code>${azRestPutCommand(id, fix.body)}</code></pre>`,
        html`<details class="sub-fix-terraform"><summary>The same write as Terraform (azapi provider)</summary><pre><code>${terraformForSubscription(id, fix.body, verdict.contact.shape, fix.placeholderEmails)}</code></pre></details>`,
      ];
      return html`<details class="sub-fix">
          <summary>Fix this subscription (Azure CLI or Terraform)</summary>
          <div class="sub-fix-body">
          ${joinHtml(lines, html`\n          `)}
          </div>
        </details>`;
    }
    case 'not-fixable': {
      // A reason the row's failures already give (a provider that is not registered) is not said twice.
      const reason = fix.reason.toLowerCase();
      const given = failingFindings(verdict).some((finding) => finding.message.toLowerCase().includes(reason));
      return given
        ? html`<p class="sub-fix-note">Writing the contact cannot fix this, for the reason above.</p>`
        : html`<p class="sub-fix-note">Writing the contact cannot fix this: ${fix.reason}</p>`;
    }
    case 'too-large':
      return html`<p class="sub-fix-note">Its fix is too large to show here: <code>contact-watch check ${id ?? verdict.subscriptionId}</code> prints the exact command.</p>`;
    case 'none':
    case undefined:
      return '';
  }
}
