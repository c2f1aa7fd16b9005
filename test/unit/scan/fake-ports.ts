/**
 * A small tenant in memory behind the scan's ports (src/scan/ports.ts): what Resource Graph lists
 * and indexes, what the securityContacts API answers, what ARM says of one subscription. Each port
 * records what it was asked, so a test can say which subscriptions were confirmed or looked up.
 */
import type { SubscriptionInfo } from '../../../src/core/model.js';
import type {
  ContactListRead,
  RawSecurityContact,
  ScanScope,
  SecurityContactsSource,
  SubscriptionLookup,
  SubscriptionLookupResult,
  TenantInventory,
  TenantInventorySource,
} from '../../../src/scan/ports.js';
import { compliantContact2023, contactItem } from '../../support/fixtures.js';

/** A lower-case GUID whose first hex digit is `index % 16`. */
export function subscriptionId(index: number): string {
  return `${(index % 16).toString(16)}${index.toString(16).padStart(7, '0')}-0000-4000-8000-${index.toString(16).padStart(12, '0')}`;
}

/** A contact that passes every rule under the default policy. */
export const COMPLIANT = (): RawSecurityContact => compliantContact2023();
/** A contact on a placeholder domain (contoso.com): noncompliant under the default policy. */
export const NONCOMPLIANT = (): RawSecurityContact => contactItem('2023-12-01-preview');

interface FakeSubscription {
  info: SubscriptionInfo;
  /** What Resource Graph indexes for it; undefined: nothing (not indexed, or no contact). */
  indexed?: RawSecurityContact[];
  /** What the securityContacts API answers. Default: listed, the indexed contacts. */
  api?: ContactListRead;
  /** Listed by Resource Graph; false for a new subscription it has not indexed yet. Default true. */
  listed?: boolean;
  /** The management groups it is under. */
  groups?: string[];
}

export class FakeTenant {
  private readonly subscriptions = new Map<string, FakeSubscription>();
  /** ARM's answer for subscriptions the tenant does not hold (default 404). */
  private readonly lookups = new Map<string, SubscriptionLookupResult>();
  /** Set to make Resource Graph fail. */
  inventoryError: Error | undefined;

  /** Subscription ids the securityContacts API was asked for, in order. */
  readonly contactReads: string[] = [];
  /** Subscription ids ARM was asked for, in order. */
  readonly lookedUp: string[] = [];
  /** The most securityContacts reads that were in flight at once. */
  maxInFlight = 0;
  private inFlight = 0;

  add(index: number, options: Omit<FakeSubscription, 'info'> & { displayName?: string; state?: string } = {}): string {
    const id = subscriptionId(index);
    const { displayName, state, ...rest } = options;
    this.subscriptions.set(id, {
      info: { subscriptionId: id, displayName: displayName ?? `Subscription ${index}`, state: state ?? 'Enabled' },
      ...rest,
    });
    return id;
  }

  /** ARM's answer for a subscription the tenant does not hold. */
  armSays(id: string, answer: SubscriptionLookupResult): void {
    this.lookups.set(id, answer);
  }

  readonly inventory: TenantInventorySource = {
    stats: { requests: 0 },
    readInventory: async (scope: ScanScope): Promise<TenantInventory> => {
      this.inventory.stats.requests += 2;
      if (this.inventoryError) throw this.inventoryError;
      const groups = scope.managementGroupIds ?? [];
      const named = new Set(scope.subscriptionIds ?? []);
      const inScope = [...this.subscriptions.values()].filter(
        (s) =>
          s.listed !== false &&
          (named.size === 0 || named.has(s.info.subscriptionId)) &&
          (groups.length === 0 || groups.some((group) => s.groups?.includes(group))),
      );
      return {
        subscriptions: inScope.map((s) => ({ ...s.info })),
        contactsBySubscription: new Map(inScope.filter((s) => s.indexed).map((s) => [s.info.subscriptionId, structuredClone(s.indexed!)])),
        managementGroupsWithoutSubscriptions: groups.filter((group) => !inScope.some((s) => s.groups?.includes(group))),
      };
    },
  };

  readonly contacts: SecurityContactsSource = {
    stats: { calls: 0 },
    listContacts: async (id: string): Promise<ContactListRead> => {
      this.contacts.stats.calls += 1;
      this.contactReads.push(id);
      this.inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      this.inFlight -= 1;
      const subscription = this.subscriptions.get(id);
      return subscription?.api ?? { kind: 'listed', contacts: structuredClone(subscription?.indexed ?? []) };
    },
  };

  readonly arm: SubscriptionLookup = {
    getSubscription: async (id: string): Promise<SubscriptionLookupResult> => {
      this.lookedUp.push(id);
      const subscription = this.subscriptions.get(id);
      if (subscription) return { kind: 'found', subscription: { ...subscription.info } };
      return this.lookups.get(id) ?? { kind: 'unreadable', message: `404 SubscriptionNotFound: ${id}`, status: 404 };
    },
  };
}

/** A clock that moves one second every time it is read. */
export function tickingClock(start: string): () => Date {
  let now = Date.parse(start);
  return () => {
    const at = new Date(now);
    now += 1_000;
    return at;
  };
}
