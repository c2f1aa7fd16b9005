/**
 * One subscription repaired (docs/reference/remediation.md): read fresh from the securityContacts API right
 * before the write, the merged fix written with a PUT, read again and judged. Shared by
 * `contact-watch fix` and the Functions app, so both write exactly what `--dry-run` shows.
 */
import { decideRemediation } from '../core/remediation-decision.js';
import type {
  ContactRemediation,
  FixResult,
  Policy,
  SecurityContactPutBody,
  SubscriptionInfo,
  SubscriptionVerdict,
} from '../core/model.js';
import type { SecurityContactsSource, StateStore } from '../scan/ports.js';
import { isJudged, skippedVerdict, verdictFromApi } from '../scan/verdicts.js';
import type { SecurityContactWriter } from './ports.js';
import { messageOf } from '../core/error-message.js';

export interface RepairDependencies {
  contacts: SecurityContactsSource;
  writer: SecurityContactWriter;
  policy: Policy;
  clock?: () => Date;
  signal?: AbortSignal;
  /**
   * Records a write before it is sent (outcome `sent`), so that a crash between the PUT and the
   * record of its outcome cannot leave a write nobody knows of. When it throws, nothing is sent.
   */
  recordIntent?: (intent: WriteRecord) => Promise<void>;
}

/** A write of a subscription's contact as the record keeps it: the reading it followed, and the write. */
export interface WriteRecord {
  verdict: SubscriptionVerdict;
  readAt: Date;
  remediation: ContactRemediation & { body: SecurityContactPutBody };
}

export interface RepairRequest {
  subscription: SubscriptionInfo;
  /** Who or what makes the write, as the record and the alerts say it: `fix by alice`, `app on event <id>`. */
  by: string;
  /** Decide and show the body, but send no write. */
  dryRun?: boolean;
}

export interface RepairOutcome {
  subscriptionId: string;
  displayName: string;
  result: FixResult;
  /** Why it was not written, or why the write did not make it compliant. */
  reason?: string;
  /** The PUT body sent (`fixed`, `failed` after a write) or that would be sent (`would-fix`). */
  body?: SecurityContactPutBody;
  /** What the body changes, for people. */
  changes?: string[];
  /** The last reading's verdict (after the write when one was sent), as the rules judged it. */
  verdict: SubscriptionVerdict;
  /** When that reading began. */
  readAt: Date;
  /** Set when a write was sent: what the record keeps of it. */
  remediation?: ContactRemediation & { body: SecurityContactPutBody };
}

export async function repairSubscription(request: RepairRequest, deps: RepairDependencies): Promise<RepairOutcome> {
  const clock = deps.clock ?? (() => new Date());
  const { subscription } = request;
  const identity = { subscriptionId: subscription.subscriptionId, displayName: subscription.displayName };
  if (!isJudged(subscription)) {
    const verdict = skippedVerdict(subscription);
    return { ...identity, result: 'skipped', reason: decisionReason(verdict), verdict, readAt: clock() };
  }

  const readAt = clock();
  const before = verdictFromApi(subscription, await deps.contacts.listContacts(subscription.subscriptionId, deps.signal), deps.policy);
  const decision = decideRemediation(before);
  if (decision.kind !== 'write') return { ...identity, result: decision.result, reason: decision.reason, verdict: before, readAt };
  const { body, changes } = decision;
  if (request.dryRun) return { ...identity, result: 'would-fix', body, changes, verdict: before, readAt };

  const at = clock();
  const sent = { at: at.toISOString(), by: request.by, changes, body };
  if (deps.recordIntent) {
    try {
      await deps.recordIntent({ verdict: before, readAt, remediation: { ...sent, outcome: 'sent' } });
    } catch (error) {
      const reason = `the write was not sent, because it could not be recorded first: ${messageOf(error)}`;
      return { ...identity, result: 'failed', reason, body, changes, verdict: before, readAt };
    }
  }
  const written = await deps.writer.putContact(subscription.subscriptionId, body, deps.signal);
  if (written.kind === 'refused') {
    const reason = `the write was refused: ${written.message}`;
    return {
      ...identity,
      result: 'failed',
      reason,
      body,
      changes,
      verdict: before,
      readAt,
      remediation: { ...sent, outcome: 'failed', reason, ...(written.transient ? { retryable: true } : {}) },
    };
  }

  // Judged again from what the service now holds: only a compliant reading is `fixed`.
  const readBackAt = clock();
  const after = verdictFromApi(subscription, await deps.contacts.listContacts(subscription.subscriptionId, deps.signal), deps.policy);
  if (after.status === 'compliant') {
    return { ...identity, result: 'fixed', body, changes, verdict: after, readAt: readBackAt, remediation: { ...sent, outcome: 'fixed' } };
  }
  const reason = `written, but ${afterWriteProblem(after)}`;
  return {
    ...identity,
    result: 'failed',
    reason,
    body,
    changes,
    verdict: after,
    readAt: readBackAt,
    remediation: { ...sent, outcome: 'failed', reason },
  };
}

function decisionReason(verdict: SubscriptionVerdict): string {
  const decision = decideRemediation(verdict);
  return decision.kind === 'write' ? '' : decision.reason;
}

/** What the reading after a write says is still wrong. */
function afterWriteProblem(after: SubscriptionVerdict): string {
  const problems = after.findings.filter((finding) => finding.result !== 'pass');
  if (after.status === 'error') return `the contact could not be read back: ${problems[0]?.message ?? 'no reason given'}`;
  return `the contact read back still fails ${problems.map((finding) => `${finding.ruleId} (${finding.message})`).join('; ')}`;
}

/**
 * Keeps a write in the subscription's record and history, as `evaluatedBy`: the record's
 * lastRemediation and a history entry with the body. Throws when Table Storage refuses it, even in
 * its minimal form, so that a caller recording an intent sends nothing it could not record.
 */
export async function recordWrite(store: Pick<StateStore, 'recordEvaluation'>, evaluatedBy: string, write: WriteRecord): Promise<void> {
  const recorded = await store.recordEvaluation(write.verdict, { evaluatedBy, readAt: write.readAt, remediation: write.remediation });
  if (recorded.refused !== undefined) throw new Error(`Table Storage refused the record: ${recorded.refused}`);
}
