import { describe, expect, it } from 'vitest';
import { RULE_IDS } from '../../../src/core/model.js';
import type { Finding, SubscriptionVerdict } from '../../../src/core/model.js';
import type { Exemption, SubscriptionRecord } from '../../../src/core/state-model.js';
import {
  applyEventEvaluation,
  failedRules,
  InvalidStateInputError,
  jsonEqual,
  planStateUpdate,
  sameExceptEvaluation,
  withLatestCompleteRun,
  type StateUpdateInput,
} from '../../../src/core/state-transitions.js';

const A = 'a0000000-0000-4000-8000-00000000000a';
const B = 'b0000000-0000-4000-8000-00000000000b';
const C = 'c0000000-0000-4000-8000-00000000000c';

const T0 = new Date('2025-05-01T10:00:00Z');
const T1 = new Date('2025-05-01T10:30:00Z');
const T2 = new Date('2025-05-01T11:00:00Z');
const T3 = new Date('2025-05-01T11:30:00Z');

function findingsFor(status: SubscriptionVerdict['status']): Finding[] {
  return RULE_IDS.map((ruleId) => {
    if (status === 'error') return { ruleId, result: 'error' as const, message: '403 AuthorizationFailed' };
    if (status === 'noncompliant' && ruleId === 'owner-notifications')
      return { ruleId, result: 'fail' as const, message: 'roles do not include Owner' };
    return { ruleId, result: 'pass' as const, message: 'ok' };
  });
}

function verdict(
  subscriptionId: string,
  status: Exclude<SubscriptionVerdict['status'], 'exempt'>,
  displayName = 'Payments',
): SubscriptionVerdict {
  return {
    subscriptionId,
    displayName,
    state: status === 'skipped' ? 'Disabled' : 'Enabled',
    status,
    source: 'security-contacts-api',
    contact: {
      emails: ['secops@fabrikam.com'],
      alertMinimalSeverity: 'High',
      notifyRoles: [],
      attackPathMinimalRiskLevel: null,
      shape: '2023-12-01-preview',
    },
    findings: status === 'skipped' ? [] : findingsFor(status),
  };
}

function input(overrides: Partial<StateUpdateInput> & Pick<StateUpdateInput, 'verdicts'>): StateUpdateInput {
  return {
    previous: new Map(),
    listingComplete: true,
    readSubscriptionIds: new Set(overrides.verdicts.map((v) => v.subscriptionId)),
    exemptions: [],
    runId: 'scan-x',
    runStartedAt: overrides.now ?? T1,
    now: T1,
    ...overrides,
  };
}

/** The state after a run, as the store would hold it. */
function apply(previous: Map<string, SubscriptionRecord>, overrides: Partial<StateUpdateInput> & Pick<StateUpdateInput, 'verdicts'>) {
  const plan = planStateUpdate(input({ previous, ...overrides }));
  const next = new Map(previous);
  for (const record of plan.records) next.set(record.subscriptionId, record);
  return { plan, next };
}

function stateAfter(...runs: Array<Partial<StateUpdateInput> & Pick<StateUpdateInput, 'verdicts'>>): Map<string, SubscriptionRecord> {
  let state = new Map<string, SubscriptionRecord>();
  for (const run of runs) state = apply(state, run).next;
  return state;
}

describe('planStateUpdate: first sightings and unchanged tenants', () => {
  it('records every new subscription with a first-seen history entry', () => {
    const plan = planStateUpdate(input({ verdicts: [verdict(B, 'noncompliant'), verdict(A, 'compliant')], now: T0, runId: 'scan-1' }));
    expect(plan.records.map((r) => r.subscriptionId)).toEqual([A, B]);
    expect(plan.records[1]).toEqual({
      subscriptionId: B,
      displayName: 'Payments',
      state: 'Enabled',
      status: 'noncompliant',
      failedRules: ['owner-notifications'],
      findings: findingsFor('noncompliant'),
      contact: verdict(B, 'noncompliant').contact,
      source: 'security-contacts-api',
      firstSeenAt: T0.toISOString(),
      lastEvaluatedAt: T0.toISOString(),
      statusSince: T0.toISOString(),
      noncompliantSince: T0.toISOString(),
      lastAlertedAt: null,
      lastEvaluatedBy: 'scan-1',
      readAt: T0.toISOString(),
      fix: null,
      omitted: null,
      lastRemediation: null,
    });
    expect(plan.records[0]?.noncompliantSince).toBeNull();
    expect(plan.changes.map((c) => [c.subscriptionId, c.from, c.to, c.findingsBefore.length])).toEqual([
      [A, null, 'compliant', 0],
      [B, null, 'noncompliant', 0],
    ]);
  });

  it('writes nothing when nothing but the evaluation time changed', () => {
    const state = stateAfter({ verdicts: [verdict(A, 'compliant'), verdict(B, 'noncompliant')], now: T0, runId: 'scan-1' });
    const plan = planStateUpdate(
      input({ previous: state, verdicts: [verdict(A, 'compliant'), verdict(B, 'noncompliant')], now: T1, runId: 'scan-2' }),
    );
    expect(plan).toEqual({ records: [], changes: [] });
  });

  it('writes a record whose findings or name changed, without a history entry when the status stayed', () => {
    const state = stateAfter({ verdicts: [verdict(A, 'noncompliant')], now: T0 });
    const renamed = planStateUpdate(input({ previous: state, verdicts: [verdict(A, 'noncompliant', 'Payments prod')], now: T1 }));
    expect(renamed.records.map((r) => [r.displayName, r.statusSince, r.noncompliantSince])).toEqual([
      ['Payments prod', T0.toISOString(), T0.toISOString()],
    ]);
    expect(renamed.changes).toEqual([]);
  });

  it('refuses verdicts that already carry exemptions, and duplicates', () => {
    expect(() => planStateUpdate(input({ verdicts: [{ ...verdict(A, 'compliant'), status: 'exempt' }] }))).toThrow(InvalidStateInputError);
    expect(() => planStateUpdate(input({ verdicts: [verdict(A, 'compliant'), verdict(A.toUpperCase(), 'compliant')] }))).toThrow(
      /two verdicts/,
    );
  });
});

describe('planStateUpdate: status changes keep their times and history', () => {
  it('noncompliant → compliant: statusSince moves, noncompliantSince clears, lastAlertedAt and firstSeenAt stay', () => {
    const state = stateAfter({ verdicts: [verdict(A, 'noncompliant')], now: T0 });
    state.set(A, { ...state.get(A)!, lastAlertedAt: T0.toISOString() });
    const { plan } = apply(state, { verdicts: [verdict(A, 'compliant')], now: T2, runId: 'scan-2' });
    expect(plan.records[0]).toMatchObject({
      status: 'compliant',
      statusSince: T2.toISOString(),
      noncompliantSince: null,
      firstSeenAt: T0.toISOString(),
      lastAlertedAt: T0.toISOString(),
      failedRules: [],
    });
    expect(plan.changes).toEqual([
      {
        subscriptionId: A,
        at: T2.toISOString(),
        from: 'noncompliant',
        to: 'compliant',
        findingsBefore: findingsFor('noncompliant'),
        findingsAfter: findingsFor('compliant'),
        evaluatedBy: 'scan-2',
      },
    ]);
  });

  it('noncompliant → error → noncompliant keeps noncompliantSince from the start of the bad spell', () => {
    const state = stateAfter(
      { verdicts: [verdict(A, 'compliant')], now: T0 },
      { verdicts: [verdict(A, 'noncompliant')], now: T1, runStartedAt: T1 },
      { verdicts: [verdict(A, 'error')], now: T2, runStartedAt: T2 },
    );
    expect(state.get(A)).toMatchObject({ status: 'error', statusSince: T2.toISOString(), noncompliantSince: T1.toISOString() });
    const { next } = apply(state, { verdicts: [verdict(A, 'noncompliant')], now: T3, runStartedAt: T3 });
    expect(next.get(A)).toMatchObject({ status: 'noncompliant', statusSince: T3.toISOString(), noncompliantSince: T1.toISOString() });
  });

  it('compliant → error: the history keeps the good findings that the error replaced', () => {
    const state = stateAfter({ verdicts: [verdict(A, 'compliant')], now: T0 });
    const { plan } = apply(state, { verdicts: [verdict(A, 'error')], now: T1 });
    expect(plan.records[0]).toMatchObject({ status: 'error', noncompliantSince: T1.toISOString(), firstSeenAt: T0.toISOString() });
    expect(plan.changes[0]).toMatchObject({
      from: 'compliant',
      to: 'error',
      findingsBefore: findingsFor('compliant'),
      findingsAfter: findingsFor('error'),
    });
  });

  it('skipped is not bad: no noncompliantSince', () => {
    const { plan } = apply(new Map(), { verdicts: [verdict(A, 'skipped')], now: T0 });
    expect(plan.records[0]).toMatchObject({ status: 'skipped', noncompliantSince: null, state: 'Disabled', failedRules: [] });
  });
});

describe('planStateUpdate: partial and failed runs', () => {
  const before = () =>
    stateAfter({ verdicts: [verdict(A, 'noncompliant'), verdict(B, 'error'), verdict(C, 'compliant')], now: T0, runStartedAt: T0 });

  it('never marks compliant (fixed) a subscription it did not read', () => {
    const { plan, next } = apply(before(), {
      listingComplete: false,
      verdicts: [verdict(A, 'compliant'), verdict(B, 'compliant')],
      readSubscriptionIds: new Set([A]),
      now: T1,
    });
    expect(next.get(A)?.status).toBe('compliant');
    expect(next.get(B)?.status).toBe('error');
    expect(plan.records.map((r) => r.subscriptionId)).toEqual([A]);
  });

  it('never marks gone a subscription missing from a partial or failed run', () => {
    const plan = planStateUpdate(input({ previous: before(), listingComplete: false, verdicts: [verdict(A, 'noncompliant')], now: T1 }));
    expect(plan).toEqual({ records: [], changes: [] });
  });

  it('marks gone after a complete run: last findings kept, gone only once', () => {
    const { plan, next } = apply(before(), { verdicts: [verdict(A, 'noncompliant')], now: T1, runId: 'scan-2' });
    expect(plan.records.map((r) => [r.subscriptionId, r.status])).toEqual([
      [B, 'gone'],
      [C, 'gone'],
    ]);
    expect(next.get(B)).toMatchObject({
      statusSince: T1.toISOString(),
      noncompliantSince: null,
      findings: findingsFor('error'),
      lastEvaluatedBy: 'scan-2',
    });
    expect(plan.changes.map((c) => [c.subscriptionId, c.from, c.to])).toEqual([
      [B, 'error', 'gone'],
      [C, 'compliant', 'gone'],
    ]);
    expect(planStateUpdate(input({ previous: next, verdicts: [verdict(A, 'noncompliant')], now: T2, runStartedAt: T2 }))).toEqual({
      records: [],
      changes: [],
    });
  });

  it('records a never-seen subscription that could not be read as error, and ignores other unread verdicts', () => {
    const plan = planStateUpdate(
      input({ listingComplete: false, verdicts: [verdict(A, 'error'), verdict(B, 'compliant')], readSubscriptionIds: new Set(), now: T1 }),
    );
    expect(plan.records.map((r) => [r.subscriptionId, r.status])).toEqual([[A, 'error']]);
  });

  it('leaves a record read by someone else after the run started (an event), even in a complete run', () => {
    const state = before();
    state.set(A, {
      ...state.get(A)!,
      status: 'compliant',
      lastEvaluatedAt: T2.toISOString(),
      readAt: T2.toISOString(),
      lastEvaluatedBy: 'event:9',
    });
    const plan = planStateUpdate(
      input({
        previous: state,
        verdicts: [verdict(A, 'noncompliant'), verdict(B, 'error'), verdict(C, 'compliant')],
        runStartedAt: T1,
        now: T3,
      }),
    );
    expect(plan.records).toEqual([]);
    // ... nor marks it gone.
    const gone = planStateUpdate(
      input({ previous: state, verdicts: [verdict(B, 'error'), verdict(C, 'compliant')], runStartedAt: T1, now: T3 }),
    );
    expect(gone.records).toEqual([]);
  });
});

describe('planStateUpdate: whose reading is newer', () => {
  it('replaces an event that read before the run started, even when the event was written after', () => {
    const state = stateAfter({ verdicts: [verdict(A, 'noncompliant')], now: T0, runStartedAt: T0 });
    // The event read at T0 (contact still missing) but its write landed at T2, while the run that
    // started at T1 was reading: the run's reading is the newer one.
    state.set(A, { ...state.get(A)!, lastEvaluatedAt: T2.toISOString(), readAt: T0.toISOString(), lastEvaluatedBy: 'event:slow' });
    const plan = planStateUpdate(
      input({ previous: state, verdicts: [verdict(A, 'compliant')], runStartedAt: T1, now: T3, runId: 'scan-2' }),
    );
    expect(plan.records.map((r) => [r.subscriptionId, r.status, r.readAt])).toEqual([[A, 'compliant', T1.toISOString()]]);
  });

  it('marks gone with the listing time as the reading', () => {
    const state = stateAfter({ verdicts: [verdict(A, 'noncompliant'), verdict(B, 'compliant')], now: T0, runStartedAt: T0 });
    const plan = planStateUpdate(
      input({ previous: state, verdicts: [verdict(A, 'noncompliant')], runStartedAt: T1, now: T2, runId: 'scan-2' }),
    );
    expect(plan.records).toMatchObject([
      { subscriptionId: B, status: 'gone', readAt: T1.toISOString(), lastEvaluatedAt: T2.toISOString(), fix: null },
    ]);
  });
});

describe('planStateUpdate: exemptions', () => {
  const exemption = (expiresOn: string): Exemption => ({
    subscriptionId: A.toUpperCase(),
    reason: 'sandbox',
    owner: 'jane@fabrikam.com',
    expiresOn,
    createdBy: 'jane@fabrikam.com',
    createdAt: T0.toISOString(),
  });

  it('an active exemption makes the status exempt and keeps the findings', () => {
    const plan = planStateUpdate(
      input({ verdicts: [verdict(A, 'noncompliant'), verdict(B, 'noncompliant')], exemptions: [exemption('2025-05-01')], now: T1 }),
    );
    expect(plan.records.map((r) => [r.subscriptionId, r.status, r.failedRules, r.noncompliantSince])).toEqual([
      [A, 'exempt', ['owner-notifications'], null],
      [B, 'noncompliant', ['owner-notifications'], T1.toISOString()],
    ]);
  });

  it('an expired exemption no longer counts: judged again', () => {
    const state = stateAfter({ verdicts: [verdict(A, 'noncompliant')], exemptions: [exemption('2025-05-01')], now: T1 });
    expect(state.get(A)?.status).toBe('exempt');
    const nextDay = new Date('2025-05-02T00:00:00Z');
    const { plan } = apply(state, {
      verdicts: [verdict(A, 'noncompliant')],
      exemptions: [exemption('2025-05-01')],
      now: nextDay,
      runStartedAt: nextDay,
    });
    expect(plan.records[0]).toMatchObject({
      status: 'noncompliant',
      statusSince: nextDay.toISOString(),
      noncompliantSince: nextDay.toISOString(),
    });
    expect(plan.changes[0]).toMatchObject({ from: 'exempt', to: 'noncompliant' });
  });

  it('an exemption covers error but not skipped', () => {
    const plan = planStateUpdate(
      input({
        verdicts: [verdict(A, 'error'), verdict(B, 'skipped')],
        exemptions: [exemption('2025-12-31'), { ...exemption('2025-12-31'), subscriptionId: B }],
      }),
    );
    expect(plan.records.map((r) => r.status)).toEqual(['exempt', 'skipped']);
  });
});

describe('applyEventEvaluation', () => {
  it('returns the record with a fresh evaluation, and the change when the status moved', () => {
    const first = applyEventEvaluation({
      previous: undefined,
      verdict: verdict(A, 'noncompliant'),
      exemptions: [],
      evaluatedBy: 'event:1',
      readAt: T0,
      now: T0,
    });
    expect(first).toMatchObject({ changed: true, change: { from: null, to: 'noncompliant', evaluatedBy: 'event:1' } });
    const same = applyEventEvaluation({
      previous: first.record,
      verdict: verdict(A, 'noncompliant'),
      exemptions: [],
      evaluatedBy: 'event:2',
      readAt: T1,
      now: T1,
    });
    expect(same).toMatchObject({
      changed: false,
      change: null,
      record: { lastEvaluatedAt: T1.toISOString(), lastEvaluatedBy: 'event:2', statusSince: T0.toISOString() },
    });
    const fixed = applyEventEvaluation({
      previous: same.record,
      verdict: verdict(A, 'compliant'),
      exemptions: [],
      evaluatedBy: 'event:3',
      readAt: T2,
      now: T2,
    });
    expect(fixed).toMatchObject({
      changed: true,
      change: { from: 'noncompliant', to: 'compliant' },
      record: { noncompliantSince: null, firstSeenAt: T0.toISOString() },
    });
  });

  it('leaves a record judged from a later reading, however late this evaluation is written', () => {
    const newer = applyEventEvaluation({
      previous: undefined,
      verdict: verdict(A, 'noncompliant'),
      exemptions: [],
      evaluatedBy: 'event:delete',
      readAt: T1,
      now: T1,
    });
    if (newer.outcome !== 'write') throw new Error('expected a write');
    const older = applyEventEvaluation({
      previous: newer.record,
      verdict: verdict(A, 'compliant'),
      exemptions: [],
      evaluatedBy: 'event:write',
      readAt: T0,
      now: T2,
    });
    expect(older).toEqual({ outcome: 'superseded', record: newer.record });
    // The same reading time is not older: the later evaluation is written.
    const same = applyEventEvaluation({
      previous: newer.record,
      verdict: verdict(A, 'compliant'),
      exemptions: [],
      evaluatedBy: 'event:again',
      readAt: T1,
      now: T2,
    });
    expect(same).toMatchObject({ outcome: 'write', record: { status: 'compliant' } });
  });
});

describe('helpers', () => {
  it('failedRules lists fail and error results', () => {
    expect(failedRules(findingsFor('error'))).toEqual([...RULE_IDS]);
    expect(failedRules(findingsFor('compliant'))).toEqual([]);
  });

  it('withLatestCompleteRun vouches for records last evaluated before the run started, not for gone or newer ones', () => {
    const record = stateAfter({ verdicts: [verdict(A, 'compliant')], now: T0, runId: 'scan-1' }).get(A)!;
    const mark = { scanId: 'scan-2', startedAt: T1.toISOString(), evaluatedAt: T2.toISOString() };
    expect(withLatestCompleteRun(record, mark)).toMatchObject({
      lastEvaluatedAt: T2.toISOString(),
      lastEvaluatedBy: 'scan-2',
      readAt: T1.toISOString(),
    });
    expect(withLatestCompleteRun({ ...record, status: 'gone' }, mark)).toMatchObject({
      lastEvaluatedBy: 'scan-1',
      readAt: T0.toISOString(),
    });
    const event = { ...record, lastEvaluatedAt: T1.toISOString(), readAt: T1.toISOString(), lastEvaluatedBy: 'event:1' };
    expect(withLatestCompleteRun(event, mark)).toEqual(event);
    // Read before the run started but written after it: the run's reading is the later one.
    expect(withLatestCompleteRun({ ...event, readAt: T0.toISOString() }, mark)).toMatchObject({
      lastEvaluatedBy: 'event:1',
      readAt: T1.toISOString(),
    });
    expect(withLatestCompleteRun(record, undefined)).toBe(record);
  });

  it('sameExceptEvaluation and jsonEqual ignore key order and evaluation stamps only', () => {
    const record = stateAfter({ verdicts: [verdict(A, 'compliant')], now: T0 }).get(A)!;
    expect(sameExceptEvaluation(record, { ...record, lastEvaluatedAt: T3.toISOString(), lastEvaluatedBy: 'other' })).toBe(true);
    expect(sameExceptEvaluation(record, { ...record, lastAlertedAt: T3.toISOString() })).toBe(false);
    expect(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual({ a: null }, { a: 0 })).toBe(false);
  });
});
