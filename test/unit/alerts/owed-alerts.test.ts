import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ALERT_SETTINGS,
  alertKey,
  describeDuration,
  owedAlertFor,
  owedAlerts,
  type AlertSettings,
} from '../../../src/core/alerts.js';
import type { ContactRemediation, Finding } from '../../../src/core/model.js';
import type { RecordedStatus, SubscriptionRecord } from '../../../src/core/state-model.js';

const SUB = '00000000-0000-0000-0000-000000000001';
const DAY = 86_400_000;
const FAIL: Finding[] = [
  { ruleId: 'contact-exists', result: 'fail', message: 'no security contact' },
  { ruleId: 'email-configured', result: 'fail', message: 'no security contact' },
  { ruleId: 'alert-notifications', result: 'pass', message: 'ok' },
];

/** A controllable clock: the tests move time forward by hand. */
class FakeClock {
  constructor(private ms: number) {}
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

function record(status: RecordedStatus, at: Date, overrides: Partial<SubscriptionRecord> = {}): SubscriptionRecord {
  return {
    subscriptionId: SUB,
    displayName: 'Payments prod',
    state: 'Enabled',
    status,
    failedRules: status === 'noncompliant' ? ['contact-exists', 'email-configured'] : [],
    findings: status === 'noncompliant' || status === 'error' ? FAIL : [],
    contact: { emails: [], alertMinimalSeverity: null, notifyRoles: [], attackPathMinimalRiskLevel: null, shape: 'none' },
    source: 'security-contacts-api',
    firstSeenAt: '2024-01-01T00:00:00.000Z',
    lastEvaluatedAt: at.toISOString(),
    statusSince: at.toISOString(),
    noncompliantSince: status === 'noncompliant' || status === 'error' ? at.toISOString() : null,
    lastAlertedAt: null,
    lastEvaluatedBy: 'scan-1',
    readAt: at.toISOString(),
    fix: null,
    omitted: null,
    lastRemediation: null,
    ...overrides,
  };
}

/** What a store does after a message was queued: markAlerted(ids, at). */
function markAlerted(r: SubscriptionRecord, at: Date): SubscriptionRecord {
  return { ...r, lastAlertedAt: at.toISOString() };
}

describe('owed alerts', () => {
  it('alerts once when a subscription turns non-compliant, not again on the next scans, then reminds after the interval', () => {
    const clock = new FakeClock(Date.parse('2025-03-01T08:00:00.000Z'));
    let r = record('compliant', clock.now());
    expect(owedAlertFor(r, clock.now())).toBeNull();

    clock.advance(30 * 60_000);
    r = { ...record('noncompliant', clock.now()), firstSeenAt: r.firstSeenAt };
    const first = owedAlertFor(r, clock.now());
    expect(first).toMatchObject({ kind: 'alert', status: 'noncompliant', subscriptionId: SUB, since: r.statusSince });
    expect(first?.findings.map((f) => f.ruleId)).toEqual(['contact-exists', 'email-configured']);
    r = markAlerted(r, clock.now());

    // Second and third scans: unchanged, nothing owed.
    clock.advance(30 * 60_000);
    expect(owedAlertFor(r, clock.now())).toBeNull();
    clock.advance(30 * 60_000);
    expect(owedAlertFor(r, clock.now())).toBeNull();

    // Just before the 7-day interval: still nothing.
    clock.advance(7 * DAY - 61 * 60_000);
    expect(owedAlertFor(r, clock.now())).toBeNull();
    clock.advance(60_000);
    const reminder = owedAlertFor(r, clock.now());
    expect(reminder).toMatchObject({ kind: 'reminder', since: r.noncompliantSince });
    expect(reminder?.key).not.toBe(first?.key);
    // The same record state always names the same occurrence (the outbox relies on it).
    expect(owedAlertFor(r, new Date(clock.now().getTime() + 3600_000))?.key).toBe(reminder?.key);

    r = markAlerted(r, clock.now());
    expect(owedAlertFor(r, clock.now())).toBeNull();
  });

  it('alerts on a subscription that was non-compliant before any notify run (never alerted)', () => {
    const at = new Date('2025-01-01T00:00:00Z');
    const r = record('noncompliant', at);
    const later = new Date(at.getTime() + 30 * DAY);
    expect(owedAlertFor(r, later)?.kind).toBe('alert');
  });

  it('alerts again when the status changes (noncompliant -> error) even if alerted recently', () => {
    const t0 = new Date('2025-01-01T00:00:00Z');
    let r = markAlerted(record('noncompliant', t0), t0);
    const t1 = new Date(t0.getTime() + 3600_000);
    r = { ...r, status: 'error', statusSince: t1.toISOString() };
    const owed = owedAlertFor(r, t1);
    expect(owed).toMatchObject({ kind: 'alert', status: 'error', since: t0.toISOString() });
  });

  it('never reminds with CONTACT_WATCH_REMINDER_DAYS=0', () => {
    const t0 = new Date('2025-01-01T00:00:00Z');
    const r = markAlerted(record('noncompliant', t0), t0);
    const settings: AlertSettings = { ...DEFAULT_ALERT_SETTINGS, reminderDays: 0 };
    expect(owedAlertFor(r, new Date(t0.getTime() + 365 * DAY), settings)).toBeNull();
    expect(owedAlertFor(r, new Date(t0.getTime() + 365 * DAY))?.kind).toBe('reminder');
  });

  it('owes nothing for exempt, skipped, compliant and gone subscriptions', () => {
    const t0 = new Date('2025-01-01T00:00:00Z');
    const later = new Date(t0.getTime() + 100 * DAY);
    for (const status of ['exempt', 'skipped', 'compliant', 'gone'] as const) {
      expect(owedAlertFor(record(status, t0), later), status).toBeNull();
      expect(owedAlertFor(markAlerted(record(status, t0), new Date(t0.getTime() - DAY)), later), status).toBeNull();
    }
  });

  it('sends an optional fixed notice once, only for a subscription alerted on before', () => {
    const t0 = new Date('2025-01-01T00:00:00Z');
    const t1 = new Date(t0.getTime() + DAY);
    const settings: AlertSettings = { ...DEFAULT_ALERT_SETTINGS, fixedNotices: true };
    const fixedAfterAlert = record('compliant', t1, { lastAlertedAt: t0.toISOString() });
    expect(owedAlertFor(fixedAfterAlert, t1, settings)).toMatchObject({ kind: 'fixed', status: 'compliant', findings: [] });
    expect(owedAlertFor(fixedAfterAlert, t1)).toBeNull(); // off by default
    expect(owedAlertFor(markAlerted(fixedAfterAlert, t1), t1, settings)).toBeNull();
    expect(owedAlertFor(record('compliant', t1), t1, settings)).toBeNull(); // never alerted
  });

  it('waits out the grace period of a new subscription', () => {
    const t0 = new Date('2025-01-01T00:00:00Z');
    const r = record('noncompliant', t0, { firstSeenAt: t0.toISOString() });
    const settings: AlertSettings = { ...DEFAULT_ALERT_SETTINGS, newSubscriptionGraceMinutes: 60 };
    expect(owedAlertFor(r, new Date(t0.getTime() + 59 * 60_000), settings)).toBeNull();
    expect(owedAlertFor(r, new Date(t0.getTime() + 60 * 60_000), settings)?.kind).toBe('alert');
  });

  it('lists owed alerts sorted by subscription id', () => {
    const t0 = new Date('2025-01-01T00:00:00Z');
    const ids = ['00000000-0000-0000-0000-00000000000c', '00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-00000000000b'];
    const records = ids.map((id) => record('noncompliant', t0, { subscriptionId: id }));
    records.push(record('compliant', t0, { subscriptionId: '00000000-0000-0000-0000-000000000000' }));
    expect(owedAlerts(records, t0).map((a) => a.subscriptionId)).toEqual([...ids].sort());
  });

  it('describes durations', () => {
    const now = new Date('2025-01-10T00:00:00Z');
    expect(describeDuration('2025-01-07T00:00:00Z', now)).toBe('3 days');
    expect(describeDuration('2025-01-09T23:00:00Z', now)).toBe('1 hour');
    expect(describeDuration('2025-01-09T23:58:00Z', now)).toBe('2 minutes');
    expect(describeDuration('2025-01-10T00:00:00Z', now)).toBe('less than a minute');
    expect(describeDuration('not a date', now)).toBe('an unknown time');
  });
});

/** A write of the contact by contact-watch, as the store keeps it on the record. */
function remediation(outcome: ContactRemediation['outcome'], at: Date, overrides: Partial<ContactRemediation> = {}): ContactRemediation {
  return {
    at: at.toISOString(),
    by: 'app: scan 7c1e',
    outcome,
    changes: ['added Owner to the notified roles', 'added an AttackPath source from High'],
    ...(outcome === 'failed' ? { reason: 'HTTP 403 AuthorizationFailed: Microsoft.Security/securityContacts/write is missing' } : {}),
    ...overrides,
  };
}

describe('owed alerts after contact-watch wrote the contact', () => {
  const alertedAt = new Date('2025-03-01T08:00:00.000Z');
  const repairedAt = new Date('2025-03-02T09:00:00.000Z');
  /** Non-compliant and alerted on, then repaired: the write made it compliant (statusSince is the write). */
  const repaired = record('compliant', repairedAt, {
    lastAlertedAt: alertedAt.toISOString(),
    lastRemediation: remediation('fixed', repairedAt),
  });

  it('owes a repaired notice once, keyed to the write, and nothing after it is marked alerted', () => {
    const now = new Date(repairedAt.getTime() + 60_000);
    const owed = owedAlertFor(repaired, now);
    expect(owed).toEqual({
      key: alertKey(SUB, 'repaired', 'compliant', repairedAt.toISOString()),
      kind: 'repaired',
      subscriptionId: SUB,
      displayName: 'Payments prod',
      status: 'compliant',
      since: repaired.statusSince,
      findings: [],
      repair: repaired.lastRemediation,
    });
    // The same record state names the same occurrence at any later time.
    expect(owedAlertFor(repaired, new Date(now.getTime() + 5 * DAY))?.key).toBe(owed?.key);
    expect(owedAlerts([repaired], now)).toEqual([owed]);
    // Queued: nothing more, not even a fixed notice for the same return to compliance.
    const marked = markAlerted(repaired, now);
    for (const settings of [DEFAULT_ALERT_SETTINGS, { ...DEFAULT_ALERT_SETTINGS, fixedNotices: true }]) {
      expect(owedAlertFor(marked, now, settings)).toBeNull();
      expect(owedAlertFor(marked, new Date(now.getTime() + 30 * DAY), settings)).toBeNull();
    }
  });

  it('owes it whether or not the subscription was ever alerted on, and whatever fixedNotices says', () => {
    const neverAlerted = { ...repaired, lastAlertedAt: null };
    for (const fixedNotices of [false, true]) {
      const settings = { ...DEFAULT_ALERT_SETTINGS, fixedNotices };
      expect(owedAlertFor(neverAlerted, repairedAt, settings)?.kind).toBe('repaired');
      expect(owedAlertFor(repaired, repairedAt, settings)?.kind).toBe('repaired');
    }
  });

  it('with fixedNotices on, a subscription a repair made compliant gets `repaired`, never `fixed` as well', () => {
    const settings: AlertSettings = { ...DEFAULT_ALERT_SETTINGS, fixedNotices: true };
    const owed = owedAlerts([repaired], repairedAt, settings);
    expect(owed.map((alert) => alert.kind)).toEqual(['repaired']);
    // Without the repair, the same record owes the fixed notice.
    expect(owedAlertFor({ ...repaired, lastRemediation: null }, repairedAt, settings)?.kind).toBe('fixed');
  });

  it('owes it once for the repair the compliant spell began with (the store records the reading after the write)', () => {
    const readBackAt = new Date(repairedAt.getTime() + 2_000);
    const later = record('compliant', readBackAt, { lastAlertedAt: null, lastRemediation: remediation('fixed', repairedAt) });
    expect(owedAlertFor(later, readBackAt)).toMatchObject({ kind: 'repaired', since: readBackAt.toISOString() });
    expect(owedAlertFor(markAlerted(later, readBackAt), readBackAt)).toBeNull();
    // An alert queued before the repair does not cover it.
    const alertedBefore = new Date(repairedAt.getTime() - DAY).toISOString();
    expect(owedAlertFor({ ...later, lastAlertedAt: alertedBefore }, readBackAt)?.kind).toBe('repaired');
  });

  it('owes nothing for a repair made while the subscription was already compliant, or one that failed', () => {
    const compliantBefore = record('compliant', new Date(repairedAt.getTime() - DAY), {
      lastAlertedAt: null,
      lastRemediation: remediation('fixed', repairedAt),
    });
    expect(owedAlertFor(compliantBefore, repairedAt)).toBeNull();
    expect(owedAlertFor(compliantBefore, repairedAt, { ...DEFAULT_ALERT_SETTINGS, fixedNotices: true })).toBeNull(); // never alerted
    const failed = record('compliant', repairedAt, { lastRemediation: remediation('failed', repairedAt) });
    expect(owedAlertFor(failed, repairedAt)).toBeNull();
  });

  it('owes nothing for an exempt, skipped or gone subscription, whatever was written', () => {
    for (const status of ['exempt', 'skipped', 'gone'] as const) {
      const r = record(status, repairedAt, { lastRemediation: remediation('fixed', repairedAt) });
      expect(owedAlertFor(r, repairedAt, { ...DEFAULT_ALERT_SETTINGS, fixedNotices: true }), status).toBeNull();
    }
  });

  it('does not hold a repaired notice back for the grace period of a new subscription', () => {
    const settings: AlertSettings = { ...DEFAULT_ALERT_SETTINGS, newSubscriptionGraceMinutes: 60 };
    const fresh = { ...repaired, firstSeenAt: new Date(repairedAt.getTime() - 5 * 60_000).toISOString() };
    expect(owedAlertFor(fresh, repairedAt, settings)?.kind).toBe('repaired');
    // The grace still holds an alert about the same new subscription.
    const failing = record('noncompliant', repairedAt, { firstSeenAt: fresh.firstSeenAt });
    expect(owedAlertFor(failing, repairedAt, settings)).toBeNull();
  });

  it('carries a repair that failed during this bad spell on the alert and the reminder, keys unchanged', () => {
    const failingSince = new Date('2025-03-01T00:00:00.000Z');
    const triedAt = new Date(failingSince.getTime() + 3_600_000);
    const tried = remediation('failed', triedAt);
    for (const status of ['noncompliant', 'error'] as const) {
      const r = record(status, failingSince, { lastRemediation: tried });
      const alert = owedAlertFor(r, triedAt);
      expect(alert).toMatchObject({ kind: 'alert', status, repair: tried });
      expect(alert?.key).toBe(owedAlertFor({ ...r, lastRemediation: null }, triedAt)?.key);
      const later = new Date(failingSince.getTime() + 8 * DAY);
      const reminder = owedAlertFor(markAlerted(r, triedAt), later);
      expect(reminder).toMatchObject({ kind: 'reminder', repair: tried });
    }
  });

  it('leaves off a repair from an earlier bad spell, and one that succeeded', () => {
    const failingSince = new Date('2025-03-01T00:00:00.000Z');
    const before = record('noncompliant', failingSince, { lastRemediation: remediation('failed', new Date(failingSince.getTime() - DAY)) });
    expect(owedAlertFor(before, failingSince)).not.toHaveProperty('repair');
    const succeeded = record('noncompliant', failingSince, {
      lastRemediation: remediation('fixed', new Date(failingSince.getTime() + 60_000)),
    });
    expect(owedAlertFor(succeeded, failingSince)).not.toHaveProperty('repair');
    // The bad spell started with noncompliantSince, not with the last status change (noncompliant -> error).
    const errorSince = new Date(failingSince.getTime() + DAY);
    const stillBad = record('error', errorSince, {
      noncompliantSince: failingSince.toISOString(),
      lastRemediation: remediation('failed', new Date(failingSince.getTime() + 60_000)),
    });
    expect(owedAlertFor(stillBad, errorSince)?.repair?.outcome).toBe('failed');
  });
});
