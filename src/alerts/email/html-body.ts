/**
 * The HTML body, written for mail clients: tables, inline styles, no external assets, no scripts.
 * Every value goes through the `html` tag (escaped, bidirectional controls shown); a value from
 * Azure is made inert and shortened first (safe-text.ts).
 */
import { describeDuration, type OwedAlert } from '../../core/alerts.js';
import { html, joinHtml, type Html } from '../../report/html-tag.js';
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
  RULE_TITLES,
  sinceText,
  statusWords,
  unreadableReasons,
  whatFails,
} from './wording.js';

const CELL = 'padding:6px 8px;border:1px solid #d0d7de;vertical-align:top;font-size:14px;';
const HEAD_CELL = `${CELL}background:#f6f8fa;text-align:left;font-weight:bold;`;
const RESULT_COLOURS: Record<string, string> = { fail: '#b42318', error: '#b54708', pass: '#067647' };
const MUTED = 'color:#57606a;font-size:12px;';
const LINK = 'color:#0969da;';
const PARAGRAPH = 'font-size:14px;line-height:1.5;margin:0 0 16px 0;';

const lines = (parts: readonly Html[]): Html => joinHtml(parts, html`\n`);

/** One subscription in full: what is wrong, since when, and how to fix it. */
export function sectionHtml(alert: OwedAlert, ctx: TemplateContext, fix: FixInstructions | undefined): Html {
  const colour = isNotice(alert) ? '#067647' : alert.status === 'error' ? '#b54708' : '#b42318';
  const parts = [
    html`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;margin:0 0 24px 0;border:1px solid #d0d7de;">`,
    html`<tr><td style="padding:10px 12px;background:${colour};color:#ffffff;font-size:15px;font-weight:bold;">${headline(alert)}</td></tr>`,
    html`<tr><td style="padding:10px 12px;font-size:14px;line-height:1.5;">`,
    html`<div style="font-size:16px;font-weight:bold;">${inert(alert.displayName || '(no display name)', NAME_MAX)}</div>`,
    html`<div style="font-family:Consolas,Menlo,monospace;font-size:13px;color:#57606a;">Subscription ${inert(alert.subscriptionId, NAME_MAX)}</div>`,
    html`<div style="margin-top:6px;">Status: <strong>${statusWords(alert)}</strong> for ${sinceText(alert, ctx.now)}.</div>`,
  ];
  if (alert.kind === 'repaired' && alert.repair) {
    const repair = repairWords(alert.repair);
    parts.push(
      html`<div style="margin-top:6px;">Repaired automatically: <strong>${repair.when}</strong></div>`,
      html`<div style="margin-top:6px;">Made by: ${repair.by}</div>`,
      html`<div style="margin-top:6px;">What was changed:</div>`,
      html`<ul style="margin:4px 0 0 20px;padding:0;">${repair.changes.map((change) => html`<li>${change}</li>`)}</ul>`,
    );
  } else if (!isNotice(alert) && alert.repair) {
    parts.push(html`<div style="margin-top:6px;"><strong>${failedRepairText(alert.repair)}</strong></div>`);
  }
  if (!isNotice(alert) && alert.status === 'error') {
    parts.push(...unreadableReasons(alert).map((reason) => html`<div style="margin-top:6px;">Reason: ${inert(reason, MESSAGE_MAX)}</div>`));
  } else if (!isNotice(alert)) {
    const rows = failedRules(alert).map(
      (group) =>
        html`<tr><td style="${CELL}">${joinHtml(
          group.ruleIds.map((id) => html`<strong>${RULE_TITLES[id] ?? id}</strong><br><span style="${MUTED}">${id}</span>`),
          html`<br>`,
        )}</td><td style="${CELL}color:${RESULT_COLOURS[group.result] ?? '#24292f'};font-weight:bold;">${group.result}</td><td style="${CELL}">${inert(
          group.message,
          MESSAGE_MAX,
        )}${group.fixTexts.map((text) => html`<br><span style="${MUTED}">Fix: ${text}</span>`)}</td></tr>`,
    );
    parts.push(
      html`<table cellpadding="0" cellspacing="0" width="100%" style="border-collapse:collapse;margin-top:10px;">`,
      html`<tr><th style="${HEAD_CELL}">Rule</th><th style="${HEAD_CELL}">Result</th><th style="${HEAD_CELL}">Why</th></tr>`,
      html`${rows}`,
      html`</table>`,
    );
  }
  if (fix) {
    parts.push(
      html`<div style="margin-top:12px;font-weight:bold;">How to fix</div>`,
      html`<ol style="margin:4px 0 0 20px;padding:0;">${fix.portalSteps.map((step) => html`<li>${step}</li>`)}</ol>`,
      ...(fix.portalLinks.length > 0 ? [html`<div style="margin-top:6px;">${portalLinks(fix)}</div>`] : []),
      ...(fix.azCommand
        ? [
            html`<div style="margin-top:8px;">Or with the Azure CLI (bash):</div>`,
            html`<pre style="margin:4px 0 0 0;padding:8px;background:#f6f8fa;border:1px solid #d0d7de;font-family:Consolas,Menlo,monospace;font-size:12px;white-space:pre-wrap;word-break:break-all;">${commandText(fix.azCommand)}</pre>`,
          ]
        : []),
    );
  } else {
    parts.push(html`<div style="margin-top:6px;">No action needed.</div>`);
  }
  parts.push(html`</td></tr></table>`);
  return lines(parts);
}

function portalLinks(fix: FixInstructions): Html {
  return joinHtml(
    fix.portalLinks.map((link) => html`<a href="${link.url}" style="${LINK}">${link.label}</a>`),
    html` &middot; `,
  );
}

/** One subscription as a row of the digest's compact list. */
export function rowHtml(alert: OwedAlert, ctx: TemplateContext): Html {
  return html`<tr><td>${inert(alert.displayName || '(no display name)', NAME_MAX)}<br><span style="font-family:Consolas,Menlo,monospace;${MUTED}">${inert(
    alert.subscriptionId,
    NAME_MAX,
  )}</span></td><td>${rowStatus(alert)}</td><td nowrap>${describeDuration(alert.since, ctx.now)}</td><td>${inert(whatFails(alert), ROW_REASON_MAX)}</td></tr>`;
}

/** The digest's repaired subscriptions: what was written where, when and by whom, after the failing ones. */
export function repairedRowsHtml(rows: readonly Html[], title: string, note: string): Html {
  return lines([
    html`<h2 style="font-size:16px;margin:8px 0;">${title}</h2>`,
    html`<p style="${PARAGRAPH}">${note}</p>`,
    html`<table cellpadding="5" cellspacing="0" border="1" width="100%" style="border-collapse:collapse;border:1px solid #d0d7de;font-size:13px;margin:0 0 16px 0;">`,
    html`<tr style="background:#f6f8fa;text-align:left;"><th>Subscription</th><th>Repaired</th><th>Made by</th><th>What was changed</th></tr>`,
    ...rows,
    html`</table>`,
  ]);
}

/** One repaired subscription as a row of the digest's repaired section. */
export function repairedRowHtml(alert: OwedAlert): Html {
  const repair = alert.repair ? repairWords(alert.repair) : undefined;
  return html`<tr><td>${inert(alert.displayName || '(no display name)', NAME_MAX)}<br><span style="font-family:Consolas,Menlo,monospace;${MUTED}">${inert(
    alert.subscriptionId,
    NAME_MAX,
  )}</span></td><td nowrap>${repair?.when ?? ''}</td><td>${repair?.by ?? ''}</td><td>${joinHtml(
    (repair?.changes ?? []).map((change) => html`${change}`),
    html`<br>`,
  )}</td></tr>`;
}

export function introHtml(intro: string, reportUrl: string | undefined): Html {
  const link = reportUrl
    ? html`<p style="${PARAGRAPH}">The report page lists every subscription and how to fix it: <a href="${reportUrl}" style="${LINK}">${reportUrl}</a></p>`
    : html``;
  return html`<p style="${PARAGRAPH}">${intro}</p>\n${link}`;
}

export function footerHtml(product: string, now: Date): Html {
  return html`<p style="font-size:12px;color:#57606a;margin:16px 0 0 0;">Sent by ${product} at ${now.toISOString()}. Every Azure subscription needs a Microsoft Defender for Cloud security contact so that security alerts reach a person.</p>`;
}

export function rowsHtml(rows: readonly Html[], title: string): Html {
  return lines([
    html`<h2 style="font-size:16px;margin:8px 0;">${title}</h2>`,
    html`<table cellpadding="5" cellspacing="0" border="1" width="100%" style="border-collapse:collapse;border:1px solid #d0d7de;font-size:13px;margin:0 0 16px 0;">`,
    html`<tr style="background:#f6f8fa;text-align:left;"><th>Subscription</th><th>Status</th><th>For</th><th>What is wrong</th></tr>`,
    ...rows,
    html`</table>`,
  ]);
}

export function rowsFixHtml(steps: string, settingsUrl: string | undefined): Html {
  return html`<p style="${PARAGRAPH}">${steps}${settingsUrl ? html` <a href="${settingsUrl}" style="${LINK}">Defender for Cloud: Environment settings</a>` : ''}</p>`;
}

export function remainderHtml(sentence: string, where: string, reportUrl: string | undefined): Html {
  return html`<p style="${PARAGRAPH}"><strong>${sentence}</strong> ${where}${reportUrl ? html` <a href="${reportUrl}" style="${LINK}">${reportUrl}</a>` : ''}</p>`;
}

/** The whole document around the blocks, the subject as its title and heading. */
export function documentHtml(subject: string, body: readonly Html[]): Html {
  return lines([
    html`<!DOCTYPE html>`,
    html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`,
    html`<title>${subject}</title></head>`,
    html`<body style="margin:0;padding:0;background:#ffffff;color:#24292f;font-family:Segoe UI,Helvetica,Arial,sans-serif;">`,
    html`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;"><tr><td align="center" style="padding:16px;">`,
    html`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-collapse:collapse;max-width:760px;"><tr><td style="text-align:left;">`,
    html`<h1 style="font-size:20px;margin:0 0 8px 0;">${subject}</h1>`,
    ...body,
    html`</td></tr></table>`,
    html`</td></tr></table>`,
    html`</body></html>`,
  ]);
}
