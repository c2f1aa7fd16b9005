/**
 * Reads every shape of securityContacts list item into the one model of src/core/model.ts, and
 * summarises a contact for the report (docs/reference/rules.md and docs/reference/report.md). Pure; no I/O.
 */
import type { z } from 'zod';
import {
  ALERT_SEVERITIES,
  ATTACK_PATH_RISK_LEVELS,
  CONTACT_SHAPES,
  type AlertSeverity,
  type AttackPathRiskLevel,
  type ContactShape,
  type ContactSummary,
  type EnumReading,
  type NormalisedContactEntry,
  type NotificationSourceAsRead,
  type SubscriptionContact,
} from './model.js';
import {
  SECURITY_CONTACT_SCHEMAS,
  describeJsonType,
  detectContactShape,
  isSecurityContactType,
  type SecurityContact2017,
  type SecurityContact2020,
  type SecurityContact2023,
} from './contact-shapes.js';
import { dedupeEmailAddresses, splitEmailList } from './email-addresses.js';

export const ON_OFF_STATES = ['On', 'Off'] as const;
/** The roles `notificationsByRole.roles` accepts, in their canonical spelling. */
export const NOTIFICATION_ROLES = ['Owner', 'AccountAdmin', 'ServiceAdmin', 'Contributor'] as const;

/** Reads an enum-like value case-insensitively into its canonical spelling; `null`/`undefined` is absent. */
export function readEnum<T extends string>(raw: string | null | undefined, allowed: readonly T[]): EnumReading<T> {
  if (raw === undefined || raw === null) return { kind: 'absent' };
  const wanted = raw.toLowerCase();
  const value = allowed.find((candidate) => candidate.toLowerCase() === wanted);
  return value === undefined ? { kind: 'unknown', raw } : { kind: 'known', value };
}

/** Position in the ordered scale (`Low` = 0); a lower rank is more inclusive. */
export function levelRank<T extends string>(level: T, scale: readonly T[]): number {
  return scale.indexOf(level);
}

/** The most inclusive (lowest) level among `levels`, or null when there is none. */
export function mostInclusiveLevel<T extends string>(levels: readonly T[], scale: readonly T[]): T | null {
  let best: T | null = null;
  for (const level of levels) {
    if (best === null || levelRank(level, scale) < levelRank(best, scale)) best = level;
  }
  return best;
}

/**
 * One reading from several notification sources of the same type: the first unknown value (so the
 * rule can name it), else the most inclusive known one, else absent.
 */
function readSourceLevel<T extends string>(raws: readonly (string | null | undefined)[], scale: readonly T[]): EnumReading<T> {
  const readings = raws.map((raw) => readEnum(raw, scale));
  const unknown = readings.find((reading) => reading.kind === 'unknown');
  if (unknown) return unknown;
  const known = readings.flatMap((reading) => (reading.kind === 'known' ? [reading.value] : []));
  const best = mostInclusiveLevel(known, scale);
  return best === null ? { kind: 'absent' } : { kind: 'known', value: best };
}

const ON: EnumReading<'On' | 'Off'> = { kind: 'known', value: 'On' };

/**
 * `phone` is in every shape but read by no rule, so the schemas leave it unchecked: a value that
 * is not a string is treated as not set rather than making the whole list unreadable.
 */
function readPhone(properties: Readonly<Record<string, unknown>>): string | null {
  const phone = properties['phone'];
  return typeof phone === 'string' ? phone : null;
}

function entryFrom2023(name: string, item: SecurityContact2023): NormalisedContactEntry {
  const p = item.properties;
  // Source types other than Alert and AttackPath belong to no rule: the readings leave them out,
  // notificationSources keeps them.
  const sources = p.notificationsSources ?? [];
  const alertSources = sources.filter((source) => source.sourceType.toLowerCase() === 'alert');
  const attackPathSources = sources.filter((source) => source.sourceType.toLowerCase() === 'attackpath');
  return {
    name,
    shape: '2023-12-01-preview',
    emails: splitEmailList(p.emails ?? ''),
    phone: readPhone(p),
    enabled: p.isEnabled !== false,
    // In this shape an Alert source is what turns alert e-mails on; isEnabled is kept apart.
    alerts: {
      state: alertSources.length > 0 ? ON : { kind: 'absent' },
      minimalSeverity: readSourceLevel(
        alertSources.map((source) => source.minimalSeverity),
        ALERT_SEVERITIES,
      ),
    },
    roles: {
      state: readEnum(p.notificationsByRole?.state, ON_OFF_STATES),
      roles: (p.notificationsByRole?.roles ?? []).map((role) => readEnum(role, NOTIFICATION_ROLES)),
    },
    attackPaths: {
      present: attackPathSources.length > 0,
      minimalRiskLevel: readSourceLevel(
        attackPathSources.map((source) => source.minimalRiskLevel),
        ATTACK_PATH_RISK_LEVELS,
      ),
    },
    notificationSources: sources.map((source): NotificationSourceAsRead => ({ ...source })),
  };
}

function entryFrom2020(name: string, item: SecurityContact2020): NormalisedContactEntry {
  const p = item.properties;
  return {
    name,
    shape: '2020-01-01-preview',
    emails: splitEmailList(p.emails ?? ''),
    phone: readPhone(p),
    enabled: true,
    alerts: {
      state: readEnum(p.alertNotifications?.state, ON_OFF_STATES),
      minimalSeverity: readEnum(p.alertNotifications?.minimalSeverity, ALERT_SEVERITIES),
    },
    roles: {
      state: readEnum(p.notificationsByRole?.state, ON_OFF_STATES),
      roles: (p.notificationsByRole?.roles ?? []).map((role) => readEnum(role, NOTIFICATION_ROLES)),
    },
    attackPaths: { present: false, minimalRiskLevel: { kind: 'absent' } },
    notificationSources: [],
  };
}

function entryFrom2017(name: string, item: SecurityContact2017): NormalisedContactEntry {
  const p = item.properties;
  return {
    name,
    shape: '2017-08-01-preview',
    emails: splitEmailList(p.email ?? ''),
    phone: readPhone(p),
    enabled: true,
    // 2017 has no severity: alertNotifications "On" means alerts of High severity are e-mailed.
    alerts: { state: readEnum(p.alertNotifications, ON_OFF_STATES), minimalSeverity: { kind: 'known', value: 'High' } },
    // alertsToAdmins "On" e-mails the subscription's admins and owners.
    roles: { state: readEnum(p.alertsToAdmins, ON_OFF_STATES), roles: [{ kind: 'known', value: 'Owner' }] },
    attackPaths: { present: false, minimalRiskLevel: { kind: 'absent' } },
    notificationSources: [],
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `properties.notificationsSources[1].sourceType` */
function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    return text === '' ? String(key) : `${text}.${String(key)}`;
  }, '');
}

function describeContactIssue(issue: z.core.$ZodIssue): string {
  const path = formatPath(issue.path);
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return `${path} is missing`;
    const article = issue.expected === 'object' || issue.expected === 'array' ? 'an' : 'a';
    return `${path} must be ${article} ${issue.expected}, got ${describeJsonType(issue.input)}`;
  }
  return `${path}: ${issue.message}`;
}

type NormaliseOutcome = { ok: true; entry: NormalisedContactEntry } | { ok: false; message: string };

function normaliseItem(item: unknown, index: number): NormaliseOutcome {
  if (!isPlainObject(item)) return { ok: false, message: `contact ${index}: must be an object, got ${describeJsonType(item)}` };
  const rawName = item['name'];
  const label = typeof rawName === 'string' ? `contact ${index} (${rawName})` : `contact ${index}`;
  const properties = item['properties'];
  if (!isPlainObject(properties)) {
    const problem = properties === undefined ? 'is missing' : `must be an object, got ${describeJsonType(properties)}`;
    return { ok: false, message: `${label}: properties ${problem}` };
  }
  const shape = detectContactShape(properties);
  const parsed = SECURITY_CONTACT_SCHEMAS[shape].safeParse(item, { reportInput: true });
  if (!parsed.success) {
    return { ok: false, message: `${label}: ${parsed.error.issues.map(describeContactIssue).join('; ')}` };
  }
  const { type } = parsed.data;
  if (typeof type === 'string' && !isSecurityContactType(type)) {
    return { ok: false, message: `${label}: type must be Microsoft.Security/securityContacts, got ${JSON.stringify(type)}` };
  }
  // Names vary (`default`, `Default`, `default1`...) and any of them is a contact; none is assumed.
  const name = parsed.data.name ?? '(unnamed)';
  switch (shape) {
    case '2023-12-01-preview':
      return { ok: true, entry: entryFrom2023(name, parsed.data) };
    case '2020-01-01-preview':
      return { ok: true, entry: entryFrom2020(name, parsed.data as SecurityContact2020) };
    case '2017-08-01-preview':
      return { ok: true, entry: entryFrom2017(name, parsed.data as SecurityContact2017) };
  }
}

/**
 * Reads the items of a securityContacts list (every page, already unwrapped from `value` or a bare
 * array) into one contact. Any item of the wrong types makes the whole list unreadable: the message
 * names the item's index, its name and the field path, e.g.
 * `contact 0 (default): properties.emails must be a string, got number`.
 */
export function normaliseContactList(items: unknown[]): { ok: true; contact: SubscriptionContact } | { ok: false; message: string } {
  const entries: NormalisedContactEntry[] = [];
  for (const [index, item] of items.entries()) {
    const outcome = normaliseItem(item, index);
    if (!outcome.ok) return outcome;
    entries.push(outcome.entry);
  }
  return { ok: true, contact: { entries } };
}

/** Why no contact can exist when the service answers 409 MissingSubscriptionRegistration. */
export const PROVIDER_NOT_REGISTERED_REASON =
  'the Microsoft.Security resource provider is not registered on this subscription ' +
  '(register it with "az provider register --namespace Microsoft.Security", then set a security contact)';

/** The contact of a subscription whose Microsoft.Security provider is not registered. */
export function providerNotRegisteredContact(): SubscriptionContact {
  return { entries: [], absentReason: PROVIDER_NOT_REGISTERED_REASON };
}

/** All addresses of all entries, deduplicated case-insensitively (first spelling kept). */
export function mergedEmailAddresses(contact: SubscriptionContact): string[] {
  return dedupeEmailAddresses(contact.entries.flatMap((entry) => entry.emails));
}

/** The severity from which an entry e-mails alerts, or null when its alert e-mails are not effectively on. */
export function effectiveAlertSeverity(entry: NormalisedContactEntry): AlertSeverity | null {
  if (!entry.enabled) return null;
  if (entry.alerts.state.kind !== 'known' || entry.alerts.state.value !== 'On') return null;
  return entry.alerts.minimalSeverity.kind === 'known' ? entry.alerts.minimalSeverity.value : null;
}

/** The risk level from which an entry e-mails attack paths, or null when that is not effectively on. */
export function effectiveAttackPathRiskLevel(entry: NormalisedContactEntry): AttackPathRiskLevel | null {
  if (!entry.enabled || !entry.attackPaths.present) return null;
  return entry.attackPaths.minimalRiskLevel.kind === 'known' ? entry.attackPaths.minimalRiskLevel.value : null;
}

/** The canonical roles an entry e-mails: its known roles when role notifications are On, else none. */
export function effectiveNotifyRoles(entry: NormalisedContactEntry): string[] {
  if (entry.roles.state.kind !== 'known' || entry.roles.state.value !== 'On') return [];
  return entry.roles.roles.flatMap((role) => (role.kind === 'known' ? [role.value] : []));
}

/**
 * The contact as the report shows it (docs/reference/report.md): every address; the most inclusive alert
 * severity and attack path risk level among entries where those e-mails are effectively on; the
 * canonical roles e-mailed; and the newest shape among the entries (`none` without entries).
 */
export function summariseContact(contact: SubscriptionContact): ContactSummary {
  const { entries } = contact;
  const severities = entries.flatMap((entry) => effectiveAlertSeverity(entry) ?? []);
  const riskLevels = entries.flatMap((entry) => effectiveAttackPathRiskLevel(entry) ?? []);
  const roles = [...new Set(entries.flatMap(effectiveNotifyRoles))];
  const shape = entries.reduce<ContactShape>(
    (newest, entry) => (CONTACT_SHAPES.indexOf(entry.shape) < CONTACT_SHAPES.indexOf(newest) ? entry.shape : newest),
    'none',
  );
  return {
    emails: mergedEmailAddresses(contact),
    alertMinimalSeverity: mostInclusiveLevel(severities, ALERT_SEVERITIES),
    notifyRoles: roles,
    attackPathMinimalRiskLevel: mostInclusiveLevel(riskLevels, ATTACK_PATH_RISK_LEVELS),
    shape,
  };
}
