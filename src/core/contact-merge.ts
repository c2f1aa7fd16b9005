/**
 * The merged fix of docs/reference/remediation.md, shared by `check`, the alert e-mails and `fix`: the body of
 * `PUT .../securityContacts/default?api-version=2023-12-01-preview` that is the subscription's own
 * contact, whatever shape it was read in, changed only where a rule the policy requires fails.
 *
 * A PUT replaces the whole contact, so a body built from anything but what is there wipes what the
 * subscription owner set. Hence: every address that passes email-configured is kept, the phone,
 * the roles and every notification source are carried over, and a setting is only ever made more
 * sensitive. Pure; no I/O.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  ALERT_SEVERITIES,
  ATTACK_PATH_RISK_LEVELS,
  type ContactFix,
  type EnumReading,
  type Finding,
  type NormalisedContactEntry,
  type NotificationSourceAsRead,
  type Policy,
  type RuleId,
  type SecurityContactPutBody,
  type SubscriptionContact,
} from './model.js';
import { isOn } from './rules/outcomes.js';
import { ruleById } from './rules/index.js';
import { EXAMPLE_SECURITY_TEAM_ADDRESS } from './rules/remediation.js';
import { dedupeEmailAddresses, findEmailAddressProblem } from './email-addresses.js';
import { describeContactChanges } from './contact-changes.js';
import { evaluateContact } from './evaluate.js';
import { mergedEmailAddresses, mostInclusiveLevel, normaliseContactList, readEnum } from './normalise.js';

type NotificationSource = SecurityContactPutBody['properties']['notificationsSources'][number];

/** The two source types the rules judge, each with the member that holds its level and its scale. */
const JUDGED_SOURCES = {
  alert: { sourceType: 'Alert', levelMember: 'minimalSeverity', scale: ALERT_SEVERITIES },
  attackpath: { sourceType: 'AttackPath', levelMember: 'minimalRiskLevel', scale: ATTACK_PATH_RISK_LEVELS },
} as const;
type JudgedSourceKey = keyof typeof JUDGED_SOURCES;

function judgedSourceKey(sourceType: string): JudgedSourceKey | null {
  const key = sourceType.toLowerCase();
  return key === 'alert' || key === 'attackpath' ? key : null;
}

/**
 * The fix for one subscription's contact (docs/reference/remediation.md):
 * - `not-fixable` when no contact can exist (409 MissingSubscriptionRegistration), or when a
 *   required rule could not be judged or a write would change nothing it judges;
 * - `none` when every rule the policy requires passes;
 * - otherwise `put` with the merged contact in the 2023 shape, changed only for the required rules
 *   that fail: `email-configured` drops exactly the addresses that fail it and adds the policy's
 *   `remediation.emails` (or {@link EXAMPLE_SECURITY_TEAM_ADDRESS}, with `placeholderEmails`) when
 *   no valid address would remain; `alert-notifications` and `attack-path-notifications` turn
 *   `isEnabled` on and set their source's level to the policy's threshold unless the level there is
 *   already as sensitive; `owner-notifications` turns role notifications on and adds `Owner` to
 *   the roles there. Everything else is carried over as it was read.
 *
 * `findings` are the verdict's findings for this very contact under this policy.
 */
export function mergeContactFix(contact: SubscriptionContact, findings: readonly Finding[], policy: Policy): ContactFix {
  if (contact.entries.length === 0 && contact.absentReason !== undefined) {
    return { kind: 'not-fixable', reason: contact.absentReason };
  }
  const required = findings.filter((finding) => ruleById(finding.ruleId)?.isRequired(policy) === true);
  const unjudged = required.find((finding) => finding.result === 'error');
  if (unjudged) return { kind: 'not-fixable', reason: `${unjudged.ruleId} could not be judged: ${unjudged.message}` };
  const failing = new Set<RuleId>(required.filter((finding) => finding.result === 'fail').map((finding) => finding.ruleId));
  if (failing.size === 0) return { kind: 'none' };

  const current = mergedContactBody(contact);
  const fixed = structuredClone(current);
  let placeholderEmails = false;
  // contact-exists fails only without a contact, and then every rule fails with it: the body
  // below, built from nothing, is the contact to create.
  if (failing.has('email-configured')) placeholderEmails = keepOnlyValidAddresses(fixed, contact, policy);
  if (failing.has('alert-notifications')) requireSource(fixed, 'alert', policy.alerts.minimalSeverity, contact.entries);
  if (failing.has('owner-notifications')) requireOwnerNotifications(fixed);
  if (failing.has('attack-path-notifications')) requireSource(fixed, 'attackpath', policy.attackPaths.minimalRiskLevel, contact.entries);

  // The merged body can already differ from what is stored: several sources of one type (one of
  // them unreadable) become one. Writing it is then the fix, though no rule's change was needed:
  // when the rules fail the contact as stored and pass it as written.
  if (isDeepStrictEqual(fixed, current) && !(passes(listedOnceWritten(fixed), failing, policy) && !passes(contact, failing, policy))) {
    const rules = [...failing].join(', ');
    return {
      kind: 'not-fixable',
      reason: `writing the contact would not change what ${rules} judge${failing.size === 1 ? 's' : ''}, so it would still fail`,
    };
  }
  // The PUT writes the contact named `default` only; other contacts (`default1`, … from the 2017
  // API) stay, and the rules judge them all together. Writing is a fix only if the list as it will
  // be afterwards passes.
  const others = contact.entries.filter((entry) => entry.name.toLowerCase() !== 'default');
  const written = listedOnceWritten(fixed);
  // A body that cannot be listed back cannot be shown to fix anything: fail closed.
  if (others.length > 0 && (!written || !passes({ ...contact, entries: [...others, ...written.entries] }, failing, policy))) {
    const names = others.map((entry) => entry.name).join(', ');
    return {
      kind: 'not-fixable',
      reason:
        `writing the contact named default would not be enough: the subscription's other contact${others.length === 1 ? '' : 's'} (${names}) ` +
        'would still fail the rules; correct or delete them first',
    };
  }
  return { kind: 'put', body: fixed, placeholderEmails, changes: describeContactChanges(current, fixed) };
}

/** True when `contact` passes every one of `rules` (undefined: it could not be read, so it does not). */
function passes(contact: SubscriptionContact | undefined, rules: ReadonlySet<RuleId>, policy: Policy): boolean {
  if (!contact) return false;
  return evaluateContact(contact, policy).findings.every((finding) => !rules.has(finding.ruleId) || finding.result === 'pass');
}

/** `body` as the service lists it once written as the subscription's `default` contact. */
function listedOnceWritten(body: SecurityContactPutBody): SubscriptionContact | undefined {
  const listed = normaliseContactList([{ id: DEFAULT_CONTACT_ID, name: 'default', type: 'Microsoft.Security/securityContacts', ...body }]);
  return listed.ok ? listed.contact : undefined;
}

/** The id a PUT of `default` gives the contact; only its shape matters to the reading. */
const DEFAULT_CONTACT_ID = '/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Security/securityContacts/default';

// ---------------------------------------------------------------------------------------------
// What is there, in the 2023 shape

/**
 * The subscription's contact as one 2023-shape body, before any fix. With several contacts they
 * are merged as docs/reference/rules.md judges them: the addresses are the union, and a notification setting
 * counts if any contact enables it, so the body e-mails everything any of them effectively did.
 */
export function mergedContactBody(contact: SubscriptionContact): SecurityContactPutBody {
  const { entries } = contact;
  // Alert and attack path sources only act in an enabled contact. When some contact is enabled the
  // body is, and the sources of disabled ones stay out (they e-mailed nothing); when none is, the
  // body stays disabled with every source, exactly as it was.
  const enabled = entries.filter((entry) => entry.enabled);
  const sourcesFrom = enabled.length > 0 ? enabled : entries;
  const phone = mergedPhone(entries);
  return {
    properties: {
      emails: mergedEmailAddresses(contact).join(';'),
      ...(phone === null ? {} : { phone }),
      isEnabled: entries.length === 0 || enabled.length > 0,
      notificationsByRole: mergedRoleNotifications(entries),
      notificationsSources: mergedSources(entries, sourcesFrom),
    },
  };
}

/** The phone of the contact named `default` (the one a PUT replaces), else the first one set. */
function mergedPhone(entries: readonly NormalisedContactEntry[]): string | null {
  const named = entries.filter((entry) => entry.name.toLowerCase() === 'default');
  return [...named, ...entries].find((entry) => entry.phone !== null)?.phone ?? null;
}

/** A reading as the service takes it: a known value in its canonical spelling, an unknown one as read. */
function written(reading: EnumReading<string>): string | null {
  if (reading.kind === 'known') return reading.value;
  if (reading.kind === 'unknown') return reading.raw;
  return null;
}

/**
 * On when any contact turns role notifications on, with the roles of those contacts; otherwise
 * the first state that is set, with every role listed. Unknown roles and states are kept as read.
 */
function mergedRoleNotifications(entries: readonly NormalisedContactEntry[]): SecurityContactPutBody['properties']['notificationsByRole'] {
  const on = entries.filter((entry) => isOn(entry.roles.state));
  const state = on.length > 0 ? 'On' : (entries.map((entry) => written(entry.roles.state)).find((value) => value !== null) ?? 'Off');
  const roles = (on.length > 0 ? on : entries).flatMap((entry) => entry.roles.roles.flatMap((role) => written(role) ?? []));
  return { state, roles: dedupeCaseInsensitive(roles) };
}

/** The notification sources an entry holds, in the 2023 shape. */
function sourcesOf(entry: NormalisedContactEntry): NotificationSourceAsRead[] {
  switch (entry.shape) {
    case '2023-12-01-preview':
      return entry.notificationSources;
    case '2020-01-01-preview':
    case '2017-08-01-preview': {
      // Alert e-mails are on only with the state On (2017: "On" means High). Off, unset or an
      // unknown state e-mail nothing, which the 2023 shape says by having no Alert source.
      if (!isOn(entry.alerts.state)) return [];
      const severity = written(entry.alerts.minimalSeverity);
      return [severity === null ? { sourceType: 'Alert' } : { sourceType: 'Alert', minimalSeverity: severity }];
    }
  }
}

/**
 * One source per source type, in the order first seen. The Alert and AttackPath sources of the
 * contributing contacts become one each, at the most sensitive level known among them (else the
 * first unknown level, as read), with the other members of the first; a source type no rule reads
 * is carried over as first read.
 */
function mergedSources(entries: readonly NormalisedContactEntry[], sourcesFrom: readonly NormalisedContactEntry[]): NotificationSource[] {
  const byType = new Map<string, NotificationSourceAsRead[]>();
  for (const entry of entries) {
    for (const source of sourcesOf(entry)) {
      const judged = judgedSourceKey(source.sourceType);
      if (judged !== null && !sourcesFrom.includes(entry)) continue;
      const key = judged ?? source.sourceType.toLowerCase();
      byType.set(key, [...(byType.get(key) ?? []), source]);
    }
  }
  return [...byType.entries()].map(([key, sources]): NotificationSource => {
    const judged = judgedSourceKey(key);
    if (judged === null) return { ...sources[0]! };
    const { sourceType, levelMember, scale } = JUDGED_SOURCES[judged];
    const members: Record<string, unknown> = Object.assign({}, ...[...sources].reverse()) as Record<string, unknown>;
    delete members[levelMember];
    const merged = mostSensitiveLevel(
      sources.map((source) => source[levelMember]),
      scale,
    );
    // The write replaces every contact's stored level, a disabled or switched-off one's too: a
    // known level is lowered to the most sensitive one stored anywhere, so none is ever raised.
    const level =
      merged !== null && readEnum<string>(merged, scale).kind === 'known'
        ? (mostInclusiveLevel([merged, ...storedLevels(entries, judged)], scale) ?? merged)
        : merged;
    return level === null ? { ...members, sourceType } : { ...members, sourceType, [levelMember]: level };
  });
}

/**
 * The known Alert severities or AttackPath risk levels stored in any of the contacts, enabled or
 * not, on or off: what a write must not make less sensitive.
 */
function storedLevels(entries: readonly NormalisedContactEntry[], key: JudgedSourceKey): string[] {
  const { levelMember, scale } = JUDGED_SOURCES[key];
  return entries.flatMap((entry) => {
    const reading = key === 'alert' ? entry.alerts.minimalSeverity : entry.attackPaths.minimalRiskLevel;
    const fromSources = entry.notificationSources
      .filter((source) => judgedSourceKey(source.sourceType) === key)
      .map((source) => source[levelMember])
      .flatMap((raw) => (typeof raw === 'string' ? [readEnum<string>(raw, scale)] : []));
    return [reading, ...fromSources].flatMap((known) => (known.kind === 'known' ? [known.value] : []));
  });
}

/** The lowest known level among raw values (canonical spelling), else the first unknown text, else null. */
function mostSensitiveLevel(raws: readonly unknown[], scale: readonly string[]): string | null {
  const readings = raws.map((raw): EnumReading<string> => (typeof raw === 'string' ? readEnum(raw, scale) : { kind: 'absent' }));
  const best = mostInclusiveLevel(
    readings.flatMap((reading) => (reading.kind === 'known' ? [reading.value] : [])),
    scale,
  );
  if (best !== null) return best;
  const unknown = readings.find((reading) => reading.kind === 'unknown');
  return unknown?.kind === 'unknown' ? unknown.raw : null;
}

function dedupeCaseInsensitive(values: readonly string[]): string[] {
  const seen = new Set<string>();
  return values.filter((value) => {
    const key = value.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// The changes, one per rule

/**
 * Drops the addresses that fail email-configured, and only those. When none would remain, adds the
 * policy's remediation addresses, or the example address a person must replace; returns whether
 * it had to be the example.
 */
function keepOnlyValidAddresses(body: SecurityContactPutBody, contact: SubscriptionContact, policy: Policy): boolean {
  const { allowedDomains } = policy.emails;
  const valid = mergedEmailAddresses(contact).filter((address) => findEmailAddressProblem(address, allowedDomains) === null);
  if (valid.length > 0) {
    body.properties.emails = valid.join(';');
    return false;
  }
  const remediation = dedupeEmailAddresses(policy.remediation.emails);
  body.properties.emails = (remediation.length > 0 ? remediation : [EXAMPLE_SECURITY_TEAM_ADDRESS]).join(';');
  return remediation.length === 0;
}

/**
 * Turns the contact on and makes its Alert or AttackPath source e-mail from the policy's threshold,
 * or from a level already stored where that is more sensitive: the one in the body, or one a
 * disabled or switched-off contact holds (the write replaces it, so it must not be raised). An
 * unknown level cannot be compared, and fails the rule, so the threshold replaces it.
 */
function requireSource(
  body: SecurityContactPutBody,
  key: JudgedSourceKey,
  threshold: string,
  entries: readonly NormalisedContactEntry[],
): void {
  const { sourceType, levelMember, scale } = JUDGED_SOURCES[key];
  const { properties } = body;
  properties.isEnabled = true;
  const index = properties.notificationsSources.findIndex((source) => judgedSourceKey(source.sourceType) === key);
  const present = index < 0 ? undefined : properties.notificationsSources[index];
  const presentLevel = present?.[levelMember];
  const reading = typeof presentLevel === 'string' ? readEnum<string>(presentLevel, scale) : null;
  const level =
    mostInclusiveLevel([threshold, ...(reading?.kind === 'known' ? [reading.value] : []), ...storedLevels(entries, key)], scale) ??
    threshold;
  const source: NotificationSource = { ...present, sourceType, [levelMember]: level };
  if (index < 0) properties.notificationsSources.push(source);
  else properties.notificationsSources[index] = source;
}

/** Role notifications on, with the roles already listed (unknown ones included) plus Owner. */
function requireOwnerNotifications(body: SecurityContactPutBody): void {
  const { notificationsByRole } = body.properties;
  notificationsByRole.state = 'On';
  const hasOwner = notificationsByRole.roles.some((role) => role.toLowerCase() === 'owner');
  if (!hasOwner) notificationsByRole.roles = [...notificationsByRole.roles, 'Owner'];
}
