/**
 * checkSubscription over fake ports: one subscription read fresh from the securityContacts API
 * (never Resource Graph), re-read with back-off while it is not compliant and the wait lasts.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../../src/core/policy.js';
import type { ContactListRead, SecurityContactsSource } from '../../../src/scan/ports.js';
import { checkSubscription, type CheckOptions } from '../../../src/scan/check.js';
import { COMPLIANT, FakeTenant, NONCOMPLIANT } from './fake-ports.js';

/** A clock the test reads; `waited` moves it by what check waited, so the deadline is reached in test time. */
function testClock(start = '2026-03-01T10:00:00.000Z') {
  let now = Date.parse(start);
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

/** The API answers these in turn (the last one for ever after). */
function answering(...answers: ContactListRead[]): SecurityContactsSource & { reads: number } {
  const source = {
    reads: 0,
    stats: { calls: 0 },
    listContacts: async () => {
      source.stats.calls += 1;
      return answers[Math.min(source.reads++, answers.length - 1)]!;
    },
  };
  return source;
}

async function check(tenant: FakeTenant, id: string, contacts: SecurityContactsSource, options: CheckOptions = {}) {
  const clock = testClock();
  const retries: Array<[string, number]> = [];
  const verdict = await checkSubscription(
    id,
    { contacts, subscriptions: tenant.arm, policy: DEFAULT_POLICY, clock: clock.now },
    {
      pollIntervalMs: 1,
      maxPollIntervalMs: 4,
      ...options,
      onRetry: (v, nextReadInMs) => {
        retries.push([v.status, nextReadInMs]);
        clock.advance(1_000);
      },
    },
  );
  return { verdict, retries };
}

describe('checkSubscription', () => {
  it('judges what the API answers, never what Resource Graph indexed', async () => {
    const tenant = new FakeTenant();
    const id = tenant.add(1, { displayName: 'Payments prod', indexed: [COMPLIANT()] });
    const { verdict, retries } = await check(tenant, id, answering({ kind: 'listed', contacts: [NONCOMPLIANT()] }));
    expect(verdict).toMatchObject({
      subscriptionId: id,
      displayName: 'Payments prod',
      state: 'Enabled',
      status: 'noncompliant',
      source: 'security-contacts-api',
    });
    expect(verdict.fix).toMatchObject({ kind: 'put' });
    expect(retries).toEqual([]);
    expect(tenant.lookedUp).toEqual([id]);
  });

  it('reads again with back-off while noncompliant, and stops as soon as the contact is there', async () => {
    const tenant = new FakeTenant();
    const id = tenant.add(1);
    const missing: ContactListRead = { kind: 'listed', contacts: [] };
    const contacts = answering(missing, missing, missing, missing, missing, { kind: 'listed', contacts: [COMPLIANT()] });
    const { verdict, retries } = await check(tenant, id, contacts, { waitSeconds: 300 });
    expect(verdict.status).toBe('compliant');
    expect(contacts.reads).toBe(6);
    // The pause doubles up to its maximum.
    expect(retries).toEqual([
      ['noncompliant', 1],
      ['noncompliant', 2],
      ['noncompliant', 4],
      ['noncompliant', 4],
      ['noncompliant', 4],
    ]);
  });

  it('gives the last reading once the wait is over, and does not wait without one', async () => {
    const tenant = new FakeTenant();
    const id = tenant.add(1);
    const stillMissing = await check(tenant, id, answering({ kind: 'listed', contacts: [] }), { waitSeconds: 3 });
    expect(stillMissing.verdict.status).toBe('noncompliant');
    expect(stillMissing.retries).toHaveLength(3); // the clock moves a second per wait: three waits use up three seconds
    const once = await check(tenant, id, answering({ kind: 'listed', contacts: [] }));
    expect(once.verdict.status).toBe('noncompliant');
    expect(once.retries).toEqual([]);
  });

  it('reads again after an unreadable answer, transient or not, and reports error when it stays so', async () => {
    const tenant = new FakeTenant();
    const id = tenant.add(1);
    const recovered = await check(
      tenant,
      id,
      answering(
        { kind: 'unreadable', message: '503 after 4 retries', status: 503, transient: true },
        { kind: 'listed', contacts: [COMPLIANT()] },
      ),
      {
        waitSeconds: 60,
      },
    );
    expect(recovered.verdict.status).toBe('compliant');
    expect(recovered.retries).toEqual([['error', 1]]);
    const forbidden = await check(tenant, id, answering({ kind: 'unreadable', message: '403 AuthorizationFailed', status: 403 }));
    expect(forbidden.verdict).toMatchObject({ status: 'error', source: 'security-contacts-api' });
    expect(forbidden.verdict.findings.every((f) => f.result === 'error' && f.message.includes('403 AuthorizationFailed'))).toBe(true);
  });

  it('judges a subscription whose provider is not registered noncompliant at once', async () => {
    const tenant = new FakeTenant();
    const id = tenant.add(1);
    const { verdict } = await check(
      tenant,
      id,
      answering({ kind: 'provider-not-registered', message: '409 MissingSubscriptionRegistration' }),
    );
    expect(verdict).toMatchObject({ status: 'noncompliant', fix: { kind: 'not-fixable' } });
  });

  it('skips a Disabled subscription without reading its contact, and judges one ARM cannot describe', async () => {
    const tenant = new FakeTenant();
    const disabled = tenant.add(1, { state: 'Disabled' });
    const contacts = answering({ kind: 'listed', contacts: [NONCOMPLIANT()] });
    expect((await check(tenant, disabled, contacts, { waitSeconds: 60 })).verdict).toMatchObject({ status: 'skipped', state: 'Disabled' });
    expect(contacts.reads).toBe(0);

    const unknown = '7f000000-0000-4000-8000-000000000007';
    tenant.armSays(unknown, { kind: 'unreadable', message: '403 AuthorizationFailed', status: 403 });
    const { verdict } = await check(tenant, unknown, answering({ kind: 'listed', contacts: [COMPLIANT()] }));
    expect(verdict).toMatchObject({ subscriptionId: unknown, displayName: '', state: 'Unknown', status: 'compliant' });
  });

  it('stops waiting when it is aborted', async () => {
    const tenant = new FakeTenant();
    const id = tenant.add(1);
    const controller = new AbortController();
    const waiting = checkSubscription(
      id,
      {
        contacts: answering({ kind: 'listed', contacts: [] }),
        subscriptions: tenant.arm,
        policy: DEFAULT_POLICY,
        signal: controller.signal,
      },
      { waitSeconds: 3_600, pollIntervalMs: 60_000, onRetry: () => controller.abort() },
    );
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  });
});
