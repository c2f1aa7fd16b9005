/**
 * Text that carries a secret, and how a value is quoted in a message without repeating one.
 *
 * Settings messages stop start-up before any log redaction runs, and go to a terminal or the
 * Functions host's log as they are; so a value is quoted only through quoteWithoutSecrets, which
 * keeps what tells a person which value it is (a URL's scheme, host and path, the names of a
 * connection string's parts) and drops what may be a secret (a URL's user and password, its query
 * values and fragment, every value of a connection string).
 */

/** A string holding any of these is a secret or carries one. */
const SECRET_TEXT = [
  /accountkey=/i,
  /accesskey=/i,
  /sharedaccesssignature/i,
  /\bsig=/i,
  /bearer\s/i,
  /\beyJ[\w-]{8,}\.[\w-]{8,}\./,
  // The password of a URL: scheme://user:password@host.
  /[a-z][\w+.-]*:\/\/[^\s/?#@:]*:[^\s/?#@]*@/i,
];

export function looksLikeSecret(text: string): boolean {
  return SECRET_TEXT.some((pattern) => pattern.test(text));
}

/** What stands for a value that cannot be quoted at all. */
export const VALUE_NOT_SHOWN = 'a value not repeated here (it may hold a secret)';

const ELIDED = '…';
const MAX_SHOWN = 80;
const URL_START = /^[a-z][a-z0-9+.-]*:\/\//i;
/** A URL inside other text, with a user (a token is sometimes given as one) or a password. */
const USER_IN_URL = /:\/\/[^\s/?#]*@/;
/** `user:password@host` without a scheme. */
const USER_AND_PASSWORD = /(^|[\s,;])[^\s:/@,;]+:[^\s/@,;]+@/g;
/** A name of a connection string's part or of a query parameter, such as AccountKey or sv. */
const PART_NAME = /^[A-Za-z][\w.-]{0,31}$/;
/**
 * A run of base64 or base64url long enough to be a key or a token (an account key is 88
 * characters); host names, paths, GUIDs and cron fields break into shorter runs.
 */
const KEY_LIKE_RUN = /[A-Za-z0-9+/=_]{32,}/g;

/**
 * `value` quoted for a message about a setting, without any secret it may hold:
 * - a URL without its user and password (`https://…:…@host/`), its query values
 *   (`?sv=…&sig=…`) and its fragment;
 * - a connection string (anything of `Key=Value` parts) only by the names of its parts
 *   (`AccountName=…;AccountKey=…`);
 * - other text as it is, but for runs that look like a key; or not at all (VALUE_NOT_SHOWN)
 *   when it still looks like it carries a secret.
 * Control characters become spaces, and a long value is cut short.
 */
export function quoteWithoutSecrets(value: string): string {
  const text = value.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  const shown = URL_START.test(text)
    ? urlWithoutSecrets(text)
    : text.includes('=')
      ? connectionStringPartNames(text)
      : plainWithoutSecrets(text);
  if (shown === undefined) return VALUE_NOT_SHOWN;
  return JSON.stringify(shown.length > MAX_SHOWN ? `${shown.slice(0, MAX_SHOWN - 1)}${ELIDED}` : shown);
}

function urlWithoutSecrets(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Where its credentials end is anyone's guess in a string the URL parser refuses: only the scheme is shown.
    return `${URL_START.exec(text)![0]}${ELIDED}`;
  }
  const credentials = url.username || url.password ? `${url.username ? ELIDED : ''}${url.password ? `:${ELIDED}` : ''}@` : '';
  const path = looksLikeSecret(url.pathname) ? `/${ELIDED}` : maskKeyLikeRuns(url.pathname);
  const query = url.search ? `?${partNames(url.search.slice(1), '&')}` : '';
  const fragment = url.hash ? `#${ELIDED}` : '';
  return `${url.protocol}//${credentials}${url.host}${path}${query}${fragment}`;
}

/** `AccountName=…;AccountKey=…`: the names of the parts, never their values. */
function connectionStringPartNames(text: string): string {
  return partNames(text, ';');
}

function partNames(text: string, separator: string): string {
  return text
    .split(separator)
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const equals = part.indexOf('=');
      const name = equals > 0 ? part.slice(0, equals).trim() : '';
      return PART_NAME.test(name) ? `${name}=${ELIDED}` : ELIDED;
    })
    .join(separator);
}

/**
 * Whether `text` may be repeated as it is: no URL, no `Key=Value` part, nothing that looks like a
 * secret or a key. For text that is shown through another's words (a parser's error, which
 * quotes the text around the fault), this decides whether those words may be shown at all.
 */
export function isSafeToQuote(text: string): boolean {
  return !URL_START.test(text.trim()) && !text.includes('=') && plainWithoutSecrets(text) === text;
}

function plainWithoutSecrets(text: string): string | undefined {
  if (looksLikeSecret(text) || USER_IN_URL.test(text)) return undefined;
  return maskKeyLikeRuns(text.replace(USER_AND_PASSWORD, `$1${ELIDED}:${ELIDED}@`));
}

function maskKeyLikeRuns(text: string): string {
  return text.replace(KEY_LIKE_RUN, (run) => (/\d/.test(run) ? ELIDED : run));
}

/** Removes anything that could be a secret from an error text (keys, signatures, tokens). */
export function redactSecrets(text: string): string {
  return text
    .replace(/accesskey=[^;\s"']*/gi, 'accesskey=<redacted>')
    .replace(/Signature=[A-Za-z0-9+/=%]+/g, 'Signature=<redacted>')
    .replace(/Bearer\s+[A-Za-z0-9._~+/=-]+/gi, 'Bearer <redacted>')
    .slice(0, 1000);
}
