/**
 * The wait an Azure answer asks for, read as the Azure SDK's throttling strategy reads it:
 * `retry-after-ms`, then `x-ms-retry-after-ms` (milliseconds), then `Retry-After` (seconds, or an
 * HTTP date counted from the answer's own `Date`, so that our clock's skew does not matter). One
 * reader for the ARM clients and the e-mail sender: a header is input, and a value that is not one
 * of those forms counts as absent rather than as whatever Date.parse makes of it.
 */

/** The headers that name a wait. */
export const RETRY_AFTER_HEADERS = ['retry-after', 'retry-after-ms', 'x-ms-retry-after-ms'] as const;

export interface RequestedWait {
  /** Milliseconds from the answer, at least 0 (a date in the past asks for no wait). */
  ms: number;
  /** The header it came from and its value as sent. */
  header: (typeof RETRY_AFTER_HEADERS)[number];
  value: string;
}

/** A non-negative decimal number (`120`, `1.5`, `1e9`); RFC 9110 allows only digits, but a service that writes 1e9 means a long time. */
const DECIMAL = /^\d+(?:\.\d+)?(?:[eE]\+?\d+)?$/;

const DAY_NAME = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '\\d{2}:\\d{2}:\\d{2}';
/**
 * HTTP dates (RFC 9110 §5.6.7): IMF-fixdate and the obsolete RFC 850 form (and asctime, below)
 * that a recipient must still accept. Matched before Date.parse, which reads almost anything
 * ("-5" or "x 1" as dates in 2001).
 */
const HTTP_DATE = [
  new RegExp(`^${DAY_NAME}, \\d{2} ${MONTH} \\d{4} ${TIME} GMT$`),
  new RegExp(`^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \\d{2}-${MONTH}-\\d{2} ${TIME} GMT$`),
];
/** asctime carries no zone, and means GMT; Date.parse would read it in the local zone. */
const ASCTIME_DATE = new RegExp(`^${DAY_NAME} ${MONTH} (?: \\d|\\d{2}) ${TIME} \\d{4}$`);

/** An HTTP date as epoch milliseconds; NaN for anything else. */
export function parseHttpDate(value: string): number {
  if (HTTP_DATE.some((form) => form.test(value))) return Date.parse(value);
  if (ASCTIME_DATE.test(value)) return Date.parse(`${value} GMT`);
  return Number.NaN;
}

/** The wait the answer asks for, or undefined when no header names one in a form we read. */
export function requestedWait(headers: { get(name: string): string | undefined }): RequestedWait | undefined {
  for (const header of ['retry-after-ms', 'x-ms-retry-after-ms'] as const) {
    const value = headers.get(header)?.trim();
    if (value && DECIMAL.test(value)) return { ms: Number(value), header, value };
  }
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (DECIMAL.test(value)) return { ms: Number(value) * 1000, header: 'retry-after', value };
  const at = parseHttpDate(value);
  if (!Number.isFinite(at)) return undefined;
  const answeredAt = parseHttpDate(headers.get('date')?.trim() ?? '');
  return { ms: Math.max(0, at - (Number.isFinite(answeredAt) ? answeredAt : Date.now())), header: 'retry-after', value };
}
