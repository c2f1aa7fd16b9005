/**
 * Resource Graph's per-user quota: when `x-ms-user-quota-remaining` reaches 0, the next request
 * waits for `x-ms-user-quota-resets-after` instead of running into a 429.
 *
 * The server's quota windows and the inventory's waits share one test clock, which moves only when
 * the inventory waits: where a window ends never depends on how fast the machine is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_SETTINGS, type RetrySettings } from '../../../src/adapters/arm-http.js';
import { resolveAzureCloud } from '../../../src/adapters/azure-cloud.js';
import { createAzureCredential } from '../../../src/adapters/credential.js';
import { ResourceGraphInventory, ResourceGraphQueryRunner } from '../../../src/adapters/resource-graph.js';
import { SubscriptionsApi } from '../../../src/adapters/subscriptions-api.js';
import { SimulatedTenant, startLocalAzure, type LocalAzure } from '../../azure-server/index.js';
import { failureOf, gatherInventory, guid, useServerIdentity } from './helpers.js';
import { FAST_RETRY } from '../../support/fixtures.js';

let azure: LocalAzure;
let restoreEnv: () => void;
const tenant = new SimulatedTenant();
const WINDOW_MS = 1_000;
/** The test clock (epoch ms) of the server's quota windows and the inventory's waits. */
let now = Date.parse('2026-11-22T05:00:00.000Z');

beforeAll(async () => {
  tenant.addSubscription({ subscriptionId: guid(1), contacts: [] });
  azure = await startLocalAzure({ tenant, resourceGraphQuota: { requestsPerWindow: 2, windowMs: WINDOW_MS, clock: () => now } });
  restoreEnv = useServerIdentity(azure);
});

afterAll(async () => {
  restoreEnv?.();
  await azure?.close();
});

/** The inventory as createAzureAdapters builds it, on the test clock; `slept` lists the waits it asked for. */
function inventoryOnTheTestClock(retry: RetrySettings = FAST_RETRY): { inventory: ResourceGraphInventory; slept: number[] } {
  const cloud = resolveAzureCloud(azure.env());
  const credential = createAzureCredential(cloud);
  const retrySettings = { ...DEFAULT_RETRY_SETTINGS, ...retry };
  const slept: number[] = [];
  const queries = new ResourceGraphQueryRunner(credential, cloud, {
    retry: retrySettings,
    clock: () => now,
    // Waits side by side end together, as timers would: the clock moves to the later end.
    sleep: async (ms) => {
      const until = now + ms;
      slept.push(ms);
      await Promise.resolve();
      now = Math.max(now, until);
    },
  });
  const inventory = new ResourceGraphInventory(queries, new SubscriptionsApi(credential, cloud, { retry: retrySettings }));
  return { inventory, slept };
}

const graphStatuses = () => azure.requests.of('resource-graph').map((r) => r.status);

describe('Resource Graph user quota', () => {
  it('waits for the quota to reset rather than being throttled', async () => {
    const { inventory, slept } = inventoryOnTheTestClock();

    await gatherInventory(inventory, {}); // 2 requests: this window's quota is spent
    expect(slept).toEqual([]);
    await gatherInventory(inventory, {}); // must wait for the next window

    // Each of the two queries, side by side, waited for the reset the last answer announced.
    expect(slept).toEqual([WINDOW_MS, WINDOW_MS]);
    expect(graphStatuses()).toEqual([200, 200, 200, 200]);
    expect(inventory.stats.requests).toBe(4);
  });

  it('stops the read, naming the wait, when the quota resets later than maxRetryAfterMs', async () => {
    now += WINDOW_MS; // a fresh window
    const { inventory, slept } = inventoryOnTheTestClock({ ...FAST_RETRY, maxRetryAfterMs: 200 });
    await gatherInventory(inventory, {}); // spends this window's quota
    const sent = azure.requests.of('resource-graph').length;

    const error = await failureOf(gatherInventory(inventory, {}));

    expect(error.message).toBe(
      "Resource Graph's request quota for this identity resets in 1 s (x-ms-user-quota-resets-after), longer than the 0.2 s contact-watch waits; the read was stopped.",
    );
    // Stopped at once: nothing waited on, nothing more sent.
    expect(slept).toEqual([]);
    expect(azure.requests.of('resource-graph')).toHaveLength(sent);
  });
});
