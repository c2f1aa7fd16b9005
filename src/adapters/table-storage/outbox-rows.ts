/**
 * How an outbox row holds its values (src/adapters/table-storage/outbox.ts): typed reads of a
 * row's properties, and a message's content as gzipped JSON spread over binary properties
 * `payload_0..n` (64 KiB each), so that a 250-subscription digest fits the 1 MiB entity limit.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { TableEntityResult } from '@azure/data-tables';

export type EntityResult = TableEntityResult<Record<string, unknown>>;

const PAYLOAD_CHUNK_BYTES = 60 * 1024;
/** Leaves room for the other properties inside the 1 MiB entity limit. */
const MAX_PAYLOAD_BYTES = 900 * 1024;
const MAX_STRING_CHARS = 30_000;

export function str(entity: EntityResult, name: string): string {
  const value = entity[name];
  return typeof value === 'string' ? value : '';
}

export function nullable(entity: EntityResult, name: string): string | null {
  const value = str(entity, name);
  return value === '' ? null : value;
}

export function int(entity: EntityResult, name: string): number {
  const value = entity[name];
  if (typeof value === 'number') return value;
  if (typeof value === 'object' && value !== null && 'value' in value) return Number(value.value);
  return Number(value ?? 0) || 0;
}

/** Table Storage drops nulls; an empty string stands for "none". */
export function text(value: string | null | undefined): string {
  return (value ?? '').slice(0, MAX_STRING_CHARS);
}

export interface MessagePayload {
  subject: string;
  html: string;
  plainText: string;
  /** Absent in rows written before channels existed. */
  body?: string;
  to: string[];
  subscriptionIds: string[];
  alertKeys: string[];
}

export function encodePayload(payload: MessagePayload): Record<string, unknown> {
  const zipped = gzipSync(Buffer.from(JSON.stringify(payload), 'utf8'));
  if (zipped.length > MAX_PAYLOAD_BYTES) {
    throw new Error(
      `an outbox message of ${payload.subscriptionIds.length} subscriptions is ${zipped.length} bytes compressed, over the ${MAX_PAYLOAD_BYTES}-byte limit of one table entity; split the digest further`,
    );
  }
  const properties: Record<string, unknown> = {};
  let index = 0;
  for (let offset = 0; offset < zipped.length; offset += PAYLOAD_CHUNK_BYTES) {
    properties[`payload_${index}`] = new Uint8Array(zipped.subarray(offset, offset + PAYLOAD_CHUNK_BYTES));
    index += 1;
  }
  properties.payloadChunks = index;
  return properties;
}

export function decodePayload(entity: EntityResult): MessagePayload {
  const chunks: Buffer[] = [];
  const count = int(entity, 'payloadChunks');
  for (let index = 0; index < count; index += 1) {
    const chunk = entity[`payload_${index}`];
    if (!(chunk instanceof Uint8Array)) throw new Error(`outbox message ${entity.rowKey}: payload_${index} is missing`);
    chunks.push(Buffer.from(chunk));
  }
  return JSON.parse(gunzipSync(Buffer.concat(chunks)).toString('utf8')) as MessagePayload;
}
