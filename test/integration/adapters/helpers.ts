/** Shared set-up for the adapter tests against the local Azure test server. */
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import { createAzureAdapters, type AzureAdapterOptions, type AzureAdapters } from '../../../src/compose/azure.js';
import { createAzureCredential } from '../../../src/adapters/credential.js';
import { resolveAzureCloud } from '../../../src/adapters/azure-cloud.js';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startLocalAzure, type LocalAzure, type LocalAzureOptions, type SimulatedTenant } from '../../azure-server/index.js';
import { useManagedIdentityEnv } from '../../azure-server/sdk-clients.js';
import { FAST_RETRY } from '../../support/fixtures.js';
import type { SubscriptionInfo } from '../../../src/core/model.js';
import type { InventoryOutcome, RawSecurityContact, ScanScope, TenantInventorySource } from '../../../src/scan/ports.js';

/**
 * Puts the server's managed identity into process.env for the whole test file. MSAL caches the
 * managed-identity source (with its endpoint) per process, so a test file talks to one server.
 */
export function useServerIdentity(azure: LocalAzure): () => void {
  return useManagedIdentityEnv(azure);
}

/**
 * One local Azure test server for a test file: started before its tests over `tenant` (handed to
 * `started`), its managed identity in process.env for the file, and before each test the tenant
 * emptied and the scripted faults and the request log cleared.
 */
export function useLocalAzure(
  tenant: SimulatedTenant,
  options: Omit<LocalAzureOptions, 'tenant'>,
  started: (azure: LocalAzure) => void,
): void {
  let azure: LocalAzure | undefined;
  let restoreEnv: (() => void) | undefined;
  beforeAll(async () => {
    azure = await startLocalAzure({ ...options, tenant });
    restoreEnv = useServerIdentity(azure);
    started(azure);
  });
  afterAll(async () => {
    restoreEnv?.();
    await azure?.close();
  });
  beforeEach(() => {
    emptyTenant(tenant);
    azure?.faults.clear();
    azure?.requests.clear();
  });
}

/** DefaultAzureCredential that also records the scopes it was asked for. */
export class ScopeRecordingCredential implements TokenCredential {
  readonly scopes: string[][] = [];
  constructor(private readonly inner: TokenCredential) {}
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
    this.scopes.push(Array.isArray(scopes) ? [...scopes] : [scopes]);
    return this.inner.getToken(scopes, options);
  }
}

/** The adapters exactly as the CLI builds them from the server's env(), with fast retries. */
export function adaptersFor(azure: LocalAzure, options: AzureAdapterOptions = {}): AzureAdapters {
  return createAzureAdapters(azure.env(), { retry: FAST_RETRY, ...options });
}

/** Adapters whose real DefaultAzureCredential is wrapped to record the requested scopes. */
export function recordingAdaptersFor(azure: LocalAzure, options: AzureAdapterOptions = {}) {
  const credential = new ScopeRecordingCredential(createAzureCredential(resolveAzureCloud(azure.env())));
  return { credential, adapters: adaptersFor(azure, { ...options, credential }) };
}

export function emptyTenant(tenant: SimulatedTenant): void {
  for (const subscription of [...tenant.listSubscriptions()]) tenant.removeSubscription(subscription.subscriptionId);
}

/** A lower-case GUID made from a number, stable across runs. */
export function guid(n: number, prefix = 'aaaaaaaa'): string {
  return `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`, { cause: error });
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/** A gate a test opens: `opened` settles when `open()` is called (e.g. a fault's holdUntil). */
export function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Everything an inventory read handed over, gathered: what the scan's listener saw, in order. */
export interface GatheredInventory extends InventoryOutcome {
  subscriptions: SubscriptionInfo[];
  /** Raw contact items by subscription id, a contact handed over twice (by id) counted once. */
  contactsBySubscription: Map<string, RawSecurityContact[]>;
  /** What was said complete, in order: `all`, or the ids of one batch. */
  completions: ('all' | string[])[];
  /** Each contactsCompleteBefore, in order: the subscription id the contact rows had reached; `lost` for contactsOrderLost. */
  completeBefore: string[];
  /**
   * Each call, in order: `subscription <id>`, `contact <subscription id>`, `complete <all | n ids>`,
   * `complete before <subscription id>`, `order lost`.
   */
  events: string[];
}

/** Reads the scope through `source`, gathering what it hands over. */
export async function gatherInventory(source: TenantInventorySource, scope: ScanScope, signal?: AbortSignal): Promise<GatheredInventory> {
  const subscriptions: SubscriptionInfo[] = [];
  const contacts = new Map<string, Map<string, RawSecurityContact>>();
  const completions: ('all' | string[])[] = [];
  const completeBefore: string[] = [];
  const events: string[] = [];
  const outcome = await source.readInventory(
    scope,
    {
      subscription: (subscription) => {
        subscriptions.push(subscription);
        events.push(`subscription ${subscription.subscriptionId}`);
      },
      contact: (subscriptionId, contactId, item) => {
        let byId = contacts.get(subscriptionId);
        if (!byId) contacts.set(subscriptionId, (byId = new Map()));
        byId.set(contactId.toLowerCase(), item);
        events.push(`contact ${subscriptionId}`);
      },
      contactsComplete: (ids) => {
        completions.push(ids ? [...ids] : 'all');
        events.push(`complete ${ids ? `${ids.length} ids` : 'all'}`);
      },
      contactsCompleteBefore: (subscriptionId) => {
        completeBefore.push(subscriptionId);
        events.push(`complete before ${subscriptionId}`);
      },
      contactsOrderLost: () => {
        completeBefore.push('lost');
        events.push('order lost');
      },
    },
    signal,
  );
  return {
    ...outcome,
    subscriptions,
    contactsBySubscription: new Map([...contacts].map(([id, byId]) => [id, [...byId.values()]])),
    completions,
    completeBefore,
    events,
  };
}
