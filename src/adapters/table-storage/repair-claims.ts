/**
 * Claims on the repair of one subscription (the RepairClaims port of src/remediation/ports.ts):
 * a lease row per subscription in `<prefix>leases`, named `repair-<subscription id>`, taken and
 * released with its ETag exactly as the scan lease is (scan-lease.ts), and deleted on release, so
 * no row is left behind once a repair is done.
 */
import type { RepairClaim, RepairClaims } from '../../remediation/ports.js';
import type { TableConnection } from './connection.js';
import { openScanLease } from './scan-lease.js';

export function openRepairClaims(connection: TableConnection, options: { clock?: () => Date } = {}): RepairClaims {
  return {
    async tryClaim(subscriptionId: string, holder: string, ttlMs: number): Promise<RepairClaim | undefined> {
      const lease = openScanLease(connection, { ...options, name: `repair-${subscriptionId.toLowerCase()}` });
      const taken = await lease.tryAcquire(holder, ttlMs);
      if (!taken.acquired) return undefined;
      return { release: () => lease.release(taken.token) };
    },
  };
}
