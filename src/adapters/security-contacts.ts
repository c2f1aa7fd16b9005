/**
 * One subscription's Defender for Cloud security contacts, read fresh from the securityContacts
 * API at api-version 2023-12-01-preview (docs/reference/rules.md), and its `default` contact written there
 * for remediation. The requests go through the SecurityCenter client's pipeline (bearer token for
 * the cloud's scope, retries honouring Retry-After), but not through its typed `securityContacts`
 * operations: those are pinned to 2017-08-01-preview and can neither see nor write `emails`,
 * `notificationsByRole` or `notificationsSources`.
 */
import { SecurityCenter } from '@azure/arm-security';
import type { TokenCredential } from '@azure/identity';
import type { SecurityContactPutBody } from '../core/model.js';
import { isSubscriptionId } from '../core/subscription-id.js';
import type { ContactWriteResult, SecurityContactWriter } from '../remediation/ports.js';
import type { ContactListRead, RawSecurityContact, SecurityContactsSource } from '../scan/ports.js';
import type { AzureCloudSettings } from './azure-cloud.js';
import {
  preparePipeline,
  armGet,
  armPut,
  asRecord,
  checkNextLink,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_RETRY_SETTINGS,
  describeHttpFailure,
  isRetriedStatus,
  readArmError,
  type ArmClientOptions,
  type RetrySettings,
} from './arm-http.js';

export const SECURITY_CONTACTS_API_VERSION = '2023-12-01-preview';

/** Contact lists are one page in practice; this only bounds a service that keeps paging. */
const MAX_PAGES = 100;

/** The one contact the 2023-12-01-preview API knows per subscription, and the one remediation writes. */
export const DEFAULT_CONTACT_NAME = 'default';

/** What writing a security contact takes, for the message of a 403. */
export const CONTACT_WRITE_ACTION = 'Microsoft.Security/securityContacts/write';

export class SecurityContactsApi implements SecurityContactsSource, SecurityContactWriter {
  /**
   * `calls`: HTTP GETs sent (pages); `writes`: PUTs sent. The pipeline's retries are not counted
   * in either.
   */
  readonly stats = { calls: 0, writes: 0 };
  private readonly client: SecurityCenter;
  private readonly retry: RetrySettings;
  private readonly timeout: number;

  constructor(
    credential: TokenCredential,
    private readonly cloud: AzureCloudSettings,
    options: ArmClientOptions = {},
  ) {
    this.retry = options.retry ?? DEFAULT_RETRY_SETTINGS;
    this.timeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    // The subscription id is per request (in the URL), not per client.
    this.client = new SecurityCenter(credential, '', {
      endpoint: cloud.resourceManagerEndpoint,
      credentialScopes: [cloud.tokenScope],
      retryOptions: this.retry,
      userAgentOptions: { userAgentPrefix: 'contact-watch' },
      additionalPolicies: options.additionalPolicies ?? [],
    });
    preparePipeline(this.client.pipeline, this.retry, options);
  }

  /** The URL of a subscription's contact list (first page). */
  listUrl(subscriptionId: string): string {
    return `${this.cloud.resourceManagerEndpoint}/subscriptions/${subscriptionId.toLowerCase()}/providers/Microsoft.Security/securityContacts?api-version=${SECURITY_CONTACTS_API_VERSION}`;
  }

  /** The URL of a subscription's `default` contact. */
  contactUrl(subscriptionId: string): string {
    return `${this.cloud.resourceManagerEndpoint}/subscriptions/${subscriptionId.toLowerCase()}/providers/Microsoft.Security/securityContacts/${DEFAULT_CONTACT_NAME}?api-version=${SECURITY_CONTACTS_API_VERSION}`;
  }

  /**
   * Every contact of the subscription, following nextLink on the same ARM host only. Never throws
   * for what the service answers about this subscription; throws only when aborted or when no token
   * can be had (a failure of the whole run, not of one subscription).
   */
  async listContacts(subscriptionId: string, signal?: AbortSignal): Promise<ContactListRead> {
    if (!isSubscriptionId(subscriptionId)) {
      return { kind: 'unreadable', message: `"${subscriptionId}" is not a subscription id (a GUID); no request was sent` };
    }
    const contacts: RawSecurityContact[] = [];
    const seen = new Set<string>();
    let url: string | undefined = this.listUrl(subscriptionId);
    while (url) {
      if (seen.has(url) || seen.size >= MAX_PAGES) {
        return { kind: 'unreadable', message: `the securityContacts list kept paging (nextLink ${url}); it was not read to the end` };
      }
      seen.add(url);
      this.stats.calls += 1;
      const result = await armGet(this.client, url, this.retry, signal, this.timeout);
      // `transient: true` (ports.ts): no answer, or 408/429/5xx after the pipeline's retries, may pass.
      // Answers that will not change by themselves (403, 404, bad bodies) leave it out: absent = false.
      if (result.kind === 'transport-error') return { kind: 'unreadable', message: result.message, transient: true };
      const body = result.json.ok ? result.json.value : undefined;
      if (result.status === 409 && readArmError(body).code?.toLowerCase() === 'missingsubscriptionregistration') {
        const message = readArmError(body).message ?? 'the subscription is not registered with the Microsoft.Security resource provider';
        return { kind: 'provider-not-registered', message };
      }
      if (result.status !== 200) {
        const message = describeHttpFailure(result.status, body, result.bodyText, this.retry, result.headers);
        return isRetriedStatus(result.status)
          ? { kind: 'unreadable', message, transient: true, status: result.status }
          : { kind: 'unreadable', message, status: result.status };
      }
      if (!result.json.ok) return { kind: 'unreadable', message: `200 but ${result.json.reason}` };

      const page = readPage(result.json.value);
      if (!page) return { kind: 'unreadable', message: '200 but the body is neither a list nor { "value": [...] }' };
      contacts.push(...page.items);
      url = undefined;
      if (page.nextLink) {
        const next = checkNextLink(page.nextLink, this.cloud.resourceManagerEndpoint);
        if (!next.ok) return { kind: 'unreadable', message: `the list has more pages, but ${next.message}` };
        url = next.url;
      }
    }
    return { kind: 'listed', contacts };
  }

  /**
   * Writes the subscription's `default` contact (SecurityContactWriter). A PUT replaces the whole
   * contact, so sending it again is harmless: the pipeline retries it on 408, 429 (honouring
   * Retry-After), 5xx and lost connections like any read. Never throws for what the service
   * answers; throws only when aborted or when no token can be had.
   */
  async putContact(subscriptionId: string, body: SecurityContactPutBody, signal?: AbortSignal): Promise<ContactWriteResult> {
    if (!isSubscriptionId(subscriptionId)) {
      return { kind: 'refused', message: `"${subscriptionId}" is not a subscription id (a GUID); no request was sent` };
    }
    this.stats.writes += 1;
    const result = await armPut(this.client, this.contactUrl(subscriptionId), body, this.retry, signal, this.timeout);
    if (result.kind === 'transport-error') return { kind: 'refused', message: result.message, transient: true };
    const { status } = result;
    if (status === 200 || status === 201) return { kind: 'written', status };
    const answer = result.json.ok ? result.json.value : undefined;
    const described = describeHttpFailure(status, answer, result.bodyText, this.retry, result.headers);
    if (status === 403) {
      return { kind: 'refused', status, message: `${described} (${forbiddenWrite(answer, subscriptionId.toLowerCase())})` };
    }
    if (isRetriedStatus(status)) return { kind: 'refused', status, message: described, transient: true };
    if (status >= 200 && status < 300) {
      // Not an answer the API gives to a PUT (an asynchronous 202, say): the write may or may not
      // take, so it is reported as a failed write; the next reading of the contact shows which.
      return { kind: 'refused', status, message: `${described}: neither 200 nor 201, so the write is not known to have taken` };
    }
    return { kind: 'refused', status, message: described };
  }
}

/**
 * Why a 403 to a contact write happened, for the people who must fix it. A deny by Azure Policy
 * says so: granting a role would not help there. Any other 403 is the missing right.
 */
function forbiddenWrite(body: unknown, subscriptionId: string): string {
  if (readArmError(body).code?.toLowerCase() === 'requestdisallowedbypolicy') {
    return `an Azure Policy assignment denies writing security contacts on subscription ${subscriptionId}`;
  }
  return `the identity lacks ${CONTACT_WRITE_ACTION} on subscription ${subscriptionId}; the Security Admin role grants it`;
}

/** `{ value: [...], nextLink? }`, or a bare JSON array (a real quirk of this API). */
function readPage(body: unknown): { items: unknown[]; nextLink?: string } | undefined {
  if (Array.isArray(body)) return { items: body };
  const record = asRecord(body);
  if (!record || !Array.isArray(record.value)) return undefined;
  const nextLink = typeof record.nextLink === 'string' && record.nextLink !== '' ? record.nextLink : undefined;
  return { items: record.value, ...(nextLink ? { nextLink } : {}) };
}
