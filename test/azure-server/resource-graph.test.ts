import type { ResourceGraphClient } from '@azure/arm-resourcegraph';
import type { TokenCredential } from '@azure/core-auth';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateTenant, startLocalAzure, type LocalAzure, type SimulatedTenant } from './index.js';
import { defaultCredentialFor, resourceGraphClientFor } from './sdk-clients.js';

const SUBSCRIPTIONS_QUERY = "resourcecontainers | where type =~ 'microsoft.resources/subscriptions'";
const CONTACTS_QUERY = "securityresources | where type =~ 'microsoft.security/securitycontacts'";

let tenant: SimulatedTenant;
let azure: LocalAzure;
let credential: TokenCredential;
let client: ResourceGraphClient;

beforeAll(async () => {
  tenant = generateTenant({ count: 250, seed: 7, managementGroups: 6, withoutContactFraction: 0.2 });
  azure = await startLocalAzure({ tenant });
  credential = defaultCredentialFor(azure);
  client = resourceGraphClientFor(azure, credential);
});
afterAll(async () => {
  await azure?.close();
});

interface PagedResult {
  rows: Record<string, any>[];
  pages: number;
  headers: Record<string, string | undefined>[];
}

/** Pages a query with $skipToken until it is absent, as contact-watch does. */
async function readAll(
  graph: ResourceGraphClient,
  query: string,
  extra: { subscriptions?: string[]; managementGroups?: string[] } = {},
): Promise<PagedResult> {
  const result: PagedResult = { rows: [], pages: 0, headers: [] };
  let skipToken: string | undefined;
  do {
    const page = await graph.resources(
      { query, ...extra, options: { top: 100, ...(skipToken ? { skipToken } : {}) } },
      {
        onResponse: (response) =>
          result.headers.push({
            limitHit: response.headers.get('x-ms-tenant-subscription-limit-hit'),
            quotaRemaining: response.headers.get('x-ms-user-quota-remaining'),
            quotaResetsAfter: response.headers.get('x-ms-user-quota-resets-after'),
          }),
      },
    );
    result.rows.push(...(page.data as Record<string, any>[]));
    result.pages++;
    skipToken = page.skipToken;
    expect(page.count).toBe((page.data as unknown[]).length);
    expect(page.resultTruncated).toBe('false');
    expect(result.pages).toBeLessThan(100);
  } while (skipToken);
  return result;
}

describe('Resource Graph through the real ResourceGraphClient (v5)', () => {
  it('pages the subscriptions query with $skipToken and returns whole rows', async () => {
    azure.requests.clear();
    const { rows, pages, headers } = await readAll(client, SUBSCRIPTIONS_QUERY);

    expect(pages).toBe(3);
    expect(rows.map((row) => row.subscriptionId)).toEqual(tenant.listSubscriptions().map((s) => s.subscriptionId));
    const subscription = tenant.listSubscriptions()[42]!;
    const chain = tenant.managementGroupChain(subscription);
    expect(rows[42]).toEqual({
      id: `/subscriptions/${subscription.subscriptionId}`,
      name: subscription.displayName,
      type: 'microsoft.resources/subscriptions',
      tenantId: tenant.tenantId,
      kind: '',
      location: '',
      resourceGroup: '',
      subscriptionId: subscription.subscriptionId,
      managementGroup: '',
      managedBy: '',
      sku: null,
      plan: null,
      properties: {
        subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'PayAsYouGo_2014-09-01', spendingLimit: 'Off' },
        managementGroupAncestorsChain: chain.map((group) => ({ displayName: group.displayName, name: group.name })),
        state: subscription.state,
      },
      tags: subscription.tags,
      identity: null,
      zones: null,
      extendedLocation: null,
    });
    expect(chain.at(-1)).toEqual({ name: tenant.tenantId, displayName: 'Tenant Root Group' });
    expect(
      headers.every((h) => h.limitHit === 'false' && h.quotaRemaining !== null && /^\d\d:\d\d:\d\d$/.test(h.quotaResetsAfter ?? '')),
    ).toBe(true);

    // The request shape the SDK sends.
    const logged = azure.requests.of('resource-graph');
    expect(logged.map((entry) => [entry.method, entry.path, entry.apiVersion, entry.status, entry.hadBearerToken])).toEqual([
      ['POST', '/providers/Microsoft.ResourceGraph/resources', '2024-04-01', 200, true],
      ['POST', '/providers/Microsoft.ResourceGraph/resources', '2024-04-01', 200, true],
      ['POST', '/providers/Microsoft.ResourceGraph/resources', '2024-04-01', 200, true],
    ]);
    expect(logged[0]!.resourceGraph).toEqual({ query: SUBSCRIPTIONS_QUERY, top: 100 });
    expect(logged[1]!.resourceGraph?.skipToken).toMatch(/^[A-Za-z0-9+/=]+$/);
  });

  it('pages the contacts query: one row per indexed contact, properties as indexed', async () => {
    const { rows, pages } = await readAll(client, CONTACTS_QUERY);
    const withContacts = tenant.listSubscriptions().filter((s) => s.indexedContacts.length > 0);
    expect(withContacts.length).toBeGreaterThan(150);
    expect(withContacts.length).toBeLessThan(250);
    expect(pages).toBe(Math.ceil(withContacts.length / 100));
    expect(rows).toHaveLength(withContacts.length);
    const sample = withContacts[10]!;
    const item = sample.indexedContacts[0] as { id: string; name: string; properties: unknown };
    expect(rows.find((row) => row.subscriptionId === sample.subscriptionId)).toEqual({
      id: item.id,
      name: item.name,
      type: 'microsoft.security/securitycontacts',
      tenantId: tenant.tenantId,
      kind: '',
      location: '',
      resourceGroup: '',
      subscriptionId: sample.subscriptionId,
      managedBy: '',
      sku: null,
      plan: null,
      properties: item.properties,
      tags: {},
      identity: null,
      zones: null,
      extendedLocation: null,
    });
  });

  it('restricts to the subscriptions or management groups named', async () => {
    const wanted = tenant
      .listSubscriptions()
      .slice(5, 25)
      .map((s) => s.subscriptionId.toUpperCase());
    const bySubscription = await readAll(client, SUBSCRIPTIONS_QUERY, { subscriptions: wanted });
    expect(bySubscription.rows.map((row) => row.subscriptionId.toUpperCase())).toEqual(wanted);
    expect(bySubscription.headers[0]!.limitHit).toBeUndefined(); // only tenant-scope queries carry it

    const group = 'mg-001';
    const expected = tenant
      .listSubscriptions()
      .filter((s) => tenant.managementGroupChain(s).some((g) => g.name === group))
      .map((s) => s.subscriptionId);
    expect(expected.length).toBeGreaterThan(0);
    const byGroup = await readAll(client, SUBSCRIPTIONS_QUERY, { managementGroups: [group] });
    expect(byGroup.rows.map((row) => row.subscriptionId)).toEqual(expected);
  });

  it('covers only tenantSubscriptionLimit subscriptions at tenant scope and says so', async () => {
    const limited = await startLocalAzure({ tenant, tenantSubscriptionLimit: 120 });
    try {
      const graph = resourceGraphClientFor(limited, defaultCredentialFor(limited));
      const tenantScope = await readAll(graph, SUBSCRIPTIONS_QUERY);
      expect(tenantScope.rows).toHaveLength(120);
      expect(tenantScope.headers.map((h) => h.limitHit)).toEqual(['true', 'true']);
      // Management-group scope is limited the same way.
      const underRoot = await readAll(graph, SUBSCRIPTIONS_QUERY, { managementGroups: [tenant.tenantId] });
      expect(underRoot.rows).toHaveLength(120);
      expect(underRoot.headers[0]!.limitHit).toBe('true');

      // Explicit subscription batches are the way around it.
      const all = tenant.listSubscriptions().map((s) => s.subscriptionId);
      const batched = [];
      for (let start = 0; start < all.length; start += 100) {
        batched.push(...(await readAll(graph, SUBSCRIPTIONS_QUERY, { subscriptions: all.slice(start, start + 100) })).rows);
      }
      expect(batched).toHaveLength(250);
    } finally {
      await limited.close();
    }
  });

  it('compares type like Kusto: =~ ignores case, == does not (Resource Graph stores types in lower case)', async () => {
    const exact = await client.resources({ query: "securityresources | where type == 'microsoft.security/securitycontacts'" });
    expect(exact.totalRecords).toBeGreaterThan(0);
    const mixedCase = await client.resources({ query: "SecurityResources | where type == 'Microsoft.Security/securityContacts'" });
    expect(mixedCase.totalRecords).toBe(0);
    const insensitive = await client.resources({ query: "SecurityResources | where type =~ 'Microsoft.Security/securityContacts'" });
    expect(insensitive.totalRecords).toBe(exact.totalRecords);
  });

  it('projects and orders when asked', async () => {
    const page = await client.resources({
      query: `${SUBSCRIPTIONS_QUERY} | project subscriptionId, name | order by subscriptionId asc`,
      options: { top: 5 },
    });
    const sorted = tenant
      .listSubscriptions()
      .map((s) => s.subscriptionId)
      .sort();
    expect(page.data).toEqual(sorted.slice(0, 5).map((id) => ({ subscriptionId: id, name: tenant.getSubscription(id)!.displayName })));
    expect(page.totalRecords).toBe(250);
  });

  it('answers the table result format when asked', async () => {
    const page = await client.resources({ query: `${SUBSCRIPTIONS_QUERY} | project id, tags`, options: { top: 2, resultFormat: 'table' } });
    expect(page.data).toEqual({
      columns: [
        { name: 'id', type: 'string' },
        { name: 'tags', type: 'object' },
      ],
      rows: tenant
        .listSubscriptions()
        .slice(0, 2)
        .map((s) => [`/subscriptions/${s.subscriptionId}`, s.tags]),
    });
  });

  it('shows what Resource Graph indexed, not what the API has now (lag)', async () => {
    const subscription = tenant.listSubscriptions().find((s) => s.indexedContacts.length === 1)!;
    const before = subscription.indexedContacts;
    tenant.setContacts(subscription.subscriptionId, [], { indexed: false });
    const page = await client.resources({ query: CONTACTS_QUERY, subscriptions: [subscription.subscriptionId] });
    expect(page.data).toHaveLength(1);
    tenant.setIndexedContacts(subscription.subscriptionId, []);
    expect((await client.resources({ query: CONTACTS_QUERY, subscriptions: [subscription.subscriptionId] })).data).toEqual([]);
    tenant.setContacts(subscription.subscriptionId, before);
  });

  it('refuses other queries with 400 BadRequest / InvalidQuery', async () => {
    for (const query of [
      'Resources | project id',
      "securityresources | where type =~ 'microsoft.security/pricings'",
      "resourcecontainers | where type =~ 'microsoft.resources/subscriptions' | join kind=leftouter (securityresources) on subscriptionId",
      "resourcecontainers | where type =~ 'microsoft.resources/subscriptions' | project nosuchcolumn",
    ]) {
      const error = await client.resources({ query }).then(
        () => undefined,
        (caught: unknown) => caught as { statusCode?: number; code?: string; details?: { error?: { details?: { code: string }[] } } },
      );
      expect(error, query).toBeDefined();
      expect(error!.statusCode).toBe(400);
      expect(error!.code).toBe('BadRequest');
    }
  });

  it('refuses $top above 1000 and an api-version it does not serve', async () => {
    await expect(client.resources({ query: SUBSCRIPTIONS_QUERY, options: { top: 1001 } })).rejects.toMatchObject({ statusCode: 400 });
    const token = azure.tokens.issue(azure.url);
    const response = await fetch(`${azure.url}/providers/Microsoft.ResourceGraph/resources?api-version=2018-09-01-preview`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: SUBSCRIPTIONS_QUERY }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).error.code).toBe('NoRegisteredProviderFound');
    for (const apiVersion of ['2021-03-01', '2022-10-01']) {
      const accepted = await fetch(`${azure.url}/providers/Microsoft.ResourceGraph/resources?api-version=${apiVersion}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: SUBSCRIPTIONS_QUERY, options: { $top: 1 } }),
      });
      expect(accepted.status).toBe(200);
    }
  });
});

describe('Resource Graph quota', () => {
  it('counts down x-ms-user-quota-remaining and answers 429 with Retry-After, which the SDK honours', async () => {
    // The quota's own clock: it moves only when the test says, so every answer is the same however slow the machine.
    let now = Date.parse('2026-11-22T05:00:00.000Z');
    const throttled = await startLocalAzure({ tenant, resourceGraphQuota: { requestsPerWindow: 2, windowMs: 1000, clock: () => now } });
    try {
      const graph = resourceGraphClientFor(throttled, defaultCredentialFor(throttled));
      const remaining: (string | undefined)[] = [];
      const onResponse = (response: { status: number; headers: { get(name: string): string | undefined } }): void => {
        remaining.push(
          `${response.status}:${response.headers.get('x-ms-user-quota-remaining')}:${response.headers.get('retry-after') ?? '-'}`,
        );
      };
      for (let i = 0; i < 2; i++) await graph.resources({ query: SUBSCRIPTIONS_QUERY, options: { top: 1 } }, { onResponse });
      expect(remaining).toEqual(['200:1:-', '200:0:-']);

      // The third is answered 429 (Retry-After: 1); once it is, the window ends, and the SDK's retry
      // after the Retry-After meets a fresh quota.
      const third = graph.resources({ query: SUBSCRIPTIONS_QUERY, options: { top: 1 } }, { onResponse });
      await vi.waitFor(() => expect(throttled.requests.of('resource-graph').map((entry) => entry.status)).toEqual([200, 200, 429]), {
        timeout: 10_000,
      });
      now += 1000;
      await third;
      expect(remaining[2]).toBe('200:1:-'); // the SDK got the 429, waited, retried
      expect(throttled.requests.of('resource-graph').map((entry) => entry.status)).toEqual([200, 200, 429, 200]);
    } finally {
      await throttled.close();
    }
  });
});
