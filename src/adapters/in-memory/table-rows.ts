/**
 * One table of the in-memory table service: its entities by partition and row key, in the order
 * the service returns them (partition key, then row key, both ordinal), and the write rules of
 * Table Storage — insert refuses an existing entity (409), a conditional write refuses a missing
 * entity (404) or a stale ETag (412), and every write gives the entity a new Timestamp and ETag.
 *
 * A write is planned against the current rows first and applied afterwards, so that an entity
 * group transaction can check every operation before it changes anything (all or nothing).
 */
import { confinedPartition, matches, ordinal, type Filter } from './odata-filter.js';
import { checkEntity, errors, propertyOf, type StoredEntity, type StoredValue } from './table-entities.js';

export type WriteOperation =
  | { kind: 'insert'; partitionKey: string; rowKey: string; properties: Map<string, StoredValue> }
  /** Replace or merge; without `ifMatch` an upsert (insert or replace, insert or merge). */
  | { kind: 'replace' | 'merge'; partitionKey: string; rowKey: string; properties: Map<string, StoredValue>; ifMatch?: string }
  | { kind: 'delete'; partitionKey: string; rowKey: string; ifMatch: string };

/** A checked write: the entity's properties after it, or null for a deletion. */
export interface PlannedWrite {
  partitionKey: string;
  rowKey: string;
  properties: Map<string, StoredValue> | null;
}

export interface Stamp {
  timestamp: string;
  etag: string;
}

interface Partition {
  rows: Map<string, StoredEntity>;
  /** Row keys in order; rebuilt after a row was added or removed. */
  sorted?: string[];
}

/** Where a query goes on: the first entity not yet returned. */
export interface QueryPosition {
  partitionKey: string;
  rowKey: string;
}

export class InMemoryTable {
  private readonly partitions = new Map<string, Partition>();
  private sortedPartitions?: string[];

  constructor(readonly name: string) {}

  get(partitionKey: string, rowKey: string): StoredEntity | undefined {
    return this.partitions.get(partitionKey)?.rows.get(rowKey);
  }

  /** Checks a write against the current rows, changing nothing; throws TableServiceError as the service answers. */
  plan(operation: WriteOperation): PlannedWrite {
    const { partitionKey, rowKey } = operation;
    const existing = this.get(partitionKey, rowKey);
    if (operation.kind === 'insert') {
      checkEntity(partitionKey, rowKey, operation.properties);
      if (existing) throw errors.alreadyExists();
      return { partitionKey, rowKey, properties: operation.properties };
    }
    if (operation.ifMatch !== undefined) {
      if (!existing) throw errors.notFound();
      if (operation.ifMatch !== '*' && operation.ifMatch !== existing.etag) throw errors.conditionNotMet();
    }
    if (operation.kind === 'delete') return { partitionKey, rowKey, properties: null };
    const properties =
      operation.kind === 'merge' && existing ? new Map([...existing.properties, ...operation.properties]) : operation.properties;
    checkEntity(partitionKey, rowKey, properties);
    return { partitionKey, rowKey, properties };
  }

  /** Applies planned writes; returns the stamp each written entity got (undefined for a deletion). */
  apply(writes: readonly PlannedWrite[], stamp: () => Stamp): Array<Stamp | undefined> {
    return writes.map((write) => {
      let partition = this.partitions.get(write.partitionKey);
      if (write.properties === null) {
        if (partition?.rows.delete(write.rowKey)) {
          partition.sorted = undefined;
          if (partition.rows.size === 0) {
            this.partitions.delete(write.partitionKey);
            this.sortedPartitions = undefined;
          }
        }
        return undefined;
      }
      if (!partition) {
        partition = { rows: new Map() };
        this.partitions.set(write.partitionKey, partition);
        this.sortedPartitions = undefined;
      }
      if (!partition.rows.has(write.rowKey)) partition.sorted = undefined;
      const stamped = stamp();
      const { partitionKey, rowKey, properties } = write;
      partition.rows.set(rowKey, { partitionKey, rowKey, properties, ...stamped });
      return stamped;
    });
  }

  /**
   * At most `top` entities matching `filter` in the service's order, from `from` on; `next` names
   * where the following page starts when there is more.
   */
  query(filter: Filter | undefined, top: number, from?: QueryPosition): { entities: StoredEntity[]; next?: QueryPosition } {
    const entities: StoredEntity[] = [];
    const only = confinedPartition(filter);
    const partitionKeys = only === undefined ? this.partitionOrder() : this.partitions.has(only) ? [only] : [];
    for (const partitionKey of partitionKeys) {
      if (from && ordinal(partitionKey, from.partitionKey) < 0) continue;
      const partition = this.partitions.get(partitionKey)!;
      partition.sorted ??= [...partition.rows.keys()].sort(ordinal);
      for (const rowKey of partition.sorted) {
        if (from && partitionKey === from.partitionKey && ordinal(rowKey, from.rowKey) < 0) continue;
        const entity = partition.rows.get(rowKey)!;
        if (filter && !matches(filter, (name) => propertyOf(entity, name))) continue;
        if (entities.length >= top) return { entities, next: { partitionKey, rowKey } };
        entities.push(entity);
      }
    }
    return { entities };
  }

  private partitionOrder(): string[] {
    this.sortedPartitions ??= [...this.partitions.keys()].sort(ordinal);
    return this.sortedPartitions;
  }
}
