/**
 * The Azure side, built from the environment the same way for the CLI and the Functions app: cloud
 * settings, credential, and the ARM adapters.
 */
import type { AdditionalPolicyConfig } from '@azure/core-client';
import type { TokenCredential } from '@azure/identity';
import { resolveAzureCloud, type AzureCloudSettings } from '../adapters/azure-cloud.js';
import { DEFAULT_RETRY_SETTINGS, type RetrySettings } from '../adapters/arm-http.js';
import { createAzureCredential } from '../adapters/credential.js';
import { ResourceGraphInventory, ResourceGraphQueryRunner } from '../adapters/resource-graph.js';
import { ResourceGraphSubscriptionIds } from '../adapters/resource-graph-subscription-ids.js';
import { SecurityContactsApi } from '../adapters/security-contacts.js';
import { SubscriptionsApi } from '../adapters/subscriptions-api.js';

export interface AzureAdapters {
  cloud: AzureCloudSettings;
  credential: TokenCredential;
  /**
   * Resource Graph queries of this identity: every query goes through it, so that together they
   * keep within the identity's one Resource Graph quota.
   */
  resourceGraph: ResourceGraphQueryRunner;
  /** Resource Graph: subscriptions and indexed contacts (TenantInventorySource), read through `resourceGraph`. */
  inventory: ResourceGraphInventory;
  /** Resource Graph: the tenant's subscription ids and states only, for the new-subscription watch (SubscriptionIdSource). */
  subscriptionIds: ResourceGraphSubscriptionIds;
  /** securityContacts API, fresh per subscription (SecurityContactsSource). */
  contacts: SecurityContactsApi;
  /** ARM Subscriptions API: list, and one subscription fresh (SubscriptionLookup). */
  subscriptions: SubscriptionsApi;
}

export interface AzureAdapterOptions {
  /** Retry settings for every client; tests and the benchmark use small delays. */
  retry?: Partial<RetrySettings>;
  /** Per-request time limit in ms (default 60 s). */
  requestTimeoutMs?: number;
  /** Use this credential instead of DefaultAzureCredential. */
  credential?: TokenCredential;
  /** The cloud as the settings already read it, so that portal links and ARM calls never name two clouds. */
  cloud?: AzureCloudSettings;
  /** Extra pipeline policies for every ARM client (a test's fault injection). */
  additionalPolicies?: AdditionalPolicyConfig[];
  /** `false` where no telemetry exports spans (the CLI): the ARM clients make none (ArmClientOptions.spans). */
  spans?: boolean;
}

/** Throws SettingsError when AZURE_CLOUD or AZURE_RESOURCE_MANAGER_ENDPOINT is malformed (unless `options.cloud` is given). */
export function createAzureAdapters(env: NodeJS.ProcessEnv = process.env, options: AzureAdapterOptions = {}): AzureAdapters {
  const cloud = options.cloud ?? resolveAzureCloud(env);
  const credential = options.credential ?? createAzureCredential(cloud);
  const clientOptions = {
    retry: { ...DEFAULT_RETRY_SETTINGS, ...options.retry },
    ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    ...(options.additionalPolicies ? { additionalPolicies: options.additionalPolicies } : {}),
    ...(options.spans !== undefined ? { spans: options.spans } : {}),
  };
  const subscriptions = new SubscriptionsApi(credential, cloud, clientOptions);
  const resourceGraph = new ResourceGraphQueryRunner(credential, cloud, clientOptions);
  return {
    cloud,
    credential,
    resourceGraph,
    inventory: new ResourceGraphInventory(resourceGraph, subscriptions),
    subscriptionIds: new ResourceGraphSubscriptionIds(resourceGraph),
    contacts: new SecurityContactsApi(credential, cloud, clientOptions),
    subscriptions,
  };
}
