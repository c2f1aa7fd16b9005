/**
 * Values from Azure made fit for a message. Everything that comes from Azure (display names, rule
 * messages quoting addresses or values) is user input: in both bodies its control characters are
 * made inert, bidirectional controls are shown as U+FFFD and URL or `www.` text is defanged so a
 * mail client does not make a link of it (src/report/azure-text.ts, as in the reports), and it is
 * shortened; it reaches the subject only when it holds no CR, LF or other control character. The
 * HTML body escapes it as well (the `html` tag).
 */
import { isSubscriptionId } from '../../core/subscription-id.js';
import { defangAutolinks, escapeBidiControlsInJson, showBidiControls } from '../../report/azure-text.js';

/** Longest value from Azure shown in a message (a display name, a rule's message), in UTF-16 units. */
export const NAME_MAX = 120;
export const MESSAGE_MAX = 500;
export const ROW_REASON_MAX = 160;

/** Control characters, including CR/LF and the Unicode line and paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const CONTROL_RUNS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/**
 * At most `maxLength` UTF-16 units, ending in `…` when shortened (never half a surrogate pair).
 * Units, not characters: it bounds what a message holds (report/table.ts counts characters, for
 * columns; core/record-bounds.ts says how much it left out, for stored rows).
 */
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
export function inert(value: string, maxLength: number): string {
  return shortened(defangAutolinks(showBidiControls(value.replace(CONTROL_RUNS, ' '))), maxLength);
}

/**
 * The suggested command as shown. Its only text from Azure sits in its JSON body, so a
 * bidirectional control can only be inside a JSON string, where a `\uXXXX` escape is the same
 * character: the command still does what it says, and shows what it does.
 */
export function commandText(command: string): string {
  return escapeBidiControlsInJson(command);
}

/** The subscription id when it is a GUID (it is used in links and commands), else null. */
export function guidOrNull(id: string): string | null {
  return isSubscriptionId(id) ? id.toLowerCase() : null;
}
