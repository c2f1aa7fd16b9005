/**
 * The `html` template tag, the one way HTML is written in the reports, the operator page and the
 * alert e-mails: every interpolated value is escaped with escape-html unless it is markup built by
 * the same tag, and bidirectional controls are shown as U+FFFD (`<bdi>` isolates a name from its
 * neighbours, but an override inside it still reorders the name itself). Names from Azure are
 * user input: a display name `<script>` arrives as text.
 */
import escapeHtml from 'escape-html';
import { showBidiControls } from './azure-text.js';

/** Markup built by the `html` tag; anything else interpolated into it is escaped. */
export class Html {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

export type Interpolation = Html | string | number | null | undefined | false | readonly Interpolation[];

/** Template tag: escapes every interpolated value except Html (and arrays of them). */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let markup = strings[0] ?? '';
  values.forEach((value, index) => {
    markup += interpolate(value) + (strings[index + 1] ?? '');
  });
  return new Html(markup);
}

function interpolate(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.markup;
  if (Array.isArray(value)) return value.map(interpolate).join('');
  return escapeHtml(showBidiControls(String(value)));
}

/** The parts one after another with `separator` (markup) between them. */
export function joinHtml(parts: readonly Html[], separator: Html): Html {
  return new Html(parts.map((part) => part.markup).join(separator.markup));
}
