/**
 * Resource Graph's per-user quota: when `x-ms-user-quota-remaining` reaches 0, the next request
 * waits for `x-ms-user-quota-resets-after` instead of running into a 429.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedTenant, startLocalAzure, type LocalAzure } from '../../azure-server/index.js';
import { adaptersFor, failureOf, FAST_RETRY, guid, useServerIdentity } from './helpers.js';

let azure: LocalAzure;
let restoreEnv: () => void;
const tenant = new SimulatedTenant();
const WINDOW_MS = 1_000;

beforeAll(async () => {
  tenant.addSubscription({ subscriptionId: guid(1), contacts: [] });
  azure = await startLocalAzure({ tenant, resourceGraphQuota: { requestsPerWindow: 2, windowMs: WINDOW_MS } });
  restoreEnv = useServerIdentity(azure);
});

afterAll(async () => {
  restoreEnv?.();
  await azure?.close();
});

describe('Resource Graph user quota', () => {
  it('waits for the quota to reset rather than being throttled', async () => {
    const adapters = adaptersFor(azure);

    const started = Date.now();
    await adapters.inventory.readInventory({}); // 2 requests: the quota of this window is spent
    await adapters.inventory.readInventory({}); // must wait for the next window

    const requests = azure.requests.of('resource-graph');
    expect(requests.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(requests[2]!.startedAt - requests[0]!.startedAt).toBeGreaterThanOrEqual(WINDOW_MS - 50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(WINDOW_MS - 50);
    expect(adapters.inventory.stats.requests).toBe(4);
  });

  it('stops the read, naming the wait, when the quota resets later than maxRetryAfterMs', async () => {
    await sleep(WINDOW_MS); // a fresh window
    const adapters = adaptersFor(azure, { retry: { ...FAST_RETRY, maxRetryAfterMs: 200 } });
    await adapters.inventory.readInventory({}); // spends this window's quota
    const started = Date.now();
    const error = await failureOf(adapters.inventory.readInventory({}));
    expect(Date.now() - started).toBeLessThan(150);
    expect(error.message).toMatch(/^Resource Graph's request quota for this identity resets in \d(\.\d)? s \(x-ms-user-quota-resets-after\), longer than the 0\.2 s contact-watch waits; the read was stopped\.$/);
  });
});
