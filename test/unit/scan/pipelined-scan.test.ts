/**
 * runScan while Resource Graph is still being read: the test hands over each page itself
 * (ManualInventory) and decides when each securityContacts read answers, so that what the scan
 * does between pages is pinned without any timing. A subscription is read from the API as soon as
 * it is known to be doubtful, never twice, never when Resource Graph settles it, and never after
 * the scan has failed.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../../src/core/policy.js';
import type { RecordedSubscription } from '../../../src/core/state-model.js';
import { ManagementGroupsWithoutSubscriptionsError, runScan, ScanFailedError, type ScanProgress } from '../../../src/scan/scan.js';
import { compliantContact2023 } from '../../support/fixtures.js';
import { COMPLIANT, FakeTenant, ManualInventory, nextTurn, NONCOMPLIANT, tickingClock } from './fake-ports.js';

interface Options {
  scope?: Parameters<typeof runScan>[0];
  signal?: AbortSignal;
  recorded?: Map<string, RecordedSubscription>;
  concurrency?: number;
}

function startScan(tenant: FakeTenant, graph: ManualInventory, options: Options = {}) {
  const progress: ScanProgress[] = [];
  const events: string[] = [];
  const result = runScan(options.scope ?? {}, {
    inventory: graph,
    contacts: tenant.contacts,
    subscriptions: tenant.arm,
    policy: DEFAULT_POLICY,
    clock: tickingClock('2026-03-01T10:00:00.000Z'),
    scanId: 'scan-1',
    onProgress: (p) => progress.push(p),
    ...(options.recorded && { recorded: options.recorded }),
    ...(options.concurrency && { concurrency: options.concurrency }),
    ...(options.signal && { signal: options.signal }),
  });
  result.then(
    () => events.push('scan returned'),
    () => events.push('scan failed'),
  );
  // Nothing is handed over before the scan has asked Resource Graph.
  return { result, progress, events };
}

/** Reads that answer only when the test says, one subscription at a time. */
function heldReads(tenant: FakeTenant): { answer(id: string): Promise<void> } {
  const waiting = new Map<string, () => void>();
  tenant.contactsGate = (id) => new Promise((resolve) => waiting.set(id, resolve));
  return {
    async answer(id) {
      const resolve = waiting.get(id);
      if (!resolve) throw new Error(`no read of ${id} is waiting`);
      resolve();
      for (let turn = 0; turn < 5; turn += 1) await nextTurn();
    },
  };
}

const recordedAs = (status: RecordedSubscription['status']): RecordedSubscription => ({
  status,
  displayName: 'As recorded',
  state: 'Enabled',
});

describe('a scan reads the API while Resource Graph is still being read', () => {
  it('reads a subscription whose rows show it failing at once, before either query has ended', async () => {
    const tenant = new FakeTenant();
    const failing = tenant.add(1, { indexed: [NONCOMPLIANT()] });
    const withoutRows = tenant.add(2, { api: { kind: 'listed', contacts: [] } });
    const settled = tenant.add(3, { indexed: [COMPLIANT()] });
    const graph = new ManualInventory();
    const { result, progress, events } = startScan(tenant, graph);

    await graph.subscriptions(tenant.info(failing), tenant.info(withoutRows), tenant.info(settled));
    expect(tenant.contactReads).toEqual([]); // no contact row yet: nothing is known to fail
    await graph.contacts([failing, NONCOMPLIANT()]);
    expect(tenant.contactReads).toEqual([failing]);
    await graph.contacts([settled, COMPLIANT()]);
    expect(tenant.contactReads).toEqual([failing]);
    expect(progress.filter((p) => p.phase === 'inventory').at(-1)).toMatchObject({ toConfirm: 1, confirmed: 1 });

    // The end of the contacts decides the subscription without any: it has no contact at all.
    await graph.contactsComplete();
    expect(tenant.contactReads).toEqual([failing, withoutRows]);
    expect(events).toEqual([]);

    await graph.end();
    const { report } = await result;
    expect(report.subscriptions.map((v) => [v.subscriptionId, v.status, v.source])).toEqual([
      [failing, 'noncompliant', 'security-contacts-api'],
      [withoutRows, 'noncompliant', 'security-contacts-api'],
      [settled, 'compliant', 'resource-graph'],
    ]);
    expect(tenant.contactReads).toEqual([failing, withoutRows]);
    expect(progress.find((p) => p.phase === 'confirming')).toEqual({ phase: 'confirming', subscriptions: 3, toConfirm: 2, confirmed: 2 });
  });

  it('reads a subscription without contact rows as soon as the ordered contact rows have passed it', async () => {
    const tenant = new FakeTenant();
    const none = (index: number) => tenant.add(index, { api: { kind: 'listed', contacts: [] } });
    const [before, compliant, between, last] = [
      none(1),
      tenant.add(2, { indexed: [COMPLIANT()] }),
      none(3),
      tenant.add(4, { indexed: [COMPLIANT()] }),
    ];
    const listedLate = none(0);
    const graph = new ManualInventory();
    const { result } = startScan(tenant, graph);

    await graph.subscriptions(tenant.info(before), tenant.info(compliant), tenant.info(between), tenant.info(last));
    await graph.contacts([compliant, COMPLIANT()]);
    expect(tenant.contactReads).toEqual([]); // the rows may not be in order: nothing is said yet
    await graph.contactsCompleteBefore(compliant);
    expect(tenant.contactReads).toEqual([before]); // `between` and `last` may still have rows to come
    await graph.contacts([last, COMPLIANT()]);
    await graph.contactsCompleteBefore(last);
    expect(tenant.contactReads).toEqual([before, between]);
    // Said again, or of an earlier subscription, it changes nothing.
    await graph.contactsCompleteBefore(compliant);
    expect(tenant.contactReads).toEqual([before, between]);
    // A subscription listed once the rows have passed it is read at once.
    await graph.subscriptions(tenant.info(listedLate));
    expect(tenant.contactReads).toEqual([before, between, listedLate]);

    // Rows so far compliant are not settled before the end: a row that comes out of order after all still counts.
    await graph.contacts([compliant, NONCOMPLIANT(), 'legacy']);
    expect(tenant.contactReads).toEqual([before, between, listedLate, compliant]);
    await graph.contactsComplete();
    await graph.end();
    const { report } = await result;
    expect(report.subscriptions.map((v) => [v.subscriptionId, v.status, v.source])).toEqual([
      [listedLate, 'noncompliant', 'security-contacts-api'],
      [before, 'noncompliant', 'security-contacts-api'],
      [compliant, 'compliant', 'security-contacts-api'],
      [between, 'noncompliant', 'security-contacts-api'],
      [last, 'compliant', 'resource-graph'],
    ]);
  });

  it('waits again for the end of the contacts once what the ordered rows said is taken back', async () => {
    const tenant = new FakeTenant();
    const passed = tenant.add(1, { indexed: [COMPLIANT()] });
    const listedAfter = tenant.add(2, { indexed: [COMPLIANT()] });
    const mark = tenant.add(3, { indexed: [COMPLIANT()] });
    const graph = new ManualInventory();
    const { result } = startScan(tenant, graph);

    await graph.contacts([mark, COMPLIANT()]);
    await graph.contactsCompleteBefore(mark);
    // Over the tenant-scope limit after all: the rows so far were part of the tenant only.
    await graph.contactsOrderLost();
    await graph.subscriptions(tenant.info(passed), tenant.info(listedAfter), tenant.info(mark));
    expect(tenant.contactReads).toEqual([]);
    // Their rows come by named subscriptions.
    await graph.contacts([passed, COMPLIANT()], [listedAfter, COMPLIANT()]);
    await graph.contactsComplete([passed, listedAfter, mark]);
    await graph.end();
    expect((await result).report.subscriptions.map((v) => [v.status, v.source])).toEqual([
      ['compliant', 'resource-graph'],
      ['compliant', 'resource-graph'],
      ['compliant', 'resource-graph'],
    ]);
    expect(tenant.contactReads).toEqual([]);
  });

  it('does not read a subscription whose contact row comes after its subscription row', async () => {
    const tenant = new FakeTenant();
    const late = tenant.add(1, { indexed: [COMPLIANT()] });
    const graph = new ManualInventory();
    const { result } = startScan(tenant, graph);

    await graph.subscriptions(tenant.info(late));
    await graph.contacts([late, COMPLIANT()]);
    await graph.contactsComplete();
    await graph.end();

    const { report } = await result;
    expect(report.subscriptions.map((v) => [v.subscriptionId, v.status, v.source])).toEqual([[late, 'compliant', 'resource-graph']]);
    expect(tenant.contactReads).toEqual([]);
  });

  it('judges contact rows that came before their subscription row when it comes, and a subscription listed after the contacts ended at once', async () => {
    const tenant = new FakeTenant();
    const early = tenant.add(1, { indexed: [NONCOMPLIANT()] });
    const afterTheEnd = tenant.add(2, { api: { kind: 'listed', contacts: [] } });
    const graph = new ManualInventory();
    const { result } = startScan(tenant, graph);

    await graph.contacts([early, NONCOMPLIANT()]);
    expect(tenant.contactReads).toEqual([]); // not listed yet: not judged
    await graph.subscriptions(tenant.info(early));
    expect(tenant.contactReads).toEqual([early]);
    await graph.contactsComplete();
    await graph.subscriptions(tenant.info(afterTheEnd));
    expect(tenant.contactReads).toEqual([early, afterTheEnd]);
    await graph.end();
    expect((await result).report.summary).toMatchObject({ subscriptions: 2, noncompliant: 2 });
  });

  it('decides the subscriptions of a batch whose contacts are complete, and leaves the others waiting', async () => {
    const tenant = new FakeTenant();
    const inBatch = tenant.add(1, { api: { kind: 'listed', contacts: [] } });
    const settledInBatch = tenant.add(2, { indexed: [COMPLIANT()] });
    const elsewhere = tenant.add(3, { indexed: [COMPLIANT()] });
    const graph = new ManualInventory();
    const { result } = startScan(tenant, graph);

    await graph.subscriptions(tenant.info(inBatch), tenant.info(settledInBatch), tenant.info(elsewhere));
    await graph.contacts([settledInBatch, COMPLIANT()]);
    await graph.contactsComplete([inBatch, settledInBatch]);
    expect(tenant.contactReads).toEqual([inBatch]);
    // Its row comes later: it was left waiting, not read for want of a row.
    await graph.contacts([elsewhere, COMPLIANT()]);
    await graph.end();
    const { report } = await result;
    expect(report.subscriptions.map((v) => [v.status, v.source])).toEqual([
      ['noncompliant', 'security-contacts-api'],
      ['compliant', 'resource-graph'],
      ['compliant', 'resource-graph'],
    ]);
    expect(tenant.contactReads).toEqual([inBatch]);
  });

  it('reads each subscription at most once, however often its rows come and its contacts are said complete', async () => {
    const tenant = new FakeTenant();
    const twiceFailing = tenant.add(1, { indexed: [NONCOMPLIANT()] });
    const recordedBad = tenant.add(2, { indexed: [COMPLIANT()] });
    const withoutRows = tenant.add(3, { api: { kind: 'listed', contacts: [] } });
    const graph = new ManualInventory();
    const { result } = startScan(tenant, graph, { recorded: new Map([[recordedBad, recordedAs('noncompliant')]]) });

    await graph.subscriptions(tenant.info(twiceFailing), tenant.info(recordedBad));
    expect(tenant.contactReads).toEqual([recordedBad]); // held as noncompliant by the record: whatever Resource Graph shows
    await graph.contacts([twiceFailing, NONCOMPLIANT(), 'default'], [recordedBad, COMPLIANT()]);
    // The same subscription again (the scope read in overlapping parts), and the same contact again.
    await graph.subscriptions(tenant.info(twiceFailing), tenant.info(withoutRows));
    await graph.contacts([twiceFailing, NONCOMPLIANT(), 'default'], [twiceFailing, NONCOMPLIANT(), 'legacy']);
    await graph.contactsComplete([twiceFailing, recordedBad, withoutRows]);
    await graph.contactsComplete();
    await graph.end();

    const { report, stats } = await result;
    expect(tenant.contactReads.toSorted()).toEqual([twiceFailing, recordedBad, withoutRows].toSorted());
    expect(stats.securityContactsCalls).toBe(3);
    expect(report.subscriptions.map((v) => v.subscriptionId)).toEqual([twiceFailing, recordedBad, withoutRows]);
  });

  it('reports the subscriptions sorted by id, whatever order they were listed and their reads answered in', async () => {
    const tenant = new FakeTenant();
    const ids = [5, 1, 4, 2, 3].map((n) => tenant.add(n, { indexed: [NONCOMPLIANT()] }));
    const reads = heldReads(tenant);
    const graph = new ManualInventory();
    const { result } = startScan(tenant, graph);

    await graph.subscriptions(...ids.map((id) => tenant.info(id)));
    await graph.contacts(...ids.map((id): [string, unknown] => [id, NONCOMPLIANT()]));
    expect(tenant.contactReads).toEqual(ids);
    await graph.contactsComplete();
    await graph.end();
    for (const id of [...ids].reverse()) await reads.answer(id);

    const { report } = await result;
    expect(report.subscriptions.map((v) => v.subscriptionId)).toEqual(ids.toSorted());
  });

  it('reads a subscription with several contact rows when its first rows fail, though a later row would have settled it', async () => {
    // Only a subscription with several contact rows (the 2017 API's default1, default2) can be
    // caught between them: read once from the API, which is right either way.
    const tenant = new FakeTenant();
    const withoutAddress = { ...compliantContact2023(), properties: { ...compliantContact2023().properties, emails: '' } };
    const several = tenant.add(1, { indexed: [withoutAddress, COMPLIANT()], api: { kind: 'listed', contacts: [COMPLIANT()] } });
    const graph = new ManualInventory();
    const { result } = startScan(tenant, graph);

    await graph.subscriptions(tenant.info(several));
    await graph.contacts([several, withoutAddress, 'default1']);
    expect(tenant.contactReads).toEqual([several]);
    await graph.contacts([several, COMPLIANT(), 'default2']);
    await graph.contactsComplete();
    await graph.end();
    const { report } = await result;
    expect(report.subscriptions.map((v) => [v.status, v.source])).toEqual([['compliant', 'security-contacts-api']]);
    expect(tenant.contactReads).toEqual([several]);
  });
});

describe('a scan that fails while reads are under way', () => {
  it('stops the reads in flight and those not sent when a page fails, and fails only once they have ended', async () => {
    const tenant = new FakeTenant();
    const first = tenant.add(1, { indexed: [NONCOMPLIANT()] });
    const second = tenant.add(2, { indexed: [NONCOMPLIANT()] });
    heldReads(tenant);
    const graph = new ManualInventory();
    const { result, events } = startScan(tenant, graph, { concurrency: 1 });

    await graph.subscriptions(tenant.info(first), tenant.info(second));
    await graph.contacts([first, NONCOMPLIANT()], [second, NONCOMPLIANT()]);
    expect(tenant.contactReads).toEqual([first]); // the second waits for a free slot

    await graph.fail(new Error('The Resource Graph subscriptions query (resourcecontainers, tenant scope) failed: 503 ServiceUnavailable'));
    await expect(result).rejects.toBeInstanceOf(ScanFailedError);
    await expect(result).rejects.toThrow(/^Resource Graph could not be read: The Resource Graph subscriptions query .* 503/);
    // The read in flight was aborted and had ended before the scan failed; the queued one was never sent.
    expect(graph.signal?.aborted).toBe(true);
    expect(tenant.readsEnded).toEqual([first]);
    expect(events).toEqual(['scan failed']);
    expect(tenant.contactReads).toEqual([first]);
  });

  it('fails only once a read whose answer was already on its way has ended, and keeps nothing of it', async () => {
    const tenant = new FakeTenant();
    const onItsWay = tenant.add(1, { indexed: [NONCOMPLIANT()] });
    tenant.readsIgnoreAbort = true;
    const reads = heldReads(tenant);
    const graph = new ManualInventory();
    const { result, events, progress } = startScan(tenant, graph);

    await graph.subscriptions(tenant.info(onItsWay));
    await graph.contacts([onItsWay, NONCOMPLIANT()]);
    await graph.fail(new Error('503 ServiceUnavailable'));
    expect(events).toEqual([]); // the read is still under way
    await reads.answer(onItsWay);
    await expect(result).rejects.toBeInstanceOf(ScanFailedError);
    expect(events).toEqual(['scan failed']);
    expect(progress.at(-1)).toMatchObject({ phase: 'inventory', confirmed: 0 });
  });

  it('fails when stopped from outside while reads are under way, rather than report without those subscriptions', async () => {
    const tenant = new FakeTenant();
    const unread = tenant.add(1, { indexed: [NONCOMPLIANT()] });
    const settled = tenant.add(2, { indexed: [COMPLIANT()] });
    heldReads(tenant);
    const graph = new ManualInventory();
    const outside = new AbortController();
    const { result } = startScan(tenant, graph, { signal: outside.signal });

    await graph.subscriptions(tenant.info(unread), tenant.info(settled));
    await graph.contacts([unread, NONCOMPLIANT()], [settled, COMPLIANT()]);
    await graph.end();
    outside.abort(new Error('the host is shutting down'));
    await expect(result).rejects.toThrow('the host is shutting down');
  });

  it('stops Resource Graph when a read throws, and fails with that error', async () => {
    const tenant = new FakeTenant();
    const noToken = new Error('the credential gave no token');
    const failing = tenant.add(1, { indexed: [NONCOMPLIANT()], throws: noToken });
    const graph = new ManualInventory();
    const { result } = startScan(tenant, graph);

    await graph.subscriptions(tenant.info(failing));
    await graph.contacts([failing, NONCOMPLIANT()]);
    await expect(result).rejects.toBe(noToken);
    expect(graph.signal?.aborted).toBe(true);
  });

  it('reads nothing from the API for a scope of management groups until every group is known to hold subscriptions', async () => {
    const tenant = new FakeTenant();
    const failing = tenant.add(1, { indexed: [NONCOMPLIANT()], groups: ['platform'] });
    const graph = new ManualInventory();
    const { result } = startScan(tenant, graph, { scope: { managementGroupIds: ['platform', 'platfrom'] } });

    await graph.subscriptions(tenant.info(failing));
    await graph.contacts([failing, NONCOMPLIANT()]);
    await graph.contactsComplete();
    expect(tenant.contactReads).toEqual([]);
    await graph.end({ managementGroupsWithoutSubscriptions: ['platfrom'] });
    await expect(result).rejects.toBeInstanceOf(ManagementGroupsWithoutSubscriptionsError);
    expect(tenant.contactReads).toEqual([]);
  });

  it('reads the doubtful subscriptions of a scope of management groups once every group holds some', async () => {
    const tenant = new FakeTenant();
    const failing = tenant.add(1, { indexed: [NONCOMPLIANT()], groups: ['platform'] });
    const graph = new ManualInventory();
    const { result } = startScan(tenant, graph, { scope: { managementGroupIds: ['platform'] } });

    await graph.subscriptions(tenant.info(failing));
    await graph.contacts([failing, NONCOMPLIANT()]);
    expect(tenant.contactReads).toEqual([]);
    await graph.end();
    expect((await result).report.subscriptions.map((v) => v.source)).toEqual(['security-contacts-api']);
    expect(tenant.contactReads).toEqual([failing]);
  });
});
