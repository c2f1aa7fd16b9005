/**
 * The tenant scan with the real SDK clients against the local Azure test server: a subscription
 * that Resource Graph shows without any contact is read from the securityContacts API while the
 * contacts query is still being paged, once the contact rows (in id order) have passed it.
 */
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_POLICY } from '../../../src/core/policy.js';
import { runScan } from '../../../src/scan/scan.js';
import { SimulatedTenant, type LocalAzure } from '../../azure-server/index.js';
import { compliantContact2023 } from '../../support/fixtures.js';
import { adaptersFor, gate, guid, useLocalAzure } from './helpers.js';

let azure: LocalAzure;
const tenant = new SimulatedTenant();
useLocalAzure(tenant, {}, (started) => (azure = started));

function withContact(subscriptionId: string) {
  const contact = compliantContact2023();
  return { ...contact, id: `/subscriptions/${subscriptionId}/providers/Microsoft.Security/securityContacts/default` };
}

describe('a tenant scan against the local server', () => {
  it('reads a subscription without a contact row before the last page of contacts has come', async () => {
    // Sorts first: the first page of contacts (1,000 rows) passes it.
    const withoutContact = guid(1, '00000000');
    tenant.addSubscription({ subscriptionId: withoutContact, displayName: 'No contact', contacts: [] });
    for (let n = 1; n <= 1_500; n++) tenant.addSubscription({ subscriptionId: guid(n), contacts: [withContact(guid(n))] });
    // The first page of contacts goes through; the second is held until the test lets it go.
    const secondPage = gate();
    azure.faults.add({ target: 'resource-graph', query: /securityresources/ });
    azure.faults.add({ target: 'resource-graph', query: /securityresources/, holdUntil: secondPage.opened });
    const adapters = adaptersFor(azure);

    const scan = runScan(
      {},
      { inventory: adapters.inventory, contacts: adapters.contacts, subscriptions: adapters.subscriptions, policy: DEFAULT_POLICY },
    );
    try {
      await vi.waitFor(() => expect(azure.requests.of('security-contacts').map((r) => r.subscriptionId)).toEqual([withoutContact]), {
        timeout: 20_000,
        interval: 20,
      });
    } finally {
      secondPage.open();
    }
    const { report, stats } = await scan;

    expect(report.subscriptions.find((v) => v.subscriptionId === withoutContact)).toMatchObject({
      status: 'noncompliant',
      source: 'security-contacts-api',
    });
    expect(report.summary).toMatchObject({ subscriptions: 1_501, compliant: 1_500, noncompliant: 1 });
    expect(stats).toMatchObject({ resourceGraphRequests: 4, securityContactsCalls: 1 });
  });
});
