import type { SecurityCenter } from '@azure/arm-security';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedTenant, startLocalAzure, type LocalAzure } from './index.js';
import { defaultCredentialFor, resourceGraphClientFor, securityCenterFor } from './sdk-clients.js';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';
const CONTACT = {
  id: `/subscriptions/${A}/providers/Microsoft.Security/securityContacts/default`,
  name: 'default',
  type: 'Microsoft.Security/securityContacts',
  properties: { emails: 'secops@fabrikam.com', isEnabled: true },
};

let azure: LocalAzure;
let client: SecurityCenter;

beforeAll(async () => {
  const tenant = new SimulatedTenant();
  tenant.addSubscription({ subscriptionId: A, contacts: [CONTACT] });
  tenant.addSubscription({ subscriptionId: B });
  azure = await startLocalAzure({ tenant });
  // Short retry delays keep the file fast; the policies themselves are the SDK's.
  client = securityCenterFor(azure, defaultCredentialFor(azure), A, { retryDelayInMs: 20, maxRetryDelayInMs: 100 });
  await client.sendRequest(createPipelineRequest({ url: listUrl(A) })); // token fetched once, up front
});
afterAll(async () => {
  await azure?.close();
});
beforeEach(() => {
  azure.faults.clear();
  azure.requests.clear();
});

function listUrl(subscriptionId: string): string {
  return `${azure.url}/subscriptions/${subscriptionId}/providers/Microsoft.Security/securityContacts?api-version=2023-12-01-preview`;
}
function itemUrl(subscriptionId: string): string {
  return `${azure.url}/subscriptions/${subscriptionId}/providers/Microsoft.Security/securityContacts/default?api-version=2023-12-01-preview`;
}
async function list(subscriptionId: string): Promise<{ status: number; body: any }> {
  const response = await client.sendRequest(createPipelineRequest({ url: listUrl(subscriptionId) }));
  return { status: response.status, body: response.bodyAsText ? JSON.parse(response.bodyAsText) : undefined };
}
const statuses = (): number[] => azure.requests.of('security-contacts').map((entry) => entry.status);

describe('scripted faults', () => {
  it('429 with Retry-After: the SDK waits and retries', async () => {
    const fault = azure.faults.add({ target: 'security-contacts', status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    const { status, body } = await list(A);
    expect(status).toBe(200);
    expect(body.value).toEqual([CONTACT]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(statuses()).toEqual([429, 200]);
    expect(azure.requests.of('security-contacts')[0]!.faultId).toBe(fault.id);
    expect(fault.hits).toBe(1);
    expect(azure.faults.pending()).toEqual([]);
  });

  it('503 is retried by the SDK until the fault is used up', async () => {
    azure.faults.add({ target: 'security-contacts', status: 503, times: 2 });
    expect((await list(A)).status).toBe(200);
    expect(statuses()).toEqual([503, 503, 200]);
  });

  it('403 for one subscription only, with an ARM error body', async () => {
    azure.faults.add({ target: 'security-contacts', subscriptionId: B.toUpperCase(), status: 403, times: Infinity });
    expect((await list(A)).status).toBe(200);
    const refused = await list(B);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('AuthorizationFailed');
    expect((await list(B)).status).toBe(403);
    expect(azure.faults.pending()).toHaveLength(1);
  });

  it('409 with the body given', async () => {
    const body = {
      error: {
        code: 'MissingSubscriptionRegistration',
        message: "The subscription is not registered to use namespace 'Microsoft.Security'.",
      },
    };
    azure.faults.add({ target: 'any', status: 409, body, headers: { 'x-ms-failure-cause': 'gateway' } });
    const response = await client.sendRequest(createPipelineRequest({ url: listUrl(A) }));
    expect(response.status).toBe(409);
    expect(JSON.parse(response.bodyAsText!)).toEqual(body);
    expect(response.headers.get('x-ms-failure-cause')).toBe('gateway');
  });

  it('a dropped connection: the SDK sees a reset socket and retries', async () => {
    azure.faults.add({ target: 'security-contacts', dropConnection: true });
    expect((await list(A)).status).toBe(200);
    expect(statuses()).toEqual([0, 200]);
  });

  it('a dropped connection surfaces as a network error to a client that does not retry', async () => {
    azure.faults.add({ target: 'security-contacts', dropConnection: true });
    const error = await fetch(listUrl(A), { headers: { authorization: `Bearer ${azure.tokens.issue(azure.url)}` } }).then(
      () => undefined,
      (caught: Error & { cause?: { code?: string } }) => caught,
    );
    expect(error?.cause?.code).toMatch(/ECONNRESET|UND_ERR_SOCKET/);
  });

  it('a delay alone slows the real answer', async () => {
    azure.faults.add({ target: 'security-contacts', delayMs: 200 });
    const started = Date.now();
    const { status } = await list(A);
    expect(status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(statuses()).toEqual([200]);
  });

  it('a held answer waits for its gate, then is the real answer', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    azure.faults.add({ target: 'security-contacts', holdUntil: gate });
    let settled = false;
    const answer = list(A).finally(() => (settled = true));
    // The request has reached the server (its fault is taken) and is still unanswered.
    await expect.poll(() => azure.faults.pending().length).toBe(0);
    expect(settled).toBe(false);
    expect(statuses()).toEqual([]);
    open();
    expect((await answer).status).toBe(200);
    expect(statuses()).toEqual([200]);
  });

  it('faults are matched in order and consumed', async () => {
    azure.faults.add({ target: 'subscriptions', status: 500 });
    azure.faults.add({ target: 'security-contacts', status: 404 });
    azure.faults.add({ target: 'security-contacts', status: 400 });
    expect((await list(A)).status).toBe(404);
    expect((await list(A)).status).toBe(400);
    expect((await list(A)).status).toBe(200);
    expect(azure.faults.pending().map((fault) => fault.target)).toEqual(['subscriptions']);
  });

  it('a Resource Graph fault for one subscription hits only the batch that names it', async () => {
    const graph = resourceGraphClientFor(azure, defaultCredentialFor(azure), { maxRetries: 0 });
    azure.faults.add({ target: 'resource-graph', subscriptionId: B, status: 500 });
    const query = "resourcecontainers | where type =~ 'microsoft.resources/subscriptions'";
    expect((await graph.resources({ query, subscriptions: [A] })).totalRecords).toBe(1);
    await expect(graph.resources({ query, subscriptions: [A, B] })).rejects.toMatchObject({ statusCode: 500 });
  });

  it('the identity endpoint can fail too', async () => {
    azure.faults.add({ target: 'identity', status: 500, body: { error: 'server_error', error_description: 'scripted' } });
    const response = await fetch(`${azure.identityEndpoint}?api-version=2019-08-01&resource=${encodeURIComponent(azure.url)}`, {
      headers: { 'X-IDENTITY-HEADER': azure.identityHeader },
    });
    expect(response.status).toBe(500);
    expect(azure.requests.of('identity').map((entry) => entry.status)).toEqual([500]);
  });

  it('a fault for one method: writes of a contact fail while reads go on, and the other way round', async () => {
    const put = async (): Promise<number> => {
      const request = createPipelineRequest({ url: itemUrl(B), method: 'PUT', body: JSON.stringify({ properties: CONTACT.properties }) });
      request.headers.set('content-type', 'application/json');
      return (await client.sendRequest(request)).status;
    };
    const writes = azure.faults.add({ target: 'security-contacts', method: 'put', status: 503, times: 2 });
    expect((await list(B)).status).toBe(200);
    expect(writes.hits).toBe(0);
    // The SDK retries the PUT (idempotent) like any request until the fault is used up.
    expect(await put()).toBe(201);
    expect(azure.requests.of('security-contacts').map((entry) => [entry.method, entry.status])).toEqual([
      ['GET', 200],
      ['PUT', 503],
      ['PUT', 503],
      ['PUT', 201],
    ]);

    azure.requests.clear();
    azure.faults.add({ target: 'security-contacts', method: 'GET', status: 403, times: Infinity });
    expect(await put()).toBe(200);
    expect((await list(B)).status).toBe(403);
    expect(azure.requests.of('security-contacts').map((entry) => [entry.method, entry.status])).toEqual([
      ['PUT', 200],
      ['GET', 403],
    ]);
    azure.tenant.deleteContacts(B);
  });

  it('refuses a fault that cannot be meant', () => {
    expect(() => azure.faults.add({ target: 'any', times: 0 })).toThrow(/times/);
    expect(() => azure.faults.add({ target: 'any', status: 42 })).toThrow(/status/);
    expect(() => azure.faults.add({ target: 'any', method: 'PUT ' })).toThrow(/method/);
  });
});

describe('latency', () => {
  it('delays every Resource Graph page by resourceGraphPageMs', async () => {
    const slow = await startLocalAzure({ tenant: azure.tenant, latency: { resourceGraphPageMs: 150 } });
    try {
      const graph = resourceGraphClientFor(slow, defaultCredentialFor(slow));
      const query = "resourcecontainers | where type =~ 'microsoft.resources/subscriptions'";
      await graph.resources({ query, options: { top: 1 } });
      const started = Date.now();
      const first = await graph.resources({ query, options: { top: 1 } });
      await graph.resources({ query, options: { top: 1, skipToken: first.skipToken } });
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    } finally {
      await slow.close();
    }
  });
});
