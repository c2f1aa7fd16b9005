/**
 * ResourceGraphInventory against the local Azure test server: the two plain queries, $skipToken
 * paging, scopes and batches, the tenant-scope limit fallback, retries and row validation.
 */
import { describe, expect, it } from 'vitest';
import {
  ResourceGraphError,
  SECURITY_CONTACTS_QUERY,
  SUBSCRIPTIONS_QUERY,
  TENANT_LIMIT_HIT_HEADER,
} from '../../../src/adapters/resource-graph.js';
import { SimulatedTenant, type LocalAzure } from '../../azure-server/index.js';
import { contactListItems, FAST_RETRY } from '../../support/fixtures.js';
import { adaptersFor, failureOf, gatherInventory, guid, useLocalAzure } from './helpers.js';

/** Subscriptions a tenant-scope query covers on this server; beyond it, the limit-hit header is set. */
const TENANT_LIMIT = 2_500;

let azure: LocalAzure;
const tenant = new SimulatedTenant();

useLocalAzure(tenant, { tenantSubscriptionLimit: TENANT_LIMIT, subscriptionsPageSize: 1000 }, (started) => (azure = started));

const graphRequests = () => azure.requests.of('resource-graph');

/** A 2023-shaped contact for a subscription (the real example, re-homed). */
function contactFor(subscriptionId: string, name = 'default') {
  const [item] = contactListItems('2023-12-01-preview');
  return { ...item, id: `/subscriptions/${subscriptionId}/providers/Microsoft.Security/securityContacts/${name}`, name };
}

function addMany(count: number, prefix: string) {
  const ids: string[] = [];
  for (let n = 1; n <= count; n++) {
    const subscriptionId = guid(n, prefix);
    tenant.addSubscription({ subscriptionId, displayName: `Sub ${n}`, contacts: [contactFor(subscriptionId)] });
    ids.push(subscriptionId);
  }
  return ids;
}

describe('ResourceGraphInventory.readInventory', () => {
  it('reads a tenant with the two plain queries and maps whole rows', async () => {
    // The 2017 list example, twice (default1, default2), as old subscriptions have it.
    const [legacy1] = contactListItems('2017-08-01-preview');
    const legacy2 = { ...legacy1, properties: { ...legacy1.properties, email: 'second@fabrikam.io' } };
    const A = guid(1);
    const B = guid(2);
    const C = guid(3);
    tenant.addSubscription({
      subscriptionId: A,
      displayName: 'Prod',
      tags: { owner: 'sec' },
      contacts: [legacy1, legacy2].map((c, i) => ({
        ...c,
        id: `/subscriptions/${A}/providers/Microsoft.Security/securityContacts/default${i + 1}`,
        name: `default${i + 1}`,
      })),
    });
    tenant.addSubscription({ subscriptionId: B, displayName: 'Sandbox', contacts: [] });
    tenant.addSubscription({ subscriptionId: C, displayName: 'Old', state: 'Disabled', contacts: [contactFor(C)] });
    const adapters = adaptersFor(azure);

    const inventory = await gatherInventory(adapters.inventory, {});

    expect(inventory.subscriptions).toEqual([
      { subscriptionId: A, displayName: 'Prod', state: 'Enabled', tenantId: tenant.tenantId, tags: { owner: 'sec' } },
      { subscriptionId: B, displayName: 'Sandbox', state: 'Enabled', tenantId: tenant.tenantId, tags: {} },
      { subscriptionId: C, displayName: 'Old', state: 'Disabled', tenantId: tenant.tenantId, tags: {} },
    ]);
    expect([...inventory.contactsBySubscription.keys()].sort()).toEqual([A, C]);
    expect(inventory.contactsBySubscription.get(A)).toEqual([
      {
        id: `/subscriptions/${A}/providers/Microsoft.Security/securityContacts/default1`,
        name: 'default1',
        type: 'microsoft.security/securitycontacts',
        properties: legacy1.properties,
      },
      {
        id: `/subscriptions/${A}/providers/Microsoft.Security/securityContacts/default2`,
        name: 'default2',
        type: 'microsoft.security/securitycontacts',
        properties: legacy2.properties,
      },
    ]);
    expect(inventory.contactsBySubscription.get(C)).toEqual([
      { id: contactFor(C).id, name: 'default', type: 'microsoft.security/securitycontacts', properties: contactFor(C).properties },
    ]);

    const requests = graphRequests();
    expect(requests.map((r) => r.resourceGraph?.query)).toEqual([SUBSCRIPTIONS_QUERY, SECURITY_CONTACTS_QUERY]);
    for (const request of requests) {
      expect(request).toMatchObject({ method: 'POST', apiVersion: '2024-04-01', hadBearerToken: true, status: 200 });
      expect(request.resourceGraph).toMatchObject({ top: 1000, resultFormat: 'objectArray' });
      expect(request.resourceGraph?.subscriptions).toBeUndefined();
      expect(request.resourceGraph?.managementGroups).toBeUndefined();
    }
    expect(adapters.inventory.stats.requests).toBe(2);
    expect(inventory.managementGroupsWithoutSubscriptions).toEqual([]);
    // The end of the contacts query completes every subscription's contacts.
    expect(inventory.completions).toEqual(['all']);
  });

  it('follows $skipToken until it is absent', async () => {
    const ids = addMany(2_100, 'bbbbbbbb');
    const adapters = adaptersFor(azure);

    const inventory = await gatherInventory(adapters.inventory, {});

    expect(inventory.subscriptions.map((s) => s.subscriptionId).sort()).toEqual([...ids].sort());
    expect(inventory.contactsBySubscription.size).toBe(2_100);
    expect([...inventory.contactsBySubscription.values()].every((contacts) => contacts.length === 1)).toBe(true);
    // The two queries page side by side; each follows its own $skipToken.
    const requests = graphRequests();
    const pagesOf = (query: string) =>
      requests.filter((r) => r.resourceGraph?.query === query).map((r) => r.resourceGraph?.skipToken !== undefined);
    expect(pagesOf(SUBSCRIPTIONS_QUERY)).toEqual([false, true, true]);
    expect(pagesOf(SECURITY_CONTACTS_QUERY)).toEqual([false, true, true]);
    expect(adapters.inventory.stats.requests).toBe(6);
    // Rows are handed over as their pages arrive, each subscription once; "complete" follows the last contact.
    expect(new Set(inventory.subscriptions.map((s) => s.subscriptionId)).size).toBe(2_100);
    expect(inventory.events.filter((event) => event === 'complete all')).toHaveLength(1);
    expect(inventory.events.indexOf('complete all')).toBeGreaterThan(
      inventory.events.findLastIndex((event) => event.startsWith('contact ')),
    );
  });

  it('asks for rows in id order and says, after each page of contacts, which subscriptions its rows have passed', async () => {
    // Added out of order: the answer's order is the server's, as the query asks for it.
    const ids = addMany(2_100, 'bbbbbbbb');
    tenant.removeSubscription(ids[5]!);
    tenant.addSubscription({ subscriptionId: ids[5]!, displayName: 'Re-added', contacts: [contactFor(ids[5]!)] });
    const adapters = adaptersFor(azure);

    const inventory = await gatherInventory(adapters.inventory, {});

    for (const request of graphRequests()) expect(request.resourceGraph?.query).toMatch(/\| order by id asc$/);
    // Each page's last subscription may have rows on the next page: only those before it are complete.
    expect(inventory.completeBefore).toEqual([ids[999], ids[1_999], ids[2_099]]);
    const contactsOf = (id: string) => inventory.events.lastIndexOf(`contact ${id}`);
    expect(inventory.events.indexOf(`complete before ${ids[999]}`)).toBeGreaterThan(contactsOf(ids[999]!));
    expect(inventory.events.indexOf(`complete before ${ids[999]}`)).toBeLessThan(contactsOf(ids[1_000]!));
    expect(inventory.completions).toEqual(['all']);
  });

  it('says nothing of subscriptions passed when the contact rows do not come in order', async () => {
    const ids = addMany(3, 'eeeeeeee');
    const page = (rows: unknown[]) => ({ totalRecords: rows.length, count: rows.length, resultTruncated: 'false', facets: [], data: rows });
    const row = (id: string) => ({
      ...contactFor(id),
      type: 'microsoft.security/securitycontacts',
      tenantId: tenant.tenantId,
      subscriptionId: id,
    });
    // A server that ignores `order by`.
    azure.faults.add({
      target: 'resource-graph',
      query: /securityresources/,
      status: 200,
      body: page([row(ids[0]!), row(ids[2]!), row(ids[1]!)]),
    });

    const inventory = await gatherInventory(adaptersFor(azure).inventory, {});

    expect(inventory.contactsBySubscription.size).toBe(3);
    expect(inventory.completeBefore).toEqual([]);
    expect(inventory.completions).toEqual(['all']);
  });

  it('says nothing of subscriptions passed once a row’s id does not begin with its own subscription id in lower case', async () => {
    // Upper case sorts before lower case: among the ids as the service orders them, this row's place is not its subscription's.
    const ids = addMany(3, 'eeeeeeee');
    const page = (rows: unknown[]) => ({ totalRecords: rows.length, count: rows.length, resultTruncated: 'false', facets: [], data: rows });
    const row = (id: string, resourceId = contactFor(id).id) => ({
      ...contactFor(id),
      id: resourceId,
      type: 'microsoft.security/securitycontacts',
      tenantId: tenant.tenantId,
      subscriptionId: id,
    });
    const upperCase = `/subscriptions/${ids[2]!.toUpperCase()}/providers/Microsoft.Security/securityContacts/default`;
    azure.faults.add({
      target: 'resource-graph',
      query: /securityresources/,
      status: 200,
      body: page([row(ids[0]!), row(ids[1]!), row(ids[2]!, upperCase)]),
    });

    const inventory = await gatherInventory(adaptersFor(azure).inventory, {});

    expect(inventory.contactsBySubscription.size).toBe(3);
    expect(inventory.completeBefore).toEqual([]);
  });

  it('takes back what the ordered rows said when a later page says the tenant is over the tenant-scope limit', async () => {
    const ids = addMany(1_500, 'ffffffff');
    // The first page of contacts as the server has it; the second says the tenant is over the limit.
    azure.faults.add({ target: 'resource-graph', query: /securityresources/ });
    azure.faults.add({
      target: 'resource-graph',
      query: /securityresources/,
      status: 200,
      headers: { [TENANT_LIMIT_HIT_HEADER]: 'true' },
      body: { totalRecords: 0, count: 0, resultTruncated: 'false', facets: [], data: [] },
    });

    const inventory = await gatherInventory(adaptersFor(azure).inventory, {});

    expect(inventory.completeBefore).toEqual([ids[999], 'lost']);
    // The contacts are then read by named subscriptions, each batch completing its own.
    expect(inventory.completions.map((batch) => (batch === 'all' ? batch : batch.length))).toEqual([1000, 500]);
    expect(inventory.contactsBySubscription.size).toBe(1_500);
  });

  it('names subscriptions in batches of at most 1000, lower-cased and de-duplicated', async () => {
    const ids = addMany(1_500, 'cccccccc');
    const named = [...ids.map((id) => id.toUpperCase()), ids[0]!, guid(9_999, 'dddddddd')];
    const adapters = adaptersFor(azure);

    const inventory = await gatherInventory(adapters.inventory, { subscriptionIds: named });

    expect(inventory.subscriptions).toHaveLength(1_500);
    expect(inventory.contactsBySubscription.size).toBe(1_500);
    const requests = graphRequests();
    expect(requests.map((r) => r.resourceGraph?.subscriptions?.length).sort()).toEqual([1000, 1000, 501, 501]);
    expect(requests.flatMap((r) => r.resourceGraph?.subscriptions ?? []).every((id) => id === id.toLowerCase())).toBe(true);
    for (const query of [SUBSCRIPTIONS_QUERY, SECURITY_CONTACTS_QUERY]) {
      expect(requests.filter((r) => r.resourceGraph?.query === query).map((r) => r.resourceGraph?.subscriptions?.length)).toEqual([
        1000, 501,
      ]);
    }
    // A request naming subscriptions answers for all of them: each batch's contacts are complete when it ends.
    expect(inventory.completions.map((ids) => (ids === 'all' ? ids : ids.length))).toEqual([1000, 501]);
    expect(inventory.completions.flat()).toEqual(expect.arrayContaining([ids[0], ids[1_499], guid(9_999, 'dddddddd')]));
    expect(inventory.completeBefore).toEqual([]);
  });

  it('reads management groups with managementGroups in the request', async () => {
    tenant.addManagementGroup('platform');
    tenant.addSubscription({ subscriptionId: guid(1), managementGroupIds: ['platform'], contacts: [contactFor(guid(1))] });
    tenant.addSubscription({ subscriptionId: guid(2), contacts: [contactFor(guid(2))] });

    const inventory = await gatherInventory(adaptersFor(azure).inventory, { managementGroupIds: ['platform'] });

    expect(inventory.subscriptions.map((s) => s.subscriptionId)).toEqual([guid(1)]);
    expect([...inventory.contactsBySubscription.keys()]).toEqual([guid(1)]);
    expect(graphRequests().map((r) => r.resourceGraph?.managementGroups)).toEqual([['platform'], ['platform']]);
    expect(inventory.managementGroupsWithoutSubscriptions).toEqual([]);
    // A group's rows say nothing of the subscriptions of another scope part.
    expect(inventory.completeBefore).toEqual([]);
  });

  it('names each management group under which no subscription shows, beside groups that have some, without an extra request', async () => {
    tenant.addManagementGroup('platform');
    tenant.addManagementGroup('landing-zones');
    tenant.addManagementGroup('corp', { parent: 'landing-zones' });
    tenant.addManagementGroup('sandbox'); // exists, holds no subscription
    tenant.addSubscription({ subscriptionId: guid(1), managementGroupIds: ['platform'], contacts: [] });
    tenant.addSubscription({ subscriptionId: guid(2), managementGroupIds: ['corp'], contacts: [] }); // under landing-zones through corp
    tenant.addSubscription({ subscriptionId: guid(3), contacts: [] });
    const adapters = adaptersFor(azure);

    const inventory = await gatherInventory(adapters.inventory, {
      managementGroupIds: ['platform', 'platfrom', 'Landing-Zones', 'sandbox', 'PLATFORM'],
    });

    expect(inventory.subscriptions.map((s) => s.subscriptionId).sort()).toEqual([guid(1), guid(2)]);
    expect(inventory.managementGroupsWithoutSubscriptions).toEqual(['platfrom', 'sandbox']);
    // One batch: the subscriptions query and the contacts query, as before.
    expect(graphRequests().map((r) => r.resourceGraph?.managementGroups)).toEqual([
      ['platform', 'platfrom', 'Landing-Zones', 'sandbox'],
      ['platform', 'platfrom', 'Landing-Zones', 'sandbox'],
    ]);
    expect(adapters.inventory.stats.requests).toBe(2);
  });

  it('names the empty groups of every batch of 10', async () => {
    const groups = Array.from({ length: 12 }, (_, n) => `mg-${String(n).padStart(2, '0')}`);
    groups.forEach((group, n) => {
      tenant.addManagementGroup(group);
      // mg-03 and mg-11 (in the second batch) hold nothing.
      if (group !== 'mg-03' && group !== 'mg-11')
        tenant.addSubscription({ subscriptionId: guid(n + 1), managementGroupIds: [group], contacts: [] });
    });
    const adapters = adaptersFor(azure);

    const inventory = await gatherInventory(adapters.inventory, { managementGroupIds: groups });

    expect(inventory.subscriptions).toHaveLength(10);
    expect(inventory.managementGroupsWithoutSubscriptions).toEqual(['mg-03', 'mg-11']);
    expect(
      graphRequests()
        .map((r) => r.resourceGraph?.managementGroups?.length)
        .sort(),
    ).toEqual([10, 10, 2, 2]);
  });

  it('reads alone each uncredited group of a batch whose rows lack their ancestor chain', async () => {
    tenant.addManagementGroup('platform');
    tenant.addManagementGroup('corp');
    tenant.addSubscription({ subscriptionId: guid(1), managementGroupIds: ['platform'], contacts: [] });
    // The batch's subscriptions page, as a service that leaves managementGroupAncestorsChain out would send it.
    azure.faults.add({
      target: 'resource-graph',
      query: /resourcecontainers/,
      status: 200,
      body: {
        totalRecords: 1,
        count: 1,
        resultTruncated: 'false',
        facets: [],
        data: [
          {
            id: `/subscriptions/${guid(1)}`,
            name: 'Sub 1',
            type: 'microsoft.resources/subscriptions',
            tenantId: tenant.tenantId,
            subscriptionId: guid(1),
            properties: { state: 'Enabled' },
            tags: {},
          },
        ],
      },
    });
    const adapters = adaptersFor(azure);

    const inventory = await gatherInventory(adapters.inventory, { managementGroupIds: ['platform', 'corp'] });

    expect(inventory.subscriptions.map((s) => s.subscriptionId)).toEqual([guid(1)]);
    expect(inventory.managementGroupsWithoutSubscriptions).toEqual(['corp']);
    const subscriptionQueries = graphRequests().filter((r) => r.resourceGraph?.query === SUBSCRIPTIONS_QUERY);
    // The batch (answered by the fault, whose request body the log does not keep), then each group alone.
    expect(subscriptionQueries).toHaveLength(3);
    expect(subscriptionQueries.slice(1).map((r) => r.resourceGraph?.managementGroups)).toEqual([['platform'], ['corp']]);
  });

  it('over the tenant-scope limit: lists subscriptions with the Subscriptions API and queries contacts in batches of 1000', async () => {
    const ids = addMany(TENANT_LIMIT + 100, 'eeeeeeee');
    // One beyond Resource Graph's tenant-scope cut-off, with its own contact.
    const last = ids.at(-1)!;
    const adapters = adaptersFor(azure);

    const inventory = await gatherInventory(adapters.inventory, {});

    expect(inventory.subscriptions).toHaveLength(TENANT_LIMIT + 100);
    expect(inventory.subscriptions.find((s) => s.subscriptionId === last)).toEqual({
      subscriptionId: last,
      displayName: `Sub ${TENANT_LIMIT + 100}`,
      state: 'Enabled',
      tenantId: tenant.tenantId,
      tags: {},
    });
    expect(inventory.contactsBySubscription.size).toBe(TENANT_LIMIT + 100);
    expect(inventory.contactsBySubscription.get(last)).toHaveLength(1);

    expect(azure.requests.of('subscriptions')).toHaveLength(3); // 2,600 subscriptions, pages of 1000
    const graph = graphRequests();
    // Both tenant-scope queries stop at their first page, which says the limit was hit; then the
    // contacts are read in explicit batches.
    expect(graph.filter((r) => r.resourceGraph?.query === SUBSCRIPTIONS_QUERY)).toHaveLength(1);
    const contactQueries = graph.filter((r) => r.resourceGraph?.query === SECURITY_CONTACTS_QUERY);
    expect(contactQueries.map((r) => r.resourceGraph?.subscriptions?.length)).toEqual([undefined, 1000, 1000, 600]);
    expect(adapters.inventory.stats.requests).toBe(5);
    // Each batch completes its own subscriptions' contacts, in list order, after its last contact row.
    expect(inventory.completions).toEqual([ids.slice(0, 1000), ids.slice(1000, 2000), ids.slice(2000)]);
    const completionAt = inventory.events.indexOf('complete 1000 ids');
    expect(inventory.events.slice(0, completionAt).filter((event) => event === `contact ${ids[999]}`)).toHaveLength(1);
    expect(inventory.events).not.toContain('complete all');
    // The first page said the tenant is over the limit: its rows were not handed over, nothing was said of them.
    expect(inventory.completeBefore).toEqual([]);
  });

  it('429 with Retry-After is waited out and retried', async () => {
    tenant.addSubscription({ subscriptionId: guid(1), contacts: [] });
    azure.faults.add({ target: 'resource-graph', status: 429, retryAfterSeconds: 1 });
    const adapters = adaptersFor(azure);

    const started = Date.now();
    const inventory = await gatherInventory(adapters.inventory, {});

    expect(inventory.subscriptions).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(graphRequests().map((r) => r.status)).toEqual([429, 200, 200]);
    expect(adapters.inventory.stats.requests).toBe(2);
  });

  it('429 without Retry-After waits for x-ms-user-quota-resets-after', async () => {
    tenant.addSubscription({ subscriptionId: guid(1), contacts: [] });
    azure.faults.add({
      target: 'resource-graph',
      status: 429,
      headers: { 'x-ms-user-quota-remaining': '0', 'x-ms-user-quota-resets-after': '00:00:01' },
    });
    const started = Date.now();
    await gatherInventory(adaptersFor(azure).inventory, {});
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(graphRequests().map((r) => r.status)).toEqual([429, 200, 200]);
  });

  it('a quota reset or Retry-After longer than maxRetryAfterMs fails the read at once, naming the wait', async () => {
    tenant.addSubscription({ subscriptionId: guid(1), contacts: [] });
    azure.faults.add({
      target: 'resource-graph',
      query: /resourcecontainers/,
      status: 429,
      headers: { 'x-ms-user-quota-remaining': '0', 'x-ms-user-quota-resets-after': '01:00:00' },
    });
    const error = await failureOf(gatherInventory(adaptersFor(azure, { retry: { ...FAST_RETRY, maxRetryAfterMs: 5_000 } }).inventory, {}));
    expect(error.message).toMatch(/429 .*\(asked to wait 3600 s before retrying, longer than the 5 s contact-watch waits; not retried\)/);
    // Sent once, not retried: the hour was not slept on (a wait is only ever slept before a retry).
    expect(
      graphRequests()
        .filter((r) => r.resourceGraph?.query === SUBSCRIPTIONS_QUERY)
        .map((r) => r.status),
    ).toEqual([429]);
  });

  it('5xx is retried; a persistent one fails with the status, ARM error and the query', async () => {
    tenant.addSubscription({ subscriptionId: guid(1), contacts: [] });
    azure.faults.add({ target: 'resource-graph', status: 502, times: 2 });
    expect((await gatherInventory(adaptersFor(azure).inventory, {})).subscriptions).toHaveLength(1);

    azure.faults.add({ target: 'resource-graph', query: /resourcecontainers/, status: 503, times: Infinity });
    const error = await failureOf(gatherInventory(adaptersFor(azure).inventory, {}));
    expect(error).toBeInstanceOf(ResourceGraphError);
    expect(error.message).toMatch(
      /^The Resource Graph subscriptions query \(resourcecontainers, tenant scope\) failed: 503 ServiceUnavailable: .* \(still failing after 2 retries\)$/,
    );
  });

  it("a 403 fails at once with ARM's code and message", async () => {
    azure.faults.add({
      target: 'resource-graph',
      query: /resourcecontainers/,
      status: 403,
      body: { error: { code: 'AuthorizationFailed', message: 'The client has no access.' } },
    });
    const error = await failureOf(gatherInventory(adaptersFor(azure).inventory, {}));
    expect(error.message).toBe(
      'The Resource Graph subscriptions query (resourcecontainers, tenant scope) failed: 403 AuthorizationFailed: The client has no access.',
    );
    // Not retried: the subscriptions query was sent once (the contacts query ran beside it).
    expect(graphRequests().filter((r) => r.resourceGraph?.query === SUBSCRIPTIONS_QUERY)).toHaveLength(1);
  });

  it('a row that is not what we expect is an error naming the row and the field', async () => {
    const page = (row: unknown) => ({ totalRecords: 1, count: 1, resultTruncated: 'false', facets: [], data: [row] });
    azure.faults.add({
      target: 'resource-graph',
      query: /resourcecontainers/,
      status: 200,
      body: page({
        id: '/subscriptions/oops',
        name: 'Oops',
        type: 'microsoft.resources/subscriptions',
        subscriptionId: 'oops',
        properties: { state: 'Enabled' },
      }),
    });
    const badId = await failureOf(gatherInventory(adaptersFor(azure).inventory, {}));
    expect(badId.message).toBe(
      'Resource Graph\'s subscriptions query returned row "/subscriptions/oops" that is not as expected: field "subscriptionId": expected a subscription id (a GUID).',
    );

    azure.faults.add({
      target: 'resource-graph',
      query: /resourcecontainers/,
      status: 200,
      body: page({
        id: `/subscriptions/${guid(7)}`,
        name: 'No state',
        type: 'microsoft.resources/subscriptions',
        subscriptionId: guid(7),
        properties: {},
      }),
    });
    const noState = await failureOf(gatherInventory(adaptersFor(azure).inventory, {}));
    expect(noState).toBeInstanceOf(ResourceGraphError);
    expect(noState.message).toContain(`row "/subscriptions/${guid(7)}"`);
    expect(noState.message).toContain('field "properties.state"');
  });

  it('a contact row without properties is an error naming the row', async () => {
    tenant.addSubscription({ subscriptionId: guid(1), contacts: [] });
    const contactId = `/subscriptions/${guid(1)}/providers/Microsoft.Security/securityContacts/default`;
    // Answer the contacts query (it runs beside the subscriptions query) with a broken row.
    azure.faults.add({
      target: 'resource-graph',
      query: /securityresources/,
      status: 200,
      body: {
        totalRecords: 1,
        count: 1,
        resultTruncated: 'false',
        data: [{ id: contactId, name: 'default', type: 'microsoft.security/securitycontacts', subscriptionId: guid(1), properties: null }],
      },
    });
    const error = await failureOf(gatherInventory(adaptersFor(azure).inventory, {}));
    expect(error.message).toContain(`security contacts query returned row "${contactId}"`);
    expect(error.message).toContain('field "properties"');
  });

  it('refuses a named subscription that is not a GUID before sending anything', async () => {
    await expect(gatherInventory(adaptersFor(azure).inventory, { subscriptionIds: ['prod'] })).rejects.toThrow(
      /"prod" is not a subscription id/,
    );
    expect(azure.requests.all()).toHaveLength(0);
  });
});
