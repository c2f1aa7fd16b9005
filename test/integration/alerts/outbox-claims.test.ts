/**
 * Outbox claims in Azurite hold the alert they claim, whatever its size (cut further when even
 * gzipped it would not fit a property), and a claim that cannot be read (a row written before
 * alerts were bounded, its JSON cut at the property limit) never stops a later run: the alert is
 * rebuilt from the claim's key.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TableOutbox } from '../../../src/adapters/table-storage/outbox.js';
import { connectTables } from '../../../src/adapters/table-storage/connection.js';
import { alertKey, type OwedAlert } from '../../../src/core/alerts.js';
import { startAzurite, type AzuriteTables } from '../../support/azurite.js';
import { subscriptionIdFor, uniquePrefix } from '../state/support.js';

let azurite: AzuriteTables;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

async function openOutbox(): Promise<{ outbox: TableOutbox; table: Awaited<ReturnType<ReturnType<typeof connectTables>['table']>> }> {
  const connection = connectTables(azurite.connectionString, { tablePrefix: uniquePrefix() });
  const outbox = await TableOutbox.connect(connection);
  await outbox.ensure();
  return { outbox, table: await connection.table('outbox') };
}

function owed(subscriptionId: string, message: string): OwedAlert {
  const since = '2026-11-30T10:00:00.000Z';
  return {
    key: alertKey(subscriptionId, 'alert', 'noncompliant', since),
    kind: 'alert',
    subscriptionId,
    displayName: 'Huge contact',
    status: 'noncompliant',
    since,
    findings: [{ ruleId: 'email-configured', result: 'fail', message }],
  };
}

describe('outbox claims', () => {
  it('round-trip an alert whose messages hold 40 KB of text', async () => {
    const { outbox } = await openOutbox();
    const alert = owed(subscriptionIdFor(1), `invalid addresses: ${'a;'.repeat(20_000)}`);
    const claim = { key: alert.key, batchId: 'batch-1', mode: 'digest' as const, subscriptionId: alert.subscriptionId, kind: alert.kind, alert, createdAt: '2026-12-01T00:00:00.000Z' };
    expect(await outbox.claimAlert(claim)).toEqual({ created: true });
    const [stored] = await outbox.listClaims('batch-1');
    expect(stored?.alert).toEqual(alert);
    expect(await outbox.claimAlert(claim)).toEqual({ created: false, existing: stored });
  });

  it('keep an alert whose text does not compress within one property, its messages cut further', async () => {
    const { outbox } = await openOutbox();
    // Random text barely compresses: 3 × 40 KB of it gzips to more than one binary property holds.
    const random = (n: number) => randomBytes(n).toString('base64');
    const alert = { ...owed(subscriptionIdFor(3), random(40_000)), displayName: random(40_000) };
    alert.findings.push({ ruleId: 'owner-notifications', result: 'fail', message: random(40_000) });
    const claim = { key: alert.key, batchId: 'batch-4', mode: 'digest' as const, subscriptionId: alert.subscriptionId, kind: alert.kind, alert, createdAt: '2026-12-01T00:00:00.000Z' };
    expect(await outbox.claimAlert(claim)).toEqual({ created: true });
    const [stored] = await outbox.listClaims('batch-4');
    expect(stored!.alert).toMatchObject({ key: alert.key, subscriptionId: alert.subscriptionId, status: 'noncompliant' });
    expect(stored!.alert.findings.map((finding) => finding.ruleId)).toEqual(['email-configured', 'owner-notifications']);
    expect(stored!.alert.findings.every((finding) => finding.message.length <= 500 && finding.message.endsWith('more characters not stored]'))).toBe(true);
    expect(stored!.alert.displayName.length).toBeLessThanOrEqual(256);
  });

  it('rebuild the alert from the key when the stored alert cannot be read', async () => {
    const { outbox, table } = await openOutbox();
    const alert = owed(subscriptionIdFor(2), `invalid addresses: ${'b;'.repeat(20_000)}`);
    // As a row was written before: the alert's JSON cut at 30,000 characters.
    await table.createEntity({
      partitionKey: 'alert',
      rowKey: alert.key,
      key: alert.key,
      batchId: 'batch-2',
      mode: 'digest',
      subscriptionId: alert.subscriptionId,
      kind: alert.kind,
      createdAt: '2026-12-01T00:00:00.000Z',
      alert: JSON.stringify(alert).slice(0, 30_000),
    });
    const claim = { key: alert.key, batchId: 'batch-3', mode: 'digest' as const, subscriptionId: alert.subscriptionId, kind: alert.kind, alert, createdAt: '2026-12-02T00:00:00.000Z' };
    const outcome = await outbox.claimAlert(claim);
    expect(outcome).toMatchObject({
      created: false,
      existing: { batchId: 'batch-2', alert: { key: alert.key, kind: 'alert', status: 'noncompliant', subscriptionId: alert.subscriptionId, since: alert.since, findings: [] } },
    });
    expect((await outbox.listClaims('batch-2')).map((c) => c.alert.subscriptionId)).toEqual([alert.subscriptionId]);
  });
});
