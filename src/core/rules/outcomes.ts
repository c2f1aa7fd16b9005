/** What the five rules share: outcomes, the "no security contact" verdict and message wording. */
import type { EnumReading, NormalisedContactEntry, SubscriptionContact } from '../model.js';
import type { CisReference, RuleOutcome } from './rule.js';

/** The message of every rule but contact-exists when the subscription has no contact (docs/reference/rules.md). */
export const NO_SECURITY_CONTACT = 'no security contact';

export const MCSB_INCIDENT_RESPONSE = ['IR-2'];

export function pass(message: string): RuleOutcome {
  return { result: 'pass', message };
}

export function fail(message: string): RuleOutcome {
  return { result: 'fail', message };
}

/** The outcome every rule but contact-exists gives a contact without entries, or null when there are entries. */
export function failWithoutContact(contact: SubscriptionContact): RuleOutcome | null {
  return contact.entries.length === 0 ? fail(NO_SECURITY_CONTACT) : null;
}

export function contactName(entry: NormalisedContactEntry): string {
  return `contact ${JSON.stringify(entry.name)}`;
}

/** `field "raw" is not one of A, B` for an unknown enum reading, or null. */
export function unknownValueProblem<T extends string>(field: string, reading: EnumReading<T>, allowed: readonly string[]): string | null {
  return reading.kind === 'unknown' ? `${field} ${JSON.stringify(reading.raw)} is not one of ${allowed.join(', ')}` : null;
}

/** `Contact "default": a. Contact "default2": b.` — one sentence per problem, naming its contact. */
export function problemsMessage(problems: readonly { entry: NormalisedContactEntry; problem: string }[]): string {
  return problems.map(({ entry, problem }) => `Contact ${JSON.stringify(entry.name)}: ${problem}.`).join(' ');
}

/** Reads `On` when the reading is a known On. */
export function isOn(reading: EnumReading<'On' | 'Off'>): boolean {
  return reading.kind === 'known' && reading.value === 'On';
}

const BENCHMARK = 'CIS Microsoft Azure Foundations Benchmark' as const;

export function cis(version: CisReference['version'], recommendation: string, title: string): CisReference {
  return { benchmark: BENCHMARK, version, recommendation, title };
}

/**
 * CIS recommendations for the security contact's e-mail addresses, in every benchmark version. The
 * 6.0.0 numbers and titles are as Prowler's mapping of that benchmark has them
 * (prowler-cloud/prowler, prowler/compliance/azure/cis_6.0_azure.json): the Microsoft Defender for
 * Cloud section keeps the numbers of 5.0.0 (8.1.12 to 8.1.15).
 */
export const CIS_ADDITIONAL_EMAIL_ADDRESSES: CisReference[] = [
  cis('1.3.0', '2.13', "Ensure 'Additional email addresses' is configured with a security contact email"),
  cis('2.0.0', '2.1.19', "Ensure 'Additional email addresses' is Configured with a Security Contact Email"),
  cis('3.0.0', '3.1.13', "Ensure 'Additional email addresses' is Configured with a Security Contact Email"),
  cis('4.0.0', '9.1.13', "Ensure 'Additional email addresses' is Configured with a Security Contact Email"),
  cis('5.0.0', '8.1.13', "Ensure 'Additional email addresses' is Configured with a Security Contact Email"),
  cis('6.0.0', '8.1.13', "Ensure 'Additional email addresses' is Configured with a Security Contact Email"),
];

export const AZURE_POLICY_SECURITY_CONTACT_EMAIL = {
  definitionId: '4f4f78b8-e367-4b10-a341-d9a4ad5cf1c7',
  displayName: 'Subscriptions should have a contact email address for security issues',
};
