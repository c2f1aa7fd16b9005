/**
 * contact-watch's memory in Azure Table Storage: the current state of each subscription, its
 * status history, the scan runs and the exemptions. The rules of what changes live in
 * src/core/state-transitions.ts; this file loads, calls them and writes what they return —
 * only what changed, in transactions of at most 100 operations within one partition, every
 * update conditional on the ETag it read, re-read and re-planned when another writer got there
 * first. README.md beside this file documents the tables and this API.
 */
import { odata, RestError, type TableClient, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import pLimit from 'p-limit';
import { applyExemptions, parseExemption, type ExemptionValidationOptions } from '../../core/exemptions.js';
import type { Finding, ScanStatus, SubscriptionVerdict } from '../../core/model.js';
import { cut, minimalForStorage } from '../../core/record-bounds.js';
import { RECORDED_STATUSES, type Exemption, type RecordedStatus, type RecordedSubscription, type StatusChange, type SubscriptionRecord } from '../../core/state-model.js';
import {
  applyEventEvaluation,
  jsonEqual,
  planStateUpdate,
  withLatestCompleteRun,
  type CompleteRunMark,
} from '../../core/state-transitions.js';
import { connectTables, type TableConnection, type TableConnectionOptions, type TableStorageTarget } from './connection.js';
import { DEFAULT_RETENTION, pruneExpired, type PruneOutcome, type RetentionSettings } from './retention.js';
import {
  EMPTY_COUNTS,
  EXEMPTION_PARTITION,
  LATEST_COMPLETE_RUN_MARK,
  MARK_PARTITION,
  PRUNED_MARK,
  SCAN_RUN_PARTITION,
  SCHEMA_VERSION,
  STATE_ROW_RANGE,
  SUBSCRIPTION_PARTITIONS,
  TABLE_SUFFIXES,
  decodeExemption,
  decodeScanRun,
  decodeStatusChange,
  decodeSubscription,
  encodeExemption,
  encodeScanRun,
  encodeStatusChange,
  encodeSubscription,
  historyRange,
  historyRowKey,
  scanRunRowKey,
  stateRowKey,
  subscriptionPartition,
  type StoredEntity,
  type StoredScanRun,
} from './entities.js';

export type { StoredScanRun } from './entities.js';

/** Table Storage's limits for one entity group transaction. */
export const MAX_TRANSACTION_OPERATIONS = 100;
const MAX_TRANSACTION_BYTES = 3_500_000; // of the 4 MiB payload limit, leaving room for the envelope

export interface StateStoreOptions extends TableConnectionOptions {
  /**
   * How often a write that met a concurrent change (412, or 409/404 on create/update) is re-read,
   * re-planned and tried again before giving up. Default 5.
   */
  maxConflictRetries?: number;
  /** Partitions written at the same time. Default 4. */
  writeConcurrency?: number;
  /** The clock; tests pass a controllable one. Default `() => new Date()`. */
  clock?: () => Date;
  /** How long history, departed subscriptions and scan runs are kept (see retention.ts). */
  retention?: RetentionSettings;
  /** Rows one `pruneExpired` call deletes at most. Default 1,000. */
  maxPruneDeletes?: number;
}

/** Pruning runs at most this often, unless the last call stopped at its bound. */
const PRUNE_EVERY_MS = 24 * 3_600_000;

export interface RunInit {
  scanId: string;
  /** What started it: `cli`, `timer`, `http`, ... */
  trigger: string;
  /** When the scan started reading; default now. */
  startedAt?: Date;
}

export interface RunHandle {
  readonly scanId: string;
  readonly trigger: string;
  readonly startedAt: Date;
  /** The scan row's key (inverted start time). */
  readonly rowKey: string;
}

export interface RunResult {
  status: ScanStatus;
  /** `tenant`: every subscription the identity can see; `subset`: named subscriptions or groups. */
  scope: 'tenant' | 'subset';
  /**
   * True when the tenant's subscription listing was read in full, whatever became of the contact
   * reads. With scope `tenant`, only then is a stored subscription without a verdict marked gone.
   */
  subscriptionListComplete: boolean;
  /** The verdicts as the rules judged them, before exemptions (the store applies those). */
  verdicts: readonly SubscriptionVerdict[];
  /** The subscriptions the run obtained an answer for (see StateUpdateInput.readSubscriptionIds). */
  readSubscriptionIds: Iterable<string>;
  resourceGraphRequests?: number;
  securityContactsCalls?: number;
}

export interface RecordedRun {
  run: StoredScanRun;
  /** The subscription records the run wrote (only changed ones). */
  records: SubscriptionRecord[];
  /** The status changes it appended to the history. */
  changes: StatusChange[];
  /**
   * Subscriptions whose record Table Storage refused, even cut down to its status and rule
   * results. The run stands for every other subscription; these keep what was stored before.
   */
  refused: RefusedWrite[];
}

export type RecordedEvaluation =
  | {
      /** The record as stored now (the newer one, when this evaluation was superseded). */
      record: SubscriptionRecord;
      change: StatusChange | null;
      /** True when the stored record was judged from a later reading and was left as it was. */
      superseded: boolean;
      refused?: undefined;
    }
  /** Table Storage refused the record, even in its minimal form; what was stored before stays. */
  | { record: undefined; change: null; superseded: false; refused: string };

/** What the store sent, for progress lines and tests. */
export interface StateStoreStats {
  transactions: number;
  transactionOperations: number;
  conflictRetries: number;
}

/** A write that could not be completed; for a run, what it had written was undone where possible. */
export class StateWriteError extends Error {
  override name = 'StateWriteError';
}

/** A concurrent writer kept winning until the retries ran out. */
export class WriteConflictError extends StateWriteError {
  override name = 'WriteConflictError';
}

export interface StateStore {
  readonly connection: TableConnection;
  readonly stats: StateStoreStats;

  /** Every stored subscription (gone ones included), sorted by id; optionally only one status. */
  loadSubscriptions(filter?: { status?: RecordedStatus }): Promise<SubscriptionRecord[]>;
  getSubscription(subscriptionId: string): Promise<SubscriptionRecord | undefined>;
  /**
   * The records of these subscriptions as stored, sorted by id: point reads, so the cost does not
   * grow with the tenant. Their evaluation times are their own, not vouched for by the newest
   * complete run (what alerting needs; see getSubscription for the readers' view).
   */
  getSubscriptions(subscriptionIds: readonly string[]): Promise<SubscriptionRecord[]>;
  /** The status changes of one subscription, oldest first. */
  history(subscriptionId: string): Promise<StatusChange[]>;
  /** Every stored subscription's status, name and state by lower-case id, for a tenant scan to check its readings against. */
  recordedSubscriptions(): Promise<Map<string, RecordedSubscription>>;

  /** start scan row → evaluate → load → plan → write → finish scan row. */
  recordRun(init: RunInit & { evaluate: () => Promise<RunResult> }): Promise<RecordedRun>;
  /** Writes the scan row (outcome `running`). */
  startRun(init: RunInit): Promise<RunHandle>;
  /** Loads, plans, writes and finishes the scan row; on failure undoes its writes and marks the run failed. */
  finishRun(handle: RunHandle, result: RunResult): Promise<RecordedRun>;
  /** Marks the run failed (the scan itself could not finish); nothing else is written. */
  failRun(handle: RunHandle, error: unknown): Promise<StoredScanRun>;
  /** Newest first. */
  listScanRuns(limit?: number): Promise<StoredScanRun[]>;
  /** The newest run that listed the whole tenant and read every subscription it listed (one point read). */
  latestCompleteRun(): Promise<StoredScanRun | undefined>;
  /**
   * Deletes scan runs, history rows and departed subscriptions older than the retention, at most
   * `maxPruneDeletes` rows; at most once a day unless the last call stopped at that bound.
   * Returns what it deleted, or null when it was not due.
   */
  pruneExpired(): Promise<PruneOutcome | null>;

  /**
   * One subscription read fresh (Event Grid trigger, `check`), read at `readAt`: written with its
   * history, unless the stored record was judged from a later reading (then left as it is).
   */
  recordEvaluation(verdict: SubscriptionVerdict, options: { evaluatedBy: string; readAt: Date }): Promise<RecordedEvaluation>;
  /** Sets lastAlertedAt (never moving it back) on each existing subscription; returns the updated records. */
  markAlerted(subscriptionIds: readonly string[], at: Date): Promise<SubscriptionRecord[]>;
  /**
   * Read-modify-write of one existing subscription, retried on 412. `mutate` returns the new
   * record, or undefined to leave it. It may not change the id or the status (status changes go
   * through runs and evaluations, which keep the history). Returns the stored record.
   */
  updateSubscription(
    subscriptionId: string,
    mutate: (current: SubscriptionRecord) => SubscriptionRecord | undefined | Promise<SubscriptionRecord | undefined>,
  ): Promise<SubscriptionRecord | undefined>;

  /** Validates (see core/exemptions.ts) and stores; replaces an earlier exemption of the subscription. */
  putExemption(request: unknown, options?: ExemptionValidationOptions): Promise<Exemption>;
  getExemption(subscriptionId: string): Promise<Exemption | undefined>;
  /** True when there was one. */
  removeExemption(subscriptionId: string): Promise<boolean>;
  /** Every exemption, expired ones included (use isExemptionActive), sorted by subscription id. */
  listExemptions(): Promise<Exemption[]>;
}

/**
 * Opens the store. `connection` is a CONTACT_WATCH_STORAGE value (connection string,
 * `UseDevelopmentStorage=true` or an https table endpoint) or a parsed target. Nothing is sent
 * until the first call, which creates the tables if they do not exist.
 */
export function openStateStore(connection: string | TableStorageTarget, options: StateStoreOptions = {}): StateStore {
  return new TableStateStore(connectTables(connection, options), options);
}

interface Current {
  record: SubscriptionRecord;
  etag: string;
}

interface Plan {
  records: SubscriptionRecord[];
  changes: StatusChange[];
}

/** Plans the writes for `ids` of one partition from their current state (re-called after a conflict). */
type Planner = (current: ReadonlyMap<string, Current>, ids: ReadonlySet<string>) => Plan | Promise<Plan>;

/** One subscription's write as committed: enough to undo it. */
interface CommittedWrite {
  partitionKey: string;
  before: Current | undefined;
  after: SubscriptionRecord;
  etag: string | undefined;
  change: StatusChange | undefined;
  historyEtag: string | undefined;
}

interface Unit {
  id: string;
  before: Current | undefined;
  after: SubscriptionRecord;
  change: StatusChange | undefined;
  actions: TransactionAction[];
  bytes: number;
  /** True for the minimal record tried after Table Storage refused the whole one. */
  minimal: boolean;
}

/** A subscription whose record Table Storage refused even in its minimal form. */
export interface RefusedWrite {
  subscriptionId: string;
  reason: string;
}

/** What the writer did: the writes committed (a failed run undoes them) and those refused. */
interface WriteLog {
  committed: CommittedWrite[];
  refused: RefusedWrite[];
}

class TableStateStore implements StateStore {
  readonly stats: StateStoreStats = { transactions: 0, transactionOperations: 0, conflictRetries: 0 };
  private readonly maxConflictRetries: number;
  private readonly writeConcurrency: number;
  private readonly clock: () => Date;
  private readonly retention: RetentionSettings;
  private readonly maxPruneDeletes: number;

  constructor(
    readonly connection: TableConnection,
    options: StateStoreOptions,
  ) {
    this.maxConflictRetries = options.maxConflictRetries ?? 5;
    this.writeConcurrency = options.writeConcurrency ?? 4;
    this.clock = options.clock ?? (() => new Date());
    this.retention = options.retention ?? DEFAULT_RETENTION;
    this.maxPruneDeletes = options.maxPruneDeletes ?? 1_000;
  }

  private subscriptions(): Promise<TableClient> {
    return this.connection.table(TABLE_SUFFIXES.subscriptions);
  }
  private scanRuns(): Promise<TableClient> {
    return this.connection.table(TABLE_SUFFIXES.scanRuns);
  }
  private exemptions(): Promise<TableClient> {
    return this.connection.table(TABLE_SUFFIXES.exemptions);
  }
  /** Created with the others so the layout exists; the scan lease (scan-lease.ts) uses it. */
  private async ensureLeases(): Promise<void> {
    await this.connection.table(TABLE_SUFFIXES.leases);
  }

  // ---- reading ------------------------------------------------------------------------------

  async loadSubscriptions(filter: { status?: RecordedStatus } = {}): Promise<SubscriptionRecord[]> {
    const [current, mark] = await Promise.all([this.loadCurrent(), this.completeRunMark()]);
    return [...current.values()]
      .map((entry) => withLatestCompleteRun(entry.record, mark))
      .filter((record) => filter.status === undefined || record.status === filter.status)
      .sort((a, b) => compare(a.subscriptionId, b.subscriptionId));
  }

  async getSubscription(subscriptionId: string): Promise<SubscriptionRecord | undefined> {
    const [current, mark] = await Promise.all([this.readCurrent(subscriptionId.toLowerCase()), this.completeRunMark()]);
    return current && withLatestCompleteRun(current.record, mark);
  }

  async getSubscriptions(subscriptionIds: readonly string[]): Promise<SubscriptionRecord[]> {
    const current = await this.readMany(new Set(subscriptionIds.map((id) => id.toLowerCase())));
    return [...current.values()].map((entry) => entry.record).sort((a, b) => compare(a.subscriptionId, b.subscriptionId));
  }

  async history(subscriptionId: string): Promise<StatusChange[]> {
    const id = subscriptionId.toLowerCase();
    const client = await this.subscriptions();
    const { from, to } = historyRange(id);
    const filter = odata`PartitionKey eq ${subscriptionPartition(id)} and RowKey ge ${from} and RowKey lt ${to}`;
    const changes: StatusChange[] = [];
    for await (const entity of client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
      changes.push(decodeStatusChange(client.tableName, entity));
    }
    return changes;
  }

  async recordedSubscriptions(): Promise<Map<string, RecordedSubscription>> {
    const rows = await this.stateRows(['subscriptionId', 'status', 'displayName', 'state'], (row): [string, RecordedSubscription] | undefined => {
      const status = RECORDED_STATUSES.find((known) => known === row['status']);
      const { subscriptionId, displayName, state } = row;
      if (typeof subscriptionId !== 'string' || !status) return undefined;
      return [subscriptionId, { status, displayName: typeof displayName === 'string' ? displayName : '', state: typeof state === 'string' ? state : 'Unknown' }];
    });
    return new Map(rows);
  }

  /** The state rows of all 16 partitions, with their ETags. */
  private async loadCurrent(): Promise<Map<string, Current>> {
    const client = await this.subscriptions();
    const rows = await this.stateRows(undefined, (entity) => current(client.tableName, entity));
    return new Map(rows.map((entry) => [entry.record.subscriptionId, entry]));
  }

  /** Every state row (only `select`'s properties, when given), read as `read` makes of it; the 16 partitions side by side. */
  private async stateRows<T>(select: string[] | undefined, read: (row: TableEntityResult<Record<string, unknown>>) => T | undefined): Promise<T[]> {
    const client = await this.subscriptions();
    const limit = pLimit(this.writeConcurrency);
    const partitions = await Promise.all(
      SUBSCRIPTION_PARTITIONS.map((partitionKey) =>
        limit(async () => {
          const filter = odata`PartitionKey eq ${partitionKey} and RowKey ge ${STATE_ROW_RANGE.from} and RowKey lt ${STATE_ROW_RANGE.to}`;
          const rows: T[] = [];
          for await (const row of client.listEntities<Record<string, unknown>>({ queryOptions: { filter, ...(select ? { select } : {}) } })) {
            const value = read(row);
            if (value !== undefined) rows.push(value);
          }
          return rows;
        }),
      ),
    );
    return partitions.flat();
  }

  private async readCurrent(id: string): Promise<Current | undefined> {
    const client = await this.subscriptions();
    try {
      return current(client.tableName, await client.getEntity<Record<string, unknown>>(subscriptionPartition(id), stateRowKey(id)));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  private async readMany(ids: Iterable<string>): Promise<Map<string, Current>> {
    const limit = pLimit(8);
    const found = await Promise.all([...ids].map((id) => limit(() => this.readCurrent(id))));
    return new Map(found.filter((entry): entry is Current => entry !== undefined).map((entry) => [entry.record.subscriptionId, entry]));
  }

  private async completeRunMark(): Promise<CompleteRunMark | undefined> {
    const run = await this.latestCompleteRun();
    return run?.evaluatedAt ? { scanId: run.scanId, startedAt: run.startedAt, evaluatedAt: run.evaluatedAt } : undefined;
  }

  // ---- scan runs ------------------------------------------------------------------------------

  async recordRun(init: RunInit & { evaluate: () => Promise<RunResult> }): Promise<RecordedRun> {
    const handle = await this.startRun(init);
    let result: RunResult;
    try {
      result = await init.evaluate();
    } catch (error) {
      await this.failRun(handle, error).catch(() => undefined);
      throw error;
    }
    return this.finishRun(handle, result);
  }

  async startRun(init: RunInit): Promise<RunHandle> {
    const [client] = await Promise.all([this.scanRuns(), this.ensureLeases(), this.subscriptions(), this.exemptions()]);
    const startedAt = init.startedAt ?? this.clock();
    const handle: RunHandle = { scanId: init.scanId, trigger: init.trigger, startedAt, rowKey: scanRunRowKey(startedAt, init.scanId) };
    await client.createEntity(encodeScanRun(runRow(handle, { outcome: 'running' }), handle.rowKey));
    return handle;
  }

  async failRun(handle: RunHandle, error: unknown): Promise<StoredScanRun> {
    const client = await this.scanRuns();
    const finishedAt = this.clock();
    const run = runRow(handle, {
      outcome: 'failed',
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - handle.startedAt.getTime(),
      error: describeError(error),
    });
    await client.upsertEntity(encodeScanRun(run, handle.rowKey), 'Replace');
    return run;
  }

  async finishRun(handle: RunHandle, result: RunResult): Promise<RecordedRun> {
    const now = this.clock();
    const writes: WriteLog = { committed: [], refused: [] };
    const { committed } = writes;
    try {
      const [current, exemptions, mark] = await Promise.all([this.loadCurrent(), this.listExemptions(), this.completeRunMark()]);
      const readSubscriptionIds = new Set([...result.readSubscriptionIds].map((id) => id.toLowerCase()));
      const listingComplete = result.scope === 'tenant' && result.subscriptionListComplete && result.status !== 'failed';
      const verdictsById = new Map(result.verdicts.map((verdict) => [verdict.subscriptionId.toLowerCase(), verdict]));
      const input = {
        listingComplete,
        readSubscriptionIds,
        exemptions,
        runId: handle.scanId,
        runStartedAt: handle.startedAt,
        now,
      };
      // The whole plan first: it refuses bad input (an `exempt` verdict, a duplicate) before any
      // write, and names the partitions that have anything to write.
      // Records as of the newest complete run: a run that started later read every one of them,
      // so this run's older readings replace none (whether or not that run wrote anything).
      const whole = planStateUpdate({ ...input, previous: records(current, mark), verdicts: result.verdicts });
      const plan: Planner = (state, ids) =>
        planStateUpdate({
          ...input,
          previous: records(state, mark, ids),
          verdicts: [...ids].flatMap((id) => verdictsById.get(id) ?? []),
        });

      const changedPartitions = new Set(whole.records.map((record) => subscriptionPartition(record.subscriptionId)));
      const idsByPartition = new Map<string, Set<string>>();
      for (const id of [...current.keys(), ...verdictsById.keys()]) {
        const partitionKey = subscriptionPartition(id);
        if (!changedPartitions.has(partitionKey)) continue;
        idsByPartition.set(partitionKey, (idsByPartition.get(partitionKey) ?? new Set<string>()).add(id));
      }
      const limit = pLimit(this.writeConcurrency);
      const outcomes = await Promise.allSettled(
        [...idsByPartition].map(([partitionKey, ids]) => limit(() => this.writePartition(partitionKey, ids, current, plan, writes))),
      );
      const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      if (failure) throw failure.reason;
      // A complete run vouches for the evaluation time of every record it did not write (see
      // withLatestCompleteRun): it listed the whole tenant, read every subscription it listed, and
      // stored what it read. A refused record keeps an older reading, which nothing may vouch for.
      const complete = listingComplete && [...verdictsById.keys()].every((id) => readSubscriptionIds.has(id)) && writes.refused.length === 0;

      const finishedAt = this.clock();
      const run = runRow(handle, {
        outcome: result.status,
        finishedAt: finishedAt.toISOString(),
        durationMs: finishedAt.getTime() - handle.startedAt.getTime(),
        complete,
        evaluatedAt: now.toISOString(),
        counts: countStatuses(applyExemptions(result.verdicts, exemptions, now)),
        resourceGraphRequests: result.resourceGraphRequests ?? 0,
        securityContactsCalls: result.securityContactsCalls ?? 0,
        subscriptionWrites: committed.length,
        historyWrites: committed.filter((write) => write.change).length,
        refusedWrites: writes.refused.length,
        ...(writes.refused.length > 0 ? { error: describeRefused(writes.refused) } : {}),
      });
      await (await this.scanRuns()).upsertEntity(encodeScanRun(run, handle.rowKey), 'Replace');
      // Outside the undo: without the mark, readers only show older evaluation times, the safe side.
      if (run.complete) await this.markLatestCompleteRun(run, handle.rowKey).catch(() => undefined);
      return {
        run,
        records: committed.map((write) => write.after).sort((a, b) => compare(a.subscriptionId, b.subscriptionId)),
        changes: committed.flatMap((write) => write.change ?? []).sort((a, b) => compare(a.subscriptionId, b.subscriptionId)),
        refused: [...writes.refused].sort((a, b) => compare(a.subscriptionId, b.subscriptionId)),
      };
    } catch (error) {
      const undo = await this.undo(committed);
      const message =
        `recording scan ${handle.scanId} failed: ${describeError(error)}` +
        (committed.length === 0
          ? '; nothing had been written'
          : `; of the ${committed.length} subscription writes already made, ${undo.undone} were undone` +
            (undo.kept ? `, ${undo.kept} kept because another writer has changed them since` : '') +
            (undo.failed ? `, ${undo.failed} could not be undone (each holds what this run read)` : ''));
      await this.failRun(handle, new Error(message)).catch(() => undefined);
      throw new StateWriteError(message, { cause: error });
    }
  }

  async listScanRuns(limit = 20): Promise<StoredScanRun[]> {
    const client = await this.scanRuns();
    const filter = odata`PartitionKey eq ${SCAN_RUN_PARTITION}`;
    const runs: StoredScanRun[] = [];
    for await (const page of client.listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize: Math.min(limit, 1000) })) {
      for (const entity of page) {
        runs.push(decodeScanRun(client.tableName, entity));
        if (runs.length >= limit) return runs;
      }
    }
    return runs;
  }

  async latestCompleteRun(): Promise<StoredScanRun | undefined> {
    const client = await this.scanRuns();
    // Kept as a mark beside the runs, so that reading it costs one point read however long the
    // run history is. (A store that has no mark yet gets one at its next complete run.)
    const mark = await this.readMark(client, LATEST_COMPLETE_RUN_MARK);
    return mark && decodeScanRun(client.tableName, mark);
  }

  /** Moves the mark to `run` unless it already names a run that started later; ETag-checked. */
  private async markLatestCompleteRun(run: StoredScanRun, rowKey: string): Promise<void> {
    const client = await this.scanRuns();
    const entity = { ...encodeScanRun(run, LATEST_COMPLETE_RUN_MARK, MARK_PARTITION), runRowKey: rowKey };
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const current = await this.readMark(client, LATEST_COMPLETE_RUN_MARK);
      if (current && Date.parse(String(current['startedAt'])) >= Date.parse(run.startedAt)) return;
      try {
        if (current) await client.updateEntity(entity, 'Replace', { etag: current.etag });
        else await client.createEntity(entity);
        return;
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
    }
  }

  private async readMark(client: TableClient, rowKey: string): Promise<TableEntityResult<Record<string, unknown>> | undefined> {
    try {
      return await client.getEntity<Record<string, unknown>>(MARK_PARTITION, rowKey);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async pruneExpired(): Promise<PruneOutcome | null> {
    const client = await this.scanRuns();
    const now = this.clock();
    const last = await this.readMark(client, PRUNED_MARK);
    if (last && last['complete'] === true && now.getTime() - Date.parse(String(last['prunedAt'])) < PRUNE_EVERY_MS) return null;
    const outcome = await pruneExpired({ subscriptions: await this.subscriptions(), scanRuns: client }, this.retention, now, this.maxPruneDeletes);
    await client.upsertEntity(
      { partitionKey: MARK_PARTITION, rowKey: PRUNED_MARK, schemaVersion: SCHEMA_VERSION, prunedAt: now.toISOString(), complete: outcome.complete },
      'Replace',
    );
    return outcome;
  }

  // ---- single evaluations and read-modify-writes ------------------------------------------------

  async recordEvaluation(verdict: SubscriptionVerdict, options: { evaluatedBy: string; readAt: Date }): Promise<RecordedEvaluation> {
    const id = verdict.subscriptionId.toLowerCase();
    const [exemption, mark] = await Promise.all([this.getExemption(id), this.completeRunMark()]);
    const writes: WriteLog = { committed: [], refused: [] };
    let superseded: SubscriptionRecord | undefined;
    // Re-planned on every conflict, so a newer reading written meanwhile is seen and kept.
    const plan: Planner = (state) => {
      const stored = state.get(id)?.record;
      const evaluation = applyEventEvaluation({
        // As of the newest complete run, whose reading is later than the record's own if it wrote nothing.
        previous: stored && withLatestCompleteRun(stored, mark),
        verdict,
        exemptions: exemption ? [exemption] : [],
        evaluatedBy: options.evaluatedBy,
        readAt: options.readAt,
        now: this.clock(),
      });
      if (evaluation.outcome === 'superseded') {
        superseded = evaluation.record;
        return { records: [], changes: [] };
      }
      superseded = undefined;
      return { records: [evaluation.record], changes: evaluation.change ? [evaluation.change] : [] };
    };
    const ids = new Set([id]);
    await this.writePartition(subscriptionPartition(id), ids, await this.readMany(ids), plan, writes);
    if (superseded) return { record: superseded, change: null, superseded: true };
    const write = writes.committed[0];
    if (write) return { record: write.after, change: write.change ?? null, superseded: false };
    // Refused even in its minimal form: a retry cannot mend that, so it is reported, not thrown.
    if (writes.refused[0]) return { record: undefined, change: null, superseded: false, refused: writes.refused[0].reason };
    throw new StateWriteError(`the evaluation of ${id} was not written`);
  }

  async markAlerted(subscriptionIds: readonly string[], at: Date): Promise<SubscriptionRecord[]> {
    const stamp = at.toISOString();
    return this.updateMany(subscriptionIds, (record) =>
      record.lastAlertedAt !== null && Date.parse(record.lastAlertedAt) >= at.getTime() ? undefined : { ...record, lastAlertedAt: stamp },
    );
  }

  async updateSubscription(
    subscriptionId: string,
    mutate: (current: SubscriptionRecord) => SubscriptionRecord | undefined | Promise<SubscriptionRecord | undefined>,
  ): Promise<SubscriptionRecord | undefined> {
    const id = subscriptionId.toLowerCase();
    const [written] = await this.updateMany([id], mutate);
    return written ?? (await this.readCurrent(id))?.record;
  }

  private async updateMany(
    subscriptionIds: readonly string[],
    mutate: (current: SubscriptionRecord) => SubscriptionRecord | undefined | Promise<SubscriptionRecord | undefined>,
  ): Promise<SubscriptionRecord[]> {
    const byPartition = new Map<string, Set<string>>();
    for (const raw of subscriptionIds) {
      const id = raw.toLowerCase();
      const partitionKey = subscriptionPartition(id);
      byPartition.set(partitionKey, (byPartition.get(partitionKey) ?? new Set()).add(id));
    }
    const plan: Planner = async (state, ids) => {
      const records: SubscriptionRecord[] = [];
      for (const id of ids) {
        const before = state.get(id)?.record;
        if (!before) continue;
        const after = await mutate(structuredClone(before));
        if (after === undefined || jsonEqual(after, before)) continue;
        if (after.subscriptionId.toLowerCase() !== id) throw new StateWriteError(`updateSubscription may not change the id of ${id}`);
        if (after.status !== before.status) {
          throw new StateWriteError(`updateSubscription may not change the status of ${id}; record an evaluation instead`);
        }
        records.push(after);
      }
      return { records, changes: [] };
    };
    const writes: WriteLog = { committed: [], refused: [] };
    const limit = pLimit(this.writeConcurrency);
    await Promise.all(
      [...byPartition].map(([partitionKey, ids]) => limit(async () => this.writePartition(partitionKey, ids, await this.readMany(ids), plan, writes))),
    );
    return writes.committed.map((write) => write.after);
  }

  // ---- exemptions ---------------------------------------------------------------------------

  async putExemption(request: unknown, options: ExemptionValidationOptions = {}): Promise<Exemption> {
    const exemption = parseExemption(request, this.clock(), options);
    const client = await this.exemptions();
    await client.upsertEntity(encodeExemption(exemption), 'Replace');
    return exemption;
  }

  async getExemption(subscriptionId: string): Promise<Exemption | undefined> {
    const client = await this.exemptions();
    try {
      return decodeExemption(client.tableName, await client.getEntity(EXEMPTION_PARTITION, subscriptionId.toLowerCase()));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async removeExemption(subscriptionId: string): Promise<boolean> {
    const client = await this.exemptions();
    try {
      await client.deleteEntity(EXEMPTION_PARTITION, subscriptionId.toLowerCase());
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw error;
    }
  }

  async listExemptions(): Promise<Exemption[]> {
    const client = await this.exemptions();
    const filter = odata`PartitionKey eq ${EXEMPTION_PARTITION}`;
    const exemptions: Exemption[] = [];
    for await (const entity of client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
      exemptions.push(decodeExemption(client.tableName, entity));
    }
    return exemptions.sort((a, b) => compare(a.subscriptionId, b.subscriptionId));
  }

  // ---- the writer ---------------------------------------------------------------------------

  /**
   * Plans and writes the subscriptions `ids` of one partition. Each subscription's state row and
   * its history row go in the same transaction, so a status change and its history entry are
   * stored together or not at all. When a transaction fails because another writer changed an
   * entity since it was read (412), or created/deleted it (409/404), the transactions already
   * committed stand, and the subscriptions of the failed one and of those not yet sent are read
   * again, planned again and written again — at most maxConflictRetries times.
   *
   * One subscription's data never fails the others: when Table Storage refuses a transaction's
   * content (400/413), its subscriptions are written one by one; one that is refused alone is
   * written again as its minimal record (status, rule results, dates), and one refused even so is
   * reported in `writes.refused` and left as it was stored.
   * Every committed write is pushed on `writes.committed` as it happens (a run undoes them on failure).
   */
  private async writePartition(
    partitionKey: string,
    ids: ReadonlySet<string>,
    initial: ReadonlyMap<string, Current>,
    plan: Planner,
    writes: WriteLog,
  ): Promise<void> {
    const client = await this.subscriptions();
    let pending = new Set(ids);
    let state: ReadonlyMap<string, Current> = initial;
    for (let attempt = 0; ; attempt += 1) {
      const queue = pack(buildUnits(await plan(state, pending), state, writes.refused));
      if (queue.length === 0) return;
      let conflict: { error: unknown; unsent: Unit[] } | undefined;
      while (queue.length > 0) {
        const transaction = queue.shift()!;
        try {
          await this.submit(client, partitionKey, transaction, writes.committed);
        } catch (error) {
          if (isConflict(error)) {
            conflict = { error, unsent: [...transaction, ...queue.flat()] };
            break;
          }
          if (!isRefused(error)) throw error;
          if (transaction.length > 1) {
            queue.unshift(...transaction.map((unit) => [unit]));
            continue;
          }
          const unit = transaction[0]!;
          const minimal = unit.minimal ? undefined : minimalUnit(unit, describeError(error), writes.refused);
          if (minimal) queue.unshift([minimal]);
          else if (unit.minimal) writes.refused.push({ subscriptionId: unit.id, reason: describeError(error) });
        }
      }
      if (!conflict) return;
      if (attempt >= this.maxConflictRetries) {
        throw new WriteConflictError(
          `partition ${partitionKey}: other writers kept changing the same subscriptions; gave up after ${attempt + 1} attempts (${describeError(conflict.error)})`,
          { cause: conflict.error },
        );
      }
      this.stats.conflictRetries += 1;
      pending = new Set(conflict.unsent.map((unit) => unit.id));
      state = await this.readMany(pending);
      if (attempt > 0) await delay(Math.min(1_000, 25 * 2 ** attempt) * (0.5 + Math.random()));
    }
  }

  /** Sends one transaction and records what it committed. */
  private async submit(client: TableClient, partitionKey: string, transaction: readonly Unit[], committed: CommittedWrite[]): Promise<void> {
    const actions = transaction.flatMap((unit) => unit.actions);
    this.stats.transactions += 1;
    this.stats.transactionOperations += actions.length;
    const response = await client.submitTransaction(actions);
    let position = 0;
    for (const unit of transaction) {
      committed.push({
        partitionKey,
        before: unit.before,
        after: unit.after,
        etag: response.subResponses[position]?.etag,
        change: unit.change,
        historyEtag: unit.change ? response.subResponses[position + 1]?.etag : undefined,
      });
      position += unit.actions.length;
    }
  }

  /**
   * Puts back what a failed run wrote, each subscription conditional on the ETag its write
   * returned: where another writer has changed it since, its change stands (and our history row
   * with it, since theirs builds on it). A restored record and the removal of its history row go
   * in one transaction.
   */
  private async undo(committed: readonly CommittedWrite[]): Promise<{ undone: number; kept: number; failed: number }> {
    const tally = { undone: 0, kept: 0, failed: 0 };
    if (committed.length === 0) return tally;
    const client = await this.subscriptions();
    const limit = pLimit(8);
    await Promise.all(
      committed.map((write) =>
        limit(async () => {
          const id = write.after.subscriptionId;
          const rowKey = stateRowKey(id);
          try {
            const etag = write.etag ?? (await this.etagIfUnchanged(write));
            if (etag === undefined) {
              tally.kept += 1;
              return;
            }
            const historyDelete: TransactionAction[] = write.change
              ? [['delete', { partitionKey: write.partitionKey, rowKey: historyRowKey(write.change) }]]
              : [];
            if (write.before) {
              await client.submitTransaction([['update', encodeSubscription(write.before.record), 'Replace', { etag }], ...historyDelete]);
            } else {
              // A conditional delete cannot be batched; the history row of a first sighting follows it.
              await client.deleteEntity(write.partitionKey, rowKey, { etag });
              if (write.change) await client.deleteEntity(write.partitionKey, historyRowKey(write.change));
            }
            tally.undone += 1;
          } catch (error) {
            if (isConflict(error)) tally.kept += 1;
            else tally.failed += 1;
          }
        }),
      ),
    );
    return tally;
  }

  private async etagIfUnchanged(write: CommittedWrite): Promise<string | undefined> {
    const now = await this.readCurrent(write.after.subscriptionId);
    return now && jsonEqual(now.record, write.after) ? now.etag : undefined;
  }
}

/** The records of `state` (or of `only`) as of the newest complete run (withLatestCompleteRun). */
function records(state: ReadonlyMap<string, Current>, mark: CompleteRunMark | undefined, only?: ReadonlySet<string>): Map<string, SubscriptionRecord> {
  const result = new Map<string, SubscriptionRecord>();
  for (const [id, entry] of state) if (!only || only.has(id)) result.set(id, withLatestCompleteRun(entry.record, mark));
  return result;
}

function current(table: string, entity: TableEntityResult<Record<string, unknown>>): Current {
  return { record: decodeSubscription(table, entity), etag: entity.etag };
}

function buildUnits(plan: Plan, state: ReadonlyMap<string, Current>, refused: RefusedWrite[]): Unit[] {
  const changes = new Map(plan.changes.map((change) => [change.subscriptionId.toLowerCase(), change]));
  const units: Unit[] = [];
  for (const after of plan.records) {
    const id = after.subscriptionId.toLowerCase();
    const before = state.get(id);
    const change = changes.get(id);
    try {
      units.push(unitFor(id, before, after, change, false));
    } catch (error) {
      // A record that cannot even be encoded is written in its minimal form, as a refused one is.
      const unit = minimalUnit({ id, before, after, change }, describeError(error), refused);
      if (unit) units.push(unit);
    }
  }
  return units;
}

function unitFor(id: string, before: Current | undefined, after: SubscriptionRecord, change: StatusChange | undefined, minimal: boolean): Unit {
  const entity = encodeSubscription(after);
  const actions: TransactionAction[] = [before ? ['update', entity, 'Replace', { etag: before.etag }] : ['create', entity]];
  const entities: StoredEntity[] = [entity];
  if (change) {
    const history = encodeStatusChange(change);
    actions.push(['create', history]);
    entities.push(history);
  }
  return { id, before, after, change, actions, bytes: Buffer.byteLength(JSON.stringify(entities)), minimal };
}

/** The unit of a refused record cut down to its minimal form, or undefined (and reported) when even that cannot be built. */
function minimalUnit(
  unit: Pick<Unit, 'id' | 'before' | 'after' | 'change'>,
  reason: string,
  refused: RefusedWrite[],
): Unit | undefined {
  const after = minimalForStorage(unit.after, reason);
  const change = unit.change && { ...unit.change, findingsBefore: minimalFindings(unit.change.findingsBefore), findingsAfter: after.findings };
  try {
    return unitFor(unit.id, unit.before, after, change, true);
  } catch (error) {
    refused.push({ subscriptionId: unit.id, reason: describeError(error) });
    return undefined;
  }
}

function minimalFindings(findings: readonly Finding[]): Finding[] {
  return findings.map((finding) => ({ ...finding, message: cut(finding.message, 200) }));
}

/** Groups units into transactions of at most 100 operations and ~3.5 MB, never splitting a unit. */
function pack(units: readonly Unit[]): Unit[][] {
  const transactions: Unit[][] = [];
  let batch: Unit[] = [];
  let operations = 0;
  let bytes = 0;
  for (const unit of units) {
    if (batch.length > 0 && (operations + unit.actions.length > MAX_TRANSACTION_OPERATIONS || bytes + unit.bytes > MAX_TRANSACTION_BYTES)) {
      transactions.push(batch);
      batch = [];
      operations = 0;
      bytes = 0;
    }
    batch.push(unit);
    operations += unit.actions.length;
    bytes += unit.bytes;
  }
  if (batch.length > 0) transactions.push(batch);
  return transactions;
}

function runRow(handle: RunHandle, fields: Partial<StoredScanRun>): StoredScanRun {
  return {
    scanId: handle.scanId,
    trigger: handle.trigger,
    startedAt: handle.startedAt.toISOString(),
    finishedAt: null,
    outcome: 'running',
    counts: EMPTY_COUNTS,
    resourceGraphRequests: 0,
    securityContactsCalls: 0,
    durationMs: null,
    complete: false,
    evaluatedAt: null,
    subscriptionWrites: 0,
    historyWrites: 0,
    refusedWrites: 0,
    error: null,
    ...fields,
  };
}

function countStatuses(verdicts: readonly SubscriptionVerdict[]): StoredScanRun['counts'] {
  const counts = { ...EMPTY_COUNTS, subscriptions: verdicts.length };
  for (const verdict of verdicts) counts[verdict.status] += 1;
  return counts;
}

function statusOf(error: unknown): number | undefined {
  return error instanceof RestError ? error.statusCode : (error as { statusCode?: number } | null)?.statusCode;
}

/** 412: changed since read; 409: created since read; 404: deleted since read. */
function isConflict(error: unknown): boolean {
  const status = statusOf(error);
  return status === 412 || status === 409 || status === 404;
}

/**
 * Table Storage refused what was sent (400 InvalidInput, PropertyValueTooLarge, EntityTooLarge;
 * 413 RequestBodyTooLarge): sending it again cannot help, unlike a 408, 429 or 5xx.
 */
function isRefused(error: unknown): boolean {
  const status = statusOf(error);
  return status === 400 || status === 413;
}

/** For the run row: how many subscriptions were refused, naming the first few and why. */
function describeRefused(refused: readonly RefusedWrite[]): string {
  const named = refused.slice(0, 5).map((write) => `${write.subscriptionId} (${write.reason})`);
  const more = refused.length > named.length ? ` and ${refused.length - named.length} more` : '';
  return `Table Storage refused the record of ${refused.length} subscription(s), which keep what was stored before: ${named.join('; ')}${more}`;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] ?? error.name : String(error);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
