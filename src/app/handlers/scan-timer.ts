/**
 * The timer's handler: the full scan with `--store` and `--notify` semantics (docs/reference/http-api.md and docs/reference/alerts.md).
 *
 * A late run (`isPastDue`, e.g. after a restart or a long outage) is logged and runs normally.
 * It cannot overlap another scan — the scan lease lets one holder in at a time across every
 * instance, and a run that finds it held ends cleanly with one `scan.skipped` line — and it cannot
 * alert twice: every alert is claimed in the outbox (insert-only, keyed by the alert's occurrence)
 * before its message is written, so a run after a restart or a second run in a row finds the
 * claims and sends nothing new. test/integration/app/scan-timer.test.ts shows both.
 */
import type { InvocationContext, Timer, TimerHandler } from '@azure/functions';
import { runScanJob } from '../scan-job.js';
import type { AppDependencies } from '../dependencies.js';

export function createScanTimerHandler(deps: AppDependencies): TimerHandler {
  return async (timer: Timer, context: InvocationContext): Promise<void> => {
    if (timer.isPastDue) {
      deps.log(context, 'scan.pastDue', { last: timer.scheduleStatus?.last, next: timer.scheduleStatus?.next });
    }
    // A held lease is a clean exit: runScanJob has logged `scan.skipped` with the holder. A scan
    // that could not run is thrown so the host records the invocation as failed.
    await runScanJob(deps, context, 'timer');
  };
}
