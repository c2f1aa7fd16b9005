/**
 * `contact-watch check <id> --format terraform`: the subscription's merged fix (docs/reference/remediation.md)
 * as a whole security-contact.tf, the same write `check` prints as an `az rest` command. Where
 * there is nothing to write, the output is a Terraform comment saying why, so that redirecting it
 * to a .tf file never leaves a file Terraform cannot read.
 */
import type { SubscriptionVerdict } from '../core/model.js';
import { terraformForSubscription } from '../core/rules/remediation.js';
import { isSubscriptionId } from '../core/subscription-id.js';
import { terminalText } from './table.js';

export function renderTerraformFix(verdict: SubscriptionVerdict): string {
  const fix = verdict.status === 'noncompliant' ? verdict.fix : undefined;
  if (fix?.kind === 'put' && isSubscriptionId(verdict.subscriptionId)) {
    return terraformForSubscription(verdict.subscriptionId, fix.body, verdict.contact.shape, fix.placeholderEmails);
  }
  return `# ${terminalText(withoutFix(verdict))}\n`;
}

/** Why there is no Terraform to show, in one line. */
function withoutFix(verdict: SubscriptionVerdict): string {
  const id = verdict.subscriptionId;
  switch (verdict.status) {
    case 'compliant':
    case 'exempt':
    case 'skipped':
      return `Nothing to write: the subscription is ${verdict.status}.`;
    case 'error':
      return `No Terraform: the security contact could not be read (contact-watch check ${id} says why).`;
    case 'noncompliant':
      switch (verdict.fix?.kind) {
        case 'not-fixable':
          return `Writing the contact cannot fix this: ${verdict.fix.reason}`;
        case 'too-large':
          return `The contact to write is too large to show (${verdict.fix.bytes} bytes): contact-watch fix --subscription ${id} --dry-run works it out from a fresh read.`;
        default:
          return 'No fix was worked out for this subscription.';
      }
  }
}
