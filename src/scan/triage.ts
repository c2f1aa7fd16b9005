/**
 * What Resource Graph settles and what it leaves doubtful, decided subscription by subscription
 * while its pages arrive, so that the securityContacts API can confirm a doubtful subscription
 * while the rest of the tenant is still being read.
 *
 * A subscription is decided once its subscription row is known and
 * - it is not judged (Disabled, Deleted, Expired): skipped;
 * - the record holds it as `noncompliant` or `error` (a whole-tenant scan with a record): doubtful,
 *   whatever Resource Graph shows;
 * - the contact rows seen so far are not compliant: doubtful at once;
 * - every contact row Resource Graph indexes for it has been handed over (contactsComplete): settled
 *   as compliant when they are, doubtful when they are not or when there are none;
 * - it has no contact row, and the contact rows, which come in subscription order, have passed it
 *   (contactsCompleteBefore): doubtful, while the rest of the contacts are still being paged.
 * Until then it waits: a subscription without rows yet, or whose rows so far are compliant, may
 * still receive a row that changes what Resource Graph shows of it. One whose rows so far are
 * compliant waits for the end of the contacts it is in even once the rows have passed it: settling
 * it sooner saves no request, and a row that came out of order after all would be missed.
 *
 * A later row can turn a failing set of rows compliant only for a subscription with several contact
 * rows (the 2017 API's `default1`, `default2`). Such a subscription, caught between its rows, is
 * read from the securityContacts API where a scan that waited for every row would have settled it
 * from Resource Graph: one read more, never a wrong verdict.
 *
 * What is kept per subscription is its row (name, state) and its contact rows only while it waits;
 * once decided, only that it was listed.
 */
import type { SubscriptionInfo, SubscriptionVerdict } from '../core/model.js';
import type { RecordedSubscription } from '../core/state-model.js';
import { isBadStatus } from '../core/state-transitions.js';
import type { InventoryListener, RawSecurityContact } from './ports.js';
import { isJudged, skippedVerdict, type ContactJudge } from './verdicts.js';

export interface TriageOutcomes {
  /** Resource Graph's verdict is final: a skipped subscription, or one its contact shows compliant. */
  settled(verdict: SubscriptionVerdict): void;
  /** The securityContacts API must decide. Called once per subscription. */
  doubtful(subscription: SubscriptionInfo): void;
}

/** A subscription not decided yet: what is known of it so far. */
interface Waiting {
  subscription?: SubscriptionInfo;
  /** Its contact rows by lower-case contact id (a row handed over twice counts once). */
  contacts?: Map<string, RawSecurityContact>;
  /** The verdict of `contacts` while it is compliant, kept so that the end of the contacts does not judge the same rows again. */
  compliantSoFar?: SubscriptionVerdict;
  /** Every contact row of this subscription has been handed over. */
  contactsComplete?: boolean;
}

/** A subscription that was listed and decided: nothing more is kept of it. */
const DECIDED = 0;

export class ResourceGraphTriage implements InventoryListener {
  /** Subscriptions listed (each once). */
  listed = 0;
  private readonly entries = new Map<string, Waiting | typeof DECIDED>();
  private allContactsComplete = false;
  /** Every subscription whose id sorts before this one has had all its contact rows. */
  private completeBefore: string | undefined;

  constructor(
    private readonly judge: ContactJudge,
    private readonly outcomes: TriageOutcomes,
    /** What the record holds of the tenant (a whole-tenant scan with a record). */
    private readonly recorded?: ReadonlyMap<string, RecordedSubscription>,
  ) {}

  subscription(subscription: SubscriptionInfo): void {
    const id = subscription.subscriptionId;
    const entry = this.entries.get(id);
    if (entry === DECIDED || entry?.subscription) return;
    this.listed += 1;
    const waiting = entry ?? {};
    // Only what a verdict names is kept (not its tags, say): it may wait for its contacts a while.
    waiting.subscription = { subscriptionId: id, displayName: subscription.displayName, state: subscription.state };
    this.decide(id, waiting);
  }

  contact(subscriptionId: string, contactId: string, item: RawSecurityContact): void {
    const entry = this.entries.get(subscriptionId);
    if (entry === DECIDED) return;
    const waiting = entry ?? {};
    (waiting.contacts ??= new Map()).set(contactId.toLowerCase(), item);
    waiting.compliantSoFar = undefined;
    if (waiting.subscription) this.decide(subscriptionId, waiting);
    else this.entries.set(subscriptionId, waiting);
  }

  contactsComplete(subscriptionIds?: readonly string[]): void {
    if (subscriptionIds === undefined) {
      this.allContactsComplete = true;
      for (const [id, entry] of this.entries) {
        if (entry !== DECIDED && entry.subscription) this.decide(id, entry);
      }
      return;
    }
    for (const id of subscriptionIds) {
      const entry = this.entries.get(id);
      if (entry === DECIDED) continue;
      const waiting = entry ?? {};
      waiting.contactsComplete = true;
      if (waiting.subscription) this.decide(id, waiting);
      else this.entries.set(id, waiting);
    }
  }

  contactsCompleteBefore(subscriptionId: string): void {
    if (this.completeBefore !== undefined && subscriptionId <= this.completeBefore) return;
    this.completeBefore = subscriptionId;
    for (const [id, entry] of this.entries) {
      if (entry !== DECIDED && entry.subscription && !entry.contacts && id < subscriptionId) this.decide(id, entry);
    }
  }

  contactsOrderLost(): void {
    this.completeBefore = undefined;
  }

  /** Whether Resource Graph listed this subscription (lower-case id). */
  isListed(subscriptionId: string): boolean {
    const entry = this.entries.get(subscriptionId);
    return entry === DECIDED || entry?.subscription !== undefined;
  }

  /** Lets go of the contact rows of subscriptions never listed (once no lookup can add them any more). */
  forgetUnlisted(): void {
    for (const [id, entry] of this.entries) if (entry !== DECIDED && !entry.subscription) this.entries.delete(id);
  }

  private decide(id: string, waiting: Waiting): void {
    const subscription = waiting.subscription!;
    if (!isJudged(subscription)) return this.settle(id, skippedVerdict(subscription));
    if (this.recordedAsBad(id)) return this.doubt(id, subscription);
    const complete = this.allContactsComplete || waiting.contactsComplete === true;
    if (waiting.contacts) {
      const verdict = waiting.compliantSoFar ?? this.judge.fromContacts(subscription, 'resource-graph', [...waiting.contacts.values()]);
      if (verdict.status !== 'compliant') return this.doubt(id, subscription);
      if (complete) return this.settle(id, verdict);
      waiting.compliantSoFar = verdict;
    } else if (complete || (this.completeBefore !== undefined && id < this.completeBefore)) {
      return this.doubt(id, subscription);
    }
    this.entries.set(id, waiting);
  }

  private recordedAsBad(id: string): boolean {
    return this.recorded !== undefined && isBadStatus(this.recorded.get(id)?.status ?? 'compliant');
  }

  private settle(id: string, verdict: SubscriptionVerdict): void {
    this.entries.set(id, DECIDED);
    this.outcomes.settled(verdict);
  }

  private doubt(id: string, subscription: SubscriptionInfo): void {
    this.entries.set(id, DECIDED);
    this.outcomes.doubtful(subscription);
  }
}
