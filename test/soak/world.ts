/**
 * The soak's tenant and its truth. The local Azure test server serves the tenant; this module
 * changes it the way a real tenant changes over months, and remembers, per subscription and per
 * view, what the truth was at every moment: the securityContacts API's view (fresh) and Resource
 * Graph's (which lags). The invariants compare what contact-watch stored and sent against it.
 *
 * The truth of a contact is not computed by contact-watch's rules: each contact the world sets
 * comes from a catalogue whose entries are labelled by hand (soak/contacts.ts).
 */
import { randomUUID } from 'node:crypto';
import type { SimulatedTenant, SubscriptionQuirks } from '../azure-server/index.js';
import { contactFor, CONTACT_CATALOGUE, pickContact, type ContactEntry } from './contacts.js';
import type { SoakRandom } from './random.js';

export type TruthStatus = 'compliant' | 'noncompliant' | 'error' | 'skipped' | 'exempt' | 'gone';
export type TruthView = 'api' | 'index';

/** Subscription states Azure reports for a subscription that is not active (CONTRACT: skipped). */
const INACTIVE_STATES = new Set(['Disabled', 'Deleted', 'Expired']);

/** What makes a subscription unreadable for good (until the world mends it). */
export type Unreadable = 'forbidden' | 'not-found' | 'not-json';

interface Segment {
  from: number;
  api: TruthStatus;
  index: TruthStatus;
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
  /** Active exemption, [from, until) in epoch ms. */
  exemption: { from: number; until: number } | null;
  segments: Segment[];
}

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
      exemption: null,
      segments: [],
    };
    this.subscriptions.set(id, truth);
    this.record(truth, now);
    if (!options.indexed) {
      this.afterLag(now, id, () => {
        truth.listedInGraph = true;
        truth.indexedContact = truth.contact;
        if (truth.exists) {
          this.tenant.setQuirks(id, { notInResourceGraph: undefined });
          this.tenant.setIndexedContacts(id, contactFor(id, truth.contact));
        }
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
    this.afterLag(now, id, () => {
      truth.indexedContact = truth.contact;
      if (truth.exists && !truth.providerNotRegistered) this.tenant.setIndexedContacts(id, contactFor(id, truth.contact));
    });
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

  setUnreadable(now: number, id: string, unreadable: Unreadable | null): void {
    const truth = this.require(id);
    truth.unreadable = unreadable;
    const quirks: SubscriptionQuirks = {
      forbidden: unreadable === 'forbidden' ? true : undefined,
      notFound: unreadable === 'not-found' ? true : undefined,
      invalidBody: unreadable === 'not-json' ? 'not-json' : undefined,
    };
    this.tenant.setQuirks(id, quirks);
    this.record(truth, now);
  }

  setProviderNotRegistered(now: number, id: string, value: boolean): void {
    const truth = this.require(id);
    truth.providerNotRegistered = value;
    this.tenant.setQuirks(id, { providerNotRegistered: value ? true : undefined });
    this.tenant.setIndexedContacts(id, value ? [] : contactFor(id, truth.indexedContact));
    this.record(truth, now);
  }

  /** The world's side of an exemption an operator creates or removes through contact-watch. */
  setExemption(now: number, id: string, until: number | null): void {
    const truth = this.require(id);
    truth.exemption = until === null ? null : { from: now, until };
    this.record(truth, now);
    if (until !== null) this.recordAt(truth, until);
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
    const { segments, contact, indexedContact, ...rest } = truth;
    return {
      ...rest,
      contact: contact.name,
      indexedContact: indexedContact.name,
      segments: segments.map((s) => ({ ...s, from: new Date(s.from).toISOString() })),
    };
  }

  contactOf(id: string): ContactEntry {
    return this.require(id).contact;
  }

  isExempt(id: string, at: number): boolean {
    const exemption = this.require(id).exemption;
    return exemption !== null && exemption.from <= at && at < exemption.until;
  }

  exists(id: string): boolean {
    return this.subscriptions.get(id)?.exists ?? false;
  }

  /** The truth of one view at one moment. */
  truthAt(id: string, at: number, view: TruthView): TruthStatus {
    const truth = this.subscriptions.get(id);
    if (!truth) return 'gone';
    const segments = truth.segments;
    let low = 0;
    let high = segments.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (segments[middle]!.from <= at) {
        found = middle;
        low = middle + 1;
      } else high = middle - 1;
    }
    if (found < 0) return 'gone';
    return segments[found]![view];
  }

  /** Every status a view showed during [from, to]. */
  truthsDuring(id: string, from: number, to: number, view: TruthView): Set<TruthStatus> {
    const result = new Set<TruthStatus>([this.truthAt(id, from, view)]);
    const truth = this.subscriptions.get(id);
    for (const segment of truth?.segments ?? []) if (segment.from > from && segment.from <= to) result.add(segment[view]);
    return result;
  }

  /** When the view's truth last changed to what it is at `at` (the start of the segment). */
  truthSince(id: string, at: number, view: TruthView): number {
    const segments = this.subscriptions.get(id)?.segments ?? [];
    let since = Number.NEGATIVE_INFINITY;
    let current: TruthStatus | undefined;
    for (const segment of segments) {
      if (segment.from > at) break;
      if (segment[view] !== current) {
        current = segment[view];
        since = segment.from;
      }
    }
    return since;
  }

  /** Drops truth older than `before` (keeps the segment in force then), so memory stays flat. */
  forgetBefore(before: number): void {
    for (const [id, truth] of this.subscriptions) {
      const keepFrom = truth.segments.findLastIndex((segment) => segment.from <= before);
      if (keepFrom > 0) truth.segments.splice(0, keepFrom);
      if (!truth.exists && truth.segments.length === 1 && truth.segments[0]!.from < before) this.subscriptions.delete(id);
    }
  }

  private afterLag(now: number, subscriptionId: string, apply: () => void): void {
    const lag = Math.floor(this.random.next() * this.options.maxIndexLagMs);
    if (lag === 0) {
      apply();
      return;
    }
    this.pendingIndex.push({ at: now + lag, subscriptionId, apply });
  }

  private require(id: string): SubscriptionTruth {
    const truth = this.subscriptions.get(id);
    if (!truth) throw new Error(`soak world: no subscription ${id}`);
    return truth;
  }

  private statusOf(truth: SubscriptionTruth, view: TruthView, at: number): TruthStatus {
    if (!truth.exists) return 'gone';
    if (INACTIVE_STATES.has(truth.state)) return 'skipped';
    if (truth.exemption && truth.exemption.from <= at && at < truth.exemption.until) return 'exempt';
    if (view === 'index') {
      // Resource Graph does not list it: a scan cannot judge it from there.
      if (!truth.listedInGraph) return 'gone';
      // Without the provider, Defender for Cloud has no contact resource for Resource Graph to show.
      if (truth.providerNotRegistered) return 'noncompliant';
      return truth.indexedContact.label;
    }
    if (truth.unreadable) return 'error';
    if (truth.providerNotRegistered) return 'noncompliant';
    return truth.contact.label;
  }

  private record(truth: SubscriptionTruth, at: number): void {
    this.recordAt(truth, at);
  }

  /** Appends the truth as it is from `at` (segments stay in time order; a later one replaces one at the same instant). */
  private recordAt(truth: SubscriptionTruth, at: number): void {
    const segment: Segment = { from: at, api: this.statusOf(truth, 'api', at), index: this.statusOf(truth, 'index', at) };
    const segments = truth.segments;
    while (segments.length > 0 && segments.at(-1)!.from > at) {
      // An exemption's end recorded ahead of time: keep it after this one, recomputed.
      const later = segments.pop()!;
      this.recordLater(truth, segment, later.from);
      return;
    }
    if (segments.length > 0 && segments.at(-1)!.from === at) segments.pop();
    segments.push(segment);
  }

  private recordLater(truth: SubscriptionTruth, segment: Segment, laterAt: number): void {
    const segments = truth.segments;
    if (segments.length > 0 && segments.at(-1)!.from === segment.from) segments.pop();
    segments.push(segment);
    segments.push({ from: laterAt, api: this.statusOf(truth, 'api', laterAt), index: this.statusOf(truth, 'index', laterAt) });
  }

  /** A fresh id for an operation (events, scans). */
  static operationId(): string {
    return randomUUID();
  }
}

const CONTACT_CATALOGUE_NONE: ContactEntry = CONTACT_CATALOGUE.find((entry) => entry.items === 0)!;
