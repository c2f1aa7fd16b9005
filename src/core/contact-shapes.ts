/**
 * The raw shapes of one securityContacts list item, one zod schema per API version that has ever
 * answered (see test/fixtures/azure-examples/securityContacts and docs/reference/rules.md).
 *
 * The schemas are lenient about what no rule reads (`etag`, `location`, `phone`, fields a future
 * API version adds) and strict about the type of every field we do read: `emails` must be a string,
 * `roles` an array of strings, and so on. Enum-like values (`On`, `Owner`, `High`...) are plain
 * strings here: the rules judge unknown values and name them, the schema does not reject them.
 * `null` is accepted wherever a field is optional and means "not set", as ARM writes it.
 */
import * as z from 'zod';
import type { ContactShape } from './model.js';

const envelope = {
  id: z.string().nullish(),
  name: z.string().nullish(),
  type: z.string().nullish(),
};

const notificationsByRoleSchema = z.looseObject({
  state: z.string().nullish(),
  roles: z.array(z.string()).nullish(),
});

/** A `notificationsSources` element: `{sourceType: "Alert", minimalSeverity}` or `{sourceType: "AttackPath", minimalRiskLevel}`. */
const notificationSourceSchema = z.looseObject({
  sourceType: z.string(),
  minimalSeverity: z.string().nullish(),
  minimalRiskLevel: z.string().nullish(),
});

/** 2023-12-01-preview: `emails`, `isEnabled`, `notificationsByRole`, `notificationsSources`. */
export const securityContact2023Schema = z.looseObject({
  ...envelope,
  properties: z.looseObject({
    emails: z.string().nullish(),
    isEnabled: z.boolean().nullish(),
    notificationsByRole: notificationsByRoleSchema.nullish(),
    notificationsSources: z.array(notificationSourceSchema).nullish(),
  }),
});

/** 2020-01-01-preview: `emails`, `alertNotifications {state, minimalSeverity}`, `notificationsByRole`. */
export const securityContact2020Schema = z.looseObject({
  ...envelope,
  properties: z.looseObject({
    emails: z.string().nullish(),
    alertNotifications: z
      .looseObject({
        state: z.string().nullish(),
        minimalSeverity: z.string().nullish(),
      })
      .nullish(),
    notificationsByRole: notificationsByRoleSchema.nullish(),
  }),
});

/** 2017-08-01-preview: `email`, `alertNotifications "On"/"Off"`, `alertsToAdmins "On"/"Off"`. */
export const securityContact2017Schema = z.looseObject({
  ...envelope,
  properties: z.looseObject({
    email: z.string().nullish(),
    alertNotifications: z.string().nullish(),
    alertsToAdmins: z.string().nullish(),
  }),
});

export type SecurityContact2023 = z.infer<typeof securityContact2023Schema>;
export type SecurityContact2020 = z.infer<typeof securityContact2020Schema>;
export type SecurityContact2017 = z.infer<typeof securityContact2017Schema>;

export type RawContactShape = Exclude<ContactShape, 'none'>;

export const SECURITY_CONTACT_SCHEMAS = {
  '2023-12-01-preview': securityContact2023Schema,
  '2020-01-01-preview': securityContact2020Schema,
  '2017-08-01-preview': securityContact2017Schema,
} as const satisfies Record<RawContactShape, z.ZodType>;

/**
 * Which API version wrote an item's `properties`:
 * - 2023 when it has `isEnabled` or `notificationsSources`;
 * - 2020 when `alertNotifications` is an object;
 * - 2017 when it has `email` or `alertsToAdmins`, or `alertNotifications` is anything else (a
 *   string, or a wrong type the 2017 schema then reports);
 * - otherwise 2023, the version we request (an item with only `emails`/`notificationsByRole`,
 *   or with no properties we know).
 */
export function detectContactShape(properties: Readonly<Record<string, unknown>>): RawContactShape {
  const has = (key: string): boolean => properties[key] !== undefined;
  if (has('isEnabled') || has('notificationsSources')) return '2023-12-01-preview';
  const alertNotifications = properties['alertNotifications'];
  if (typeof alertNotifications === 'object' && alertNotifications !== null && !Array.isArray(alertNotifications)) {
    return '2020-01-01-preview';
  }
  if (has('email') || has('alertsToAdmins') || has('alertNotifications')) return '2017-08-01-preview';
  return '2023-12-01-preview';
}

/** `Microsoft.Security/securityContacts`, also written singular and in any case by the service and Resource Graph. */
export function isSecurityContactType(type: string): boolean {
  return /^microsoft\.security\/securitycontacts?$/i.test(type);
}

/**
 * Reads one page of a securityContacts list answer, which comes either as `{ "value": [...],
 * "nextLink"?: "..." }` or as a bare JSON array (a quirk of real responses).
 */
export function readContactListPage(
  body: unknown,
): { ok: true; items: unknown[]; nextLink: string | null } | { ok: false; message: string } {
  if (Array.isArray(body)) return { ok: true, items: body, nextLink: null };
  if (typeof body !== 'object' || body === null) {
    return { ok: false, message: `the securityContacts list must be a JSON object or array, got ${describeJsonType(body)}` };
  }
  const record = body as Record<string, unknown>;
  const value = record['value'];
  if (!Array.isArray(value)) {
    return { ok: false, message: `the securityContacts list must have a "value" array, got ${describeJsonType(value)}` };
  }
  const nextLink = record['nextLink'];
  if (nextLink !== undefined && nextLink !== null && typeof nextLink !== 'string') {
    return { ok: false, message: `the securityContacts list's nextLink must be a string, got ${describeJsonType(nextLink)}` };
  }
  return { ok: true, items: value, nextLink: typeof nextLink === 'string' && nextLink !== '' ? nextLink : null };
}

/** The JSON type of a value as a person reads it: `string`, `number`, `null`, `array`, `object`, `undefined`. */
export function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
