/**
 * One Resource Graph quota for both queries of a scan, paging side by side: a request is sent only
 * while the requests the window has left, less those already in flight, are more than none, so the
 * two never overrun the window between them (a 429 here would be retried on the server's own clock,
 * which never moves by itself, and fail the read).
 *
 * The server's quota windows and the inventory's waits share one test clock, which moves only when
 * the inventory waits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_SETTINGS } from '../../../src/adapters/arm-http.js';
import { resolveAzureCloud } from '../../../src/adapters/azure-cloud.js';
import { createAzureCredential } from '../../../src/adapters/credential.js';
import { ResourceGraphInventory, ResourceGraphQueryRunner } from '../../../src/adapters/resource-graph.js';
import { SubscriptionsApi } from '../../../src/adapters/subscriptions-api.js';
import { SimulatedTenant, startLocalAzure, type LocalAzure } from '../../azure-server/index.js';
import { compliantContact2023, FAST_RETRY } from '../../support/fixtures.js';
import { gatherInventory, guid, useServerIdentity } from './helpers.js';

const WINDOW_MS = 5_000;
const REQUESTS_PER_WINDOW = 3;
let now = Date.parse('2026-11-22T05:00:00.000Z');
let azure: LocalAzure;
let restoreEnv: () => void;
const tenant = new SimulatedTenant();

beforeAll(async () => {
  // 3,500 subscriptions with a contact each: four pages per query.
  for (let n = 1; n <= 3_500; n += 1) {
    const subscriptionId = guid(n);
    tenant.addSubscription({
      subscriptionId,
      contacts: [
        { ...compliantContact2023(), id: `/subscriptions/${subscriptionId}/providers/Microsoft.Security/securityContacts/default` },
      ],
    });
  }
  azure = await startLocalAzure({
    tenant,
    resourceGraphQuota: { requestsPerWindow: REQUESTS_PER_WINDOW, windowMs: WINDOW_MS, clock: () => now },
  });
  restoreEnv = useServerIdentity(azure);
});

afterAll(async () => {
  restoreEnv?.();
  await azure?.close();
});

describe('both queries of a scan share one Resource Graph quota', () => {
  it('pages the two side by side without overrunning a window, waiting for its reset instead', async () => {
    const cloud = resolveAzureCloud(azure.env());
    const credential = createAzureCredential(cloud);
    const retry = { ...DEFAULT_RETRY_SETTINGS, ...FAST_RETRY };
    const slept: number[] = [];
    const queries = new ResourceGraphQueryRunner(credential, cloud, {
      retry,
      clock: () => now,
      sleep: async (ms) => {
        const until = now + ms;
        slept.push(ms);
        await Promise.resolve();
        now = Math.max(now, until);
      },
    });
    const startedAt = now;

    const read = await gatherInventory(new ResourceGraphInventory(queries, new SubscriptionsApi(credential, cloud, { retry })), {});

    expect(read.subscriptions).toHaveLength(3_500);
    expect(read.contactsBySubscription.size).toBe(3_500);
    const statuses = azure.requests.of('resource-graph').map((r) => r.status);
    expect(statuses).toEqual(Array(8).fill(200));
    // Eight requests, at most three to a window: at least two resets were waited for.
    expect(now - startedAt).toBeGreaterThanOrEqual(2 * WINDOW_MS);
    expect(slept.every((ms) => ms > 0 && ms <= WINDOW_MS)).toBe(true);
  });
});
