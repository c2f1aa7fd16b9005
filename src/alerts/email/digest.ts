/**
 * A digest covering many subscriptions (a scan), and a backlog split into digests.
 *
 * A digest lists subscriptions in the report's triage order (non-compliant, then unreadable, then
 * fixed; by display name, then id) and stays under DIGEST_LIMITS.maxMessageBytes whatever the
 * tenant's size, because mail clients clip longer messages and hide the rest: full sections for
 * the first few subscriptions, one compact row each for as many more as fit, then a count of the
 * rest and a link to the report page. A subscription that could not be read is shown as such,
 * with the reason once, never as five failed rules. Subscriptions contact-watch repaired itself
 * come last, in a section of their own (they need nothing done), within the same size.
 */
import type { OwedAlert } from '../../core/alerts.js';
import { inTriageOrder } from '../../report/triage-order.js';
import {
  assemble,
  blockBytes,
  footerBlock,
  frameBlock,
  introBlock,
  remainderBlock,
  repairedRowBlock,
  repairedRowsBlock,
  rowBlock,
  rowsBlock,
  rowsFixBlock,
  sectionBlock,
  type Block,
} from './blocks.js';
import { digestSubject } from './subject.js';
import { reportPageUrl, type RenderedEmail, type TemplateContext } from './template-context.js';
import { countStatuses, digestIntro, plural } from './wording.js';

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

/**
 * A digest about several subscriptions (a scan), in triage order, within `maxBytes` of HTML and
 * text together: the first DETAILED_SUBSCRIPTIONS in full, then one row each for as many as fit,
 * then how many more there are and where the report lists them. The subscriptions contact-watch
 * repaired follow in their own section, one row each for as many as still fit, and a count of the
 * rest. The failing ones come first and take the room first: they are what needs doing. `part`
 * numbers the message when a backlog is split.
 */
export function renderDigest(
  alerts: readonly OwedAlert[],
  ctx: TemplateContext,
  part?: { index: number; total: number },
  maxBytes: number = DIGEST_LIMITS.maxMessageBytes,
): RenderedEmail {
  const ordered = inTriageOrder(alerts);
  const listed = ordered.filter((alert) => alert.kind !== 'repaired');
  const repaired = ordered.filter((alert) => alert.kind === 'repaired');
  const subject = digestSubject(ordered, part);
  const reportUrl = reportPageUrl(ctx);
  const intro = introBlock(digestIntro(countStatuses(ordered)), reportUrl);
  const footer = footerBlock(ctx.now);
  // Room for everything but the subscriptions, with the longest table titles and remainder notes
  // this digest can have, and a little to spare.
  const frame = [
    frameBlock(subject),
    intro,
    footer,
    rowsBlock([], `${ordered.length} more subscriptions`),
    rowsFixBlock(ctx, reportUrl),
    remainderBlock(ordered, reportUrl),
    ...(repaired.length > 0 ? [repairedRowsBlock([], repairedTitle(repaired.length)), remainderBlock(repaired, reportUrl)] : []),
  ];
  let used = frame.reduce((sum, block) => sum + blockBytes(block), 0) + 256;

  const detailed: Block[] = [];
  let next = 0;
  for (; next < listed.length && detailed.length < DETAILED_SUBSCRIPTIONS; next += 1) {
    const section = sectionBlock(listed[next]!, ctx);
    if (used + blockBytes(section) > maxBytes) break;
    detailed.push(section);
    used += blockBytes(section);
  }
  const rows: Block[] = [];
  for (; next < listed.length; next += 1) {
    const row = rowBlock(listed[next]!, ctx);
    if (used + blockBytes(row) > maxBytes) break;
    rows.push(row);
    used += blockBytes(row);
  }
  const rest = listed.slice(next);

  const repairedRows: Block[] = [];
  for (const alert of repaired) {
    const row = repairedRowBlock(alert);
    if (used + blockBytes(row) > maxBytes) break;
    repairedRows.push(row);
    used += blockBytes(row);
  }
  const repairedRest = repaired.slice(repairedRows.length);

  return assemble(subject, [
    intro,
    ...detailed,
    ...(rows.length > 0
      ? [
          rowsBlock(
            rows,
            detailed.length > 0 ? `${rows.length} more ${plural(rows.length, 'subscription', 'subscriptions')}` : 'Subscriptions',
          ),
        ]
      : []),
    ...(rest.length > 0 ? [remainderBlock(rest, reportUrl)] : []),
    ...(rows.length > 0 || rest.length > 0 ? [rowsFixBlock(ctx, reportUrl)] : []),
    ...(repairedRows.length > 0 ? [repairedRowsBlock(repairedRows, repairedTitle(repaired.length))] : []),
    ...(repairedRest.length > 0 ? [remainderBlock(repairedRest, reportUrl)] : []),
    footer,
  ]);
}

function repairedTitle(count: number): string {
  return `Repaired automatically (${count} ${plural(count, 'subscription', 'subscriptions')})`;
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
