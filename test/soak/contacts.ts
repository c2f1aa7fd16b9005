/**
 * The contacts the soak's world sets, each labelled by hand with what it is under the default
 * policy (CIS: a valid e-mail, alerts from High severity or lower, owners notified, attack paths
 * from High risk or lower). The labels are the simulation's truth; contact-watch's rules never
 * compute them. Every entry starts from an example body of the Azure REST specifications.
 */
import { compliantContact2023, contactListItems } from '../support/fixtures.js';

export interface ContactEntry {
  name: string;
  label: 'compliant' | 'noncompliant';
  /** Items the list returns (0: no contact). */
  items: number;
  /** The `properties` of the single item, in whichever API version's shape. */
  properties?: Record<string, unknown>;
  itemName?: string;
}

function modern(change: (properties: any) => void = () => undefined, emails = 'secops@fabrikam.io'): Record<string, unknown> {
  const item = compliantContact2023(emails);
  change(item.properties);
  return item.properties;
}

export const CONTACT_CATALOGUE: readonly ContactEntry[] = [
  { name: 'compliant-2023', label: 'compliant', items: 1, properties: modern() },
  { name: 'compliant-two-addresses', label: 'compliant', items: 1, properties: modern(undefined, 'secops@fabrikam.io;soc@fabrikam.io') },
  {
    name: 'compliant-low-thresholds',
    label: 'compliant',
    items: 1,
    properties: modern((properties) => {
      for (const source of properties.notificationsSources) {
        if (source.sourceType === 'Alert') source.minimalSeverity = 'Low';
        else source.minimalRiskLevel = 'Low';
      }
    }),
  },
  { name: 'no-contact', label: 'noncompliant', items: 0 },
  // The peers' blind spot: a contact whose `emails` is empty passes where only the contact's existence is checked.
  { name: 'empty-emails', label: 'noncompliant', items: 1, properties: modern((properties) => (properties.emails = '')) },
  { name: 'placeholder-email', label: 'noncompliant', items: 1, properties: modern(undefined, 'security@contoso.com') },
  { name: 'invalid-email', label: 'noncompliant', items: 1, properties: modern(undefined, 'secops at fabrikam') },
  {
    name: 'alerts-off',
    label: 'noncompliant',
    items: 1,
    properties: modern((properties) => {
      properties.notificationsSources = properties.notificationsSources.filter((source: any) => source.sourceType !== 'Alert');
    }),
  },
  {
    name: 'owners-off',
    label: 'noncompliant',
    items: 1,
    properties: modern((properties) => (properties.notificationsByRole = { state: 'Off', roles: [] })),
  },
  {
    name: 'attack-paths-critical-only',
    label: 'noncompliant',
    items: 1,
    properties: modern((properties) => {
      for (const source of properties.notificationsSources) if (source.sourceType === 'AttackPath') source.minimalRiskLevel = 'Critical';
    }),
  },
  {
    name: 'disabled-contact',
    label: 'noncompliant',
    items: 1,
    properties: modern((properties) => (properties.isEnabled = false)),
  },
  // The 2020 shape has no attack-path notification, so it cannot meet the attack-path rule.
  { name: 'shape-2020', label: 'noncompliant', items: 1, properties: fixedUp2020() },
  // The 2017 shape: one address and on/off switches, no severity and no attack paths.
  { name: 'shape-2017', label: 'noncompliant', items: 1, properties: fixedUp2017(), itemName: 'default1' },
];

function fixedUp2020(): Record<string, unknown> {
  const [item] = contactListItems('2020-01-01-preview');
  return { ...item.properties, emails: 'secops@fabrikam.io' };
}

function fixedUp2017(): Record<string, unknown> {
  const [item] = contactListItems('2017-08-01-preview');
  return { ...item.properties, email: 'secops@fabrikam.io' };
}

/** The list items the securityContacts API returns for `entry` in one subscription. */
export function contactFor(subscriptionId: string, entry: ContactEntry): unknown[] {
  if (entry.items === 0 || !entry.properties) return [];
  const name = entry.itemName ?? 'default';
  return [
    {
      id: `/subscriptions/${subscriptionId}/providers/Microsoft.Security/securityContacts/${name}`,
      name,
      type: 'Microsoft.Security/securityContacts',
      properties: structuredClone(entry.properties),
    },
  ];
}

export function contactNamed(name: string): ContactEntry {
  const entry = CONTACT_CATALOGUE.find((candidate) => candidate.name === name);
  if (!entry) throw new Error(`no catalogue contact ${name}`);
  return entry;
}

const COMPLIANT = CONTACT_CATALOGUE.filter((entry) => entry.label === 'compliant');
const NONCOMPLIANT = CONTACT_CATALOGUE.filter((entry) => entry.label === 'noncompliant');

/** A contact as a monitored tenant has them: most compliant, the rest any of the ways to fail. */
export function pickContact(random: { chance(p: number): boolean; pick<T>(values: readonly T[]): T }): ContactEntry {
  return random.chance(0.7) ? random.pick(COMPLIANT) : random.pick(NONCOMPLIANT);
}
