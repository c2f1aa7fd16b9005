/**
 * The alert outbox's contract, for any table service. Claims: the first claim of an occurrence
 * wins and a second is told the first (409 on insert); a claim holds the alert it claims whatever
 * its size (cut further when even gzipped it would not fit a property), and a claim that cannot be
 * read (a row written before alerts were bounded, its JSON cut at the property limit) never stops
 * a later run: the alert is rebuilt from the claim's key. Messages: stored once per Operation-Id,
 * listed by state in order, updated only with the ETag they were read with, and pruned only once
 * delivered.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TableOutbox } from '../../src/adapters/table-storage/outbox.js';
import { OutboxConflictError, type NewOutboxMessage } from '../../src/alerts/ports.js';
import { alertKey, type OwedAlert } from '../../src/core/alerts.js';
import type { TableBackend } from './backends.js';
import { subscriptionIdFor, uniquePrefix } from './support.js';

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

function message(operationId: string, overrides: Partial<NewOutboxMessage> = {}): NewOutboxMessage {
  return {
    operationId,
    batchId: 'batch-1',
    channel: 'email',
    recipientGroup: 0,
    mode: 'digest',
    subject: '[contact-watch] 1 Azure subscription without a valid security contact',
    html: '<p>Payments prod</p>',
    plainText: 'Payments prod',
    body: '',
    to: ['secops@fabrikam.com'],
    subscriptionIds: [subscriptionIdFor(1)],
    alertKeys: [alertKey(subscriptionIdFor(1), 'alert', 'noncompliant', '2026-11-30T10:00:00.000Z')],
    createdAt: '2026-12-01T00:00:00.000Z',
    sequence: 0,
    ...overrides,
  };
}

export function outboxContract(backend: TableBackend): void {
  async function openOutbox(): Promise<{ outbox: TableOutbox; table: Awaited<ReturnType<ReturnType<TableBackend['connect']>['table']>> }> {
    const connection = backend.connect({ tablePrefix: uniquePrefix() });
    const outbox = await TableOutbox.connect(connection);
    await outbox.ensure();
    return { outbox, table: await connection.table('outbox') };
  }

  describe('outbox claims', () => {
    it('round-trip an alert whose messages hold 40 KB of text', async () => {
      const { outbox } = await openOutbox();
      const alert = owed(subscriptionIdFor(1), `invalid addresses: ${'a;'.repeat(20_000)}`);
      const claim = {
        key: alert.key,
        batchId: 'batch-1',
        mode: 'digest' as const,
        subscriptionId: alert.subscriptionId,
        kind: alert.kind,
        alert,
        createdAt: '2026-12-01T00:00:00.000Z',
      };
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
      const claim = {
        key: alert.key,
        batchId: 'batch-4',
        mode: 'digest' as const,
        subscriptionId: alert.subscriptionId,
        kind: alert.kind,
        alert,
        createdAt: '2026-12-01T00:00:00.000Z',
      };
      expect(await outbox.claimAlert(claim)).toEqual({ created: true });
      const [stored] = await outbox.listClaims('batch-4');
      expect(stored!.alert).toMatchObject({ key: alert.key, subscriptionId: alert.subscriptionId, status: 'noncompliant' });
      expect(stored!.alert.findings.map((finding) => finding.ruleId)).toEqual(['email-configured', 'owner-notifications']);
      expect(
        stored!.alert.findings.every((finding) => finding.message.length <= 500 && finding.message.endsWith('more characters not stored]')),
      ).toBe(true);
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
      const claim = {
        key: alert.key,
        batchId: 'batch-3',
        mode: 'digest' as const,
        subscriptionId: alert.subscriptionId,
        kind: alert.kind,
        alert,
        createdAt: '2026-12-02T00:00:00.000Z',
      };
      const outcome = await outbox.claimAlert(claim);
      expect(outcome).toMatchObject({
        created: false,
        existing: {
          batchId: 'batch-2',
          alert: {
            key: alert.key,
            kind: 'alert',
            status: 'noncompliant',
            subscriptionId: alert.subscriptionId,
            since: alert.since,
            findings: [],
          },
        },
      });
      expect((await outbox.listClaims('batch-2')).map((c) => c.alert.subscriptionId)).toEqual([alert.subscriptionId]);
    });
    it('let the first claim of an occurrence win: a second claim is told the first, and a released claim can be made again', async () => {
      const { outbox } = await openOutbox();
      const alert = owed(subscriptionIdFor(4), 'admin@contoso.com is on a placeholder domain');
      const claim = {
        key: alert.key,
        batchId: 'batch-5',
        mode: 'single' as const,
        subscriptionId: alert.subscriptionId,
        kind: alert.kind,
        alert,
        createdAt: '2026-12-01T00:00:00.000Z',
      };
      expect(await outbox.claimAlert(claim)).toEqual({ created: true });
      const second = await outbox.claimAlert({ ...claim, batchId: 'batch-6', mode: 'digest' });
      expect(second).toEqual({ created: false, existing: claim });
      expect(await outbox.listClaims('batch-6')).toEqual([]);
      await outbox.releaseClaims([claim.key, 'no such claim']);
      expect(await outbox.listClaims('batch-5')).toEqual([]);
      expect(await outbox.claimAlert({ ...claim, batchId: 'batch-6' })).toEqual({ created: true });
    });

    it('keep the channels of their batch; a row written before they were recorded has none', async () => {
      const { outbox, table } = await openOutbox();
      const alert = owed(subscriptionIdFor(5), 'no e-mail address');
      const claim = {
        key: alert.key,
        batchId: 'batch-7',
        mode: 'digest' as const,
        subscriptionId: alert.subscriptionId,
        kind: alert.kind,
        alert,
        createdAt: '2026-12-01T00:00:00.000Z',
        channels: ['email' as const, 'webhook' as const],
      };
      expect(await outbox.claimAlert(claim)).toEqual({ created: true });
      expect(await outbox.listClaims('batch-7')).toEqual([claim]);
      const older = owed(subscriptionIdFor(6), 'no e-mail address');
      const { channels: _none, ...withoutChannels } = { ...claim, key: older.key, subscriptionId: older.subscriptionId, alert: older };
      await table.createEntity({
        partitionKey: 'alert',
        rowKey: older.key,
        key: older.key,
        batchId: 'batch-8',
        mode: 'digest',
        subscriptionId: older.subscriptionId,
        kind: older.kind,
        createdAt: claim.createdAt,
        alert: JSON.stringify(older),
      });
      expect(await outbox.listClaims('batch-8')).toEqual([{ ...withoutChannels, batchId: 'batch-8' }]);
    });
  });

  describe('the channel set', () => {
    it('is none until written, then the last one written; never a message, never pruned', async () => {
      const { outbox } = await openOutbox();
      expect(await outbox.readChannelSet()).toBeNull();
      await outbox.writeChannelSet({ channels: ['email', 'teams', 'webhook'], writtenAt: '2026-12-01T00:00:00.000Z', writtenBy: 'app' });
      await outbox.writeChannelSet({ channels: ['email', 'teams'], writtenAt: '2026-12-02T00:00:00.000Z', writtenBy: 'cli' });
      expect(await outbox.readChannelSet()).toEqual({
        channels: ['email', 'teams'],
        writtenAt: '2026-12-02T00:00:00.000Z',
        writtenBy: 'cli',
      });
      expect(await outbox.listMessages(['pending', 'accepted', 'sent', 'failed', 'dead', 'replaced'])).toEqual([]);
      expect(await outbox.pruneDelivered(new Date('2027-12-01T00:00:00.000Z'), 10)).toEqual({ messages: 0, claims: 0 });
      expect(await outbox.readChannelSet()).toMatchObject({ channels: ['email', 'teams'] });
    });
  });

  describe('outbox messages', () => {
    const [first, second, third] = [
      '1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b',
      '6ec0bd7f-11c0-43da-975e-2a8ad9ebae0b',
      'a0c4f1e2-3b5d-4e6f-8a9b-0c1d2e3f4a5b',
    ];

    it('are stored once per operation id and read back whole, however large the digest', async () => {
      const { outbox } = await openOutbox();
      const ids = Array.from({ length: 250 }, (_, i) => subscriptionIdFor(i));
      const digest = message(first, {
        subscriptionIds: ids,
        html: ids.map((id) => `<tr><td>${id}</td><td>${randomBytes(200).toString('base64')}</td></tr>`).join(''),
      });
      expect(await outbox.createMessage(digest)).toBe('created');
      expect(await outbox.createMessage({ ...digest, subject: 'a second composition of the same message' })).toBe('exists');
      const stored = await outbox.getMessage(first);
      expect(stored).toMatchObject({
        ...digest,
        state: 'pending',
        attempts: 0,
        failures: 0,
        lastError: null,
        acceptedAt: null,
        leaseUntil: null,
      });
      expect(stored?.etag).toEqual(expect.any(String));
      expect(await outbox.getMessage(second)).toBeNull();
    });

    it("are listed by state, oldest first and a digest in its parts' order", async () => {
      const { outbox } = await openOutbox();
      await outbox.createMessage(message(third, { createdAt: '2026-12-02T00:00:00.000Z' }));
      await outbox.createMessage(message(second, { sequence: 1 }));
      await outbox.createMessage(message(first, { sequence: 0 }));
      expect((await outbox.listMessages(['pending'])).map((m) => m.operationId)).toEqual([first, second, third]);
      const sent = await outbox.updateMessage((await outbox.getMessage(second))!, {
        state: 'sent',
        completedAt: '2026-12-01T00:01:00.000Z',
      });
      expect(sent.state).toBe('sent');
      expect((await outbox.listMessages(['pending'])).map((m) => m.operationId)).toEqual([first, third]);
      expect((await outbox.listMessages(['sent', 'failed'])).map((m) => m.operationId)).toEqual([second]);
      expect(await outbox.listMessages([])).toEqual([]);
    });

    it('are updated only with the ETag they were read with: a second writer gets OutboxConflictError', async () => {
      const { outbox } = await openOutbox();
      await outbox.createMessage(message(first));
      const read = (await outbox.getMessage(first))!;
      const leased = await outbox.updateMessage(read, { leaseUntil: '2026-12-01T00:05:00.000Z', attempts: 1 });
      expect(leased.etag).not.toBe(read.etag);
      await expect(outbox.updateMessage(read, { leaseUntil: '2026-12-01T00:06:00.000Z' })).rejects.toBeInstanceOf(OutboxConflictError);
      expect(await outbox.getMessage(first)).toMatchObject({ leaseUntil: '2026-12-01T00:05:00.000Z', attempts: 1, etag: leased.etag });
      // The one that holds the current ETag goes on; a message deleted meanwhile is a conflict too.
      const accepted = await outbox.updateMessage(leased, { state: 'accepted', acceptedAt: '2026-12-01T00:01:00.000Z', lastError: null });
      expect(await outbox.getMessage(first)).toMatchObject({
        state: 'accepted',
        acceptedAt: '2026-12-01T00:01:00.000Z',
        lastError: null,
        etag: accepted.etag,
      });
      await expect(outbox.updateMessage({ ...accepted, operationId: second }, { state: 'sent' })).rejects.toBeInstanceOf(
        OutboxConflictError,
      );
    });

    it('say when each was accepted, from a given time on', async () => {
      const { outbox } = await openOutbox();
      for (const [operationId, acceptedAt] of [
        [first, '2026-12-01T09:00:00.000Z'],
        [second, '2026-12-01T10:30:00.000Z'],
        [third, null],
      ] as const) {
        await outbox.createMessage(message(operationId));
        if (acceptedAt) await outbox.updateMessage((await outbox.getMessage(operationId))!, { state: 'accepted', acceptedAt });
      }
      expect((await outbox.acceptedSince(new Date('2026-12-01T10:00:00.000Z'), 'email')).map((at) => at.toISOString())).toEqual([
        '2026-12-01T10:30:00.000Z',
      ]);
      expect(await outbox.acceptedSince(new Date('2026-12-01T08:00:00.000Z'), 'email')).toHaveLength(2);
      // Each channel has its own rate: another channel's accepts are not counted.
      expect(await outbox.acceptedSince(new Date('2026-12-01T08:00:00.000Z'), 'teams')).toEqual([]);
    });

    it('are pruned once delivered and old, with the claims, a bounded number at a time; pending and failed ones stay', async () => {
      const { outbox } = await openOutbox();
      const old = '2026-11-01T00:00:00.000Z';
      const ids = Array.from({ length: 6 }, (_, i) => `00000000-0000-4000-8000-00000000000${i}`);
      const states = ['sent', 'sent', 'replaced', 'pending', 'failed', 'sent'] as const;
      for (const [index, operationId] of ids.entries()) {
        await outbox.createMessage(message(operationId, { createdAt: index === 5 ? '2026-12-10T00:00:00.000Z' : old }));
        if (states[index] !== 'pending') await outbox.updateMessage((await outbox.getMessage(operationId))!, { state: states[index] });
      }
      for (const index of [1, 2]) {
        const alert = owed(subscriptionIdFor(index), 'invalid addresses');
        await outbox.claimAlert({
          key: alert.key,
          batchId: 'batch-1',
          mode: 'digest',
          subscriptionId: alert.subscriptionId,
          kind: alert.kind,
          alert,
          createdAt: old,
        });
      }
      const cutoff = new Date('2026-12-01T00:00:00.000Z');
      expect(await outbox.pruneDelivered(cutoff, 2)).toEqual({ messages: 2, claims: 0 });
      expect(await outbox.pruneDelivered(cutoff, 10)).toEqual({ messages: 1, claims: 2 });
      expect(await outbox.pruneDelivered(cutoff, 10)).toEqual({ messages: 0, claims: 0 });
      const left = await outbox.listMessages(['pending', 'accepted', 'sent', 'failed', 'dead', 'replaced']);
      expect(left.map((m) => [m.operationId, m.state])).toEqual([
        [ids[3], 'pending'],
        [ids[4], 'failed'],
        [ids[5], 'sent'],
      ]);
      expect(await outbox.listClaims('batch-1')).toEqual([]);
    });
  });
}
