/**
 * The published JSON formats as tests hold the code to them: schema/report-v1.json (the report of
 * `scan --format json`, POST /api/scans and GET /api/scans/{scanId}; one element of it for
 * `check --format json` and the compliance route), schema/fix-report-v1.json (`fix --format json`),
 * schema/openapi.json (every answer of the HTTP API), schema/ocsf-compliance-finding-1.6.0.json
 * (each line of `scan --format ocsf`) and schema/teams-adaptive-card-1.5.json (the Teams message,
 * checked through test/support/adaptive-card-schema.ts). Each validator is compiled once per
 * process, with Ajv in strict mode, so a schema that a strict reader would refuse fails here too.
 *
 *   expectValidReport(JSON.parse(stdout));
 *   expectValidVerdict(body);
 *   expectValidFixReport(JSON.parse(stdout));
 *   const response = expectDocumentedAnswer('POST /api/scans', await handler(request, context));
 *   expect(schemaErrors(OCSF_EVENT_SCHEMA, JSON.parse(line))).toEqual([]);
 *
 * Beyond the schema, expectValidReport checks what JSON Schema cannot say: subscriptions sorted by
 * id and the summary counting them, and expectValidFixReport the order of its subscriptions.
 */
import { readFileSync } from 'node:fs';
import type { HttpResponseInit } from '@azure/functions';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import { expect } from 'vitest';

const SCHEMA_DIR = new URL('../../schema/', import.meta.url);

function readSchema(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(name, SCHEMA_DIR), 'utf8')) as Record<string, unknown>;
}

/** ajv-formats' plugin (the formats JSON Schema names: date-time, uri, email…), however the module loader presents the CommonJS default export. */
export const addFormats = ((ajvFormats as unknown as { default?: typeof ajvFormats }).default ?? ajvFormats) as unknown as (
  ajv: Ajv2020,
) => void;

/** The schema files, under the names by which they refer to each other (`report-v1.json#/$defs/…`). */
export const SCHEMA_FILES = [
  'report-v1.json',
  'fix-report-v1.json',
  'openapi.json',
  'ocsf-compliance-finding-1.6.0.json',
  'teams-adaptive-card-1.5.json',
] as const;

let compiled: Ajv2020 | undefined;

/** The fields of an OpenAPI document's top level: no JSON Schema keywords, nothing to check. */
const OPENAPI_FIELDS = [
  'openapi',
  'info',
  'jsonSchemaDialect',
  'servers',
  'paths',
  'webhooks',
  'components',
  'security',
  'tags',
  'externalDocs',
];

/**
 * One Ajv for all the files. The OpenAPI document is added as a whole, so that its response
 * schemas are compiled by JSON pointer, their `$ref`s resolving within it and to the report schema
 * beside it. Ajv compiles the document that holds a pointer's target too, so the fields of its top
 * level are declared as keywords that check nothing; everything else stays under strict mode.
 */
export function schemaValidator(): Ajv2020 {
  if (compiled) return compiled;
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
  addFormats(ajv);
  ajv.addVocabulary(OPENAPI_FIELDS);
  for (const name of SCHEMA_FILES) ajv.addSchema(readSchema(name), name);
  compiled = ajv;
  return ajv;
}

const validators = new Map<string, ValidateFunction>();

/**
 * The validator of the schema at `ref` (a file name, with a JSON pointer after `#` for a part of
 * it). A schema reached through a `$ref` is compiled on its own, not the document around it.
 */
function validator(ref: string): ValidateFunction {
  let validate = validators.get(ref);
  if (!validate) {
    validate = schemaValidator().compile({ $ref: ref });
    validators.set(ref, validate);
  }
  return validate;
}

/** The schema's complaints about `value`, one line each (empty when it is valid). */
export function schemaErrors(ref: string, value: unknown): string[] {
  const validate = validator(ref);
  return validate(value) ? [] : (validate.errors ?? []).map(describeError);
}

function describeError(error: ErrorObject): string {
  return `${error.instancePath || '(top)'} ${error.message ?? error.keyword} (${error.schemaPath}${
    Object.keys(error.params).length > 0 ? ` ${JSON.stringify(error.params)}` : ''
  })`;
}

export const REPORT_SCHEMA = 'report-v1.json';
export const VERDICT_SCHEMA = 'report-v1.json#/$defs/subscription';
export const FIX_REPORT_SCHEMA = 'fix-report-v1.json';
/** One OCSF Compliance Finding of `scan --format ocsf` (it refers to report-v1.json for the contact). */
export const OCSF_EVENT_SCHEMA = 'ocsf-compliance-finding-1.6.0.json';

/** A §7 JSON report, as schema/report-v1.json describes it. */
export function expectValidReport(value: unknown): void {
  expect(schemaErrors(REPORT_SCHEMA, value), 'the report against schema/report-v1.json').toEqual([]);
  const report = value as { summary: Record<string, number>; subscriptions: { subscriptionId: string; status: string }[] };
  const ids = report.subscriptions.map((subscription) => subscription.subscriptionId);
  expect(ids, 'subscriptions sorted by subscriptionId').toEqual([...ids].sort(compareCodeUnits));
  const counts: Record<string, number> = { subscriptions: ids.length, compliant: 0, noncompliant: 0, exempt: 0, error: 0, skipped: 0 };
  for (const subscription of report.subscriptions) counts[subscription.status]! += 1;
  expect(report.summary, 'the summary counts the subscriptions by status').toEqual(counts);
}

/** One element of a report's `subscriptions` (`check --format json`, the compliance route). */
export function expectValidVerdict(value: unknown): void {
  expect(schemaErrors(VERDICT_SCHEMA, value), 'the verdict against schema/report-v1.json#/$defs/subscription').toEqual([]);
}

/** What `fix --format json` writes, as schema/fix-report-v1.json describes it. */
export function expectValidFixReport(value: unknown): void {
  expect(schemaErrors(FIX_REPORT_SCHEMA, value), 'the fix report against schema/fix-report-v1.json').toEqual([]);
  const ids = (value as { subscriptions: { subscriptionId: string }[] }).subscriptions.map((entry) => entry.subscriptionId);
  expect(ids, 'subscriptions sorted by subscriptionId').toEqual([...ids].sort(compareCodeUnits));
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- the HTTP API ------------------------------------------------------------------------------

interface MediaType {
  schema?: unknown;
}
interface HeaderObject {
  required?: boolean;
  schema?: unknown;
  $ref?: string;
}
interface ResponseObject {
  $ref?: string;
  content?: Record<string, MediaType>;
  headers?: Record<string, HeaderObject>;
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, { responses: Record<string, ResponseObject> }>>;
  components: { responses: Record<string, ResponseObject>; headers: Record<string, HeaderObject> };
}

let openApi: OpenApiDocument | undefined;

/** schema/openapi.json, read once (its header schemas are compiled by identity). */
export function openApiDocument(): OpenApiDocument {
  return (openApi ??= readSchema('openapi.json') as unknown as OpenApiDocument);
}

/** `#/components/responses/X` and the like, followed within the OpenAPI document. */
function followed<T extends { $ref?: string }>(document: OpenApiDocument, value: T): { value: T; pointer?: string } {
  if (value.$ref === undefined) return { value };
  const pointer = value.$ref;
  if (!pointer.startsWith('#/')) throw new Error(`an answer's ${pointer} should point into the OpenAPI document`);
  const target = pointer
    .slice(2)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], document);
  return { value: target as T, pointer };
}

function escapePointer(part: string): string {
  return part.replaceAll('~', '~0').replaceAll('/', '~1');
}

/**
 * Checks one answer of a handler against schema/openapi.json: `operation` is `METHOD /api/path` as
 * the document names it. The status must be documented for that operation, the Content-Type one
 * of its media types (none when it documents no body), every header it marks required present and
 * matching its schema, and a JSON body valid against the documented schema. `requestMethod` is
 * the method the test sent: the handlers answer a method their registration does not bind with
 * 405, which the host never routes to them, so that answer is checked as such.
 * Returns the response, so that a helper can wrap the handler's call.
 */
export function expectDocumentedAnswer(operation: string, response: HttpResponseInit, requestMethod?: string): HttpResponseInit {
  const document = openApiDocument();
  const [method, path] = operation.split(' ') as [string, string];
  const operationObject = document.paths[path]?.[method.toLowerCase()];
  expect(operationObject, `${operation} is in schema/openapi.json`).toBeDefined();
  const headers = Object.fromEntries(
    Object.entries((response.headers ?? {}) as Record<string, string>).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const status = response.status ?? 200;
  if (requestMethod !== undefined && requestMethod.toUpperCase() !== method) {
    expect(status, `${requestMethod} on ${path}`).toBe(405);
    expect(headers.allow).toBe(method);
    return response;
  }

  const documented = operationObject!.responses[String(status)];
  expect(documented, `${operation} answered ${status}, which schema/openapi.json does not document`).toBeDefined();
  const { value: answer, pointer } = followed(document, documented!);
  const answerPointer = pointer ?? `#/paths/${escapePointer(path)}/${method.toLowerCase()}/responses/${status}`;

  for (const [name, header] of Object.entries(answer.headers ?? {})) {
    const { value: headerObject } = followed(document, header);
    const sent = headers[name.toLowerCase()];
    if (headerObject.required) expect(sent, `${operation} ${status}: the ${name} header`).toBeDefined();
    if (sent !== undefined && headerObject.schema !== undefined) {
      const validate = schemaValidator().compile(headerObject.schema as object);
      expect(validate(sent) ? [] : validate.errors, `${operation} ${status}: the ${name} header ${JSON.stringify(sent)}`).toEqual([]);
    }
  }

  const mediaTypes = Object.keys(answer.content ?? {});
  const contentType = (headers['content-type'] ?? '').split(';')[0]!.trim();
  if (mediaTypes.length === 0) {
    expect(response.body ?? '', `${operation} ${status} documents no body`).toBe('');
    return response;
  }
  expect(mediaTypes, `${operation} ${status}: Content-Type ${contentType}`).toContain(contentType);
  if (contentType === 'application/json') {
    expect(typeof response.body, `${operation} ${status}: a JSON body`).toBe('string');
    const body: unknown = JSON.parse(response.body as string);
    const ref = `openapi.json${answerPointer}/content/${escapePointer(contentType)}/schema`;
    expect(schemaErrors(ref, body), `${operation} ${status}: the body against ${ref}`).toEqual([]);
  }
  return response;
}
