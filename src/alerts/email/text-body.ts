/** The plain-text body: the same content as the HTML body, for clients that show text only. */
import { describeDuration, type OwedAlert } from '../../core/alerts.js';
import type { FixInstructions } from './fix-instructions.js';
import { commandText, inert, MESSAGE_MAX, NAME_MAX, ROW_REASON_MAX } from './safe-text.js';
import type { TemplateContext } from './template-context.js';
import {
  failedRepairText,
  failedRules,
  headline,
  isNotice,
  repairWords,
  rowStatus,
  sinceText,
  statusWords,
  unreadableReasons,
  whatFails,
} from './wording.js';

/** One subscription in full: what is wrong, since when, and how to fix it. */
export function sectionText(alert: OwedAlert, ctx: TemplateContext, fix: FixInstructions | undefined): string {
  const lines = [
    `== ${headline(alert)} ==`,
    `Subscription: ${inert(alert.displayName || '(no display name)', NAME_MAX)}`,
    `Id: ${inert(alert.subscriptionId, NAME_MAX)}`,
    `Status: ${statusWords(alert)} for ${sinceText(alert, ctx.now)}.`,
  ];
  if (alert.kind === 'repaired' && alert.repair) {
    const repair = repairWords(alert.repair);
    lines.push(`Repaired automatically: ${repair.when}`, `Made by: ${repair.by}`, 'What was changed:');
    for (const change of repair.changes) lines.push(`  - ${change}`);
  } else if (!isNotice(alert) && alert.repair) {
    lines.push(failedRepairText(alert.repair));
  }
  if (!isNotice(alert) && alert.status === 'error') {
    for (const reason of unreadableReasons(alert)) lines.push(`Reason: ${inert(reason, MESSAGE_MAX)}`);
  } else if (!isNotice(alert)) {
    lines.push('Failed rules:');
    for (const group of failedRules(alert)) {
      lines.push(
        `  - ${group.ruleIds.join(', ')}${group.result === 'error' ? ' (could not be evaluated)' : ''}: ${inert(group.message, MESSAGE_MAX)}`,
      );
      for (const text of group.fixTexts) lines.push(`    Fix: ${text}`);
    }
  }
  if (fix) {
    lines.push('How to fix:');
    fix.portalSteps.forEach((step, index) => lines.push(`  ${index + 1}. ${step}`));
    for (const link of fix.portalLinks) lines.push(`  ${link.label}: ${link.url}`);
    if (fix.azCommand) {
      lines.push('  Or with the Azure CLI (bash):');
      for (const line of commandText(fix.azCommand).split('\n')) lines.push(`    ${line}`);
    }
  } else {
    lines.push('No action needed.');
  }
  return lines.join('\n');
}

/** One subscription as a line of the digest's compact list. */
export function rowText(alert: OwedAlert, ctx: TemplateContext): string {
  return `* ${inert(alert.displayName || '(no display name)', NAME_MAX)} [${inert(alert.subscriptionId, NAME_MAX)}]: ${rowStatus(alert)} for ${describeDuration(alert.since, ctx.now)}; ${inert(whatFails(alert), ROW_REASON_MAX)}`;
}

/** The digest's repaired subscriptions, after the failing ones. */
export function repairedRowsText(rows: readonly string[], title: string, note: string): string {
  return [`${title}:`, note, ...rows, ''].join('\n');
}

/** One repaired subscription as a line of the digest's repaired section. */
export function repairedRowText(alert: OwedAlert): string {
  const repair = alert.repair ? repairWords(alert.repair) : undefined;
  const what = repair ? ` at ${repair.when} (made by: ${repair.by}): ${repair.changes.join('; ')}` : '';
  return `* ${inert(alert.displayName || '(no display name)', NAME_MAX)} [${inert(alert.subscriptionId, NAME_MAX)}]: repaired automatically${what}`;
}

export function introText(intro: string, reportUrl: string | undefined): string {
  const link = reportUrl ? `The report page lists every subscription and how to fix it: ${reportUrl}\n` : '';
  return `${intro}\n\n${link}`;
}

export function footerText(product: string, now: Date): string {
  return `Sent by ${product} at ${now.toISOString()}.`;
}

export function rowsText(rows: readonly string[], title: string): string {
  return [`${title}:`, ...rows, ''].join('\n');
}

export function rowsFixText(steps: string, settingsUrl: string | undefined): string {
  return `${steps}\n${settingsUrl ? `  Defender for Cloud: Environment settings: ${settingsUrl}\n` : ''}`;
}

export function remainderText(sentence: string, where: string, reportUrl: string | undefined): string {
  return `${sentence}\n${where}${reportUrl ? ` ${reportUrl}` : ''}\n`;
}

/** The whole text, the subject first. */
export function documentText(subject: string, body: readonly string[]): string {
  return [subject, '', ...body].join('\n');
}
