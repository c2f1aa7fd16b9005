/**
 * The two Resource Graph queries contact-watch sends (docs/reference/scanning.md), the scopes they
 * are sent at, and how a failure names them.
 *
 * Both are ordered by `id`, a column no two rows share. Resource Graph pages an unordered result in
 * no repeatable order, and one ordered by a column rows share in no repeatable order among those
 * rows, so a page boundary could repeat or skip rows. A resource id begins with
 * `/subscriptions/<subscription id>/`, so the contact rows also come subscription by subscription:
 * once the rows have passed a subscription, it has no row still to come (resource-graph-order.ts).
 */

export const SUBSCRIPTIONS_QUERY =
  "resourcecontainers | where type =~ 'microsoft.resources/subscriptions' | project id, name, type, tenantId, subscriptionId, properties, tags | order by id asc";
export const SECURITY_CONTACTS_QUERY =
  "securityresources | where type =~ 'microsoft.security/securitycontacts' | project id, name, type, tenantId, subscriptionId, properties, tags | order by id asc";

/** Resource Graph could not answer, or answered with something we cannot use. */
export class ResourceGraphError extends Error {
  override name = 'ResourceGraphError';
}

export interface Query {
  label: 'subscriptions' | 'security contacts';
  table: string;
  text: string;
}
export const SUBSCRIPTIONS: Query = { label: 'subscriptions', table: 'resourcecontainers', text: SUBSCRIPTIONS_QUERY };
export const CONTACTS: Query = { label: 'security contacts', table: 'securityresources', text: SECURITY_CONTACTS_QUERY };

/** Where one request looks: named subscriptions, named management groups, or (neither) the tenant. */
export type RequestScope = { subscriptions?: string[]; managementGroups?: string[] };

/** `The Resource Graph subscriptions query (resourcecontainers, tenant scope)`, to begin a failure's message. */
export function describeQuery(query: Query, scope: RequestScope): string {
  const where = scope.subscriptions
    ? `${scope.subscriptions.length} named subscription(s)`
    : scope.managementGroups
      ? `management group(s) ${scope.managementGroups.join(', ')}`
      : 'tenant scope';
  return `The Resource Graph ${query.label} query (${query.table}, ${where})`;
}
