/**
 * A channel's sending rate (for e-mail, the ACS quota of the sender domain): at most so many
 * messages a minute and an hour, counting every message the service accepted, by any run.
 */

export interface RateLimit {
  perMinute: number;
  perHour: number;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;

/** When the configured rate next allows a send (now, when it does already). */
export function rateFreeAt(rate: RateLimit, accepts: readonly number[], nowMs: number): number {
  const { hourFreeAt, minuteFreeAt } = rateWindows(rate, accepts, nowMs);
  return Math.max(hourFreeAt, minuteFreeAt);
}

/** When each window of the configured rate next has room: `nowMs` where it has room already. */
function rateWindows(rate: RateLimit, accepts: readonly number[], nowMs: number): { hourFreeAt: number; minuteFreeAt: number } {
  const lastHour = accepts.filter((t) => t > nowMs - HOUR).sort((a, b) => a - b);
  const lastMinute = lastHour.filter((t) => t > nowMs - MINUTE);
  return {
    hourFreeAt: lastHour.length >= rate.perHour ? lastHour[lastHour.length - rate.perHour]! + HOUR : nowMs,
    minuteFreeAt: lastMinute.length >= rate.perMinute ? lastMinute[lastMinute.length - rate.perMinute]! + MINUTE : nowMs,
  };
}

/**
 * True when a message may be sent now, after waiting for the per-minute window if that is short
 * enough; false when the hourly quota is spent or the minute's wait is longer than `maxWaitMs`.
 */
export async function waitForRate(
  rate: RateLimit,
  accepts: number[],
  clock: () => Date,
  wait: (ms: number) => Promise<void>,
  maxWaitMs: number,
): Promise<boolean> {
  for (;;) {
    const nowMs = clock().getTime();
    const { hourFreeAt, minuteFreeAt } = rateWindows(rate, accepts, nowMs);
    if (hourFreeAt > nowMs) return false;
    if (minuteFreeAt <= nowMs) return true;
    const waitMs = minuteFreeAt - nowMs + 10;
    if (waitMs > maxWaitMs) return false;
    await wait(waitMs);
  }
}
