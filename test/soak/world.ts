/**
 * The soak's tenant and its truth. The local Azure test server serves the tenant; this module
 * changes it the way a real tenant changes over months, and remembers, per subscription and per
 * view, what the truth was at every moment: the securityContacts API's view (fresh) and Resource
 * Graph's (which lags). The invariants compare what contact-watch stored and sent against it.
 *
 * The truth of a contact is not computed by contact-watch's rules: each contact the world sets
 * comes from a catalogue whose entries are labelled by hand (soak/contacts.ts).
 */
import type { SimulatedTenant, SubscriptionQuirks } from '../azure-server/index.js';
import { contactFor, CONTACT_CATALOGUE, pickContact, type ContactEntry } from './contacts.js';
import type { SoakRandom } from './random.js';

export type TruthStatus = 'compliant' | 'noncompliant' | 'error' | 'skipped' | 'exempt' | 'gone';
export type TruthView = 'api' | 'index';

/** Subscription states Azure reports for a subscription that is not active (docs/reference/rules.md: skipped). */
const INACTIVE_STATES = new Set(['Disabled', 'Deleted', 'Expired']);

/** What makes a subscription unreadable for good (until the world mends it). */
export type Unreadable = 'forbidden' | 'not-found' | 'not-json';

/** The base truth from `from` on, before any exemption is laid over it. */
interface Segment {
  from: number;
  api: TruthStatus;
  index: TruthStatus;
}

/** An exemption in force during [from, until), epoch ms. */
interface Exemption {
  from: number;
  until: number;
}

interface SubscriptionTruth {
  id: string;
  exists: boolean;
  state: string;
  /** The contact the API returns, and the one Resource Graph has indexed (null: none). */
  contact: ContactEntry;
  indexedContact: ContactEntry;
  /** Resource Graph lists the subscription (a new one is not indexed at first). */
  listedInGraph: boolean;
  unreadable: Unreadable | null;
  /** The Microsoft.Security provider is not registered: 409, which means no contact. */
  providerNotRegistered: boolean;
  /** In time order, never overlapping; applied over the segments when asked (see statusAt). */
  exemptions: Exemption[];
  /** In time order of `from`, always: truthAt searches them by halves. */
  segments: Segment[];
}

/** The statuses an exemption replaces: contact-watch never exempts a skipped subscription, and a gone one is gone. */
const EXEMPTIBLE = new Set<TruthStatus>(['compliant', 'noncompliant', 'error']);

/** Something that happened in Azure and may reach contact-watch as an Event Grid event. */
export type WorldEvent =
  | { kind: 'subscription-created'; subscriptionId: string; at: number }
  | { kind: 'contact-written'; subscriptionId: string; at: number }
  | { kind: 'contact-deleted'; subscriptionId: string; at: number };

/** Names that carry what a display name from Azure may: HTML, CR/LF, bidirectional controls. */
const HOSTILE_NAMES = [
  '<script>alert("sub")</script> payments',
  'Finance & "Legal" <b>prod</b>',
  'line one\r\nBcc: attacker@evil.example',
  'invoice \u202Egnp.exe\u202C review',
  'data\u2066platform\u2069 \u202Ddev',
  "O'Brien's sandbox\nsecond line",
];

export interface WorldOptions {
  /** Resource Graph's indexing lag, at most (ms): each change reaches it within this. */
  maxIndexLagMs: number;
}

export class SoakWorld {
  private readonly subscriptions = new Map<string, SubscriptionTruth>();
  /** Index catch-ups still due: [at, subscriptionId, what]. */
  private pendingIndex: Array<{ at: number; subscriptionId: string; apply: () => void }> = [];
  private created = 0;

  constructor(
    readonly tenant: SimulatedTenant,
    private readonly random: SoakRandom,
    private readonly options: WorldOptions,
  ) {}

  /** Every subscription the world has known, gone ones included. */
  ids(): string[] {
    return [...this.subscriptions.keys()];
  }

  existing(): string[] {
    return [...this.subscriptions.values()].filter((truth) => truth.exists).map((truth) => truth.id);
  }

  /** Adds a subscription; `indexed` false: Resource Graph does not list it yet (a new one). */
  addSubscription(now: number, options: { indexed: boolean; contact?: ContactEntry }): string {
    this.created += 1;
    const id = this.random.guid();
    const contact = options.contact ?? pickContact(this.random);
    const name = this.random.chance(0.15) ? this.random.pick(HOSTILE_NAMES) : `soak-${String(this.created).padStart(4, '0')}`;
    this.tenant.addSubscription({
      subscriptionId: id,
      displayName: name,
      contacts: contactFor(id, contact),
      indexed: options.indexed,
      ...(options.indexed ? {} : { quirks: { notInResourceGraph: true } }),
    });
    const truth: SubscriptionTruth = {
      id,
      exists: true,
      state: 'Enabled',
      contact,
      indexedContact: options.indexed ? contact : CONTACT_CATALOGUE_NONE,
      listedInGraph: options.indexed,
      unreadable: null,
      providerNotRegistered: false,
      exemptions: [],
      segments: [],
    };
    this.subscriptions.set(id, truth);
    this.record(truth, now);
    if (!options.indexed) {
      this.afterLag(now, truth, () => {
        truth.listedInGraph = true;
        if (truth.exists) this.tenant.setQuirks(id, { notInResourceGraph: undefined });
        this.catchUpIndex(truth);
      });
    }
    return id;
  }

  /** Sets a subscription's contact; Resource Graph catches up within the lag. */
  setContact(now: number, id: string, contact: ContactEntry): WorldEvent {
    const truth = this.require(id);
    truth.contact = contact;
    this.tenant.setContacts(id, contactFor(id, contact), { indexed: false });
    this.record(truth, now);
    this.afterLag(now, truth, () => this.catchUpIndex(truth));
    return { kind: contact.items === 0 ? 'contact-deleted' : 'contact-written', subscriptionId: id, at: now };
  }

  setState(now: number, id: string, state: string): void {
    const truth = this.require(id);
    truth.state = state;
    this.tenant.updateSubscription(id, { state });
    this.record(truth, now);
  }

  rename(id: string): void {
    this.tenant.updateSubscription(id, { displayName: this.random.pick(HOSTILE_NAMES) });
  }

  move(id: string): void {
    this.tenant.updateSubscription(id, { managementGroupIds: [this.random.pick(['mg-platform', 'mg-landing-zones', 'mg-sandbox'])] });
  }

  remove(now: number, id: string): void {
    const truth = this.require(id);
    truth.exists = false;
    this.tenant.removeSubscription(id);
    this.record(truth, now);
  }

  /**
   * Makes the securityContacts API fail for the subscription (null: mends it). Resource Graph
   * honours RBAC: while the identity may not read the subscription's security resources, or the
   * subscription is not found, it returns no contact row for it at once; once mended, the
   * contact comes back within the lag. A body that is not JSON is the API's own bug and leaves
   * Resource Graph as it is.
   */
  setUnreadable(now: number, id: string, unreadable: Unreadable | null): void {
    const truth = this.require(id);
    const wasHidden = hiddenFromGraph(truth);
    truth.unreadable = unreadable;
    const quirks: SubscriptionQuirks = {
      forbidden: unreadable === 'forbidden' ? true : undefined,
      notFound: unreadable === 'not-found' ? true : undefined,
      invalidBody: unreadable === 'not-json' ? 'not-json' : undefined,
    };
    this.tenant.setQuirks(id, quirks);
    if (hiddenFromGraph(truth)) {
      truth.indexedContact = CONTACT_CATALOGUE_NONE;
      this.tenant.setIndexedContacts(id, []);
    }
    this.record(truth, now);
    if (wasHidden && !hiddenFromGraph(truth)) this.afterLag(now, truth, () => this.catchUpIndex(truth));
  }

  setProviderNotRegistered(now: number, id: string, value: boolean): void {
    const truth = this.require(id);
    truth.providerNotRegistered = value;
    this.tenant.setQuirks(id, { providerNotRegistered: value ? true : undefined });
    this.tenant.setIndexedContacts(id, value || hiddenFromGraph(truth) ? [] : contactFor(id, truth.indexedContact));
    this.record(truth, now);
  }

  /**
   * The world's side of an exemption an operator creates (in force from `now` until `until`) or
   * removes (`until` null: the one in force ends at `now`). A new exemption replaces the one in
   * force, which ends at `now`. Exemptions are laid over the recorded truth when it is asked
   * for, so that an exemption's end is never a segment recorded ahead of time.
   */
  setExemption(now: number, id: string, until: number | null): void {
    const exemptions = this.require(id).exemptions;
    // The clock never goes back; should it, the intervals must still stay in order.
    const at = Math.max(now, exemptions.at(-1)?.from ?? now);
    for (let position = exemptions.length - 1; position >= 0 && exemptions[position]!.until > at; position -= 1) {
      if (exemptions[position]!.from >= at) exemptions.splice(position, 1);
      else exemptions[position]!.until = at;
    }
    if (until !== null && until > at) exemptions.push({ from: at, until });
  }

  /** Applies the Resource Graph catch-ups due by `now`. */
  advanceIndex(now: number): void {
    if (this.pendingIndex.length === 0) return;
    const due = this.pendingIndex.filter((entry) => entry.at <= now).sort((a, b) => a.at - b.at);
    if (due.length === 0) return;
    this.pendingIndex = this.pendingIndex.filter((entry) => entry.at > now);
    for (const entry of due) {
      entry.apply();
      const truth = this.subscriptions.get(entry.subscriptionId);
      if (truth) this.record(truth, entry.at);
    }
  }

  /** The world's view of one subscription, for tracing a violation. */
  describe(id: string): unknown {
    const truth = this.subscriptions.get(id);
    if (!truth) return null;
    const { segments, exemptions, contact, indexedContact, ...rest } = truth;
    const iso = (at: number): string => new Date(at).toISOString();
    return {
      ...rest,
      contact: contact.name,
      indexedContact: indexedContact.name,
      exemptions: exemptions.map((e) => ({ from: iso(e.from), until: iso(e.until) })),
      segments: segments.map((s) => ({ ...s, from: iso(s.from) })),
    };
  }

  contactOf(id: string): ContactEntry {
    return this.require(id).contact;
  }

  /** Whether an exemption is in force at `at` (whatever it is laid over). */
  isExempt(id: string, at: number): boolean {
    return exemptAt(this.require(id), at);
  }

  exists(id: string): boolean {
    return this.subscriptions.get(id)?.exists ?? false;
  }

  /** The truth of one view at one moment, exemptions included. */
  truthAt(id: string, at: number, view: TruthView): TruthStatus {
    const truth = this.subscriptions.get(id);
    return truth ? statusAt(truth, at, view) : 'gone';
  }

  /** Every status a view showed during [from, to], exemptions' starts and ends included. */
  truthsDuring(id: string, from: number, to: number, view: TruthView): Set<TruthStatus> {
    const truth = this.subscriptions.get(id);
    if (!truth) return new Set(['gone']);
    const result = new Set<TruthStatus>([statusAt(truth, from, view)]);
    for (const at of changesIn(truth, from, to)) result.add(statusAt(truth, at, view));
    return result;
  }

  /**
   * The start of the stretch, up to `at`, in which the view has shown what it shows at `at`
   * (exemptions included); -Infinity when nothing is recorded before `at`.
   */
  truthSince(id: string, at: number, view: TruthView): number {
    const truth = this.subscriptions.get(id);
    if (!truth) return Number.NEGATIVE_INFINITY;
    const status = statusAt(truth, at, view);
    const changes = changesIn(truth, Number.NEGATIVE_INFINITY, at).sort((a, b) => b - a);
    let since = Number.NEGATIVE_INFINITY;
    for (const change of changes) {
      // The view shows statusAt(change) from `change` to the next later change.
      if (statusAt(truth, change, view) !== status) break;
      since = change;
    }
    return since;
  }

  /** Drops truth older than `before` (keeps the segment in force then), so memory stays flat. */
  forgetBefore(before: number): void {
    for (const [id, truth] of this.subscriptions) {
      const keepFrom = truth.segments.findLastIndex((segment) => segment.from <= before);
      if (keepFrom > 0) truth.segments.splice(0, keepFrom);
      const ended = truth.exemptions.filter((exemption) => exemption.until <= before);
      if (ended.length > 0) {
        truth.exemptions.splice(0, ended.length);
        // The kept segment must not claim it showed its status through an exemption now forgotten:
        // truthSince would date a change too early.
        const first = truth.segments[0];
        const lastEnd = ended.at(-1)!.until;
        if (first && first.from < lastEnd) first.from = lastEnd;
      }
      if (!truth.exists && truth.segments.length === 1 && truth.segments[0]!.from < before) this.subscriptions.delete(id);
    }
  }

  /** Runs a Resource Graph change within the lag, and records the truth it leads to. */
  private afterLag(now: number, truth: SubscriptionTruth, apply: () => void): void {
    const lag = Math.floor(this.random.next() * this.options.maxIndexLagMs);
    if (lag === 0) {
      apply();
      this.record(truth, now);
      return;
    }
    this.pendingIndex.push({ at: now + lag, subscriptionId: truth.id, apply });
  }

  /**
   * Resource Graph indexes the current contact. While RBAC hides the subscription's security
   * resources it indexes nothing that could be shown: the mend schedules its own catch-up. Without
   * the provider the contact is indexed but not shown until the provider is registered again.
   */
  private catchUpIndex(truth: SubscriptionTruth): void {
    if (hiddenFromGraph(truth)) return;
    truth.indexedContact = truth.contact;
    if (truth.exists && !truth.providerNotRegistered) this.tenant.setIndexedContacts(truth.id, contactFor(truth.id, truth.contact));
  }

  private require(id: string): SubscriptionTruth {
    const truth = this.subscriptions.get(id);
    if (!truth) throw new Error(`soak world: no subscription ${id}`);
    return truth;
  }

  /**
   * Records the base truth as it is from `at`. Segments stay in time order: a change dated before
   * the last one (the clock never goes back, but a late catch-up could be dated so) takes effect
   * at the last one's start; a change at the same instant replaces it.
   */
  private record(truth: SubscriptionTruth, at: number): void {
    const segments = truth.segments;
    const from = Math.max(at, segments.at(-1)?.from ?? at);
    const segment: Segment = { from, api: baseStatus(truth, 'api'), index: baseStatus(truth, 'index') };
    if (segments.at(-1)?.from === from) segments.pop();
    const previous = segments.at(-1);
    if (previous && previous.api === segment.api && previous.index === segment.index) return;
    segments.push(segment);
  }
}

/** Resource Graph shows no contact row: the identity may not read the subscription's security resources, or it is not found. */
function hiddenFromGraph(truth: SubscriptionTruth): boolean {
  return truth.unreadable === 'forbidden' || truth.unreadable === 'not-found';
}

/** What a view shows now, before exemptions. */
function baseStatus(truth: SubscriptionTruth, view: TruthView): TruthStatus {
  if (!truth.exists) return 'gone';
  if (INACTIVE_STATES.has(truth.state)) return 'skipped';
  if (view === 'index') {
    // Resource Graph does not list it: a scan cannot judge it from there.
    if (!truth.listedInGraph) return 'gone';
    // Listed but with no contact row to show: RBAC hides it, or, without the provider, Defender
    // for Cloud has no contact resource at all.
    if (hiddenFromGraph(truth) || truth.providerNotRegistered) return 'noncompliant';
    return truth.indexedContact.label;
  }
  // The local server's order (services/security-contacts.ts): 404 and 403 first, then the 409 for
  // an unregistered provider, and only then the body.
  if (hiddenFromGraph(truth)) return 'error';
  if (truth.providerNotRegistered) return 'noncompliant';
  if (truth.unreadable === 'not-json') return 'error';
  return truth.contact.label;
}

/** The index of the last entry starting at or before `at` (-1: none); entries in order of `from`. */
function lastStartingBy(entries: readonly { from: number }[], at: number): number {
  let low = 0;
  let high = entries.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (entries[middle]!.from <= at) {
      found = middle;
      low = middle + 1;
    } else high = middle - 1;
  }
  return found;
}

function exemptAt(truth: SubscriptionTruth, at: number): boolean {
  const exemption = truth.exemptions[lastStartingBy(truth.exemptions, at)];
  return exemption !== undefined && at < exemption.until;
}

function statusAt(truth: SubscriptionTruth, at: number, view: TruthView): TruthStatus {
  const segment = truth.segments[lastStartingBy(truth.segments, at)];
  if (!segment) return 'gone';
  const base = segment[view];
  return EXEMPTIBLE.has(base) && exemptAt(truth, at) ? 'exempt' : base;
}

/** The moments in (after, upTo] at which a view may change: segments' starts, exemptions' starts and ends. */
function changesIn(truth: SubscriptionTruth, after: number, upTo: number): number[] {
  const changes: number[] = [];
  const segments = truth.segments;
  for (let position = lastStartingBy(segments, after) + 1; position < segments.length && segments[position]!.from <= upTo; position += 1) {
    changes.push(segments[position]!.from);
  }
  for (const exemption of truth.exemptions) {
    if (exemption.from > after && exemption.from <= upTo) changes.push(exemption.from);
    if (exemption.until > after && exemption.until <= upTo) changes.push(exemption.until);
  }
  return changes;
}

const CONTACT_CATALOGUE_NONE: ContactEntry = CONTACT_CATALOGUE.find((entry) => entry.items === 0)!;
