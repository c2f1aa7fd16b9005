/**
 * Faults injected at the wire, by Azure SDK pipeline policies, for the soak simulation. Each one
 * works on what any client sends (method, URL, headers, body), not on knowledge of our adapters,
 * so the same policy breaks requests to the in-memory table service, Azurite or the local ACS
 * service alike:
 *
 * - ProcessLife: one simulated app process, which dies at a chosen request. Its policy goes into
 *   every client of that process (ARM, Table, e-mail); once dead, every request of the process
 *   fails at once with ProcessKilledError and reaches no service.
 * - tableFaults: Table Storage answering 503 ServerBusy, a real concurrent writer moving an
 *   entity's ETag just before a conditional write, and a `$batch` whose answer is lost after the
 *   service committed it.
 * - stripEtagChecks, freshOperationIds: broken builds, on the wire: writes without their ETag
 *   check, and e-mail sends that do not reuse their Operation-Id. The soak must notice them.
 *
 * Where each policy sits (core-client puts `perRetry` policies after the Sign phase, i.e. after the
 * SDK's retry policy and the request signing; `perCall` ones run once, before the retry loop):
 * ProcessLife, tableFaults, stripEtagChecks and freshOperationIds are all `perRetry`, so each wire
 * attempt meets them. In one client's `additionalPolicies` they run in array order; pass
 * `[life.policy, faults, stripEtagChecks()]` so a dead process sends nothing, and the concurrent
 * writer has touched an entity before the broken build's unconditional write overwrites it.
 */
import { randomUUID } from 'node:crypto';
import type { AdditionalPolicyConfig } from '@azure/core-client';
import { createHttpHeaders, RestError, type PipelineRequest, type PipelineResponse, type SendRequest } from '@azure/core-rest-pipeline';
import { TableClient, type TableEntity } from '@azure/data-tables';
import { parseBatch } from '../../src/adapters/in-memory/table-batch.js';
import { inMemoryStorageTarget, type InMemoryTableService } from '../../src/adapters/in-memory/tables.js';
import { parseStorageSetting } from '../../src/adapters/table-storage/connection.js';

let policyCount = 0;
/** A pipeline refuses two policies of one name; every policy made here gets its own. */
function policyName(kind: string): string {
  policyCount += 1;
  return `soak-${kind}-${policyCount}`;
}

// ---- ProcessLife ------------------------------------------------------------------------------

/** Where a process dies at a request: before it is sent, or after the service has answered it. */
export type DeathPoint = 'before-send' | 'after-send';

export interface Death {
  /** The process's request (1-based, every wire attempt counted) it died at; for kill(), how many it had seen. */
  request: number;
  when: DeathPoint | 'killed';
  /** The request it died at (not for kill()). */
  method?: string;
  url?: string;
}

/**
 * What every request of a dead process throws. Not a RestError and no `code`: core-rest-pipeline's
 * retry policy rethrows anything that is not a RestError at once (its strategies only retry
 * RestErrors with the system error codes ETIMEDOUT, ESOCKETTIMEDOUT, ECONNREFUSED, ECONNRESET,
 * ENOENT, ENOTFOUND, or answers 408/5xx/throttled), so a dead process never retries its way back.
 */
export class ProcessKilledError extends Error {
  override name = 'ProcessKilledError';
  constructor(
    readonly processName: string,
    readonly method: string,
    readonly url: string,
  ) {
    super(`the process ${processName} is dead: ${method} ${url} got no answer`);
  }
}

export interface ProcessLifeOptions {
  /** In error messages. Default `process-<n>`. */
  name?: string;
  /** Called once, at the moment the process dies (before its last request fails). */
  onDeath?: (death: Death) => void;
}

let processCount = 0;

/**
 * The life of one simulated app process. Put `policy` into every client the process builds; arm
 * its death at a request to come, or kill it now. From outside, a killed process is exactly a dead
 * one: its requests reach no service, and answers to requests already sent are never seen. Its
 * code does run on (the app's error handling sees ProcessKilledError), but can change nothing.
 */
export class ProcessLife {
  readonly name: string;
  readonly policy: AdditionalPolicyConfig;
  /** Settles when the process dies; never rejects. */
  readonly died: Promise<Death>;
  private seen = 0;
  private sent = 0;
  private armed: { at: number; when: DeathPoint } | undefined;
  private deathOf: Death | undefined;
  private readonly onDeath: ((death: Death) => void) | undefined;
  private announce!: (death: Death) => void;

  constructor(options: ProcessLifeOptions = {}) {
    processCount += 1;
    this.name = options.name ?? `process-${processCount}`;
    this.onDeath = options.onDeath;
    this.died = new Promise((resolve) => (this.announce = resolve));
    this.policy = {
      // Per retry: every wire attempt counts as a request, and a retry of a dead process's request is refused too.
      position: 'perRetry',
      policy: { name: policyName('process-life'), sendRequest: (request, next) => this.send(request, next) },
    };
  }

  get killed(): boolean {
    return this.deathOf !== undefined;
  }

  /** How it died, once it has. */
  get death(): Death | undefined {
    return this.deathOf;
  }

  /** Requests seen (every wire attempt, those refused after death included). */
  get requests(): number {
    return this.seen;
  }

  /** Requests passed on towards a service. */
  get forwarded(): number {
    return this.sent;
  }

  /** The n-th request from now (n ≥ 1) is where the process dies; replaces an earlier arming. */
  armAfter(n: number, when: DeathPoint): void {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`armAfter takes a whole number of requests ≥ 1, not ${n}`);
    if (this.deathOf) throw new Error(`the process ${this.name} is already dead`);
    this.armed = { at: this.seen + n, when };
  }

  /** Takes back an arming that was not reached (the invocation made fewer requests than drawn). */
  disarm(): void {
    this.armed = undefined;
  }

  /** Dies now, between requests: those in flight lose their answers. */
  kill(): void {
    this.die({ request: this.seen, when: 'killed' });
  }

  private die(death: Death): void {
    if (this.deathOf) return;
    this.deathOf = death;
    this.armed = undefined;
    this.onDeath?.(death);
    this.announce(death);
  }

  private async send(request: PipelineRequest, next: SendRequest): Promise<PipelineResponse> {
    this.seen += 1;
    const index = this.seen;
    const killed = () => new ProcessKilledError(this.name, request.method, request.url);
    if (this.deathOf) throw killed();
    const armed = this.armed?.at === index ? this.armed : undefined;
    if (armed?.when === 'before-send') {
      this.die({ request: index, when: 'before-send', method: request.method, url: request.url });
      throw killed();
    }
    this.sent += 1;
    let outcome: { response: PipelineResponse } | { error: unknown };
    try {
      outcome = { response: await next(request) };
    } catch (error) {
      outcome = { error };
    }
    if (armed && this.armed === armed) this.die({ request: index, when: 'after-send', method: request.method, url: request.url });
    // The service may have acted on it; a process that died meanwhile never learns the answer.
    if (this.deathOf) throw killed();
    if ('error' in outcome) throw outcome.error;
    return outcome.response;
  }
}

// ---- Table Storage on the wire ----------------------------------------------------------------

/**
 * A writer that races the app: before a conditional write of a subscription's state row reaches
 * the service, `race(subscriptionId)` runs (another instance evaluating that subscription, with a
 * later reading), so the write meets a record that changed since it was read. Only one race at a
 * time: the racer's own writes pass through this policy too.
 */
export function racingWriter(options: {
  /** A number in [0, 1) for this request (called once per decision). */
  random: (request: PipelineRequest) => number;
  rate: number;
  race: (subscriptionId: string) => Promise<void>;
}): AdditionalPolicyConfig & { readonly races: number } {
  let races = 0;
  let racing = false;
  return {
    get races() {
      return races;
    },
    position: 'perRetry',
    policy: {
      name: policyName('racing-writer'),
      async sendRequest(request, next) {
        if (!racing && options.rate > 0) {
          const state = conditionalWrites(request).find((entity) => entity.rowKey.startsWith('state:'));
          if (state && options.random(request) < options.rate) {
            racing = true;
            try {
              await options.race(state.rowKey.slice('state:'.length));
              races += 1;
            } finally {
              racing = false;
            }
          }
        }
        return next(request);
      },
    },
  };
}

/** One entity, as a request addresses it. */
export interface EntityAddress {
  table: string;
  partitionKey: string;
  rowKey: string;
}

const ENTITY_PATH = /^([^(]+)\(PartitionKey='((?:[^']|'')*)',RowKey='((?:[^']|'')*)'\)$/;
const CONDITIONAL_METHODS = new Set(['PUT', 'PATCH', 'MERGE', 'DELETE']);
const JSON_CONTENT = 'application/json;odata=minimalmetadata;streaming=true;charset=utf-8';

function lastSegment(url: URL): string {
  const segments = url.pathname.split('/').filter(Boolean);
  return decodeURIComponent(segments[segments.length - 1] ?? '');
}

function entityAddress(url: URL): EntityAddress | undefined {
  const match = ENTITY_PATH.exec(lastSegment(url));
  if (!match) return undefined;
  return { table: match[1]!, partitionKey: match[2]!.replace(/''/g, "'"), rowKey: match[3]!.replace(/''/g, "'") };
}

/** An If-Match that names an ETag: `*` (or none) is no check at all. */
function isEtag(ifMatch: string | undefined): ifMatch is string {
  return ifMatch !== undefined && ifMatch.trim() !== '' && ifMatch.trim() !== '*';
}

function isBatch(request: PipelineRequest): boolean {
  return request.method === 'POST' && lastSegment(new URL(request.url)) === '$batch';
}

/** The entities a request writes on condition of their ETag: itself, or the operations of its changeset. */
export function conditionalWrites(request: PipelineRequest): EntityAddress[] {
  const url = new URL(request.url);
  if (isBatch(request)) {
    if (typeof request.body !== 'string') return [];
    let operations;
    try {
      operations = parseBatch(request.headers.get('content-type'), request.body);
    } catch {
      return [];
    }
    return operations.flatMap((operation) => {
      if (!CONDITIONAL_METHODS.has(operation.method) || !isEtag(operation.headers.get('if-match'))) return [];
      const address = entityAddress(operation.url);
      return address ? [address] : [];
    });
  }
  if (!CONDITIONAL_METHODS.has(request.method) || !isEtag(request.headers.get('if-match'))) return [];
  const address = entityAddress(url);
  return address ? [address] : [];
}

/** Table Storage's answer when it sheds load, in its error shape (x-ms-error-code and the `odata.error` body). */
export function serverBusyResponse(request: PipelineRequest): PipelineResponse {
  const value = `The server is currently unable to receive requests. Please retry your request.\nRequestId:${randomUUID()}\nTime:${new Date().toISOString()}`;
  return {
    request,
    status: 503,
    headers: createHttpHeaders({
      'content-type': JSON_CONTENT,
      'x-ms-error-code': 'ServerBusy',
      'x-ms-request-id': randomUUID(),
      'x-ms-version': '2019-02-02',
      date: new Date().toUTCString(),
    }),
    bodyAsText: JSON.stringify({ 'odata.error': { code: 'ServerBusy', message: { lang: 'en-US', value } } }),
  };
}

/** What core-rest-pipeline's Node HTTP client throws when the socket is reset before the answer. */
function connectionReset(request: PipelineRequest): RestError {
  return new RestError('read ECONNRESET', { code: 'ECONNRESET', request });
}

/** A second client on the same tables, outside every fault: it writes while the app is not looking. */
export interface ConcurrentWriter {
  /**
   * Reads the entity and writes it back unchanged (Replace, with the properties and types it
   * read, on condition of the ETag it read), so only its ETag and Timestamp move. False when the
   * entity does not exist.
   */
  touch(entity: EntityAddress): Promise<boolean>;
  /** Entities touched so far. */
  readonly touches: number;
}

const WRITER_RETRY = { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 };
const TOUCH_ATTEMPTS = 5;

function statusOf(error: unknown): number | undefined {
  return error instanceof RestError ? error.statusCode : undefined;
}

/**
 * The concurrent writer for a storage account: a connection string (Azurite's, or any with an
 * account key or SAS) or the in-memory table service.
 */
export function concurrentWriterFor(target: string | InMemoryTableService): ConcurrentWriter {
  const clients = new Map<string, TableClient>();
  const clientFor = (table: string): TableClient => {
    let client = clients.get(table);
    if (!client) {
      if (typeof target === 'string') {
        const parsed = parseStorageSetting(target);
        if (parsed.kind !== 'connection-string') throw new Error('the concurrent writer needs a connection string, not a token endpoint');
        client = TableClient.fromConnectionString(parsed.connectionString, table, {
          allowInsecureConnection: parsed.allowInsecureConnection,
          retryOptions: WRITER_RETRY,
        });
      } else {
        client = TableClient.fromConnectionString(inMemoryStorageTarget(target).connectionString, table, {
          httpClient: target,
          retryOptions: WRITER_RETRY,
        });
      }
      clients.set(table, client);
    }
    return client;
  };
  let touches = 0;
  return {
    get touches() {
      return touches;
    },
    async touch({ table, partitionKey, rowKey }) {
      const client = clientFor(table);
      // The app may write between this read and write: the write is conditional, so it never undoes the app's change.
      for (let attempt = 0; attempt < TOUCH_ATTEMPTS; attempt += 1) {
        let raw: Record<string, unknown> = {};
        try {
          await client.getEntity(partitionKey, rowKey, {
            onResponse: (response) => (raw = JSON.parse(response.bodyAsText ?? '{}') as Record<string, unknown>),
          });
        } catch (error) {
          if (statusOf(error) === 404) return false;
          throw error;
        }
        try {
          await client.updateEntity(asWritten(raw, partitionKey, rowKey), 'Replace', { etag: String(raw['odata.etag']) });
          touches += 1;
          return true;
        } catch (error) {
          if (statusOf(error) === 404) return false;
          if (statusOf(error) !== 412) throw error;
        }
      }
      throw new Error(
        `the entity ${table}(${partitionKey}, ${rowKey}) changed ${TOUCH_ATTEMPTS} times while the concurrent writer touched it`,
      );
    },
  };
}

/**
 * The entity for a write that stores exactly what was read: each property with the EDM type the
 * service annotated (`{ value, type }`), the rest as bare JSON values, which the service types as
 * it typed them before. The SDK's own conversions would not round-trip: with them a DateTime comes
 * back as a Date (milliseconds only), without them an Int32 or Boolean comes back as text.
 */
function asWritten(raw: Record<string, unknown>, partitionKey: string, rowKey: string): TableEntity<Record<string, unknown>> {
  const entity: TableEntity<Record<string, unknown>> = { partitionKey, rowKey };
  for (const [name, value] of Object.entries(raw)) {
    if (name === 'PartitionKey' || name === 'RowKey' || name === 'Timestamp' || name.startsWith('odata.') || name.includes('@odata.')) {
      continue;
    }
    const type = raw[`${name}@odata.type`];
    entity[name] = typeof type === 'string' ? { value, type: type.replace(/^Edm\./, '') } : value;
  }
  return entity;
}

export type TableFaultKind = 'unavailable' | 'concurrentWriter' | 'dropMidBatch';
/** The order in which a request's faults are drawn. */
export const TABLE_FAULT_KINDS: readonly TableFaultKind[] = ['unavailable', 'concurrentWriter', 'dropMidBatch'];

export interface TableFaultOptions {
  /** Uniform in [0, 1) for this request, seeded (called once per fault kind it can meet): the same requests meet the same faults. */
  random: (request: PipelineRequest) => number;
  /** The chance of each fault per request it can apply to (0 or absent: never). */
  rates: Partial<Record<TableFaultKind, number>>;
  /** Needed when `rates.concurrentWriter` is above 0 (concurrentWriterFor). */
  writer?: ConcurrentWriter;
  /** Each fault as it is injected. */
  onFault?: (kind: TableFaultKind, request: { method: string; url: string }) => void;
}

export type TableFaults = AdditionalPolicyConfig & { readonly counts: Readonly<Record<TableFaultKind, number>> };

/**
 * A policy of Table Storage faults, each drawn per wire attempt at its own rate, at most one per
 * request (drawn in TABLE_FAULT_KINDS order, only for the faults the request can meet, and only
 * for rates above 0, so adding a fault at rate 0 changes nothing):
 *
 * - `unavailable` (any request): 503 ServerBusy without reaching the service.
 * - `concurrentWriter` (a write with If-Match naming an ETag, alone or in a `$batch` changeset):
 *   the writer touches the entity (the first such operation of a batch) just before the request
 *   goes on, so the service answers 412. When the entity is gone there is nothing to touch and no fault.
 * - `dropMidBatch` (`POST …/$batch`): the batch goes to the service, which commits it, and the
 *   answer is lost: a RestError ECONNRESET, which the SDK's retry policy retries.
 */
export function tableFaults(options: TableFaultOptions): TableFaults {
  for (const kind of TABLE_FAULT_KINDS) {
    const rate = options.rates[kind] ?? 0;
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`the rate of ${kind} must be from 0 to 1, not ${rate}`);
  }
  const writer = options.writer;
  if ((options.rates.concurrentWriter ?? 0) > 0 && !writer) throw new Error('tableFaults: concurrentWriter needs a writer');
  const counts: Record<TableFaultKind, number> = { unavailable: 0, concurrentWriter: 0, dropMidBatch: 0 };
  const note = (kind: TableFaultKind, request: PipelineRequest) => {
    counts[kind] += 1;
    options.onFault?.(kind, { method: request.method, url: request.url });
  };
  const draw = (request: PipelineRequest, targets: EntityAddress[]): TableFaultKind | undefined => {
    for (const kind of TABLE_FAULT_KINDS) {
      const rate = options.rates[kind] ?? 0;
      if (rate <= 0) continue;
      const applies = kind === 'unavailable' || (kind === 'concurrentWriter' ? targets.length > 0 : isBatch(request));
      if (applies && options.random(request) < rate) return kind;
    }
    return undefined;
  };
  return {
    counts,
    position: 'perRetry',
    policy: {
      name: policyName('table-faults'),
      async sendRequest(request, next) {
        const targets = (options.rates.concurrentWriter ?? 0) > 0 ? conditionalWrites(request) : [];
        switch (draw(request, targets)) {
          case 'unavailable':
            note('unavailable', request);
            return serverBusyResponse(request);
          case 'concurrentWriter':
            if (await writer!.touch(targets[0]!)) note('concurrentWriter', request);
            return next(request);
          case 'dropMidBatch':
            await next(request);
            note('dropMidBatch', request);
            throw connectionReset(request);
          case undefined:
            return next(request);
        }
      },
    },
  };
}

// ---- broken builds ----------------------------------------------------------------------------

const IF_MATCH_LINE = /^(If-Match:[ \t]*)([^\r\n]*)/gim;

/**
 * A build without the ETag check: every Table write's If-Match (a single request's header, and
 * each operation's inside a `$batch` body) becomes `*`, an unconditional write. `stripped` counts
 * the If-Match values replaced.
 */
export function stripEtagChecks(): AdditionalPolicyConfig & { readonly stripped: number } {
  let stripped = 0;
  return {
    get stripped() {
      return stripped;
    },
    position: 'perRetry',
    policy: {
      name: policyName('strip-etag-checks'),
      async sendRequest(request, next) {
        if (isBatch(request) && typeof request.body === 'string') {
          const body = request.body.replace(IF_MATCH_LINE, (line, head: string, value: string) => {
            if (!isEtag(value)) return line;
            stripped += 1;
            return `${head}*`;
          });
          if (body !== request.body) {
            request.body = body;
            // The signing policy, which runs before this one, already set the length of the old body.
            if (request.headers.has('content-length')) request.headers.set('content-length', Buffer.byteLength(body));
          }
        } else if (CONDITIONAL_METHODS.has(request.method) && isEtag(request.headers.get('if-match'))) {
          request.headers.set('if-match', '*');
          stripped += 1;
        }
        return next(request);
      },
    },
  };
}

/**
 * A build whose sends do not reuse their Operation-Id: every `POST …/emails:send` (each wire
 * attempt, the SDK's own retries included) carries a new one, so the service cannot tell a retry
 * from a new message. `replaced` counts the sends rewritten.
 */
export function freshOperationIds(newId: () => string = randomUUID): AdditionalPolicyConfig & { readonly replaced: number } {
  let replaced = 0;
  // The first send of a message keeps its Operation-Id: the broken build forgets it only when it sends again.
  const sent = new Set<string>();
  return {
    get replaced() {
      return replaced;
    },
    position: 'perRetry',
    policy: {
      name: policyName('fresh-operation-ids'),
      async sendRequest(request, next) {
        if (request.method === 'POST' && new URL(request.url).pathname.endsWith('/emails:send')) {
          const operationId = request.headers.get('Operation-Id')?.toLowerCase();
          if (operationId && sent.has(operationId)) {
            request.headers.set('Operation-Id', newId());
            replaced += 1;
          } else if (operationId) sent.add(operationId);
        }
        return next(request);
      },
    },
  };
}

/**
 * Notes every securityContacts read that failed as the app saw it: an error status, or no answer
 * at all (a dropped connection, or its time limit passed — on a loaded machine that happens
 * without any scripted fault). Such a reading is rightly `error`.
 */
export function failedContactReads(onFailure: (subscriptionId: string, status: number) => void): AdditionalPolicyConfig {
  const subscriptionOf = (url: string): string | undefined =>
    /\/subscriptions\/([0-9a-f-]{36})\/providers\/Microsoft\.Security\/securityContacts/i.exec(new URL(url).pathname)?.[1]?.toLowerCase();
  return {
    position: 'perRetry',
    policy: {
      name: policyName('failed-contact-reads'),
      async sendRequest(request, next) {
        const subscriptionId = subscriptionOf(request.url);
        if (!subscriptionId) return next(request);
        try {
          const response = await next(request);
          if (response.status >= 400) onFailure(subscriptionId, response.status);
          return response;
        } catch (error) {
          if (!(error instanceof ProcessKilledError)) onFailure(subscriptionId, 0);
          throw error;
        }
      },
    },
  };
}
