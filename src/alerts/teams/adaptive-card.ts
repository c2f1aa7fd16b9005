/**
 * The alerts as a Microsoft Teams message: an Adaptive Card (schema 1.5, which Teams renders on
 * desktop, web and mobile) in the envelope a Teams workflow's "When a Teams webhook request is
 * received" trigger takes (`{"type":"message","attachments":[{"contentType":…,"content":<card>}]}`).
 *
 * Safety: every piece of text is a TextRun of a RichTextBlock, never a TextBlock. Teams reads
 * Markdown in a TextBlock (and in FactSet facts), so a display name like `[Payroll](https://evil)`
 * would become a link there; a TextRun is plain text by the Adaptive Card schema. Text from Azure is
 * made inert as in the e-mails (control characters become a space, bidirectional controls U+FFFD,
 * `https://` and `www.` are defanged so no client makes a link of them, long values are cut), and
 * the card's links (Action.OpenUrl) are built only from the portal of the cloud, a validated
 * subscription id, and the report page's setting.
 *
 * Size: Teams refuses a message over about 28 KB, so a digest lists the subscriptions that fit
 * within TEAMS_MESSAGE_MAX_BYTES (at most TEAMS_DIGEST_MAX_SUBSCRIPTIONS), then says how many more
 * there are and links to the report page for them.
 */
import { describeDuration, type OwedAlert } from '../../core/alerts.js';
import { environmentSettingsUrl, subscriptionOverviewUrl } from '../../core/azure-portal.js';
import { inTriageOrder } from '../../report/triage-order.js';
import { fixInstructions } from '../email/fix-instructions.js';
import { commandText, guidOrNull, inert, MESSAGE_MAX, NAME_MAX, ROW_REASON_MAX } from '../email/safe-text.js';
import { digestSubject, singleSubject } from '../email/subject.js';
import { reportPageUrl, type TemplateContext } from '../email/template-context.js';
import {
  countStatuses,
  digestIntro,
  failedRepairText,
  failedRules,
  isNotice,
  plural,
  PRODUCT,
  repairWords,
  rowStatus,
  singleIntro,
  unreadableReasons,
  utcText,
  whatFails,
} from '../email/wording.js';

export const ADAPTIVE_CARD_VERSION = '1.5';
export const ADAPTIVE_CARD_SCHEMA = 'http://adaptivecards.io/schemas/adaptive-card.json';
export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';
/** The whole request body, in UTF-8: under Teams' limit of about 28 KB a message, with room to spare. */
export const TEAMS_MESSAGE_MAX_BYTES = 27 * 1024;
/** The most subscriptions a digest card lists; the report page lists the rest. */
export const TEAMS_DIGEST_MAX_SUBSCRIPTIONS = 25;

type Json = Record<string, unknown>;

/** What a Teams workflow receives, and the card's title for the outbox. */
export interface RenderedTeamsMessage {
  subject: string;
  /** The request body: the message envelope with the card, as JSON text. */
  body: string;
}

interface Run {
  text: string;
  weight?: 'Bolder';
  isSubtle?: boolean;
  color?: 'Attention' | 'Good' | 'Warning';
  fontType?: 'Monospace';
  size?: 'Medium' | 'Small';
}

/** A paragraph of plain text runs (never Markdown). */
function paragraph(runs: readonly (Run | string)[], extra: Json = {}): Json {
  return {
    type: 'RichTextBlock',
    inlines: runs.map((run) => (typeof run === 'string' ? { type: 'TextRun', text: run } : { type: 'TextRun', ...run })),
    ...extra,
  };
}

function openUrl(title: string, url: string | undefined): Json[] {
  return url ? [{ type: 'Action.OpenUrl', title, url }] : [];
}

/** The card in its envelope, as the workflow receives it. */
export function teamsEnvelope(body: readonly Json[], actions: readonly Json[]): Json {
  const card: Json = {
    type: 'AdaptiveCard',
    $schema: ADAPTIVE_CARD_SCHEMA,
    version: ADAPTIVE_CARD_VERSION,
    body,
    ...(actions.length > 0 ? { actions } : {}),
  };
  return { type: 'message', attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, contentUrl: null, content: card }] };
}

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

/** The subject without the `[contact-watch] ` tag the e-mail subject carries for mail filters. */
function title(subject: string): Json {
  return paragraph([{ text: subject.replace(`[${PRODUCT}] `, ''), weight: 'Bolder', size: 'Medium' }]);
}

function footer(ctx: TemplateContext): Json {
  return paragraph([{ text: `${PRODUCT}, ${utcText(ctx.now.toISOString())}`, isSubtle: true, size: 'Small' }], { separator: true });
}

function statusColor(alert: OwedAlert): Run['color'] {
  return isNotice(alert) ? 'Good' : alert.kind === 'reminder' ? 'Warning' : 'Attention';
}

/** The subscription's name and id, the first line of each subscription. */
function nameLine(alert: OwedAlert): Json {
  return paragraph([
    { text: inert(alert.displayName || '(no display name)', NAME_MAX), weight: 'Bolder' },
    { text: `  ${inert(alert.subscriptionId, NAME_MAX)}`, isSubtle: true, fontType: 'Monospace' },
  ]);
}

/** One subscription as a digest lists it: name, id, status, how long, and what fails. */
function row(alert: OwedAlert, ctx: TemplateContext): Json {
  return {
    type: 'Container',
    separator: true,
    items: [
      nameLine(alert),
      paragraph([
        { text: `${rowStatus(alert)} for ${describeDuration(alert.since, ctx.now)}`, color: statusColor(alert) },
        `: ${inert(whatFails(alert), ROW_REASON_MAX)}`,
      ]),
    ],
  };
}

/** One subscription in full (an event's card): what fails, a repair tried, and how to fix it. */
function section(alert: OwedAlert, ctx: TemplateContext): Json[] {
  const items: Json[] = [
    nameLine(alert),
    paragraph([
      { text: `${rowStatus(alert)} for ${describeDuration(alert.since, ctx.now)}`, color: statusColor(alert) },
      ` (since ${utcText(alert.since)})`,
    ]),
  ];
  if (alert.kind === 'repaired' && alert.repair) {
    const repair = repairWords(alert.repair);
    items.push(paragraph([`Repaired automatically at ${repair.when} by ${repair.by}:`]));
    for (const change of repair.changes) items.push(paragraph([`• ${change}`]));
  } else if (!isNotice(alert) && alert.repair) {
    items.push(paragraph([failedRepairText(alert.repair)]));
  }
  if (!isNotice(alert) && alert.status === 'error') {
    for (const reason of unreadableReasons(alert))
      items.push(paragraph([{ text: 'Reason: ', weight: 'Bolder' }, inert(reason, MESSAGE_MAX)]));
  } else if (!isNotice(alert)) {
    for (const group of failedRules(alert)) {
      const rules = `${group.ruleIds.join(', ')}${group.result === 'error' ? ' (could not be evaluated)' : ''}: `;
      items.push(paragraph([{ text: rules, weight: 'Bolder' }, inert(group.message, MESSAGE_MAX)]));
      for (const text of group.fixTexts) items.push(paragraph([{ text: `Fix: ${text}`, isSubtle: true }]));
    }
  }
  if (isNotice(alert)) return [...items, paragraph(['No action needed.'])];
  const fix = fixInstructions(alert, ctx);
  items.push(paragraph([{ text: 'How to fix', weight: 'Bolder' }], { separator: true }));
  fix.portalSteps.forEach((step, index) => items.push(paragraph([`${index + 1}. ${step}`])));
  if (fix.azCommand) {
    items.push(paragraph(['Or with the Azure CLI (bash):']));
    items.push(paragraph([{ text: commandText(fix.azCommand), fontType: 'Monospace', size: 'Small' }]));
  }
  return items;
}

function send(subject: string, body: readonly Json[], actions: readonly Json[]): RenderedTeamsMessage {
  return { subject, body: JSON.stringify(teamsEnvelope(body, actions)) };
}

/** The card about one subscription (an event-driven evaluation). */
export function renderTeamsSingle(alert: OwedAlert, ctx: TemplateContext): RenderedTeamsMessage {
  const subject = singleSubject(alert);
  const id = guidOrNull(alert.subscriptionId);
  const actions = [
    ...openUrl('Open the subscription', id ? subscriptionOverviewUrl(ctx.portalUrl, id) : undefined),
    ...openUrl('Defender for Cloud settings', environmentSettingsUrl(ctx.portalUrl)),
    ...openUrl('Open the report', reportPageUrl(ctx)),
  ];
  const full = [title(subject), paragraph([singleIntro(alert)]), ...section(alert, ctx), footer(ctx)];
  if (bytes(teamsEnvelope(full, actions)) <= TEAMS_MESSAGE_MAX_BYTES) return send(subject, full, actions);
  // Only a very long suggested command gets here: the card keeps what fails and leaves the command to the portal steps.
  return send(subject, [title(subject), paragraph([singleIntro(alert)]), row(alert, ctx), footer(ctx)], actions);
}

/**
 * The card about many subscriptions (a scan): as many as fit, in the report's triage order with
 * the subscriptions contact-watch repaired last, then how many more there are and where they are.
 */
export function renderTeamsDigest(
  alerts: readonly OwedAlert[],
  ctx: TemplateContext,
  part?: { index: number; total: number },
  maxBytes: number = TEAMS_MESSAGE_MAX_BYTES,
): RenderedTeamsMessage {
  const ordered = inTriageOrder(alerts);
  const listed = [...ordered.filter((alert) => alert.kind !== 'repaired'), ...ordered.filter((alert) => alert.kind === 'repaired')];
  const subject = digestSubject(ordered, part);
  const reportUrl = reportPageUrl(ctx);
  const actions = [
    ...openUrl('Open the report', reportUrl),
    ...openUrl('Defender for Cloud settings', environmentSettingsUrl(ctx.portalUrl)),
  ];
  const head = [title(subject), paragraph([digestIntro(countStatuses(ordered))])];
  // Room for the frame and the longest remainder note this card can have.
  let used = bytes(teamsEnvelope([...head, remainder(listed, reportUrl), footer(ctx)], actions)) + 64;
  const rows: Json[] = [];
  for (const alert of listed.slice(0, TEAMS_DIGEST_MAX_SUBSCRIPTIONS)) {
    const next = row(alert, ctx);
    // A comma between elements, besides the element itself.
    if (used + bytes(next) + 1 > maxBytes) break;
    rows.push(next);
    used += bytes(next) + 1;
  }
  const rest = listed.slice(rows.length);
  return send(subject, [...head, ...rows, ...(rest.length > 0 ? [remainder(rest, reportUrl)] : []), footer(ctx)], actions);
}

/** The subscriptions a card counts without listing them, and where they are listed. */
function remainder(rest: readonly OwedAlert[], reportUrl: string | undefined): Json {
  const where = reportUrl
    ? '"Open the report" lists every one.'
    : "The contact-watch report lists every one (the app's /api/report page, or contact-watch scan --format html).";
  return paragraph(
    [
      `… and ${rest.length} more ${plural(rest.length, 'subscription', 'subscriptions')}, not listed to keep this card within Teams' size limit. ${where}`,
    ],
    { separator: true },
  );
}
