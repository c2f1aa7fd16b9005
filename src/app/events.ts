/**
 * The events the Event Grid trigger reacts to (docs/reference/events.md), in either delivery schema: the
 * Event Grid schema (`eventType`, `subject`, `eventTime`, `data`, `dataVersion`, …) or CloudEvents
 * 1.0 (`specversion`, `type`, `source`, `id`, `data`, …). Pure: an untrusted value comes in, one
 * of four outcomes comes out, and nothing here throws.
 *
 * - `subscription-created`: `ContactWatch.SubscriptionCreated` with data `{ subscriptionId }`.
 * - `contact-changed`: `Microsoft.Resources.ResourceWriteSuccess`/`ResourceDeleteSuccess` whose
 *   `data.operationName` is a securityContacts write or delete.
 * - `ignored`: a well-formed event of any other type or operation (logged once, then dropped).
 * - `malformed`: anything else; the reason is a short sentence naming the field. A retry cannot
 *   mend it, so the handler logs it and drops it.
 *
 * The size and depth of the value are measured first, by a walk that stops at the limit, so a
 * megabyte of junk or a nesting bomb costs at most ~64 KB of work before it is refused.
 *
 * Times: an envelope time that `Date` cannot represent is malformed. A SubscriptionCreated's time
 * opens the new-subscription access window (src/app/evaluate-subscription.ts), so it is also
 * bounded by the caller's clock (`now`, passed in to keep this pure): more than
 * MAX_EVENT_CLOCK_SKEW_MINUTES ahead of it is malformed, since a subscription cannot be announced
 * before it exists and a far-future time would keep the event retried for as long. Older times are
 * accepted; the window has simply closed for them. The other events' times decide nothing, so they
 * are not bounded: a publisher's clock must not cost a contact change its re-evaluation.
 */
import * as z from 'zod';
import { isSubscriptionId } from '../core/subscription-id.js';

/** Largest event accepted, measured as its JSON serialisation (UTF-8 bytes). */
export const MAX_EVENT_BYTES = 64 * 1024;
/** Deepest nesting accepted; real events (resource events with their claims) nest about 4 deep. */
export const MAX_EVENT_DEPTH = 32;
/** How far a SubscriptionCreated's time may be ahead of this app's clock: the clock skew tolerated between publisher and app. */
export const MAX_EVENT_CLOCK_SKEW_MINUTES = 5;

export const SUBSCRIPTION_CREATED_EVENT = 'ContactWatch.SubscriptionCreated';
export const RESOURCE_WRITE_SUCCESS_EVENT = 'Microsoft.Resources.ResourceWriteSuccess';
export const RESOURCE_DELETE_SUCCESS_EVENT = 'Microsoft.Resources.ResourceDeleteSuccess';
export const SECURITY_CONTACTS_WRITE_OPERATION = 'Microsoft.Security/securityContacts/write';
export const SECURITY_CONTACTS_DELETE_OPERATION = 'Microsoft.Security/securityContacts/delete';

export type EventSchema = 'event-grid' | 'cloud-events';

export type ContactWatchEvent =
  | {
      kind: 'subscription-created';
      schema: EventSchema;
      eventId: string;
      subscriptionId: string;
      /** When the event was published (`eventTime`, or CloudEvents' optional `time`), ISO 8601. */
      eventTime?: string;
    }
  | { kind: 'contact-changed'; schema: EventSchema; eventId: string; subscriptionId: string; operation: 'write' | 'delete' }
  | { kind: 'ignored'; schema: EventSchema; eventId?: string; eventType: string; reason: string }
  | { kind: 'malformed'; reason: string };

type Malformed = Extract<ContactWatchEvent, { kind: 'malformed' }>;

/** Fields only the Event Grid schema has, and fields only CloudEvents 1.0 has. */
const EVENT_GRID_ONLY_FIELDS = ['eventType', 'eventTime', 'dataVersion', 'metadataVersion'] as const;
const CLOUD_EVENTS_ONLY_FIELDS = ['specversion', 'type', 'source', 'time', 'datacontenttype', 'dataschema', 'data_base64'] as const;

/** `now` is the app's clock at delivery; a SubscriptionCreated's time is judged against it. */
export function parseContactWatchEvent(input: unknown, now: Date): ContactWatchEvent {
  try {
    return parseEvent(input, now);
  } catch {
    // Only an exotic value (a getter that throws, a revoked proxy) gets here; JSON never does.
    return malformed('the event could not be read as JSON');
  }
}

function parseEvent(input: unknown, now: Date): ContactWatchEvent {
  const shape = describeNonObject(input);
  if (shape) return malformed(`the event is ${shape}, not a JSON object`);

  const size = measureJson(input, MAX_EVENT_BYTES, MAX_EVENT_DEPTH);
  if (!size.ok) return malformed(size.reason);

  const fields = input as Record<string, unknown>;
  const eventGridFields = EVENT_GRID_ONLY_FIELDS.filter((key) => Object.hasOwn(fields, key));
  const cloudEventFields = CLOUD_EVENTS_ONLY_FIELDS.filter((key) => Object.hasOwn(fields, key));
  if (eventGridFields.length > 0 && cloudEventFields.length > 0) {
    return malformed(
      `the event mixes Event Grid fields (${eventGridFields.join(', ')}) with CloudEvents fields (${cloudEventFields.join(', ')}); it must use one schema`,
    );
  }
  if (eventGridFields.length === 0 && cloudEventFields.length === 0) {
    return malformed('the object is neither an Event Grid event (no eventType) nor a CloudEvents 1.0 event (no specversion)');
  }

  const envelope =
    eventGridFields.length > 0
      ? readEnvelope(EventGridEnvelope, fields, 'event-grid')
      : readEnvelope(CloudEventEnvelope, fields, 'cloud-events');
  if ('kind' in envelope) return envelope;

  const type = envelope.type.toLowerCase();
  if (type === SUBSCRIPTION_CREATED_EVENT.toLowerCase()) return readSubscriptionCreated(envelope, now);
  if (type === RESOURCE_WRITE_SUCCESS_EVENT.toLowerCase()) return readResourceEvent(envelope, 'write');
  if (type === RESOURCE_DELETE_SUCCESS_EVENT.toLowerCase()) return readResourceEvent(envelope, 'delete');
  return ignored(envelope, `event type ${show(envelope.type)} is not one contact-watch handles`);
}

// ---- the envelope --------------------------------------------------------------------------

/** The parts of either schema the rest of the parser needs. */
interface Envelope {
  schema: EventSchema;
  id: string;
  type: string;
  subject: string | undefined;
  /** `eventTime` (Event Grid schema) or `time` (CloudEvents, optional). */
  time: string | undefined;
  /** The name of that field in this schema, for reasons. */
  timeField: 'eventTime' | 'time';
  data: unknown;
}

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** A required string field: "is missing", "must be a string", "must not be empty". */
function requiredText(maxLength: number) {
  return z
    .string({ error: (issue) => (issue.input === undefined ? 'is missing' : 'must be a string') })
    .min(1, { error: 'must not be empty' })
    .max(maxLength, { error: `is longer than ${maxLength} characters` });
}

const optionalText = (maxLength: number) =>
  z
    .string({ error: 'must be a string' })
    .max(maxLength, { error: `is longer than ${maxLength} characters` })
    .optional();

/** Event ids end up in evaluatedBy (`event:<id>`) and the status history: short, printable. */
const eventIdField = requiredText(200).refine((id) => !CONTROL_CHARACTERS.test(id), { error: 'holds a control character' });

/** A time `Date` can represent (years -271821 to 275760); anything else is not a date and time. */
const timestampField = requiredText(64).refine((text) => Number.isFinite(Date.parse(text)), { error: 'is not a date and time' });

const EventGridEnvelope = z.object({
  id: eventIdField,
  eventType: requiredText(256),
  subject: z
    .string({ error: (issue) => (issue.input === undefined ? 'is missing' : 'must be a string') })
    .max(2048, { error: 'is longer than 2048 characters' }),
  eventTime: timestampField,
  // Publishers may leave these out; Event Grid stamps them before delivery.
  dataVersion: optionalText(64),
  metadataVersion: optionalText(64),
  topic: optionalText(2048),
  data: z.unknown().optional(),
});

const CloudEventEnvelope = z.object({
  specversion: z.unknown().refine((value) => value === '1.0', { error: 'must be "1.0"' }),
  id: eventIdField,
  type: requiredText(256),
  source: requiredText(2048),
  time: timestampField.optional(),
  subject: optionalText(2048),
  datacontenttype: optionalText(256),
  data: z.unknown().optional(),
});

function readEnvelope(
  schema: typeof EventGridEnvelope | typeof CloudEventEnvelope,
  fields: Record<string, unknown>,
  kind: EventSchema,
): Envelope | Malformed {
  const parsed = schema.safeParse(fields);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.map(String).join('.') || 'the event';
    const name = kind === 'event-grid' ? 'Event Grid event' : 'CloudEvents 1.0 event';
    return malformed(`${field} ${issue?.message ?? 'is invalid'} (${name})`);
  }
  const value = parsed.data;
  return 'eventType' in value
    ? {
        schema: kind,
        id: value.id,
        type: value.eventType,
        subject: value.subject,
        time: value.eventTime,
        timeField: 'eventTime',
        data: value.data,
      }
    : { schema: kind, id: value.id, type: value.type, subject: value.subject, time: value.time, timeField: 'time', data: value.data };
}

// ---- the two kinds of event we act on --------------------------------------------------------

function readSubscriptionCreated(envelope: Envelope, now: Date): ContactWatchEvent {
  const announced = announcementTime(envelope, now);
  if (announced.kind === 'malformed') return announced;
  const read = dataObject(envelope);
  if (read.kind === 'malformed') return read;
  const data = read.data;
  const claimed = subscriptionIdField(data.subscriptionId, 'data.subscriptionId', true);
  if (claimed.kind === 'malformed') return claimed;
  const agreed = agreeingSubscription([
    ...(claimed.kind === 'found' ? [{ field: 'data.subscriptionId', id: claimed.id }] : []),
    ...pathSubscription(envelope.subject, 'subject'),
  ]);
  if (agreed.kind === 'malformed') return agreed;
  return {
    kind: 'subscription-created',
    schema: envelope.schema,
    eventId: envelope.id,
    subscriptionId: agreed.id,
    ...(announced.kind === 'at' ? { eventTime: announced.iso } : {}),
  };
}

/** The SubscriptionCreated's time, ISO 8601, when it has one; malformed when it is too far ahead of `now`. */
function announcementTime(envelope: Envelope, now: Date): { kind: 'at'; iso: string } | { kind: 'none' } | Malformed {
  if (envelope.time === undefined) return { kind: 'none' };
  const at = Date.parse(envelope.time); // finite: the envelope's schema refused anything else
  if (at - now.getTime() > MAX_EVENT_CLOCK_SKEW_MINUTES * 60_000) {
    return malformed(
      `${envelope.timeField} ${show(envelope.time)} is more than ${MAX_EVENT_CLOCK_SKEW_MINUTES} minutes ahead of now (${now.toISOString()}), ` +
        `the clock skew allowed; a subscription cannot be announced before it exists`,
    );
  }
  return { kind: 'at', iso: new Date(at).toISOString() };
}

function readResourceEvent(envelope: Envelope, expected: 'write' | 'delete'): ContactWatchEvent {
  const read = dataObject(envelope);
  if (read.kind === 'malformed') return read;
  const data = read.data;
  if (data.operationName === undefined) return malformed(`data.operationName is missing (${envelope.type})`);
  if (typeof data.operationName !== 'string') return malformed('data.operationName must be a string');
  const operationName = data.operationName.toLowerCase();
  const operation =
    operationName === SECURITY_CONTACTS_WRITE_OPERATION.toLowerCase()
      ? 'write'
      : operationName === SECURITY_CONTACTS_DELETE_OPERATION.toLowerCase()
        ? 'delete'
        : undefined;
  if (!operation) {
    return ignored(envelope, `operation ${show(data.operationName)} is not a securityContacts write or delete`);
  }
  if (operation !== expected) {
    return malformed(`data.operationName ${show(data.operationName)} does not match the event type ${envelope.type}`);
  }

  const claimed = subscriptionIdField(data.subscriptionId, 'data.subscriptionId', false);
  if (claimed.kind === 'malformed') return claimed;
  if (data.resourceUri !== undefined && typeof data.resourceUri !== 'string') return malformed('data.resourceUri must be a string');
  const agreed = agreeingSubscription([
    ...(claimed.kind === 'found' ? [{ field: 'data.subscriptionId', id: claimed.id }] : []),
    ...pathSubscription(data.resourceUri, 'data.resourceUri'),
    ...pathSubscription(envelope.subject, 'subject'),
  ]);
  if (agreed.kind === 'malformed') return agreed;
  return { kind: 'contact-changed', schema: envelope.schema, eventId: envelope.id, subscriptionId: agreed.id, operation };
}

function dataObject(envelope: Envelope): { kind: 'object'; data: Record<string, unknown> } | Malformed {
  if (envelope.data === undefined) return malformed(`data is missing (${envelope.type})`);
  const shape = describeNonObject(envelope.data);
  if (shape) return malformed(`data is ${shape}, not a JSON object (${envelope.type})`);
  return { kind: 'object', data: envelope.data as Record<string, unknown> };
}

type SubscriptionClaim = { field: string; id: string | undefined };

function subscriptionIdField(
  value: unknown,
  field: string,
  required: boolean,
): { kind: 'found'; id: string } | { kind: 'absent' } | Malformed {
  if (value === undefined || value === null) return required ? malformed(`${field} is missing`) : { kind: 'absent' };
  if (typeof value !== 'string') return malformed(`${field} must be a string (a subscription id)`);
  if (!isSubscriptionId(value.trim())) return malformed(`${field} ${show(value)} is not a subscription id (a GUID)`);
  return { kind: 'found', id: value.trim().toLowerCase() };
}

/** `/subscriptions/<id>/…` in a resource path: the subscription it names (id undefined when not a GUID). */
function pathSubscription(path: string | undefined, field: string): SubscriptionClaim[] {
  if (path === undefined) return [];
  const match = /^\/?subscriptions\/([^/]*)(?:\/|$)/i.exec(path.trim());
  if (!match) return [];
  const segment = match[1] ?? '';
  return [{ field, id: isSubscriptionId(segment) ? segment.toLowerCase() : undefined }];
}

/** Every place that names the subscription must name the same one. */
function agreeingSubscription(claims: SubscriptionClaim[]): { kind: 'agreed'; id: string } | Malformed {
  const bad = claims.find((claim) => claim.id === undefined);
  if (bad) return malformed(`${bad.field} names a subscription that is not a GUID`);
  const [first, ...rest] = claims;
  if (!first?.id) return malformed('no subscription id in data.subscriptionId, data.resourceUri or subject');
  const other = rest.find((claim) => claim.id !== first.id);
  if (other) return malformed(`${first.field} (${first.id}) and ${other.field} (${other.id}) name different subscriptions`);
  return { kind: 'agreed', id: first.id };
}

// ---- helpers ---------------------------------------------------------------------------------

function malformed(reason: string): Malformed {
  return { kind: 'malformed', reason };
}

function ignored(envelope: Envelope, reason: string): ContactWatchEvent {
  return { kind: 'ignored', schema: envelope.schema, eventId: envelope.id, eventType: envelope.type, reason };
}

/** Why a value is not a JSON object ("null", "an array of 3 items", …), or undefined when it is one. */
function describeNonObject(value: unknown): string | undefined {
  if (value === undefined) return 'empty';
  if (value === null) return 'null';
  if (Array.isArray(value))
    return `an array of ${value.length} item${value.length === 1 ? '' : 's'} (one event per invocation is expected)`;
  if (value instanceof Uint8Array) return `${value.length} bytes of binary data`;
  if (typeof value !== 'object') return `a ${typeof value}`;
  return undefined;
}

/** A value quoted for a reason: JSON-escaped and cut short. */
function show(value: string): string {
  const cut = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return JSON.stringify(cut);
}

export type JsonMeasure = { ok: true; bytes: number } | { ok: false; reason: string };

/**
 * The size of `value` serialised as JSON (UTF-8 bytes, escapes not counted), measured by a walk
 * that stops as soon as it passes `maxBytes` or `maxDepth`: the cost is bounded by the limits,
 * not by the value (no recursion, so a nesting bomb cannot overflow the stack either).
 */
export function measureJson(value: unknown, maxBytes: number, maxDepth: number): JsonMeasure {
  const tooLarge = (): JsonMeasure => ({ ok: false, reason: `the event is larger than ${maxBytes / 1024} KB serialised` });
  let bytes = 0;
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const { value: item, depth } = pending.pop()!;
    if (typeof item === 'string') {
      bytes += 2;
      if (bytes + item.length > maxBytes) return tooLarge(); // every character is at least one byte
      bytes += utf8Length(item);
    } else if (typeof item === 'number' || typeof item === 'boolean' || typeof item === 'bigint') {
      bytes += String(item).length;
    } else if (item === null) {
      bytes += 4;
    } else if (typeof item === 'object') {
      if (depth >= maxDepth) return { ok: false, reason: `the event is nested deeper than ${maxDepth} levels` };
      if (Array.isArray(item)) {
        bytes += 1 + Math.max(item.length, 1); // brackets and commas
        if (bytes + item.length > maxBytes) return tooLarge(); // every element is at least one byte
        for (const element of item) pending.push({ value: element, depth: depth + 1 });
      } else {
        bytes += 2;
        let first = true;
        for (const key in item) {
          if (!Object.hasOwn(item, key)) continue;
          bytes += utf8Length(key) + (first ? 3 : 4); // quotes, colon, and a comma before all but the first
          first = false;
          if (bytes > maxBytes) return tooLarge();
          pending.push({ value: (item as Record<string, unknown>)[key], depth: depth + 1 });
        }
      }
    }
    // undefined, functions and symbols are left out of JSON.
    if (bytes > maxBytes) return tooLarge();
  }
  return { ok: true, bytes };
}

function utf8Length(text: string): number {
  let length = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    // A surrogate pair (4 bytes) is two UTF-16 units of 2 bytes each.
    length += code < 0x80 ? 1 : code < 0x800 || (code >= 0xd800 && code <= 0xdfff) ? 2 : 3;
  }
  return length;
}
