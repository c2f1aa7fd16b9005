/**
 * A small tenant in memory behind the scan's ports (src/scan/ports.ts): what Resource Graph lists
 * and indexes, what the securityContacts API answers, what ARM says of one subscription. Each port
 * records what it was asked, so a test can say which subscriptions were confirmed or looked up.
 */
import type { SubscriptionInfo } from '../../../src/core/model.js';
import type {
  ContactListRead,
  InventoryListener,
  InventoryOutcome,
  RawSecurityContact,
  ScanScope,
  SecurityContactsSource,
  SubscriptionLookup,
  SubscriptionLookupResult,
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
  /** Thrown by the securityContacts read (a failure of the whole run: no token, say). */
  throws?: Error;
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
  /** When true, a read runs to its end though the scan's signal is aborted (an answer already on its way). */
  readsIgnoreAbort = false;
  /** Subscription ids whose securityContacts read ended (answered or aborted), in order. */
  readonly readsEnded: string[] = [];
  /** Subscription ids ARM was asked for, in order. */
  readonly lookedUp: string[] = [];
  /** When set, each securityContacts read waits for what it returns before answering. */
  contactsGate: ((subscriptionId: string) => Promise<void>) | undefined;
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

  /**
   * Resource Graph as the adapter hands it over: every subscription row, then every contact row
   * (each contact after its subscription), each on a turn of the event loop of its own, so that
   * confirmations may start while the rest is still coming.
   */
  readonly inventory: TenantInventorySource = {
    stats: { requests: 0 },
    readInventory: async (scope: ScanScope, listener: InventoryListener): Promise<InventoryOutcome> => {
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
      for (const s of inScope) {
        await nextTurn();
        listener.subscription({ ...s.info });
      }
      for (const s of inScope) {
        for (const [n, item] of structuredClone(s.indexed ?? []).entries()) {
          await nextTurn();
          listener.contact(
            s.info.subscriptionId,
            `/subscriptions/${s.info.subscriptionId}/providers/Microsoft.Security/securityContacts/c${n}`,
            item,
          );
        }
      }
      return { managementGroupsWithoutSubscriptions: groups.filter((group) => !inScope.some((s) => s.groups?.includes(group))) };
    },
  };

  readonly contacts: SecurityContactsSource = {
    stats: { calls: 0 },
    listContacts: async (id: string, signal?: AbortSignal): Promise<ContactListRead> => {
      this.contacts.stats.calls += 1;
      this.contactReads.push(id);
      this.inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      try {
        await Promise.race([this.contactsGate?.(id) ?? nextTurn(), this.readsIgnoreAbort ? new Promise<never>(() => {}) : abortOf(signal)]);
      } finally {
        this.inFlight -= 1;
        this.readsEnded.push(id);
      }
      const subscription = this.subscriptions.get(id);
      if (subscription?.throws) throw subscription.throws;
      return subscription?.api ?? { kind: 'listed', contacts: structuredClone(subscription?.indexed ?? []) };
    },
  };

  /** The subscription as Resource Graph lists it. */
  info(id: string): SubscriptionInfo {
    const subscription = this.subscriptions.get(id);
    if (!subscription) throw new Error(`no subscription ${id}`);
    return { ...subscription.info };
  }

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

/** Rejects when the signal is aborted (never, without one), as the real reads do. */
function abortOf(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    if (signal?.aborted) reject(new Error('aborted'));
    signal?.addEventListener('abort', () => reject(new Error('aborted')));
  });
}

/** Lets everything already scheduled run (promise reactions and I/O callbacks included). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Resource Graph under the test's control: readInventory hands over nothing by itself; the test
 * delivers each page (`subscriptions`, `contacts`), says when the contacts are complete, and ends
 * or fails the read. Each call lets the scan act on what it delivered before it returns.
 */
export class ManualInventory implements TenantInventorySource {
  readonly stats = { requests: 0 };
  private listener: InventoryListener | undefined;
  private settle: { resolve: (outcome: InventoryOutcome) => void; reject: (error: unknown) => void } | undefined;
  /** The signal the scan passed; aborted when the scan stops its reads. */
  signal: AbortSignal | undefined;

  readInventory(_scope: ScanScope, listener: InventoryListener, signal?: AbortSignal): Promise<InventoryOutcome> {
    this.listener = listener;
    this.signal = signal;
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
      signal?.addEventListener('abort', () => reject(new Error('aborted')));
    });
  }

  /** One page of the subscriptions query. */
  async subscriptions(...subscriptions: SubscriptionInfo[]): Promise<void> {
    this.stats.requests += 1;
    for (const subscription of subscriptions) this.started().subscription(subscription);
    await settleTurns();
  }

  /**
   * One page of the contacts query: `[subscriptionId, item, contact name?]` rows. A contact's id is
   * made from its name, by default one of its own.
   */
  async contacts(...rows: [string, RawSecurityContact, string?][]): Promise<void> {
    this.stats.requests += 1;
    for (const [index, [subscriptionId, item, name]] of rows.entries()) {
      const contactName = name ?? `contact-${this.stats.requests}-${index}`;
      this.started().contact(
        subscriptionId,
        `/subscriptions/${subscriptionId}/providers/Microsoft.Security/securityContacts/${contactName}`,
        item,
      );
    }
    await settleTurns();
  }

  /** The ordered contact rows have passed every subscription before this one. */
  async contactsCompleteBefore(subscriptionId: string): Promise<void> {
    this.started().contactsCompleteBefore(subscriptionId);
    await settleTurns();
  }

  async contactsOrderLost(): Promise<void> {
    this.started().contactsOrderLost();
    await settleTurns();
  }

  async contactsComplete(subscriptionIds?: string[]): Promise<void> {
    this.started().contactsComplete(subscriptionIds);
    await settleTurns();
  }

  async end(outcome: InventoryOutcome = { managementGroupsWithoutSubscriptions: [] }): Promise<void> {
    this.settle?.resolve(outcome);
    await settleTurns();
  }

  async fail(error: Error): Promise<void> {
    this.settle?.reject(error);
    await settleTurns();
  }

  private started(): InventoryListener {
    if (!this.listener) throw new Error('readInventory has not been called');
    return this.listener;
  }
}

/** A few turns of the event loop: enough for the scan to start what a page made it start. */
async function settleTurns(): Promise<void> {
  for (let turn = 0; turn < 5; turn += 1) await nextTurn();
}
