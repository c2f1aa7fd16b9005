/**
 * Recording a scan run's verdicts: load the record, plan the changes with the rules of
 * src/core/state-transitions.ts, write the partitions that changed, finish the run's row, and move
 * the newest-complete-run mark. A write that fails part way undoes what the run had committed and
 * leaves the run row `failed`, saying what was undone.
 */
import pLimit from 'p-limit';
import { applyExemptions } from '../../core/exemptions.js';
import type { SubscriptionRecord } from '../../core/state-model.js';
import { planStateUpdate, withLatestCompleteRun, type CompleteRunMark } from '../../core/state-transitions.js';
import { StateWriteError, type RecordedRun, type RefusedWrite, type RunHandle, type RunResult } from '../../scan/ports.js';
import { subscriptionPartition } from './entities.js';
import type { ExemptionRows } from './exemption-rows.js';
import { countStatuses, runRow, type ScanRunRows } from './scan-runs.js';
import { bySubscriptionId } from '../../core/subscription-id.js';
import type { CurrentRecord, SubscriptionRecords } from './subscription-records.js';
import type { Planner, SubscriptionWriter, WriteLog } from './subscription-writer.js';
import { describeError } from './table-errors.js';

/** What recording a run works with: the store's tables, its writer and its clock. */
export interface RunRecordingParts {
  records: SubscriptionRecords;
  writer: SubscriptionWriter;
  scanRuns: ScanRunRows;
  exemptions: ExemptionRows;
  clock: () => Date;
  /** Partitions written at the same time. */
  writeConcurrency: number;
}

/** Loads, plans, writes and finishes the run's row; on failure undoes its writes, marks the run failed and throws StateWriteError. */
export async function recordRunResult(parts: RunRecordingParts, handle: RunHandle, result: RunResult): Promise<RecordedRun> {
  const { records, writer, scanRuns, exemptions: exemptionRows } = parts;
  const now = parts.clock();
  const writes: WriteLog = { committed: [], refused: [] };
  const { committed } = writes;
  try {
    const [current, exemptions, mark] = await Promise.all([records.loadCurrent(), exemptionRows.list(), scanRuns.completeRunMark()]);
    const readSubscriptionIds = new Set([...result.readSubscriptionIds].map((id) => id.toLowerCase()));
    const listingComplete = result.scope === 'tenant' && result.subscriptionListComplete && result.status !== 'failed';
    const verdictsById = new Map(result.verdicts.map((verdict) => [verdict.subscriptionId.toLowerCase(), verdict]));
    const input = {
      listingComplete,
      readSubscriptionIds,
      exemptions,
      runId: handle.scanId,
      runStartedAt: handle.startedAt,
      now,
    };
    // The whole plan first: it refuses bad input (an `exempt` verdict, a duplicate) before any
    // write, and names the partitions that have anything to write.
    // Records as of the newest complete run: a run that started later read every one of them,
    // so this run's older readings replace none (whether or not that run wrote anything).
    const whole = planStateUpdate({ ...input, previous: asOfCompleteRun(current, mark), verdicts: result.verdicts });
    const plan: Planner = (state, ids) =>
      planStateUpdate({
        ...input,
        previous: asOfCompleteRun(state, mark, ids),
        verdicts: [...ids].flatMap((id) => verdictsById.get(id) ?? []),
      });

    const changedPartitions = new Set(whole.records.map((record) => subscriptionPartition(record.subscriptionId)));
    const idsByPartition = new Map<string, Set<string>>();
    for (const id of [...current.keys(), ...verdictsById.keys()]) {
      const partitionKey = subscriptionPartition(id);
      if (!changedPartitions.has(partitionKey)) continue;
      idsByPartition.set(partitionKey, (idsByPartition.get(partitionKey) ?? new Set<string>()).add(id));
    }
    const limit = pLimit(parts.writeConcurrency);
    const outcomes = await Promise.allSettled(
      [...idsByPartition].map(([partitionKey, ids]) => limit(() => writer.writePartition(partitionKey, ids, current, plan, writes))),
    );
    const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failure) throw failure.reason;
    // A complete run vouches for the evaluation time of every record it did not write (see
    // withLatestCompleteRun): it listed the whole tenant, read every subscription it listed, and
    // stored what it read. A refused record keeps an older reading, which nothing may vouch for.
    const complete = listingComplete && [...verdictsById.keys()].every((id) => readSubscriptionIds.has(id)) && writes.refused.length === 0;

    const finishedAt = parts.clock();
    const run = runRow(handle, {
      outcome: result.status,
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - handle.startedAt.getTime(),
      complete,
      evaluatedAt: now.toISOString(),
      counts: countStatuses(applyExemptions(result.verdicts, exemptions, now)),
      resourceGraphRequests: result.resourceGraphRequests ?? 0,
      securityContactsCalls: result.securityContactsCalls ?? 0,
      subscriptionWrites: committed.length,
      historyWrites: committed.filter((write) => write.change).length,
      refusedWrites: writes.refused.length,
      ...(writes.refused.length > 0 ? { error: describeRefused(writes.refused) } : {}),
    });
    await scanRuns.save(run, handle.rowKey);
    // Outside the undo: without the mark, readers only show older evaluation times, the safe side.
    if (run.complete) await scanRuns.markLatestComplete(run, handle.rowKey).catch(() => undefined);
    return {
      run,
      records: committed.map((write) => write.after).sort(bySubscriptionId),
      changes: committed.flatMap((write) => write.change ?? []).sort(bySubscriptionId),
      refused: [...writes.refused].sort(bySubscriptionId),
    };
  } catch (error) {
    const undo = await writer.undo(committed);
    const message =
      `recording scan ${handle.scanId} failed: ${describeError(error)}` +
      (committed.length === 0
        ? '; nothing had been written'
        : `; of the ${committed.length} subscription writes already made, ${undo.undone} were undone` +
          (undo.kept ? `, ${undo.kept} kept because another writer has changed them since` : '') +
          (undo.failed ? `, ${undo.failed} could not be undone (each holds what this run read)` : ''));
    await scanRuns.fail(handle, new Error(message)).catch(() => undefined);
    throw new StateWriteError(message, { cause: error });
  }
}

/** The records of `state` (or of `only`) as of the newest complete run (withLatestCompleteRun). */
function asOfCompleteRun(
  state: ReadonlyMap<string, CurrentRecord>,
  mark: CompleteRunMark | undefined,
  only?: ReadonlySet<string>,
): Map<string, SubscriptionRecord> {
  const result = new Map<string, SubscriptionRecord>();
  for (const [id, entry] of state) if (!only || only.has(id)) result.set(id, withLatestCompleteRun(entry.record, mark));
  return result;
}

/** For the run row: how many subscriptions were refused, naming the first few and why. */
function describeRefused(refused: readonly RefusedWrite[]): string {
  const named = refused.slice(0, 5).map((write) => `${write.subscriptionId} (${write.reason})`);
  const more = refused.length > named.length ? ` and ${refused.length - named.length} more` : '';
  return `Table Storage refused the record of ${refused.length} subscription(s), which keep what was stored before: ${named.join('; ')}${more}`;
}
