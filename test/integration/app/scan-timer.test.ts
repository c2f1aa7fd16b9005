/**
 * The timer's handler end to end (docs/reference/http-api.md and docs/reference/alerts.md): the real handler with a real
 * InvocationContext, the real adapters against the local Azure test server (with its ACS Email
 * service) and Azurite, and the real scan lease. A scan is stored and alerted once; a held lease
 * ends the run cleanly; a late run and two runs at once alert nothing twice.
 */
import type { InvocationContext, Timer } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openScanLease } from '../../../src/adapters/table-storage/scan-lease.js';
import { createScanTimerHandler } from '../../../src/app/handlers/scan-timer.js';
import { runScanJob, SCAN_LEASE_TTL_MS } from '../../../src/app/scan-job.js';
import { FUNCTION_NAMES } from '../../../src/functions/function-names.js';
import type { ScanLease } from '../../../src/scan/ports.js';
import { SimulatedTenant, type LocalAzure } from '../../azure-server/index.js';
import type { CommunicationEmailService } from '../../azure-server/services/communication-email.js';
import { invocationContexts, type LoggedLine, startAppTestBed, type testAppDependencies, type TestTables } from '../../support/app.js';
import { compliantContact2023 } from '../../support/fixtures.js';

const COMPLIANT = '11111111-1111-4111-8111-111111111111';
const NO_CONTACT = '22222222-2222-4222-8222-222222222222';
const LATE_ARRIVAL = '33333333-3333-4333-8333-333333333333';
const ANOTHER_NEW = '44444444-4444-4444-8444-444444444444';

let tenant: SimulatedTenant;
let azure: LocalAzure;
let mail: CommunicationEmailService;
let tables: TestTables;
let deps: ReturnType<typeof testAppDependencies>;
beforeAll(async () => {
  tenant = new SimulatedTenant();
  tenant.addSubscription({ subscriptionId: COMPLIANT, displayName: 'Production', contacts: [compliantContact2023()] });
  tenant.addSubscription({ subscriptionId: NO_CONTACT, displayName: 'Sandbox', contacts: [] });
  // The end-to-end handler file: the timer over Azurite, as deployed over Table Storage.
  ({ azure, mail, tables, deps } = await startAppTestBed(tenant, { tablePrefix: 'timertest', tables: 'azurite' }));
  deps.lease = openScanLease(deps.store.connection);
});

afterAll(async () => {
  await Promise.all([azure?.close(), tables?.stop()]);
});

function timer(isPastDue = false): Timer {
  return {
    isPastDue,
    schedule: { adjustForDST: true },
    scheduleStatus: { last: '2026-11-22T05:00:00.000Z', next: '2026-11-22T05:30:00.000Z', lastUpdated: '2026-11-22T05:00:00.000Z' },
  };
}

const invocation = invocationContexts(FUNCTION_NAMES.scanTimer, 'timer');

function linesOf(context: InvocationContext): LoggedLine[] {
  return deps.lines.filter((line) => line.invocationId === context.invocationId);
}

async function leaseIsFree(lease: ScanLease): Promise<boolean> {
  const probe = await lease.tryAcquire('probe/lease-free', 1_000);
  if (!probe.acquired) return false;
  await lease.release(probe.token);
  return true;
}

describe('the scan timer', () => {
  it('stores a scan and sends one digest for what is owed, then frees the lease', async () => {
    const handler = createScanTimerHandler(deps);
    const context = invocation();
    await handler(timer(), context);

    const [run] = await deps.store.listScanRuns(1);
    expect(run).toMatchObject({ trigger: 'timer', outcome: 'succeeded', complete: true });
    expect((await deps.store.getSubscription(NO_CONTACT))?.status).toBe('noncompliant');
    expect((await deps.store.getSubscription(COMPLIANT))?.status).toBe('compliant');

    expect(mail.messages).toHaveLength(1);
    expect(mail.messages[0]!.html).toContain(NO_CONTACT);
    expect(mail.messages[0]!.html).not.toContain(COMPLIANT);

    const events = linesOf(context).map((line) => line.event);
    expect(events[0]).toBe('scan.started');
    expect(events).toContain('scan.finished');
    expect(events).toContain('alert.sent');
    const finished = linesOf(context).find((line) => line.event === 'scan.finished')!;
    expect(finished).toMatchObject({ trigger: 'timer', status: 'succeeded', subscriptions: 2, compliant: 1, noncompliant: 1, error: 0 });
    expect(finished.resourceGraphRequests).toBeGreaterThan(0);
    expect(finished.securityContactsCalls).toBe(1); // only the doubtful subscription is confirmed
    expect(typeof finished.durationMs).toBe('number');
    expect(finished.scanId).toBe(run!.scanId);
    expect(await leaseIsFree(deps.lease)).toBe(true);
  });

  it("alerts nothing new on the next run, and counts only that run's requests", async () => {
    const context = invocation();
    await createScanTimerHandler(deps)(timer(), context);
    expect(mail.messages).toHaveLength(1);
    expect(await deps.store.listScanRuns(5)).toHaveLength(2);
    const finished = linesOf(context).find((line) => line.event === 'scan.finished')!;
    expect(finished.securityContactsCalls).toBe(1);
    expect(linesOf(context).some((line) => line.event === 'alert.sent')).toBe(false);
  });

  it('ends cleanly with one scan.skipped line while another instance holds the lease', async () => {
    const other = await deps.lease.tryAcquire('other-instance/inv-9', 10 * 60_000);
    if (!other.acquired) throw new Error('the lease should have been free');
    azure.requests.clear();
    const context = invocation();
    try {
      await expect(createScanTimerHandler(deps)(timer(), context)).resolves.toBeUndefined();
    } finally {
      await deps.lease.release(other.token);
    }
    expect(linesOf(context)).toEqual([
      expect.objectContaining({ event: 'scan.skipped', heldBy: 'other-instance/inv-9', until: other.token.expiresAt, trigger: 'timer' }),
    ]);
    expect(azure.requests.count('resource-graph')).toBe(0);
    expect(await deps.store.listScanRuns(5)).toHaveLength(2);
  });

  it('logs a past-due run and runs it; a lease left by a crashed instance is taken over once expired', async () => {
    // A crashed holder: its lease expired an hour ago and was never released.
    const crashedClock = () => new Date(Date.now() - SCAN_LEASE_TTL_MS - 60 * 60_000);
    const crashed = await openScanLease(deps.store.connection, { clock: crashedClock }).tryAcquire(
      'crashed-instance/inv-0',
      SCAN_LEASE_TTL_MS,
    );
    expect(crashed.acquired).toBe(true);

    const context = invocation();
    await createScanTimerHandler(deps)(timer(true), context);
    const events = linesOf(context).map((line) => line.event);
    expect(events[0]).toBe('scan.pastDue');
    expect(linesOf(context)[0]).toMatchObject({ last: '2026-11-22T05:00:00.000Z', next: '2026-11-22T05:30:00.000Z' });
    expect(events).toContain('scan.finished');
    expect(events).not.toContain('scan.skipped');
    expect(mail.messages).toHaveLength(1); // what was sent before the restart is not sent again
    expect(await leaseIsFree(deps.lease)).toBe(true);
  });

  it('runs one scan and sends one digest when two invocations start at once', async () => {
    tenant.addSubscription({ subscriptionId: LATE_ARRIVAL, displayName: 'Late arrival', contacts: [] });
    tenant.addSubscription({ subscriptionId: ANOTHER_NEW, displayName: 'Another new one', contacts: [] });
    const runsBefore = (await deps.store.listScanRuns(20)).length;
    const handler = createScanTimerHandler(deps);
    const contexts = [invocation(), invocation()];
    await Promise.all(contexts.map((context) => handler(timer(), context)));

    const outcomes = contexts.map((context) => linesOf(context).map((line) => line.event));
    expect(outcomes.filter((events) => events.includes('scan.finished'))).toHaveLength(1);
    const skipped = outcomes.filter((events) => events.length === 1 && events[0] === 'scan.skipped');
    expect(skipped).toHaveLength(1);
    expect(await deps.store.listScanRuns(20)).toHaveLength(runsBefore + 1);

    expect(mail.messages).toHaveLength(2); // the first digest, and one digest for both new subscriptions
    const digest = mail.messages[1]!;
    expect(digest.html).toContain(LATE_ARRIVAL);
    expect(digest.html).toContain(ANOTHER_NEW);
    expect(digest.html).not.toContain(NO_CONTACT); // alerted once already
    expect(await leaseIsFree(deps.lease)).toBe(true);
  });

  it('throws a scan that could not run, with a scan.failed line, and frees the lease', async () => {
    azure.faults.add({ target: 'resource-graph', status: 403, times: Infinity });
    const context = invocation();
    try {
      await expect(createScanTimerHandler(deps)(timer(), context)).rejects.toThrow(/Resource Graph/);
    } finally {
      azure.faults.clear();
    }
    const failed = linesOf(context).find((line) => line.event === 'scan.failed');
    expect(failed).toMatchObject({ trigger: 'timer', stage: 'scan' });
    expect(linesOf(context).some((line) => line.event === 'scan.finished')).toBe(false);
    const [run] = await deps.store.listScanRuns(1);
    expect(run).toMatchObject({ trigger: 'timer', outcome: 'failed' });
    expect(await leaseIsFree(deps.lease)).toBe(true);
  });

  it('renews the lease while a long scan runs, and logs a subscription whose status changed', async () => {
    tenant.setContacts(COMPLIANT, []);
    const renewals: boolean[] = [];
    let renewedTwice!: () => void;
    const twoRenewals = new Promise<void>((resolve) => (renewedTwice = resolve));
    const real = deps.lease;
    const counting: ScanLease = {
      tryAcquire: (holder, ttlMs) => real.tryAcquire(holder, ttlMs),
      renew: async (token, ttlMs) => {
        const kept = await real.renew(token, ttlMs);
        renewals.push(kept);
        if (renewals.length === 2) renewedTwice();
        return kept;
      },
      release: (token) => real.release(token),
    };
    // A long scan: its Resource Graph read ends only after the lease has been renewed twice,
    // however long each renewal takes.
    const inventory = Object.assign(Object.create(deps.azure.inventory) as typeof deps.azure.inventory, {
      readInventory: async (...args: Parameters<typeof deps.azure.inventory.readInventory>) => {
        await twoRenewals;
        return deps.azure.inventory.readInventory(...args);
      },
    });
    const context = invocation();
    const outcome = await runScanJob({ ...deps, azure: { ...deps.azure, inventory }, lease: counting }, context, 'timer', {
      renewEveryMs: 40,
    });
    expect(outcome.kind).toBe('ran');
    expect(renewals.length).toBeGreaterThanOrEqual(2);
    expect(renewals.every(Boolean)).toBe(true);
    expect(linesOf(context).map((line) => line.event)).not.toContain('scan.lease.lost');
    expect(linesOf(context).filter((line) => line.event === 'subscription.statusChanged')).toEqual([
      expect.objectContaining({ subscriptionId: COMPLIANT, from: 'compliant', to: 'noncompliant' }),
    ]);
    expect(linesOf(context).find((line) => line.event === 'scan.finished')).toMatchObject({ statusChanges: 1, firstSeen: 0 });
    expect(await leaseIsFree(real)).toBe(true); // released with the renewed token's ETag
  });
});
