/**
 * Deleting rows in bulk within one partition, as the housekeeping of the state tables and of the
 * outbox both do: find the rows a filter matches (a bounded number, keys only), then delete them in
 * entity group transactions of 100.
 */
import type { TableClient, TransactionAction } from '@azure/data-tables';
import { hasStatus } from './table-errors.js';

/** Operations in one entity group transaction. */
const TRANSACTION_OPERATIONS = 100;

export interface MatchedRows {
  /** In the table's order, each with the ETag it was read with (for a conditional delete). */
  rows: Array<{ rowKey: string; etag: string }>;
  /** More rows matched than the limit let through. */
  more: boolean;
}

/**
 * At most `limit` rows matching `filter`, leaving out those `skip` names (it sees the properties in
 * `select`, besides the keys).
 */
export async function matchingRows(
  client: TableClient,
  filter: string,
  limit: number,
  options: { select?: string[]; skip?: (row: Record<string, unknown> & { rowKey?: string }) => boolean } = {},
): Promise<MatchedRows> {
  const rows: MatchedRows['rows'] = [];
  const select = ['RowKey', ...(options.select ?? [])];
  for await (const row of client.listEntities<Record<string, unknown>>({ queryOptions: { filter, select } })) {
    if (row.rowKey === undefined || options.skip?.(row)) continue;
    if (rows.length >= limit) return { rows, more: true };
    rows.push({ rowKey: row.rowKey, etag: row.etag });
  }
  return { rows, more: false };
}

/** Deletes rows of one partition; returns how many are gone (one deleted meanwhile by someone else counts). */
export async function deleteRows(client: TableClient, partitionKey: string, rowKeys: readonly string[]): Promise<number> {
  for (let start = 0; start < rowKeys.length; start += TRANSACTION_OPERATIONS) {
    const chunk = rowKeys.slice(start, start + TRANSACTION_OPERATIONS);
    try {
      await client.submitTransaction(chunk.map((rowKey): TransactionAction => ['delete', { partitionKey, rowKey }]));
    } catch (error) {
      // One row already gone fails the whole transaction: delete the rest one by one.
      if (!isNotFound(error)) throw error;
      for (const rowKey of chunk) await client.deleteEntity(partitionKey, rowKey).catch(ignoreNotFound);
    }
  }
  return rowKeys.length;
}

/** Deletes at most `limit` rows of one partition matching `filter`. */
export async function deleteWhere(
  client: TableClient,
  partitionKey: string,
  filter: string,
  limit: number,
): Promise<{ deleted: number; more: boolean }> {
  if (limit <= 0) return { deleted: 0, more: true };
  const matched = await matchingRows(client, filter, limit);
  return {
    deleted: await deleteRows(
      client,
      partitionKey,
      matched.rows.map((row) => row.rowKey),
    ),
    more: matched.more,
  };
}

function isNotFound(error: unknown): boolean {
  return hasStatus(error, 404);
}

function ignoreNotFound(error: unknown): void {
  if (!isNotFound(error)) throw error;
}
