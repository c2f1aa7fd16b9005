/** SubscriptionsApi against the local Azure test server: the paged list and one subscription fresh. */
import { describe, expect, it } from 'vitest';
import { SUBSCRIPTIONS_API_VERSION, SubscriptionsApiError } from '../../../src/adapters/subscriptions-api.js';
import { SimulatedTenant, type LocalAzure } from '../../azure-server/index.js';
import { adaptersFor, failureOf, guid, useLocalAzure } from './helpers.js';

let azure: LocalAzure;
const tenant = new SimulatedTenant();

useLocalAzure(tenant, { subscriptionsPageSize: 2 }, (started) => (azure = started));

describe('SubscriptionsApi.listSubscriptions', () => {
  it('follows nextLink through every page', async () => {
    for (let n = 1; n <= 5; n++)
      tenant.addSubscription({
        subscriptionId: guid(n),
        displayName: `Sub ${n}`,
        state: n === 5 ? 'Disabled' : 'Enabled',
        tags: { n: String(n) },
      });
    const adapters = adaptersFor(azure);

    const subscriptions = await adapters.subscriptions.listSubscriptions();

    expect(subscriptions).toHaveLength(5);
    expect(subscriptions[4]).toEqual({
      subscriptionId: guid(5),
      displayName: 'Sub 5',
      state: 'Disabled',
      tenantId: tenant.tenantId,
      tags: { n: '5' },
    });
    const requests = azure.requests.of('subscriptions');
    expect(requests).toHaveLength(3);
    expect(requests.every((r) => r.apiVersion === SUBSCRIPTIONS_API_VERSION && r.hadBearerToken)).toBe(true);
    expect(adapters.subscriptions.stats.calls).toBe(3);
  });

  it('refuses a nextLink on another host', async () => {
    azure.faults.add({
      target: 'subscriptions',
      status: 200,
      body: { value: [], nextLink: `https://evil.example/subscriptions?api-version=${SUBSCRIPTIONS_API_VERSION}&$skiptoken=x` },
    });
    const error = await failureOf(adaptersFor(azure).subscriptions.listSubscriptions());
    expect(error).toBeInstanceOf(SubscriptionsApiError);
    expect(error.message).toContain('evil.example');
    expect(azure.requests.of('subscriptions')).toHaveLength(1);
  });

  it('fails with the status and ARM error when the list cannot be read', async () => {
    azure.faults.add({ target: 'subscriptions', status: 500, times: Infinity });
    await expect(adaptersFor(azure).subscriptions.listSubscriptions()).rejects.toThrow(
      /^Could not list subscriptions: 500 InternalServerError: .*\(still failing after 2 retries\)$/,
    );
  });

  it('a subscription that is not what we expect is an error naming it and the field', async () => {
    azure.faults.add({ target: 'subscriptions', status: 200, body: { value: [{ subscriptionId: guid(3), displayName: 'No state' }] } });
    await expect(adaptersFor(azure).subscriptions.listSubscriptions()).rejects.toThrow(
      `The Subscriptions API returned subscription "${guid(3)}" that is not as expected: field "state"`,
    );
  });
});

describe('SubscriptionsApi.getSubscription', () => {
  it('reads one subscription fresh', async () => {
    tenant.addSubscription({ subscriptionId: guid(1), displayName: 'Prod', state: 'Warned' });
    expect(await adaptersFor(azure).subscriptions.getSubscription(guid(1).toUpperCase())).toEqual({
      kind: 'found',
      subscription: { subscriptionId: guid(1), displayName: 'Prod', state: 'Warned', tenantId: tenant.tenantId, tags: {} },
    });
    expect(azure.requests.of('subscriptions')[0]).toMatchObject({
      path: `/subscriptions/${guid(1)}`,
      apiVersion: SUBSCRIPTIONS_API_VERSION,
    });
  });

  it('404 and 403 are unreadable with the status and ARM error', async () => {
    expect(await adaptersFor(azure).subscriptions.getSubscription(guid(2))).toEqual({
      kind: 'unreadable',
      message: `404 SubscriptionNotFound: The subscription '${guid(2)}' could not be found.`,
      status: 404,
    });
    tenant.addSubscription({ subscriptionId: guid(3) });
    azure.faults.add({ target: 'subscriptions', status: 403, body: { error: { code: 'AuthorizationFailed', message: 'No read.' } } });
    expect(await adaptersFor(azure).subscriptions.getSubscription(guid(3))).toEqual({
      kind: 'unreadable',
      message: '403 AuthorizationFailed: No read.',
      status: 403,
    });
  });

  it('refuses an id that is not a GUID without sending anything', async () => {
    const read = await adaptersFor(azure).subscriptions.getSubscription('prod');
    expect(read.kind).toBe('unreadable');
    expect(azure.requests.all()).toHaveLength(0);
  });
});
