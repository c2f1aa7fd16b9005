/**
 * Exemptions as stored, and the tables a store creates, for any table service.
 */
import { describe, expect, it } from 'vitest';
import { InvalidExemptionError, isExemptionActive } from '../../src/core/exemptions.js';
import type { TableBackend } from './backends.js';
import { manualClock, subscriptionIdFor, uniquePrefix } from './support.js';

const id = subscriptionIdFor(5);
const request = {
  subscriptionId: id,
  reason: 'lab subscription, deleted at quarter end',
  owner: 'jane@fabrikam.com',
  expiresOn: '2025-06-30',
  createdBy: 'jane@fabrikam.com',
};

export function stateExemptionsContract(backend: TableBackend): void {
  describe('exemptions in the store', () => {
    it('stores, lists (expired ones included), replaces and removes', async () => {
      const clock = manualClock('2025-05-01T09:00:00Z');
      const store = backend.openStateStore({ tablePrefix: uniquePrefix(), clock: clock.now });
      const stored = await store.putExemption(request);
      expect(stored).toEqual({ ...request, createdAt: '2025-05-01T09:00:00.000Z' });
      await store.putExemption({ ...request, subscriptionId: subscriptionIdFor(6), expiresOn: '2025-05-02' });
      expect(await store.getExemption(id.toUpperCase())).toEqual(stored);

      clock.set('2025-05-03T00:00:00Z');
      const listed = await store.listExemptions();
      expect(listed.map((e) => [e.subscriptionId, isExemptionActive(e, clock.now())])).toEqual([
        [id, true],
        [subscriptionIdFor(6), false],
      ]);

      const renewed = await store.putExemption({ ...request, expiresOn: '2025-07-31', reason: 'extended' });
      expect((await store.getExemption(id))?.expiresOn).toBe('2025-07-31');
      expect(renewed.reason).toBe('extended');

      expect(await store.removeExemption(id)).toBe(true);
      expect(await store.removeExemption(id)).toBe(false);
      expect(await store.getExemption(id)).toBeUndefined();
    });

    it('refuses an invalid exemption with every problem named, and stores nothing', async () => {
      const store = backend.openStateStore({ tablePrefix: uniquePrefix(), clock: () => new Date('2025-05-01T09:00:00Z') });
      const attempt = store.putExemption(
        { ...request, reason: ' ', owner: 'jane', expiresOn: '2026-05-02' },
        { fieldNames: { expiresOn: '--expires' } },
      );
      await expect(attempt).rejects.toBeInstanceOf(InvalidExemptionError);
      await expect(attempt).rejects.toThrow(
        /reason: must not be empty[\s\S]*owner: "jane" is not a valid e-mail address[\s\S]*--expires: 2026-05-02 is more than one year ahead; the latest allowed is 2026-05-01/,
      );
      expect(await store.listExemptions()).toEqual([]);
    });
  });

  describe('a new store', () => {
    it('creates its tables, prefixed, on first use', async () => {
      const prefix = uniquePrefix();
      const store = backend.openStateStore({ tablePrefix: prefix });
      await store.startRun({ scanId: 'scan-1', trigger: 'test' });
      const names = (await backend.tableNames()).filter((name) => name.startsWith(prefix));
      expect(names.sort()).toEqual([`${prefix}exemptions`, `${prefix}leases`, `${prefix}scanruns`, `${prefix}subscriptions`]);
      expect((await store.listScanRuns()).map((run) => [run.scanId, run.outcome])).toEqual([['scan-1', 'running']]);
    });

    it('lists scan runs newest first', async () => {
      const store = backend.openStateStore({ tablePrefix: uniquePrefix() });
      for (const [scanId, at] of [
        ['a', '2025-05-01T10:00:00Z'],
        ['c', '2025-05-01T11:00:00Z'],
        ['b', '2025-05-01T10:30:00Z'],
      ] as const) {
        await store.startRun({ scanId, trigger: 'timer', startedAt: new Date(at) });
      }
      expect((await store.listScanRuns()).map((run) => run.scanId)).toEqual(['c', 'b', 'a']);
      expect((await store.listScanRuns(2)).map((run) => run.scanId)).toEqual(['c', 'b']);
    });
  });
}
