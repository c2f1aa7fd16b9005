/**
 * Every scan's status and report (the ScanReportStore port of src/scan/ports.ts), so that GET
 * /api/scans/{scanId} can answer on any instance for a scan another instance ran. One table,
 * `<prefix>scanreports`; the layout is in README.md beside this file ("Scan reports"):
 *
 * | PartitionKey | RowKey | what |
 * | --- | --- | --- |
 * | scan id | `scan` | the status row: running / finished / failed, with its times and failure |
 * | scan id | `report-000`, `report-001`, … | the §7 report, gzipped, in binary chunks |
 * | `started` | `<inverted start time>:<scan id>` | the index retention prunes by, newest first |
 *
 * A scan's rows share its partition, so a GET is a point read of its status row plus point reads
 * of its own report rows, whatever else is stored. Retention keeps the newest `retainedScans`
 * scans; each new scan prunes at most PRUNED_SCANS_PER_WRITE of the older ones.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGzip, gunzip } from 'node:zlib';
import { odata, type TableClient, type TableEntityResult } from '@azure/data-tables';
import * as z from 'zod';
import type { ScanFailure, ScanReportStore, StoredScan } from '../../scan/ports.js';
import { isGuid } from '../../core/subscription-id.js';
import type { TableConnection } from './connection.js';
import { deleteWhere } from './bulk-delete.js';
import { CorruptEntityError, scanRunRowKey } from './entities.js';
import { hasStatus } from './table-errors.js';

/** `<prefix>scanreports`. */
export const SCAN_REPORTS_TABLE_SUFFIX = 'scanreports';
/** About a day of the default half-hourly timer, with room for scans started by hand. */
export const DEFAULT_RETAINED_SCANS = 50;
/**
 * Scans one write prunes at most. A write adds one scan, so this keeps up with any steady state;
 * a lowered retention is caught up over the next writes instead of by one long write.
 */
export const PRUNED_SCANS_PER_WRITE = 5;
/** Retention is read from one page of the index (a page holds at most 1,000 rows). */
const MAX_RETAINED_SCANS = 900;

export const INDEX_PARTITION = 'started';
export const STATUS_ROW = 'scan';
const REPORT_ROW_PREFIX = 'report-';
const SCHEMA_VERSION = 1;

/** A binary property holds at most 64 KiB. */
const CHUNK_BYTES = 60 * 1024;
/**
 * 11 chunks (660 KiB) a row: binary travels base64-encoded, 880 KiB on the wire, so a row stays
 * inside the 1 MiB entity limit however it is measured (Azurite measures the request body).
 */
const CHUNKS_PER_ROW = 11;
/**
 * Report rows a scan may have: 64 rows, about 41 MiB of gzipped JSON, far beyond a tenant of
 * 50,000 subscriptions (a few MiB). A bound keeps one GET from reading without end.
 */
const MAX_REPORT_ROWS = 64;
/** Failure reasons are messages, never dumps; Table Storage strings stop at 32 K characters. */
const MAX_REASON_CHARS = 4_000;

const gunzipAsync = promisify(gunzip);

export interface ScanReportStoreOptions {
  /** How many scans are kept, the newest; default DEFAULT_RETAINED_SCANS (50). */
  retainedScans?: number;
}

const IsoTime = z.iso.datetime({ offset: true });
const Common = { trigger: z.string(), startedAt: IsoTime };
const StatusRow = z.discriminatedUnion('status', [
  z.object({ status: z.literal('running'), ...Common, aliveUntil: IsoTime }),
  z.object({ status: z.literal('finished'), ...Common, finishedAt: IsoTime, reportRows: z.number().int().min(1).max(MAX_REPORT_ROWS) }),
  z.object({
    status: z.literal('failed'),
    ...Common,
    failedAt: IsoTime,
    failureKind: z.enum(['azure', 'storage']),
    failureReason: z.string(),
    failureInvocationId: z.string(),
  }),
]);

type Entity = TableEntityResult<Record<string, unknown>>;

function indexRowKey(startedAt: string, scanId: string): string {
  return scanRunRowKey(new Date(startedAt), scanId);
}

function reportRowKey(index: number): string {
  return `${REPORT_ROW_PREFIX}${String(index).padStart(3, '0')}`;
}

/** Keys are GUIDs (the scan job's randomUUID); anything else would be a caller's mistake. */
function checkScanId(scanId: string): void {
  if (!isGuid(scanId) || scanId !== scanId.toLowerCase()) {
    throw new RangeError(`a scan id is a lower-case GUID, not ${JSON.stringify(scanId.slice(0, 60))}`);
  }
}

/** The document gzipped as it is produced, so a large report is never one more copy in memory. */
async function gzipped(document: Iterable<string>): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(Readable.from(document), createGzip(), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) parts.push(chunk);
  });
  return Buffer.concat(parts);
}

export function openScanReportStore(connection: TableConnection, options: ScanReportStoreOptions = {}): ScanReportStore {
  const retainedScans = options.retainedScans ?? DEFAULT_RETAINED_SCANS;
  if (!Number.isInteger(retainedScans) || retainedScans < 1 || retainedScans > MAX_RETAINED_SCANS) {
    throw new RangeError(`retainedScans must be a whole number from 1 to ${MAX_RETAINED_SCANS}, not ${retainedScans}`);
  }
  const table = (): Promise<TableClient> => connection.table(SCAN_REPORTS_TABLE_SUFFIX);
  const tableName = connection.tableName(SCAN_REPORTS_TABLE_SUFFIX);

  async function pointRead(client: TableClient, partitionKey: string, rowKey: string): Promise<Entity | undefined> {
    try {
      return await client.getEntity<Record<string, unknown>>(partitionKey, rowKey);
    } catch (error) {
      if (hasStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async function deleteIfThere(client: TableClient, partitionKey: string, rowKey: string): Promise<void> {
    await client.deleteEntity(partitionKey, rowKey).catch((error: unknown) => {
      if (!hasStatus(error, 404)) throw error;
    });
  }

  /**
   * Removes one scan: its status row first (from then on a GET answers 404), then its report
   * rows, then its index row last, so that a prune cut short is found and finished by the next.
   */
  async function removeScan(client: TableClient, scanId: string, indexKey: string): Promise<void> {
    await deleteIfThere(client, scanId, STATUS_ROW);
    // A scan holds at most MAX_REPORT_ROWS rows besides its status row.
    await deleteWhere(client, scanId, odata`PartitionKey eq ${scanId}`, MAX_REPORT_ROWS + 1);
    await deleteIfThere(client, INDEX_PARTITION, indexKey);
  }

  /** One page of the index, newest first: whatever lies beyond the newest `retainedScans` goes. */
  async function prune(client: TableClient): Promise<number> {
    const pages = client
      .listEntities({ queryOptions: { filter: odata`PartitionKey eq ${INDEX_PARTITION}`, select: ['RowKey', 'scanId'] } })
      .byPage({ maxPageSize: retainedScans + PRUNED_SCANS_PER_WRITE });
    const first = await pages.next();
    const rows = first.done ? [] : first.value;
    const beyond = rows.slice(retainedScans, retainedScans + PRUNED_SCANS_PER_WRITE);
    for (const row of beyond) {
      const indexKey = row.rowKey ?? '';
      const scanId = typeof row.scanId === 'string' ? row.scanId : indexKey.slice(indexKey.indexOf(':') + 1);
      await removeScan(client, scanId, indexKey);
    }
    return beyond.length;
  }

  function decodeStatus(scanId: string, entity: Entity) {
    const parsed = StatusRow.safeParse(entity);
    if (!parsed.success) {
      const why = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
      throw new CorruptEntityError(`the ${tableName} entity ${scanId}/${STATUS_ROW} cannot be read: ${why}`);
    }
    return parsed.data;
  }

  async function readDocument(client: TableClient, scanId: string, reportRows: number): Promise<string | undefined> {
    const rows = await Promise.all(Array.from({ length: reportRows }, (_, index) => pointRead(client, scanId, reportRowKey(index))));
    if (rows.some((row) => row === undefined)) {
      // Pruned between the status row's read and these: the scan is no longer kept.
      if ((await pointRead(client, scanId, STATUS_ROW)) === undefined) return undefined;
      throw new CorruptEntityError(`the ${tableName} report of scan ${scanId} is missing rows of the ${reportRows} its status row names`);
    }
    const chunks: Buffer[] = [];
    for (const row of rows as Entity[]) {
      const count = row.chunks;
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > CHUNKS_PER_ROW) {
        throw new CorruptEntityError(`the ${tableName} entity ${scanId}/${row.rowKey} has no valid chunk count`);
      }
      for (let index = 0; index < count; index += 1) {
        const chunk = row[`chunk_${index}`];
        if (!(chunk instanceof Uint8Array))
          throw new CorruptEntityError(`the ${tableName} entity ${scanId}/${row.rowKey} is missing chunk_${index}`);
        chunks.push(Buffer.from(chunk));
      }
    }
    return (await gunzipAsync(Buffer.concat(chunks))).toString('utf8');
  }

  return {
    retainedScans,

    async recordStarted({ scanId, trigger, startedAt, aliveUntil }) {
      checkScanId(scanId);
      const client = await table();
      // The index row first: a status row always has one, so retention always finds it.
      await client.upsertEntity({ partitionKey: INDEX_PARTITION, rowKey: indexRowKey(startedAt, scanId), scanId, startedAt }, 'Replace');
      await client.upsertEntity(
        { partitionKey: scanId, rowKey: STATUS_ROW, status: 'running', trigger, startedAt, aliveUntil, schemaVersion: SCHEMA_VERSION },
        'Replace',
      );
      try {
        return { prunedScans: await prune(client) };
      } catch (error) {
        // Pruning is housekeeping: the scan goes on, and the next write prunes what this one left.
        return { prunedScans: 0, pruneError: error };
      }
    },

    async recordAlive(scanId, aliveUntil) {
      checkScanId(scanId);
      const client = await table();
      try {
        // Merge touches aliveUntil only: a status already finished or failed stays as it is.
        await client.updateEntity({ partitionKey: scanId, rowKey: STATUS_ROW, aliveUntil }, 'Merge');
      } catch (error) {
        if (!hasStatus(error, 404)) throw error;
      }
    },

    async recordFinished(scanId, { finishedAt, document }) {
      checkScanId(scanId);
      const zipped = await gzipped(document);
      const rowBytes = CHUNK_BYTES * CHUNKS_PER_ROW;
      const reportRows = Math.max(1, Math.ceil(zipped.length / rowBytes));
      if (reportRows > MAX_REPORT_ROWS) {
        throw new Error(
          `the report of scan ${scanId} is ${zipped.length} bytes gzipped, over the ${MAX_REPORT_ROWS * rowBytes} bytes kept for one scan; the scan itself is recorded (GET /api/subscriptions has its results)`,
        );
      }
      const client = await table();
      for (let row = 0; row < reportRows; row += 1) {
        const slice = zipped.subarray(row * rowBytes, (row + 1) * rowBytes);
        const entity: Record<string, unknown> = { partitionKey: scanId, rowKey: reportRowKey(row), schemaVersion: SCHEMA_VERSION };
        let chunks = 0;
        for (let offset = 0; offset < slice.length || chunks === 0; offset += CHUNK_BYTES) {
          entity[`chunk_${chunks}`] = new Uint8Array(slice.subarray(offset, offset + CHUNK_BYTES));
          chunks += 1;
        }
        entity.chunks = chunks;
        await client.upsertEntity(entity as { partitionKey: string; rowKey: string }, 'Replace');
      }
      // The status row last: a reader that sees `finished` finds every report row.
      await client.updateEntity(
        { partitionKey: scanId, rowKey: STATUS_ROW, status: 'finished', finishedAt, reportRows, reportBytes: zipped.length },
        'Merge',
      );
    },

    async recordFailed(scanId, { failedAt, failure }) {
      checkScanId(scanId);
      const client = await table();
      await client.updateEntity(
        {
          partitionKey: scanId,
          rowKey: STATUS_ROW,
          status: 'failed',
          failedAt,
          failureKind: failure.kind,
          failureReason: failure.reason.slice(0, MAX_REASON_CHARS),
          failureInvocationId: failure.invocationId,
        },
        'Merge',
      );
    },

    async get(scanId): Promise<StoredScan | undefined> {
      checkScanId(scanId);
      const client = await table();
      const entity = await pointRead(client, scanId, STATUS_ROW);
      if (!entity) return undefined;
      const row = decodeStatus(scanId, entity);
      const common = { scanId, trigger: row.trigger, startedAt: row.startedAt };
      switch (row.status) {
        case 'running':
          return { status: 'running', ...common, aliveUntil: row.aliveUntil };
        case 'failed': {
          const failure: ScanFailure = { kind: row.failureKind, reason: row.failureReason, invocationId: row.failureInvocationId };
          return { status: 'failed', ...common, failedAt: row.failedAt, failure };
        }
        case 'finished': {
          const document = await readDocument(client, scanId, row.reportRows);
          return document === undefined ? undefined : { status: 'finished', ...common, finishedAt: row.finishedAt, document };
        }
      }
    },
  };
}
