/**
 * The stored scans behind GET /api/scans/{scanId}, for any table service: a status row per scan
 * read with one point read, the report gzipped over as many rows as it needs, and a bounded number
 * of scans kept, pruned a bounded number at a time. Requests are counted on their way to the service.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { AdditionalPolicyConfig } from '@azure/core-client';
import { odata } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import type { TableConnection } from '../../src/adapters/table-storage/index.js';
import {
  DEFAULT_RETAINED_SCANS,
  openScanReportStore,
  PRUNED_SCANS_PER_WRITE,
  SCAN_REPORTS_TABLE_SUFFIX,
} from '../../src/adapters/table-storage/scan-reports.js';
import type { ScanReportStore } from '../../src/scan/ports.js';
import type { TableBackend } from './backends.js';

let prefixes = 0;
/** Every request sent by the connections of this suite: method and URL (its query decoded). */
const sent: { method: string; url: string }[] = [];
const recordRequests: AdditionalPolicyConfig = {
  position: 'perCall',
  policy: {
    name: 'recordRequests',
    sendRequest: async (request, next) => {
      sent.push({ method: request.method, url: decodeURIComponent(request.url) });
      return next(request);
    },
  },
};

const BASE = Date.parse('2026-11-22T06:00:00.000Z');
const at = (minutes: number): string => new Date(BASE + minutes * 60_000).toISOString();

/** Starts and finishes one scan `minutes` after BASE; returns its id. */
async function finishedScan(store: ScanReportStore, minutes: number, document = `{"scan":"${minutes}"}\n`): Promise<string> {
  const scanId = randomUUID();
  await store.recordStarted({ scanId, trigger: 'timer', startedAt: at(minutes), aliveUntil: at(minutes + 35) });
  await store.recordFinished(scanId, { finishedAt: at(minutes + 1), document: [document] });
  return scanId;
}

async function rowsOf(connection: TableConnection, partitionKey: string): Promise<string[]> {
  const table = await connection.table(SCAN_REPORTS_TABLE_SUFFIX);
  const keys: string[] = [];
  for await (const entity of table.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${partitionKey}`, select: ['RowKey'] } })) {
    keys.push(entity.rowKey!);
  }
  return keys;
}

export function scanReportsContract(backend: TableBackend): void {
  /** A table of its own for each test. */
  function freshConnection(): TableConnection {
    prefixes += 1;
    return backend.connect({ tablePrefix: `reports${prefixes}`, additionalPolicies: [recordRequests] });
  }

  describe('openScanReportStore', () => {
    it('keeps a scan as running, then finished with its report, each read back with the fields it was given', async () => {
      const store = openScanReportStore(freshConnection());
      const scanId = randomUUID();
      expect(await store.get(scanId)).toBeUndefined();

      await store.recordStarted({ scanId, trigger: 'http', startedAt: at(0), aliveUntil: at(35) });
      expect(await store.get(scanId)).toEqual({ status: 'running', scanId, trigger: 'http', startedAt: at(0), aliveUntil: at(35) });
      await store.recordAlive(scanId, at(40));
      expect(await store.get(scanId)).toMatchObject({ status: 'running', aliveUntil: at(40) });

      const document = ['{\n  "schemaVersion": 1,', '\n  "subscriptions": []\n}\n'];
      await store.recordFinished(scanId, { finishedAt: at(3), document });
      expect(await store.get(scanId)).toEqual({
        status: 'finished',
        scanId,
        trigger: 'http',
        startedAt: at(0),
        finishedAt: at(3),
        document: document.join(''),
      });
    });

    it('keeps a failure with its kind, reason and invocation', async () => {
      const store = openScanReportStore(freshConnection());
      const scanId = randomUUID();
      await store.recordStarted({ scanId, trigger: 'timer', startedAt: at(0), aliveUntil: at(35) });
      const failure = {
        kind: 'azure',
        reason: 'Resource Graph could not be read: 403 AuthorizationFailed',
        invocationId: 'timer-invocation-9',
      } as const;
      await store.recordFailed(scanId, { failedAt: at(2), failure });
      expect(await store.get(scanId)).toEqual({ status: 'failed', scanId, trigger: 'timer', startedAt: at(0), failedAt: at(2), failure });
    });

    it('spreads a report larger than one entity over several rows and reads it back whole', async () => {
      const connection = freshConnection();
      const store = openScanReportStore(connection);
      // Random text does not compress much: about 2 MB gzipped, three report rows.
      const document = Array.from({ length: 40 }, () => randomBytes(50_000).toString('base64'));
      const scanId = await finishedScan(store, 0, document.join(''));
      expect((await rowsOf(connection, scanId)).length).toBeGreaterThanOrEqual(4); // the status row and three report parts
      const stored = await store.get(scanId);
      expect(stored?.status === 'finished' && stored.document).toBe(document.join(''));
    });

    it('reads a scan with point reads of its own rows only, however many scans are kept', async () => {
      const connection = freshConnection();
      const store = openScanReportStore(connection);
      const scanId = await finishedScan(store, 0);
      const requestsFor = async (): Promise<{ method: string; url: string }[]> => {
        sent.length = 0;
        await store.get(scanId);
        return [...sent];
      };
      const first = await requestsFor();
      for (let minutes = 30; minutes <= 30 * 20; minutes += 30) await finishedScan(store, minutes);
      const later = await requestsFor();
      expect(later.length).toBe(first.length);
      for (const request of later) {
        expect(request.method).toBe('GET');
        // A point read names its keys in the path: PartitionKey='<scanId>',RowKey='…'; no query.
        expect(request.url).toContain(`(PartitionKey='${scanId}',RowKey='`);
        expect(request.url).not.toMatch(/\$filter/);
      }
    });

    it('keeps the newest scans only, and removes every row of those it prunes', async () => {
      const connection = freshConnection();
      const store = openScanReportStore(connection, { retainedScans: 3 });
      expect(store.retainedScans).toBe(3);
      const ids: string[] = [];
      for (let index = 0; index < 6; index += 1) ids.push(await finishedScan(store, index * 30));
      for (const scanId of ids.slice(0, 3)) {
        expect(await store.get(scanId), scanId).toBeUndefined();
        expect(await rowsOf(connection, scanId)).toEqual([]);
      }
      for (const scanId of ids.slice(3)) expect((await store.get(scanId))?.status).toBe('finished');
    });

    it(`prunes at most ${PRUNED_SCANS_PER_WRITE} scans per write, and what is left over on later writes`, async () => {
      const connection = freshConnection();
      const generous = openScanReportStore(connection, { retainedScans: 20 });
      const ids: string[] = [];
      for (let index = 0; index < 12; index += 1) ids.push(await finishedScan(generous, index * 30));

      const strict = openScanReportStore(connection, { retainedScans: 1 });
      const kept = async (): Promise<number> => (await Promise.all(ids.map((scanId) => strict.get(scanId)))).filter(Boolean).length;
      const newest: string[] = [];
      const start = async (minutes: number): Promise<number> => {
        const scanId = randomUUID();
        newest.push(scanId);
        return (await strict.recordStarted({ scanId, trigger: 'http', startedAt: at(minutes), aliveUntil: at(minutes + 35) })).prunedScans;
      };
      expect(await start(12 * 30)).toBe(PRUNED_SCANS_PER_WRITE);
      expect(await kept()).toBe(12 - PRUNED_SCANS_PER_WRITE);
      expect(await start(13 * 30)).toBe(PRUNED_SCANS_PER_WRITE); // the previous newest and 4 more
      expect(await start(14 * 30)).toBe(4); // the previous newest and the last 3
      expect(await kept()).toBe(0);
      expect(await start(15 * 30)).toBe(1);
      expect((await strict.get(newest.at(-1)!))?.status).toBe('running');
    });

    it(`keeps ${DEFAULT_RETAINED_SCANS} scans unless told otherwise, and refuses a retention it cannot honour`, () => {
      expect(openScanReportStore(freshConnection()).retainedScans).toBe(DEFAULT_RETAINED_SCANS);
      for (const retainedScans of [0, -1, 1.5, Number.NaN, 100_000]) {
        expect(() => openScanReportStore(freshConnection(), { retainedScans }), String(retainedScans)).toThrow(/retainedScans/);
      }
    });
  });
}
