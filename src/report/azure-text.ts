/**
 * Text from Azure, made safe to show.
 *
 * Display names, e-mail addresses and the messages quoting them are whatever a subscription's
 * owner typed. Each format escapes its own syntax (escape-html, Markdown escapes, CSV quoting,
 * terminal control characters); the two concerns below are the same in every format, so they
 * are handled here, once.
 */

/**
 * The bidirectional formatting characters: embeddings and overrides (U+202A to U+202E), isolates
 * (U+2066 to U+2069) and the implicit marks LRM, RLM and ALM (U+200E, U+200F, U+061C). They are
 * invisible and reorder the text around them, so `Payroll <U+202E>gpj.exe` reads "Payroll exe.jpg"
 * and a command can show one thing and run another. Right-to-left scripts read correctly without
 * them.
 */
export const BIDI_CONTROL_CHARACTERS = '\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069';
const BIDI_CONTROLS = new RegExp(`[${BIDI_CONTROL_CHARACTERS}]`, 'g');

/** Shown in place of a character that must not act: visible, and it reorders nothing. */
export const VISIBLE_REPLACEMENT = '\uFFFD';

/** Text for people: each bidirectional control shown as U+FFFD, so the reader sees one was there. */
export function showBidiControls(text: string): string {
  return text.replace(BIDI_CONTROLS, VISIBLE_REPLACEMENT);
}

/**
 * JSON text (any `JSON.stringify` output) with each bidirectional control written as a `\uXXXX`
 * escape. Outside strings JSON holds only ASCII, so they can only be inside a string, where the
 * escape decodes to the very same character: the data stays exact, the text is safe to look at.
 */
export function escapeBidiControlsInJson(json: string): string {
  return json.replace(BIDI_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Text with nothing a Markdown renderer or a mail client turns into a link by itself: `://` becomes
 * `[://]` and `www.` becomes `www[.]`, the way threat reports write an address that must not be
 * followed. GFM links `www.`, `http://` and `https://` text (cmark-gfm in the source, remark-gfm and
 * markdown-it in the text after escapes are undone), so an escape alone would not stop it; and a
 * `:` right before `//` keeps linkify-it from reading `//host` as a link of its own.
 */
export function defangAutolinks(text: string): string {
  return text.replace(/:\/\//g, '[://]').replace(/(www)\./gi, '$1[.]');
}

/**
 * Text on one line: each run of line ends (CR, LF, and U+0085, U+2028, U+2029, which some readers
 * take for one) becomes a space, for a message a format keeps to a single line.
 */
export function oneLine(text: string): string {
  return text.replace(/[\r\n\u0085\u2028\u2029]+/g, ' ');
}
