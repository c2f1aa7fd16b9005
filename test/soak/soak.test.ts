/**
 * The soak in short: the real build keeps every invariant through a few simulated days of faults,
 * and a build with a safety check removed does not (the soak would notice such a regression).
 * `npm run soak` runs the long version.
 */
import { describe, expect, it } from 'vitest';
import { runSoak } from './run.js';

const SHORT = { subscriptions: 40, store: 'in-memory' as const };
/** A guard, not a measure: each run is seconds of work, which a loaded machine may stretch many times over. */
const SOAK_TIMEOUT_MS = 300_000;

describe('the soak', () => {
  it('finds no violation in the real build through three simulated days of faults', { timeout: SOAK_TIMEOUT_MS }, async () => {
    const result = await runSoak({
      ...SHORT,
      seed: 11,
      cycles: 144,
      rates: { processKill: 0.05, mailOutage: 0.03, concurrentTimers: 0.05, eventDuringWrite: 0.2, contactsReadError: 0.3 },
    });
    expect(result.violations).toEqual([]);
    expect(result.cycles).toBe(144);
    expect(result.emailsSent).toBeGreaterThan(0);
    expect(result.duplicates).toBe(0);
    for (const kind of ['process killed', 'event racing a write', 'event duplicated', 'resource-graph 5xx', 'table 503']) {
      expect(result.faults.get(kind as never), kind).toBeGreaterThan(0);
    }
  });

  it('notices a build that writes records without their ETag check', { timeout: SOAK_TIMEOUT_MS }, async () => {
    const result = await runSoak({ ...SHORT, seed: 12, cycles: 96, variant: 'etag-check-removed', rates: { eventDuringWrite: 0.5 } });
    expect(result.violations.some((violation) => violation.invariant === 3 && /went back/.test(violation.message))).toBe(true);
  });

  it('notices a build whose outbox does not reuse the Operation-Id when it sends again', { timeout: SOAK_TIMEOUT_MS }, async () => {
    const result = await runSoak({
      ...SHORT,
      seed: 13,
      cycles: 96,
      variant: 'operation-id-not-reused',
      rates: { mailDropAfterAccept: 0.9 },
    });
    expect(result.duplicates).toBeGreaterThan(0);
    expect(result.violations.some((violation) => violation.invariant === 2)).toBe(true);
  });

  it('replays a run from its seed, faults at the wire and deaths included', { timeout: SOAK_TIMEOUT_MS }, async () => {
    // Left out, since the machine's speed decides them: two timers at once (which instance takes the
    // lease) and request time-outs (a loaded machine can make an ordinary answer outlast the limit).
    const options = {
      ...SHORT,
      seed: 14,
      cycles: 48,
      armRequestTimeoutMs: 60_000,
      rates: { concurrentTimers: 0, contactsTimeout: 0, processKill: 0.1, tableUnavailable: 0.01, tableDropMidBatch: 0.02 },
    };
    const [first, second] = [await runSoak(options), await runSoak(options)];
    expect(first.faults.get('process killed')).toBeGreaterThan(0);
    expect(first.faults.get('table 503')).toBeGreaterThan(0);
    expect(second.faults).toEqual(first.faults);
    expect(second.emailsSent).toBe(first.emailsSent);
    expect(second.tableRows).toEqual(first.tableRows);
    expect(second.alertDelayAfterChangeMinutes).toEqual(first.alertDelayAfterChangeMinutes);
  });
});
