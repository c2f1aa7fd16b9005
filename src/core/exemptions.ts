/**
 * Exemptions: a person's decision that a subscription need not have a compliant security
 * contact for a while. Each has a reason, an owner, an expiry at most a year ahead and who made
 * it ("track exceptions with owner and expiry date"). Pure; no I/O.
 *
 * Expiry is a calendar day in UTC and inclusive: an exemption that expires on 2025-06-30 counts
 * until 2025-06-30T23:59:59.999Z and no longer from 2025-07-01T00:00Z.
 */
import * as z from 'zod';
import { isValidEmailSyntax } from './email-addresses.js';
import type { SubscriptionVerdict } from './model.js';
import type { Exemption } from './state-model.js';
import { isSubscriptionId } from './subscription-id.js';

/** What a person asks for; `createdAt` is added on validation. */
export interface ExemptionRequest {
  subscriptionId: string;
  reason: string;
  owner: string;
  expiresOn: string;
  createdBy: string;
}

export type ExemptionField = keyof ExemptionRequest;

export const MAX_REASON_LENGTH = 1_000;
const MAX_NAME_LENGTH = 256;
const DAY_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

export class InvalidExemptionError extends Error {
  override name = 'InvalidExemptionError';
  constructor(readonly problems: string[]) {
    super(`the exemption is not valid:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

export type ExemptionValidation = { ok: true; exemption: Exemption } | { ok: false; problems: string[] };

export interface ExemptionValidationOptions {
  /**
   * How to name each field in messages, e.g. `{ expiresOn: '--expires' }` for the CLI.
   * Defaults to the field names of ExemptionRequest.
   */
  fieldNames?: Partial<Record<ExemptionField, string>>;
}

/** The calendar day of an instant in UTC, `YYYY-MM-DD`. */
export function utcDay(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

/**
 * Parses `YYYY-MM-DD` as a real calendar date (2025-02-30 is not one).
 * Returns the same text back, or null.
 */
export function parseCalendarDay(text: string): string | null {
  const match = DAY_PATTERN.exec(text);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return text;
}

/**
 * The latest expiry allowed on `today`: the same day next year, or 28 February when today is
 * 29 February.
 */
export function latestAllowedExpiry(now: Date): string {
  const year = now.getUTCFullYear() + 1;
  const month = now.getUTCMonth();
  const lastDayOfMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(now.getUTCDate(), lastDayOfMonth);
  return utcDay(new Date(Date.UTC(year, month, day)));
}

/** True while the exemption counts: until the end of its expiry day (UTC), inclusive. */
export function isExemptionActive(exemption: Pick<Exemption, 'expiresOn'>, now: Date): boolean {
  return parseCalendarDay(exemption.expiresOn) !== null && utcDay(now) <= exemption.expiresOn;
}

const requestShape = z.object({
  subscriptionId: z.string(),
  reason: z.string(),
  owner: z.string(),
  expiresOn: z.string(),
  createdBy: z.string(),
});

/**
 * Checks a request and returns the exemption to store (ids in lower case, text trimmed,
 * `createdAt` = now), or every problem found, each naming its field.
 */
export function validateExemption(input: unknown, now: Date, options: ExemptionValidationOptions = {}): ExemptionValidation {
  const label = (field: ExemptionField): string => options.fieldNames?.[field] ?? field;
  const problems: string[] = [];

  const shape = requestShape.safeParse(input);
  if (!shape.success) {
    for (const issue of shape.error.issues) {
      const field = issue.path[0];
      problems.push(
        typeof field === 'string' && field in requestShape.shape
          ? `${label(field as ExemptionField)}: is required (text)`
          : `the exemption must be an object with subscriptionId, reason, owner, expiresOn and createdBy`,
      );
    }
    return { ok: false, problems: [...new Set(problems)] };
  }
  const request = shape.data;

  const subscriptionId = request.subscriptionId.trim().toLowerCase();
  if (!isSubscriptionId(subscriptionId)) {
    problems.push(`${label('subscriptionId')}: "${shorten(request.subscriptionId)}" is not a subscription id (a GUID)`);
  }

  const reason = request.reason.trim();
  if (reason.length === 0) problems.push(`${label('reason')}: must not be empty: say why the subscription is exempt`);
  else if (reason.length > MAX_REASON_LENGTH)
    problems.push(`${label('reason')}: is ${reason.length} characters long; at most ${MAX_REASON_LENGTH}`);
  else if (CONTROL_CHARACTERS.test(reason))
    problems.push(`${label('reason')}: must be one line of text (no line breaks or control characters)`);

  const owner = request.owner.trim();
  if (owner.length === 0) problems.push(`${label('owner')}: must not be empty: the e-mail address of the person accountable`);
  else if (!isValidEmailSyntax(owner)) problems.push(`${label('owner')}: "${shorten(owner)}" is not a valid e-mail address`);

  const expiresOn = request.expiresOn.trim();
  if (parseCalendarDay(expiresOn) === null) {
    problems.push(
      DAY_PATTERN.test(expiresOn)
        ? `${label('expiresOn')}: "${expiresOn}" is not a real date`
        : `${label('expiresOn')}: "${shorten(expiresOn)}" is not a date in the form YYYY-MM-DD`,
    );
  } else {
    const today = utcDay(now);
    const latest = latestAllowedExpiry(now);
    if (expiresOn < today) problems.push(`${label('expiresOn')}: ${expiresOn} is in the past (today is ${today}, UTC)`);
    else if (expiresOn > latest) {
      problems.push(`${label('expiresOn')}: ${expiresOn} is more than one year ahead; the latest allowed is ${latest}`);
    }
  }

  const createdBy = request.createdBy.trim();
  if (createdBy.length === 0) problems.push(`${label('createdBy')}: must not be empty: who grants the exemption`);
  else if (createdBy.length > MAX_NAME_LENGTH) problems.push(`${label('createdBy')}: is longer than ${MAX_NAME_LENGTH} characters`);
  else if (CONTROL_CHARACTERS.test(createdBy)) problems.push(`${label('createdBy')}: must not contain control characters`);

  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, exemption: { subscriptionId, reason, owner, expiresOn, createdBy, createdAt: now.toISOString() } };
}

/** validateExemption that throws InvalidExemptionError listing every problem. */
export function parseExemption(input: unknown, now: Date, options: ExemptionValidationOptions = {}): Exemption {
  const result = validateExemption(input, now, options);
  if (!result.ok) throw new InvalidExemptionError(result.problems);
  return result.exemption;
}

/** The exemptions that count at `now`, by lower-case subscription id. */
export function activeExemptionsBySubscription(exemptions: Iterable<Exemption>, now: Date): Map<string, Exemption> {
  const active = new Map<string, Exemption>();
  for (const exemption of exemptions) {
    if (isExemptionActive(exemption, now)) active.set(exemption.subscriptionId.toLowerCase(), exemption);
  }
  return active;
}

/**
 * The status a judged subscription has once exemptions are applied: an active exemption makes
 * `compliant`, `noncompliant` and `error` into `exempt`; `skipped` (not judged) stays as it is.
 */
export function exemptStatus<S extends SubscriptionVerdict['status']>(status: S, exempted: boolean): S | 'exempt' {
  return exempted && status !== 'skipped' ? 'exempt' : status;
}

/**
 * Applies exemptions to judged verdicts for a report (findings are kept). The state store
 * applies the same rule itself: give it the judged verdicts, not these.
 */
export function applyExemptions(
  verdicts: readonly SubscriptionVerdict[],
  exemptions: Iterable<Exemption>,
  now: Date,
): SubscriptionVerdict[] {
  const active = activeExemptionsBySubscription(exemptions, now);
  return verdicts.map((verdict) => {
    const status = exemptStatus(verdict.status, active.has(verdict.subscriptionId.toLowerCase()));
    return status === verdict.status ? verdict : { ...verdict, status };
  });
}

function shorten(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
