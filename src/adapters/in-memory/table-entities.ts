/**
 * Entities as the in-memory table service keeps them: typed property values read from the JSON
 * the Table Storage REST API carries (`name@odata.type` annotations, or the type a bare JSON value
 * implies), checked against the service's limits, and written back in its `minimalmetadata` form.
 *
 * Limits and answers are Table Storage's (https://learn.microsoft.com/rest/api/storageservices/
 * understanding-the-table-service-data-model): a key at most 1 KiB of UTF-16 without `/ \ # ?`
 * or control characters, at most 252 properties named like C# identifiers of at most 255
 * characters, a string at most 32 K UTF-16 code units and a binary value at most 64 KiB, and the
 * entity at most 1 MiB as the service measures it.
 */
import { isGuid } from '../../core/subscription-id.js';

export const EDM_TYPES = [
  'Edm.String',
  'Edm.Int32',
  'Edm.Int64',
  'Edm.Double',
  'Edm.Boolean',
  'Edm.DateTime',
  'Edm.Binary',
  'Edm.Guid',
] as const;
export type EdmType = (typeof EDM_TYPES)[number];

/** A property's value: Int64 as its decimal text, Binary as base64, DateTime and Guid as text. */
export interface StoredValue {
  type: EdmType;
  value: string | number | boolean;
}

export interface StoredEntity {
  partitionKey: string;
  rowKey: string;
  /** The custom properties, in the order they were written. */
  properties: Map<string, StoredValue>;
  /** When it was last written, ISO 8601 with seven fractional digits as the service gives it. */
  timestamp: string;
  etag: string;
}

/** An answer of the service other than success: its HTTP status and `odata.error` code. */
export class TableServiceError extends Error {
  override name = 'TableServiceError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const MAX_STRING_CHARACTERS = 32 * 1024;
export const MAX_BINARY_BYTES = 64 * 1024;
export const MAX_ENTITY_BYTES = 1024 * 1024;
const MAX_KEY_CHARACTERS = 512; // 1 KiB of UTF-16
const MAX_PROPERTIES = 252;
const MAX_PROPERTY_NAME = 255;
const SYSTEM_PROPERTIES = new Set(['PartitionKey', 'RowKey', 'Timestamp']);
const PROPERTY_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DISALLOWED_IN_KEYS = /[\u0000-\u001f\u007f-\u009f/\\#?]/;
const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };
const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export const errors = {
  invalidInput: (detail?: string) =>
    new TableServiceError(400, 'InvalidInput', detail ?? 'An error occurred while processing this request.'),
  propertyValueTooLarge: () =>
    new TableServiceError(
      400,
      'PropertyValueTooLarge',
      'The property value exceeds the maximum allowed size (64KB). If the property value is a string, it is UTF-16 encoded and the maximum number of characters should be 32K or less.',
    ),
  entityTooLarge: () => new TableServiceError(400, 'EntityTooLarge', 'The entity is larger than the maximum allowed size (1MB).'),
  tooManyProperties: () =>
    new TableServiceError(
      400,
      'TooManyProperties',
      'The entity contains more properties than allowed. Each entity can include up to 252 properties to store data.',
    ),
  propertyNameInvalid: () => new TableServiceError(400, 'PropertyNameInvalid', 'The property name is invalid.'),
  propertyNameTooLong: () =>
    new TableServiceError(400, 'PropertyNameTooLong', 'The property name exceeds the maximum allowed length (255).'),
  propertiesNeedValue: () =>
    new TableServiceError(400, 'PropertiesNeedValue', 'The values are not specified for all properties in the entity.'),
  notFound: () => new TableServiceError(404, 'ResourceNotFound', 'The specified resource does not exist.'),
  tableNotFound: () => new TableServiceError(404, 'TableNotFound', 'The table specified does not exist.'),
  alreadyExists: () => new TableServiceError(409, 'EntityAlreadyExists', 'The specified entity already exists.'),
  conditionNotMet: () =>
    new TableServiceError(412, 'UpdateConditionNotSatisfied', 'The update condition specified in the request was not satisfied.'),
  notImplemented: (what: string) => new TableServiceError(501, 'NotImplemented', `The in-memory table service does not implement ${what}.`),
};

/** Refuses a key the service refuses (too long, or holding a character keys may not hold). */
export function checkKey(key: unknown): string {
  if (typeof key !== 'string') throw errors.propertiesNeedValue();
  if (key.length > MAX_KEY_CHARACTERS || DISALLOWED_IN_KEYS.test(key)) throw errors.invalidInput();
  return key;
}

/**
 * The custom properties of a request body (the REST API's JSON entity), typed and checked; the
 * keys, Timestamp, `odata.*` metadata and annotations are not properties. A null value stores nothing.
 */
export function readProperties(body: Record<string, unknown>): Map<string, StoredValue> {
  const properties = new Map<string, StoredValue>();
  for (const [name, raw] of Object.entries(body)) {
    if (SYSTEM_PROPERTIES.has(name) || name.startsWith('odata.') || name.endsWith('@odata.type')) continue;
    if (name.length > MAX_PROPERTY_NAME) throw errors.propertyNameTooLong();
    if (!PROPERTY_NAME.test(name)) throw errors.propertyNameInvalid();
    const annotation = body[`${name}@odata.type`];
    if (raw === null || raw === undefined) continue;
    properties.set(name, typedValue(raw, annotation));
  }
  return properties;
}

function typedValue(raw: unknown, annotation: unknown): StoredValue {
  if (annotation === undefined) {
    if (typeof raw === 'string') return checked({ type: 'Edm.String', value: raw });
    if (typeof raw === 'boolean') return { type: 'Edm.Boolean', value: raw };
    if (typeof raw === 'number' && Number.isFinite(raw)) {
      return { type: Number.isInteger(raw) && raw >= INT32.min && raw <= INT32.max ? 'Edm.Int32' : 'Edm.Double', value: raw };
    }
    throw errors.invalidInput();
  }
  const type = EDM_TYPES.find((known) => known === annotation);
  const bad = (): never => {
    throw errors.invalidInput();
  };
  switch (type) {
    case 'Edm.String':
      return typeof raw === 'string' ? checked({ type, value: raw }) : bad();
    case 'Edm.Boolean':
      return typeof raw === 'boolean' ? { type, value: raw } : bad();
    case 'Edm.Int32':
      return typeof raw === 'number' && Number.isInteger(raw) && raw >= INT32.min && raw <= INT32.max ? { type, value: raw } : bad();
    case 'Edm.Double':
      if (typeof raw === 'number') return { type, value: raw };
      return raw === 'NaN' || raw === 'Infinity' || raw === '-Infinity' ? { type, value: raw } : bad();
    case 'Edm.Int64':
      if (typeof raw !== 'string' || !/^-?\d{1,19}$/.test(raw) || BigInt(raw) < INT64.min || BigInt(raw) > INT64.max) return bad();
      return { type, value: raw };
    case 'Edm.DateTime':
      return typeof raw === 'string' && !Number.isNaN(Date.parse(raw)) ? { type, value: raw } : bad();
    case 'Edm.Guid':
      return typeof raw === 'string' && isGuid(raw) ? { type, value: raw } : bad();
    case 'Edm.Binary':
      return typeof raw === 'string' && BASE64.test(raw) ? checked({ type, value: raw }) : bad();
    default:
      return bad();
  }
}

function checked(value: StoredValue): StoredValue {
  const text = value.value as string;
  const tooLarge = value.type === 'Edm.Binary' ? binaryBytes(text) > MAX_BINARY_BYTES : text.length > MAX_STRING_CHARACTERS;
  if (tooLarge) throw errors.propertyValueTooLarge();
  return value;
}

function binaryBytes(base64: string): number {
  return Math.floor((base64.length * 3) / 4) - (base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0);
}

/**
 * Refuses an entity the service would not store: more than 252 properties, or more than 1 MiB as
 * the service counts it (4 bytes, the keys in UTF-16, and per property 8 bytes, its name in UTF-16
 * and its value's size).
 */
export function checkEntity(partitionKey: string, rowKey: string, properties: ReadonlyMap<string, StoredValue>): void {
  if (properties.size > MAX_PROPERTIES) throw errors.tooManyProperties();
  let bytes = 4 + (partitionKey.length + rowKey.length) * 2;
  for (const [name, value] of properties) bytes += 8 + name.length * 2 + valueBytes(value);
  if (bytes > MAX_ENTITY_BYTES) throw errors.entityTooLarge();
}

function valueBytes(value: StoredValue): number {
  switch (value.type) {
    case 'Edm.String':
      return 4 + (value.value as string).length * 2;
    case 'Edm.Binary':
      return 4 + binaryBytes(value.value as string);
    case 'Edm.Boolean':
      return 1;
    case 'Edm.Int32':
      return 4;
    case 'Edm.Guid':
      return 16;
    default:
      return 8; // Int64, Double, DateTime
  }
}

/** Types a reader cannot infer from the bare JSON value, annotated as the service annotates them. */
const ANNOTATED: ReadonlySet<EdmType> = new Set(['Edm.Int64', 'Edm.DateTime', 'Edm.Binary', 'Edm.Guid']);

/**
 * The entity as the service writes it in a response, with only `select`'s properties when given
 * (the ETag always; a selected property the entity lacks is left out).
 */
export function renderEntity(entity: StoredEntity, select?: ReadonlySet<string>): Record<string, unknown> {
  const wanted = (name: string) => !select || select.has(name);
  const rendered: Record<string, unknown> = { 'odata.etag': entity.etag };
  if (wanted('PartitionKey')) rendered['PartitionKey'] = entity.partitionKey;
  if (wanted('RowKey')) rendered['RowKey'] = entity.rowKey;
  for (const [name, { type, value }] of entity.properties) {
    if (!wanted(name)) continue;
    if (ANNOTATED.has(type) || (type === 'Edm.Double' && typeof value === 'string')) rendered[`${name}@odata.type`] = type;
    rendered[name] = value;
  }
  if (wanted('Timestamp')) rendered['Timestamp'] = entity.timestamp;
  return rendered;
}

/** A property of the entity for a filter, the keys and Timestamp included. */
export function propertyOf(entity: StoredEntity, name: string): StoredValue | undefined {
  if (name === 'PartitionKey') return { type: 'Edm.String', value: entity.partitionKey };
  if (name === 'RowKey') return { type: 'Edm.String', value: entity.rowKey };
  if (name === 'Timestamp') return { type: 'Edm.DateTime', value: entity.timestamp };
  return entity.properties.get(name);
}
