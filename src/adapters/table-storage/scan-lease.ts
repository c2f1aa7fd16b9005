/**
 * The scan lease (the ScanLease port of src/scan/ports.ts): one row in `<prefix>leases` per lease name, so
 * that only one tenant scan runs at a time across scaled-out instances. The row says who holds it
 * and until when; every change is conditional on the ETag last read, so of two instances racing
 * for a free or expired lease exactly one wins (the other gets 409 on create or 412 on replace).
 * The layout is in README.md beside this file ("The scan lease").
 */
import type { TableClient } from '@azure/data-tables';
import * as z from 'zod';
import type { LeaseToken, ScanLease } from '../../scan/ports.js';
import type { TableConnection } from './connection.js';
import { keySafe, LEASE_PARTITION, SCHEMA_VERSION, TABLE_SUFFIXES } from './entities.js';
import { hasStatus } from './table-errors.js';

export const DEFAULT_SCAN_LEASE_NAME = 'tenant-scan';

/** Create/replace races lost in a row before tryAcquire gives up (each loss means someone else moved). */
const MAX_ACQUIRE_ATTEMPTS = 5;

export interface ScanLeaseOptions {
  /** What "now" is when judging expiry and computing `expiresAt`. Default: the system clock. */
  clock?: () => Date;
  /** The lease's row key. Default `tenant-scan`. */
  name?: string;
}

const LeaseRow = z.object({
  holder: z.string().min(1),
  expiresAt: z.iso.datetime({ offset: true }),
});

interface CurrentLease {
  holder: string;
  expiresAt: string;
  /** Epoch ms of expiresAt; 0 for a row that cannot be read (taken over as if expired). */
  expiresAtMs: number;
  etag: string;
}

export function openScanLease(connection: TableConnection, options: ScanLeaseOptions = {}): ScanLease {
  const clock = options.clock ?? (() => new Date());
  const rowKey = keySafe(options.name ?? DEFAULT_SCAN_LEASE_NAME);
  const table = (): Promise<TableClient> => connection.table(TABLE_SUFFIXES.leases);

  const rowFor = (holder: string, now: Date, expiresAt: string) => ({
    partitionKey: LEASE_PARTITION,
    rowKey,
    holder,
    expiresAt,
    acquiredAt: now.toISOString(),
    schemaVersion: SCHEMA_VERSION,
  });

  async function read(client: TableClient): Promise<CurrentLease | undefined> {
    let entity;
    try {
      entity = await client.getEntity<Record<string, unknown>>(LEASE_PARTITION, rowKey);
    } catch (error) {
      if (hasStatus(error, 404)) return undefined;
      throw error;
    }
    const etag = entity.etag;
    const parsed = LeaseRow.safeParse(entity);
    // A row nobody can read would block every scan forever; it is taken over as if expired (with its ETag).
    if (!parsed.success) return { holder: '(unreadable lease row)', expiresAt: new Date(0).toISOString(), expiresAtMs: 0, etag };
    return { ...parsed.data, expiresAtMs: Date.parse(parsed.data.expiresAt), etag };
  }

  function checkTtl(ttlMs: number): void {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0)
      throw new RangeError(`lease time-to-live must be a positive number of milliseconds, not ${ttlMs}`);
  }

  return {
    async tryAcquire(holder, ttlMs) {
      checkTtl(ttlMs);
      if (holder.length === 0) throw new RangeError('a lease holder must be named');
      const client = await table();
      for (let attempt = 0; attempt < MAX_ACQUIRE_ATTEMPTS; attempt += 1) {
        const current = await read(client);
        const now = clock();
        const expiresAt = new Date(now.getTime() + ttlMs).toISOString();
        if (current && current.expiresAtMs > now.getTime()) {
          return { acquired: false, holder: current.holder, expiresAt: current.expiresAt };
        }
        try {
          const response = current
            ? await client.updateEntity(rowFor(holder, now, expiresAt), 'Replace', { etag: current.etag })
            : await client.createEntity(rowFor(holder, now, expiresAt));
          if (!response.etag) throw new Error('Table Storage answered a lease write without an ETag');
          return { acquired: true, token: { holder, etag: response.etag, expiresAt } };
        } catch (error) {
          // 409: someone created the row first. 412: someone replaced the expired row first.
          // 404: it was released (deleted) since it was read. Read again and report or retry.
          if (hasStatus(error, 409, 412, 404)) continue;
          throw error;
        }
      }
      throw new Error(`the scan lease "${rowKey}" changed hands ${MAX_ACQUIRE_ATTEMPTS} times while it was being taken; try again`);
    },

    /** Extends the lease; on success the token's `etag` and `expiresAt` are updated in place. */
    async renew(token: LeaseToken, ttlMs) {
      checkTtl(ttlMs);
      const client = await table();
      const now = clock();
      const expiresAt = new Date(now.getTime() + ttlMs).toISOString();
      try {
        const response = await client.updateEntity(
          { partitionKey: LEASE_PARTITION, rowKey, holder: token.holder, expiresAt, renewedAt: now.toISOString() },
          'Merge',
          { etag: token.etag },
        );
        if (!response.etag) throw new Error('Table Storage answered a lease write without an ETag');
        token.etag = response.etag;
        token.expiresAt = expiresAt;
        return true;
      } catch (error) {
        // Changed (taken over after expiry) or deleted since: this holder no longer has it.
        if (hasStatus(error, 412, 404)) return false;
        throw error;
      }
    },

    /** Deletes the row if it still carries the token's ETag; a stale token changes nothing. */
    async release(token: LeaseToken) {
      const client = await table();
      try {
        await client.deleteEntity(LEASE_PARTITION, rowKey, { etag: token.etag });
      } catch (error) {
        if (hasStatus(error, 412, 404)) return;
        throw error;
      }
    },
  };
}
