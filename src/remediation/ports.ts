/**
 * The ports remediation needs beyond those of the scan (src/scan/ports.ts): writing a
 * subscription's security contact, and a claim that keeps two instances from repairing the same
 * subscription at once.
 */
import type { SecurityContactPutBody } from '../core/model.js';

/** What the securityContacts API answered to a PUT of the subscription's `default` contact. */
export type ContactWriteResult =
  /** 200 (it replaced a contact) or 201 (it created one). */
  | { kind: 'written'; status: 200 | 201 }
  | {
      kind: 'refused';
      /** For people: the status, the service's code and message, and for a 403 the right that is missing. */
      message: string;
      /** The HTTP status, when the service answered with one. */
      status?: number;
      /** True when writing again later may succeed: 408/429/5xx after the retries, or no answer at all. */
      transient?: boolean;
    };

export interface SecurityContactWriter {
  /**
   * `PUT /subscriptions/{id}/providers/Microsoft.Security/securityContacts/default?api-version=2023-12-01-preview`
   * with `body`, through the same pipeline as the reads (token, retries honouring Retry-After).
   * Never throws for what the service answers; throws only when aborted or when no token can be had.
   */
  putContact(subscriptionId: string, body: SecurityContactPutBody, signal?: AbortSignal): Promise<ContactWriteResult>;
  /** PUTs sent (the pipeline's retries are not counted). */
  readonly stats: { writes: number };
}

/**
 * Who is repairing a subscription right now, across the app's instances: an event delivered twice
 * at once, or an event racing the timer, must not write the same contact twice.
 */
export interface RepairClaims {
  /** Claims the repair of one subscription for `ttlMs`; undefined while another holder has it. */
  tryClaim(subscriptionId: string, holder: string, ttlMs: number): Promise<RepairClaim | undefined>;
}

export interface RepairClaim {
  /** Gives the claim back (a claim not released expires after its time). */
  release(): Promise<void>;
}
