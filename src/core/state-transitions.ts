/**
 * How what a run (or an event) read turns into the stored state of each subscription and its
 * status history. Pure: the Table Storage adapter loads, calls these and writes the result.
 *
 * Rules kept here:
 * - Only what was read changes: a verdict for a subscription the run did not actually read is
 *   ignored (except that a subscription never seen before is recorded when its verdict is
 *   `error`, which is what "could not be read" means). So a partial or failed run never marks
 *   a subscription compliant, fixed or gone that it did not read.
 * - `gone` (no longer in the tenant) is set only by a run that listed every subscription of the
 *   tenant. Whether a subscription left depends on that listing alone: a contact that could not be
 *   read (an `error` verdict) does not hide the departure of another subscription.
 * - An active exemption makes `compliant`, `noncompliant` and `error` into `exempt`, findings
 *   kept; once it has expired the subscription is judged on its findings again.
 * - A write never replaces a record judged from a later reading (`readAt`): a run leaves a record
 *   that someone else read after the run started (an event, say), and an event whose reading is
 *   older than the stored one leaves it too, whichever write arrives last.
 * - What is stored is bounded (src/core/record-bounds.ts): one subscription's oversized contact
 *   cannot make its record, its history or its alert too large to write.
 * - Every status change, including the first sighting (`from: null`), `error` and `gone`, is
 *   returned as a StatusChange with the findings before and after: the history keeps what an
 *   `error` replaced.
 *
 * Last evaluated: a record is returned for writing only when something other than
 * lastEvaluatedAt/lastEvaluatedBy/readAt changed, so an unchanged tenant costs no entity writes. A
 * complete run (it listed the whole tenant and read every subscription it listed, an `error`
 * answer included) is itself the evidence that it evaluated every subscription it did not mark
 * gone; readers take max(record.lastEvaluatedAt, the newest complete run) — see
 * `withLatestCompleteRun`. A subscription that only runs of a subset read unchanged keeps the time
 * of its last written evaluation.
 */
import { exemptStatus, activeExemptionsBySubscription } from './exemptions.js';
import type { ContactRemediation, Finding, RuleId, SecurityContactPutBody, SubscriptionVerdict } from './model.js';
import { boundForStorage, boundRemediation } from './record-bounds.js';
import type { Exemption, RecordedStatus, StatusChange, SubscriptionRecord } from './state-model.js';
import { bySubscriptionId } from './subscription-id.js';

export interface StateUpdateInput {
  /** The stored records by lower-case subscription id (all of them, or all that matter). */
  previous: ReadonlyMap<string, SubscriptionRecord>;
  /**
   * The run's verdicts as judged by the rules, before exemptions (status `compliant`,
   * `noncompliant`, `error` or `skipped`; `exempt` is refused: the planner applies exemptions).
   */
  verdicts: readonly SubscriptionVerdict[];
  /**
   * True when the run listed every subscription of the tenant (a tenant-scope scan whose
   * subscription listing was read in full), whether or not every contact could be read: only then
   * is a stored subscription that the run has no verdict for marked gone.
   */
  listingComplete: boolean;
  /**
   * The subscriptions this run obtained an answer for (including an `error` answer such as a
   * 403 that persisted, and `skipped` ones whose state was listed). Leave out any it never got to.
   */
  readSubscriptionIds: ReadonlySet<string>;
  exemptions: readonly Exemption[];
  /** The scan run id (or event id) recorded as lastEvaluatedBy and in the history. */
  runId: string;
  /** When the run started reading: the reading time of every record it writes. */
  runStartedAt: Date;
  now: Date;
}

export interface StateUpdatePlan {
  /** The records to write, sorted by subscription id: only those that changed. */
  records: SubscriptionRecord[];
  /** The status changes to append to the history, sorted by subscription id. */
  changes: StatusChange[];
}

export class InvalidStateInputError extends Error {
  override name = 'InvalidStateInputError';
}

interface Evaluated {
  record: SubscriptionRecord;
  change: StatusChange | null;
}

/** Plans the state update of a run: what to write and what to append to the history. */
export function planStateUpdate(input: StateUpdateInput): StateUpdatePlan {
  const active = activeExemptionsBySubscription(input.exemptions, input.now);
  const readIds = new Set([...input.readSubscriptionIds].map((id) => id.toLowerCase()));
  const previous = new Map([...input.previous].map(([id, record]) => [id.toLowerCase(), record] as const));
  const records: SubscriptionRecord[] = [];
  const changes: StatusChange[] = [];
  const inTenant = new Set<string>();

  const keep = (result: Evaluated | null, before: SubscriptionRecord | undefined): void => {
    if (result === null || (before !== undefined && sameExceptEvaluation(before, result.record))) return;
    records.push(result.record);
    if (result.change) changes.push(result.change);
  };

  for (const verdict of input.verdicts) {
    const id = verdict.subscriptionId.toLowerCase();
    if (verdict.status === 'exempt') {
      throw new InvalidStateInputError(
        `verdict for ${id} is already "exempt": give planStateUpdate the judged verdicts; it applies the exemptions itself`,
      );
    }
    if (inTenant.has(id)) throw new InvalidStateInputError(`two verdicts for subscription ${id} in one run`);
    inTenant.add(id);

    const before = previous.get(id);
    if (before && newerThanRun(before, input)) continue;
    if (!readIds.has(id)) {
      // Not read: nothing new is known. A first sighting is still worth recording as `error`.
      if (before === undefined && verdict.status === 'error')
        keep(evaluate(undefined, verdict, false, input.runId, input.now, input.runStartedAt), before);
      continue;
    }
    keep(evaluate(before, verdict, active.has(id), input.runId, input.now, input.runStartedAt), before);
  }

  if (input.listingComplete) {
    for (const [id, before] of previous) {
      if (inTenant.has(id) || before.status === 'gone' || newerThanRun(before, input)) continue;
      keep(markGone(before, input.runId, input.now, input.runStartedAt), before);
    }
  }

  records.sort(bySubscriptionId);
  changes.sort(bySubscriptionId);
  return { records, changes };
}

export interface EventEvaluationInput {
  previous: SubscriptionRecord | undefined;
  /** The verdict as judged by the rules, read fresh for this subscription. */
  verdict: SubscriptionVerdict;
  exemptions: readonly Exemption[];
  /** Who evaluated it, e.g. `event:<event id>` or `check:<uuid>`. */
  evaluatedBy: string;
  /** When the reading began (before the securityContacts API was asked). */
  readAt: Date;
  now: Date;
  /**
   * The write of the contact by contact-watch that this reading followed, with the body sent: kept
   * as the record's lastRemediation and in a history entry of its own, whether or not the status moved.
   */
  remediation?: ContactRemediation & { body: SecurityContactPutBody };
}

export type EventEvaluation =
  | {
      outcome: 'write';
      /** The record to write. Always returned, lastEvaluatedAt refreshed: one entity is cheap. */
      record: SubscriptionRecord;
      change: StatusChange | null;
      /** False when only lastEvaluatedAt/lastEvaluatedBy/readAt differ from `previous`. */
      changed: boolean;
    }
  /** The stored record was judged from a later reading (another event, a scan): it stays. */
  | { outcome: 'superseded'; record: SubscriptionRecord };

/** One subscription evaluated on its own (Event Grid trigger, `check` with a store). */
export function applyEventEvaluation(input: EventEvaluationInput): EventEvaluation {
  if (input.verdict.status === 'exempt') {
    throw new InvalidStateInputError('applyEventEvaluation expects the judged verdict; it applies the exemptions itself');
  }
  const bounded = input.remediation && boundRemediation(input.remediation);
  if (input.previous && readingTime(input.previous) > input.readAt.getTime()) {
    if (!bounded) return { outcome: 'superseded', record: input.previous };
    // A later reading stands, but the write happened: it is kept as the last write, with its history entry.
    const { body: _body, ...remediation } = bounded;
    // Two writers (fix and the app) can race: the record keeps the later write, the history both.
    const kept = input.previous.lastRemediation;
    const newer = kept !== null && Date.parse(kept.at) > Date.parse(remediation.at) ? kept : remediation;
    const record: SubscriptionRecord = { ...input.previous, lastRemediation: newer };
    const change = { ...writeEntry(input.previous, record, input), remediation: bounded };
    return { outcome: 'write', record, change, changed: true };
  }
  const id = input.verdict.subscriptionId.toLowerCase();
  const exempted = activeExemptionsBySubscription(input.exemptions, input.now).has(id);
  const evaluated = evaluate(input.previous, input.verdict, exempted, input.evaluatedBy, input.now, input.readAt);
  if (!bounded) {
    const { record, change } = evaluated;
    return { outcome: 'write', record, change, changed: input.previous === undefined || !sameExceptEvaluation(input.previous, record) };
  }
  const { body: _body, ...remediation } = bounded;
  const record: SubscriptionRecord = { ...evaluated.record, lastRemediation: remediation };
  // Every write is audit evidence: it gets a history entry even when the status stayed.
  const change: StatusChange = { ...(evaluated.change ?? writeEntry(input.previous, record, input)), remediation: bounded };
  return { outcome: 'write', record, change, changed: true };
}

/** The history entry of a write of the contact that did not move the status (from and to alike). */
function writeEntry(previous: SubscriptionRecord | undefined, record: SubscriptionRecord, input: EventEvaluationInput): StatusChange {
  return {
    subscriptionId: record.subscriptionId,
    at: input.now.toISOString(),
    from: previous?.status ?? null,
    to: record.status,
    findingsBefore: previous?.findings ?? [],
    findingsAfter: record.findings,
    evaluatedBy: input.evaluatedBy,
  };
}

/** The rules that did not pass (result `fail` or `error`), in the order of the findings. */
export function failedRules(findings: readonly Finding[]): RuleId[] {
  return findings.filter((finding) => finding.result !== 'pass').map((finding) => finding.ruleId);
}

/** `noncompliant` and `error` are owed alerts; noncompliantSince spans both. */
export function isBadStatus(status: RecordedStatus): status is 'noncompliant' | 'error' {
  return status === 'noncompliant' || status === 'error';
}

/** The newest complete run: when it started reading, when it evaluated, its id. */
export interface CompleteRunMark {
  scanId: string;
  startedAt: string;
  evaluatedAt: string;
}

/**
 * The record as readers and writers should see it. A complete run read every subscription that
 * was not gone after it, even where it wrote nothing (its reading agreed with the record): so a
 * record last evaluated before that run started shows the run as its last evaluation, and a record
 * read before it started counts as read when the run started — a later write judged from an older
 * reading must not replace it. A record evaluated and read after the run started (by an event,
 * say) keeps its own.
 */
export function withLatestCompleteRun(record: SubscriptionRecord, run: CompleteRunMark | undefined): SubscriptionRecord {
  if (!run || record.status === 'gone') return record;
  const started = Date.parse(run.startedAt);
  const evaluatedBefore = Date.parse(record.lastEvaluatedAt) < started;
  const readBefore = readingTime(record) < started;
  if (!evaluatedBefore && !readBefore) return record;
  return {
    ...record,
    ...(evaluatedBefore ? { lastEvaluatedAt: run.evaluatedAt, lastEvaluatedBy: run.scanId } : {}),
    ...(readBefore ? { readAt: new Date(started).toISOString() } : {}),
  };
}

/** True when the records differ in nothing but lastEvaluatedAt/lastEvaluatedBy/readAt. */
export function sameExceptEvaluation(a: SubscriptionRecord, b: SubscriptionRecord): boolean {
  const { lastEvaluatedAt: _a1, lastEvaluatedBy: _a2, readAt: _a3, ...restA } = a;
  const { lastEvaluatedAt: _b1, lastEvaluatedBy: _b2, readAt: _b3, ...restB } = b;
  return jsonEqual(restA, restB);
}

/** Epoch ms of the reading a record was judged from. */
function readingTime(record: SubscriptionRecord): number {
  return Date.parse(record.readAt);
}

function evaluate(
  before: SubscriptionRecord | undefined,
  verdict: SubscriptionVerdict,
  exempted: boolean,
  evaluatedBy: string,
  now: Date,
  readAt: Date,
): Evaluated {
  const at = now.toISOString();
  const status: RecordedStatus = exemptStatus(verdict.status, exempted);
  const statusChanged = before === undefined || before.status !== status;
  const wasBad = before !== undefined && isBadStatus(before.status);
  // Bounded before anything else sees it, so the record, its history entry and its alert all fit.
  const stored = boundForStorage({
    displayName: verdict.displayName,
    state: verdict.state,
    findings: verdict.findings,
    contact: verdict.contact,
    fix: verdict.fix ?? null,
  });
  const record: SubscriptionRecord = {
    subscriptionId: verdict.subscriptionId.toLowerCase(),
    displayName: stored.displayName,
    state: stored.state,
    status,
    failedRules: failedRules(verdict.findings),
    findings: stored.findings,
    contact: stored.contact,
    source: verdict.source,
    firstSeenAt: before?.firstSeenAt ?? at,
    lastEvaluatedAt: at,
    statusSince: statusChanged ? at : before.statusSince,
    noncompliantSince: isBadStatus(status) ? (wasBad ? (before.noncompliantSince ?? before.statusSince) : at) : null,
    lastAlertedAt: before?.lastAlertedAt ?? null,
    lastEvaluatedBy: evaluatedBy,
    readAt: readAt.toISOString(),
    fix: stored.fix,
    omitted: stored.omitted,
    lastRemediation: before?.lastRemediation ?? null,
  };
  return { record, change: statusChanged ? statusChange(before, record) : null };
}

function markGone(before: SubscriptionRecord, evaluatedBy: string, now: Date, listedAt: Date): Evaluated {
  const at = now.toISOString();
  // The last findings and contact stay: they are what was last known. The fix does not: there is
  // no subscription left to write it to.
  const record: SubscriptionRecord = {
    ...before,
    status: 'gone',
    statusSince: at,
    noncompliantSince: null,
    lastEvaluatedAt: at,
    lastEvaluatedBy: evaluatedBy,
    readAt: listedAt.toISOString(),
    fix: null,
  };
  return { record, change: statusChange(before, record) };
}

function statusChange(before: SubscriptionRecord | undefined, after: SubscriptionRecord): StatusChange {
  return {
    subscriptionId: after.subscriptionId,
    at: after.lastEvaluatedAt,
    from: before?.status ?? null,
    to: after.status,
    findingsBefore: before?.findings ?? [],
    findingsAfter: after.findings,
    evaluatedBy: after.lastEvaluatedBy,
  };
}

/** Read by someone else after this run started reading: newer than anything the run knows of it. */
function newerThanRun(record: SubscriptionRecord, input: Pick<StateUpdateInput, 'runId' | 'runStartedAt'>): boolean {
  return record.lastEvaluatedBy !== input.runId && readingTime(record) > input.runStartedAt.getTime();
}

/** Deep equality of JSON values (key order does not matter; `undefined` members are absent). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, index) => jsonEqual(item, b[index]));
  }
  const entriesA = Object.entries(a).filter(([, value]) => value !== undefined);
  const entriesB = Object.entries(b).filter(([, value]) => value !== undefined);
  if (entriesA.length !== entriesB.length) return false;
  const objectB = b as Record<string, unknown>;
  return entriesA.every(([key, value]) => Object.hasOwn(objectB, key) && jsonEqual(value, objectB[key]));
}
