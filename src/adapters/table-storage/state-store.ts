/**
 * contact-watch's memory in Azure Table Storage, behind the StateStore port (src/scan/ports.ts):
 * the current state of each subscription, its status history, the scan runs and the exemptions.
 * The rules of what changes live in src/core/state-transitions.ts; the store loads, calls them and
 * writes what they return through one writer (subscription-writer.ts) — only what changed, in
 * transactions of at most 100 operations within one partition, every update conditional on the
 * ETag it read, re-read and re-planned when another writer got there first. README.md beside this
 * file documents the tables and this API.
 */
import pLimit from 'p-limit';
import type { ExemptionValidationOptions } from '../../core/exemptions.js';
import type { SubscriptionVerdict } from '../../core/model.js';
import type {
  Exemption,
  RecordedStatus,
  RecordedSubscription,
  StatusChange,
  StoredScanRun,
  SubscriptionRecord,
} from '../../core/state-model.js';
import { applyEventEvaluation, jsonEqual, withLatestCompleteRun } from '../../core/state-transitions.js';
import {
  StateWriteError,
  type PruneOutcome,
  type RecordedEvaluation,
  type RecordedRun,
  type RetentionSettings,
  type RunHandle,
  type RunInit,
  type RunResult,
  type EvaluationOptions,
  type StateStore,
  type StateStoreStats,
} from '../../scan/ports.js';
import type { KnownSubscriptionIds } from '../../scan/watch-ports.js';
import { connectTables, type TableConnection, type TableConnectionOptions, type TableStorageTarget } from './connection.js';
import { TABLE_SUFFIXES, scanRunRowKey, subscriptionPartition } from './entities.js';
import { ExemptionRows } from './exemption-rows.js';
import { DEFAULT_RETENTION, pruneExpired } from './retention.js';
import { recordRunResult, type RunRecordingParts } from './run-recording.js';
import { ScanRunRows } from './scan-runs.js';
import { bySubscriptionId } from '../../core/subscription-id.js';
import { SubscriptionRecords } from './subscription-records.js';
import { SubscriptionWriter, type Planner, type WriteLog } from './subscription-writer.js';

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

/**
 * The state store over Table Storage. Its `connection` (the same account and table prefix) is what
 * the composition root builds the outbox, the scan lease and the scan reports on.
 */
export interface TableStateStore extends StateStore, KnownSubscriptionIds {
  readonly connection: TableConnection;
}

/**
 * Opens the store. `connection` is a CONTACT_WATCH_STORAGE value (connection string,
 * `UseDevelopmentStorage=true` or an https table endpoint) or a parsed target. Nothing is sent
 * until the first call, which creates the tables if they do not exist.
 */
export function openStateStore(connection: string | TableStorageTarget, options: StateStoreOptions = {}): TableStateStore {
  return new TableBackedStateStore(connectTables(connection, options), options);
}

type Mutation = (current: SubscriptionRecord) => SubscriptionRecord | undefined | Promise<SubscriptionRecord | undefined>;

class TableBackedStateStore implements TableStateStore {
  readonly stats: StateStoreStats = { transactions: 0, transactionOperations: 0, conflictRetries: 0 };
  private readonly writeConcurrency: number;
  private readonly clock: () => Date;
  private readonly retention: RetentionSettings;
  private readonly maxPruneDeletes: number;
  private readonly records: SubscriptionRecords;
  private readonly writer: SubscriptionWriter;
  private readonly scanRuns: ScanRunRows;
  private readonly exemptions: ExemptionRows;

  constructor(
    readonly connection: TableConnection,
    options: StateStoreOptions,
  ) {
    this.writeConcurrency = options.writeConcurrency ?? 4;
    this.clock = options.clock ?? (() => new Date());
    this.retention = options.retention ?? DEFAULT_RETENTION;
    this.maxPruneDeletes = options.maxPruneDeletes ?? 1_000;
    this.records = new SubscriptionRecords(connection, this.writeConcurrency);
    this.writer = new SubscriptionWriter(this.records, this.stats, options.maxConflictRetries ?? 5);
    this.scanRuns = new ScanRunRows(connection, this.clock);
    this.exemptions = new ExemptionRows(connection, this.clock);
  }

  // ---- reading ------------------------------------------------------------------------------

  async loadSubscriptions(filter: { status?: RecordedStatus } = {}): Promise<SubscriptionRecord[]> {
    const [current, mark] = await Promise.all([this.records.loadCurrent(), this.scanRuns.completeRunMark()]);
    return [...current.values()]
      .map((entry) => withLatestCompleteRun(entry.record, mark))
      .filter((record) => filter.status === undefined || record.status === filter.status)
      .sort(bySubscriptionId);
  }

  async getSubscription(subscriptionId: string): Promise<SubscriptionRecord | undefined> {
    const [current, mark] = await Promise.all([this.records.readCurrent(subscriptionId.toLowerCase()), this.scanRuns.completeRunMark()]);
    return current && withLatestCompleteRun(current.record, mark);
  }

  async getSubscriptions(subscriptionIds: readonly string[]): Promise<SubscriptionRecord[]> {
    const current = await this.records.readMany(new Set(subscriptionIds.map((id) => id.toLowerCase())));
    return [...current.values()].map((entry) => entry.record).sort(bySubscriptionId);
  }

  history(subscriptionId: string): Promise<StatusChange[]> {
    return this.records.history(subscriptionId);
  }

  recordedSubscriptions(): Promise<Map<string, RecordedSubscription>> {
    return this.records.recordedSubscriptions();
  }

  knownSubscriptionIds(): Promise<Set<string>> {
    return this.records.knownSubscriptionIds();
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
    // Every table of the layout is created before the first run writes, the leases table included.
    await Promise.all([this.scanRuns.table(), this.connection.table(TABLE_SUFFIXES.leases), this.records.table(), this.exemptions.table()]);
    const startedAt = init.startedAt ?? this.clock();
    const handle: RunHandle = { scanId: init.scanId, trigger: init.trigger, startedAt, rowKey: scanRunRowKey(startedAt, init.scanId) };
    await this.scanRuns.start(handle);
    return handle;
  }

  failRun(handle: RunHandle, error: unknown): Promise<StoredScanRun> {
    return this.scanRuns.fail(handle, error);
  }

  finishRun(handle: RunHandle, result: RunResult): Promise<RecordedRun> {
    const parts: RunRecordingParts = {
      records: this.records,
      writer: this.writer,
      scanRuns: this.scanRuns,
      exemptions: this.exemptions,
      clock: this.clock,
      writeConcurrency: this.writeConcurrency,
    };
    return recordRunResult(parts, handle, result);
  }

  listScanRuns(limit = 20): Promise<StoredScanRun[]> {
    return this.scanRuns.list(limit);
  }

  latestCompleteRun(): Promise<StoredScanRun | undefined> {
    return this.scanRuns.latestComplete();
  }

  pruneExpired(): Promise<PruneOutcome | null> {
    return this.scanRuns.pruneWhenDue(async (scanRuns, now) =>
      pruneExpired({ subscriptions: await this.records.table(), scanRuns }, this.retention, now, this.maxPruneDeletes),
    );
  }

  // ---- single evaluations and read-modify-writes ------------------------------------------------

  async recordEvaluation(verdict: SubscriptionVerdict, options: EvaluationOptions): Promise<RecordedEvaluation> {
    const id = verdict.subscriptionId.toLowerCase();
    const [exemption, mark] = await Promise.all([this.exemptions.get(id), this.scanRuns.completeRunMark()]);
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
        ...(options.remediation ? { remediation: options.remediation } : {}),
      });
      if (evaluation.outcome === 'superseded') {
        superseded = evaluation.record;
        return { records: [], changes: [] };
      }
      superseded = undefined;
      return { records: [evaluation.record], changes: evaluation.change ? [evaluation.change] : [] };
    };
    const ids = new Set([id]);
    await this.writer.writePartition(subscriptionPartition(id), ids, await this.records.readMany(ids), plan, writes);
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

  async updateSubscription(subscriptionId: string, mutate: Mutation): Promise<SubscriptionRecord | undefined> {
    const id = subscriptionId.toLowerCase();
    const [written] = await this.updateMany([id], mutate);
    return written ?? (await this.records.readCurrent(id))?.record;
  }

  private async updateMany(subscriptionIds: readonly string[], mutate: Mutation): Promise<SubscriptionRecord[]> {
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
      [...byPartition].map(([partitionKey, ids]) =>
        limit(async () => this.writer.writePartition(partitionKey, ids, await this.records.readMany(ids), plan, writes)),
      ),
    );
    return writes.committed.map((write) => write.after);
  }

  // ---- exemptions ---------------------------------------------------------------------------

  putExemption(request: unknown, options: ExemptionValidationOptions = {}): Promise<Exemption> {
    return this.exemptions.put(request, options);
  }

  getExemption(subscriptionId: string): Promise<Exemption | undefined> {
    return this.exemptions.get(subscriptionId);
  }

  removeExemption(subscriptionId: string): Promise<boolean> {
    return this.exemptions.remove(subscriptionId);
  }

  listExemptions(): Promise<Exemption[]> {
    return this.exemptions.list();
  }
}
