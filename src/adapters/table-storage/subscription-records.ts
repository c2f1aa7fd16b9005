/**
 * Reading the subscriptions table: the state rows (one per subscription, in 16 partitions by the
 * first hex digit of its id) with the ETags a later write is conditional on, and each
 * subscription's history rows beside its state row.
 */
import { odata, type TableClient, type TableEntityResult } from '@azure/data-tables';
import pLimit from 'p-limit';
import { RECORDED_STATUSES, type RecordedSubscription, type StatusChange, type SubscriptionRecord } from '../../core/state-model.js';
import type { TableConnection } from './connection.js';
import {
  STATE_ROW_PREFIX,
  STATE_ROW_RANGE,
  SUBSCRIPTION_PARTITIONS,
  TABLE_SUFFIXES,
  decodeStatusChange,
  decodeSubscription,
  historyRange,
  stateRowKey,
  subscriptionPartition,
} from './entities.js';
import { statusOf } from './table-errors.js';

/** A stored record and the ETag it was read with. */
export interface CurrentRecord {
  record: SubscriptionRecord;
  etag: string;
}

export class SubscriptionRecords {
  constructor(
    private readonly connection: TableConnection,
    /** Partitions read at the same time when every state row is loaded. */
    private readonly partitionConcurrency: number,
  ) {}

  table(): Promise<TableClient> {
    return this.connection.table(TABLE_SUFFIXES.subscriptions);
  }

  /** The state rows of all 16 partitions, with their ETags, by subscription id. */
  async loadCurrent(): Promise<Map<string, CurrentRecord>> {
    const client = await this.table();
    const rows = await this.stateRows(undefined, (entity) => currentRecord(client.tableName, entity));
    return new Map(rows.map((entry) => [entry.record.subscriptionId, entry]));
  }

  /** One state row by key (`id` lower-case), or undefined when there is none. */
  async readCurrent(id: string): Promise<CurrentRecord | undefined> {
    const client = await this.table();
    try {
      return currentRecord(client.tableName, await client.getEntity<Record<string, unknown>>(subscriptionPartition(id), stateRowKey(id)));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  /** The state rows of these (lower-case) ids that exist, by key: the cost grows with the ids, not the tenant. */
  async readMany(ids: Iterable<string>): Promise<Map<string, CurrentRecord>> {
    const limit = pLimit(8);
    const found = await Promise.all([...ids].map((id) => limit(() => this.readCurrent(id))));
    return new Map(
      found.filter((entry): entry is CurrentRecord => entry !== undefined).map((entry) => [entry.record.subscriptionId, entry]),
    );
  }

  /** The status changes of one subscription, oldest first. */
  async history(subscriptionId: string): Promise<StatusChange[]> {
    const id = subscriptionId.toLowerCase();
    const client = await this.table();
    const { from, to } = historyRange(id);
    const filter = odata`PartitionKey eq ${subscriptionPartition(id)} and RowKey ge ${from} and RowKey lt ${to}`;
    const changes: StatusChange[] = [];
    for await (const entity of client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
      changes.push(decodeStatusChange(client.tableName, entity));
    }
    return changes;
  }

  /** Every stored subscription's status, name and state by lower-case id (those properties only). */
  async recordedSubscriptions(): Promise<Map<string, RecordedSubscription>> {
    const rows = await this.stateRows(
      ['subscriptionId', 'status', 'displayName', 'state'],
      (row): [string, RecordedSubscription] | undefined => {
        const status = RECORDED_STATUSES.find((known) => known === row['status']);
        const { subscriptionId, displayName, state } = row;
        if (typeof subscriptionId !== 'string' || !status) return undefined;
        return [
          subscriptionId,
          { status, displayName: typeof displayName === 'string' ? displayName : '', state: typeof state === 'string' ? state : 'Unknown' },
        ];
      },
    );
    return new Map(rows);
  }

  /** The lower-case id of every state row, read from the row keys alone (`$select=RowKey`). */
  async knownSubscriptionIds(): Promise<Set<string>> {
    const ids = await this.stateRows(['RowKey'], (row) =>
      row.rowKey?.startsWith(STATE_ROW_PREFIX) ? row.rowKey.slice(STATE_ROW_PREFIX.length).toLowerCase() : undefined,
    );
    return new Set(ids);
  }

  /** Every state row (only `select`'s properties, when given), read as `read` makes of it; the 16 partitions side by side. */
  private async stateRows<T>(
    select: string[] | undefined,
    read: (row: TableEntityResult<Record<string, unknown>>) => T | undefined,
  ): Promise<T[]> {
    const client = await this.table();
    const limit = pLimit(this.partitionConcurrency);
    const partitions = await Promise.all(
      SUBSCRIPTION_PARTITIONS.map((partitionKey) =>
        limit(async () => {
          const filter = odata`PartitionKey eq ${partitionKey} and RowKey ge ${STATE_ROW_RANGE.from} and RowKey lt ${STATE_ROW_RANGE.to}`;
          const rows: T[] = [];
          for await (const row of client.listEntities<Record<string, unknown>>({
            queryOptions: { filter, ...(select ? { select } : {}) },
          })) {
            const value = read(row);
            if (value !== undefined) rows.push(value);
          }
          return rows;
        }),
      ),
    );
    return partitions.flat();
  }
}

function currentRecord(table: string, entity: TableEntityResult<Record<string, unknown>>): CurrentRecord {
  return { record: decodeSubscription(table, entity), etag: entity.etag };
}
