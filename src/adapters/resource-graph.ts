/**
 * The tenant's subscriptions and the security contacts Resource Graph indexes for them, read with
 * two plain queries (docs/reference/scanning.md, resource-graph-query.ts) through the Resource Graph SDK, page
 * by page within the per-user quota (resource-graph-paging.ts, resource-graph-quota.ts). Rows are
 * validated (resource-graph-rows.ts); a row that is not what we expect stops the read with a
 * message naming the row and the field.
 *
 * Management groups are named up to RESOURCE_GRAPH_MANAGEMENT_GROUP_BATCH per request, and a named
 * group under which no subscription shows is reported (a typo must not pass as an empty, clean
 * scope). A row does not say which named group matched it, but every subscription row carries its
 * ancestors in `properties.managementGroupAncestorsChain` (`[{ name, displayName }]`, up to the
 * tenant root group), so each row is credited to the named groups in its chain. Only when a batch
 * holds rows without a readable chain are its uncredited groups asked about one at a time.
 */
import type { TokenCredential } from '@azure/identity';
import type { SubscriptionInfo } from '../core/model.js';
import { isSubscriptionId } from '../core/subscription-id.js';
import type { ResourceGraphStats, ScanScope, TenantInventory, TenantInventorySource } from '../scan/ports.js';
import type { AzureCloudSettings } from './azure-cloud.js';
import { ResourceGraphQueryRunner, type PagingOptions, type QueryRunnerOptions } from './resource-graph-paging.js';
import { CONTACTS, ResourceGraphError, SUBSCRIPTIONS, type RequestScope } from './resource-graph-query.js';
import { InventoryBuilder, ManagementGroupCredit, toContactRow, toSubscriptionInfo } from './resource-graph-rows.js';

// The adapter's public names, declared in the parts that use them.
export { RESOURCE_GRAPH_PAGE_SIZE, TENANT_LIMIT_HIT_HEADER } from './resource-graph-paging.js';
export { QUOTA_REMAINING_HEADER, QUOTA_RESETS_AFTER_HEADER } from './resource-graph-quota.js';
export { ResourceGraphError, SECURITY_CONTACTS_QUERY, SUBSCRIPTIONS_QUERY } from './resource-graph-query.js';

/** The most subscriptions one request may name. */
export const RESOURCE_GRAPH_SUBSCRIPTION_BATCH = 1000;
/** Management groups named in one request. */
export const RESOURCE_GRAPH_MANAGEMENT_GROUP_BATCH = 10;

/** The subscriptions of a tenant too large for Resource Graph's tenant scope. */
export interface SubscriptionLister {
  listSubscriptions(signal?: AbortSignal): Promise<SubscriptionInfo[]>;
}

export interface ResourceGraphInventoryOptions extends QueryRunnerOptions {
  /** Lists the subscriptions when a tenant-scope answer says the tenant is over Resource Graph's limit. */
  subscriptionLister: SubscriptionLister;
}

export class ResourceGraphInventory implements TenantInventorySource {
  /** Requests sent to Resource Graph: one per page (the pipeline's retries are not counted). */
  readonly stats: ResourceGraphStats;
  private readonly queries: ResourceGraphQueryRunner;
  private readonly subscriptionLister: SubscriptionLister;

  constructor(credential: TokenCredential, cloud: AzureCloudSettings, options: ResourceGraphInventoryOptions) {
    this.queries = new ResourceGraphQueryRunner(credential, cloud, options);
    this.stats = this.queries.stats;
    this.subscriptionLister = options.subscriptionLister;
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

    const subscriptions = subscriptionsRead.limitHit
      ? await this.subscriptionLister.listSubscriptions(signal)
      : tenantWide.subscriptionList();
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
    return this.queries.run(
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
    return this.queries.run(
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
}

function partialManagementGroupAnswer(groups: readonly string[]): ResourceGraphError {
  return new ResourceGraphError(
    `Resource Graph answered for only part of management group(s) ${groups.join(', ')}: it holds more subscriptions than Resource Graph serves at that scope. ` +
      'Name the subscriptions with --subscription, or scan the whole tenant.',
  );
}

function normaliseSubscriptionIds(ids: string[]): string[] {
  const normalised = new Set<string>();
  for (const raw of ids) {
    const id = raw.trim();
    if (!isSubscriptionId(id))
      throw new ResourceGraphError(`"${id}" is not a subscription id (a GUID); nothing was sent to Resource Graph.`);
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
