/**
 * How long the record keeps what only grows with time, so that storage grows with the number of
 * subscriptions and not with the months the monitor has run:
 *
 * - scan runs (one row per scan, 48 a day at the default schedule): CONTACT_WATCH_SCAN_RUN_RETENTION_DAYS,
 *   default 90;
 * - status history rows (the audit evidence) and the records of subscriptions gone from the
 *   tenant, with their history: CONTACT_WATCH_HISTORY_RETENTION_DAYS, default 400 (a year of
 *   evidence for an annual audit, with a margin).
 *
 * Pruning deletes at most a fixed number of rows per call, oldest kinds first, and says whether
 * it got through everything; it never touches a current subscription's state row.
 */
import { odata, RestError, type TableClient, type TransactionAction } from '@azure/data-tables';
import { z } from 'zod';
import { quoteWithoutSecrets } from '../../core/secret-text.js';
import { SettingsError } from '../settings-error.js';
import { HISTORY_ROW_PREFIX, SCAN_RUN_PARTITION, STATE_ROW_RANGE, SUBSCRIPTION_PARTITIONS, historyRange, scanRunRowKey } from './entities.js';

export interface RetentionSettings {
  /** Days a status history row, and the record of a subscription gone from the tenant, is kept. */
  historyDays: number;
  /** Days a scan run's row is kept. */
  scanRunDays: number;
}

export const DEFAULT_RETENTION: RetentionSettings = { historyDays: 400, scanRunDays: 90 };

export const RETENTION_SETTING_NAMES = ['CONTACT_WATCH_HISTORY_RETENTION_DAYS', 'CONTACT_WATCH_SCAN_RUN_RETENTION_DAYS'] as const;

const MAX_RETENTION_DAYS = 3650;
const days = z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(1).max(MAX_RETENTION_DAYS));

/** The retention settings from the environment / app settings; a malformed one throws SettingsError naming it. */
export function readRetentionSettings(env: Record<string, string | undefined>): RetentionSettings {
  const read = (name: (typeof RETENTION_SETTING_NAMES)[number], fallback: number, what: string): number => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const parsed = days.safeParse(raw);
    if (!parsed.success) {
      throw new SettingsError(name, `${name} is ${quoteWithoutSecrets(raw)}; expected ${what} (a whole number of days from 1 to ${MAX_RETENTION_DAYS}).`);
    }
    return parsed.data;
  };
  return {
    historyDays: read('CONTACT_WATCH_HISTORY_RETENTION_DAYS', DEFAULT_RETENTION.historyDays, 'how long status history and departed subscriptions are kept'),
    scanRunDays: read('CONTACT_WATCH_SCAN_RUN_RETENTION_DAYS', DEFAULT_RETENTION.scanRunDays, 'how long scan runs are kept'),
  };
}

export interface PruneOutcome {
  scanRuns: number;
  historyRows: number;
  /** Records of subscriptions gone from the tenant longer than the history retention. */
  goneSubscriptions: number;
  /** False when the per-call bound stopped it: the next call goes on where it stopped. */
  complete: boolean;
}

const DAY_MS = 86_400_000;
/** Deletes in one entity group transaction. */
const BATCH = 100;

/** Deletes what has outlived the retention, at most `maxDeletes` rows. */
export async function pruneExpired(
  tables: { subscriptions: TableClient; scanRuns: TableClient },
  retention: RetentionSettings,
  now: Date,
  maxDeletes: number,
): Promise<PruneOutcome> {
  const outcome: PruneOutcome = { scanRuns: 0, historyRows: 0, goneSubscriptions: 0, complete: true };
  let budget = maxDeletes;
  /** Deletes what `found` lists and counts it against the budget; false once the budget is spent. */
  const remove = async (client: TableClient, partitionKey: string, found: Found): Promise<number> => {
    const deleted = await deleteRows(client, partitionKey, found.keys);
    budget -= deleted;
    if (found.more) outcome.complete = false;
    return deleted;
  };

  // Scan runs: newest first by an inverted start time, so every run older than the cutoff has a
  // row key after the cutoff's; ';' sorts after ':' and leaves out a run started at the cutoff.
  const runCutoff = new Date(now.getTime() - retention.scanRunDays * DAY_MS);
  const runsAfterCutoff = `${scanRunRowKey(runCutoff, '').slice(0, -1)};`;
  outcome.scanRuns = await remove(
    tables.scanRuns,
    SCAN_RUN_PARTITION,
    await rowKeys(tables.scanRuns, odata`PartitionKey eq ${SCAN_RUN_PARTITION} and RowKey gt ${runsAfterCutoff}`, budget),
  );

  const historyCutoff = new Date(now.getTime() - retention.historyDays * DAY_MS).toISOString();
  for (const partitionKey of SUBSCRIPTION_PARTITIONS) {
    if (budget <= 0) break;
    // Subscriptions gone longer than the retention: the record goes, with all its history.
    const gone = await rowKeys(
      tables.subscriptions,
      odata`PartitionKey eq ${partitionKey} and RowKey ge ${STATE_ROW_RANGE.from} and RowKey lt ${STATE_ROW_RANGE.to} and status eq ${'gone'} and statusSince lt ${historyCutoff}`,
      budget,
    );
    if (gone.more) outcome.complete = false;
    for (const stateRowKey of gone.keys) {
      const { from, to } = historyRange(stateRowKey.slice(STATE_ROW_RANGE.from.length));
      const history = await rowKeys(tables.subscriptions, odata`PartitionKey eq ${partitionKey} and RowKey ge ${from} and RowKey lt ${to}`, budget - 1);
      outcome.historyRows += await remove(tables.subscriptions, partitionKey, history);
      if (history.more || budget <= 0) {
        outcome.complete = false;
        break;
      }
      // Only once its history is gone, so a record is never left without the rows it explains.
      outcome.goneSubscriptions += await remove(tables.subscriptions, partitionKey, { keys: [stateRowKey], more: false });
    }
    if (budget <= 0) break;
    // History rows older than the retention, of every subscription.
    const old = await rowKeys(
      tables.subscriptions,
      odata`PartitionKey eq ${partitionKey} and RowKey ge ${HISTORY_ROW_PREFIX} and RowKey lt ${`${HISTORY_ROW_PREFIX.slice(0, -1)};`} and at lt ${historyCutoff}`,
      budget,
    );
    outcome.historyRows += await remove(tables.subscriptions, partitionKey, old);
  }
  if (budget <= 0) outcome.complete = false;
  return outcome;
}

interface Found {
  keys: string[];
  /** More rows matched than the bound let through. */
  more: boolean;
}

/** The row keys a filter matches, at most `limit`, and whether more matched. */
async function rowKeys(client: TableClient, filter: string, limit: number): Promise<Found> {
  const keys: string[] = [];
  if (limit <= 0) return { keys, more: true };
  for await (const entity of client.listEntities<{ RowKey?: string }>({ queryOptions: { filter, select: ['RowKey'] } })) {
    if (keys.length >= limit) return { keys, more: true };
    if (entity.rowKey !== undefined) keys.push(entity.rowKey);
  }
  return { keys, more: false };
}

/** Deletes rows of one partition in transactions of 100; returns how many are gone (one deleted meanwhile counts). */
async function deleteRows(client: TableClient, partitionKey: string, keys: readonly string[]): Promise<number> {
  let deleted = 0;
  for (let start = 0; start < keys.length; start += BATCH) {
    const chunk = keys.slice(start, start + BATCH);
    try {
      await client.submitTransaction(chunk.map((rowKey): TransactionAction => ['delete', { partitionKey, rowKey }]));
    } catch (error) {
      // One row already gone fails the whole transaction: delete the rest one by one.
      if (!(error instanceof RestError && error.statusCode === 404)) throw error;
      for (const rowKey of chunk) {
        await client.deleteEntity(partitionKey, rowKey).catch((single: unknown) => {
          if (!(single instanceof RestError && single.statusCode === 404)) throw single;
        });
      }
    }
    deleted += chunk.length;
  }
  return deleted;
}
