/**
 * How to fix a subscription, for both bodies. The words are the rules' own (their remediation in
 * src/core/rules, as the report shows it): the fix summary beside each failed rule, and the portal
 * steps for the rules to fix. The Azure CLI lines come from the subscription's merged fix, written
 * by the same builder as the report's.
 */
import type { OwedAlert } from '../../core/alerts.js';
import type { RuleId } from '../../core/model.js';
import { environmentSettingsUrl, subscriptionOverviewUrl } from '../../core/azure-portal.js';
import { ruleById } from '../../core/rules/index.js';
import {
  azRestGetCommand,
  azRestPutCommand,
  EXAMPLE_SECURITY_TEAM_ADDRESS,
  securityContactPortalSteps,
} from '../../core/rules/remediation.js';
import { rulesToFix } from '../../report/findings.js';
import { guidOrNull } from './safe-text.js';
import type { TemplateContext } from './template-context.js';

export interface FixInstructions {
  portalLinks: { label: string; url: string }[];
  portalSteps: string[];
  /** Absent when no command is safe to suggest (a contact that could not be read). */
  azCommand?: string;
}

export function fixInstructions(alert: OwedAlert, ctx: TemplateContext): FixInstructions {
  const id = guidOrNull(alert.subscriptionId);
  const settings = environmentSettingsUrl(ctx.portalUrl);
  const subscription = id ? subscriptionOverviewUrl(ctx.portalUrl, id) : undefined;
  const portalLinks = [
    ...(settings ? [{ label: 'Defender for Cloud: Environment settings', url: settings }] : []),
    ...(subscription ? [{ label: 'The subscription in the portal', url: subscription }] : []),
  ];
  const azCommand = id ? suggestedCommand(alert, id) : undefined;
  return {
    portalLinks,
    portalSteps: portalSteps(alert),
    ...(azCommand ? { azCommand } : {}),
  };
}

/** What a rule says about fixing it: its remediation's summary. */
export function fixSummary(ruleId: RuleId): string {
  return ruleById(ruleId).remediation.summary;
}

/**
 * The portal steps of the rules to fix (see rulesToFix). A contact that could not be read gets
 * access first, then the steps that make sure a whole contact exists; so does a non-compliant
 * subscription without a failed rule to go by.
 */
function portalSteps(alert: OwedAlert): string[] {
  if (alert.status === 'error') {
    return [
      "contact-watch could not read this subscription's security contact. Give its identity the Security Reader role " +
        '(or Reader) on the subscription or a parent management group, and check the subscription is active; then make sure a contact exists:',
      ...securityContactPortalSteps(['contact']),
    ];
  }
  const targets = rulesToFix(alert).map((ruleId) => ruleById(ruleId).remediation.target);
  return securityContactPortalSteps(targets.length > 0 ? targets : ['contact']);
}

/**
 * The Azure CLI lines that fix this subscription, from its merged fix (docs/reference/remediation.md): the
 * subscription's own contact with only the failing settings changed, so pasting it never wipes
 * an address, the phone or a setting. The body is the merged body exactly, as `check` and the
 * report show it, so every place that suggests a write suggests the same one. Where no valid
 * address would remain and the policy names none to add, it holds the example address and the
 * reader is told to replace it; nothing else is put in its place. Nothing is suggested for a
 * contact that could not be read (there is nothing known to keep); one too large to show, or one
 * recorded before fixes were kept, gets the read to start from instead of a guess.
 */
function suggestedCommand(alert: OwedAlert, id: string): string | undefined {
  if (alert.status !== 'noncompliant') return undefined;
  const fix = alert.fix;
  switch (fix?.kind) {
    case 'put':
      return [
        "# This subscription's own contact with only the failing settings changed: its addresses, phone and roles are kept.",
        ...(fix.placeholderEmails ? [`# Replace ${EXAMPLE_SECURITY_TEAM_ADDRESS} with your security team's shared mailbox first.`] : []),
        azRestPutCommand(id, fix.body),
      ].join('\n');
    case 'not-fixable':
      return `# Writing the contact cannot fix this: ${fix.reason}`;
    case 'none':
      return undefined;
    case 'too-large':
    case undefined:
      return [
        '# Read the contact, change only the failing settings, and write it back whole with --method put (a PUT replaces the contact).',
        ...(fix?.kind === 'too-large'
          ? [`# (It is too large to include here; \`contact-watch check ${id}\` prints the exact command.)`]
          : []),
        azRestGetCommand(id),
      ].join('\n');
  }
}

/** What to do about the subscriptions a digest lists as rows or counts (the sections carry their own steps). */
export function rowsFixSteps(reportUrl: string | undefined): string {
  const steps = `How to fix: ${securityContactPortalSteps(['contact']).join(' ')}`;
  const unreadable =
    " For a subscription that could not be read, first give contact-watch's identity the Security Reader role (or Reader) on it.";
  const more = reportUrl ? ' The report page has the Azure CLI, Bicep and Terraform for each fix.' : '';
  return steps + unreadable + more;
}
