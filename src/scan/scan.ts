/**
 * The tenant sweep: Resource Graph (two queries for the whole tenant, paged side by side), and the
 * securityContacts API for every subscription Resource Graph does not show as compliant — Resource
 * Graph lags behind the service and may not index contacts at all, so a doubtful verdict is never
 * reported before the API confirms it. The two overlap: a subscription is read from the API as soon
 * as it is known to be doubtful (triage.ts), while the rest of the tenant is still being paged.
 */
import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import type { Policy, ScanReport, ScanStatus, SubscriptionInfo, SubscriptionVerdict } from '../core/model.js';
import type { ScanScope, SecurityContactsSource, SubscriptionLookup, TenantInventorySource } from './ports.js';
import type { RecordedSubscription } from '../core/state-model.js';
import { Confirmations } from './confirmations.js';
import { ResourceGraphTriage } from './triage.js';
import { ContactJudge, errorVerdict } from './verdicts.js';
import { messageOf } from '../core/error-message.js';

/**
 * securityContacts reads in flight at once (and ARM lookups of recorded subscriptions Resource
 * Graph no longer lists). Each is a read on a different subscription, so each draws on its own
 * subscription's ARM throttling budget; a 429 is retried after its Retry-After. 128 keep pace with
 * the rows Resource Graph pages in (a page of 1,000 every 150 ms or so can hold a few hundred
 * doubtful subscriptions); 64 fell behind them (docs/benchmarks.md).
 */
export const DEFAULT_CONFIRMATION_CONCURRENCY = 128;

export interface ScanProgress {
  /**
   * `inventory` while Resource Graph is read (confirmations may already be under way: `confirmed`
   * of `toConfirm` so far), `confirming` once it has been read in full (`toConfirm` is then final),
   * `done` at the end.
   */
  phase: 'inventory' | 'confirming' | 'done';
  /** Subscriptions in scope: those listed so far while `inventory`. */
  subscriptions: number;
  toConfirm: number;
  confirmed: number;
}

export interface ScanDependencies {
  inventory: TenantInventorySource;
  contacts: SecurityContactsSource;
  /** Used for subscriptions named in the scope that Resource Graph does not list (yet). */
  subscriptions?: SubscriptionLookup;
  policy: Policy;
  clock?: () => Date;
  /** How many securityContacts requests may be in flight at once. */
  concurrency?: number;
  onProgress?: (progress: ScanProgress) => void;
  signal?: AbortSignal;
  /** Default: a new UUID. */
  scanId?: string;
  /**
   * What the record holds of the tenant, for a scan of the whole tenant: each stored
   * subscription's status. Resource Graph lags behind the service, so a subscription stored as
   * `noncompliant` or `error` that it shows as compliant is confirmed through the securityContacts
   * API (its index may still hold a contact deleted minutes ago), and one stored as present that it
   * does not list is looked up in ARM (a new subscription it has not indexed yet) and judged if it
   * is there; only one ARM does not find has left the tenant.
   */
  recorded?: ReadonlyMap<string, RecordedSubscription>;
}

export interface ScanResult {
  report: ScanReport;
  stats: { resourceGraphRequests: number; securityContactsCalls: number; durationMs: number };
}

/** The scan could not run at all (Resource Graph unreachable, no permission to list anything...). */
export class ScanFailedError extends Error {
  override name = 'ScanFailedError';
}

/**
 * Management groups named in the scope under which no subscription showed. The scope is wrong (a
 * typo, a display name for an id, no access), and a scan of it would pass a pipeline gate with
 * nothing judged, so nothing is judged and each such group is named.
 */
export class ManagementGroupsWithoutSubscriptionsError extends ScanFailedError {
  override name = 'ManagementGroupsWithoutSubscriptionsError';
  constructor(readonly managementGroupIds: readonly string[]) {
    const named = managementGroupIds.map((id) => JSON.stringify(id)).join(', ');
    super(
      `no subscription was found under management group${managementGroupIds.length === 1 ? '' : 's'} ${named}; ` +
        "check the management group ID (the group's name, not its display name) and that this identity can read it (Reader). Nothing was judged.",
    );
  }
}

export async function runScan(scope: ScanScope, deps: ScanDependencies): Promise<ScanResult> {
  const clock = deps.clock ?? (() => new Date());
  const started = clock();
  const scanId = deps.scanId ?? randomUUID();
  const progress: ScanProgress = { phase: 'inventory', subscriptions: 0, toConfirm: 0, confirmed: 0 };
  deps.onProgress?.({ ...progress });

  // Stops everything the scan has under way: the Resource Graph pages and the API reads.
  const stop = new AbortController();
  const signal = deps.signal ? AbortSignal.any([deps.signal, stop.signal]) : stop.signal;
  const verdicts: SubscriptionVerdict[] = [];
  const judge = new ContactJudge(deps.policy);
  const confirmations = new Confirmations({
    contacts: deps.contacts,
    judge,
    concurrency: deps.concurrency ?? DEFAULT_CONFIRMATION_CONCURRENCY,
    signal,
    stop: (error) => stop.abort(error),
    confirmed: (verdict) => {
      verdicts.push(verdict);
      progress.confirmed += 1;
      if (progress.phase === 'inventory') progress.subscriptions = triage.listed;
      deps.onProgress?.({ ...progress });
    },
  });
  // A scope of management groups is checked before anything is read from the API: a group that
  // yields nothing stops the scan with nothing judged, so its confirmations wait for the check.
  const held: SubscriptionInfo[] | undefined = (scope.managementGroupIds?.length ?? 0) > 0 ? [] : undefined;
  const recorded = isWholeTenant(scope) ? deps.recorded : undefined;
  const triage = new ResourceGraphTriage(
    judge,
    {
      settled: (verdict) => verdicts.push(verdict),
      doubtful: (subscription) => {
        progress.toConfirm += 1;
        if (held) held.push(subscription);
        else confirmations.confirm(subscription);
      },
    },
    recorded,
  );
  /** Stops what is under way and waits until it has, so that nothing ends after the scan has failed. */
  const abandon = async (): Promise<void> => {
    stop.abort();
    await confirmations.settled();
  };

  let outcome;
  try {
    outcome = await deps.inventory.readInventory(scope, triage, signal);
  } catch (error) {
    await abandon();
    // A read that threw stopped Resource Graph too; its error is the one that counts.
    if (confirmations.failed) throw confirmations.failed.error;
    throw new ScanFailedError(`Resource Graph could not be read: ${messageOf(error)}`, { cause: error });
  }
  if (outcome.managementGroupsWithoutSubscriptions.length > 0) {
    await abandon();
    throw new ManagementGroupsWithoutSubscriptionsError(outcome.managementGroupsWithoutSubscriptions);
  }

  let unresolved: SubscriptionVerdict[];
  try {
    triage.contactsComplete();
    await addNamedSubscriptions(triage, scope, deps, signal);
    unresolved = recorded ? await addRecordedSubscriptions(triage, recorded, deps, signal) : [];
    triage.forgetUnlisted();
  } catch (error) {
    await abandon();
    throw error;
  }
  verdicts.push(...unresolved);
  for (const subscription of held ?? []) confirmations.confirm(subscription);

  progress.subscriptions = triage.listed + unresolved.length;
  progress.phase = 'confirming';
  deps.onProgress?.({ ...progress });
  await confirmations.settled();
  if (confirmations.failed) throw confirmations.failed.error;
  // Stopped from outside (deps.signal) while reads were under way: some subscriptions have no verdict.
  signal.throwIfAborted();
  verdicts.sort((a, b) => (a.subscriptionId < b.subscriptionId ? -1 : a.subscriptionId > b.subscriptionId ? 1 : 0));

  progress.phase = 'done';
  deps.onProgress?.({ ...progress });
  const finished = clock();
  const status: ScanStatus = verdicts.some((v) => v.status === 'error') ? 'partial' : 'succeeded';
  return {
    report: buildReport(scanId, started, finished, status, verdicts),
    stats: {
      resourceGraphRequests: deps.inventory.stats.requests,
      securityContactsCalls: deps.contacts.stats.calls,
      durationMs: finished.getTime() - started.getTime(),
    },
  };
}

export function buildReport(
  scanId: string,
  startedAt: Date,
  finishedAt: Date,
  status: ScanStatus,
  verdicts: SubscriptionVerdict[],
): ScanReport {
  return {
    schemaVersion: 1,
    scan: { id: scanId, startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(), status },
    summary: summarise(verdicts),
    subscriptions: verdicts,
  };
}

export function summarise(verdicts: readonly SubscriptionVerdict[]): ScanReport['summary'] {
  const summary = { subscriptions: verdicts.length, compliant: 0, noncompliant: 0, exempt: 0, error: 0, skipped: 0 };
  for (const verdict of verdicts) summary[verdict.status] += 1;
  return summary;
}

/**
 * The stored subscriptions Resource Graph did not list, looked up in ARM: one ARM finds is judged
 * like a listed one (Resource Graph has not indexed it yet); one ARM does not know (404) has left
 * the tenant and gets no verdict, so the record marks it gone; any other answer (a 403: this
 * identity may no longer read it; a 5xx; none) is `error`, so a monitor that lost sight of a
 * subscription says so instead of going quiet about it.
 */
async function addRecordedSubscriptions(
  triage: ResourceGraphTriage,
  recorded: ReadonlyMap<string, RecordedSubscription>,
  deps: ScanDependencies,
  signal: AbortSignal,
): Promise<SubscriptionVerdict[]> {
  const missing = [...recorded].filter(([id, stored]) => stored.status !== 'gone' && !triage.isListed(id)).map(([id]) => id);
  if (missing.length === 0 || !deps.subscriptions) return [];
  const lookup = deps.subscriptions;
  const limit = pLimit(deps.concurrency ?? DEFAULT_CONFIRMATION_CONCURRENCY);
  const answers = await Promise.all(missing.map((id) => limit(async () => ({ id, answer: await lookup.getSubscription(id, signal) }))));
  const unresolved: SubscriptionVerdict[] = [];
  for (const { id, answer } of answers) {
    if (answer.kind === 'found') triage.subscription(answer.subscription);
    else if (answer.status !== 404) {
      unresolved.push(
        errorVerdict(
          // What the record last knew of it: an answer that says nothing must not blank its name.
          { subscriptionId: id, displayName: recorded.get(id)?.displayName ?? '', state: recorded.get(id)?.state ?? 'Unknown' },
          'security-contacts-api',
          `Resource Graph no longer lists this subscription, and ARM could not say whether it still exists: ${answer.message}`,
        ),
      );
    }
  }
  return unresolved;
}

/** No subscriptions or management groups named: every subscription the identity can see. */
export function isWholeTenant(scope: ScanScope): boolean {
  return (scope.subscriptionIds?.length ?? 0) === 0 && (scope.managementGroupIds?.length ?? 0) === 0;
}

/**
 * A subscription named with --subscription that Resource Graph does not list (a new one it has
 * not indexed yet, or one this identity cannot see) is still judged: its name and state are read
 * from ARM, and the securityContacts API decides — it is never silently dropped.
 */
async function addNamedSubscriptions(
  triage: ResourceGraphTriage,
  scope: ScanScope,
  deps: ScanDependencies,
  signal: AbortSignal,
): Promise<void> {
  for (const id of scope.subscriptionIds ?? []) {
    if (triage.isListed(id)) continue;
    const lookup = deps.subscriptions ? await deps.subscriptions.getSubscription(id, signal) : undefined;
    triage.subscription(lookup?.kind === 'found' ? lookup.subscription : { subscriptionId: id, displayName: '', state: 'Unknown' });
  }
}
