/** A message about one subscription (an event-driven evaluation). */
import type { OwedAlert } from '../../core/alerts.js';
import { assemble, footerBlock, introBlock, sectionBlock } from './blocks.js';
import { singleSubject } from './subject.js';
import { reportPageUrl, type RenderedEmail, type TemplateContext } from './template-context.js';
import { singleIntro } from './wording.js';

export function renderSingle(alert: OwedAlert, ctx: TemplateContext): RenderedEmail {
  return assemble(singleSubject(alert), [
    introBlock(singleIntro(alert), reportPageUrl(ctx)),
    sectionBlock(alert, ctx),
    footerBlock(ctx.now),
  ]);
}
