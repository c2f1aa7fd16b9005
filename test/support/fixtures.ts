/**
 * Real request and response bodies from the Azure REST API specifications
 * (copied from ../shared/azure-examples into test/fixtures/azure-examples).
 */
import { readFileSync } from 'node:fs';

const ROOT = new URL('../fixtures/azure-examples/', import.meta.url);

export function azureExample<T = any>(relativePath: string): T {
  return JSON.parse(readFileSync(new URL(relativePath, ROOT), 'utf8')) as T;
}

export type ContactApiVersion = '2017-08-01-preview' | '2020-01-01-preview' | '2023-12-01-preview';

const LIST_EXAMPLE: Record<ContactApiVersion, string> = {
  '2017-08-01-preview': 'securityContacts/2017-08-01-preview/GetSecurityContactsSubscription_full_example.json',
  '2020-01-01-preview': 'securityContacts/2020-01-01-preview/GetSecurityContactsSubscription_example.json',
  '2023-12-01-preview': 'securityContacts/2023-12-01-preview/GetSecurityContactsSubscription_example.json',
};

/** The `value` items of the securityContacts list example of one API version (a fresh copy). */
export function contactListItems(version: ContactApiVersion): any[] {
  return azureExample(LIST_EXAMPLE[version]).responses['200'].body.value;
}

/** The single contact of the GET example of one API version (a fresh copy). */
export function contactItem(version: ContactApiVersion): any {
  const file =
    version === '2017-08-01-preview'
      ? 'securityContacts/2017-08-01-preview/GetSecurityContact_full_example.json'
      : `securityContacts/${version}/GetSecurityContact_example.json`;
  return azureExample(file).responses['200'].body;
}

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
