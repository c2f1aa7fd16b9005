/**
 * Resource Graph's per-user request quota (15 requests per 5 seconds by default). Every answer says
 * how many requests are left in the current window and when it resets. One quota serves every query
 * of an identity, however many page side by side: a request is sent only while the requests left,
 * less those already in flight, are more than none; otherwise it waits for the reset rather than
 * being throttled, and a reset further away than contact-watch waits stops the read.
 */
import type { HttpHeaders } from '@azure/core-rest-pipeline';
import { DEFAULT_MAX_RETRY_AFTER_MS, formatWait, parseTimeSpan } from './arm-http.js';
import { ResourceGraphError } from './resource-graph-query.js';

export const QUOTA_REMAINING_HEADER = 'x-ms-user-quota-remaining';
export const QUOTA_RESETS_AFTER_HEADER = 'x-ms-user-quota-resets-after';
/** When the quota is spent and the service does not say until when. */
const DEFAULT_QUOTA_WAIT_MS = 5_000;
/**
 * `x-ms-user-quota-resets-after` counts whole seconds, so two answers of one window may put its end
 * up to this far apart; an end further on than that is a new window.
 */
const RESET_ROUNDING_MS = 1_000;

export class ResourceGraphQuota {
  /** Epoch ms before which no request is sent: the user quota is spent until then. */
  private resumesAt = 0;
  /** Requests left in the current window, the fewest any of its answers said; undefined when not known. */
  private remaining: number | undefined;
  /** Epoch ms at which the current window resets, as its first answer said. */
  private windowEndsAt = 0;
  /** Requests sent and not answered yet: each may take one of `remaining`. */
  private inFlight = 0;

  constructor(
    /** Epoch ms: the clock a spent quota's reset is timed on. */
    private readonly clock: () => number,
    /** Waits for a spent quota to reset. */
    private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>,
    /** The longest wait for a reset; default DEFAULT_MAX_RETRY_AFTER_MS. */
    private readonly maxWaitMs: number | undefined,
  ) {}

  /**
   * Waits until a request may be sent within the quota, up to the longest wait (a longer one stops
   * the read, naming it), and counts the request as in flight: `answered` must follow it.
   */
  async beforeRequest(signal?: AbortSignal): Promise<void> {
    for (let wait = this.waitMs(); wait > 0; wait = this.waitMs()) {
      const longest = this.maxWaitMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
      if (wait > longest) {
        throw new ResourceGraphError(
          `Resource Graph's request quota for this identity resets in ${formatWait(wait)} (${QUOTA_RESETS_AFTER_HEADER}), longer than the ${formatWait(longest)} contact-watch waits; the read was stopped.`,
        );
      }
      await this.sleep(wait, signal);
    }
    this.inFlight += 1;
  }

  /** The request counted by beforeRequest has ended; `headers` are its answer's, when one came. */
  answered(headers: HttpHeaders | undefined): void {
    this.inFlight -= 1;
    if (headers) this.note(headers);
  }

  private waitMs(): number {
    const now = this.clock();
    if (this.resumesAt > now) return this.resumesAt - now;
    const windowOpen = this.remaining !== undefined && now < this.windowEndsAt;
    if (windowOpen && this.remaining! - this.inFlight <= 0) return this.windowEndsAt - now;
    return 0;
  }

  /** Reads an answer's quota headers: when none is left, no request is sent until the reset. */
  private note(headers: HttpHeaders): void {
    const remainingText = headers.get(QUOTA_REMAINING_HEADER);
    if (remainingText === undefined || remainingText.trim() === '') return;
    const remaining = Number(remainingText);
    if (!Number.isFinite(remaining)) return;
    const now = this.clock();
    const endsAt = now + (parseTimeSpan(headers.get(QUOTA_RESETS_AFTER_HEADER)) ?? DEFAULT_QUOTA_WAIT_MS);
    if (remaining <= 0) {
      this.resumesAt = Math.max(this.resumesAt, endsAt);
      return;
    }
    // Answers of one window may arrive out of order: within it, the fewest left is what holds.
    const sameWindow = this.remaining !== undefined && now < this.windowEndsAt && endsAt <= this.windowEndsAt + RESET_ROUNDING_MS;
    if (sameWindow) {
      this.remaining = Math.min(this.remaining!, remaining);
    } else {
      this.remaining = remaining;
      this.windowEndsAt = endsAt;
    }
  }
}
