/**
 * The state store's contract, for any table service: what a run writes (and does not), partial and
 * failed runs, `gone`, exemptions and the history, overlapping runs, pruning. Requests are counted
 * on their way to the service by a pipeline policy, which sees the same requests whichever service
 * answers them.
 */
import { describe, expect, it } from 'vitest';
import type { SubscriptionVerdict } from '../../src/core/model.js';
import { StateWriteError, type RunResult } from '../../src/scan/ports.js';
import type { TableStateStore as StateStore } from '../../src/adapters/table-storage/index.js';
import type { TableBackend } from './backends.js';
import {
  beforeFirst,
  failNth,
  manualClock,
  refuseEntity,
  requestLog,
  subscriptionIdFor,
  uniquePrefix,
  verdict,
  type RequestLog,
} from './support.js';

const DAY_MS = 86_400_000;

const complete = (verdicts: SubscriptionVerdict[], extra: Partial<RunResult> = {}): RunResult => ({
  status: 'succeeded',
  scope: 'tenant',
  subscriptionListComplete: true,
  verdicts,
  readSubscriptionIds: verdicts.map((v) => v.subscriptionId),
  ...extra,
});

async function run(store: StateStore, scanId: string, result: RunResult | (() => Promise<RunResult>), startedAt?: Date) {
  return store.recordRun({
    scanId,
    trigger: 'test',
    ...(startedAt && { startedAt }),
    evaluate: typeof result === 'function' ? result : async () => result,
  });
}

export function stateRunsContract(backend: TableBackend): void {
  function openStore(
    options: {
      log?: RequestLog;
      clock?: () => Date;
      extraPolicies?: Array<ReturnType<typeof failNth> | ReturnType<typeof refuseEntity>>;
      prefix?: string;
    } = {},
  ): StateStore {
    return backend.openStateStore({
      tablePrefix: options.prefix ?? uniquePrefix(),
      additionalPolicies: [...(options.log ? [options.log.policy] : []), ...(options.extraPolicies ?? [])],
      ...(options.clock && { clock: options.clock }),
    });
  }

  describe('an unchanged tenant', () => {
    it('costs no subscription writes on the second scan of 2,000 subscriptions, only its scan row', async () => {
      const log = requestLog();
      const clock = manualClock('2025-05-01T10:00:00Z');
      const prefix = uniquePrefix();
      const store = openStore({ log, clock: clock.now, prefix });
      const verdicts = Array.from({ length: 2_000 }, (_, i) => verdict(subscriptionIdFor(i), i % 10 === 0 ? 'noncompliant' : 'compliant'));
      const subscriptionsTable = `${prefix}subscriptions`;
      const scanRunsTable = `${prefix}scanruns`;

      const first = await run(store, 'scan-1', complete(verdicts), clock.now());
      expect(first.run.outcome).toBe('succeeded');
      expect(first.records).toHaveLength(2_000);
      expect(first.changes).toHaveLength(2_000); // each first sighting is a history entry
      // 2,000 state rows and 2,000 history rows went over the wire, all in transactions.
      expect(log.entityWrites(subscriptionsTable)).toHaveLength(4_000);
      const firstBatches = log.batches().filter((batch) => batch.operations.some((op) => op.table === subscriptionsTable));
      expect(firstBatches.length).toBeLessThanOrEqual(Math.ceil(4_000 / 100) + 16);

      log.clear();
      clock.advance(30 * 60_000);
      const second = await run(store, 'scan-2', complete(verdicts), clock.now());
      expect(second.run.outcome).toBe('succeeded');
      expect(second.records).toHaveLength(0);
      expect(second.run.subscriptionWrites).toBe(0);
      expect(log.entityWrites(subscriptionsTable)).toEqual([]);
      expect(log.batches()).toEqual([]);
      // Only its scan row, created when it started and replaced when it finished, and the mark
      // naming it the newest complete run.
      const writes = log.requests.filter(
        (request) => ['POST', 'PUT', 'PATCH', 'MERGE', 'DELETE'].includes(request.method) && request.target !== 'Tables',
      );
      expect(writes.map((request) => [request.method, request.target, request.operations[0]?.partitionKey])).toEqual([
        ['POST', scanRunsTable, 'run'],
        ['PUT', scanRunsTable, 'run'],
        ['PUT', scanRunsTable, 'mark'],
      ]);

      // Last evaluated stays fresh without the writes: the complete run vouches for every subscription.
      const stored = await store.loadSubscriptions();
      expect(stored).toHaveLength(2_000);
      expect(new Set(stored.map((record) => record.lastEvaluatedBy))).toEqual(new Set(['scan-2']));
      expect(stored[0]?.lastEvaluatedAt).toBe(second.run.evaluatedAt);
      expect(stored.filter((record) => record.status === 'noncompliant')).toHaveLength(200);

      // A third scan where one subscription changes writes that one entity and its history row, in one transaction.
      log.clear();
      clock.advance(30 * 60_000);
      const changedId = subscriptionIdFor(7);
      const third = await run(
        store,
        'scan-3',
        complete(verdicts.map((v) => (v.subscriptionId === changedId ? verdict(changedId, 'noncompliant') : v))),
        clock.now(),
      );
      expect(third.records.map((record) => record.subscriptionId)).toEqual([changedId]);
      const thirdWrites = log.entityWrites(subscriptionsTable);
      expect(thirdWrites.map((op) => op.rowKey.split(':').slice(0, 2).join(':'))).toEqual([`state:${changedId}`, `history:${changedId}`]);
      expect(log.batches()).toHaveLength(1);
    });

    it('never sends a transaction of more than 100 operations or across partitions', async () => {
      const log = requestLog();
      const store = openStore({ log });
      // 1,600 subscriptions changing status twice: state + history rows, 200 operations per partition each time.
      const ids = Array.from({ length: 1_600 }, (_, i) => subscriptionIdFor(i));
      await run(store, 'scan-a', complete(ids.map((id) => verdict(id, 'compliant'))));
      await run(store, 'scan-b', complete(ids.map((id) => verdict(id, 'noncompliant'))));
      const batches = log.batches();
      expect(batches.length).toBeGreaterThanOrEqual(64);
      for (const batch of batches) {
        expect(batch.operations.length).toBeGreaterThan(0);
        expect(batch.operations.length).toBeLessThanOrEqual(100);
        expect(new Set(batch.operations.map((op) => op.partitionKey)).size).toBe(1);
        expect(new Set(batch.operations.map((op) => op.table)).size).toBe(1);
        expect(batch.status).toBe(202);
      }
      // Every operation was accounted for: 1,600 × (state + history) × 2 runs.
      expect(batches.reduce((sum, batch) => sum + batch.operations.length, 0)).toBe(6_400);
      // A status change and its history entry travel together, in the same transaction.
      for (const batch of batches) {
        const states = batch.operations.filter((op) => op.rowKey.startsWith('state:')).map((op) => op.rowKey.slice('state:'.length));
        const histories = batch.operations.filter((op) => op.rowKey.startsWith('history:')).map((op) => op.rowKey.split(':')[1]);
        expect(histories).toEqual(states);
      }
    });
  });

  describe('partial and failed runs', () => {
    const [a, b, c, d] = [subscriptionIdFor(1), subscriptionIdFor(2), subscriptionIdFor(3), subscriptionIdFor(4)] as [
      string,
      string,
      string,
      string,
    ];

    it('a partial run changes only what it read: never compliant or gone for what it did not read', async () => {
      const store = openStore();
      await run(store, 'scan-1', complete([verdict(a, 'noncompliant'), verdict(b, 'noncompliant'), verdict(c, 'compliant')]));

      // The scan stopped half way: it read a (now compliant); b's verdict came without a reading; c was never reached.
      const partial = await run(store, 'scan-2', {
        status: 'partial',
        scope: 'tenant',
        subscriptionListComplete: false,
        verdicts: [verdict(a, 'compliant'), verdict(b, 'compliant')],
        readSubscriptionIds: [a],
      });
      expect(partial.run.outcome).toBe('partial');
      const byId = new Map((await store.loadSubscriptions()).map((record) => [record.subscriptionId, record]));
      expect(byId.get(a)?.status).toBe('compliant');
      expect(byId.get(b)?.status).toBe('noncompliant');
      expect(byId.get(c)?.status).toBe('compliant');
      expect(partial.records.map((record) => record.subscriptionId)).toEqual([a]);
    });

    it('marks a subscription gone only after a run that listed the whole tenant', async () => {
      const store = openStore();
      await run(store, 'scan-1', complete([verdict(a, 'noncompliant'), verdict(b, 'compliant')]));
      const statusOfB = async () => (await store.getSubscription(b))?.status;

      await run(store, 'scan-2', { ...complete([verdict(a, 'noncompliant')]), status: 'partial', subscriptionListComplete: false });
      expect(await statusOfB()).toBe('compliant');
      await run(store, 'scan-3', { ...complete([verdict(a, 'noncompliant')]), scope: 'subset' });
      expect(await statusOfB()).toBe('compliant');
      await run(store, 'scan-4', { ...complete([verdict(a, 'noncompliant')]), status: 'failed' });
      expect(await statusOfB()).toBe('compliant');

      // The listing was complete; that a's contact could not be read does not matter to b.
      const gone = await run(store, 'scan-5', { ...complete([verdict(a, 'error')]), status: 'partial' });
      expect(await statusOfB()).toBe('gone');
      expect(gone.changes.map((change) => [change.subscriptionId, change.from, change.to, change.evaluatedBy])).toEqual([
        [a, 'noncompliant', 'error', 'scan-5'],
        [b, 'compliant', 'gone', 'scan-5'],
      ]);

      // It comes back: judged again, first sighting kept.
      const firstSeen = (await store.getSubscription(b))?.firstSeenAt;
      await run(store, 'scan-6', complete([verdict(a, 'noncompliant'), verdict(b, 'noncompliant')]));
      const back = await store.getSubscription(b);
      expect(back?.status).toBe('noncompliant');
      expect(back?.firstSeenAt).toBe(firstSeen);
      expect((await store.history(b)).map((change) => [change.from, change.to])).toEqual([
        [null, 'compliant'],
        ['compliant', 'gone'],
        ['gone', 'noncompliant'],
      ]);
    });

    it('an evaluation read before the stored one never replaces it, whichever is written last', async () => {
      const clock = manualClock('2025-05-01T10:00:00Z');
      const store = openStore({ clock: clock.now });
      const id = subscriptionIdFor(40);
      await store.recordEvaluation(verdict(id, 'compliant'), { evaluatedBy: 'event:setup', readAt: clock.now() });

      // Two events about one subscription: the first read it while its contact was still there,
      // the second after it was deleted, and the second is written first.
      const olderReading = new Date('2025-05-01T10:05:00Z');
      const newerReading = new Date('2025-05-01T10:05:02Z');
      clock.set('2025-05-01T10:05:03Z');
      const deleted = await store.recordEvaluation(verdict(id, 'noncompliant'), { evaluatedBy: 'event:delete', readAt: newerReading });
      expect(deleted).toMatchObject({ superseded: false, record: { status: 'noncompliant' } });
      clock.set('2025-05-01T10:05:04Z');
      const late = await store.recordEvaluation(verdict(id, 'compliant'), { evaluatedBy: 'event:write', readAt: olderReading });

      expect(late).toMatchObject({ superseded: true, change: null, record: { status: 'noncompliant', lastEvaluatedBy: 'event:delete' } });
      expect(await store.getSubscription(id)).toMatchObject({
        status: 'noncompliant',
        lastEvaluatedBy: 'event:delete',
        readAt: newerReading.toISOString(),
      });
      expect((await store.history(id)).map((change) => [change.to, change.evaluatedBy])).toEqual([
        ['compliant', 'event:setup'],
        ['noncompliant', 'event:delete'],
      ]);
    });

    it('a scan whose verdict source throws leaves every stored status as it was', async () => {
      const log = requestLog();
      const prefix = uniquePrefix();
      const store = openStore({ log, prefix });
      await run(store, 'scan-1', complete([verdict(a, 'noncompliant'), verdict(b, 'compliant'), verdict(c, 'error')]));
      const before = await store.loadSubscriptions();
      log.clear();

      await expect(
        run(store, 'scan-2', async () => {
          throw new Error('Resource Graph: 503 after 4 retries');
        }),
      ).rejects.toThrow('Resource Graph: 503');
      expect(log.entityWrites(`${prefix}subscriptions`)).toEqual([]);
      const after = await store.loadSubscriptions();
      expect(after.map((r) => [r.subscriptionId, r.status, r.statusSince])).toEqual(
        before.map((r) => [r.subscriptionId, r.status, r.statusSince]),
      );
      const [latest] = await store.listScanRuns(1);
      expect(latest).toMatchObject({ scanId: 'scan-2', outcome: 'failed', error: 'Resource Graph: 503 after 4 retries' });
    });

    it('a run whose writes fail after some partitions undoes what it wrote: every status as it was', async () => {
      const prefix = uniquePrefix();
      const log = requestLog();
      // The third transaction towards the subscriptions table dies on the wire.
      const fault = failNth(
        (request) => request.target === '$batch' && request.operations.some((op) => op.table === `${prefix}subscriptions`),
        3,
      );
      const clock = manualClock('2025-05-01T10:00:00Z');
      const setup = openStore({ prefix, clock: clock.now });
      const ids = Array.from({ length: 320 }, (_, i) => subscriptionIdFor(i));
      await run(setup, 'scan-1', complete(ids.map((id) => verdict(id, 'compliant'))), clock.now());
      const before = await setup.loadSubscriptions();
      const historyBefore = await setup.history(ids[5] as string);

      clock.advance(60_000);
      const store = openStore({ prefix, log, clock: clock.now, extraPolicies: [fault] });
      const failing = run(store, 'scan-2', complete(ids.map((id) => verdict(id, 'noncompliant'))), clock.now());
      await expect(failing).rejects.toBeInstanceOf(StateWriteError);
      await expect(failing).rejects.toThrow(/were undone/);
      expect(fault.failures).toBe(1);
      // Some partitions had really been written before the failure...
      const committedBatches = log.batches().filter((batch) => batch.status === 202 && batch.operations.some((op) => op.method === 'PUT'));
      expect(committedBatches.length).toBeGreaterThanOrEqual(2);

      // ...and yet every stored status, its since and its findings are as they were, and no history was added.
      const after = await setup.loadSubscriptions();
      expect(after.map((r) => [r.subscriptionId, r.status, r.statusSince, r.findings])).toEqual(
        before.map((r) => [r.subscriptionId, r.status, r.statusSince, r.findings]),
      );
      for (const id of ids.slice(0, 32)) expect(await setup.history(id)).toHaveLength(1);
      expect(await setup.history(ids[5] as string)).toEqual(historyBefore);
      const [latest] = await setup.listScanRuns(1);
      expect(latest?.outcome).toBe('failed');
      expect(latest?.error).toMatch(/injected: connection reset by peer/);

      // The next run, with a healthy store, records the change completely.
      clock.advance(60_000);
      const next = await run(setup, 'scan-3', complete(ids.map((id) => verdict(id, 'noncompliant'))), clock.now());
      expect(next.records).toHaveLength(320);
      expect(new Set((await setup.loadSubscriptions()).map((r) => r.status))).toEqual(new Set(['noncompliant']));
    });

    it('a first sighting that could not be read is recorded as error, never as compliant', async () => {
      const store = openStore();
      await run(store, 'scan-1', {
        status: 'partial',
        scope: 'tenant',
        subscriptionListComplete: false,
        verdicts: [verdict(d, 'error'), verdict(a, 'compliant')],
        readSubscriptionIds: [],
      });
      expect((await store.getSubscription(d))?.status).toBe('error');
      expect(await store.getSubscription(a)).toBeUndefined();
    });
  });

  describe('history and exemptions', () => {
    const id = subscriptionIdFor(9);

    it('holds both transitions when a subscription turns non-compliant and is fixed', async () => {
      const clock = manualClock('2025-05-01T10:00:00Z');
      const store = openStore({ clock: clock.now });
      await run(store, 'scan-1', complete([verdict(id, 'compliant')]), clock.now());
      clock.advance(3_600_000);
      await run(store, 'scan-2', complete([verdict(id, 'noncompliant')]), clock.now());
      const broken = await store.getSubscription(id);
      expect(broken).toMatchObject({
        status: 'noncompliant',
        noncompliantSince: '2025-05-01T11:00:00.000Z',
        statusSince: '2025-05-01T11:00:00.000Z',
      });
      expect(broken?.failedRules).toEqual(['email-configured']);
      clock.advance(3_600_000);
      await run(store, 'scan-3', complete([verdict(id, 'compliant')]), clock.now());

      const history = await store.history(id);
      expect(history.map((change) => [change.from, change.to, change.at, change.evaluatedBy])).toEqual([
        [null, 'compliant', '2025-05-01T10:00:00.000Z', 'scan-1'],
        ['compliant', 'noncompliant', '2025-05-01T11:00:00.000Z', 'scan-2'],
        ['noncompliant', 'compliant', '2025-05-01T12:00:00.000Z', 'scan-3'],
      ]);
      expect(history[2]?.findingsBefore.find((f) => f.ruleId === 'email-configured')?.result).toBe('fail');
      expect(history[2]?.findingsAfter.find((f) => f.ruleId === 'email-configured')?.result).toBe('pass');
      expect(await store.getSubscription(id)).toMatchObject({
        status: 'compliant',
        noncompliantSince: null,
        firstSeenAt: '2025-05-01T10:00:00.000Z',
      });
    });

    it('an active exemption makes a subscription exempt; once expired it is judged again', async () => {
      const clock = manualClock('2025-05-01T10:00:00Z');
      const store = openStore({ clock: clock.now });
      await run(store, 'scan-1', complete([verdict(id, 'noncompliant')]), clock.now());
      await store.putExemption({
        subscriptionId: id.toUpperCase(),
        reason: 'sandbox, torn down in June',
        owner: 'jane@fabrikam.com',
        expiresOn: '2025-05-03',
        createdBy: 'jane@fabrikam.com',
      });

      clock.set('2025-05-03T23:30:00Z'); // the expiry day still counts (UTC, inclusive)
      const exempted = await run(store, 'scan-2', complete([verdict(id, 'noncompliant')]), clock.now());
      expect(exempted.run.counts).toMatchObject({ exempt: 1, noncompliant: 0 });
      const exempt = await store.getSubscription(id);
      expect(exempt?.status).toBe('exempt');
      expect(exempt?.failedRules).toEqual(['email-configured']); // findings kept
      expect(exempt?.noncompliantSince).toBeNull();

      clock.set('2025-05-04T00:30:00Z');
      const judged = await run(store, 'scan-3', complete([verdict(id, 'noncompliant')]), clock.now());
      expect(judged.run.counts).toMatchObject({ exempt: 0, noncompliant: 1 });
      const again = await store.getSubscription(id);
      expect(again).toMatchObject({
        status: 'noncompliant',
        statusSince: '2025-05-04T00:30:00.000Z',
        noncompliantSince: '2025-05-04T00:30:00.000Z',
      });
      expect((await store.history(id)).map((change) => change.to)).toEqual(['noncompliant', 'exempt', 'noncompliant']);
    });

    it('an evaluation of one subscription is written with its history; the next complete run leaves it', async () => {
      const clock = manualClock('2025-05-01T10:00:00Z');
      const store = openStore({ clock: clock.now });
      const evaluation = await store.recordEvaluation(verdict(id, 'noncompliant'), { evaluatedBy: 'event:1', readAt: clock.now() });
      expect(evaluation.change).toMatchObject({ from: null, to: 'noncompliant', evaluatedBy: 'event:1' });
      clock.advance(60_000);
      const fixed = await store.recordEvaluation(verdict(id, 'compliant'), { evaluatedBy: 'event:2', readAt: clock.now() });
      expect(fixed.record).toMatchObject({ status: 'compliant', lastEvaluatedBy: 'event:2', firstSeenAt: '2025-05-01T10:00:00.000Z' });
      expect((await store.history(id)).map((change) => change.evaluatedBy)).toEqual(['event:1', 'event:2']);
    });
  });

  describe("one subscription's data", () => {
    const ids = Array.from({ length: 40 }, (_, i) => subscriptionIdFor(100 + i));
    const victim = ids[5]!;
    const MINIMAL_MARKER = 'The details of this result could not be stored.';

    /** A verdict whose contact holds about 400 KB of addresses, and a rule message quoting 40 KB of them. */
    function oversized(id: string): SubscriptionVerdict {
      const base = verdict(id, 'noncompliant', 'Huge contact');
      const emails = Array.from({ length: 20_000 }, (_, i) => `mailbox-${String(i).padStart(5, '0')}@fabrikam.com`);
      return {
        ...base,
        contact: { ...base.contact, emails },
        findings: base.findings.map((finding) =>
          finding.result === 'fail' ? { ...finding, message: `invalid addresses: ${emails.slice(0, 1_600).join(', ')}` } : finding,
        ),
      };
    }

    it('an oversized contact is stored bounded and marked, and every other subscription is recorded as usual', async () => {
      const store = openStore();
      const verdicts = ids.map((id) => (id === victim ? oversized(id) : verdict(id, 'compliant')));
      const result = await run(store, 'scan-1', complete(verdicts));
      expect(result.run).toMatchObject({ outcome: 'succeeded', refusedWrites: 0 });
      expect(result.records).toHaveLength(40);

      const stored = (await store.getSubscription(victim))!;
      expect(stored).toMatchObject({ status: 'noncompliant', failedRules: ['email-configured'] });
      expect(stored.contact.emails.length).toBeLessThan(100);
      expect(stored.omitted).toMatch(/^Left out to keep this record within the storage limits: .*of 20,000 e-mail addresses/);
      const message = stored.findings.find((finding) => finding.ruleId === 'email-configured')!.message;
      expect(message.length).toBeLessThanOrEqual(2_000);
      expect(message).toMatch(/… \[[\d,]+ more characters not stored\]$/);
      expect((await store.history(victim)).map((change) => change.to)).toEqual(['noncompliant']);
      expect((await store.loadSubscriptions({ status: 'compliant' })).length).toBe(39);
    });

    it('a record Table Storage refuses whole is written in its minimal form; the others are unaffected', async () => {
      const refusal = refuseEntity(`state:${victim}`, (body) => !body.includes(MINIMAL_MARKER));
      const store = openStore({ extraPolicies: [refusal] });
      const result = await run(store, 'scan-1', complete(ids.map((id) => verdict(id, id === victim ? 'noncompliant' : 'compliant'))));

      expect(refusal.refusals).toBeGreaterThan(0);
      expect(result.run).toMatchObject({ outcome: 'succeeded', refusedWrites: 0, subscriptionWrites: 40 });
      const stored = (await store.getSubscription(victim))!;
      expect(stored).toMatchObject({ status: 'noncompliant', failedRules: ['email-configured'], contact: { emails: [] } });
      expect(stored.findings.every((finding) => finding.message === MINIMAL_MARKER)).toBe(true);
      expect(stored.omitted).toMatch(/^Table Storage refused the whole record \(.*(PropertyValueTooLarge|maximum allowed size)/);
      expect((await store.history(victim)).map((change) => change.to)).toEqual(['noncompliant']);
      expect((await store.loadSubscriptions({ status: 'compliant' })).length).toBe(39);
    });

    it('a run that could not store a record vouches for no evaluation time, and an evaluation refused whole is reported, not thrown', async () => {
      const prefix = uniquePrefix();
      const clock = manualClock('2025-05-01T10:00:00Z');
      const healthy = openStore({ prefix, clock: clock.now });
      await run(healthy, 'scan-1', complete(ids.map((id) => verdict(id, 'compliant'))), clock.now());
      clock.advance(30 * 60_000);
      const refusing = openStore({ prefix, clock: clock.now, extraPolicies: [refuseEntity(`state:${victim}`)] });
      const second = await run(
        refusing,
        'scan-2',
        complete(ids.map((id) => verdict(id, id === victim ? 'noncompliant' : 'compliant'))),
        clock.now(),
      );

      expect(second.run).toMatchObject({ refusedWrites: 1, complete: false });
      // The victim was read as noncompliant and could not be stored: it must not look freshly confirmed compliant.
      expect(await refusing.getSubscription(victim)).toMatchObject({ status: 'compliant', lastEvaluatedBy: 'scan-1' });
      expect((await refusing.latestCompleteRun())?.scanId).toBe('scan-1');

      const evaluation = await refusing.recordEvaluation(verdict(victim, 'noncompliant'), { evaluatedBy: 'event:1', readAt: clock.now() });
      expect(evaluation).toMatchObject({ record: undefined, refused: expect.stringMatching(/maximum allowed size|PropertyValueTooLarge/) });
    });

    it('a record refused even in its minimal form is reported by the run and never fails the others', async () => {
      const store = openStore({ extraPolicies: [refuseEntity(`state:${victim}`)] });
      const result = await run(store, 'scan-1', complete(ids.map((id) => verdict(id, id === victim ? 'noncompliant' : 'compliant'))));

      expect(result.run).toMatchObject({ outcome: 'succeeded', refusedWrites: 1, subscriptionWrites: 39 });
      expect(result.run.error).toContain(victim);
      expect(result.refused).toEqual([
        { subscriptionId: victim, reason: expect.stringMatching(/maximum allowed size|PropertyValueTooLarge/) },
      ]);
      expect(await store.getSubscription(victim)).toBeUndefined();
      expect((await store.loadSubscriptions()).map((record) => record.subscriptionId)).toEqual(ids.filter((id) => id !== victim).sort());
    });
  });

  describe('overlapping runs', () => {
    it('a run that finishes after a later complete run replaces none of the readings that run vouches for', async () => {
      const prefix = uniquePrefix();
      const clock = manualClock('2025-05-01T10:00:00Z');
      const store = openStore({ prefix, clock: clock.now });
      const [x, y] = [subscriptionIdFor(80), subscriptionIdFor(81)];
      await run(store, 'scan-1', complete([verdict(x, 'compliant'), verdict(y, 'compliant')]), clock.now());

      // Run A starts reading at 10:30 and reads x before its contact was fixed...
      clock.set('2025-05-01T10:30:00Z');
      const startedA = clock.now();
      // ...while run B, started at 10:35, reads the tenant unchanged and writes nothing but its run.
      clock.set('2025-05-01T10:35:00Z');
      const b = await run(store, 'scan-b', complete([verdict(x, 'compliant'), verdict(y, 'compliant')]), clock.now());
      expect(b.records).toEqual([]);
      // A finishes last, with its older reading of x.
      clock.set('2025-05-01T10:40:00Z');
      const a = await run(store, 'scan-a', complete([verdict(x, 'noncompliant'), verdict(y, 'compliant')]), startedA);

      expect(a.records).toEqual([]);
      expect(await store.getSubscription(x)).toMatchObject({ status: 'compliant', lastEvaluatedBy: 'scan-b' });
      // An event that read before B started is older than B's reading too.
      const late = await store.recordEvaluation(verdict(x, 'noncompliant'), {
        evaluatedBy: 'event:slow',
        readAt: new Date('2025-05-01T10:34:00Z'),
      });
      expect(late).toMatchObject({ superseded: true, record: { status: 'compliant' } });
    });
  });

  describe('growth over time: a departed subscription that comes back', () => {
    it('keeps its record when it is evaluated again while its old gone record is being pruned', async () => {
      const prefix = uniquePrefix();
      const clock = manualClock('2024-01-01T00:00:00Z');
      const id = subscriptionIdFor(90);
      const other = subscriptionIdFor(91);
      const options = { tablePrefix: prefix, clock: clock.now, retention: { historyDays: 30, scanRunDays: 7 } };
      const setup = backend.openStateStore(options);
      await run(setup, 'scan-1', complete([verdict(id, 'noncompliant'), verdict(other, 'compliant')]), clock.now());
      clock.advance(DAY_MS);
      await run(setup, 'scan-2', complete([verdict(other, 'compliant')]), clock.now()); // id left the tenant
      clock.advance(60 * DAY_MS);

      // Between finding the gone record and deleting it, an event finds the subscription back.
      const comeback = beforeFirst(
        (request) => request.method === 'DELETE' && request.operations[0]?.rowKey === `state:${id}`,
        async () => void (await setup.recordEvaluation(verdict(id, 'noncompliant'), { evaluatedBy: 'event:back', readAt: clock.now() })),
      );
      const store = backend.openStateStore({ ...options, additionalPolicies: [comeback] });
      const outcome = await store.pruneExpired();

      expect(comeback.ran).toBe(true);
      expect(outcome).toMatchObject({ goneSubscriptions: 0 });
      expect(await store.getSubscription(id)).toMatchObject({ status: 'noncompliant', lastEvaluatedBy: 'event:back' });
      expect((await store.history(id)).map((change) => [change.from, change.to])).toEqual([['gone', 'noncompliant']]);
    });
  });

  describe('growth over time', () => {
    const DAY = 86_400_000;

    it('reading the store costs the same after many runs with none complete: the newest complete run is one point read', async () => {
      const log = requestLog();
      const prefix = uniquePrefix();
      const clock = manualClock('2025-05-01T00:00:00Z');
      const store = openStore({ log, clock: clock.now, prefix });
      const id = subscriptionIdFor(60);
      for (let i = 0; i < 60; i += 1) {
        clock.advance(30 * 60_000);
        await expect(
          run(store, `failed-${i}`, async () => Promise.reject(new Error('Resource Graph unreachable')), clock.now()),
        ).rejects.toThrow('unreachable');
      }
      await store.recordEvaluation(verdict(id, 'noncompliant'), { evaluatedBy: 'event:1', readAt: clock.now() });
      log.clear();
      await store.loadSubscriptions();
      await store.getSubscription(id);
      const runRequests = log.requests.filter((request) => request.target === `${prefix}scanruns`);
      // Each read asks for the mark by its key, whatever the number of runs.
      expect(runRequests.map((request) => [request.method, request.operations.map((op) => `${op.partitionKey}/${op.rowKey}`)])).toEqual([
        ['GET', ['mark/latest-complete-run']],
        ['GET', ['mark/latest-complete-run']],
      ]);
      expect(await store.latestCompleteRun()).toBeUndefined();

      clock.advance(30 * 60_000);
      const complete1 = await run(store, 'complete-1', complete([verdict(id, 'noncompliant')]), clock.now());
      expect((await store.latestCompleteRun())?.scanId).toBe('complete-1');
      // A partial run that listed the whole tenant is complete too: an error verdict is a reading.
      clock.advance(30 * 60_000);
      await run(store, 'complete-2', { ...complete([verdict(id, 'error')]), status: 'partial' }, clock.now());
      expect((await store.latestCompleteRun())?.scanId).toBe('complete-2');
      // An older run finishing late never moves the mark back.
      await run(store, 'late', complete([verdict(id, 'noncompliant')]), new Date(Date.parse(complete1.run.startedAt) - 60_000));
      expect((await store.latestCompleteRun())?.scanId).toBe('complete-2');
    });

    it('prunes scan runs, history and departed subscriptions past their retention, a bounded number of rows at a time', async () => {
      const prefix = uniquePrefix();
      const clock = manualClock('2024-01-01T00:00:00Z');
      const store = backend.openStateStore({
        tablePrefix: prefix,
        clock: clock.now,
        retention: { historyDays: 30, scanRunDays: 7 },
        maxPruneDeletes: 25,
      });
      const [stays, leaves, flips] = [subscriptionIdFor(70), subscriptionIdFor(71), subscriptionIdFor(72)];
      // Sixty days of runs, one a day: `flips` changes status every day, `leaves` departs on day 10.
      for (let day = 0; day < 60; day += 1) {
        const verdicts = [verdict(stays, 'compliant'), verdict(flips, day % 2 === 0 ? 'compliant' : 'noncompliant')];
        if (day < 10) verdicts.push(verdict(leaves, 'noncompliant'));
        await run(store, `day-${day}`, complete(verdicts), clock.now());
        clock.advance(DAY);
      }
      expect(await store.listScanRuns(100)).toHaveLength(60);
      expect(await store.history(flips)).toHaveLength(60);

      // Bounded: each call deletes at most 25 rows and says when there is more.
      const first = await store.pruneExpired();
      expect(first).toMatchObject({ complete: false });
      expect(first!.scanRuns + first!.historyRows + first!.goneSubscriptions).toBe(25);
      let calls = 1;
      for (let outcome = first; outcome && !outcome.complete; calls += 1) outcome = await store.pruneExpired();
      expect(calls).toBeGreaterThan(2);

      // Kept: the last 7 days of runs (day 53 on), 30 days of history, the subscriptions still there.
      expect((await store.listScanRuns(100)).map((r) => r.scanId)).toEqual([
        'day-59',
        'day-58',
        'day-57',
        'day-56',
        'day-55',
        'day-54',
        'day-53',
      ]);
      expect((await store.history(flips)).map((change) => change.evaluatedBy)).toEqual(
        Array.from({ length: 30 }, (_, i) => `day-${30 + i}`),
      );
      expect(await store.getSubscription(stays)).toMatchObject({ status: 'compliant' });
      // Its one entry, the first sighting, is older than 30 days but explains the status it still has.
      expect((await store.history(stays)).map((change) => [change.from, change.to, change.evaluatedBy])).toEqual([
        [null, 'compliant', 'day-0'],
      ]);
      // Gone 50 days ago: the record and its history are gone too.
      expect(await store.getSubscription(leaves)).toBeUndefined();
      expect(await store.history(leaves)).toEqual([]);
      // Done for the day: the next call is not due.
      expect(await store.pruneExpired()).toBeNull();
      clock.advance(DAY);
      expect(await store.pruneExpired()).toMatchObject({ complete: true });
    });
  });

  describe('the ids it knows (the new-subscription watch)', () => {
    it('lists every recorded subscription, gone ones included, from the row keys alone: one query per partition, $select=RowKey', async () => {
      const urls: string[] = [];
      const store = backend.openStateStore({
        tablePrefix: uniquePrefix(),
        additionalPolicies: [
          {
            position: 'perCall',
            policy: { name: 'test-urls', sendRequest: (request, next) => (urls.push(request.url), next(request)) },
          },
        ],
      });
      expect(await store.knownSubscriptionIds()).toEqual(new Set());

      const ids = Array.from({ length: 40 }, (_, i) => subscriptionIdFor(i));
      await run(store, 'scan-1', complete(ids.map((id) => verdict(id, 'compliant'))));
      await run(store, 'scan-2', complete(ids.slice(1).map((id) => verdict(id, id === ids[1] ? 'noncompliant' : 'compliant'))));
      expect((await store.getSubscription(ids[0]!))?.status).toBe('gone');
      // History rows sit beside the state rows in each partition; only state rows are ids.
      expect((await store.history(ids[1]!)).length).toBe(2);

      urls.splice(0);
      expect(await store.knownSubscriptionIds()).toEqual(new Set(ids));
      const queries = urls.map((url) => new URL(url)).filter((url) => url.searchParams.has('$filter'));
      expect(queries).toHaveLength(16);
      for (const query of queries) expect(query.searchParams.get('$select')).toBe('RowKey');
    });
  });
}
