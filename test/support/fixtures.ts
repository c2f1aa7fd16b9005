/**
 * Real request and response bodies from the Azure REST API specifications
 * (from the Azure REST API specifications, copied into test/fixtures/azure-examples), and the retry
 * settings every test against the local Azure test server uses.
 */
import { readFileSync } from 'node:fs';
import type { RetrySettings } from '../../src/adapters/arm-http.js';

/** Small delays so that retry tests take milliseconds; two retries after the first attempt. */
export const FAST_RETRY: RetrySettings = { maxRetries: 2, retryDelayInMs: 10, maxRetryDelayInMs: 40 };

const ROOT = new URL('../fixtures/azure-examples/', import.meta.url);

/** One example file, parsed afresh on every call, so a test may change what it gets. */
export function azureExample<T = any>(relativePath: string): T {
  return JSON.parse(readFileSync(new URL(relativePath, ROOT), 'utf8')) as T;
}

/** The securityContacts API versions whose examples the fixtures carry. */
export type ContactApiVersion = '2017-08-01-preview' | '2020-01-01-preview' | '2023-12-01-preview';

interface SecurityContactsExample {
  parameters: Record<string, unknown>;
  responses: Record<string, { body?: unknown }>;
}

/** One securityContacts example, e.g. readExample('2023-12-01-preview', 'CreateSecurityContact_example.json'). */
export function readExample(version: ContactApiVersion, file: string): SecurityContactsExample {
  return azureExample<SecurityContactsExample>(`securityContacts/${version}/${file}`);
}

/** The body of one response of an example, e.g. the 200 of GetSecurityContact_example.json. */
export function responseBody(version: ContactApiVersion, file: string, status = '200'): Record<string, unknown> {
  const body = readExample(version, file).responses[status]?.body;
  if (typeof body !== 'object' || body === null) throw new Error(`${version}/${file} has no ${status} body`);
  return body as Record<string, unknown>;
}

/** The `value` items of a list example's 200 body. */
export function listItems(version: ContactApiVersion, file: string): Record<string, unknown>[] {
  const value = responseBody(version, file)['value'];
  if (!Array.isArray(value)) throw new Error(`${version}/${file} has no value array`);
  return value as Record<string, unknown>[];
}

/** The list and GET examples of each version (2017-08-01-preview has only the "full" ones). */
const LIST_EXAMPLE: Record<ContactApiVersion, string> = {
  '2017-08-01-preview': 'GetSecurityContactsSubscription_full_example.json',
  '2020-01-01-preview': 'GetSecurityContactsSubscription_example.json',
  '2023-12-01-preview': 'GetSecurityContactsSubscription_example.json',
};

const GET_EXAMPLE: Record<ContactApiVersion, string> = {
  '2017-08-01-preview': 'GetSecurityContact_full_example.json',
  '2020-01-01-preview': 'GetSecurityContact_example.json',
  '2023-12-01-preview': 'GetSecurityContact_example.json',
};

/** The `value` items of the securityContacts list example of one API version (a fresh copy). */
export function contactListItems(version: ContactApiVersion): any[] {
  return listItems(version, LIST_EXAMPLE[version]);
}

/** The single contact of the GET example of one API version (a fresh copy). */
export function contactItem(version: ContactApiVersion): any {
  return responseBody(version, GET_EXAMPLE[version]);
}

/** Every GET and list example item per version, as a single-item list would carry it. */
export const GET_AND_LIST_ITEMS: { version: ContactApiVersion; file: string; item: () => Record<string, unknown> }[] = (
  ['2023-12-01-preview', '2020-01-01-preview', '2017-08-01-preview'] as const
).flatMap((version) => [
  { version, file: GET_EXAMPLE[version], item: () => contactItem(version) },
  { version, file: LIST_EXAMPLE[version], item: () => contactListItems(version)[0]! },
]);

/**
 * The 2023-12-01-preview list example made to pass every rule under the default policy: the
 * example uses contoso.com (a placeholder domain) and attack paths from Critical only. Its roles
 * ["Owner", "Admin"] pass owner-notifications ("Admin" is not in the API's enum, and is named);
 * they are set to ["Owner"] so that the contact holds nothing a test did not ask for.
 */
export function compliantContact2023(emails = 'secops@fabrikam.io'): any {
  const [item] = contactListItems('2023-12-01-preview');
  item.properties.emails = emails;
  item.properties.notificationsByRole.roles = ['Owner'];
  for (const source of item.properties.notificationsSources) {
    if (source.sourceType === 'AttackPath') source.minimalRiskLevel = 'High';
  }
  return item;
}
