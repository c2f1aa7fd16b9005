/**
 * The merge's promises for any contact and any policy: a body to write makes the contact pass every
 * rule the policy requires, keeps every valid address, and makes no setting less sensitive.
 * Contacts are generated as raw list items in all three API shapes, with the junk values real
 * tenants hold (unknown enum values, wrong case, nulls, extra members and source types).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeContactFix } from '../../../src/core/contact-merge.js';
import { findEmailAddressProblem } from '../../../src/core/email-addresses.js';
import { evaluateContact } from '../../../src/core/evaluate.js';
import {
  ALERT_SEVERITIES,
  ATTACK_PATH_RISK_LEVELS,
  type ContactSummary,
  type Policy,
  type SecurityContactPutBody,
  type SubscriptionContact,
} from '../../../src/core/model.js';
import { levelRank, mergedEmailAddresses, normaliseContactList } from '../../../src/core/normalise.js';
import { parsePolicy } from '../../../src/core/policy.js';
import { RULES } from '../../../src/core/rules/index.js';
import { EXAMPLE_SECURITY_TEAM_ADDRESS } from '../../../src/core/rules/remediation.js';

// ---------------------------------------------------------------------------------------------
// Raw list items

const absent = Symbol('absent');
/** An object without the members generated as `absent`. */
function withoutAbsent(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== absent));
}
/** Mostly a value, sometimes null (ARM's "not set"), sometimes no member at all. */
const maybe = <T>(arbitrary: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary, weight: 4 }, { arbitrary: fc.constant(null), weight: 1 }, { arbitrary: fc.constant(absent), weight: 1 });

const address = fc.oneof(
  fc.constantFrom(
    'soc@fabrikam.io',
    'SecOps@Fabrikam.io',
    'noc@eu.fabrikam.io',
    'ciso@northwind.com',
    'me@gmail.com',
    'ops@mail.northwind.com',
  ),
  fc.constantFrom('john@contoso.com', 'jane@example.org', 'x@corp.test', 'y@host.localhost', 'z@sub.example'),
  fc.constantFrom('bad@', '@fabrikam.io', 'a b@fabrikam.io', 'no-at-sign', 'a..b@fabrikam.io', 'Jane <jane@fabrikam.io>'),
  fc.string({ maxLength: 12 }),
);
const emailList = fc
  .tuple(fc.array(address, { maxLength: 5 }), fc.constantFrom(';', ',', ' ; ', ' , ', ';;'))
  .map(([addresses, separator]) => addresses.join(separator));

const onOff = fc.oneof(
  { arbitrary: fc.constantFrom('On', 'Off', 'on', 'OFF', 'oN'), weight: 4 },
  { arbitrary: fc.constantFrom('Maybe', ''), weight: 1 },
);
const severity = fc.oneof(
  { arbitrary: fc.constantFrom(...ALERT_SEVERITIES, 'low', 'MEDIUM', 'high'), weight: 4 },
  { arbitrary: fc.constantFrom('Critical', 'Severe', ''), weight: 1 },
);
const riskLevel = fc.oneof(
  { arbitrary: fc.constantFrom(...ATTACK_PATH_RISK_LEVELS, 'low', 'critical'), weight: 4 },
  { arbitrary: fc.constantFrom('Severe', ''), weight: 1 },
);
// Roles outside the API's enum (the specification's own "Admin") are left out: the merge carries
// them over (see contact-merge.test.ts), but owner-notifications still fails a contact that lists
// one, whatever else it holds, so no write could make such a contact pass.
const role = fc.constantFrom('Owner', 'owner', 'OWNER', 'AccountAdmin', 'ServiceAdmin', 'serviceadmin', 'Contributor');
const junk = fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }));

const notificationsByRole = maybe(fc.record({ state: maybe(onOff), roles: maybe(fc.array(role, { maxLength: 4 })) }).map(withoutAbsent));
const notificationSource = fc
  .record({
    sourceType: fc.oneof(
      fc.constantFrom('Alert', 'alert', 'AttackPath', 'attackpath', 'ATTACKPATH'),
      fc.constantFrom('BillingAnomaly', 'Other'),
    ),
    minimalSeverity: maybe(severity),
    minimalRiskLevel: maybe(riskLevel),
    extra: fc.oneof(junk, fc.constant(absent)),
  })
  .map(withoutAbsent);

const envelope = {
  name: fc.oneof(fc.constantFrom('default', 'Default', 'default1', 'default2', 'secops'), fc.constant(absent)),
  type: fc.oneof(
    fc.constantFrom('Microsoft.Security/securityContacts', 'Microsoft.Security/securityContact', 'microsoft.security/securitycontacts'),
    fc.constant(null),
    fc.constant(absent),
  ),
  etag: fc.oneof(fc.constant('W/"datetime\'2024-01-01\'"'), fc.constant(absent)),
  location: fc.oneof(fc.constant('West Europe'), fc.constant(absent)),
};
const phone = fc.oneof(fc.constantFrom('(214)275-4038', '+44 20 7946 0000', ''), fc.integer(), fc.constant(null), fc.constant(absent));

function item(properties: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return fc.record({ ...envelope, properties: properties.map(withoutAbsent) }).map(withoutAbsent);
}

const item2023 = item(
  fc.record({
    emails: maybe(emailList),
    phone,
    isEnabled: maybe(fc.boolean()),
    notificationsByRole,
    notificationsSources: maybe(fc.array(notificationSource, { maxLength: 4 })),
  }),
);
const item2020 = item(
  fc.record({
    emails: maybe(emailList),
    phone,
    alertNotifications: fc.record({ state: maybe(onOff), minimalSeverity: maybe(severity) }).map(withoutAbsent),
    notificationsByRole,
  }),
);
const item2017 = item(
  fc.record({
    email: fc.oneof(emailList, fc.constant(null)),
    phone,
    alertNotifications: maybe(onOff),
    alertsToAdmins: maybe(onOff),
  }),
);
const contactItems = fc.array(fc.oneof(item2023, item2020, item2017), { maxLength: 3 });

// ---------------------------------------------------------------------------------------------
// Policies

const policy: fc.Arbitrary<Policy> = fc
  .record({
    alerts: fc.record({ required: fc.boolean(), minimalSeverity: fc.constantFrom(...ALERT_SEVERITIES) }),
    owners: fc.record({ required: fc.boolean() }),
    attackPaths: fc.record({ required: fc.boolean(), minimalRiskLevel: fc.constantFrom(...ATTACK_PATH_RISK_LEVELS) }),
    allowedDomains: fc.subarray(['fabrikam.io', 'northwind.com']),
    remediation: fc.subarray(['secops@fabrikam.io', 'soc@eu.northwind.com', 'SecOps@fabrikam.io']),
  })
  .map(({ allowedDomains, remediation, ...rest }) =>
    parsePolicy(
      {
        ...rest,
        emails: { allowedDomains },
        // Only addresses the policy itself accepts: it refuses the others (policy.test.ts).
        remediation: { emails: remediation.filter((candidate) => findEmailAddressProblem(candidate, allowedDomains) === null) },
      },
      'generated policy',
    ),
  );

// ---------------------------------------------------------------------------------------------
// The properties

function normalised(items: unknown[]): SubscriptionContact {
  const outcome = normaliseContactList(items);
  if (!outcome.ok) throw new Error(`a generated contact did not read: ${outcome.message}`);
  return outcome.contact;
}

/** The body as the service would list it after the PUT, as the only contact. */
function written(body: SecurityContactPutBody): SubscriptionContact {
  return normalised([
    {
      id: '/subscriptions/x/providers/Microsoft.Security/securityContacts/default',
      name: 'default',
      type: 'Microsoft.Security/securityContacts',
      ...body,
    },
  ]);
}

/** The body with the example address replaced by one the policy accepts, as a person must before running it. */
function withRealAddress(body: SecurityContactPutBody, policy: Policy): SecurityContactPutBody {
  const domain = policy.emails.allowedDomains[0] ?? 'fabrikam.io';
  return { properties: { ...body.properties, emails: `secops@${domain}` } };
}

function requiredFailures(contact: SubscriptionContact, policy: Policy): string[] {
  return RULES.filter((rule) => rule.isRequired(policy))
    .map((rule) => ({ rule, outcome: rule.evaluate(contact, policy) }))
    .filter(({ outcome }) => outcome.result !== 'pass')
    .map(({ rule, outcome }) => `${rule.id}: ${outcome.message}`);
}

/** True when `after` is at least as sensitive as `before` (null = not e-mailed at all). */
function asSensitive<T extends string>(before: T | null, after: T | null, scale: readonly T[]): boolean {
  if (before === null) return true;
  return after !== null && levelRank(after, scale) <= levelRank(before, scale);
}

function expectNoLessSensitive(before: ContactSummary, after: ContactSummary): void {
  expect(asSensitive(before.alertMinimalSeverity, after.alertMinimalSeverity, ALERT_SEVERITIES), 'alert severity').toBe(true);
  expect(
    asSensitive(before.attackPathMinimalRiskLevel, after.attackPathMinimalRiskLevel, ATTACK_PATH_RISK_LEVELS),
    'attack path risk level',
  ).toBe(true);
  expect(after.notifyRoles).toEqual(expect.arrayContaining(before.notifyRoles));
}

describe('mergeContactFix for any contact and any policy', () => {
  it('writes a body that passes every required rule, keeps every valid address and the phone, and makes nothing less sensitive', () => {
    fc.assert(
      fc.property(contactItems, policy, (items, policy) => {
        const contact = normalised(items);
        const verdict = evaluateContact(contact, policy);
        const fix = mergeContactFix(contact, verdict.findings, policy);

        expect(fix.kind === 'none').toBe(verdict.status === 'compliant');
        const others = contact.entries.filter((entry) => entry.name.toLowerCase() !== 'default');
        if (fix.kind === 'not-fixable') {
          // Only the contacts a PUT of `default` leaves as they are can stop a write from fixing it.
          expect(fix.reason).toContain('would not be enough');
          expect(others.length).toBeGreaterThan(0);
          return;
        }
        if (fix.kind !== 'put') return;
        // The list as the service holds it after the write: the other contacts stay beside it.
        const afterList = (body: SecurityContactPutBody) => ({ ...contact, entries: [...others, ...written(body).entries] });

        const body = fix.body;
        if (fix.placeholderEmails) {
          expect(policy.remediation.emails).toEqual([]);
          expect(body.properties.emails).toBe(EXAMPLE_SECURITY_TEAM_ADDRESS);
        }
        const after = afterList(fix.placeholderEmails ? withRealAddress(body, policy) : body);
        expect(requiredFailures(after, policy)).toEqual([]);
        expectNoLessSensitive(verdict.contact, evaluateContact(written(body), policy).contact);

        const valid = mergedEmailAddresses(contact).filter(
          (candidate) => findEmailAddressProblem(candidate, policy.emails.allowedDomains) === null,
        );
        const kept = mergedEmailAddresses(written(body)).map((kept) => kept.toLowerCase());
        for (const address of valid) expect(kept).toContain(address.toLowerCase());

        // No level the write replaces is raised: each known level stored on `default` (enabled or
        // not, on or off) is matched or lowered by the body's source of that type.
        const replaced = contact.entries.filter((entry) => entry.name.toLowerCase() === 'default');
        for (const [sourceType, member, scale, stored] of [
          ['alert', 'minimalSeverity', ALERT_SEVERITIES, replaced.map((entry) => entry.alerts.minimalSeverity)],
          ['attackpath', 'minimalRiskLevel', ATTACK_PATH_RISK_LEVELS, replaced.map((entry) => entry.attackPaths.minimalRiskLevel)],
        ] as const) {
          const written = body.properties.notificationsSources.find((source) => source.sourceType.toLowerCase() === sourceType)?.[member];
          const known = typeof written === 'string' && (scale as readonly string[]).includes(written) ? written : undefined;
          if (known === undefined) continue;
          for (const reading of stored) {
            if (reading.kind === 'known')
              expect(levelRank(known, scale), `${sourceType} level`).toBeLessThanOrEqual(levelRank(reading.value, scale));
          }
        }

        const phones = contact.entries.flatMap((entry) => entry.phone ?? []);
        if (phones.length > 0) expect(phones).toContain(body.properties.phone);
        else expect(body.properties).not.toHaveProperty('phone');
      }),
      { numRuns: 400 },
    );
  });

  it('writes the same body whatever order the contacts of the list come in, apart from whose phone and sources come first', () => {
    fc.assert(
      fc.property(contactItems, policy, (items, policy) => {
        const forward = normalised(items);
        const backward = normalised([...items].reverse());
        const one = mergeContactFix(forward, evaluateContact(forward, policy).findings, policy);
        const other = mergeContactFix(backward, evaluateContact(backward, policy).findings, policy);
        expect(other.kind).toBe(one.kind);
        if (one.kind !== 'put' || other.kind !== 'put') return;
        const addresses = (body: SecurityContactPutBody) => new Set(body.properties.emails.toLowerCase().split(';'));
        expect(addresses(other.body)).toEqual(addresses(one.body));
        expect(other.body.properties.isEnabled).toBe(one.body.properties.isEnabled);
        expect(other.placeholderEmails).toBe(one.placeholderEmails);
      }),
      { numRuns: 200 },
    );
  });
});
