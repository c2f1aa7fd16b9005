/**
 * The ARM Subscriptions API (api-version 2022-12-01): every subscription the identity can see
 * (Resource Graph's fallback for tenants over its tenant-scope limit), and one subscription's name
 * and state read fresh (the `check` command, and named subscriptions Resource Graph does not show).
 */
import { ServiceClient } from '@azure/core-client';
import type { TokenCredential } from '@azure/identity';
import * as z from 'zod';
import type { SubscriptionInfo } from '../core/model.js';
import { isSubscriptionId } from '../core/subscription-id.js';
import type { SubscriptionLookup, SubscriptionLookupResult } from '../scan/ports.js';
import type { AzureCloudSettings } from './azure-cloud.js';
import {
  preparePipeline,
  armGet,
  asRecord,
  checkNextLink,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_RETRY_SETTINGS,
  describeHttpFailure,
  type ArmClientOptions,
  type RetrySettings,
} from './arm-http.js';
import { describeFirstIssue, stringTags, subscriptionIdSchema } from './response-validation.js';

export const SUBSCRIPTIONS_API_VERSION = '2022-12-01';

/** At most this many pages are followed (100 subscriptions each, far beyond any tenant). */
const MAX_PAGES = 10_000;

/** A subscription the Subscriptions API could not list; the message names the status and ARM error. */
export class SubscriptionsApiError extends Error {
  override name = 'SubscriptionsApiError';
}

// z.object, not looseObject: what the item holds beyond these fields is not read, and is not copied.
const subscriptionSchema = z.object({
  subscriptionId: subscriptionIdSchema,
  displayName: z.string(),
  state: z.string().min(1),
  tenantId: z.string().nullish(),
  tags: z.record(z.string(), z.unknown()).nullish(),
});

export class SubscriptionsApi implements SubscriptionLookup {
  /** HTTP GETs sent (pages; the pipeline's retries are not counted). */
  readonly stats = { calls: 0 };
  private readonly client: ServiceClient;
  private readonly retry: RetrySettings;
  private readonly timeout: number;

  constructor(
    credential: TokenCredential,
    private readonly cloud: AzureCloudSettings,
    options: ArmClientOptions = {},
  ) {
    this.retry = options.retry ?? DEFAULT_RETRY_SETTINGS;
    this.timeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.client = new ServiceClient({
      endpoint: cloud.resourceManagerEndpoint,
      credential,
      credentialScopes: [cloud.tokenScope],
      retryOptions: this.retry,
      userAgentOptions: { userAgentPrefix: 'contact-watch' },
      additionalPolicies: options.additionalPolicies ?? [],
    });
    preparePipeline(this.client.pipeline, this.retry, options);
  }

  /** Every subscription the identity can see, following nextLink. Throws SubscriptionsApiError. */
  async listSubscriptions(signal?: AbortSignal): Promise<SubscriptionInfo[]> {
    const subscriptions: SubscriptionInfo[] = [];
    await this.forEachSubscriptionPage((page) => subscriptions.push(...page), signal);
    return subscriptions;
  }

  /**
   * Every subscription the identity can see, handed over a page at a time as each arrives,
   * following nextLink; no further page is requested once `stop` is aborted. Throws
   * SubscriptionsApiError.
   */
  async forEachSubscriptionPage(onPage: (page: SubscriptionInfo[]) => void, signal?: AbortSignal, stop?: AbortSignal): Promise<void> {
    const endpoint = this.cloud.resourceManagerEndpoint;
    let url: string | undefined = `${endpoint}/subscriptions?api-version=${SUBSCRIPTIONS_API_VERSION}`;
    const seen = new Set<string>();
    while (url && !stop?.aborted) {
      if (seen.has(url) || seen.size >= MAX_PAGES) {
        throw new SubscriptionsApiError(`The Subscriptions API kept answering with the same nextLink (${url}); the list was not finished.`);
      }
      seen.add(url);
      this.stats.calls += 1;
      const result = await armGet(this.client, url, this.retry, signal, this.timeout);
      if (result.kind === 'transport-error') throw new SubscriptionsApiError(`Could not list subscriptions: ${result.message}`);
      if (result.status !== 200) {
        throw new SubscriptionsApiError(
          `Could not list subscriptions: ${describeHttpFailure(result.status, result.json.ok ? result.json.value : undefined, result.bodyText, this.retry, result.headers)}`,
        );
      }
      if (!result.json.ok) throw new SubscriptionsApiError(`Could not list subscriptions: ${result.json.reason}`);
      const page = asRecord(result.json.value);
      if (!page || !Array.isArray(page.value)) {
        throw new SubscriptionsApiError('Could not list subscriptions: the answer has no "value" list.');
      }
      onPage(page.value.map((item, index) => toSubscriptionInfo(item, index)));
      url = undefined;
      if (typeof page.nextLink === 'string' && page.nextLink !== '') {
        const next = checkNextLink(page.nextLink, endpoint);
        if (!next.ok) throw new SubscriptionsApiError(`Could not list every subscription: ${next.message}.`);
        url = next.url;
      }
    }
  }

  /** One subscription's display name and state, fresh from ARM. Never throws for an ARM answer. */
  async getSubscription(subscriptionId: string, signal?: AbortSignal): Promise<SubscriptionLookupResult> {
    if (!isSubscriptionId(subscriptionId)) {
      return { kind: 'unreadable', message: `"${subscriptionId}" is not a subscription id (a GUID); no request was sent` };
    }
    const id = subscriptionId.toLowerCase();
    const url = `${this.cloud.resourceManagerEndpoint}/subscriptions/${id}?api-version=${SUBSCRIPTIONS_API_VERSION}`;
    this.stats.calls += 1;
    const result = await armGet(this.client, url, this.retry, signal, this.timeout);
    if (result.kind === 'transport-error') return { kind: 'unreadable', message: result.message };
    if (result.status !== 200) {
      const body = result.json.ok ? result.json.value : undefined;
      return {
        kind: 'unreadable',
        message: describeHttpFailure(result.status, body, result.bodyText, this.retry, result.headers),
        status: result.status,
      };
    }
    if (!result.json.ok) return { kind: 'unreadable', message: `the subscription could not be read: ${result.json.reason}` };
    try {
      return { kind: 'found', subscription: toSubscriptionInfo(result.json.value, 0) };
    } catch (error) {
      return { kind: 'unreadable', message: (error as Error).message };
    }
  }
}

function toSubscriptionInfo(item: unknown, index: number): SubscriptionInfo {
  const parsed = subscriptionSchema.safeParse(item);
  if (!parsed.success) {
    const id = asRecord(item)?.subscriptionId;
    const which = typeof id === 'string' ? `subscription "${id}"` : `subscription #${index + 1} of its page`;
    throw new SubscriptionsApiError(
      `The Subscriptions API returned ${which} that is not as expected: ${describeFirstIssue(parsed.error)}.`,
    );
  }
  const { subscriptionId, displayName, state, tenantId, tags } = parsed.data;
  return {
    subscriptionId: subscriptionId.toLowerCase(),
    displayName,
    state,
    ...(tenantId ? { tenantId } : {}),
    ...(tags ? { tags: stringTags(tags) } : {}),
  };
}
