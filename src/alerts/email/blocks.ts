/**
 * A message as blocks, each in both bodies at once, so that a digest can count what a block adds
 * to the message before it takes it.
 */
import type { OwedAlert } from '../../core/alerts.js';
import { environmentSettingsUrl } from '../../core/azure-portal.js';
import type { Html } from '../../report/html-tag.js';
import { fixInstructions, rowsFixSteps } from './fix-instructions.js';
import {
  documentHtml,
  footerHtml,
  introHtml,
  remainderHtml,
  repairedRowHtml,
  repairedRowsHtml,
  rowHtml,
  rowsFixHtml,
  rowsHtml,
  sectionHtml,
} from './html-body.js';
import type { RenderedEmail, TemplateContext } from './template-context.js';
import {
  documentText,
  footerText,
  introText,
  remainderText,
  repairedRowsText,
  repairedRowText,
  rowsFixText,
  rowsText,
  rowText,
  sectionText,
} from './text-body.js';
import { isNotice, PRODUCT, remainderWords, REPAIRED_SECTION_NOTE } from './wording.js';

/** A piece of a message in both bodies. */
export interface Block {
  html: Html;
  text: string;
}

/** Bytes a block adds to a message: its HTML and text, and the line break after each. */
export const blockBytes = (block: Block) => Buffer.byteLength(block.html.markup) + Buffer.byteLength(block.text) + 2;

export function introBlock(intro: string, reportUrl: string | undefined): Block {
  return { html: introHtml(intro, reportUrl), text: introText(intro, reportUrl) };
}

export function footerBlock(now: Date): Block {
  return { html: footerHtml(PRODUCT, now), text: footerText(PRODUCT, now) };
}

/** One subscription in full. */
export function sectionBlock(alert: OwedAlert, ctx: TemplateContext): Block {
  const fix = isNotice(alert) ? undefined : fixInstructions(alert, ctx);
  return { html: sectionHtml(alert, ctx, fix), text: `${sectionText(alert, ctx, fix)}\n` };
}

/** One subscription as a row of the digest's compact list. */
export function rowBlock(alert: OwedAlert, ctx: TemplateContext): Block {
  return { html: rowHtml(alert, ctx), text: rowText(alert, ctx) };
}

export function rowsBlock(rows: readonly Block[], title: string): Block {
  return {
    html: rowsHtml(
      rows.map((row) => row.html),
      title,
    ),
    text: rowsText(
      rows.map((row) => row.text),
      title,
    ),
  };
}

/** One repaired subscription as a row of the digest's repaired section. */
export function repairedRowBlock(alert: OwedAlert): Block {
  return { html: repairedRowHtml(alert), text: repairedRowText(alert) };
}

/** The digest's section of repaired subscriptions, after the failing ones. */
export function repairedRowsBlock(rows: readonly Block[], title: string): Block {
  return {
    html: repairedRowsHtml(
      rows.map((row) => row.html),
      title,
      REPAIRED_SECTION_NOTE,
    ),
    text: repairedRowsText(
      rows.map((row) => row.text),
      title,
      REPAIRED_SECTION_NOTE,
    ),
  };
}

/** What to do about the subscriptions listed as rows or counted (the sections above carry their own steps). */
export function rowsFixBlock(ctx: TemplateContext, reportUrl: string | undefined): Block {
  const steps = rowsFixSteps(reportUrl);
  const settings = environmentSettingsUrl(ctx.portalUrl);
  return { html: rowsFixHtml(steps, settings), text: rowsFixText(steps, settings) };
}

/** The subscriptions a digest counts without listing them, and where they are listed. */
export function remainderBlock(rest: readonly OwedAlert[], reportUrl: string | undefined): Block {
  const { sentence, where } = remainderWords(rest, reportUrl);
  return { html: remainderHtml(sentence, where, reportUrl), text: remainderText(sentence, where, reportUrl) };
}

/** The frame every message has, without its blocks: the document around them and the subject. */
export function frameBlock(subject: string): Block {
  return { html: documentHtml(subject, []), text: subject };
}

export function assemble(subject: string, blocks: readonly Block[]): RenderedEmail {
  return {
    subject,
    html: documentHtml(
      subject,
      blocks.map((block) => block.html).filter((markup) => markup.markup !== ''),
    ).markup,
    plainText: documentText(
      subject,
      blocks.map((block) => block.text),
    ),
  };
}
