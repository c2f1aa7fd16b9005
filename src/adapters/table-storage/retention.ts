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
 * Pruning deletes at most a fixed number of rows per call and says whether it got through
 * everything; it never touches a current subscription's state row, nor the history row that
 * explains the status a current subscription is in.
 */
import { odata, type TableClient } from '@azure/data-tables';
import * as z from 'zod';
import { quoteWithoutSecrets } from '../../core/secret-text.js';
import type { PruneOutcome, RetentionSettings } from '../../scan/ports.js';
import { SettingsError } from '../../core/settings-error.js';
import { deleteRows, deleteWhere, matchingRows } from './bulk-delete.js';
import { hasStatus } from './table-errors.js';
import {
  HISTORY_ROW_PREFIX,
  SCAN_RUN_PARTITION,
  STATE_ROW_RANGE,
  SUBSCRIPTION_PARTITIONS,
  historyRange,
  scanRunRowKey,
} from './entities.js';

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
      throw new SettingsError(
        name,
        `${name} is ${quoteWithoutSecrets(raw)}; expected ${what} (a whole number of days from 1 to ${MAX_RETENTION_DAYS}).`,
      );
    }
    return parsed.data;
  };
  return {
    historyDays: read(
      'CONTACT_WATCH_HISTORY_RETENTION_DAYS',
      DEFAULT_RETENTION.historyDays,
      'how long status history and departed subscriptions are kept',
    ),
    scanRunDays: read('CONTACT_WATCH_SCAN_RUN_RETENTION_DAYS', DEFAULT_RETENTION.scanRunDays, 'how long scan runs are kept'),
  };
}

const DAY_MS = 86_400_000;

/**
 * Deletes what has outlived the retention, at most `maxDeletes` rows. A subscription's newest
 * history row is kept while the subscription is in the tenant, however old: it is what explains
 * the status it still has. A departed subscription's record is deleted only if it is still the
 * gone record that was found (ETag), so one that came back meanwhile keeps its record.
 */
export async function pruneExpired(
  tables: { subscriptions: TableClient; scanRuns: TableClient },
  retention: RetentionSettings,
  now: Date,
  maxDeletes: number,
): Promise<PruneOutcome> {
  const outcome: PruneOutcome = { scanRuns: 0, historyRows: 0, goneSubscriptions: 0, complete: true };
  let budget = maxDeletes;
  const spent = (found: { deleted: number; more: boolean }): number => {
    budget -= found.deleted;
    if (found.more) outcome.complete = false;
    return found.deleted;
  };

  // Scan runs: newest first by an inverted start time, so every run older than the cutoff has a
  // row key after the cutoff's; ';' sorts after ':' and leaves out a run started at the cutoff.
  const runCutoff = new Date(now.getTime() - retention.scanRunDays * DAY_MS);
  const runsAfterCutoff = `${scanRunRowKey(runCutoff, '').slice(0, -1)};`;
  outcome.scanRuns = spent(
    await deleteWhere(
      tables.scanRuns,
      SCAN_RUN_PARTITION,
      odata`PartitionKey eq ${SCAN_RUN_PARTITION} and RowKey gt ${runsAfterCutoff}`,
      budget,
    ),
  );

  const cutoff = new Date(now.getTime() - retention.historyDays * DAY_MS).toISOString();
  const client = tables.subscriptions;
  for (const partitionKey of SUBSCRIPTION_PARTITIONS) {
    if (budget <= 0) break;
    const states = odata`PartitionKey eq ${partitionKey} and RowKey ge ${STATE_ROW_RANGE.from} and RowKey lt ${STATE_ROW_RANGE.to}`;

    // Subscriptions gone longer than the retention: the record, then its history.
    const gone = await matchingRows(client, `${states} and ${odata`status eq ${'gone'} and statusSince lt ${cutoff}`}`, budget);
    if (gone.more) outcome.complete = false;
    for (const { rowKey, etag } of gone.rows) {
      if (budget <= 0) break;
      try {
        await client.deleteEntity(partitionKey, rowKey, { etag });
      } catch (error) {
        // Changed since it was found (it came back, say) or deleted by someone else: it stays theirs.
        if (hasStatus(error, 412, 404)) continue;
        throw error;
      }
      outcome.goneSubscriptions += 1;
      budget -= 1;
      const { from, to } = historyRange(rowKey.slice(STATE_ROW_RANGE.from.length));
      // Only the rows older than the cutoff: one written by a return after the delete is the new record's.
      outcome.historyRows += spent(
        await deleteWhere(
          client,
          partitionKey,
          odata`PartitionKey eq ${partitionKey} and RowKey ge ${from} and RowKey lt ${to} and at lt ${cutoff}`,
          budget,
        ),
      );
    }
    if (budget <= 0) break;

    // History rows older than the retention, but the newest of each subscription still here: a
    // status entered before the cutoff is explained by the history row written when it was entered.
    const explaining = new Set<string>();
    for await (const row of client.listEntities<Record<string, unknown>>({
      queryOptions: {
        filter: `${states} and ${odata`status ne ${'gone'} and statusSince lt ${cutoff}`}`,
        select: ['RowKey', 'statusSince'],
      },
    })) {
      if (row.rowKey !== undefined && typeof row['statusSince'] === 'string') {
        explaining.add(`${HISTORY_ROW_PREFIX}${row.rowKey.slice(STATE_ROW_RANGE.from.length)}:${row['statusSince']}:`);
      }
    }
    const old = await matchingRows(
      client,
      odata`PartitionKey eq ${partitionKey} and RowKey ge ${HISTORY_ROW_PREFIX} and RowKey lt ${`${HISTORY_ROW_PREFIX.slice(0, -1)};`} and at lt ${cutoff}`,
      budget,
      {
        select: ['subscriptionId', 'at'],
        skip: (row) => explaining.has(`${HISTORY_ROW_PREFIX}${String(row['subscriptionId'])}:${String(row['at'])}:`),
      },
    );
    outcome.historyRows += spent({
      deleted: await deleteRows(
        client,
        partitionKey,
        old.rows.map((row) => row.rowKey),
      ),
      more: old.more,
    });
  }
  if (budget <= 0) outcome.complete = false;
  return outcome;
}
