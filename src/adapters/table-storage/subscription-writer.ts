/**
 * The one way subscription records are written: in entity group transactions of at most 100
 * operations (~3.5 MB) within one partition, a subscription's state row and its history row always
 * in the same transaction, every update conditional on the ETag it read. A transaction that meets
 * another writer's change is re-read and re-planned; one whose content Table Storage refuses is
 * split until only the subscription at fault is left; a failed run's writes can be undone.
 */
import type { TableClient, TransactionAction } from '@azure/data-tables';
import pLimit from 'p-limit';
import type { Finding } from '../../core/model.js';
import { cut, minimalForStorage } from '../../core/record-bounds.js';
import type { StatusChange, SubscriptionRecord } from '../../core/state-model.js';
import { jsonEqual } from '../../core/state-transitions.js';
import { WriteConflictError, type RefusedWrite, type StateStoreStats } from '../../scan/ports.js';
import { encodeStatusChange, encodeSubscription, historyRowKey, stateRowKey, type StoredEntity } from './entities.js';
import type { CurrentRecord, SubscriptionRecords } from './subscription-records.js';
import { describeError, isConflict, isRefused } from './table-errors.js';
import { setTimeout as delay } from 'node:timers/promises';

/** Table Storage's limits for one entity group transaction. */
export const MAX_TRANSACTION_OPERATIONS = 100;
const MAX_TRANSACTION_BYTES = 3_500_000; // of the 4 MiB payload limit, leaving room for the envelope

export interface Plan {
  records: SubscriptionRecord[];
  changes: StatusChange[];
}

/** Plans the writes for `ids` of one partition from their current state (re-called after a conflict). */
export type Planner = (current: ReadonlyMap<string, CurrentRecord>, ids: ReadonlySet<string>) => Plan | Promise<Plan>;

/** One subscription's write as committed: enough to undo it. */
export interface CommittedWrite {
  partitionKey: string;
  before: CurrentRecord | undefined;
  after: SubscriptionRecord;
  etag: string | undefined;
  change: StatusChange | undefined;
  historyEtag: string | undefined;
}

/** What the writer did: the writes committed (a failed run undoes them) and those refused. */
export interface WriteLog {
  committed: CommittedWrite[];
  refused: RefusedWrite[];
}

/** One subscription's operations: its state row and, when its status moved, its history row. */
interface Unit {
  id: string;
  before: CurrentRecord | undefined;
  after: SubscriptionRecord;
  change: StatusChange | undefined;
  actions: TransactionAction[];
  bytes: number;
  /** True for the minimal record tried after Table Storage refused the whole one. */
  minimal: boolean;
}

export class SubscriptionWriter {
  constructor(
    private readonly records: SubscriptionRecords,
    /** Counted as transactions are sent (the store's stats). */
    private readonly stats: StateStoreStats,
    private readonly maxConflictRetries: number,
  ) {}

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
  async writePartition(
    partitionKey: string,
    ids: ReadonlySet<string>,
    initial: ReadonlyMap<string, CurrentRecord>,
    plan: Planner,
    writes: WriteLog,
  ): Promise<void> {
    const client = await this.records.table();
    let pending = new Set(ids);
    let state: ReadonlyMap<string, CurrentRecord> = initial;
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
      state = await this.records.readMany(pending);
      if (attempt > 0) await delay(Math.min(1_000, 25 * 2 ** attempt) * (0.5 + Math.random()));
    }
  }

  /**
   * Puts back what a failed run wrote, each subscription conditional on the ETag its write
   * returned: where another writer has changed it since, its change stands (and our history row
   * with it, since theirs builds on it). A restored record and the removal of its history row go
   * in one transaction.
   */
  async undo(committed: readonly CommittedWrite[]): Promise<{ undone: number; kept: number; failed: number }> {
    const tally = { undone: 0, kept: 0, failed: 0 };
    if (committed.length === 0) return tally;
    const client = await this.records.table();
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

  /** Sends one transaction and records what it committed. */
  private async submit(
    client: TableClient,
    partitionKey: string,
    transaction: readonly Unit[],
    committed: CommittedWrite[],
  ): Promise<void> {
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

  private async etagIfUnchanged(write: CommittedWrite): Promise<string | undefined> {
    const now = await this.records.readCurrent(write.after.subscriptionId);
    return now && jsonEqual(now.record, write.after) ? now.etag : undefined;
  }
}

function buildUnits(plan: Plan, state: ReadonlyMap<string, CurrentRecord>, refused: RefusedWrite[]): Unit[] {
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

function unitFor(
  id: string,
  before: CurrentRecord | undefined,
  after: SubscriptionRecord,
  change: StatusChange | undefined,
  minimal: boolean,
): Unit {
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
function minimalUnit(unit: Pick<Unit, 'id' | 'before' | 'after' | 'change'>, reason: string, refused: RefusedWrite[]): Unit | undefined {
  const after = minimalForStorage(unit.after, reason);
  const change = unit.change && {
    ...unit.change,
    findingsBefore: minimalFindings(unit.change.findingsBefore),
    findingsAfter: after.findings,
  };
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
