/**
 * An in-memory Azure Table Storage account that answers the REST requests `@azure/data-tables`
 * sends, in this process: given to a TableClient as its HttpClient, it stands where the network
 * and the service would be. The Table Storage adapters (src/adapters/table-storage) run over it
 * unchanged — the same SDK calls, the same requests, the same RestErrors — so what they do over
 * it is what they do over Azurite or Azure, only without a server.
 *
 * It serves what the adapters use, with the service's rules: tables (create, list, delete),
 * entities (insert, get, replace and merge with or without If-Match, delete with If-Match), queries
 * (`$filter` in the grammar of odata-filter.ts, `$select`, `$top`, continuation) and entity group
 * transactions (one partition, at most 100 operations, each entity once, all or nothing, the
 * failing operation's index in the error, at most 4 MiB). Anything else is answered 501
 * NotImplemented, naming what was asked, so that a new use fails loudly instead of being guessed at.
 */
import { randomUUID } from 'node:crypto';
import { createHttpHeaders, type HttpClient, type PipelineRequest, type PipelineResponse } from '@azure/core-rest-pipeline';
import { FilterNotSupportedError, ordinal, parseFilter } from './odata-filter.js';
import { parseBatch, renderBatchResponse, type SubRequest, type SubResponse } from './table-batch.js';
import { checkKey, errors, readProperties, renderEntity, TableServiceError } from './table-entities.js';
import { InMemoryTable, type QueryPosition, type Stamp, type WriteOperation } from './table-rows.js';

export interface InMemoryTableServiceOptions {
  /** The account's name, in its endpoint `https://<name>.table.in-memory.invalid`. Default `inmemory`. */
  accountName?: string;
}

const API_VERSION = '2019-02-02';
const JSON_CONTENT = 'application/json;odata=minimalmetadata;streaming=true;charset=utf-8';
const MAX_PAGE = 1000;
const MAX_BATCH_OPERATIONS = 100;
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{2,62}$/;
const ENTITY_PATH = /^([^(]+)\(PartitionKey='((?:[^']|'')*)',RowKey='((?:[^']|'')*)'\)$/;
const QUERY_OPTIONS = new Set(['$filter', '$select', '$top', '$format', 'NextPartitionKey', 'NextRowKey', 'NextTableName', 'timeout']);

/** Where the failing operation of a transaction is, beside what the service answered. */
class OperationFailed extends Error {
  constructor(
    readonly index: number,
    readonly error: TableServiceError,
  ) {
    super(error.message);
  }
}

export class InMemoryTableService implements HttpClient {
  readonly accountName: string;
  /** The account's table endpoint; requests for any other host are refused. */
  readonly tableEndpoint: string;
  private readonly tables = new Map<string, InMemoryTable>();
  private last = { ms: 0, ticks: 0 };

  constructor(options: InMemoryTableServiceOptions = {}) {
    this.accountName = options.accountName ?? 'inmemory';
    if (!/^[a-z0-9]{3,24}$/.test(this.accountName)) {
      throw new RangeError(`"${this.accountName}" is not a storage account name (3–24 lower-case letters and digits)`);
    }
    // A reserved top-level domain: a client that was not given this service as its HttpClient fails at once.
    this.tableEndpoint = `https://${this.accountName}.table.in-memory.invalid`;
  }

  /** The names of the tables that exist, sorted. */
  tableNames(): string[] {
    return [...this.tables.values()].map((table) => table.name).sort(ordinal);
  }

  async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
    try {
      return this.route(request);
    } catch (error) {
      if (error instanceof TableServiceError) return this.errorResponse(request, error);
      if (error instanceof FilterNotSupportedError) return this.errorResponse(request, errors.notImplemented(error.message));
      throw error;
    }
  }

  private route(request: PipelineRequest): PipelineResponse {
    const url = new URL(request.url);
    if (url.origin !== new URL(this.tableEndpoint).origin) {
      throw new TableServiceError(400, 'InvalidUri', `${url.origin} is not ${this.tableEndpoint}`);
    }
    for (const name of url.searchParams.keys()) if (!QUERY_OPTIONS.has(name)) throw errors.notImplemented(`the query option ${name}`);
    const resource = decodeURIComponent(url.pathname.replace(/^\/+/, ''));
    const method = request.method.toUpperCase();
    const body = typeof request.body === 'string' ? request.body : undefined;
    if (request.body !== undefined && body === undefined) throw errors.notImplemented('a request body that is not text');

    if (resource === '$batch' && method === 'POST') return this.batch(request, body ?? '');
    if (resource === 'Tables' && method === 'POST') return this.createTable(request, body);
    if (resource === 'Tables' && method === 'GET') return this.listTables(request, url);
    const deleted = /^Tables\('([^']+)'\)$/.exec(resource);
    if (deleted && method === 'DELETE') {
      if (!this.tables.delete(deleted[1]!.toLowerCase())) throw errors.tableNotFound();
      return this.respond(request, 204);
    }
    const query = /^([^(]+)\(\)$/.exec(resource);
    if (query && method === 'GET') return this.query(request, this.table(query[1]!), url.searchParams);
    const entity = ENTITY_PATH.exec(resource);
    if (entity && method === 'GET') {
      const found = this.table(entity[1]!).get(unquote(entity[2]!), unquote(entity[3]!));
      if (!found) throw errors.notFound();
      const rendered = { 'odata.metadata': `${this.tableEndpoint}/$metadata#${entity[1]}/@Element`, ...renderEntity(found) };
      return this.respond(request, 200, { body: rendered, headers: { etag: found.etag } });
    }
    const headers = new Map<string, string>();
    for (const [name, value] of request.headers) headers.set(name.toLowerCase(), value);
    const response = this.write({ method, url, headers, body });
    return this.respond(request, response.status, {
      ...(response.body !== undefined && { body: JSON.parse(response.body) as unknown }),
      headers: {
        ...(response.etag && { etag: response.etag }),
        ...(method === 'POST' && { 'preference-applied': response.body === undefined ? 'return-no-content' : 'return-content' }),
      },
    });
  }

  private table(name: string): InMemoryTable {
    const table = this.tables.get(name.toLowerCase());
    if (!table) throw errors.tableNotFound();
    return table;
  }

  private createTable(request: PipelineRequest, body: string | undefined): PipelineResponse {
    const name = (parseJson(body) as { TableName?: unknown }).TableName;
    if (typeof name !== 'string' || !TABLE_NAME.test(name)) {
      throw new TableServiceError(400, 'InvalidResourceName', 'The specifed resource name contains invalid characters.');
    }
    if (this.tables.has(name.toLowerCase())) throw new TableServiceError(409, 'TableAlreadyExists', 'The table specified already exists.');
    this.tables.set(name.toLowerCase(), new InMemoryTable(name));
    if (noContent(request.headers.get('prefer'))) {
      return this.respond(request, 204, { headers: { 'preference-applied': 'return-no-content' } });
    }
    const created = { 'odata.metadata': `${this.tableEndpoint}/$metadata#Tables/@Element`, TableName: name };
    return this.respond(request, 201, { body: created, headers: { 'preference-applied': 'return-content' } });
  }

  private listTables(request: PipelineRequest, url: URL): PipelineResponse {
    if (url.searchParams.has('$filter') || url.searchParams.has('$select')) {
      throw errors.notImplemented('$filter or $select on the list of tables');
    }
    const top = pageSize(url.searchParams.get('$top'));
    const after = url.searchParams.get('NextTableName');
    const names = this.tableNames().filter((name) => after === null || ordinal(name, after) >= 0);
    const page = names.slice(0, top);
    const next = names[top];
    return this.respond(request, 200, {
      body: { 'odata.metadata': `${this.tableEndpoint}/$metadata#Tables`, value: page.map((TableName) => ({ TableName })) },
      headers: next === undefined ? {} : { 'x-ms-continuation-nexttablename': next },
    });
  }

  private query(request: PipelineRequest, table: InMemoryTable, search: URLSearchParams): PipelineResponse {
    const filterText = search.get('$filter');
    const filter = filterText === null || filterText.trim() === '' ? undefined : parseFilter(filterText);
    const selectText = search.get('$select');
    const select = selectText === null || selectText === '*' ? undefined : new Set(selectText.split(',').map((name) => name.trim()));
    const nextPartitionKey = search.get('NextPartitionKey');
    const from: QueryPosition | undefined =
      nextPartitionKey === null
        ? undefined
        : { partitionKey: fromToken(nextPartitionKey), rowKey: fromToken(search.get('NextRowKey') ?? '') };
    const { entities, next } = table.query(filter, pageSize(search.get('$top')), from);
    return this.respond(request, 200, {
      body: {
        'odata.metadata': `${this.tableEndpoint}/$metadata#${table.name}`,
        value: entities.map((entity) => renderEntity(entity, select)),
      },
      headers: next
        ? { 'x-ms-continuation-nextpartitionkey': toToken(next.partitionKey), 'x-ms-continuation-nextrowkey': toToken(next.rowKey) }
        : {},
    });
  }

  /** One entity write (insert, replace, merge, delete), alone or as an operation of a transaction. */
  private write(sub: SubRequest): SubResponse {
    const { table, operation } = this.operationOf(sub);
    const [stamp] = table.apply([table.plan(operation)], () => this.stamp());
    return this.answerFor(sub, table, operation, stamp);
  }

  private operationOf(sub: SubRequest): { table: InMemoryTable; operation: WriteOperation } {
    const resource = decodeURIComponent(sub.url.pathname.replace(/^\/+/, ''));
    const entity = ENTITY_PATH.exec(resource);
    const ifMatch = sub.headers.get('if-match');
    if (sub.method === 'POST' && !entity && !resource.includes('(')) {
      const table = this.table(resource);
      const body = parseJson(sub.body) as Record<string, unknown>;
      const partitionKey = checkKey(body['PartitionKey']);
      const rowKey = checkKey(body['RowKey']);
      return { table, operation: { kind: 'insert', partitionKey, rowKey, properties: readProperties(body) } };
    }
    if (!entity) throw errors.notImplemented(`${sub.method} ${resource}`);
    const table = this.table(entity[1]!);
    const partitionKey = checkKey(unquote(entity[2]!));
    const rowKey = checkKey(unquote(entity[3]!));
    switch (sub.method) {
      case 'PUT':
      case 'PATCH':
      case 'MERGE': {
        const properties = readProperties(parseJson(sub.body) as Record<string, unknown>);
        const kind = sub.method === 'PUT' ? 'replace' : 'merge';
        return { table, operation: { kind, partitionKey, rowKey, properties, ...(ifMatch !== undefined && { ifMatch }) } };
      }
      case 'DELETE':
        if (ifMatch === undefined) {
          throw new TableServiceError(
            400,
            'MissingRequiredHeader',
            'An HTTP header that is mandatory for this request is not specified: If-Match.',
          );
        }
        return { table, operation: { kind: 'delete', partitionKey, rowKey, ifMatch } };
      default:
        throw errors.notImplemented(`${sub.method} of an entity${sub.method === 'GET' ? ' inside a transaction' : ''}`);
    }
  }

  private answerFor(sub: SubRequest, table: InMemoryTable, operation: WriteOperation, stamp: Stamp | undefined): SubResponse {
    if (operation.kind !== 'insert') return { status: 204, ...(stamp && { etag: stamp.etag }) };
    const keys = `PartitionKey='${quote(operation.partitionKey)}',RowKey='${quote(operation.rowKey)}'`;
    const location = `${this.tableEndpoint}/${table.name}(${keys})`;
    if (noContent(sub.headers.get('prefer'))) return { status: 204, etag: stamp!.etag, location };
    const stored = table.get(operation.partitionKey, operation.rowKey)!;
    const body = JSON.stringify({ 'odata.metadata': `${this.tableEndpoint}/$metadata#${table.name}/@Element`, ...renderEntity(stored) });
    return { status: 201, etag: stamp!.etag, location, body };
  }

  /** An entity group transaction: every operation checked against the rows as they are, then all applied, or none. */
  private batch(request: PipelineRequest, body: string): PipelineResponse {
    if (Buffer.byteLength(body) > MAX_BODY_BYTES) {
      throw new TableServiceError(413, 'RequestBodyTooLarge', 'The request body is too large and exceeds the maximum permissible limit.');
    }
    const subs = parseBatch(request.headers.get('content-type'), body);
    let rendered;
    try {
      if (subs.length > MAX_BATCH_OPERATIONS) {
        throw new OperationFailed(0, errors.invalidInput('The batch request operation exceeds the maximum 100 changes per change set.'));
      }
      const operations = subs.map((sub, index) => {
        try {
          return this.operationOf(sub);
        } catch (error) {
          throw error instanceof TableServiceError ? new OperationFailed(index, error) : error;
        }
      });
      const first = operations[0];
      const rows = new Set<string>();
      const planned = operations.map(({ table, operation }, index) => {
        if (table !== first?.table || operation.partitionKey !== first.operation.partitionKey) {
          const message = 'All commands in a batch must operate on same entity group.';
          throw new OperationFailed(index, new TableServiceError(400, 'CommandsInBatchActOnDifferentPartitions', message));
        }
        if (rows.has(operation.rowKey)) {
          const message = `A command with RowKey '${operation.rowKey}' is already present in the batch. An entity can appear only once in a batch. `;
          throw new OperationFailed(index, new TableServiceError(400, 'InvalidDuplicateRow', message));
        }
        rows.add(operation.rowKey);
        try {
          return table.plan(operation);
        } catch (error) {
          throw error instanceof TableServiceError ? new OperationFailed(index, error) : error;
        }
      });
      const stamps = first ? first.table.apply(planned, () => this.stamp()) : [];
      const responses = operations.map(({ table, operation }, index) => this.answerFor(subs[index]!, table, operation, stamps[index]));
      rendered = renderBatchResponse({ responses });
    } catch (error) {
      if (!(error instanceof OperationFailed)) throw error;
      const { index, error: failed } = error;
      rendered = renderBatchResponse({ failure: { index, status: failed.status, body: this.errorBody(failed, `${index}:`) } });
    }
    return { request, status: 202, headers: this.headers({ 'content-type': rendered.contentType }), bodyAsText: rendered.body };
  }

  /**
   * A new Timestamp and the ETag the service derives from it: milliseconds and a count of 100 ns
   * ticks within them, so that two writes in the same millisecond never share an ETag.
   */
  private stamp(): Stamp {
    const now = Date.now();
    if (now > this.last.ms) this.last = { ms: now, ticks: 0 };
    else if (this.last.ticks < 9_999) this.last.ticks += 1;
    else this.last = { ms: this.last.ms + 1, ticks: 0 };
    const timestamp = `${new Date(this.last.ms).toISOString().slice(0, 23)}${String(this.last.ticks).padStart(4, '0')}Z`;
    return { timestamp, etag: `W/"datetime'${timestamp.replace(/:/g, '%3A')}'"` };
  }

  private headers(extra: Record<string, string> = {}) {
    return createHttpHeaders({ 'x-ms-request-id': randomUUID(), 'x-ms-version': API_VERSION, date: new Date().toUTCString(), ...extra });
  }

  private respond(
    request: PipelineRequest,
    status: number,
    options: { body?: unknown; headers?: Record<string, string> } = {},
  ): PipelineResponse {
    const hasBody = options.body !== undefined;
    return {
      request,
      status,
      headers: this.headers({ ...(hasBody && { 'content-type': JSON_CONTENT }), ...options.headers }),
      bodyAsText: hasBody ? JSON.stringify(options.body) : '',
    };
  }

  private errorBody(error: TableServiceError, prefix = ''): string {
    const value = `${prefix}${error.message}\nRequestId:${randomUUID()}\nTime:${new Date().toISOString()}`;
    return JSON.stringify({ 'odata.error': { code: error.code, message: { lang: 'en-US', value } } });
  }

  private errorResponse(request: PipelineRequest, error: TableServiceError): PipelineResponse {
    const headers = this.headers({ 'content-type': JSON_CONTENT, 'x-ms-error-code': error.code });
    return { request, status: error.status, headers, bodyAsText: this.errorBody(error) };
  }
}

function parseJson(body: string | undefined): unknown {
  try {
    const parsed = JSON.parse(body ?? '') as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed;
  } catch {
    // answered below
  }
  throw errors.invalidInput('The request body is not a JSON object.');
}

function noContent(prefer: string | undefined): boolean {
  return prefer?.toLowerCase() === 'return-no-content';
}

function pageSize(top: string | null): number {
  if (top === null) return MAX_PAGE;
  const value = Number(top);
  if (!Number.isInteger(value) || value < 1) throw errors.invalidInput('$top must be a positive whole number.');
  return Math.min(value, MAX_PAGE);
}

function unquote(key: string): string {
  return key.replace(/''/g, "'");
}

function quote(key: string): string {
  return key.replace(/'/g, "''");
}

/** Continuation tokens are opaque to clients; these are the key, base64-encoded. */
function toToken(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64');
}

function fromToken(token: string): string {
  return Buffer.from(token, 'base64').toString('utf8');
}
