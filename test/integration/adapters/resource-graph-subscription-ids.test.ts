/**
 * The new-subscription watch's Resource Graph query against the local Azure test server: ids and
 * states only, one request per 1,000 subscriptions with $skipToken, the tenant-scope limit said,
 * retries, and a row that is not as expected refused with its name.
 */
import { describe, expect, it } from 'vitest';
import { ResourceGraphError } from '../../../src/adapters/resource-graph.js';
import { SUBSCRIPTION_IDS_QUERY } from '../../../src/adapters/resource-graph-subscription-ids.js';
import { SimulatedTenant, type LocalAzure } from '../../azure-server/index.js';
import { adaptersFor, failureOf, gatherInventory, guid, useLocalAzure } from './helpers.js';

/** Subscriptions a tenant-scope query covers on this server; beyond it, the limit-hit header is set. */
const TENANT_LIMIT = 2_500;

let azure: LocalAzure;
const tenant = new SimulatedTenant();
useLocalAzure(tenant, { tenantSubscriptionLimit: TENANT_LIMIT }, (started) => (azure = started));

const graphRequests = () => azure.requests.of('resource-graph');

function addMany(count: number, state = 'Enabled'): string[] {
  return Array.from({ length: count }, (_, index) => {
    const subscriptionId = guid(index + 1, 'ABCDEF01');
    tenant.addSubscription({ subscriptionId, displayName: `Sub ${index}`, state: index === 0 ? 'Disabled' : state, contacts: [] });
    return subscriptionId.toLowerCase();
  });
}

describe('ResourceGraphSubscriptionIds.listSubscriptionIds', () => {
  it('lists ids and states at tenant scope, one request per 1,000 subscriptions', async () => {
    const ids = addMany(2_400);
    const source = adaptersFor(azure).subscriptionIds;

    const listing = await source.listSubscriptionIds();

    expect(listing.complete).toBe(true);
    expect(listing.subscriptions).toHaveLength(2_400);
    expect(listing.subscriptions.map((subscription) => subscription.subscriptionId).sort()).toEqual([...ids].sort());
    expect(listing.subscriptions.find((subscription) => subscription.subscriptionId === ids[0])).toEqual({
      subscriptionId: ids[0],
      state: 'Disabled',
    });
    expect(listing.subscriptions.filter((subscription) => subscription.state === 'Enabled')).toHaveLength(2_399);
    expect(source.stats.requests).toBe(3);
    expect(graphRequests().map((request) => request.resourceGraph)).toEqual([
      expect.objectContaining({ query: SUBSCRIPTION_IDS_QUERY, top: 1000, skipToken: undefined, subscriptions: undefined }),
      expect.objectContaining({ query: SUBSCRIPTION_IDS_QUERY, top: 1000, skipToken: expect.any(String) }),
      expect.objectContaining({ query: SUBSCRIPTION_IDS_QUERY, top: 1000, skipToken: expect.any(String) }),
    ]);
  });

  it("counts its own requests, not the scan's beside it, though both go through the identity's one query runner", async () => {
    addMany(1_500);
    const adapters = adaptersFor(azure);
    await Promise.all([adapters.subscriptionIds.listSubscriptionIds(), gatherInventory(adapters.inventory, {})]);
    expect(adapters.subscriptionIds.stats.requests).toBe(2);
    // The scan's two queries: 1,500 subscriptions in two pages, and one page of contacts (there are none).
    expect(adapters.inventory.stats.requests).toBe(3);
    expect(graphRequests()).toHaveLength(5);
  });

  it("says when the tenant is over Resource Graph's tenant-scope limit: the listing is not complete", async () => {
    addMany(TENANT_LIMIT + 10);
    const listing = await adaptersFor(azure).subscriptionIds.listSubscriptionIds();
    expect(listing.complete).toBe(false);
    expect(listing.subscriptions).toHaveLength(TENANT_LIMIT);
  });

  it('waits out a 429 with Retry-After and retries it', async () => {
    addMany(3);
    azure.faults.add({ target: 'resource-graph', status: 429, retryAfterSeconds: 1 });
    const listing = await adaptersFor(azure).subscriptionIds.listSubscriptionIds();
    expect(listing.subscriptions).toHaveLength(3);
    expect(graphRequests().map((request) => request.status)).toEqual([429, 200]);
  });

  it('refuses a row that is not as expected, naming the row and the field', async () => {
    azure.faults.add({
      target: 'resource-graph',
      status: 200,
      body: { totalRecords: 1, count: 1, resultTruncated: 'false', data: [{ subscriptionId: guid(9), properties: {} }] },
    });
    const error = await failureOf(adaptersFor(azure).subscriptionIds.listSubscriptionIds());
    expect(error).toBeInstanceOf(ResourceGraphError);
    expect(error.message).toBe(
      `Resource Graph's subscription id query returned row of subscription "${guid(9)}" that is not as expected: field "properties.state": Invalid input: expected string, received undefined.`,
    );
  });
});
