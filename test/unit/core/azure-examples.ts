/** Reads the securityContacts examples of the Azure REST specs (test/fixtures/azure-examples). */
import { readFileSync } from 'node:fs';

export type ExampleVersion = '2017-08-01-preview' | '2020-01-01-preview' | '2023-12-01-preview';

const ROOT = new URL('../../fixtures/azure-examples/securityContacts/', import.meta.url);

interface Example {
  parameters: Record<string, unknown>;
  responses: Record<string, { body?: unknown }>;
}

export function readExample(version: ExampleVersion, file: string): Example {
  return JSON.parse(readFileSync(new URL(`${version}/${file}`, ROOT), 'utf8')) as Example;
}

/** The body of one response of an example, e.g. the 200 of GetSecurityContact_example.json. */
export function responseBody(version: ExampleVersion, file: string, status = '200'): Record<string, unknown> {
  const body = readExample(version, file).responses[status]?.body;
  if (typeof body !== 'object' || body === null) throw new Error(`${version}/${file} has no ${status} body`);
  return structuredClone(body) as Record<string, unknown>;
}

/** The `value` items of a list example's 200 body. */
export function listItems(version: ExampleVersion, file: string): Record<string, unknown>[] {
  const value = responseBody(version, file)['value'];
  if (!Array.isArray(value)) throw new Error(`${version}/${file} has no value array`);
  return value as Record<string, unknown>[];
}

/** Every GET and list example item per version, as a single-item list would carry it. */
export const GET_AND_LIST_ITEMS: { version: ExampleVersion; file: string; item: () => Record<string, unknown> }[] = [
  { version: '2023-12-01-preview', file: 'GetSecurityContact_example.json', item: () => responseBody('2023-12-01-preview', 'GetSecurityContact_example.json') },
  { version: '2023-12-01-preview', file: 'GetSecurityContactsSubscription_example.json', item: () => listItems('2023-12-01-preview', 'GetSecurityContactsSubscription_example.json')[0]! },
  { version: '2020-01-01-preview', file: 'GetSecurityContact_example.json', item: () => responseBody('2020-01-01-preview', 'GetSecurityContact_example.json') },
  { version: '2020-01-01-preview', file: 'GetSecurityContactsSubscription_example.json', item: () => listItems('2020-01-01-preview', 'GetSecurityContactsSubscription_example.json')[0]! },
  { version: '2017-08-01-preview', file: 'GetSecurityContact_full_example.json', item: () => responseBody('2017-08-01-preview', 'GetSecurityContact_full_example.json') },
  { version: '2017-08-01-preview', file: 'GetSecurityContactsSubscription_full_example.json', item: () => listItems('2017-08-01-preview', 'GetSecurityContactsSubscription_full_example.json')[0]! },
];
