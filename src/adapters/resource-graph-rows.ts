/**
 * What Resource Graph's rows become: each row validated (one that is not what we expect stops the
 * read with a message naming the row and the field), subscriptions handed over once each, and
 * subscription rows credited to the named management groups in their ancestor chain.
 */
import * as z from 'zod';
import type { SubscriptionInfo } from '../core/model.js';
import type { InventoryListener, RawSecurityContact } from '../scan/ports.js';
import { asRecord } from './arm-http.js';
import { ResourceGraphError } from './resource-graph-query.js';
import { describeFirstIssue, stringTags, subscriptionIdSchema } from './response-validation.js';

const tagsSchema = z.record(z.string(), z.unknown()).nullish();

// z.object, not looseObject: what the row holds beyond these fields is not read, and is not copied.
const subscriptionRowSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  type: z.string().refine((type) => type.toLowerCase() === 'microsoft.resources/subscriptions', {
    error: 'expected microsoft.resources/subscriptions',
  }),
  tenantId: z.string().nullish(),
  subscriptionId: subscriptionIdSchema,
  properties: z.object({ state: z.string().min(1) }),
  tags: tagsSchema,
});

/** The singular type is a quirk some writers leave behind (docs/reference/rules.md). */
const CONTACT_TYPES = ['microsoft.security/securitycontacts', 'microsoft.security/securitycontact'];
const contactRowSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  type: z.string().refine((type) => CONTACT_TYPES.includes(type.toLowerCase()), {
    error: 'expected microsoft.security/securitycontacts',
  }),
  tenantId: z.string().nullish(),
  subscriptionId: subscriptionIdSchema,
  properties: z.record(z.string(), z.unknown()),
  tags: tagsSchema,
});

export function toSubscriptionInfo(row: unknown, where: string): SubscriptionInfo {
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

export function toContactRow(row: unknown, where: string): { subscriptionId: string; id: string; raw: RawSecurityContact } {
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

/**
 * The subscriptions handed to the listener so far, each once (a scope may be read in overlapping
 * parts), and their ids in the order they came: the ids are what the contacts are read by when the
 * tenant is too large for Resource Graph's tenant scope.
 */
export class ListedSubscriptions {
  readonly ids: string[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly listener: InventoryListener) {}

  /** Hands the subscription over unless it was already; true when it is new. */
  add(subscription: SubscriptionInfo): boolean {
    if (this.seen.has(subscription.subscriptionId)) return false;
    this.seen.add(subscription.subscriptionId);
    this.ids.push(subscription.subscriptionId);
    this.listener.subscription(subscription);
    return true;
  }
}

/**
 * Which of a batch's named management groups the subscription rows came from, read from each
 * row's ancestor chain. A group is named once it is credited with a row.
 */
export class ManagementGroupCredit {
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
