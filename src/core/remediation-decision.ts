/**
 * Whether contact-watch writes a subscription's contact, decided from a fresh verdict
 * (docs/reference/remediation.md "Only what can be fixed"). Pure; the writing is in src/remediation.
 */
import type { FixResult, SecurityContactPutBody, SubscriptionVerdict } from './model.js';

export type RemediationDecision =
  /** Nothing to write: `unchanged` (compliant or exempt) or `skipped` (not judged). */
  | { kind: 'leave'; result: Extract<FixResult, 'unchanged' | 'skipped'>; reason: string }
  /** Nothing that can be written: `failed` (it could not be read) or `not-fixable`, with the reason. */
  | { kind: 'refuse'; result: Extract<FixResult, 'failed' | 'not-fixable'>; reason: string }
  /** Write `body`; `changes` says what it changes. */
  | { kind: 'write'; body: SecurityContactPutBody; changes: string[] };

/** What to do about a subscription, given its verdict as the rules judged it (exemptions applied). */
export function decideRemediation(verdict: SubscriptionVerdict): RemediationDecision {
  switch (verdict.status) {
    case 'skipped':
      return { kind: 'leave', result: 'skipped', reason: `the subscription is ${verdict.state}: it is listed, not judged` };
    case 'exempt':
      return { kind: 'leave', result: 'unchanged', reason: 'the subscription is exempt' };
    case 'compliant':
      return { kind: 'leave', result: 'unchanged', reason: 'the contact is compliant' };
    case 'error':
      return { kind: 'refuse', result: 'failed', reason: `the contact could not be read: ${readError(verdict)}` };
    case 'noncompliant':
      return decideForNoncompliant(verdict);
  }
}

function decideForNoncompliant(verdict: SubscriptionVerdict): RemediationDecision {
  const fix = verdict.fix;
  switch (fix?.kind) {
    case 'put':
      // The example address stands in only when the policy names no remediation address: a
      // person must choose the mailbox, contact-watch never writes a made-up one.
      if (fix.placeholderEmails) {
        return {
          kind: 'refuse',
          result: 'not-fixable',
          reason: 'no valid address would remain and the policy names no remediation.emails to add',
        };
      }
      return { kind: 'write', body: fix.body, changes: fix.changes };
    case 'not-fixable':
      return { kind: 'refuse', result: 'not-fixable', reason: fix.reason };
    case 'too-large':
      return { kind: 'refuse', result: 'failed', reason: `the contact is too large to merge (${fix.bytes} bytes of JSON)` };
    case 'none':
      // The merge judged the same reading under the same policy: it cannot find nothing to write
      // for a noncompliant verdict, and if it ever did, no write is the safe answer.
      return { kind: 'refuse', result: 'failed', reason: 'the merged fix found nothing to write, though a required rule fails' };
    case undefined:
      // A noncompliant verdict always carries its fix when it was read from the securityContacts API.
      return { kind: 'refuse', result: 'failed', reason: 'the contact was not read from the securityContacts API, so no fix was merged' };
  }
}

function readError(verdict: SubscriptionVerdict): string {
  return verdict.findings.find((finding) => finding.result === 'error')?.message ?? 'no reason given';
}
