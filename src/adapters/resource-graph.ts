/**
 * The tenant's subscriptions and the security contacts Resource Graph indexes for them, read with
 * two plain queries (CONTRACT.md §6) through the Resource Graph SDK. Rows are validated here; a row
 * that is not what we expect stops the read with a message naming the row and the field.
 *
 * Management groups are named up to RESOURCE_GRAPH_MANAGEMENT_GROUP_BATCH per request, and a named
 * group under which no subscription shows is reported (a typo must not pass as an empty, clean
 * scope). A row does not say which named group matched it, but every subscription row carries its
 * ancestors in `properties.managementGroupAncestorsChain` (`[{ name, displayName }]`, up to the
 * tenant root group), so each row is credited to the named groups in its chain. Only when a batch
 * holds rows without a readable chain are its uncredited groups asked about one at a time.
 */
import { ResourceGraphClient } from '@azure/arm-resourcegraph';
import type { TokenCredential } from '@azure/identity';
import { isRestError, type HttpHeaders } from '@azure/core-rest-pipeline';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { SubscriptionInfo } from '../core/model.js';
import { isSubscriptionId } from '../core/subscription-id.js';
import type { RawSecurityContact, ScanScope, TenantInventory, TenantInventorySource } from '../scan/ports.js';
import type { AzureCloudSettings } from './azure-cloud.js';
import {
  addRetryAfterPolicy,
  asRecord,
  DEFAULT_MAX_RETRY_AFTER_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_RETRY_SETTINGS,
  describeHttpFailure,
  describeTransportError,
  formatWait,
  isTimeout,
  parseTimeSpan,
  type ArmClientOptions,
  type RetrySettings,
} from './arm-http.js';
import { describeFirstIssue, stringTags, subscriptionIdSchema } from './rows.js';

export const SUBSCRIPTIONS_QUERY =
  "resourcecontainers | where type =~ 'microsoft.resources/subscriptions' | project id, name, type, tenantId, subscriptionId, properties, tags";
export const SECURITY_CONTACTS_QUERY =
  "securityresources | where type =~ 'microsoft.security/securitycontacts' | project id, name, type, tenantId, subscriptionId, properties, tags";

/** Rows per page (`$top`), and the most subscriptions one request may name. */
export const RESOURCE_GRAPH_PAGE_SIZE = 1000;
export const RESOURCE_GRAPH_SUBSCRIPTION_BATCH = 1000;
/** Management groups named in one request. */
export const RESOURCE_GRAPH_MANAGEMENT_GROUP_BATCH = 10;
/** When the quota is spent and the service does not say until when. */
const DEFAULT_QUOTA_WAIT_MS = 5_000;

export const QUOTA_REMAINING_HEADER = 'x-ms-user-quota-remaining';
export const QUOTA_RESETS_AFTER_HEADER = 'x-ms-user-quota-resets-after';
export const TENANT_LIMIT_HIT_HEADER = 'x-ms-tenant-subscription-limit-hit';

/** The subscriptions of a tenant too large for Resource Graph's tenant scope. */
export interface SubscriptionLister {
  listSubscriptions(signal?: AbortSignal): Promise<SubscriptionInfo[]>;
}

export interface ResourceGraphInventoryOptions extends ArmClientOptions {
  /** Lists the subscriptions when a tenant-scope answer says the tenant is over Resource Graph's limit. */
  subscriptionLister: SubscriptionLister;
  /** Epoch ms (default Date.now): the clock a spent quota's reset is timed on. */
  clock?: () => number;
  /** Waits for a spent quota to reset (default a timer); tests pass one that moves their own clock. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Resource Graph could not answer, or answered with something we cannot use. */
export class ResourceGraphError extends Error {
  override name = 'ResourceGraphError';
}

interface Query {
  label: 'subscriptions' | 'security contacts';
  table: string;
  text: string;
}
const SUBSCRIPTIONS: Query = { label: 'subscriptions', table: 'resourcecontainers', text: SUBSCRIPTIONS_QUERY };
const CONTACTS: Query = { label: 'security contacts', table: 'securityresources', text: SECURITY_CONTACTS_QUERY };

type RequestScope = { subscriptions?: string[]; managementGroups?: string[] };

const tagsSchema = z.record(z.string(), z.unknown()).nullish();

const subscriptionRowSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string(),
  type: z.string().refine((type) => type.toLowerCase() === 'microsoft.resources/subscriptions', {
    message: 'expected microsoft.resources/subscriptions',
  }),
  tenantId: z.string().nullish(),
  subscriptionId: subscriptionIdSchema,
  properties: z.looseObject({ state: z.string().min(1) }),
  tags: tagsSchema,
});

/** The singular type is a quirk some writers leave behind (CONTRACT.md §1). */
const CONTACT_TYPES = ['microsoft.security/securitycontacts', 'microsoft.security/securitycontact'];
const contactRowSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string().min(1),
  type: z.string().refine((type) => CONTACT_TYPES.includes(type.toLowerCase()), {
    message: 'expected microsoft.security/securitycontacts',
  }),
  tenantId: z.string().nullish(),
  subscriptionId: subscriptionIdSchema,
  properties: z.record(z.string(), z.unknown()),
  tags: tagsSchema,
});

interface PagingOptions {
  /** Stop at the first page that says the tenant is over Resource Graph's tenant-scope limit. */
  stopWhenLimitHit?: boolean;
  /** When aborted, no further page is requested (the query beside this one failed). */
  stop?: AbortSignal;
}

export class ResourceGraphInventory implements TenantInventorySource {
  /** Requests sent to Resource Graph: one per page (the pipeline's retries are not counted). */
  readonly stats = { requests: 0 };
  private readonly client: ResourceGraphClient;
  private readonly retry: RetrySettings;
  private readonly timeout: number;
  private readonly subscriptionLister: SubscriptionLister;
  private readonly clock: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Epoch ms before which no request is sent: the user quota is spent until then. */
  private quotaResumesAt = 0;

  constructor(credential: TokenCredential, cloud: AzureCloudSettings, options: ResourceGraphInventoryOptions) {
    this.retry = options.retry ?? DEFAULT_RETRY_SETTINGS;
    this.timeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.subscriptionLister = options.subscriptionLister;
    this.clock = options.clock ?? Date.now;
    this.sleep = options.sleep ?? ((ms, signal) => sleep(ms, undefined, { signal }));
    this.client = new ResourceGraphClient(credential, {
      endpoint: cloud.resourceManagerEndpoint,
      credentials: { scopes: [cloud.tokenScope] },
      retryOptions: this.retry,
      userAgentOptions: { userAgentPrefix: 'contact-watch' },
    });
    addRetryAfterPolicy(this.client.pipeline, this.retry);
  }

  async readInventory(scope: ScanScope, signal?: AbortSignal): Promise<TenantInventory> {
    const subscriptionIds = normaliseSubscriptionIds(scope.subscriptionIds ?? []);
    const managementGroupIds = normaliseManagementGroupIds(scope.managementGroupIds ?? []);
    if (subscriptionIds.length === 0 && managementGroupIds.length === 0) return this.readTenant(signal);

    const inventory = new InventoryBuilder();
    for (const batch of chunk(subscriptionIds, RESOURCE_GRAPH_SUBSCRIPTION_BATCH)) {
      await sideBySide((stop) => [
        this.readSubscriptionRows({ subscriptions: batch }, inventory, signal, { stop }),
        this.readContactRows({ subscriptions: batch }, inventory, signal, { stop }),
      ]);
    }
    const withoutSubscriptions: string[] = [];
    for (const batch of chunk(managementGroupIds, RESOURCE_GRAPH_MANAGEMENT_GROUP_BATCH)) {
      const credited = new ManagementGroupCredit(batch);
      const [subscriptionsRead, contactsRead] = await sideBySide((stop) => [
        this.readSubscriptionRows({ managementGroups: batch }, inventory, signal, { stop }, (row) => credited.credit(row)),
        this.readContactRows({ managementGroups: batch }, inventory, signal, { stop }),
      ]);
      if (subscriptionsRead.limitHit || contactsRead.limitHit) throw partialManagementGroupAnswer(batch);
      withoutSubscriptions.push(...(await this.confirmUncredited(credited, inventory, signal)));
    }
    return inventory.build(withoutSubscriptions);
  }

  /**
   * The groups of a batch that no row was credited to. When every row had its ancestor chain, that
   * settles it; otherwise each such group is read alone, where every row it answers is its own.
   */
  private async confirmUncredited(credited: ManagementGroupCredit, inventory: InventoryBuilder, signal?: AbortSignal): Promise<string[]> {
    if (!credited.hadRowsWithoutChain) return credited.uncredited();
    const without: string[] = [];
    for (const group of credited.uncredited()) {
      let rows = 0;
      const read = await this.readSubscriptionRows({ managementGroups: [group] }, inventory, signal, {}, () => (rows += 1));
      if (read.limitHit) throw partialManagementGroupAnswer([group]);
      if (rows === 0) without.push(group);
    }
    return without;
  }

  /**
   * Tenant scope. When Resource Graph says the tenant is over its tenant-scope subscription limit,
   * the subscriptions come from the Subscriptions API and the contacts are queried in explicit
   * batches of subscriptions, so that no subscription is left out. The two queries do not depend
   * on each other, so they page side by side.
   */
  private async readTenant(signal?: AbortSignal): Promise<TenantInventory> {
    const tenantWide = new InventoryBuilder();
    const [subscriptionsRead, contactsRead] = await sideBySide((stop) => [
      this.readSubscriptionRows({}, tenantWide, signal, { stop, stopWhenLimitHit: true }),
      this.readContactRows({}, tenantWide, signal, { stop, stopWhenLimitHit: true }),
    ]);
    if (!subscriptionsRead.limitHit && !contactsRead.limitHit) return tenantWide.build();

    const subscriptions = subscriptionsRead.limitHit ? await this.subscriptionLister.listSubscriptions(signal) : tenantWide.subscriptionList();
    const batched = new InventoryBuilder();
    batched.addSubscriptions(subscriptions);
    const ids = subscriptions.map((s) => s.subscriptionId);
    for (const batch of chunk(ids, RESOURCE_GRAPH_SUBSCRIPTION_BATCH)) {
      await this.readContactRows({ subscriptions: batch }, batched, signal);
    }
    return batched.build();
  }

  private async readSubscriptionRows(
    scope: RequestScope,
    inventory: InventoryBuilder,
    signal?: AbortSignal,
    paging?: PagingOptions,
    observe?: (row: unknown) => void,
  ) {
    return this.runQuery(
      SUBSCRIPTIONS,
      scope,
      signal,
      (row, where) => {
        inventory.addSubscriptions([toSubscriptionInfo(row, where)]);
        observe?.(row);
      },
      paging,
    );
  }

  private async readContactRows(scope: RequestScope, inventory: InventoryBuilder, signal?: AbortSignal, paging?: PagingOptions) {
    return this.runQuery(
      CONTACTS,
      scope,
      signal,
      (row, where) => {
        const contact = toContactRow(row, where);
        inventory.addContact(contact.subscriptionId, contact.id, contact.raw);
      },
      paging,
    );
  }

  /** Runs one query over every page, handing each row to `onRow`. */
  private async runQuery(
    query: Query,
    scope: RequestScope,
    signal: AbortSignal | undefined,
    onRow: (row: unknown, where: string) => void,
    paging: PagingOptions = {},
  ): Promise<{ limitHit: boolean }> {
    let skipToken: string | undefined;
    let limitHit = false;
    for (let page = 1; ; page += 1) {
      if (paging.stop?.aborted) return { limitHit };
      await this.waitForQuota(signal);
      let headers: HttpHeaders | undefined;
      this.stats.requests += 1;
      let answer;
      try {
        answer = await this.client.resources(
          {
            ...scope,
            query: query.text,
            options: { top: RESOURCE_GRAPH_PAGE_SIZE, resultFormat: 'objectArray', ...(skipToken ? { skipToken } : {}) },
          },
          {
            abortSignal: signal,
            requestOptions: { timeout: this.timeout },
            onResponse: (response) => {
              headers = response.headers;
            },
          },
        );
      } catch (error) {
        if (headers) this.noteQuota(headers);
        if (signal?.aborted) throw error;
        throw new ResourceGraphError(`${this.describeQuery(query, scope)} failed: ${this.describeError(error)}`, { cause: error });
      }
      if (headers) {
        this.noteQuota(headers);
        if (headers.get(TENANT_LIMIT_HIT_HEADER)?.trim().toLowerCase() === 'true') limitHit = true;
      }
      // The caller reads the whole scope another way; the rest of these pages would be thrown away.
      if (limitHit && paging.stopWhenLimitHit) return { limitHit };

      const rows: unknown = answer.data;
      if (!Array.isArray(rows)) {
        throw new ResourceGraphError(
          `${this.describeQuery(query, scope)} answered with "data" that is not a list of rows (resultFormat objectArray was asked for).`,
        );
      }
      rows.forEach((row, index) => onRow(row, `row #${index + 1} of page ${page}`));

      const next = answer.skipToken || undefined;
      if (!next) {
        if (answer.resultTruncated === 'true') {
          throw new ResourceGraphError(`${this.describeQuery(query, scope)} answered with a truncated result and no $skipToken to read the rest.`);
        }
        return { limitHit };
      }
      if (next === skipToken) {
        throw new ResourceGraphError(`${this.describeQuery(query, scope)} answered page ${page} with the same $skipToken again; the read was stopped.`);
      }
      skipToken = next;
    }
  }

  /** Resource Graph's per-user quota: when none is left, wait until it resets before the next request. */
  private noteQuota(headers: HttpHeaders): void {
    const remainingText = headers.get(QUOTA_REMAINING_HEADER);
    if (remainingText === undefined || remainingText.trim() === '') return;
    const remaining = Number(remainingText);
    if (!Number.isFinite(remaining) || remaining > 0) return;
    const wait = parseTimeSpan(headers.get(QUOTA_RESETS_AFTER_HEADER)) ?? DEFAULT_QUOTA_WAIT_MS;
    this.quotaResumesAt = Math.max(this.quotaResumesAt, this.clock() + wait);
  }

  /** Waits out an exhausted quota, up to maxRetryAfterMs; a longer wait stops the read, naming it. */
  private async waitForQuota(signal?: AbortSignal): Promise<void> {
    const wait = this.quotaResumesAt - this.clock();
    if (wait <= 0) return;
    const longest = this.retry.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
    if (wait > longest) {
      throw new ResourceGraphError(
        `Resource Graph's request quota for this identity resets in ${formatWait(wait)} (${QUOTA_RESETS_AFTER_HEADER}), longer than the ${formatWait(longest)} contact-watch waits; the read was stopped.`,
      );
    }
    await this.sleep(wait, signal);
  }

  private describeQuery(query: Query, scope: RequestScope): string {
    const where = scope.subscriptions
      ? `${scope.subscriptions.length} named subscription(s)`
      : scope.managementGroups
        ? `management group(s) ${scope.managementGroups.join(', ')}`
        : 'tenant scope';
    return `The Resource Graph ${query.label} query (${query.table}, ${where})`;
  }

  private describeError(error: unknown): string {
    if (isTimeout(error)) return `no answer within ${this.timeout / 1000} s`;
    if (!isRestError(error)) return error instanceof Error ? error.message : String(error);
    if (error.statusCode === undefined || !error.response) {
      return describeTransportError(error, error.request?.url ?? 'https://resource-graph.invalid', this.retry);
    }
    const { status, bodyAsText, headers } = error.response;
    // The SDK keeps the ARM error body in `details`; it is re-read from the text when missing.
    const body = error.details ?? safeJson(bodyAsText);
    if (error.code === 'PARSE_ERROR') return `${status}: the answer is not JSON`;
    return describeHttpFailure(status, body, bodyAsText ?? undefined, this.retry, headers);
  }
}

/** Collects subscriptions and contacts, de-duplicated (a scope may be read in overlapping parts). */
class InventoryBuilder {
  private readonly subscriptions = new Map<string, SubscriptionInfo>();
  private readonly contacts = new Map<string, Map<string, RawSecurityContact>>();

  addSubscriptions(subscriptions: SubscriptionInfo[]): void {
    for (const subscription of subscriptions) this.subscriptions.set(subscription.subscriptionId, subscription);
  }

  addContact(subscriptionId: string, contactId: string, raw: RawSecurityContact): void {
    let contacts = this.contacts.get(subscriptionId);
    if (!contacts) this.contacts.set(subscriptionId, (contacts = new Map()));
    contacts.set(contactId.toLowerCase(), raw);
  }

  subscriptionList(): SubscriptionInfo[] {
    return [...this.subscriptions.values()];
  }

  build(managementGroupsWithoutSubscriptions: string[] = []): TenantInventory {
    return {
      subscriptions: this.subscriptionList(),
      contactsBySubscription: new Map([...this.contacts].map(([id, contacts]) => [id, [...contacts.values()]])),
      managementGroupsWithoutSubscriptions,
    };
  }
}

/**
 * Which of a batch's named management groups the subscription rows came from, read from each
 * row's ancestor chain. A group is named once it is credited with a row.
 */
class ManagementGroupCredit {
  /** Groups not credited yet: lower-case name → as named. */
  private readonly pending: Map<string, string>;
  private rowsWithoutChain = 0;

  constructor(private readonly batch: readonly string[]) {
    this.pending = new Map(batch.map((group) => [group.toLowerCase(), group]));
  }

  credit(row: unknown): void {
    if (this.pending.size === 0) return;
    // Alone in its request, a group is what every row came from.
    if (this.batch.length === 1) {
      this.pending.clear();
      return;
    }
    const ancestors = ancestorGroupNames(row);
    if (ancestors === undefined) {
      this.rowsWithoutChain += 1;
      return;
    }
    for (const name of ancestors) this.pending.delete(name);
  }

  get hadRowsWithoutChain(): boolean {
    return this.rowsWithoutChain > 0;
  }

  /** The groups no row was credited to, as named. */
  uncredited(): string[] {
    return [...this.pending.values()];
  }
}

/** The lower-case names (ids) of a subscription row's ancestor management groups, or undefined when it has no readable chain. */
function ancestorGroupNames(row: unknown): string[] | undefined {
  const chain = asRecord(asRecord(row)?.properties)?.managementGroupAncestorsChain;
  if (!Array.isArray(chain)) return undefined;
  const names = chain.flatMap((ancestor) => {
    const name = asRecord(ancestor)?.name;
    return typeof name === 'string' && name !== '' ? [name.toLowerCase()] : [];
  });
  return names.length > 0 ? names : undefined;
}

function partialManagementGroupAnswer(groups: readonly string[]): ResourceGraphError {
  return new ResourceGraphError(
    `Resource Graph answered for only part of management group(s) ${groups.join(', ')}: it holds more subscriptions than Resource Graph serves at that scope. ` +
      'Name the subscriptions with --subscription, or scan the whole tenant.',
  );
}

function toSubscriptionInfo(row: unknown, where: string): SubscriptionInfo {
  const parsed = subscriptionRowSchema.safeParse(row);
  if (!parsed.success) throw rowError('subscriptions', row, where, parsed.error);
  const { subscriptionId, name, properties, tenantId, tags } = parsed.data;
  return {
    subscriptionId: subscriptionId.toLowerCase(),
    displayName: name,
    state: properties.state,
    ...(tenantId ? { tenantId } : {}),
    ...(tags ? { tags: stringTags(tags) } : {}),
  };
}

function toContactRow(row: unknown, where: string): { subscriptionId: string; id: string; raw: RawSecurityContact } {
  const parsed = contactRowSchema.safeParse(row);
  if (!parsed.success) throw rowError('security contacts', row, where, parsed.error);
  const { id, name, type, properties, subscriptionId } = parsed.data;
  return { subscriptionId: subscriptionId.toLowerCase(), id, raw: { id, name, type, properties } };
}

function rowError(query: string, row: unknown, where: string, error: z.ZodError): ResourceGraphError {
  const id = asRecord(row)?.id;
  const which = typeof id === 'string' && id !== '' ? `row "${id}"` : `${where} (it has no id)`;
  return new ResourceGraphError(`Resource Graph's ${query} query returned ${which} that is not as expected: ${describeFirstIssue(error)}.`);
}

function normaliseSubscriptionIds(ids: string[]): string[] {
  const normalised = new Set<string>();
  for (const raw of ids) {
    const id = raw.trim();
    if (!isSubscriptionId(id)) throw new ResourceGraphError(`"${id}" is not a subscription id (a GUID); nothing was sent to Resource Graph.`);
    normalised.add(id.toLowerCase());
  }
  return [...normalised];
}

/**
 * Runs the two queries side by side. When one fails, the other stops before its next page (its
 * request in flight is let finish, so no connection is abandoned half-read); the first failure is
 * what the caller sees.
 */
async function sideBySide<T>(start: (stop: AbortSignal) => [Promise<T>, Promise<T>]): Promise<[T, T]> {
  const stop = new AbortController();
  const reads = start(stop.signal);
  try {
    return await Promise.all(reads);
  } catch (error) {
    stop.abort();
    await Promise.allSettled(reads);
    throw error;
  }
}

/** Trimmed, blanks dropped, and each group once: management group ids are not case-sensitive. */
function normaliseManagementGroupIds(ids: string[]): string[] {
  const byKey = new Map<string, string>();
  for (const raw of ids) {
    const id = raw.trim();
    if (id !== '' && !byKey.has(id.toLowerCase())) byKey.set(id.toLowerCase(), id);
  }
  return [...byKey.values()];
}

function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

function safeJson(text: string | null | undefined): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}
