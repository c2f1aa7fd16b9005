/**
 * Two writers, one subscription, for any table service: every read-modify-write carries the ETag
 * it read, so the one that comes second re-reads and builds on the other's change instead of
 * erasing it.
 */
import { describe, expect, it } from 'vitest';
import type { TableEntityResult } from '@azure/data-tables';
import { TABLE_SUFFIXES, type TableStateStore as StateStore } from '../../src/adapters/table-storage/index.js';
import type { TableBackend } from './backends.js';
import { beforeFirst, manualClock, recordTenantRun, requestLog, subscriptionIdFor, uniquePrefix, verdict } from './support.js';

/** Resolves once `count` parties have arrived: both writers have read before either writes. */
function barrier(count: number): () => Promise<void> {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => (release = resolve));
  return async () => {
    arrived += 1;
    if (arrived === count) release();
    await all;
  };
}

const id = subscriptionIdFor(42);

export function stateConcurrencyContract(backend: TableBackend): void {
  async function seeded(prefix = uniquePrefix()): Promise<StateStore> {
    const store = backend.openStateStore({ tablePrefix: prefix });
    await recordTenantRun(store, 'scan-1', [verdict(id, 'noncompliant', 'Payments prod')]);
    return store;
  }

  describe('two writers update the same subscription at the same time', () => {
    it('without ETags (read, read, write, write) one change is lost', async () => {
      const store = await seeded();
      const table = await store.connection.table(TABLE_SUFFIXES.subscriptions);
      const read = () => table.getEntity<Record<string, unknown>>(id.charAt(0), `state:${id}`);
      const naiveWrite = (entity: TableEntityResult<Record<string, unknown>>) => {
        const { etag: _etag, timestamp: _timestamp, ...rest } = entity;
        return table.upsertEntity({ ...rest, partitionKey: id.charAt(0), rowKey: `state:${id}` }, 'Replace');
      };
      const [alerting, renaming] = await Promise.all([read(), read()]);
      await naiveWrite({ ...alerting, lastAlertedAt: '2025-05-01T10:00:00.000Z' });
      await naiveWrite({ ...renaming, displayName: 'Payments production' });

      const final = await store.getSubscription(id);
      expect(final?.displayName).toBe('Payments production');
      expect(final?.lastAlertedAt).toBeNull(); // the alert mark was overwritten: the lost update
    });

    it('with the store (ETag, 412, re-read, retry) both changes survive', async () => {
      const store = await seeded();
      const bothHaveRead = barrier(2);
      let calls = 0;
      const [alerted, renamed] = await Promise.all([
        store.updateSubscription(id, async (current) => {
          calls += 1;
          await bothHaveRead();
          return { ...current, lastAlertedAt: '2025-05-01T10:00:00.000Z' };
        }),
        store.updateSubscription(id, async (current) => {
          calls += 1;
          await bothHaveRead();
          return { ...current, displayName: 'Payments production' };
        }),
      ]);
      expect(calls).toBe(3); // the writer that lost the race read again and applied its change again
      expect(store.stats.conflictRetries).toBe(1);

      const final = await store.getSubscription(id);
      expect(final?.displayName).toBe('Payments production');
      expect(final?.lastAlertedAt).toBe('2025-05-01T10:00:00.000Z');
      expect([alerted?.lastAlertedAt, renamed?.lastAlertedAt]).toContain('2025-05-01T10:00:00.000Z');
    });

    it('markAlerted never moves lastAlertedAt back and leaves missing subscriptions alone', async () => {
      const store = await seeded();
      expect((await store.markAlerted([id, subscriptionIdFor(43)], new Date('2025-05-02T00:00:00Z'))).map((r) => r.subscriptionId)).toEqual(
        [id],
      );
      expect(await store.markAlerted([id], new Date('2025-05-01T00:00:00Z'))).toEqual([]);
      expect((await store.getSubscription(id))?.lastAlertedAt).toBe('2025-05-02T00:00:00.000Z');
      expect(await store.getSubscription(subscriptionIdFor(43))).toBeUndefined();
    });

    it('refuses a generic update that would change the status (it would bypass the history)', async () => {
      const store = await seeded();
      await expect(store.updateSubscription(id, (current) => ({ ...current, status: 'compliant' }))).rejects.toThrow(
        /may not change the status/,
      );
      expect((await store.getSubscription(id))?.status).toBe('noncompliant');
    });
  });

  describe('a scan run and other writers', () => {
    it('an alert mark made while a run plans survives the run, and the run still records its change', async () => {
      const prefix = uniquePrefix();
      const setup = await seeded(prefix);
      const other = subscriptionIdFor(58); // same partition as `id` (first hex digit 10 = 'a')
      expect(other.charAt(0)).toBe(id.charAt(0));
      const log = requestLog();
      // The alerting side marks the subscription just before the run's first transaction is sent.
      const interleave = beforeFirst(
        (request) => request.target === '$batch',
        async () => {
          await setup.markAlerted([id], new Date('2025-05-01T10:05:00Z'));
        },
      );
      const store = backend.openStateStore({ tablePrefix: prefix, additionalPolicies: [log.policy, interleave] });
      const result = await store.recordRun({
        scanId: 'scan-2',
        trigger: 'test',
        evaluate: async () => ({
          status: 'succeeded',
          scope: 'tenant',
          subscriptionListComplete: true,
          verdicts: [verdict(id, 'compliant', 'Payments prod'), verdict(other, 'noncompliant')],
          readSubscriptionIds: [id, other],
        }),
      });
      expect(interleave.ran).toBe(true);
      expect(store.stats.conflictRetries).toBe(1);
      expect(log.batches().map((batch) => batch.status)).toEqual([202, 202]); // the first failed inside (412), the retry went through

      const final = await store.getSubscription(id);
      expect(final?.status).toBe('compliant'); // the run's change
      expect(final?.lastAlertedAt).toBe('2025-05-01T10:05:00.000Z'); // the alert mark
      expect((await store.getSubscription(other))?.status).toBe('noncompliant');
      expect(result.changes.map((change) => [change.subscriptionId, change.from, change.to])).toEqual([
        [id, 'noncompliant', 'compliant'],
        [other, null, 'noncompliant'],
      ]);
      expect((await store.history(id)).map((change) => change.to)).toEqual(['noncompliant', 'compliant']);
    });

    it('an event evaluated after the run started is newer than what the run read: the run leaves it', async () => {
      const prefix = uniquePrefix();
      const clock = manualClock('2025-05-01T10:00:00Z');
      const setup = backend.openStateStore({ tablePrefix: prefix, clock: clock.now });
      await recordTenantRun(setup, 'scan-1', [verdict(id, 'noncompliant')]);
      clock.set('2025-05-01T10:30:00Z');
      const runStarted = clock.now();
      // The event: someone fixed the contact; the drift event re-reads it while the scan is still running.
      const interleave = beforeFirst(
        (request) => request.target === '$batch',
        async () => {
          clock.set('2025-05-01T10:31:00Z');
          await setup.recordEvaluation(verdict(id, 'compliant'), { evaluatedBy: 'event:fixed', readAt: clock.now() });
          clock.set('2025-05-01T10:32:00Z');
        },
      );
      const store = backend.openStateStore({ tablePrefix: prefix, clock: clock.now, additionalPolicies: [interleave] });
      // The scan read the subscription before the fix (still noncompliant) but has a new display name for it.
      const result = await store.recordRun({
        scanId: 'scan-2',
        trigger: 'test',
        startedAt: runStarted,
        evaluate: async () => ({
          status: 'succeeded',
          scope: 'tenant',
          subscriptionListComplete: true,
          verdicts: [verdict(id, 'noncompliant', 'renamed'), verdict(subscriptionIdFor(26), 'compliant')],
          readSubscriptionIds: [id, subscriptionIdFor(26)],
        }),
      });
      expect(interleave.ran).toBe(true);
      expect(result.records.map((record) => record.subscriptionId)).toEqual([subscriptionIdFor(26)]);
      const final = await store.getSubscription(id);
      expect(final).toMatchObject({ status: 'compliant', lastEvaluatedBy: 'event:fixed' });
      expect((await store.history(id)).map((change) => [change.to, change.evaluatedBy])).toEqual([
        ['noncompliant', 'scan-1'],
        ['compliant', 'event:fixed'],
      ]);
    });
  });
}
