/**
 * The scanruns table: one row per scan run, newest first by an inverted start time, and beside
 * them the marks read by key — the newest complete run (so a reader never searches the run history
 * for it) and when expired rows were last pruned.
 */
import { odata, type TableClient, type TableEntityResult } from '@azure/data-tables';
import type { SubscriptionVerdict } from '../../core/model.js';
import type { StoredScanRun } from '../../core/state-model.js';
import type { CompleteRunMark } from '../../core/state-transitions.js';
import type { PruneOutcome, RunHandle } from '../../scan/ports.js';
import type { TableConnection } from './connection.js';
import {
  EMPTY_COUNTS,
  LATEST_COMPLETE_RUN_MARK,
  MARK_PARTITION,
  PRUNED_MARK,
  SCAN_RUN_PARTITION,
  SCHEMA_VERSION,
  TABLE_SUFFIXES,
  decodeScanRun,
  encodeScanRun,
} from './entities.js';
import { describeError, isConflict, statusOf } from './table-errors.js';

/** Pruning runs at most this often, unless the last call stopped at its bound. */
const PRUNE_EVERY_MS = 24 * 3_600_000;

export class ScanRunRows {
  constructor(
    private readonly connection: TableConnection,
    private readonly clock: () => Date,
  ) {}

  table(): Promise<TableClient> {
    return this.connection.table(TABLE_SUFFIXES.scanRuns);
  }

  /** Writes the row of a run that has just started (outcome `running`). */
  async start(handle: RunHandle): Promise<void> {
    const client = await this.table();
    await client.createEntity(encodeScanRun(runRow(handle, { outcome: 'running' }), handle.rowKey));
  }

  /** Replaces the run's row with `run` (finished, or failed). */
  async save(run: StoredScanRun, rowKey: string): Promise<void> {
    await (await this.table()).upsertEntity(encodeScanRun(run, rowKey), 'Replace');
  }

  /** Marks the run failed, saying why. */
  async fail(handle: RunHandle, error: unknown): Promise<StoredScanRun> {
    const client = await this.table();
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

  /** Newest first. */
  async list(limit: number): Promise<StoredScanRun[]> {
    const client = await this.table();
    const filter = odata`PartitionKey eq ${SCAN_RUN_PARTITION}`;
    const runs: StoredScanRun[] = [];
    for await (const page of client
      .listEntities<Record<string, unknown>>({ queryOptions: { filter } })
      .byPage({ maxPageSize: Math.min(limit, 1000) })) {
      for (const entity of page) {
        runs.push(decodeScanRun(client.tableName, entity));
        if (runs.length >= limit) return runs;
      }
    }
    return runs;
  }

  async latestComplete(): Promise<StoredScanRun | undefined> {
    const client = await this.table();
    // Kept as a mark beside the runs, so that reading it costs one point read however long the
    // run history is. (A store that has no mark yet gets one at its next complete run.)
    const mark = await readMark(client, LATEST_COMPLETE_RUN_MARK);
    return mark && decodeScanRun(client.tableName, mark);
  }

  /** What the newest complete run vouches for (withLatestCompleteRun), or undefined when there is none. */
  async completeRunMark(): Promise<CompleteRunMark | undefined> {
    const run = await this.latestComplete();
    return run?.evaluatedAt ? { scanId: run.scanId, startedAt: run.startedAt, evaluatedAt: run.evaluatedAt } : undefined;
  }

  /** Moves the mark to `run` unless it already names a run that started later; ETag-checked. */
  async markLatestComplete(run: StoredScanRun, rowKey: string): Promise<void> {
    const client = await this.table();
    const entity = { ...encodeScanRun(run, LATEST_COMPLETE_RUN_MARK, MARK_PARTITION), runRowKey: rowKey };
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const current = await readMark(client, LATEST_COMPLETE_RUN_MARK);
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

  /**
   * Runs `prune` when it is due (a day after the last call that got through everything, or at once
   * after one that stopped at its bound) and marks when it ran; null when it was not due.
   */
  async pruneWhenDue(prune: (scanRuns: TableClient, now: Date) => Promise<PruneOutcome>): Promise<PruneOutcome | null> {
    const client = await this.table();
    const now = this.clock();
    const last = await readMark(client, PRUNED_MARK);
    if (last && last['complete'] === true && now.getTime() - Date.parse(String(last['prunedAt'])) < PRUNE_EVERY_MS) return null;
    const outcome = await prune(client, now);
    await client.upsertEntity(
      {
        partitionKey: MARK_PARTITION,
        rowKey: PRUNED_MARK,
        schemaVersion: SCHEMA_VERSION,
        prunedAt: now.toISOString(),
        complete: outcome.complete,
      },
      'Replace',
    );
    return outcome;
  }
}

async function readMark(client: TableClient, rowKey: string): Promise<TableEntityResult<Record<string, unknown>> | undefined> {
  try {
    return await client.getEntity<Record<string, unknown>>(MARK_PARTITION, rowKey);
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}

/** The row of `handle`'s run: `running` with nothing counted, unless `fields` say otherwise. */
export function runRow(handle: RunHandle, fields: Partial<StoredScanRun>): StoredScanRun {
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

/** The run row's counts: subscriptions by status (exemptions applied). */
export function countStatuses(verdicts: readonly SubscriptionVerdict[]): StoredScanRun['counts'] {
  const counts = { ...EMPTY_COUNTS, subscriptions: verdicts.length };
  for (const verdict of verdicts) counts[verdict.status] += 1;
  return counts;
}
