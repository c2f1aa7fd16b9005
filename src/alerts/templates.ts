/**
 * The alert e-mails: a digest covering many subscriptions (a scan) and a message about one
 * subscription (an event), each as subject + HTML + plain text.
 *
 * Everything that comes from Azure (display names, rule messages quoting addresses or values) is
 * user input: in HTML it is escaped with escape-html, in plain text its control characters are
 * made inert, and it reaches the subject only when it holds no CR, LF or other control character
 * (otherwise it is left out). No header is ever built from Azure data.
 *
 * The HTML is written for mail clients: tables, inline styles, no external assets, no scripts.
 */
import escapeHtml from 'escape-html';
import { describeDuration, type OwedAlert } from '../core/alerts.js';
import type { Finding, RuleId } from '../core/model.js';
import { REMEDIATION_API_VERSION, securityContactRestBody } from '../core/rules/remediation.js';
import { isSubscriptionId } from '../core/subscription-id.js';

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
   * The addresses the suggested az command writes into the contact (`;`-separated, e.g. the
   * security team's mailbox). Anything but plain address characters is replaced by a placeholder.
   */
  suggestedContactEmails?: string;
}

/** Azure portal per cloud (AZURE_CLOUD). */
export const PORTAL_URLS = {
  AzureCloud: 'https://portal.azure.com',
  AzureUSGovernment: 'https://portal.azure.us',
  AzureChinaCloud: 'https://portal.azure.cn',
} as const;

/**
 * Digest limits. ACS caps a whole request at 10 MB; we stay far below it so a message is also
 * comfortable for mail clients and fits a Table Storage entity once compressed. A digest holds
 * at most 250 subscriptions and about 2 MB of HTML + text; a larger backlog is split into the
 * fewest parts that respect both limits ("part 1 of 3"), never one message per subscription.
 */
export const DIGEST_LIMITS = {
  maxSubscriptionsPerMessage: 250,
  maxMessageBytes: 2 * 1024 * 1024,
} as const;

export interface DigestLimits {
  maxSubscriptionsPerMessage: number;
  maxMessageBytes: number;
}

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

/**
 * A value fit for a subject line: the value itself when it holds no control character (CR, LF,
 * tab, ...), shortened to `maxLength`; otherwise null, and the caller leaves it out.
 */
export function subjectSafe(value: string, maxLength = 80): string | null {
  if (CONTROL.test(value)) return null;
  const trimmed = value.trim();
  if (!trimmed) return null;
  return trimmed.length > maxLength ? `${trimmed.slice(0, maxLength - 1)}…` : trimmed;
}

/** A value for the plain-text body: line breaks and other control characters become one space. */
function inert(value: string): string {
  return value.replace(CONTROL_RUNS, ' ');
}

/** A value for the HTML body: control characters made inert, then HTML-escaped. */
function html(value: string): string {
  return escapeHtml(inert(value));
}

function normalisePortalUrl(portalUrl: string): string {
  const withScheme = /^https?:\/\//i.test(portalUrl) ? portalUrl : `https://${portalUrl}`;
  const url = new URL(withScheme);
  return url.origin;
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
  azCommand: string;
}

function fixInstructions(alert: OwedAlert, ctx: TemplateContext): FixInstructions {
  const portal = normalisePortalUrl(ctx.portalUrl);
  const id = guidOrNull(alert.subscriptionId);
  const idInCommand = id ?? '<subscription-id>';
  // The same body the rules' remediation gives, so the e-mail and the report never disagree on the fix;
  // anything but plain address characters falls back to the rules' placeholder address.
  const suggested = ctx.suggestedContactEmails && /^[A-Za-z0-9@._+;,-]+$/.test(ctx.suggestedContactEmails) ? ctx.suggestedContactEmails : undefined;
  const body = JSON.stringify(securityContactRestBody(suggested));
  // `az rest` puts a URL that starts with "/" on the ARM endpoint of the signed-in cloud, so the
  // same command is right for Azure Government and Azure China.
  const azCommand = [
    '# The PUT replaces the whole contact: list in "emails" every address that should stay.',
    `az rest --method put --url "/subscriptions/${idInCommand}/providers/Microsoft.Security/securityContacts/default?api-version=${REMEDIATION_API_VERSION}" --body '${body}'`,
  ].join('\n');
  const portalLinks = [
    { label: 'Defender for Cloud: Environment settings', url: `${portal}/#view/Microsoft_Azure_Security/SecurityMenuBlade/~/EnvironmentSettings` },
  ];
  if (id) portalLinks.push({ label: 'The subscription in the portal', url: `${portal}/#resource/subscriptions/${id}/overview` });
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
    azCommand,
  };
}

// ---------------------------------------------------------------------------------------------
// One subscription's section

const STATUS_WORDS: Record<OwedAlert['status'], string> = {
  noncompliant: 'non-compliant',
  error: 'unreadable (its security contact could not be read)',
  compliant: 'compliant',
};

function headline(alert: OwedAlert): string {
  switch (alert.kind) {
    case 'alert':
      return alert.status === 'error' ? 'Security contact could not be read' : 'Security contact missing or incomplete';
    case 'reminder':
      return alert.status === 'error' ? 'Reminder: security contact still unreadable' : 'Reminder: still non-compliant';
    case 'fixed':
      return 'Fixed: compliant again';
  }
}

function findingsForDisplay(alert: OwedAlert): Finding[] {
  if (alert.kind === 'fixed') return [];
  if (alert.findings.length > 0) return alert.findings;
  return [
    {
      ruleId: 'contact-exists',
      result: 'error',
      message: alert.status === 'error' ? 'The security contact could not be read.' : 'No finding was recorded.',
    },
  ];
}

function sinceText(alert: OwedAlert, now: Date): string {
  const since = Date.parse(alert.since);
  const when = Number.isNaN(since) ? 'an unknown time' : new Date(since).toISOString().replace(/\.\d{3}Z$/, 'Z').replace('T', ' ');
  return `${describeDuration(alert.since, now)} (since ${when})`;
}

const CELL = 'padding:6px 8px;border:1px solid #d0d7de;vertical-align:top;font-size:14px;';
const HEAD_CELL = `${CELL}background:#f6f8fa;text-align:left;font-weight:bold;`;
const RESULT_COLOURS: Record<string, string> = { fail: '#b42318', error: '#b54708', pass: '#067647' };

function sectionHtml(alert: OwedAlert, ctx: TemplateContext): string {
  const fix = fixInstructions(alert, ctx);
  const findings = findingsForDisplay(alert);
  const colour = alert.kind === 'fixed' ? '#067647' : alert.status === 'error' ? '#b54708' : '#b42318';
  const rows = findings
    .map((finding) => {
      const title = RULE_TITLES[finding.ruleId] ?? finding.ruleId;
      const fixText = finding.result === 'fail' ? ctx.ruleFixes?.[finding.ruleId]?.summary : undefined;
      return (
        '<tr>' +
        `<td style="${CELL}"><strong>${html(title)}</strong><br><span style="color:#57606a;font-size:12px;">${html(finding.ruleId)}</span></td>` +
        `<td style="${CELL}color:${RESULT_COLOURS[finding.result] ?? '#24292f'};font-weight:bold;">${html(finding.result)}</td>` +
        `<td style="${CELL}">${html(finding.message)}${fixText ? `<br><span style="color:#57606a;font-size:12px;">Fix: ${html(fixText)}</span>` : ''}</td>` +
        '</tr>'
      );
    })
    .join('');
  const parts = [
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;margin:0 0 24px 0;border:1px solid #d0d7de;">`,
    `<tr><td style="padding:10px 12px;background:${colour};color:#ffffff;font-size:15px;font-weight:bold;">${html(headline(alert))}</td></tr>`,
    '<tr><td style="padding:10px 12px;font-size:14px;line-height:1.5;">',
    `<div style="font-size:16px;font-weight:bold;">${html(alert.displayName || '(no display name)')}</div>`,
    `<div style="font-family:Consolas,Menlo,monospace;font-size:13px;color:#57606a;">Subscription ${html(alert.subscriptionId)}</div>`,
    `<div style="margin-top:6px;">Status: <strong>${html(STATUS_WORDS[alert.status])}</strong> for ${html(sinceText(alert, ctx.now))}.</div>`,
  ];
  if (findings.length > 0) {
    parts.push(
      '<table cellpadding="0" cellspacing="0" width="100%" style="border-collapse:collapse;margin-top:10px;">',
      `<tr><th style="${HEAD_CELL}">Rule</th><th style="${HEAD_CELL}">Result</th><th style="${HEAD_CELL}">Why</th></tr>`,
      rows,
      '</table>',
    );
  }
  if (alert.kind !== 'fixed') {
    parts.push(
      '<div style="margin-top:12px;font-weight:bold;">How to fix</div>',
      `<ol style="margin:4px 0 0 20px;padding:0;">${fix.portalSteps.map((step) => `<li>${html(step)}</li>`).join('')}</ol>`,
      `<div style="margin-top:6px;">${fix.portalLinks
        .map((link) => `<a href="${escapeHtml(link.url)}" style="color:#0969da;">${html(link.label)}</a>`)
        .join(' &middot; ')}</div>`,
      '<div style="margin-top:8px;">Or with the Azure CLI (bash):</div>',
      `<pre style="margin:4px 0 0 0;padding:8px;background:#f6f8fa;border:1px solid #d0d7de;font-family:Consolas,Menlo,monospace;font-size:12px;white-space:pre-wrap;word-break:break-all;">${escapeHtml(fix.azCommand)}</pre>`,
    );
  } else {
    parts.push('<div style="margin-top:6px;">No action needed.</div>');
  }
  parts.push('</td></tr></table>');
  return parts.join('\n');
}

function sectionText(alert: OwedAlert, ctx: TemplateContext): string {
  const fix = fixInstructions(alert, ctx);
  const lines = [
    `== ${headline(alert)} ==`,
    `Subscription: ${inert(alert.displayName || '(no display name)')}`,
    `Id: ${inert(alert.subscriptionId)}`,
    `Status: ${STATUS_WORDS[alert.status]} for ${sinceText(alert, ctx.now)}.`,
  ];
  const findings = findingsForDisplay(alert);
  if (findings.length > 0) {
    lines.push('Failed rules:');
    for (const finding of findings) {
      lines.push(`  - ${finding.ruleId} (${finding.result}): ${inert(finding.message)}`);
      const fixText = finding.result === 'fail' ? ctx.ruleFixes?.[finding.ruleId]?.summary : undefined;
      if (fixText) lines.push(`    Fix: ${inert(fixText)}`);
    }
  }
  if (alert.kind !== 'fixed') {
    lines.push('How to fix:');
    fix.portalSteps.forEach((step, index) => lines.push(`  ${index + 1}. ${step}`));
    for (const link of fix.portalLinks) lines.push(`  ${link.label}: ${link.url}`);
    lines.push('  Or with the Azure CLI (bash):');
    for (const line of fix.azCommand.split('\n')) lines.push(`    ${line}`);
  } else {
    lines.push('No action needed.');
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Whole messages

function countWords(alerts: readonly OwedAlert[]): string {
  const count = (kind: OwedAlert['kind']) => alerts.filter((alert) => alert.kind === kind).length;
  const parts: string[] = [];
  const fresh = count('alert');
  const reminders = count('reminder');
  const fixed = count('fixed');
  if (fresh) parts.push(`${fresh} new`);
  if (reminders) parts.push(`${reminders} reminder${reminders === 1 ? '' : 's'}`);
  if (fixed) parts.push(`${fixed} fixed`);
  return parts.join(', ');
}

function digestSubject(alerts: readonly OwedAlert[], part: { index: number; total: number } | undefined): string {
  const needing = alerts.filter((alert) => alert.kind !== 'fixed').length;
  const main =
    needing > 0
      ? `${needing} Azure subscription${needing === 1 ? '' : 's'} without a valid security contact`
      : `${alerts.length} Azure subscription${alerts.length === 1 ? '' : 's'} fixed`;
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
      return `[${PRODUCT}] Reminder: subscription ${who} still has no valid security contact`;
    case 'fixed':
      return `[${PRODUCT}] Fixed: subscription ${who} is compliant again`;
  }
}

function wrapHtml(subject: string, intro: string, summaryTable: string, sections: string[], composedAt: Date): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(subject)}</title></head>`,
    '<body style="margin:0;padding:0;background:#ffffff;color:#24292f;font-family:Segoe UI,Helvetica,Arial,sans-serif;">',
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;"><tr><td align="center" style="padding:16px;">',
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;max-width:760px;"><tr><td style="text-align:left;">',
    `<h1 style="font-size:20px;margin:0 0 8px 0;">${escapeHtml(subject)}</h1>`,
    `<p style="font-size:14px;line-height:1.5;margin:0 0 16px 0;">${intro}</p>`,
    summaryTable,
    ...sections,
    `<p style="font-size:12px;color:#57606a;margin:16px 0 0 0;">Sent by ${PRODUCT} at ${escapeHtml(composedAt.toISOString())}. ` +
      'Every Azure subscription needs a Microsoft Defender for Cloud security contact so that security alerts reach a person.</p>',
    '</td></tr></table>',
    '</td></tr></table>',
    '</body></html>',
  ].join('\n');
}

function summaryTableHtml(alerts: readonly OwedAlert[], ctx: TemplateContext): string {
  const rows = alerts
    .map((alert) => {
      const failed = alert.findings.filter((finding) => finding.result !== 'pass').map((finding) => finding.ruleId);
      return (
        '<tr>' +
        `<td style="${CELL}">${html(alert.displayName || '(no display name)')}<br><span style="font-family:Consolas,Menlo,monospace;font-size:12px;color:#57606a;">${html(alert.subscriptionId)}</span></td>` +
        `<td style="${CELL}">${html(alert.kind === 'fixed' ? 'fixed' : alert.status)}${alert.kind === 'reminder' ? ' (reminder)' : ''}</td>` +
        `<td style="${CELL}">${html(describeDuration(alert.since, ctx.now))}</td>` +
        `<td style="${CELL}">${html(failed.join(', ') || '-')}</td>` +
        '</tr>'
      );
    })
    .join('\n');
  return [
    '<table cellpadding="0" cellspacing="0" width="100%" style="border-collapse:collapse;margin:0 0 24px 0;">',
    `<tr><th style="${HEAD_CELL}">Subscription</th><th style="${HEAD_CELL}">Status</th><th style="${HEAD_CELL}">For</th><th style="${HEAD_CELL}">Failed rules</th></tr>`,
    rows,
    '</table>',
  ].join('\n');
}

function summaryTableText(alerts: readonly OwedAlert[], ctx: TemplateContext): string {
  return alerts
    .map((alert) => {
      const failed = alert.findings.filter((finding) => finding.result !== 'pass').map((finding) => finding.ruleId);
      const status = alert.kind === 'fixed' ? 'fixed' : `${alert.status}${alert.kind === 'reminder' ? ' (reminder)' : ''}`;
      return `* ${inert(alert.displayName || '(no display name)')} [${inert(alert.subscriptionId)}]: ${status} for ${describeDuration(alert.since, ctx.now)}; failed: ${failed.join(', ') || '-'}`;
    })
    .join('\n');
}

function introText(alerts: readonly OwedAlert[], digest: boolean): string {
  const needing = alerts.filter((alert) => alert.kind !== 'fixed').length;
  if (needing === 0) return 'These subscriptions have a valid security contact again.';
  return digest
    ? `${needing} subscription${needing === 1 ? '' : 's'} in your tenant lack a valid Microsoft Defender for Cloud security contact, so security alerts for them may reach no one. Each is listed below with the rules it fails and how to fix it.`
    : 'This subscription lacks a valid Microsoft Defender for Cloud security contact, so its security alerts may reach no one.';
}

/** A digest about several subscriptions (a scan). `part` numbers the message when a backlog is split. */
export function renderDigest(alerts: readonly OwedAlert[], ctx: TemplateContext, part?: { index: number; total: number }): RenderedEmail {
  return assembleDigest(
    alerts,
    alerts.map((alert) => ({ html: sectionHtml(alert, ctx), text: sectionText(alert, ctx) })),
    ctx,
    part,
  );
}

function assembleDigest(
  alerts: readonly OwedAlert[],
  sections: readonly { html: string; text: string }[],
  ctx: TemplateContext,
  part: { index: number; total: number } | undefined,
): RenderedEmail {
  const subject = digestSubject(alerts, part);
  const intro = introText(alerts, true);
  const htmlBody = wrapHtml(subject, escapeHtml(intro), summaryTableHtml(alerts, ctx), sections.map((s) => s.html), ctx.now);
  const plainText = [
    subject,
    '',
    intro,
    '',
    summaryTableText(alerts, ctx),
    '',
    ...sections.map((s) => `${s.text}\n`),
    `Sent by ${PRODUCT} at ${ctx.now.toISOString()}.`,
  ].join('\n');
  return { subject, html: htmlBody, plainText };
}

/** A message about one subscription (an event-driven evaluation). */
export function renderSingle(alert: OwedAlert, ctx: TemplateContext): RenderedEmail {
  const subject = singleSubject(alert);
  const intro = introText([alert], false);
  const htmlBody = wrapHtml(subject, escapeHtml(intro), '', [sectionHtml(alert, ctx)], ctx.now);
  const plainText = [subject, '', intro, '', sectionText(alert, ctx), '', `Sent by ${PRODUCT} at ${ctx.now.toISOString()}.`].join('\n');
  return { subject, html: htmlBody, plainText };
}

export interface DigestPart {
  alerts: OwedAlert[];
  email: RenderedEmail;
}

/**
 * Splits owed alerts into the fewest digests within `limits` and renders them. Alerts keep their
 * order; each part carries at most `maxSubscriptionsPerMessage` subscriptions and about
 * `maxMessageBytes` of HTML + text.
 */
export function composeDigests(alerts: readonly OwedAlert[], ctx: TemplateContext, limits: DigestLimits = DIGEST_LIMITS): DigestPart[] {
  if (alerts.length === 0) return [];
  const sections = alerts.map((alert) => {
    const rendered = { html: sectionHtml(alert, ctx), text: sectionText(alert, ctx) };
    return { alert, rendered, bytes: Buffer.byteLength(rendered.html) + Buffer.byteLength(rendered.text) + 1024 };
  });
  const frame = 8 * 1024; // head, intro, footer
  const groups: (typeof sections)[] = [];
  let current: typeof sections = [];
  let bytes = frame;
  for (const section of sections) {
    const full = current.length >= limits.maxSubscriptionsPerMessage || (current.length > 0 && bytes + section.bytes > limits.maxMessageBytes);
    if (full) {
      groups.push(current);
      current = [];
      bytes = frame;
    }
    current.push(section);
    bytes += section.bytes;
  }
  groups.push(current);
  return groups.map((group, index) => {
    const groupAlerts = group.map((section) => section.alert);
    return {
      alerts: groupAlerts,
      email: assembleDigest(groupAlerts, group.map((section) => section.rendered), ctx, { index: index + 1, total: groups.length }),
    };
  });
}
