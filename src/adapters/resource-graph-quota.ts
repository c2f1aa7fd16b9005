/**
 * Resource Graph's per-user request quota. Every answer says how many requests are left in the
 * current window and when it resets; when none are left, the next request waits for the reset
 * rather than being throttled, and a reset further away than contact-watch waits stops the read.
 */
import type { HttpHeaders } from '@azure/core-rest-pipeline';
import { DEFAULT_MAX_RETRY_AFTER_MS, formatWait, parseTimeSpan } from './arm-http.js';
import { ResourceGraphError } from './resource-graph-query.js';

export const QUOTA_REMAINING_HEADER = 'x-ms-user-quota-remaining';
export const QUOTA_RESETS_AFTER_HEADER = 'x-ms-user-quota-resets-after';
/** When the quota is spent and the service does not say until when. */
const DEFAULT_QUOTA_WAIT_MS = 5_000;

export class ResourceGraphQuota {
  /** Epoch ms before which no request is sent: the user quota is spent until then. */
  private resumesAt = 0;

  constructor(
    /** Epoch ms: the clock a spent quota's reset is timed on. */
    private readonly clock: () => number,
    /** Waits for a spent quota to reset. */
    private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>,
    /** The longest wait for a reset; default DEFAULT_MAX_RETRY_AFTER_MS. */
    private readonly maxWaitMs: number | undefined,
  ) {}

  /** Reads an answer's quota headers: when none is left, the next request waits until it resets. */
  note(headers: HttpHeaders): void {
    const remainingText = headers.get(QUOTA_REMAINING_HEADER);
    if (remainingText === undefined || remainingText.trim() === '') return;
    const remaining = Number(remainingText);
    if (!Number.isFinite(remaining) || remaining > 0) return;
    const wait = parseTimeSpan(headers.get(QUOTA_RESETS_AFTER_HEADER)) ?? DEFAULT_QUOTA_WAIT_MS;
    this.resumesAt = Math.max(this.resumesAt, this.clock() + wait);
  }

  /** Waits out an exhausted quota, up to the longest wait; a longer wait stops the read, naming it. */
  async waitForRequest(signal?: AbortSignal): Promise<void> {
    const wait = this.resumesAt - this.clock();
    if (wait <= 0) return;
    const longest = this.maxWaitMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
    if (wait > longest) {
      throw new ResourceGraphError(
        `Resource Graph's request quota for this identity resets in ${formatWait(wait)} (${QUOTA_RESETS_AFTER_HEADER}), longer than the ${formatWait(longest)} contact-watch waits; the read was stopped.`,
      );
    }
    await this.sleep(wait, signal);
  }
}
