/**
 * Writes of the contact by contact-watch, as the state store keeps them, for any table service:
 * the record's lastRemediation and a history row for every write, with the body sent, each read
 * back exactly as it was written.
 */
import { describe, expect, it } from 'vitest';
import type { ContactRemediation, SecurityContactPutBody } from '../../src/core/model.js';
import { RECORD_LIMITS } from '../../src/core/record-bounds.js';
import type { TableBackend } from './backends.js';
import { manualClock, subscriptionIdFor, uniquePrefix, verdict } from './support.js';

/** A body with what a merge carries over: a phone, an unknown role, a source no rule reads, text outside ASCII. */
const BODY: SecurityContactPutBody = {
  properties: {
    emails: 'secops@fabrikam.com;sécurité@fabrikam.com',
    phone: '+33 1 23 45 67 89',
    isEnabled: true,
    notificationsByRole: { state: 'On', roles: ['AccountAdmin', 'FutureRole', 'Owner'] },
    notificationsSources: [
      { sourceType: 'Alert', minimalSeverity: 'Medium' },
      { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
      { sourceType: 'FutureSource', threshold: 3, tags: ['a', 'b'] },
    ],
  },
};

function remediation(at: Date, overrides: Partial<ContactRemediation> = {}): ContactRemediation & { body: SecurityContactPutBody } {
  return {
    at: at.toISOString(),
    by: 'fix by alice@corp-sec.net',
    outcome: 'fixed',
    changes: [
      'removed address admin@contoso.com, which failed email-configured',
      'added address secops@fabrikam.com, as no valid address remained',
    ],
    body: BODY,
    ...overrides,
  };
}

/** What the record keeps of a write: all but the body. */
function onRecord(write: ContactRemediation & { body: unknown }): ContactRemediation {
  const { body: _body, ...kept } = write;
  return kept;
}

export function stateRemediationContract(backend: TableBackend): void {
  describe('writes of the contact in the store', () => {
    it('keeps lastRemediation on the record and the write, body included, in a history row', async () => {
      const clock = manualClock('2025-05-01T10:00:00Z');
      const store = backend.openStateStore({ tablePrefix: uniquePrefix(), clock: clock.now });
      const id = subscriptionIdFor(3);

      const first = await store.recordEvaluation(verdict(id, 'noncompliant'), { evaluatedBy: 'event:1', readAt: clock.now() });
      expect(first.record?.lastRemediation).toBeNull();
      expect((await store.getSubscription(id))?.lastRemediation).toBeNull();

      clock.advance(60_000);
      const write = remediation(clock.now());
      clock.advance(5_000);
      const fixed = await store.recordEvaluation(verdict(id, 'compliant'), {
        evaluatedBy: 'fix by alice@corp-sec.net',
        readAt: clock.now(),
        remediation: write,
      });
      expect(fixed.superseded).toBe(false);
      expect(fixed.record?.lastRemediation).toEqual(onRecord(write));
      expect(fixed.change).toMatchObject({ from: 'noncompliant', to: 'compliant', remediation: write });

      const stored = await store.getSubscription(id);
      expect(stored).toEqual(fixed.record);
      expect(stored?.lastRemediation).not.toHaveProperty('body');
      expect((await store.loadSubscriptions()).find((record) => record.subscriptionId === id)?.lastRemediation).toEqual(onRecord(write));

      const history = await store.history(id);
      expect(history).toEqual([first.change, fixed.change]);
      // A row that records no write reads back without the member, not with an empty one.
      expect(history[0]).not.toHaveProperty('remediation');
      expect(history[1]?.remediation).toEqual(write);
    });

    it('adds a history row for a second write, even when the status stays', async () => {
      const clock = manualClock('2025-05-01T10:00:00Z');
      const store = backend.openStateStore({ tablePrefix: uniquePrefix(), clock: clock.now });
      const id = subscriptionIdFor(12);

      await store.recordEvaluation(verdict(id, 'noncompliant'), { evaluatedBy: 'event:1', readAt: clock.now() });
      clock.advance(60_000);
      const refused = remediation(clock.now(), {
        by: 'app: event e-1',
        outcome: 'failed',
        reason: 'the write was refused: 403 AuthorizationFailed',
      });
      const firstWrite = await store.recordEvaluation(verdict(id, 'noncompliant'), {
        evaluatedBy: 'app: event e-1',
        readAt: clock.now(),
        remediation: refused,
      });
      expect(firstWrite.change).toMatchObject({ from: 'noncompliant', to: 'noncompliant', remediation: refused });

      clock.advance(60_000);
      const second = remediation(clock.now());
      const secondWrite = await store.recordEvaluation(verdict(id, 'compliant'), {
        evaluatedBy: 'fix by alice@corp-sec.net',
        readAt: clock.now(),
        remediation: second,
      });

      const history = await store.history(id);
      expect(history.map((change) => [change.from, change.to, change.evaluatedBy, change.remediation?.outcome])).toEqual([
        [null, 'noncompliant', 'event:1', undefined],
        ['noncompliant', 'noncompliant', 'app: event e-1', 'failed'],
        ['noncompliant', 'compliant', 'fix by alice@corp-sec.net', 'fixed'],
      ]);
      expect(history.slice(1)).toEqual([firstWrite.change, secondWrite.change]);
      expect((await store.getSubscription(id))?.lastRemediation).toEqual(onRecord(second));

      // A later evaluation without a write keeps the last write on the record and adds no row.
      clock.advance(60_000);
      const later = await store.recordEvaluation(verdict(id, 'compliant'), { evaluatedBy: 'event:2', readAt: clock.now() });
      expect(later.change).toBeNull();
      expect((await store.getSubscription(id))?.lastRemediation).toEqual(onRecord(second));
      expect(await store.history(id)).toHaveLength(3);
    });

    it('records a write whose reading a later one superseded, leaving that reading as it is', async () => {
      const clock = manualClock('2025-05-01T10:00:00Z');
      const store = backend.openStateStore({ tablePrefix: uniquePrefix(), clock: clock.now });
      const id = subscriptionIdFor(7);
      const readBack = clock.now();

      clock.advance(60_000);
      const newer = await store.recordEvaluation(verdict(id, 'noncompliant'), { evaluatedBy: 'event:later', readAt: clock.now() });
      clock.advance(60_000);
      const write = remediation(readBack);
      const late = await store.recordEvaluation(verdict(id, 'compliant'), {
        evaluatedBy: 'fix by alice@corp-sec.net',
        readAt: readBack,
        remediation: write,
      });

      expect(late.superseded).toBe(false);
      const stored = await store.getSubscription(id);
      expect(stored).toEqual({ ...newer.record, lastRemediation: onRecord(write) });
      const history = await store.history(id);
      expect(history.map((change) => [change.from, change.to, change.at, change.evaluatedBy])).toEqual([
        [null, 'noncompliant', newer.record?.lastEvaluatedAt, 'event:later'],
        ['noncompliant', 'noncompliant', clock.now().toISOString(), 'fix by alice@corp-sec.net'],
      ]);
      expect(history[1]?.remediation).toEqual(write);
    });

    it('keeps an oversized body as its size, and reads it back so', async () => {
      const clock = manualClock('2025-05-01T10:00:00Z');
      const store = backend.openStateStore({ tablePrefix: uniquePrefix(), clock: clock.now });
      const id = subscriptionIdFor(9);
      const huge: SecurityContactPutBody = { properties: { ...BODY.properties, phone: '9'.repeat(2 * RECORD_LIMITS.fixCharacters) } };
      const write = remediation(clock.now(), { changes: ['c'.repeat(2 * RECORD_LIMITS.remediationChangeCharacters)] });

      const recorded = await store.recordEvaluation(verdict(id, 'compliant'), {
        evaluatedBy: 'fix by alice@corp-sec.net',
        readAt: clock.now(),
        remediation: { ...write, body: huge },
      });
      const [change] = await store.history(id);
      expect(change).toEqual(recorded.change);
      expect(change?.remediation?.body).toEqual({ omittedBytes: Buffer.byteLength(JSON.stringify(huge)) });
      expect(change?.remediation?.changes[0]?.length).toBeLessThanOrEqual(RECORD_LIMITS.remediationChangeCharacters);
      expect((await store.getSubscription(id))?.lastRemediation).toEqual(onRecord(change!.remediation!));
    });
  });
}
