/**
 * The alert e-mails: a digest covering many subscriptions (a scan) and a message about one
 * subscription (an event), each as subject + HTML + plain text.
 *
 * Everything that comes from Azure (display names, rule messages quoting addresses or values) is
 * user input: in HTML it is escaped with escape-html, in both bodies its control characters are
 * made inert, bidirectional controls are shown as U+FFFD and URL or `www.` text is defanged so a
 * mail client does not make a link of it (src/report/azure-text.ts, as in the reports), and it
 * reaches the subject only when it holds no CR, LF or other control character (otherwise it is
 * left out). No header is ever built from Azure data.
 *
 * A digest lists subscriptions in the report's triage order (non-compliant, then unreadable, then
 * fixed; by display name, then id) and stays under DIGEST_LIMITS.maxMessageBytes whatever the
 * tenant's size, because mail clients clip longer messages and hide the rest: full sections for
 * the first few subscriptions, one compact row each for as many more as fit, then a count of the
 * rest and a link to the report page. A subscription that could not be read is shown as such,
 * with the reason once, never as five failed rules.
 *
 * The HTML is written for mail clients: tables, inline styles, no external assets, no scripts.
 */
import escapeHtml from 'escape-html';
import { describeDuration, type OwedAlert } from '../core/alerts.js';
import type { RuleId } from '../core/model.js';
import { azRestPutCommand, EXAMPLE_SECURITY_TEAM_ADDRESS, REMEDIATION_API_VERSION } from '../core/rules/remediation.js';
import { environmentSettingsUrl, subscriptionOverviewUrl } from '../core/azure-portal.js';
import { isSubscriptionId } from '../core/subscription-id.js';
import { defangAutolinks, escapeBidiControlsInJson, showBidiControls } from '../report/azure-text.js';
import { failingFindings, groupedFailures, rulesToFix, type FailureGroup } from '../report/findings.js';
import { inTriageOrder } from '../report/triage-order.js';

export interface RenderedEmail {
  subject: string;
  html: string;
  plainText: string;
}

/** What a rule says about fixing it (e.g. the `remediation.summary` of src/core/rules). */
export interface RuleFixText {
  summary: string;
}

export interface TemplateContext {
  /** The Azure portal of the cloud, e.g. `https://portal.azure.com` (a bare host is accepted). */
  portalUrl: string;
  /** When the message is composed: "how long it has been so" is measured to this instant. */
  now: Date;
  /** Per-rule fix text, shown beside each failed rule. */
  ruleFixes?: Partial<Record<RuleId, RuleFixText>>;
  /**
   * The security team's addresses (`;`-separated): a suggested contact gets them only where no
   * valid address of its own would remain and the policy names none to add. Anything but plain
   * address characters is ignored (the example address stays, with a note to replace it).
   */
  suggestedContactEmails?: string;
  /**
   * The report page (the app's `GET /api/report`), linked from every message so a digest that
   * lists only some subscriptions leads to all of them. Only an http(s) URL without a user name
   * or password is used. Every recipient sees it and mail is forwarded: never a URL with a key.
   */
  reportUrl?: string;
}

/**
 * Digest limits.
 *
 * - `maxMessageBytes`: the HTML and the plain text of one message together. Mail clients clip a
 *   message at about 100 KB (Gmail at 102 KB of HTML) and hide the rest behind a link, so a digest
 *   summarises to stay below it at any size (see renderDigest) instead of growing with the tenant.
 * - `maxSubscriptionsPerMessage`: how many owed alerts one message may cover. The outbox stores the
 *   id and occurrence key of each one with the message, in one table entity (about 45 bytes each
 *   once compressed, of 900 KiB); 5,000 stays well inside that. Only a larger backlog is split,
 *   into the fewest parts ("part 1 of 2"), never one message per subscription.
 */
export const DIGEST_LIMITS = {
  maxSubscriptionsPerMessage: 5_000,
  maxMessageBytes: 96 * 1024,
} as const;

export interface DigestLimits {
  maxSubscriptionsPerMessage: number;
  maxMessageBytes: number;
}

/** How many subscriptions a digest shows in full (failed rules, messages, fix) before it lists the rest as rows. */
const DETAILED_SUBSCRIPTIONS = 5;

/** Longest value from Azure shown in a message (a display name, a rule's message), in UTF-16 units. */
const NAME_MAX = 120;
const MESSAGE_MAX = 500;
const ROW_REASON_MAX = 160;

const PRODUCT = 'contact-watch';

const RULE_TITLES: Record<RuleId, string> = {
  'contact-exists': 'Security contact exists',
  'email-configured': 'E-mail addresses configured',
  'alert-notifications': 'Alert e-mails on',
  'owner-notifications': 'E-mails to subscription owners',
  'attack-path-notifications': 'Attack path e-mails on',
};

// ---------------------------------------------------------------------------------------------
// Making values safe

/** Control characters, including CR/LF and the Unicode line and paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const CONTROL_RUNS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** At most `maxLength` UTF-16 units, ending in `…` when shortened (never half a surrogate pair). */
function shortened(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  const cut = text.slice(0, maxLength - 1);
  return `${/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut}…`;
}

/**
 * A value fit for a subject line: the value itself when it holds no control character (CR, LF,
 * tab, ...), with bidirectional controls shown as U+FFFD and URL text defanged (the subject is
 * repeated as the HTML body's heading), shortened to `maxLength`; otherwise null, and the caller
 * leaves it out.
 */
export function subjectSafe(value: string, maxLength = 80): string | null {
  if (CONTROL.test(value)) return null;
  const trimmed = defangAutolinks(showBidiControls(value)).trim();
  if (!trimmed) return null;
  return shortened(trimmed, maxLength);
}

/**
 * A value from Azure for either body: line breaks and other control characters become one space,
 * bidirectional controls U+FFFD, URL and `www.` text is defanged; shortened to `maxLength`.
 */
function inert(value: string, maxLength: number): string {
  return shortened(defangAutolinks(showBidiControls(value.replace(CONTROL_RUNS, ' '))), maxLength);
}

/** A value from Azure for the HTML body: made inert, then HTML-escaped. */
function html(value: string, maxLength: number): string {
  return escapeHtml(inert(value, maxLength));
}

/**
 * The suggested command as shown. Its only text from Azure sits in its JSON body, so a
 * bidirectional control can only be inside a JSON string, where a `\uXXXX` escape is the same
 * character: the command still does what it says, and shows what it does.
 */
function commandText(command: string): string {
  return escapeBidiControlsInJson(command);
}

/** The report page's URL when it is an http(s) URL without credentials, else undefined (no link). */
function reportPageUrl(ctx: TemplateContext): string | undefined {
  if (!ctx.reportUrl) return undefined;
  try {
    const url = new URL(ctx.reportUrl);
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') return undefined;
    return url.href;
  } catch {
    return undefined;
  }
}

/** The subscription id when it is a GUID (it is used in links and commands), else null. */
function guidOrNull(id: string): string | null {
  return isSubscriptionId(id) ? id.toLowerCase() : null;
}

// ---------------------------------------------------------------------------------------------
// How to fix

interface FixInstructions {
  portalLinks: { label: string; url: string }[];
  portalSteps: string[];
  /** Absent when no command is safe to suggest (a contact that could not be read). */
  azCommand?: string;
}

function fixInstructions(alert: OwedAlert, ctx: TemplateContext): FixInstructions {
  const id = guidOrNull(alert.subscriptionId);
  const settings = environmentSettingsUrl(ctx.portalUrl);
  const subscription = id ? subscriptionOverviewUrl(ctx.portalUrl, id) : undefined;
  const portalLinks = [
    ...(settings ? [{ label: 'Defender for Cloud: Environment settings', url: settings }] : []),
    ...(subscription ? [{ label: 'The subscription in the portal', url: subscription }] : []),
  ];
  const azCommand = id ? suggestedCommand(alert, id, ctx) : undefined;
  return {
    portalLinks,
    portalSteps: [
      ...(alert.status === 'error'
        ? [
            "contact-watch could not read this subscription's security contact. Give its identity the Security Reader role " +
              '(or Reader) on the subscription or a parent management group, and check the subscription is active; then make sure a contact exists:',
          ]
        : []),
      'Open Microsoft Defender for Cloud > Environment settings and select the subscription.',
      "Select Email notifications: add the security team's mailbox, choose the Owner role, and turn on alert and attack path notifications (severity High or lower).",
      'Select Save. contact-watch confirms the fix on its next scan.',
    ],
    ...(azCommand ? { azCommand } : {}),
  };
}

/**
 * The Azure CLI lines that fix this subscription, from its merged fix (CONTRACT.md §11): the
 * subscription's own contact with only the failing settings changed, so pasting it never wipes
 * an address, the phone or a setting. Nothing is suggested for a contact that could not be read
 * (there is nothing known to keep); one too large to show, or one recorded before fixes were
 * kept, gets the read to start from instead of a guess.
 */
function suggestedCommand(alert: OwedAlert, id: string, ctx: TemplateContext): string | undefined {
  if (alert.status !== 'noncompliant') return undefined;
  const fix = alert.fix;
  switch (fix?.kind) {
    case 'put': {
      // No valid address would remain and the policy names none to add: the security team's
      // mailbox (the alert's recipients) stands in for the example address, when it is plain.
      const team = ctx.suggestedContactEmails && /^[A-Za-z0-9@._+;,-]+$/.test(ctx.suggestedContactEmails) ? ctx.suggestedContactEmails : undefined;
      const body = fix.placeholderEmails && team ? { properties: { ...fix.body.properties, emails: team } } : fix.body;
      return [
        "# This subscription's own contact with only the failing settings changed: its addresses, phone and roles are kept.",
        ...(fix.placeholderEmails && !team ? [`# Replace ${EXAMPLE_SECURITY_TEAM_ADDRESS} with your security team's shared mailbox first.`] : []),
        azRestPutCommand(id, body),
      ].join('\n');
    }
    case 'not-fixable':
      return `# Writing the contact cannot fix this: ${fix.reason}`;
    case 'none':
      return undefined;
    case 'too-large':
    case undefined:
      return [
        '# Read the contact, change only the failing settings, and write it back whole with --method put (a PUT replaces the contact).',
        ...(fix?.kind === 'too-large' ? [`# (It is too large to include here; \`contact-watch check ${id}\` prints the exact command.)`] : []),
        `az rest --method get --url "/subscriptions/${id}/providers/Microsoft.Security/securityContacts?api-version=${REMEDIATION_API_VERSION}"`,
      ].join('\n');
  }
}

// ---------------------------------------------------------------------------------------------
// One subscription's section

/** The status in words, as the digest's rows and sections say it. */
function statusWords(alert: OwedAlert): string {
  if (alert.kind === 'fixed') return 'compliant again';
  return alert.status === 'error' ? 'could not be read' : 'non-compliant';
}

function headline(alert: OwedAlert): string {
  switch (alert.kind) {
    case 'alert':
      return alert.status === 'error' ? 'Security contact could not be read' : 'Security contact missing or incomplete';
    case 'reminder':
      return alert.status === 'error' ? 'Reminder: security contact still could not be read' : 'Reminder: still non-compliant';
    case 'fixed':
      return 'Fixed: compliant again';
  }
}

/**
 * Why a subscription could not be read, once: every rule carries the same answer of the service
 * (a 403, say), so its distinct messages are the reason.
 */
function unreadableReasons(alert: OwedAlert): string[] {
  const messages = [...new Set(alert.findings.filter((finding) => finding.result !== 'pass').map((finding) => finding.message))];
  return messages.length > 0 ? messages : ['The security contact could not be read.'];
}

/**
 * The failed rules of a non-compliant subscription as the report groups them: rules failing with
 * the same message are one line (without a contact, four rules fail with "no security contact"),
 * and a rule's fix text is shown where fixing that rule is the fix (see rulesToFix).
 */
function failedRules(alert: OwedAlert, ctx: TemplateContext): Array<FailureGroup & { fixTexts: string[] }> {
  const toFix = new Set<string>(rulesToFix(alert));
  const groups = groupedFailures(alert).map((group) => ({
    ...group,
    fixTexts:
      group.result === 'fail'
        ? [...new Set(group.ruleIds.filter((id) => toFix.has(id)).flatMap((id) => ctx.ruleFixes?.[id]?.summary ?? []))]
        : [],
  }));
  return groups.length > 0 ? groups : [{ ruleIds: ['contact-exists'], result: 'error', message: 'No finding was recorded.', fixTexts: [] }];
}

function sinceText(alert: OwedAlert, now: Date): string {
  const since = Date.parse(alert.since);
  const when = Number.isNaN(since) ? 'an unknown time' : new Date(since).toISOString().replace(/\.\d{3}Z$/, 'Z').replace('T', ' ');
  return `${describeDuration(alert.since, now)} (since ${when})`;
}

const CELL = 'padding:6px 8px;border:1px solid #d0d7de;vertical-align:top;font-size:14px;';
const HEAD_CELL = `${CELL}background:#f6f8fa;text-align:left;font-weight:bold;`;
const RESULT_COLOURS: Record<string, string> = { fail: '#b42318', error: '#b54708', pass: '#067647' };
const MUTED = 'color:#57606a;font-size:12px;';
const LINK = 'color:#0969da;';

function sectionHtml(alert: OwedAlert, ctx: TemplateContext): string {
  const colour = alert.kind === 'fixed' ? '#067647' : alert.status === 'error' ? '#b54708' : '#b42318';
  const parts = [
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;margin:0 0 24px 0;border:1px solid #d0d7de;">`,
    `<tr><td style="padding:10px 12px;background:${colour};color:#ffffff;font-size:15px;font-weight:bold;">${escapeHtml(headline(alert))}</td></tr>`,
    '<tr><td style="padding:10px 12px;font-size:14px;line-height:1.5;">',
    `<div style="font-size:16px;font-weight:bold;">${html(alert.displayName || '(no display name)', NAME_MAX)}</div>`,
    `<div style="font-family:Consolas,Menlo,monospace;font-size:13px;color:#57606a;">Subscription ${html(alert.subscriptionId, NAME_MAX)}</div>`,
    `<div style="margin-top:6px;">Status: <strong>${escapeHtml(statusWords(alert))}</strong> for ${escapeHtml(sinceText(alert, ctx.now))}.</div>`,
  ];
  if (alert.kind !== 'fixed' && alert.status === 'error') {
    parts.push(...unreadableReasons(alert).map((reason) => `<div style="margin-top:6px;">Reason: ${html(reason, MESSAGE_MAX)}</div>`));
  } else if (alert.kind !== 'fixed') {
    const rows = failedRules(alert, ctx).map(
      (group) =>
        '<tr>' +
        `<td style="${CELL}">${group.ruleIds.map((id) => `<strong>${escapeHtml(RULE_TITLES[id] ?? id)}</strong><br><span style="${MUTED}">${escapeHtml(id)}</span>`).join('<br>')}</td>` +
        `<td style="${CELL}color:${RESULT_COLOURS[group.result] ?? '#24292f'};font-weight:bold;">${group.result}</td>` +
        `<td style="${CELL}">${html(group.message, MESSAGE_MAX)}${group.fixTexts.map((text) => `<br><span style="${MUTED}">Fix: ${escapeHtml(text)}</span>`).join('')}</td>` +
        '</tr>',
    );
    parts.push(
      '<table cellpadding="0" cellspacing="0" width="100%" style="border-collapse:collapse;margin-top:10px;">',
      `<tr><th style="${HEAD_CELL}">Rule</th><th style="${HEAD_CELL}">Result</th><th style="${HEAD_CELL}">Why</th></tr>`,
      rows.join(''),
      '</table>',
    );
  }
  if (alert.kind !== 'fixed') {
    const fix = fixInstructions(alert, ctx);
    parts.push(
      '<div style="margin-top:12px;font-weight:bold;">How to fix</div>',
      `<ol style="margin:4px 0 0 20px;padding:0;">${fix.portalSteps.map((step) => `<li>${escapeHtml(step)}</li>`).join('')}</ol>`,
      ...(fix.portalLinks.length > 0 ? [`<div style="margin-top:6px;">${fix.portalLinks.map((link) => `<a href="${escapeHtml(link.url)}" style="${LINK}">${escapeHtml(link.label)}</a>`).join(' &middot; ')}</div>`] : []),
      ...(fix.azCommand
        ? [
            '<div style="margin-top:8px;">Or with the Azure CLI (bash):</div>',
            `<pre style="margin:4px 0 0 0;padding:8px;background:#f6f8fa;border:1px solid #d0d7de;font-family:Consolas,Menlo,monospace;font-size:12px;white-space:pre-wrap;word-break:break-all;">${escapeHtml(commandText(fix.azCommand))}</pre>`,
          ]
        : []),
    );
  } else {
    parts.push('<div style="margin-top:6px;">No action needed.</div>');
  }
  parts.push('</td></tr></table>');
  return parts.join('\n');
}

function sectionText(alert: OwedAlert, ctx: TemplateContext): string {
  const lines = [
    `== ${headline(alert)} ==`,
    `Subscription: ${inert(alert.displayName || '(no display name)', NAME_MAX)}`,
    `Id: ${inert(alert.subscriptionId, NAME_MAX)}`,
    `Status: ${statusWords(alert)} for ${sinceText(alert, ctx.now)}.`,
  ];
  if (alert.kind !== 'fixed' && alert.status === 'error') {
    for (const reason of unreadableReasons(alert)) lines.push(`Reason: ${inert(reason, MESSAGE_MAX)}`);
  } else if (alert.kind !== 'fixed') {
    lines.push('Failed rules:');
    for (const group of failedRules(alert, ctx)) {
      lines.push(`  - ${group.ruleIds.join(', ')}${group.result === 'error' ? ' (could not be evaluated)' : ''}: ${inert(group.message, MESSAGE_MAX)}`);
      for (const text of group.fixTexts) lines.push(`    Fix: ${text}`);
    }
  }
  if (alert.kind !== 'fixed') {
    const fix = fixInstructions(alert, ctx);
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

// ---------------------------------------------------------------------------------------------
// One subscription's row (the digest's compact list)

/** What is wrong in one line: the reason it could not be read, the missing contact, or the failed rules. */
function whatFails(alert: OwedAlert): string {
  if (alert.kind === 'fixed') return 'every required rule passes';
  if (alert.status === 'error') return `reason: ${unreadableReasons(alert).join(' ')}`;
  const failing = failingFindings(alert);
  const missing = failing.find((finding) => finding.ruleId === 'contact-exists' && finding.result === 'fail');
  if (missing) return `contact-exists: ${missing.message}`;
  if (failing.length === 0) return 'no finding was recorded';
  return `failed: ${failing.map((finding) => (finding.result === 'error' ? `${finding.ruleId} (could not be evaluated)` : finding.ruleId)).join(', ')}`;
}

function rowStatus(alert: OwedAlert): string {
  return `${statusWords(alert)}${alert.kind === 'reminder' ? ' (reminder)' : ''}`;
}

function rowHtml(alert: OwedAlert, ctx: TemplateContext): string {
  return (
    `<tr><td>${html(alert.displayName || '(no display name)', NAME_MAX)}<br><span style="font-family:Consolas,Menlo,monospace;${MUTED}">${html(alert.subscriptionId, NAME_MAX)}</span></td>` +
    `<td>${escapeHtml(rowStatus(alert))}</td><td nowrap>${escapeHtml(describeDuration(alert.since, ctx.now))}</td><td>${html(whatFails(alert), ROW_REASON_MAX)}</td></tr>`
  );
}

function rowText(alert: OwedAlert, ctx: TemplateContext): string {
  return `* ${inert(alert.displayName || '(no display name)', NAME_MAX)} [${inert(alert.subscriptionId, NAME_MAX)}]: ${rowStatus(alert)} for ${describeDuration(alert.since, ctx.now)}; ${inert(whatFails(alert), ROW_REASON_MAX)}`;
}

// ---------------------------------------------------------------------------------------------
// Whole messages

interface Counts {
  noncompliant: number;
  unreadable: number;
  fixed: number;
}

function countStatuses(alerts: readonly OwedAlert[]): Counts {
  const counts: Counts = { noncompliant: 0, unreadable: 0, fixed: 0 };
  for (const alert of alerts) {
    if (alert.kind === 'fixed') counts.fixed += 1;
    else if (alert.status === 'error') counts.unreadable += 1;
    else counts.noncompliant += 1;
  }
  return counts;
}

const plural = (count: number, one: string, many: string) => (count === 1 ? one : many);

function countWords(alerts: readonly OwedAlert[]): string {
  const count = (kind: OwedAlert['kind']) => alerts.filter((alert) => alert.kind === kind).length;
  const parts: string[] = [];
  const fresh = count('alert');
  const reminders = count('reminder');
  const fixed = count('fixed');
  if (fresh) parts.push(`${fresh} new`);
  if (reminders) parts.push(`${reminders} ${plural(reminders, 'reminder', 'reminders')}`);
  if (fixed) parts.push(`${fixed} fixed`);
  return parts.join(', ');
}

function digestSubject(alerts: readonly OwedAlert[], part: { index: number; total: number } | undefined): string {
  const { noncompliant, unreadable } = countStatuses(alerts);
  const subscriptions = (count: number) => `${count} Azure ${plural(count, 'subscription', 'subscriptions')}`;
  const needs: string[] = [];
  if (noncompliant > 0) needs.push(`${subscriptions(noncompliant)} without a valid security contact`);
  if (unreadable > 0) needs.push(noncompliant > 0 ? `${unreadable} could not be read` : `${subscriptions(unreadable)} could not be read`);
  const main = needs.length > 0 ? needs.join(', ') : `${subscriptions(alerts.length)} fixed`;
  const partText = part && part.total > 1 ? ` (part ${part.index} of ${part.total})` : '';
  return `[${PRODUCT}] ${main} (${countWords(alerts)})${partText}`;
}

function singleSubject(alert: OwedAlert): string {
  const name = subjectSafe(alert.displayName, 80);
  const id = guidOrNull(alert.subscriptionId);
  const who = name && id ? `"${name}" (${id})` : name ? `"${name}"` : id ?? 'a subscription';
  switch (alert.kind) {
    case 'alert':
      return alert.status === 'error'
        ? `[${PRODUCT}] Subscription ${who}: security contact could not be read`
        : `[${PRODUCT}] Subscription ${who} has no valid security contact`;
    case 'reminder':
      return alert.status === 'error'
        ? `[${PRODUCT}] Reminder: subscription ${who}: security contact still could not be read`
        : `[${PRODUCT}] Reminder: subscription ${who} still has no valid security contact`;
    case 'fixed':
      return `[${PRODUCT}] Fixed: subscription ${who} is compliant again`;
  }
}

/** What the subscriptions have in common, in a sentence per status. */
function digestIntro(counts: Counts): string {
  const sentences: string[] = [];
  if (counts.noncompliant > 0) {
    sentences.push(
      `${counts.noncompliant} ${plural(counts.noncompliant, 'subscription lacks', 'subscriptions lack')} a valid Microsoft Defender for Cloud security contact, so security alerts for ${plural(counts.noncompliant, 'it', 'them')} may reach no one.`,
    );
  }
  if (counts.unreadable > 0) {
    sentences.push(
      `${counts.unreadable} ${plural(counts.unreadable, 'subscription', 'subscriptions')} could not be read, so contact-watch cannot tell whether ${plural(counts.unreadable, 'it has', 'they have')} one.`,
    );
  }
  if (counts.fixed > 0) {
    sentences.push(`${counts.fixed} ${plural(counts.fixed, 'subscription has', 'subscriptions have')} a valid security contact again.`);
  }
  return sentences.join(' ');
}

function singleIntro(alert: OwedAlert): string {
  if (alert.kind === 'fixed') return 'This subscription has a valid security contact again.';
  return alert.status === 'error'
    ? "contact-watch could not read this subscription's Microsoft Defender for Cloud security contact, so it cannot tell whether security alerts reach anyone."
    : 'This subscription lacks a valid Microsoft Defender for Cloud security contact, so its security alerts may reach no one.';
}

/** A piece of a message in both bodies. */
interface Block {
  html: string;
  text: string;
}

/** Bytes a block adds to a message: its HTML and text, and the line break after each. */
const blockBytes = (block: Block) => Buffer.byteLength(block.html) + Buffer.byteLength(block.text) + 2;

function introBlock(intro: string, reportUrl: string | undefined): Block {
  const link = reportUrl
    ? {
        html: `<p style="font-size:14px;line-height:1.5;margin:0 0 16px 0;">The report page lists every subscription and how to fix it: <a href="${escapeHtml(reportUrl)}" style="${LINK}">${escapeHtml(reportUrl)}</a></p>`,
        text: `The report page lists every subscription and how to fix it: ${reportUrl}\n`,
      }
    : { html: '', text: '' };
  return {
    html: `<p style="font-size:14px;line-height:1.5;margin:0 0 16px 0;">${escapeHtml(intro)}</p>\n${link.html}`,
    text: `${intro}\n\n${link.text}`,
  };
}

function footerBlock(now: Date): Block {
  return {
    html:
      `<p style="font-size:12px;color:#57606a;margin:16px 0 0 0;">Sent by ${PRODUCT} at ${escapeHtml(now.toISOString())}. ` +
      'Every Azure subscription needs a Microsoft Defender for Cloud security contact so that security alerts reach a person.</p>',
    text: `Sent by ${PRODUCT} at ${now.toISOString()}.`,
  };
}

function rowsBlock(rows: readonly Block[], title: string): Block {
  return {
    html: [
      `<h2 style="font-size:16px;margin:8px 0;">${escapeHtml(title)}</h2>`,
      '<table cellpadding="5" cellspacing="0" border="1" width="100%" style="border-collapse:collapse;border:1px solid #d0d7de;font-size:13px;margin:0 0 16px 0;">',
      `<tr style="background:#f6f8fa;text-align:left;"><th>Subscription</th><th>Status</th><th>For</th><th>What is wrong</th></tr>`,
      ...rows.map((row) => row.html),
      '</table>',
    ].join('\n'),
    text: [`${title}:`, ...rows.map((row) => row.text), ''].join('\n'),
  };
}

/** What to do about the subscriptions listed as rows or counted (the sections above carry their own steps). */
function rowsFixBlock(ctx: TemplateContext, reportUrl: string | undefined): Block {
  const settings = environmentSettingsUrl(ctx.portalUrl);
  const steps =
    "How to fix: in Microsoft Defender for Cloud > Environment settings, select the subscription, then Email notifications: add the security team's mailbox, " +
    'choose the Owner role, and turn on alert and attack path notifications. For a subscription that could not be read, first give contact-watch\'s identity ' +
    'the Security Reader role (or Reader) on it.';
  const more = reportUrl ? ' The report page has the Azure CLI and Bicep for each fix.' : '';
  return {
    html: `<p style="font-size:14px;line-height:1.5;margin:0 0 16px 0;">${escapeHtml(steps + more)}${settings ? ` <a href="${escapeHtml(settings)}" style="${LINK}">Defender for Cloud: Environment settings</a>` : ''}</p>`,
    text: `${steps}${more}\n${settings ? `  Defender for Cloud: Environment settings: ${settings}\n` : ''}`,
  };
}

/** The subscriptions a digest counts without listing them, and where they are listed. */
function remainderBlock(rest: readonly OwedAlert[], reportUrl: string | undefined): Block {
  const counts = countStatuses(rest);
  const kinds = [
    counts.noncompliant > 0 ? `${counts.noncompliant} without a valid security contact` : '',
    counts.unreadable > 0 ? `${counts.unreadable} could not be read` : '',
    counts.fixed > 0 ? `${counts.fixed} fixed` : '',
  ].filter(Boolean);
  const sentence = `… and ${rest.length} more ${plural(rest.length, 'subscription', 'subscriptions')} (${kinds.join(', ')}), not listed to keep this message small enough for mail clients.`;
  const where = reportUrl ? 'The report lists every one:' : 'The contact-watch report lists every one (the app\'s /api/report page, or `contact-watch scan --format html`).';
  return {
    html: `<p style="font-size:14px;line-height:1.5;margin:0 0 16px 0;"><strong>${escapeHtml(sentence)}</strong> ${escapeHtml(where)}${reportUrl ? ` <a href="${escapeHtml(reportUrl)}" style="${LINK}">${escapeHtml(reportUrl)}</a>` : ''}</p>`,
    text: `${sentence}\n${where}${reportUrl ? ` ${reportUrl}` : ''}\n`,
  };
}

function wrapHtml(subject: string, body: readonly string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(subject)}</title></head>`,
    '<body style="margin:0;padding:0;background:#ffffff;color:#24292f;font-family:Segoe UI,Helvetica,Arial,sans-serif;">',
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;"><tr><td align="center" style="padding:16px;">',
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;max-width:760px;"><tr><td style="text-align:left;">',
    `<h1 style="font-size:20px;margin:0 0 8px 0;">${escapeHtml(subject)}</h1>`,
    ...body,
    '</td></tr></table>',
    '</td></tr></table>',
    '</body></html>',
  ].join('\n');
}

function assemble(subject: string, blocks: readonly Block[]): RenderedEmail {
  return {
    subject,
    html: wrapHtml(subject, blocks.map((block) => block.html).filter(Boolean)),
    plainText: [subject, '', ...blocks.map((block) => block.text)].join('\n'),
  };
}

/**
 * A digest about several subscriptions (a scan), in triage order, within `maxBytes` of HTML and
 * text together: the first DETAILED_SUBSCRIPTIONS in full, then one row each for as many as fit,
 * then how many more there are and where the report lists them. `part` numbers the message
 * when a backlog is split.
 */
export function renderDigest(
  alerts: readonly OwedAlert[],
  ctx: TemplateContext,
  part?: { index: number; total: number },
  maxBytes: number = DIGEST_LIMITS.maxMessageBytes,
): RenderedEmail {
  const ordered = inTriageOrder(alerts);
  const subject = digestSubject(ordered, part);
  const reportUrl = reportPageUrl(ctx);
  const intro = introBlock(digestIntro(countStatuses(ordered)), reportUrl);
  const footer = footerBlock(ctx.now);
  // Room for everything but the subscriptions, with the longest table title and remainder note
  // this digest can have, and a little to spare.
  const frame = [
    { html: wrapHtml(subject, []), text: subject },
    intro,
    footer,
    rowsBlock([], `${ordered.length} more subscriptions`),
    rowsFixBlock(ctx, reportUrl),
    remainderBlock(ordered, reportUrl),
  ];
  let used = frame.reduce((sum, block) => sum + blockBytes(block), 0) + 256;

  const detailed: Block[] = [];
  let next = 0;
  for (; next < ordered.length && detailed.length < DETAILED_SUBSCRIPTIONS; next += 1) {
    const section = { html: sectionHtml(ordered[next]!, ctx), text: `${sectionText(ordered[next]!, ctx)}\n` };
    if (used + blockBytes(section) > maxBytes) break;
    detailed.push(section);
    used += blockBytes(section);
  }
  const rows: Block[] = [];
  for (; next < ordered.length; next += 1) {
    const row = { html: rowHtml(ordered[next]!, ctx), text: rowText(ordered[next]!, ctx) };
    if (used + blockBytes(row) > maxBytes) break;
    rows.push(row);
    used += blockBytes(row);
  }
  const rest = ordered.slice(next);

  return assemble(subject, [
    intro,
    ...detailed,
    ...(rows.length > 0 ? [rowsBlock(rows, detailed.length > 0 ? `${rows.length} more ${plural(rows.length, 'subscription', 'subscriptions')}` : 'Subscriptions')] : []),
    ...(rest.length > 0 ? [remainderBlock(rest, reportUrl)] : []),
    ...(rows.length > 0 || rest.length > 0 ? [rowsFixBlock(ctx, reportUrl)] : []),
    footer,
  ]);
}

/** A message about one subscription (an event-driven evaluation). */
export function renderSingle(alert: OwedAlert, ctx: TemplateContext): RenderedEmail {
  return assemble(singleSubject(alert), [
    introBlock(singleIntro(alert), reportPageUrl(ctx)),
    { html: sectionHtml(alert, ctx), text: `${sectionText(alert, ctx)}\n` },
    footerBlock(ctx.now),
  ]);
}

export interface DigestPart {
  alerts: OwedAlert[];
  email: RenderedEmail;
}

/**
 * Owed alerts as the fewest digests `limits` allow, in triage order: a part covers at most
 * `maxSubscriptionsPerMessage` subscriptions (a split is numbered "part 1 of 2"), and each is
 * summarised to `maxMessageBytes` by renderDigest.
 */
export function composeDigests(alerts: readonly OwedAlert[], ctx: TemplateContext, limits: DigestLimits = DIGEST_LIMITS): DigestPart[] {
  const ordered = inTriageOrder(alerts);
  const size = Math.max(1, limits.maxSubscriptionsPerMessage);
  const groups: OwedAlert[][] = [];
  for (let start = 0; start < ordered.length; start += size) groups.push(ordered.slice(start, start + size));
  return groups.map((group, index) => ({
    alerts: group,
    email: renderDigest(group, ctx, { index: index + 1, total: groups.length }, limits.maxMessageBytes),
  }));
}
