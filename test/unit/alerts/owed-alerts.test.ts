import { describe, expect, it } from 'vitest';
import { DEFAULT_ALERT_SETTINGS, describeDuration, owedAlertFor, owedAlerts, type AlertSettings } from '../../../src/core/alerts.js';
import type { Finding } from '../../../src/core/model.js';
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
