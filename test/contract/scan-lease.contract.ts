/**
 * The scan lease's contract, for any table service: one holder at a time, expiry takeover,
 * ETag-checked renew and release. Time is a controllable clock, so nothing here waits for a lease
 * to expire.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LEASE_PARTITION, TABLE_SUFFIXES, type TableConnection } from '../../src/adapters/table-storage/index.js';
import { DEFAULT_SCAN_LEASE_NAME, openScanLease } from '../../src/adapters/table-storage/scan-lease.js';
import type { LeaseToken, ScanLease } from '../../src/scan/ports.js';
import type { TableBackend } from './backends.js';
import { uniquePrefix } from './support.js';

const MINUTE = 60_000;

function tokenOf(result: Awaited<ReturnType<ScanLease['tryAcquire']>>): LeaseToken {
  if (!result.acquired) throw new Error(`expected the lease, but ${result.holder} holds it`);
  return result.token;
}

async function expectHeldBy(lease: ScanLease, holder: string): Promise<void> {
  const attempt = await lease.tryAcquire('probe/1', MINUTE);
  expect(attempt).toMatchObject({ acquired: false, holder });
}

export function scanLeaseContract(backend: TableBackend): void {
  let connection: TableConnection;
  let now: Date;
  let leaseCount = 0;

  beforeAll(() => {
    connection = backend.connect({ tablePrefix: uniquePrefix() });
  });

  /** Each test gets a lease of its own name on the shared table, and a clock it moves. */
  function freshLease(): ScanLease {
    now = new Date('2026-11-22T06:00:00.000Z');
    leaseCount += 1;
    return openScanLease(connection, { clock: () => now, name: `test-${leaseCount}` });
  }

  function advance(ms: number): void {
    now = new Date(now.getTime() + ms);
  }

  describe('openScanLease', () => {
    it('lets exactly one of several holders racing for a free lease have it; the others are told who', async () => {
      const lease = freshLease();
      const results = await Promise.all(['a/1', 'b/2', 'c/3', 'd/4'].map((holder) => lease.tryAcquire(holder, 10 * MINUTE)));
      const winners = results.filter((result) => result.acquired);
      expect(winners).toHaveLength(1);
      const winner = tokenOf(winners[0]!);
      expect(winner.expiresAt).toBe('2026-11-22T06:10:00.000Z');
      for (const loser of results.filter((result) => !result.acquired)) {
        expect(loser).toEqual({ acquired: false, holder: winner.holder, expiresAt: winner.expiresAt });
      }
    });

    it('writes one row per lease name in the leases table, saying who holds it until when', async () => {
      const lease = openScanLease(connection, { clock: () => new Date('2026-11-22T06:00:00.000Z') });
      const token = tokenOf(await lease.tryAcquire('instance-a/inv-1', 5 * MINUTE));
      const table = await connection.table(TABLE_SUFFIXES.leases);
      const row = await table.getEntity<Record<string, unknown>>(LEASE_PARTITION, DEFAULT_SCAN_LEASE_NAME);
      expect(row).toMatchObject({ holder: 'instance-a/inv-1', expiresAt: '2026-11-22T06:05:00.000Z', schemaVersion: 1 });
      expect(row.etag).toBe(token.etag);
      await lease.release(token);
      await expect(table.getEntity(LEASE_PARTITION, DEFAULT_SCAN_LEASE_NAME)).rejects.toMatchObject({ statusCode: 404 });
    });

    it('refuses while the lease is held and lets another holder take it over once it has expired', async () => {
      const lease = freshLease();
      const first = tokenOf(await lease.tryAcquire('crashed/1', 30 * MINUTE));
      advance(29 * MINUTE);
      expect(await lease.tryAcquire('second/2', 30 * MINUTE)).toEqual({ acquired: false, holder: 'crashed/1', expiresAt: first.expiresAt });
      advance(1 * MINUTE); // exactly at expiresAt: expired
      const second = tokenOf(await lease.tryAcquire('second/2', 30 * MINUTE));
      expect(second.expiresAt).toBe('2026-11-22T07:00:00.000Z');
      await expectHeldBy(lease, 'second/2');
      // The first holder has lost it: it can neither renew nor release the new holder's lease.
      expect(await lease.renew(first, 30 * MINUTE)).toBe(false);
      await lease.release(first);
      await expectHeldBy(lease, 'second/2');
    });

    it('lets exactly one of two holders racing for an expired lease take it over', async () => {
      const lease = freshLease();
      tokenOf(await lease.tryAcquire('crashed/1', MINUTE));
      advance(2 * MINUTE);
      const results = await Promise.all([lease.tryAcquire('x/1', MINUTE), lease.tryAcquire('y/2', MINUTE)]);
      expect(results.filter((result) => result.acquired)).toHaveLength(1);
      const winner = tokenOf(results.find((result) => result.acquired)!);
      expect(results.find((result) => !result.acquired)).toEqual({ acquired: false, holder: winner.holder, expiresAt: winner.expiresAt });
    });

    it('ignores a release by a stale token and frees the lease on a release by the current one', async () => {
      const lease = freshLease();
      const token = tokenOf(await lease.tryAcquire('a/1', 10 * MINUTE));
      const staleCopy = { ...token };
      expect(await lease.renew(token, 10 * MINUTE)).toBe(true); // staleCopy's ETag is now out of date
      await lease.release(staleCopy);
      await expectHeldBy(lease, 'a/1');
      await lease.release(token);
      const next = await lease.tryAcquire('b/2', 10 * MINUTE);
      expect(next.acquired).toBe(true);
    });

    it('renews: the expiry moves on, the token follows the new ETag, and others stay out past the old expiry', async () => {
      const lease = freshLease();
      const token = tokenOf(await lease.tryAcquire('long-scan/1', 10 * MINUTE));
      const firstEtag = token.etag;
      advance(8 * MINUTE);
      expect(await lease.renew(token, 10 * MINUTE)).toBe(true);
      expect(token.expiresAt).toBe('2026-11-22T06:18:00.000Z');
      expect(token.etag).not.toBe(firstEtag);
      advance(5 * MINUTE); // past the first expiry (06:10), inside the renewed one
      expect(await lease.tryAcquire('other/2', 10 * MINUTE)).toEqual({
        acquired: false,
        holder: 'long-scan/1',
        expiresAt: '2026-11-22T06:18:00.000Z',
      });
      // A renewed lease can be renewed again and released with the same token.
      expect(await lease.renew(token, 10 * MINUTE)).toBe(true);
      await lease.release(token);
      expect((await lease.tryAcquire('other/2', 10 * MINUTE)).acquired).toBe(true);
    });

    it('cannot renew a lease that was released', async () => {
      const lease = freshLease();
      const token = tokenOf(await lease.tryAcquire('a/1', 10 * MINUTE));
      await lease.release(token);
      expect(await lease.renew(token, 10 * MINUTE)).toBe(false);
    });

    it('takes over a lease row nobody can read instead of blocking every scan for ever', async () => {
      const name = 'test-corrupt';
      const table = await connection.table(TABLE_SUFFIXES.leases);
      await table.upsertEntity({ partitionKey: LEASE_PARTITION, rowKey: name, holder: 'someone', expiresAt: 'not a time' }, 'Replace');
      const lease = openScanLease(connection, { name });
      const result = await lease.tryAcquire('a/1', MINUTE);
      expect(result.acquired).toBe(true);
      expect((await table.getEntity<Record<string, unknown>>(LEASE_PARTITION, name)).holder).toBe('a/1');
    });

    it('refuses a time-to-live that is not positive', async () => {
      const lease = freshLease();
      await expect(lease.tryAcquire('a/1', 0)).rejects.toThrow(/time-to-live/);
    });
    it('refuses a holder the table cannot store, and the lease stays free', async () => {
      const lease = freshLease();
      // A 40,000-character property is over Table Storage's 32 K-character limit: the service answers 400.
      await expect(lease.tryAcquire('x'.repeat(40_000), MINUTE)).rejects.toMatchObject({ statusCode: 400 });
      expect((await lease.tryAcquire('a/1', MINUTE)).acquired).toBe(true);
    });
  });
}
