/**
 * The tenant's subscriptions and the security contacts Resource Graph indexes for them, read with
 * two plain queries (docs/reference/scanning.md, resource-graph-query.ts) through the Resource Graph SDK, page
 * by page within the per-user quota (resource-graph-paging.ts, resource-graph-quota.ts). Each row
 * is validated (resource-graph-rows.ts) and handed to the scan's listener as its page arrives, so
 * that no page is kept once read; a row that is not what we expect stops the read with a message
 * naming the row and the field.
 *
 * Management groups are named up to RESOURCE_GRAPH_MANAGEMENT_GROUP_BATCH per request, and a named
 * group under which no subscription shows is reported (a typo must not pass as an empty, clean
 * scope). A row does not say which named group matched it, but every subscription row carries its
 * ancestors in `properties.managementGroupAncestorsChain` (`[{ name, displayName }]`, up to the
 * tenant root group), so each row is credited to the named groups in its chain. Only when a batch
 * holds rows without a readable chain are its uncredited groups asked about one at a time.
 */
import type { SubscriptionInfo } from '../core/model.js';
import { isSubscriptionId } from '../core/subscription-id.js';
import type { InventoryListener, InventoryOutcome, ResourceGraphStats, ScanScope, TenantInventorySource } from '../scan/ports.js';
import type { PagingOptions, ResourceGraphQueryRunner } from './resource-graph-paging.js';
import { CONTACTS, ResourceGraphError, SUBSCRIPTIONS, type RequestScope } from './resource-graph-query.js';
import { ListedSubscriptions, ManagementGroupCredit, toContactRow, toSubscriptionInfo } from './resource-graph-rows.js';
import { ContactRowOrder } from './resource-graph-order.js';
import { GrowingBatches, SideBySide } from './resource-graph-streams.js';

// The adapter's public names, declared in the parts that use them.
export { RESOURCE_GRAPH_PAGE_SIZE, ResourceGraphQueryRunner, TENANT_LIMIT_HIT_HEADER } from './resource-graph-paging.js';
export type { PagingOptions, QueryRunnerOptions } from './resource-graph-paging.js';
export { QUOTA_REMAINING_HEADER, QUOTA_RESETS_AFTER_HEADER } from './resource-graph-quota.js';
export { ResourceGraphError, SECURITY_CONTACTS_QUERY, SUBSCRIPTIONS_QUERY } from './resource-graph-query.js';
export type { Query, RequestScope } from './resource-graph-query.js';

/** The most subscriptions one request may name. */
export const RESOURCE_GRAPH_SUBSCRIPTION_BATCH = 1000;
/** Management groups named in one request. */
export const RESOURCE_GRAPH_MANAGEMENT_GROUP_BATCH = 10;

/** The subscriptions of a tenant too large for Resource Graph's tenant scope. */
export interface SubscriptionLister {
  /** Hands over every subscription the identity can see, a page at a time; no page is requested once `stop` is aborted. */
  forEachSubscriptionPage(onPage: (page: SubscriptionInfo[]) => void, signal?: AbortSignal, stop?: AbortSignal): Promise<void>;
}

export class ResourceGraphInventory implements TenantInventorySource {
  /** Requests sent to Resource Graph: one per page (the pipeline's retries are not counted). */
  readonly stats: ResourceGraphStats = { requests: 0 };

  constructor(
    /** Shared with every other query of this identity, so that they all keep within its one quota. */
    private readonly queries: ResourceGraphQueryRunner,
    /** Lists the subscriptions when a tenant-scope answer says the tenant is over Resource Graph's limit. */
    private readonly subscriptionLister: SubscriptionLister,
  ) {}

  async readInventory(scope: ScanScope, listener: InventoryListener, signal?: AbortSignal): Promise<InventoryOutcome> {
    const subscriptionIds = normaliseSubscriptionIds(scope.subscriptionIds ?? []);
    const managementGroupIds = normaliseManagementGroupIds(scope.managementGroupIds ?? []);
    const listed = new ListedSubscriptions(listener);
    if (subscriptionIds.length === 0 && managementGroupIds.length === 0) return this.readTenant(listed, listener, signal);

    for (const batch of chunk(subscriptionIds, RESOURCE_GRAPH_SUBSCRIPTION_BATCH)) {
      const reads = new SideBySide();
      reads.run((stop) => this.readSubscriptionRows({ subscriptions: batch }, listed, signal, { stop }));
      // A request naming subscriptions is answered for all of them: its last page completes their contacts.
      reads.run(async (stop) => {
        await this.readContactRows({ subscriptions: batch }, listener, signal, { stop });
        if (!stop.aborted) listener.contactsComplete(batch);
      });
      await reads.settled();
    }
    const withoutSubscriptions: string[] = [];
    for (const batch of chunk(managementGroupIds, RESOURCE_GRAPH_MANAGEMENT_GROUP_BATCH)) {
      const credited = new ManagementGroupCredit(batch);
      let limitHit = false;
      const reads = new SideBySide();
      reads.run(async (stop) => {
        const read = await this.readSubscriptionRows({ managementGroups: batch }, listed, signal, { stop }, (row) => credited.credit(row));
        limitHit ||= read.limitHit;
      });
      reads.run(async (stop) => {
        const read = await this.readContactRows({ managementGroups: batch }, listener, signal, { stop });
        limitHit ||= read.limitHit;
      });
      await reads.settled();
      if (limitHit) throw partialManagementGroupAnswer(batch);
      withoutSubscriptions.push(...(await this.confirmUncredited(credited, listed, signal)));
    }
    return { managementGroupsWithoutSubscriptions: withoutSubscriptions };
  }

  /**
   * The groups of a batch that no row was credited to. When every row had its ancestor chain, that
   * settles it; otherwise each such group is read alone, where every row it answers is its own.
   */
  private async confirmUncredited(credited: ManagementGroupCredit, listed: ListedSubscriptions, signal?: AbortSignal): Promise<string[]> {
    if (!credited.hadRowsWithoutChain) return credited.uncredited();
    const without: string[] = [];
    for (const group of credited.uncredited()) {
      let rows = 0;
      const read = await this.readSubscriptionRows({ managementGroups: [group] }, listed, signal, {}, () => (rows += 1));
      if (read.limitHit) throw partialManagementGroupAnswer([group]);
      if (rows === 0) without.push(group);
    }
    return without;
  }

  /**
   * Tenant scope: the two queries page side by side, each row handed over as its page arrives.
   * After each page of contacts, the subscriptions its rows have passed are complete
   * (resource-graph-order.ts); when the contacts query ends, every contact in the tenant has been
   * handed over.
   *
   * A tenant-scope answer may say the tenant is over Resource Graph's tenant-scope subscription
   * limit; that query then stops at once. Over the limit, the subscriptions come from the
   * Subscriptions API, and the contacts are queried for 1,000 named subscriptions at a time, each
   * batch as soon as its subscriptions are listed, while the listing goes on: a batch's last page
   * completes its subscriptions' contacts. Only the query that was over the limit is read another
   * way; what the other one read in full stands.
   */
  private async readTenant(listed: ListedSubscriptions, listener: InventoryListener, signal?: AbortSignal): Promise<InventoryOutcome> {
    const reads = new SideBySide();
    let batches: GrowingBatches | undefined;
    let listingFinished = false;
    reads.run(async (stop) => {
      const read = await this.readSubscriptionRows({}, listed, signal, { stop, stopWhenLimitHit: true }, () => batches?.grew());
      if (read.limitHit && !stop.aborted) {
        await this.subscriptionLister.forEachSubscriptionPage(
          (page) => {
            for (const subscription of page) listed.add(subscription);
            batches?.grew();
          },
          signal,
          stop,
        );
      }
      listingFinished = true;
      batches?.finish();
    });
    reads.run(async (stop) => {
      // Under the tenant-scope limit the contacts query covers every subscription in scope, so the
      // subscriptions its ordered rows have passed are complete, whichever query listed them.
      const order = new ContactRowOrder();
      const afterPage = () => {
        const before = order.completeBefore();
        if (before !== undefined) listener.contactsCompleteBefore(before);
      };
      const read = await this.readContactRows({}, listener, signal, { stop, stopWhenLimitHit: true, afterPage }, (contact) =>
        order.saw(contact.id, contact.subscriptionId),
      );
      if (stop.aborted) return;
      if (!read.limitHit) return listener.contactsComplete();
      // Over it after all (said on a later page): the rows covered part of the tenant only.
      if (order.completeBefore() !== undefined) listener.contactsOrderLost();
      batches = new GrowingBatches(listed.ids, RESOURCE_GRAPH_SUBSCRIPTION_BATCH, async (batch) => {
        await this.readContactRows({ subscriptions: batch }, listener, signal, { stop });
        if (!stop.aborted) listener.contactsComplete(batch);
      });
      if (listingFinished) batches.finish();
      await batches.run(stop);
    });
    await reads.settled();
    return { managementGroupsWithoutSubscriptions: [] };
  }

  private async readSubscriptionRows(
    scope: RequestScope,
    listed: ListedSubscriptions,
    signal?: AbortSignal,
    paging?: PagingOptions,
    observe?: (row: unknown) => void,
  ) {
    return this.queries.run(
      SUBSCRIPTIONS,
      scope,
      signal,
      (row, where) => {
        listed.add(toSubscriptionInfo(row, where));
        observe?.(row);
      },
      { ...paging, count: this.stats },
    );
  }

  private async readContactRows(
    scope: RequestScope,
    listener: InventoryListener,
    signal?: AbortSignal,
    paging?: PagingOptions,
    observe?: (contact: { id: string; subscriptionId: string }) => void,
  ) {
    return this.queries.run(
      CONTACTS,
      scope,
      signal,
      (row, where) => {
        const contact = toContactRow(row, where);
        listener.contact(contact.subscriptionId, contact.id, contact.raw);
        observe?.(contact);
      },
      { ...paging, count: this.stats },
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
