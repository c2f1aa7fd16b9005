/**
 * What the app's handlers log about alert e-mails that could not be sent (src/app/deliver-owed-alerts.ts):
 * the structured `alert.pending` line says how many remain queued and when the next attempt is
 * due, as `scan --notify` says on stderr. Real adapters: Azurite and the local ACS Email service,
 * with the app's own alerting wiring.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TableOutbox } from '../../../src/adapters/table-storage/outbox.js';
import { deliverOwedAlerts } from '../../../src/app/deliver-owed-alerts.js';
import { FUNCTION_NAMES } from '../../../src/functions/function-names.js';
import { SimulatedTenant } from '../../azure-server/index.js';
import { invocationContexts, startAppTestBed, type AppTestBed } from '../../support/app.js';
import { manualClock, subscriptionIdFor, verdict } from '../../contract/support.js';

const HOUR = 3_600_000;
const clock = manualClock('2026-11-22T05:00:00.000Z');
let bed: AppTestBed;
const invocation = invocationContexts(FUNCTION_NAMES.scanTimer, 'alert-log');

beforeAll(async () => {
  bed = await startAppTestBed(new SimulatedTenant(), { tablePrefix: 'alertlog', clock: clock.now });
});
afterAll(async () => {
  await bed?.close();
});
beforeEach(() => bed.mail.reset());

function eventsOf(invocationId: string) {
  return bed.deps.lines.filter((line) => line.invocationId === invocationId);
}

describe('alert.pending', () => {
  it('after a dropped send names the queued message as due at the next run, and the next run sends it', async () => {
    const id = subscriptionIdFor(7001);
    await bed.deps.store.recordEvaluation(verdict(id, 'noncompliant'), { evaluatedBy: 'test', readAt: clock.now() });
    // The app's transport retries a dropped connection twice within one send: three drops fail it.
    bed.mail.faults.add({ kind: 'drop', times: 3 });
    const failed = invocation();
    expect(await deliverOwedAlerts(bed.deps, failed, { mode: 'digest' })).toMatchObject({ sent: 0, pending: 1, failed: 0 });
    const pending = eventsOf(failed.invocationId).find((line) => line.event === 'alert.pending');
    expect(pending).toMatchObject({ pending: 1, failed: 0, nextAttemptReason: 'next-run' });
    expect(Date.parse(String(pending!.nextAttemptAt))).toBeGreaterThanOrEqual(clock.now().getTime());

    const next = invocation();
    expect(await deliverOwedAlerts(bed.deps, next, { mode: 'digest' })).toMatchObject({ sent: 1, pending: 0, nextAttempt: null });
    expect(eventsOf(next.invocationId).map((line) => line.event)).toEqual(['alert.sent']);
    expect(bed.mail.messages.map((message) => message.html?.includes(id))).toEqual([true]);
  });

  it('after a Retry-After of 1e20 says when the next attempt is due: one hour ahead at most, as stored', async () => {
    clock.advance(HOUR);
    const id = subscriptionIdFor(7002);
    await bed.deps.store.recordEvaluation(verdict(id, 'noncompliant'), { evaluatedBy: 'test', readAt: clock.now() });
    bed.mail.faults.add({ kind: 'throttle', retryAfter: '1e20' });
    const context = invocation();
    const started = performance.now();
    expect(await deliverOwedAlerts(bed.deps, context, { mode: 'digest' })).toMatchObject({ sent: 0, pending: 1, throttled: true });
    const elapsedMs = Math.ceil(performance.now() - started) + 1;
    const [held] = await (await TableOutbox.connect(bed.deps.store.connection)).listMessages(['pending']);
    expect(held!.leaseUntil).toBeNull();
    expect(eventsOf(context.invocationId).find((line) => line.event === 'alert.pending')).toMatchObject({
      pending: 1,
      failed: 0,
      nextAttemptAt: held!.nextAttemptAt,
      nextAttemptReason: 'retry-after',
    });
    const wait = Date.parse(held!.nextAttemptAt!) - clock.now().getTime();
    expect(wait).toBeGreaterThanOrEqual(HOUR);
    expect(wait).toBeLessThanOrEqual(HOUR + elapsedMs);
    expect(eventsOf(context.invocationId).some((line) => line.event === 'alert.failed')).toBe(false);
  });
});
