/**
 * The new-subscription watch's one Resource Graph query: every subscription of the tenant, its id
 * and state only (docs/reference/scanning.md, "The new-subscription watch"). It pages like the scan's
 * queries — `$top` 1000 and `$skipToken`, so one request per 1,000 subscriptions — through the
 * same query runner, with its retries, `Retry-After` and the per-user quota
 * (resource-graph-paging.ts).
 *
 * The query stays plain, as the scan's do: a `where` on the type and a `project` of whole
 * columns, no computed column, so any server that speaks Resource Graph's REST contract answers it
 * with raw rows. `properties` is the column that holds the state; the rest of the row (name, tags,
 * tenant) is left out. It is ordered by subscription id, which no two rows share, so that no page
 * boundary repeats or skips a row (resource-graph-query.ts).
 */
import * as z from 'zod';
import type { ResourceGraphStats } from '../scan/ports.js';
import type { ListedSubscription, SubscriptionIdListing, SubscriptionIdSource } from '../scan/watch-ports.js';
import { asRecord } from './arm-http.js';
import type { ResourceGraphQueryRunner } from './resource-graph-paging.js';
import { ResourceGraphError, type Query } from './resource-graph-query.js';
import { describeFirstIssue, subscriptionIdSchema } from './response-validation.js';

export const SUBSCRIPTION_IDS_QUERY =
  "resourcecontainers | where type =~ 'microsoft.resources/subscriptions' | project subscriptionId, properties | order by subscriptionId asc";

const SUBSCRIPTION_IDS: Query = { label: 'subscriptions', table: 'resourcecontainers', text: SUBSCRIPTION_IDS_QUERY };

const listedRowSchema = z.looseObject({
  subscriptionId: subscriptionIdSchema,
  properties: z.looseObject({ state: z.string().min(1) }),
});

export class ResourceGraphSubscriptionIds implements SubscriptionIdSource {
  /** Requests this query sent to Resource Graph: one per page (the pipeline's retries are not counted). */
  readonly stats: ResourceGraphStats = { requests: 0 };

  /**
   * `queries` is the identity's one query runner (src/compose/azure.ts): the watch and a scan may
   * page at the same time, and Resource Graph's quota is the identity's, so both wait it out together.
   */
  constructor(private readonly queries: ResourceGraphQueryRunner) {}

  async listSubscriptionIds(signal?: AbortSignal): Promise<SubscriptionIdListing> {
    const byId = new Map<string, ListedSubscription>();
    const read = await this.queries.run(
      SUBSCRIPTION_IDS,
      {},
      signal,
      (row, where) => {
        const listed = toListedSubscription(row, where);
        byId.set(listed.subscriptionId, listed);
      },
      { count: this.stats },
    );
    return { subscriptions: [...byId.values()], complete: !read.limitHit };
  }
}

function toListedSubscription(row: unknown, where: string): ListedSubscription {
  const parsed = listedRowSchema.safeParse(row);
  if (!parsed.success) {
    const id = asRecord(row)?.subscriptionId;
    const which = typeof id === 'string' && id !== '' ? `row of subscription "${id}"` : where;
    throw new ResourceGraphError(
      `Resource Graph's subscription id query returned ${which} that is not as expected: ${describeFirstIssue(parsed.error)}.`,
    );
  }
  return { subscriptionId: parsed.data.subscriptionId.toLowerCase(), state: parsed.data.properties.state };
}
