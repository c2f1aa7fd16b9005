/**
 * Writes of the contact by contact-watch in the stored state: the record's lastRemediation, a
 * history entry for every write, and the bounds that keep both storable.
 */
import { describe, expect, it } from 'vitest';
import { RULE_IDS } from '../../../src/core/model.js';
import type { ContactRemediation, Finding, SecurityContactPutBody, SubscriptionVerdict } from '../../../src/core/model.js';
import { boundRemediation, RECORD_LIMITS } from '../../../src/core/record-bounds.js';
import type { SubscriptionRecord } from '../../../src/core/state-model.js';
import { applyEventEvaluation, planStateUpdate, type EventEvaluationInput } from '../../../src/core/state-transitions.js';

const A = 'a0000000-0000-4000-8000-00000000000a';
const B = 'b0000000-0000-4000-8000-00000000000b';

const T0 = new Date('2025-05-01T10:00:00Z');
const T1 = new Date('2025-05-01T10:30:00Z');
const T2 = new Date('2025-05-01T11:00:00Z');
const T3 = new Date('2025-05-01T11:30:00Z');

function findingsFor(status: SubscriptionVerdict['status']): Finding[] {
  return RULE_IDS.map((ruleId) =>
    status === 'noncompliant' && ruleId === 'owner-notifications'
      ? { ruleId, result: 'fail' as const, message: 'roles do not include Owner' }
      : { ruleId, result: 'pass' as const, message: 'ok' },
  );
}

function verdict(status: 'compliant' | 'noncompliant', subscriptionId = A): SubscriptionVerdict {
  return {
    subscriptionId,
    displayName: 'Payments',
    state: 'Enabled',
    status,
    source: 'security-contacts-api',
    contact: {
      emails: ['secops@fabrikam.com'],
      alertMinimalSeverity: 'High',
      notifyRoles: status === 'compliant' ? ['Owner'] : [],
      attackPathMinimalRiskLevel: 'High',
      shape: '2023-12-01-preview',
    },
    findings: findingsFor(status),
  };
}

const BODY: SecurityContactPutBody = {
  properties: {
    emails: 'secops@fabrikam.com',
    isEnabled: true,
    notificationsByRole: { state: 'On', roles: ['Owner'] },
    notificationsSources: [
      { sourceType: 'Alert', minimalSeverity: 'High' },
      { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
    ],
  },
};

const FIXED: ContactRemediation & { body: SecurityContactPutBody } = {
  at: '2025-05-01T10:29:00.000Z',
  by: 'fix by alice@corp-sec.net',
  outcome: 'fixed',
  changes: ['turned role notifications on', 'added Owner to the notified roles'],
  body: BODY,
};

const FAILED: ContactRemediation & { body: SecurityContactPutBody } = {
  ...FIXED,
  outcome: 'failed',
  reason: 'the write was refused: 403 AuthorizationFailed',
};

/** FIXED as the record keeps it: without the body. */
const { body: _body, ...FIXED_ON_RECORD } = FIXED;

function evaluation(overrides: Partial<EventEvaluationInput> & Pick<EventEvaluationInput, 'verdict'>) {
  const result = applyEventEvaluation({ previous: undefined, exemptions: [], evaluatedBy: 'event:1', readAt: T0, now: T0, ...overrides });
  if (result.outcome !== 'write') throw new Error(`expected a write, got ${result.outcome}`);
  return result;
}

/** A noncompliant record first seen and last read at T0. */
function noncompliantRecord(): SubscriptionRecord {
  return evaluation({ verdict: verdict('noncompliant') }).record;
}

describe('applyEventEvaluation with a remediation', () => {
  it('keeps the write as lastRemediation (without the body) and the body in the status change', () => {
    const previous = noncompliantRecord();
    expect(previous.lastRemediation).toBeNull();
    const result = evaluation({
      previous,
      verdict: verdict('compliant'),
      evaluatedBy: 'fix by alice@corp-sec.net',
      readAt: T1,
      now: T1,
      remediation: FIXED,
    });
    expect(result.changed).toBe(true);
    expect(result.record).toMatchObject({ status: 'compliant', statusSince: T1.toISOString(), noncompliantSince: null });
    expect(result.record.lastRemediation).toEqual(FIXED_ON_RECORD);
    expect(result.record.lastRemediation).not.toHaveProperty('body');
    expect(result.change).toEqual({
      subscriptionId: A,
      at: T1.toISOString(),
      from: 'noncompliant',
      to: 'compliant',
      findingsBefore: findingsFor('noncompliant'),
      findingsAfter: findingsFor('compliant'),
      evaluatedBy: 'fix by alice@corp-sec.net',
      remediation: FIXED,
    });
  });

  it('records a write that left the status as it was in a history entry of its own (from === to)', () => {
    const previous = noncompliantRecord();
    const result = evaluation({
      previous,
      verdict: verdict('noncompliant'),
      evaluatedBy: 'app: event e-2',
      readAt: T1,
      now: T2,
      remediation: FAILED,
    });
    expect(result.changed).toBe(true);
    expect(result.record).toMatchObject({ status: 'noncompliant', statusSince: T0.toISOString(), lastEvaluatedAt: T2.toISOString() });
    const { body: _sent, ...onRecord } = FAILED;
    expect(result.record.lastRemediation).toEqual(onRecord);
    expect(result.change).toEqual({
      subscriptionId: A,
      at: T2.toISOString(),
      from: 'noncompliant',
      to: 'noncompliant',
      findingsBefore: findingsFor('noncompliant'),
      findingsAfter: findingsFor('noncompliant'),
      evaluatedBy: 'app: event e-2',
      remediation: FAILED,
    });
  });

  it('records the write on a first sighting in the first-seen entry', () => {
    const result = evaluation({ verdict: verdict('compliant'), readAt: T1, now: T1, evaluatedBy: 'fix by bob', remediation: FIXED });
    expect(result.change).toMatchObject({ from: null, to: 'compliant', evaluatedBy: 'fix by bob', remediation: FIXED });
    expect(result.record.lastRemediation).toEqual(FIXED_ON_RECORD);
  });

  it('still records the write when the stored record was judged from a later reading', () => {
    // Read at T2 by an event; the fix read back at T1 and is written at T3.
    const later = evaluation({ verdict: verdict('noncompliant'), evaluatedBy: 'event:later', readAt: T2, now: T2 }).record;
    const result = applyEventEvaluation({
      previous: later,
      verdict: verdict('compliant'),
      exemptions: [],
      evaluatedBy: 'fix by alice@corp-sec.net',
      readAt: T1,
      now: T3,
      remediation: FIXED,
    });
    // The later reading stands: only lastRemediation is new.
    expect(result).toEqual({
      outcome: 'write',
      changed: true,
      record: { ...later, lastRemediation: FIXED_ON_RECORD },
      change: {
        subscriptionId: A,
        at: T3.toISOString(),
        from: 'noncompliant',
        to: 'noncompliant',
        findingsBefore: later.findings,
        findingsAfter: later.findings,
        evaluatedBy: 'fix by alice@corp-sec.net',
        remediation: FIXED,
      },
    });
    // Without a write it is simply superseded.
    expect(
      applyEventEvaluation({ previous: later, verdict: verdict('compliant'), exemptions: [], evaluatedBy: 'x', readAt: T1, now: T3 }),
    ).toEqual({ outcome: 'superseded', record: later });
  });

  it('stores the write bounded: in the record and in the history entry', () => {
    const long = 'x'.repeat(RECORD_LIMITS.remediationChangeCharacters + 100);
    const huge: SecurityContactPutBody = { properties: { ...BODY.properties, phone: 'é'.repeat(RECORD_LIMITS.fixCharacters) } };
    const result = evaluation({ verdict: verdict('compliant'), remediation: { ...FIXED, changes: [long], body: huge } });
    const bounded = boundRemediation({ ...FIXED, changes: [long], body: huge });
    expect(result.change?.remediation).toEqual(bounded);
    expect(result.change?.remediation?.body).toEqual({ omittedBytes: Buffer.byteLength(JSON.stringify(huge)) });
    expect(result.record.lastRemediation?.changes).toEqual(bounded.changes);
    expect(result.record.lastRemediation?.changes[0]?.length).toBeLessThanOrEqual(RECORD_LIMITS.remediationChangeCharacters);
  });
});

describe('lastRemediation after the write', () => {
  function remediated(): SubscriptionRecord {
    return evaluation({ previous: noncompliantRecord(), verdict: verdict('compliant'), readAt: T1, now: T1, remediation: FIXED }).record;
  }

  it('is carried over by later evaluations, unchanged ones costing no write', () => {
    const record = remediated();
    const same = evaluation({ previous: record, verdict: verdict('compliant'), evaluatedBy: 'event:2', readAt: T2, now: T2 });
    expect(same).toMatchObject({ changed: false, change: null });
    expect(same.record.lastRemediation).toEqual(FIXED_ON_RECORD);
    const broken = evaluation({ previous: record, verdict: verdict('noncompliant'), evaluatedBy: 'event:3', readAt: T3, now: T3 });
    expect(broken).toMatchObject({ changed: true, change: { from: 'compliant', to: 'noncompliant' } });
    expect(broken.change).not.toHaveProperty('remediation');
    expect(broken.record.lastRemediation).toEqual(FIXED_ON_RECORD);
  });

  it('is carried over by scans: into changed records, gone ones included, and unchanged ones are not written', () => {
    const record = remediated();
    const base = {
      previous: new Map([[A, record]]),
      listingComplete: true,
      exemptions: [],
      runId: 'scan-2',
      runStartedAt: T2,
      now: T2,
    };
    const unchanged = planStateUpdate({ ...base, verdicts: [verdict('compliant')], readSubscriptionIds: new Set([A]) });
    expect(unchanged).toEqual({ records: [], changes: [] });

    const broken = planStateUpdate({ ...base, verdicts: [verdict('noncompliant')], readSubscriptionIds: new Set([A]) });
    expect(broken.records.map((r) => [r.status, r.lastRemediation])).toEqual([['noncompliant', FIXED_ON_RECORD]]);
    expect(broken.changes[0]).not.toHaveProperty('remediation');

    const gone = planStateUpdate({ ...base, verdicts: [verdict('compliant', B)], readSubscriptionIds: new Set([B]) });
    expect(gone.records.map((r) => [r.subscriptionId, r.status, r.lastRemediation])).toEqual([
      [A, 'gone', FIXED_ON_RECORD],
      [B, 'compliant', null],
    ]);
  });
});

describe('boundRemediation', () => {
  it('keeps an ordinary write as it is', () => {
    expect(boundRemediation(FIXED)).toEqual(FIXED);
    expect(boundRemediation(FAILED)).toEqual(FAILED);
    expect(boundRemediation(FIXED)).not.toHaveProperty('reason');
  });

  it('shortens long change lines, visibly, and counts the lines past the limit', () => {
    const long = `added ${'a'.repeat(2 * RECORD_LIMITS.remediationChangeCharacters)}`;
    const lines = [long, ...Array.from({ length: RECORD_LIMITS.remediationChanges + 4 }, (_, i) => `line ${i}`)];
    const { changes } = boundRemediation({ ...FIXED, changes: lines });
    expect(changes).toHaveLength(RECORD_LIMITS.remediationChanges + 1);
    expect(changes[0]!.length).toBeLessThanOrEqual(RECORD_LIMITS.remediationChangeCharacters);
    expect(changes[0]).toMatch(/^added a+… \[[\d,]+ more characters not stored\]$/);
    expect(changes.slice(1, -1)).toEqual(lines.slice(1, RECORD_LIMITS.remediationChanges));
    expect(changes.at(-1)).toBe('… and 5 more changes');
  });

  it('shortens a long reason like a rule message', () => {
    const reason = `written, but ${'r'.repeat(3 * RECORD_LIMITS.messageCharacters)}`;
    const bounded = boundRemediation({ ...FAILED, reason });
    expect(bounded.reason!.length).toBeLessThanOrEqual(RECORD_LIMITS.messageCharacters);
    expect(bounded.reason).toMatch(/^written, but r+… \[[\d,]+ more characters not stored\]$/);
  });

  it('replaces a body whose JSON is past the bound by its size in bytes', () => {
    const huge: SecurityContactPutBody = { properties: { ...BODY.properties, phone: '☎'.repeat(RECORD_LIMITS.fixCharacters) } };
    const json = JSON.stringify(huge);
    expect(boundRemediation({ ...FIXED, body: huge })).toEqual({ ...FIXED, body: { omittedBytes: Buffer.byteLength(json) } });
    expect(Buffer.byteLength(json)).toBeGreaterThan(json.length);
    // Just within the bound it is kept whole.
    const padding = RECORD_LIMITS.fixCharacters - JSON.stringify({ properties: { ...BODY.properties, phone: '' } }).length;
    const fits: SecurityContactPutBody = { properties: { ...BODY.properties, phone: 'p'.repeat(padding) } };
    expect(JSON.stringify(fits)).toHaveLength(RECORD_LIMITS.fixCharacters);
    expect(boundRemediation({ ...FIXED, body: fits }).body).toEqual(fits);
  });
});
