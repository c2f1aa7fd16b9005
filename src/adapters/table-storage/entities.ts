/**
 * Keys and entity shapes of the contact-watch tables. The layout and the reasons for it are in
 * README.md beside this file; keep the two in step.
 */
import type { TableEntity, TableEntityResult } from '@azure/data-tables';
import * as z from 'zod';
import { CONTACT_SHAPES, RULE_IDS } from '../../core/model.js';
import {
  RECORDED_STATUSES,
  type Exemption,
  type ScanRunRecord,
  type StatusChange,
  type StoredScanRun,
  type SubscriptionRecord,
} from '../../core/state-model.js';

/** Table suffixes under the prefix (`contactwatch` + suffix). The outbox owns `outbox`. */
export const TABLE_SUFFIXES = {
  subscriptions: 'subscriptions',
  scanRuns: 'scanruns',
  exemptions: 'exemptions',
  leases: 'leases',
} as const;

export const SCHEMA_VERSION = 1;

// ---- keys ---------------------------------------------------------------------------------

/** Subscriptions and their history: 16 partitions, by the first hex digit of the id. */
export function subscriptionPartition(subscriptionId: string): string {
  const digit = subscriptionId.charAt(0).toLowerCase();
  if (!/^[0-9a-f]$/.test(digit)) throw new Error(`"${subscriptionId}" is not a subscription id`);
  return digit;
}
export const SUBSCRIPTION_PARTITIONS: readonly string[] = [...'0123456789abcdef'];

export const STATE_ROW_PREFIX = 'state:';
export const HISTORY_ROW_PREFIX = 'history:';

export function stateRowKey(subscriptionId: string): string {
  return `${STATE_ROW_PREFIX}${subscriptionId.toLowerCase()}`;
}

/** `history:<id>:<ISO time>:<evaluatedBy>` — time-ordered within a subscription. */
export function historyRowKey(change: Pick<StatusChange, 'subscriptionId' | 'at' | 'evaluatedBy'>): string {
  return `${HISTORY_ROW_PREFIX}${change.subscriptionId.toLowerCase()}:${change.at}:${keySafe(change.evaluatedBy)}`;
}

/** Row keys r with `from <= r < to`: the history rows of one subscription. */
export function historyRange(subscriptionId: string): { from: string; to: string } {
  const prefix = `${HISTORY_ROW_PREFIX}${subscriptionId.toLowerCase()}:`;
  return { from: prefix, to: `${prefix.slice(0, -1)};` };
}

/** Row keys of the state rows: `state:` ≤ r < `state;`. */
export const STATE_ROW_RANGE = { from: STATE_ROW_PREFIX, to: `${STATE_ROW_PREFIX.slice(0, -1)};` };

/** Scan runs: one partition; newest first by an inverted timestamp. */
export const SCAN_RUN_PARTITION = 'run';
const MAX_EPOCH_MS = 8_640_000_000_000_000; // the largest Date

/**
 * `<8640000000000000 − start ms, 16 digits>:<scan id>`: newest first in a partition's natural key
 * order, so "the latest N" is a `top N` with no sort (the scan runs, and the scan reports' index).
 */
export function scanRunRowKey(startedAt: Date, scanId: string): string {
  return `${String(MAX_EPOCH_MS - startedAt.getTime()).padStart(16, '0')}:${keySafe(scanId)}`;
}

/**
 * Marks beside the scan runs, each one row read by key: the newest complete run (so a reader never
 * searches the run history for it) and when expired rows were last pruned.
 */
export const MARK_PARTITION = 'mark';
export const LATEST_COMPLETE_RUN_MARK = 'latest-complete-run';
export const PRUNED_MARK = 'pruned';

export const EXEMPTION_PARTITION = 'exemption';
export const LEASE_PARTITION = 'lease';

/**
 * Characters Table Storage refuses in keys (`/ \ # ?` and control characters) become `_`,
 * and the text is kept short enough for the 1 KiB key limit.
 */
export function keySafe(text: string): string {
  return text.replace(/[/\\#?\u0000-\u001f\u007f-\u009f]/g, '_').slice(0, 200);
}

// ---- large JSON values ---------------------------------------------------------------------

/**
 * A string property holds at most 64 KiB (32 K UTF-16 code units). A JSON value longer than one
 * chunk is spread over `<name>`, `<name>_1`, `<name>_2`, ... with `<name>_chunks` giving the count.
 */
const CHUNK = 30_000;
// 12 × 60 KB for one property; the entity as a whole stays inside its 1 MiB because what is
// stored per subscription is bounded upstream (src/core/record-bounds.ts).
const MAX_CHUNKS = 12;

function putJson(entity: Record<string, unknown>, name: string, value: unknown, what: string): void {
  const text = JSON.stringify(value);
  const count = Math.max(1, Math.ceil(text.length / CHUNK));
  if (count > MAX_CHUNKS) throw new Error(`${what}: ${name} is ${text.length} characters of JSON, more than an entity can hold`);
  entity[name] = text.slice(0, CHUNK);
  for (let index = 1; index < count; index += 1) entity[`${name}_${index}`] = text.slice(index * CHUNK, (index + 1) * CHUNK);
  if (count > 1) entity[`${name}_chunks`] = count;
}

function getJson(entity: Record<string, unknown>, name: string): unknown {
  const count = typeof entity[`${name}_chunks`] === 'number' ? (entity[`${name}_chunks`] as number) : 1;
  let text = '';
  for (let index = 0; index < count; index += 1) {
    const part = entity[index === 0 ? name : `${name}_${index}`];
    if (typeof part !== 'string') throw new Error(`${name} is missing or not text`);
    text += part;
  }
  return JSON.parse(text);
}

// ---- validation of what is read back ------------------------------------------------------

const findingSchema = z.object({
  ruleId: z.enum(RULE_IDS),
  result: z.enum(['pass', 'fail', 'error']),
  message: z.string(),
});
const findingsSchema = z.array(findingSchema);
const contactSchema = z.object({
  emails: z.array(z.string()),
  alertMinimalSeverity: z.enum(['Low', 'Medium', 'High']).nullable(),
  notifyRoles: z.array(z.string()),
  attackPathMinimalRiskLevel: z.enum(['Low', 'Medium', 'High', 'Critical']).nullable(),
  shape: z.enum(CONTACT_SHAPES),
});
const recordedStatus = z.enum(RECORDED_STATUSES);
const putBodySchema = z.object({
  properties: z.looseObject({
    emails: z.string(),
    phone: z.string().optional(),
    isEnabled: z.boolean(),
    notificationsByRole: z.object({ state: z.string(), roles: z.array(z.string()) }),
    notificationsSources: z.array(
      z.looseObject({ sourceType: z.string(), minimalSeverity: z.string().optional(), minimalRiskLevel: z.string().optional() }),
    ),
  }),
});
const fixSchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('none') }),
    // Fixes stored before their changes were described read back with none.
    z.object({
      kind: z.literal('put'),
      body: putBodySchema,
      placeholderEmails: z.boolean(),
      changes: z.array(z.string()).default(() => []),
    }),
    z.object({ kind: z.literal('not-fixable'), reason: z.string() }),
    z.object({ kind: z.literal('too-large'), bytes: z.number() }),
  ])
  .nullable();
const remediationSchema = z.object({
  at: z.string(),
  by: z.string(),
  outcome: z.enum(['sent', 'fixed', 'failed']),
  changes: z.array(z.string()),
  reason: z.string().optional(),
  retryable: z.boolean().optional(),
});
const historyRemediationSchema = remediationSchema.extend({
  body: z.union([putBodySchema, z.object({ omittedBytes: z.number() })]),
});
const optionalText = z
  .string()
  .nullish()
  .transform((value) => value ?? null);

const stateRowSchema = z.object({
  subscriptionId: z.string(),
  displayName: z.string(),
  state: z.string(),
  status: recordedStatus,
  source: z.enum(['resource-graph', 'security-contacts-api']),
  firstSeenAt: z.string(),
  lastEvaluatedAt: z.string(),
  lastEvaluatedBy: z.string(),
  statusSince: z.string(),
  noncompliantSince: optionalText,
  lastAlertedAt: optionalText,
  // Absent on rows written before readings were timed: their evaluation time stands in.
  readAt: z.string().optional(),
  omitted: optionalText,
});

const historyRowSchema = z.object({
  subscriptionId: z.string(),
  at: z.string(),
  from: recordedStatus.nullish().transform((value) => value ?? null),
  to: recordedStatus,
  evaluatedBy: z.string(),
});

export class CorruptEntityError extends Error {
  override name = 'CorruptEntityError';
}

function describeKey(entity: { partitionKey?: string; rowKey?: string }): string {
  return `${entity.partitionKey ?? '?'}/${entity.rowKey ?? '?'}`;
}

function decode<T>(table: string, entity: TableEntityResult<Record<string, unknown>>, read: () => T): T {
  try {
    return read();
  } catch (error) {
    const why = error instanceof z.ZodError ? error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : String(error);
    throw new CorruptEntityError(`the ${table} entity ${describeKey(entity)} cannot be read: ${why}`);
  }
}

// ---- subscriptions (state rows) ------------------------------------------------------------

export type StoredEntity = TableEntity<Record<string, unknown>>;

export function encodeSubscription(record: SubscriptionRecord): StoredEntity {
  const id = record.subscriptionId.toLowerCase();
  const entity: StoredEntity = {
    partitionKey: subscriptionPartition(id),
    rowKey: stateRowKey(id),
    kind: 'state',
    schemaVersion: SCHEMA_VERSION,
    subscriptionId: id,
    displayName: record.displayName,
    state: record.state,
    status: record.status,
    source: record.source,
    firstSeenAt: record.firstSeenAt,
    lastEvaluatedAt: record.lastEvaluatedAt,
    lastEvaluatedBy: record.lastEvaluatedBy,
    statusSince: record.statusSince,
  };
  // Absent properties read back as null (Table Storage has no null).
  entity.readAt = record.readAt;
  if (record.noncompliantSince !== null) entity.noncompliantSince = record.noncompliantSince;
  if (record.lastAlertedAt !== null) entity.lastAlertedAt = record.lastAlertedAt;
  if (record.omitted !== null) entity.omitted = record.omitted;
  putJson(entity, 'failedRules', record.failedRules, `subscription ${id}`);
  putJson(entity, 'findings', record.findings, `subscription ${id}`);
  putJson(entity, 'contact', record.contact, `subscription ${id}`);
  if (record.fix !== null) putJson(entity, 'fix', record.fix, `subscription ${id}`);
  if (record.lastRemediation !== null) putJson(entity, 'lastRemediation', record.lastRemediation, `subscription ${id}`);
  return entity;
}

export function decodeSubscription(table: string, entity: TableEntityResult<Record<string, unknown>>): SubscriptionRecord {
  return decode(table, entity, () => {
    const { readAt, ...row } = stateRowSchema.parse(entity);
    return {
      ...row,
      readAt: readAt ?? row.lastEvaluatedAt,
      failedRules: z.array(z.enum(RULE_IDS)).parse(getJson(entity, 'failedRules')),
      findings: findingsSchema.parse(getJson(entity, 'findings')),
      contact: contactSchema.parse(getJson(entity, 'contact')),
      fix: entity.fix === undefined ? null : fixSchema.parse(getJson(entity, 'fix')),
      lastRemediation: entity.lastRemediation === undefined ? null : remediationSchema.parse(getJson(entity, 'lastRemediation')),
    };
  });
}

// ---- history rows --------------------------------------------------------------------------

export function encodeStatusChange(change: StatusChange): StoredEntity {
  const id = change.subscriptionId.toLowerCase();
  const entity: StoredEntity = {
    partitionKey: subscriptionPartition(id),
    rowKey: historyRowKey(change),
    kind: 'history',
    schemaVersion: SCHEMA_VERSION,
    subscriptionId: id,
    at: change.at,
    to: change.to,
    evaluatedBy: change.evaluatedBy,
  };
  if (change.from !== null) entity.from = change.from;
  putJson(entity, 'findingsBefore', change.findingsBefore, `history of ${id}`);
  putJson(entity, 'findingsAfter', change.findingsAfter, `history of ${id}`);
  if (change.remediation) putJson(entity, 'remediation', change.remediation, `history of ${id}`);
  return entity;
}

export function decodeStatusChange(table: string, entity: TableEntityResult<Record<string, unknown>>): StatusChange {
  return decode(table, entity, () => {
    const row = historyRowSchema.parse(entity);
    return {
      subscriptionId: row.subscriptionId,
      at: row.at,
      from: row.from,
      to: row.to,
      findingsBefore: findingsSchema.parse(getJson(entity, 'findingsBefore')),
      findingsAfter: findingsSchema.parse(getJson(entity, 'findingsAfter')),
      evaluatedBy: row.evaluatedBy,
      ...(entity.remediation === undefined ? {} : { remediation: historyRemediationSchema.parse(getJson(entity, 'remediation')) }),
    };
  });
}

// ---- scan runs -----------------------------------------------------------------------------

const scanRunSchema = z.object({
  scanId: z.string(),
  startedAt: z.string(),
  finishedAt: optionalText,
  outcome: z.enum(['running', 'succeeded', 'partial', 'failed']),
  resourceGraphRequests: z.number().default(0),
  securityContactsCalls: z.number().default(0),
  durationMs: z
    .number()
    .nullish()
    .transform((value) => value ?? null),
  trigger: z.string(),
  complete: z.boolean().default(false),
  evaluatedAt: optionalText,
  subscriptionWrites: z.number().default(0),
  historyWrites: z.number().default(0),
  refusedWrites: z.number().default(0),
  error: optionalText,
});
const countsSchema = z.object({
  subscriptions: z.number(),
  compliant: z.number(),
  noncompliant: z.number(),
  exempt: z.number(),
  error: z.number(),
  skipped: z.number(),
});

export const EMPTY_COUNTS: ScanRunRecord['counts'] = { subscriptions: 0, compliant: 0, noncompliant: 0, exempt: 0, error: 0, skipped: 0 };
const MAX_ERROR_TEXT = 8_000;

export function encodeScanRun(run: StoredScanRun, rowKey: string, partitionKey = SCAN_RUN_PARTITION): StoredEntity {
  const entity: StoredEntity = {
    partitionKey,
    rowKey,
    schemaVersion: SCHEMA_VERSION,
    scanId: run.scanId,
    startedAt: run.startedAt,
    outcome: run.outcome,
    resourceGraphRequests: run.resourceGraphRequests,
    securityContactsCalls: run.securityContactsCalls,
    trigger: run.trigger,
    complete: run.complete,
    subscriptionWrites: run.subscriptionWrites,
    historyWrites: run.historyWrites,
    refusedWrites: run.refusedWrites,
    counts: JSON.stringify(run.counts),
  };
  if (run.finishedAt !== null) entity.finishedAt = run.finishedAt;
  if (run.durationMs !== null) entity.durationMs = run.durationMs;
  if (run.evaluatedAt !== null) entity.evaluatedAt = run.evaluatedAt;
  if (run.error !== null) entity.error = run.error.slice(0, MAX_ERROR_TEXT);
  return entity;
}

export function decodeScanRun(table: string, entity: TableEntityResult<Record<string, unknown>>): StoredScanRun {
  return decode(table, entity, () => ({
    ...scanRunSchema.parse(entity),
    counts: countsSchema.parse(JSON.parse(typeof entity.counts === 'string' ? entity.counts : '{}')),
  }));
}

// ---- exemptions ----------------------------------------------------------------------------

const exemptionSchema = z.object({
  subscriptionId: z.string(),
  reason: z.string(),
  owner: z.string(),
  expiresOn: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
});

export function encodeExemption(exemption: Exemption): StoredEntity {
  return { partitionKey: EXEMPTION_PARTITION, rowKey: exemption.subscriptionId.toLowerCase(), schemaVersion: SCHEMA_VERSION, ...exemption };
}

export function decodeExemption(table: string, entity: TableEntityResult<Record<string, unknown>>): Exemption {
  return decode(table, entity, () => exemptionSchema.parse(entity));
}
