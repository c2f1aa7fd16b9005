/**
 * The alert outbox in Table Storage (`<prefix>outbox`, e.g. `contactwatchoutbox`).
 *
 * Keys (also in README.md beside this file):
 *
 * | PartitionKey | RowKey | what |
 * | --- | --- | --- |
 * | `alert` | the alert's occurrence key, `<subscriptionId>|<kind>|<status>|<basis ISO time>` | a claim: this occurrence is (being) sent in batch `batchId` |
 * | `message` | the message's `operationId` (UUID) | one message on one channel: content, recipients, covered subscriptions, delivery state |
 * | `config` | `channels` | the deployment's channel set: names (`email,teams`), when and by which runner (`app`, `cli`) last written |
 *
 * Why the claim rows make a crash harmless: the occurrence key is computed from the subscription
 * record alone (the time it entered its status, or the time of the alert a reminder follows).
 * Until the record is marked alerted, every run computes the same key for the same alert, and
 * inserting a claim with that key fails (409) once any run has claimed it. So a run that dies
 * after claiming — before or after writing the message, before marking the records — leaves a
 * claim that the next run finds: the next run cannot compose a second message for that alert;
 * it finishes the first (writes the missing message from the claims, marks the records).
 * A new status or a reminder after `markAlerted` gets a new key, hence a new claim.
 *
 * Message rows are read by the sender: `state` (pending, accepted, sent, failed, dead) is a plain
 * property so pending work is one filtered query in one partition; so is `channel` (`email`,
 * `teams`, `webhook`; a row without one is an e-mail, as every row written before channels
 * existed). Where a channel delivers (a Teams workflow's URL, a webhook's URL and secret) is never
 * stored: it is configuration, and a URL may carry a signature. The content (subject, HTML, text,
 * a Teams card's or webhook's JSON body, recipients, subscription ids, alert keys) is gzipped
 * JSON spread over binary properties `payload_0..n` (64 KiB each) so a 250-subscription digest
 * fits the 1 MiB entity limit. Every update is ETag-checked (412 → OutboxConflictError).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { odata, type TableClient, type TableEntity } from '@azure/data-tables';
import type { OwedAlert } from '../../core/alerts.js';
import { cut } from '../../core/record-bounds.js';
import {
  OutboxConflictError,
  type AlertChannelSet,
  type AlertClaim,
  type NewOutboxMessage,
  type Outbox,
  type OutboxMessage,
  type OutboxMessagePatch,
} from '../../alerts/ports.js';
import { ALERT_CHANNELS, OUTBOX_STATES, type AlertChannel, type OutboxState } from '../../core/outbox-states.js';
import { deleteWhere } from './bulk-delete.js';
import { decodePayload, encodePayload, int, nullable, str, text, type EntityResult } from './outbox-rows.js';
import type { TableConnection } from './connection.js';
import { hasStatus } from './table-errors.js';

/** Table suffix under the prefix: `<prefix>outbox`. */
export const OUTBOX_TABLE_SUFFIX = 'outbox';
export const CLAIM_PARTITION = 'alert';
export const MESSAGE_PARTITION = 'message';
export const CONFIG_PARTITION = 'config';
const CHANNEL_SET_ROW = 'channels';

type Entity = TableEntity<Record<string, unknown>>;

/** Characters Table Storage refuses in keys (`/ \ # ?` and control characters) become `_`. */
export function outboxRowKey(key: string): string {
  return key.replace(/[/\\#?\u0000-\u001f\u007f-\u009f]/g, '_').slice(0, 512);
}

function encodeMessage(message: NewOutboxMessage): Entity {
  return {
    partitionKey: MESSAGE_PARTITION,
    rowKey: message.operationId,
    batchId: message.batchId,
    channel: message.channel,
    recipientGroup: message.recipientGroup,
    mode: message.mode,
    state: 'pending' satisfies OutboxState,
    // A readable subject and count for people looking at the table; the content is in payload_*.
    subject: text(message.subject),
    subscriptionCount: message.subscriptionIds.length,
    createdAt: message.createdAt,
    sequence: message.sequence,
    attempts: 0,
    failures: 0,
    lastError: '',
    nextAttemptAt: '',
    acceptedAt: '',
    completedAt: '',
    serviceOperationId: '',
    serviceStatus: '',
    resumeState: '',
    leaseUntil: '',
    ...encodePayload({
      subject: message.subject,
      html: message.html,
      plainText: message.plainText,
      body: message.body,
      to: message.to,
      subscriptionIds: message.subscriptionIds,
      alertKeys: message.alertKeys,
    }),
  };
}

/** The row's channel: `email` for a row written before channels existed. */
function channelOf(entity: EntityResult): AlertChannel {
  const channel = str(entity, 'channel');
  if (channel === '') return 'email';
  if (!(ALERT_CHANNELS as readonly string[]).includes(channel))
    throw new Error(`outbox message ${entity.rowKey}: unknown channel "${channel}"`);
  return channel as AlertChannel;
}

function decodeMessage(entity: EntityResult): OutboxMessage {
  const payload = decodePayload(entity);
  const state = str(entity, 'state') as OutboxState;
  if (!OUTBOX_STATES.includes(state)) throw new Error(`outbox message ${entity.rowKey}: unknown state "${state}"`);
  return {
    operationId: entity.rowKey ?? '',
    batchId: str(entity, 'batchId'),
    channel: channelOf(entity),
    recipientGroup: int(entity, 'recipientGroup'),
    mode: str(entity, 'mode') === 'single' ? 'single' : 'digest',
    state,
    subject: payload.subject,
    html: payload.html,
    plainText: payload.plainText,
    body: payload.body ?? '',
    to: payload.to,
    subscriptionIds: payload.subscriptionIds,
    alertKeys: payload.alertKeys,
    createdAt: str(entity, 'createdAt'),
    sequence: int(entity, 'sequence'),
    attempts: int(entity, 'attempts'),
    failures: int(entity, 'failures'),
    lastError: nullable(entity, 'lastError'),
    nextAttemptAt: nullable(entity, 'nextAttemptAt'),
    acceptedAt: nullable(entity, 'acceptedAt'),
    completedAt: nullable(entity, 'completedAt'),
    serviceOperationId: nullable(entity, 'serviceOperationId'),
    serviceStatus: nullable(entity, 'serviceStatus'),
    resumeState: nullable(entity, 'resumeState'),
    leaseUntil: nullable(entity, 'leaseUntil'),
    etag: entity.etag,
  };
}

function encodePatch(patch: OutboxMessagePatch): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    properties[name] = typeof value === 'number' ? value : text(value);
  }
  return properties;
}

/** One binary property holds at most 64 KiB. */
const MAX_ALERT_BYTES = 60 * 1024;

/**
 * The claimed alert, gzipped into one binary property. Alerts come from bounded records (see
 * src/core/record-bounds.ts), so this is a few KB; should one still not fit, its messages are cut
 * further rather than the JSON itself, which would leave a row no run can read.
 */
function encodeAlert(alert: OwedAlert): Uint8Array {
  const zipped = gzipSync(Buffer.from(JSON.stringify(alert), 'utf8'));
  if (zipped.length <= MAX_ALERT_BYTES) return new Uint8Array(zipped);
  const shorter: OwedAlert = {
    ...alert,
    displayName: cut(alert.displayName, 256),
    findings: alert.findings.map((finding) => ({ ...finding, message: cut(finding.message, 500) })),
    ...(alert.fix ? { fix: { kind: 'too-large' as const, bytes: Buffer.byteLength(JSON.stringify(alert.fix)) } } : {}),
  };
  return new Uint8Array(gzipSync(Buffer.from(JSON.stringify(shorter), 'utf8')));
}

function encodeClaim(claim: AlertClaim): Entity {
  return {
    partitionKey: CLAIM_PARTITION,
    rowKey: outboxRowKey(claim.key),
    key: claim.key,
    batchId: claim.batchId,
    mode: claim.mode,
    subscriptionId: claim.subscriptionId,
    kind: claim.kind,
    createdAt: claim.createdAt,
    alertGzip: encodeAlert(claim.alert),
    ...(claim.channels ? { channels: claim.channels.join(',') } : {}),
  };
}

/**
 * The stored alert, or one rebuilt from the claim's key when it cannot be read (a row written
 * before alerts were bounded held JSON cut at the property limit). A claim that cannot be read
 * must never stop every later run: its message is composed from what the key says instead.
 */
function decodeClaimedAlert(entity: EntityResult, key: string): OwedAlert {
  try {
    const zipped = entity['alertGzip'];
    if (zipped instanceof Uint8Array) return JSON.parse(gunzipSync(Buffer.from(zipped)).toString('utf8')) as OwedAlert;
    return JSON.parse(str(entity, 'alert')) as OwedAlert;
  } catch {
    return alertFromKey(key, str(entity, 'subscriptionId'));
  }
}

/** `<subscriptionId>|<kind>|<status>|<basis>` back into the alert it names, without its details. */
function alertFromKey(key: string, subscriptionId: string): OwedAlert {
  const [id, kind, status, basis] = key.split('|');
  return {
    key,
    kind: kind === 'reminder' || kind === 'fixed' || kind === 'repaired' ? kind : 'alert',
    subscriptionId: subscriptionId || (id ?? ''),
    displayName: '',
    status: status === 'error' || status === 'compliant' ? status : 'noncompliant',
    since: basis ?? '',
    findings: [],
  };
}

/** The claim's batch channels; absent (undefined) on a row written before they were recorded. Unknown names are dropped. */
function claimChannels(entity: EntityResult): AlertChannel[] | undefined {
  if (typeof entity['channels'] !== 'string') return undefined;
  return str(entity, 'channels')
    .split(',')
    .filter((name): name is AlertChannel => (ALERT_CHANNELS as readonly string[]).includes(name));
}

function decodeClaim(entity: EntityResult): AlertClaim {
  const key = str(entity, 'key') || (entity.rowKey ?? '');
  const alert = decodeClaimedAlert(entity, key);
  const channels = claimChannels(entity);
  return {
    key,
    batchId: str(entity, 'batchId'),
    mode: str(entity, 'mode') === 'single' ? 'single' : 'digest',
    subscriptionId: str(entity, 'subscriptionId'),
    kind: alert.kind,
    alert,
    createdAt: str(entity, 'createdAt'),
    ...(channels ? { channels } : {}),
  };
}

export class TableOutbox implements Outbox {
  constructor(private readonly client: TableClient) {}

  /** The outbox of a table connection (`<prefix>outbox`, created on first use). */
  static async connect(connection: TableConnection): Promise<TableOutbox> {
    return new TableOutbox(await connection.table(OUTBOX_TABLE_SUFFIX));
  }

  async ensure(): Promise<void> {
    await this.client.createTable();
  }

  async claimAlert(claim: AlertClaim): Promise<{ created: true } | { created: false; existing: AlertClaim }> {
    try {
      await this.client.createEntity(encodeClaim(claim));
      return { created: true };
    } catch (error) {
      if (!hasStatus(error, 409)) throw error;
    }
    const existing = await this.client.getEntity<Record<string, unknown>>(CLAIM_PARTITION, outboxRowKey(claim.key));
    return { created: false, existing: decodeClaim(existing) };
  }

  async releaseClaims(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      try {
        await this.client.deleteEntity(CLAIM_PARTITION, outboxRowKey(key));
      } catch (error) {
        if (!hasStatus(error, 404)) throw error;
      }
    }
  }

  async listClaims(batchId: string): Promise<AlertClaim[]> {
    const claims: AlertClaim[] = [];
    const filter = odata`PartitionKey eq ${CLAIM_PARTITION} and batchId eq ${batchId}`;
    for await (const entity of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
      claims.push(decodeClaim(entity));
    }
    return claims;
  }

  async createMessage(message: NewOutboxMessage): Promise<'created' | 'exists'> {
    try {
      await this.client.createEntity(encodeMessage(message));
      return 'created';
    } catch (error) {
      if (hasStatus(error, 409)) return 'exists';
      throw error;
    }
  }

  async getMessage(operationId: string): Promise<OutboxMessage | null> {
    try {
      return decodeMessage(await this.client.getEntity<Record<string, unknown>>(MESSAGE_PARTITION, operationId));
    } catch (error) {
      if (hasStatus(error, 404)) return null;
      throw error;
    }
  }

  async listMessages(states: readonly OutboxState[]): Promise<OutboxMessage[]> {
    if (states.length === 0) return [];
    const stateFilter = states.map((state) => odata`state eq ${state}`).join(' or ');
    const filter = `${odata`PartitionKey eq ${MESSAGE_PARTITION}`} and (${stateFilter})`;
    const messages: OutboxMessage[] = [];
    for await (const entity of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
      messages.push(decodeMessage(entity));
    }
    return messages.sort(
      (a, b) => a.createdAt.localeCompare(b.createdAt) || a.sequence - b.sequence || a.operationId.localeCompare(b.operationId),
    );
  }

  async updateMessage(message: OutboxMessage, patch: OutboxMessagePatch): Promise<OutboxMessage> {
    try {
      const response = await this.client.updateEntity(
        { partitionKey: MESSAGE_PARTITION, rowKey: message.operationId, ...encodePatch(patch) },
        'Merge',
        { etag: message.etag },
      );
      return { ...message, ...patch, etag: response.etag ?? message.etag };
    } catch (error) {
      if (hasStatus(error, 412) || hasStatus(error, 404)) {
        throw new OutboxConflictError(`outbox message ${message.operationId} changed since it was read`);
      }
      throw error;
    }
  }

  async pruneDelivered(before: Date, limit: number): Promise<{ messages: number; claims: number }> {
    const cutoff = before.toISOString();
    const delivered = odata`PartitionKey eq ${MESSAGE_PARTITION} and (state eq ${'sent'} or state eq ${'replaced'}) and createdAt lt ${cutoff}`;
    const messages = (await deleteWhere(this.client, MESSAGE_PARTITION, delivered, limit)).deleted;
    const claims = (
      await deleteWhere(
        this.client,
        CLAIM_PARTITION,
        odata`PartitionKey eq ${CLAIM_PARTITION} and createdAt lt ${cutoff}`,
        limit - messages,
      )
    ).deleted;
    return { messages, claims };
  }

  async readChannelSet(): Promise<AlertChannelSet | null> {
    let entity: EntityResult;
    try {
      entity = await this.client.getEntity<Record<string, unknown>>(CONFIG_PARTITION, CHANNEL_SET_ROW);
    } catch (error) {
      if (hasStatus(error, 404)) return null;
      throw error;
    }
    return {
      channels: str(entity, 'channels').split(',').filter(Boolean),
      writtenAt: str(entity, 'writtenAt'),
      writtenBy: str(entity, 'writtenBy') === 'app' ? 'app' : 'cli',
    };
  }

  async writeChannelSet(set: AlertChannelSet): Promise<void> {
    await this.client.upsertEntity(
      {
        partitionKey: CONFIG_PARTITION,
        rowKey: CHANNEL_SET_ROW,
        channels: set.channels.join(','),
        writtenAt: set.writtenAt,
        writtenBy: set.writtenBy,
      },
      'Replace',
    );
  }

  async acceptedSince(since: Date, channel: AlertChannel): Promise<Date[]> {
    // The channel is matched here, not in the filter: a row written before channels existed has
    // no channel property, and is an e-mail.
    const filter = odata`PartitionKey eq ${MESSAGE_PARTITION} and acceptedAt ge ${since.toISOString()}`;
    const times: Date[] = [];
    const select = ['acceptedAt', 'channel'];
    for await (const entity of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter, select } })) {
      if ((str(entity, 'channel') || 'email') !== channel) continue;
      const at = Date.parse(str(entity, 'acceptedAt'));
      if (!Number.isNaN(at)) times.push(new Date(at));
    }
    return times;
  }
}
