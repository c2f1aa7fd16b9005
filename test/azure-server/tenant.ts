/**
 * The simulated tenant behind the local Azure test server: its subscriptions, the contacts the
 * securityContacts API returns for each, and - kept separately - the contacts Resource Graph has
 * indexed, so that Resource Graph lag and "not indexed" can be simulated. Tests change it while
 * the server runs; every change is visible to the next request.
 */
import { randomUUID } from 'node:crypto';

/** A securityContacts list item exactly as the API returns it, in any API version's shape. */
export type RawContact = unknown;

/** Per-subscription behaviour of the securityContacts API that real tenants show. */
export interface SubscriptionQuirks {
  /** The list body is a bare JSON array instead of `{ "value": [...] }`. */
  bareArrayBody?: boolean;
  /** Page the list with `nextLink`, this many contacts per page. */
  contactsPageSize?: number;
  /** 403 AuthorizationFailed (the identity may not read Microsoft.Security here). */
  forbidden?: boolean;
  /**
   * The identity may read security contacts here but not write them (Security Reader without
   * Security Admin): GET answers as usual, PUT and DELETE answer 403 AuthorizationFailed naming
   * `Microsoft.Security/securityContacts/write` (or `/delete`).
   */
  readOnlyIdentity?: boolean;
  /** 404 SubscriptionNotFound. */
  notFound?: boolean;
  /** 409 MissingSubscriptionRegistration (Microsoft.Security is not registered). */
  providerNotRegistered?: boolean;
  /** 200 with a body that is not JSON, or JSON whose `value` is not a list. */
  invalidBody?: 'not-json' | 'wrong-types';
  /**
   * Resource Graph has not indexed the subscription yet (a new one): its `resourcecontainers` row
   * and its contacts' rows are missing, while ARM and the securityContacts API answer for it.
   */
  notInResourceGraph?: boolean;
}

/** What the generator made of a subscription (for expectations in tests and benchmarks). */
export type GeneratedProfile =
  | 'compliant'
  | 'no-contact'
  | 'placeholder-email'
  | 'alerts-off'
  | 'no-owner'
  | 'shape-2017'
  | 'shape-2020'
  | 'forbidden'
  | 'not-found'
  | 'provider-not-registered';

export type IndexingState = 'indexed' | 'not-indexed' | 'stale';

export interface SimulatedSubscription {
  /** Lower-case GUID. */
  readonly subscriptionId: string;
  readonly displayName: string;
  /** `Enabled`, `Warned`, `PastDue`, `Disabled`, `Deleted` or `Expired`. */
  readonly state: string;
  readonly tenantId: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Management group ancestors, nearest first (the tenant root group is implied). */
  readonly managementGroupIds: readonly string[];
  /** What the securityContacts API returns. */
  readonly contacts: readonly RawContact[];
  /** What Resource Graph shows in `securityresources` (may lag or be empty). */
  readonly indexedContacts: readonly RawContact[];
  readonly quirks: Readonly<SubscriptionQuirks>;
  /** Set by generateTenant. */
  readonly profile?: GeneratedProfile;
  readonly indexing?: IndexingState;
}

export interface AddSubscriptionInput {
  /** A GUID; a random one when omitted. Stored in lower case. */
  subscriptionId?: string;
  displayName?: string;
  state?: string;
  tenantId?: string;
  tags?: Record<string, string>;
  managementGroupIds?: readonly string[];
  contacts?: readonly RawContact[];
  /** Whether Resource Graph has indexed the contacts (default true); false leaves it empty. */
  indexed?: boolean;
  quirks?: SubscriptionQuirks;
}

export interface SubscriptionPatch {
  displayName?: string;
  state?: string;
  tags?: Record<string, string>;
  managementGroupIds?: readonly string[];
}

export interface ManagementGroup {
  name: string;
  displayName: string;
  /** Parent group name; undefined = directly under the tenant root group. */
  parent?: string;
}

/** @internal the mutable record behind a SimulatedSubscription. */
export interface SubscriptionRecord {
  subscriptionId: string;
  displayName: string;
  state: string;
  tenantId: string;
  tags: Record<string, string>;
  managementGroupIds: readonly string[];
  contacts: readonly RawContact[];
  indexedContacts: readonly RawContact[];
  quirks: SubscriptionQuirks;
  profile?: GeneratedProfile;
  indexing?: IndexingState;
}

const NO_QUIRKS: SubscriptionQuirks = Object.freeze({});
const NO_TAGS: Record<string, string> = Object.freeze({});
const NO_CONTACTS: readonly RawContact[] = Object.freeze([]);
const NO_GROUPS: readonly string[] = Object.freeze([]);

export const ROOT_MANAGEMENT_GROUP_DISPLAY_NAME = 'Tenant Root Group';

export class SimulatedTenant {
  readonly tenantId: string;
  /**
   * When true, PUT and DELETE of a security contact also update what Resource Graph shows.
   * Default false: Resource Graph lags behind writes, as in Azure.
   */
  indexWrites: boolean;
  /** Set by generateTenant: what it generated. */
  generated?: GeneratedTenantSummary;

  private readonly byId = new Map<string, SubscriptionRecord>();
  private order: SubscriptionRecord[] = [];
  private readonly groups = new Map<string, ManagementGroup>();
  private changeCount = 0;

  constructor(options: { tenantId?: string; indexWrites?: boolean } = {}) {
    this.tenantId = (options.tenantId ?? randomUUID()).toLowerCase();
    this.indexWrites = options.indexWrites ?? false;
  }

  /** Increases on every change of membership or contacts (the server caches query results by it). */
  get version(): number {
    return this.changeCount;
  }

  get size(): number {
    return this.order.length;
  }

  addSubscription(input: AddSubscriptionInput = {}): SimulatedSubscription {
    const subscriptionId = (input.subscriptionId ?? randomUUID()).toLowerCase();
    if (this.byId.has(subscriptionId)) throw new Error(`subscription ${subscriptionId} already exists`);
    const contacts = input.contacts ? [...input.contacts] : NO_CONTACTS;
    const record: SubscriptionRecord = {
      subscriptionId,
      displayName: input.displayName ?? `Subscription ${subscriptionId.slice(0, 8)}`,
      state: input.state ?? 'Enabled',
      tenantId: (input.tenantId ?? this.tenantId).toLowerCase(),
      tags: input.tags ? { ...input.tags } : NO_TAGS,
      managementGroupIds: input.managementGroupIds ? [...input.managementGroupIds] : NO_GROUPS,
      contacts,
      indexedContacts: input.indexed === false ? NO_CONTACTS : contacts,
      quirks: input.quirks ? { ...input.quirks } : NO_QUIRKS,
    };
    this.insert(record);
    return record;
  }

  /** @internal generator fast path: the record's arrays and objects may be shared and frozen. */
  addRecord(record: SubscriptionRecord): void {
    this.insert(record);
  }

  removeSubscription(subscriptionId: string): boolean {
    const record = this.byId.get(subscriptionId.toLowerCase());
    if (!record) return false;
    this.byId.delete(record.subscriptionId);
    this.order = this.order.filter((candidate) => candidate !== record);
    this.changeCount++;
    return true;
  }

  getSubscription(subscriptionId: string): SimulatedSubscription | undefined {
    return this.byId.get(subscriptionId.toLowerCase());
  }

  /** Every subscription, in the order they were added. */
  listSubscriptions(): readonly SimulatedSubscription[] {
    return this.order;
  }

  updateSubscription(subscriptionId: string, patch: SubscriptionPatch): SimulatedSubscription {
    const record = this.require(subscriptionId);
    if (patch.displayName !== undefined) record.displayName = patch.displayName;
    if (patch.state !== undefined) record.state = patch.state;
    if (patch.tags !== undefined) record.tags = { ...patch.tags };
    if (patch.managementGroupIds !== undefined) record.managementGroupIds = [...patch.managementGroupIds];
    this.changeCount++;
    return record;
  }

  /**
   * Sets what the securityContacts API returns. Resource Graph shows the same unless
   * `indexed: false`, which leaves its index as it was (Resource Graph has not caught up).
   */
  setContacts(subscriptionId: string, items: readonly RawContact[], options: { indexed?: boolean } = {}): void {
    const record = this.require(subscriptionId);
    record.contacts = [...items];
    if (options.indexed !== false) record.indexedContacts = record.contacts;
    this.changeCount++;
  }

  /** Removes every contact; Resource Graph follows unless `indexed: false`. */
  deleteContacts(subscriptionId: string, options: { indexed?: boolean } = {}): void {
    this.setContacts(subscriptionId, [], options);
  }

  /** Sets what Resource Graph shows, independently of the API (empty = not indexed). */
  setIndexedContacts(subscriptionId: string, items: readonly RawContact[]): void {
    const record = this.require(subscriptionId);
    record.indexedContacts = [...items];
    this.changeCount++;
  }

  /** Merges quirks into the subscription's (a key set to undefined removes it). */
  setQuirks(subscriptionId: string, quirks: SubscriptionQuirks): void {
    const record = this.require(subscriptionId);
    const merged: SubscriptionQuirks = { ...record.quirks, ...quirks };
    for (const key of Object.keys(merged) as (keyof SubscriptionQuirks)[]) {
      if (merged[key] === undefined) delete merged[key];
    }
    record.quirks = merged;
    this.changeCount++;
  }

  clearQuirks(subscriptionId: string): void {
    this.require(subscriptionId).quirks = NO_QUIRKS;
    this.changeCount++;
  }

  // ---- management groups ----

  addManagementGroup(name: string, options: { displayName?: string; parent?: string } = {}): ManagementGroup {
    const group: ManagementGroup = { name, displayName: options.displayName ?? name, parent: options.parent };
    this.groups.set(name.toLowerCase(), group);
    this.changeCount++;
    return group;
  }

  getManagementGroup(name: string): ManagementGroup | undefined {
    if (name.toLowerCase() === this.tenantId) return { name: this.tenantId, displayName: ROOT_MANAGEMENT_GROUP_DISPLAY_NAME };
    return this.groups.get(name.toLowerCase());
  }

  /**
   * A subscription's ancestors, nearest first, ending with the tenant root group: its
   * managementGroupIds, continued through the parents of known groups.
   */
  managementGroupChain(subscription: SimulatedSubscription): ManagementGroup[] {
    const chain: ManagementGroup[] = [];
    const seen = new Set<string>();
    const push = (name: string): void => {
      const key = name.toLowerCase();
      if (seen.has(key) || key === this.tenantId) return;
      seen.add(key);
      chain.push(this.groups.get(key) ?? { name, displayName: name });
    };
    for (const name of subscription.managementGroupIds) push(name);
    let parent = chain.at(-1)?.parent;
    while (parent !== undefined && !seen.has(parent.toLowerCase()) && parent.toLowerCase() !== this.tenantId) {
      push(parent);
      parent = this.groups.get(parent.toLowerCase())?.parent;
    }
    chain.push({ name: this.tenantId, displayName: ROOT_MANAGEMENT_GROUP_DISPLAY_NAME });
    return chain;
  }

  /** True when the subscription sits under one of the groups (the tenant id names the root group). */
  isUnderManagementGroups(subscription: SimulatedSubscription, groupNames: ReadonlySet<string>): boolean {
    return this.managementGroupChain(subscription).some((group) => groupNames.has(group.name.toLowerCase()));
  }

  // ---- internals ----

  /** @internal the server stores writes through the API here. */
  storeContactWrite(subscriptionId: string, contacts: readonly RawContact[]): void {
    const record = this.require(subscriptionId);
    record.contacts = contacts;
    if (this.indexWrites) record.indexedContacts = contacts;
    this.changeCount++;
  }

  private insert(record: SubscriptionRecord): void {
    if (this.byId.has(record.subscriptionId)) throw new Error(`subscription ${record.subscriptionId} already exists`);
    this.byId.set(record.subscriptionId, record);
    this.order.push(record);
    this.changeCount++;
  }

  private require(subscriptionId: string): SubscriptionRecord {
    const record = this.byId.get(subscriptionId.toLowerCase());
    if (!record) throw new Error(`no subscription ${subscriptionId} in the simulated tenant`);
    return record;
  }
}

// ---------------------------------------------------------------------------------------------
// Generator
// ---------------------------------------------------------------------------------------------

export interface GenerateTenantOptions {
  /** Number of subscriptions (1 to 50,000 and more). */
  count: number;
  /** Same seed, same tenant (default 1). */
  seed?: number;
  tenantId?: string;
  /** Fraction of subscriptions with no security contact (default 0.1). */
  withoutContactFraction?: number;
  /**
   * Fraction with a weak contact (default 0.15): a placeholder e-mail, alerts off, no owner
   * notification, or the old 2017 / 2020 shapes (which cannot express attack-path notifications).
   */
  weakContactFraction?: number;
  /** Fraction whose state is Disabled or Deleted (default 0.02). */
  inactiveFraction?: number;
  /**
   * What Resource Graph shows: `all` (default) the same as the API, `none` nothing at all, or a
   * fraction of "doubtful" subscriptions whose row is missing or stale (an older, weaker
   * contact), so that the scan must confirm them with the securityContacts API.
   */
  indexed?: 'all' | 'none' | { doubtfulFraction: number };
  /** Number of management groups, in a tree under the root (default 0: all under the root). */
  managementGroups?: number;
  /** Fractions of subscriptions whose securityContacts API fails (default none). */
  quirkFractions?: { forbidden?: number; notFound?: number; providerNotRegistered?: number; bareArrayBody?: number };
  indexWrites?: boolean;
}

export interface GeneratedTenantSummary {
  count: number;
  seed: number;
  byProfile: Partial<Record<GeneratedProfile, number>>;
  byState: Record<string, number>;
  byIndexing: Record<IndexingState, number>;
  /**
   * The verdicts a correct scan reaches under the default policy: skipped = inactive state;
   * error = forbidden / not found; compliant = profile `compliant`; noncompliant = the rest.
   */
  expected: { compliant: number; noncompliant: number; error: number; skipped: number };
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seededGuid(random: () => number): string {
  let hex = '';
  for (let i = 0; i < 4; i++)
    hex += Math.floor(random() * 0x1_0000_0000)
      .toString(16)
      .padStart(8, '0');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const TEAMS = ['payments', 'identity', 'data-platform', 'web', 'ml', 'sap', 'iot', 'analytics', 'shared-services', 'retail'];
const ENVIRONMENTS = ['prod', 'dev', 'test', 'staging'];

const deepFreeze = <T>(value: T): T => {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
};

/** Shared, frozen `properties` objects: 50,000 subscriptions reuse a handful of them. */
const PROPERTIES = {
  compliant: [
    modern('secops@fabrikam.com', 'Medium', 'High'),
    modern('secops@fabrikam.com;cloud-security@fabrikam.com', 'Low', 'Medium'),
    modern('soc@fabrikam.com', 'High', 'High'),
  ],
  'placeholder-email': [modern('security@contoso.com', 'Medium', 'High'), modern('admin@example.com', 'Low', 'High')],
  'alerts-off': [
    deepFreeze({
      emails: 'secops@fabrikam.com',
      phone: '',
      isEnabled: true,
      notificationsByRole: { state: 'On', roles: ['Owner'] },
      notificationsSources: [{ sourceType: 'AttackPath', minimalRiskLevel: 'High' }],
    }),
  ],
  'no-owner': [
    deepFreeze({
      emails: 'secops@fabrikam.com',
      phone: '',
      isEnabled: true,
      notificationsByRole: { state: 'Off', roles: [] },
      notificationsSources: [
        { sourceType: 'Alert', minimalSeverity: 'Medium' },
        { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
      ],
    }),
  ],
  'shape-2017': [deepFreeze({ email: 'secops@fabrikam.com', phone: '(214)275-4038', alertNotifications: 'On', alertsToAdmins: 'On' })],
  'shape-2020': [
    deepFreeze({
      emails: 'secops@fabrikam.com',
      phone: '(214)275-4038',
      alertNotifications: { state: 'On', minimalSeverity: 'Low' },
      notificationsByRole: { state: 'On', roles: ['Owner'] },
    }),
  ],
} as const;

/** What a stale Resource Graph row shows: an older, weaker contact. */
const STALE_PROPERTIES = deepFreeze({
  emails: 'security@contoso.com',
  phone: '',
  alertNotifications: { state: 'Off', minimalSeverity: 'High' },
  notificationsByRole: { state: 'Off', roles: [] },
});

function modern(emails: string, minimalSeverity: string, minimalRiskLevel: string): object {
  return deepFreeze({
    emails,
    phone: '(214)275-4038',
    isEnabled: true,
    notificationsByRole: { state: 'On', roles: ['Owner'] },
    notificationsSources: [
      { sourceType: 'Alert', minimalSeverity },
      { sourceType: 'AttackPath', minimalRiskLevel },
    ],
  });
}

const WEAK_PROFILES = ['placeholder-email', 'alerts-off', 'no-owner', 'shape-2017', 'shape-2020'] as const;

function contactItem(subscriptionId: string, name: string, properties: object): RawContact {
  return {
    id: `/subscriptions/${subscriptionId}/providers/Microsoft.Security/securityContacts/${name}`,
    name,
    type: 'Microsoft.Security/securityContacts',
    properties,
  };
}

function pick<T>(random: () => number, values: readonly T[]): T {
  return values[Math.floor(random() * values.length)]!;
}

/**
 * A simulated tenant of any size, the same for the same options. Memory stays small: the
 * contact `properties`, tags and management-group chains are shared between subscriptions.
 */
export function generateTenant(options: GenerateTenantOptions): SimulatedTenant {
  const count = options.count;
  if (!Number.isInteger(count) || count < 0) throw new Error(`generateTenant: count must be a whole number, got ${count}`);
  const seed = options.seed ?? 1;
  const random = seededRandom(seed);
  const tenant = new SimulatedTenant({
    tenantId: options.tenantId ?? seededGuid(seededRandom(seed ^ 0x5eed)),
    indexWrites: options.indexWrites,
  });
  const withoutContact = options.withoutContactFraction ?? 0.1;
  const weak = options.weakContactFraction ?? 0.15;
  const inactive = options.inactiveFraction ?? 0.02;
  const indexed = options.indexed ?? 'all';
  const doubtful = typeof indexed === 'object' ? indexed.doubtfulFraction : 0;
  const quirkFractions = options.quirkFractions ?? {};

  // Management groups: a tree where group k hangs under group floor((k-1)/4), group 0 under the root.
  const groupCount = options.managementGroups ?? 0;
  const chains: (readonly string[])[] = [];
  for (let k = 0; k < groupCount; k++) {
    const name = `mg-${String(k).padStart(3, '0')}`;
    const parent = k === 0 ? undefined : `mg-${String(Math.floor((k - 1) / 4)).padStart(3, '0')}`;
    tenant.addManagementGroup(name, { displayName: `Management group ${k}`, parent });
    const parentChain = parent === undefined ? [] : chains[Math.floor((k - 1) / 4)]!;
    chains.push(Object.freeze([name, ...parentChain]));
  }

  const tagPool = TEAMS.flatMap((team) => ENVIRONMENTS.map((env) => Object.freeze({ team, environment: env })));
  const summary: GeneratedTenantSummary = {
    count,
    seed,
    byProfile: {},
    byState: {},
    byIndexing: { indexed: 0, 'not-indexed': 0, stale: 0 },
    expected: { compliant: 0, noncompliant: 0, error: 0, skipped: 0 },
  };

  for (let index = 0; index < count; index++) {
    const subscriptionId = seededGuid(random);
    const tags = pick(random, tagPool);
    const state = random() < inactive ? (random() < 0.5 ? 'Disabled' : 'Deleted') : 'Enabled';

    let profile: GeneratedProfile;
    const roll = random();
    if (roll < withoutContact) profile = 'no-contact';
    else if (roll < withoutContact + weak) profile = pick(random, WEAK_PROFILES);
    else profile = 'compliant';

    let quirks: SubscriptionQuirks = NO_QUIRKS;
    const quirkRoll = random();
    let threshold = 0;
    if (quirkRoll < (threshold += quirkFractions.forbidden ?? 0)) {
      profile = 'forbidden';
      quirks = FORBIDDEN;
    } else if (quirkRoll < (threshold += quirkFractions.notFound ?? 0)) {
      profile = 'not-found';
      quirks = NOT_FOUND;
    } else if (quirkRoll < (threshold += quirkFractions.providerNotRegistered ?? 0)) {
      profile = 'provider-not-registered';
      quirks = NOT_REGISTERED;
    } else if (quirkRoll < threshold + (quirkFractions.bareArrayBody ?? 0)) {
      quirks = BARE_ARRAY;
    }

    let contacts: readonly RawContact[] = NO_CONTACTS;
    const templates = profile in PROPERTIES ? PROPERTIES[profile as keyof typeof PROPERTIES] : undefined;
    if (templates) {
      const name = profile === 'shape-2017' ? 'default1' : 'default';
      contacts = [contactItem(subscriptionId, name, pick(random, templates))];
    }

    let indexing: IndexingState = 'indexed';
    let indexedContacts = contacts;
    const unreadable = profile === 'forbidden' || profile === 'not-found' || profile === 'provider-not-registered';
    if (indexed === 'none' || unreadable) {
      indexing = 'not-indexed';
      indexedContacts = NO_CONTACTS;
    } else if (random() < doubtful) {
      if (contacts.length > 0 && random() < 0.5) {
        indexing = 'not-indexed';
        indexedContacts = NO_CONTACTS;
      } else {
        indexing = 'stale';
        indexedContacts = [contactItem(subscriptionId, 'default', STALE_PROPERTIES)];
      }
    }

    const displayName = `${tags.team}-${tags.environment}-${String(index).padStart(5, '0')}`;
    tenant.addRecord({
      subscriptionId,
      displayName,
      state,
      tenantId: tenant.tenantId,
      tags: tags,
      managementGroupIds: groupCount > 0 ? chains[Math.floor(random() * groupCount)]! : NO_GROUPS,
      contacts,
      indexedContacts,
      quirks,
      profile,
      indexing,
    });

    summary.byProfile[profile] = (summary.byProfile[profile] ?? 0) + 1;
    summary.byState[state] = (summary.byState[state] ?? 0) + 1;
    summary.byIndexing[indexing]++;
    if (state !== 'Enabled') summary.expected.skipped++;
    else if (profile === 'forbidden' || profile === 'not-found') summary.expected.error++;
    else if (profile === 'compliant') summary.expected.compliant++;
    else summary.expected.noncompliant++;
  }
  tenant.generated = summary;
  return tenant;
}

const FORBIDDEN: SubscriptionQuirks = Object.freeze({ forbidden: true });
const NOT_FOUND: SubscriptionQuirks = Object.freeze({ notFound: true });
const NOT_REGISTERED: SubscriptionQuirks = Object.freeze({ providerNotRegistered: true });
const BARE_ARRAY: SubscriptionQuirks = Object.freeze({ bareArrayBody: true });
