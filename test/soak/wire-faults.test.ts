/**
 * The soak's wire faults (wire-faults.ts), each shown doing what it says against the real
 * services through the real SDK clients: the in-memory table service (and Azurite, where the
 * bytes on a real socket matter), our state store and its companions, and the local ACS Email service.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AdditionalPolicyConfig } from '@azure/core-client';
import {
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineRequest,
  RestError,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';
import { TableClient, type TransactionAction } from '@azure/data-tables';
import { AcsEmailTransport } from '../../src/adapters/email/acs-email-sender.js';
import { InMemoryTableService, inMemoryStorageTarget } from '../../src/adapters/in-memory/tables.js';
import { openStateStore } from '../../src/adapters/table-storage/index.js';
import { TableOutbox } from '../../src/adapters/table-storage/outbox.js';
import { openScanLease } from '../../src/adapters/table-storage/scan-lease.js';
import { openScanReportStore } from '../../src/adapters/table-storage/scan-reports.js';
import { createAzureAdapters } from '../../src/compose/azure.js';
import { seededRandom, startLocalAzure, type LocalAzure } from '../azure-server/index.js';
import { defaultCredentialFor } from '../azure-server/sdk-clients.js';
import { createCommunicationEmailService, type CommunicationEmailService } from '../azure-server/services/communication-email.js';
import { EMAIL } from '../contract/email-sender.contract.js';
import { recordTenantRun, subscriptionIdFor, verdict } from '../contract/support.js';
import { startAzurite, type AzuriteTables } from '../support/azurite.js';
import { FAST_RETRY } from '../support/fixtures.js';
import {
  concurrentWriterFor,
  failedContactReads,
  freshOperationIds,
  ProcessKilledError,
  ProcessLife,
  stripEtagChecks,
  tableFaults,
  type ConcurrentWriter,
  type Death,
  type TableFaultKind,
} from './wire-faults.js';

/** Retries as the soak should set them: each retried fault costs milliseconds, not the SDK's default seconds. */
const FAST_TABLE_RETRY = { maxRetries: 2, retryDelayInMs: 1, maxRetryDelayInMs: 4 };
const FAST_MAIL = { pollIntervalMs: 5, maxPollWaitMs: 20_000, retry: { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 } };
const SENDER = 'DoNotReply@contoso-alerts.example.net';

/**
 * A random source that gives `script`'s values first, then 0.999: with a rate below that, it fires
 * only as scripted (at rate 1 every draw fires, since random values are below 1).
 */
function scripted(...script: number[]): () => number {
  return () => script.shift() ?? 0.999;
}

/** At a rate below 0.999, fires on every other draw, starting with the first: a request's first attempt, not its retry. */
function everyOther(): () => number {
  let draws = 0;
  return () => (draws++ % 2 === 0 ? 0 : 0.999);
}

/** Where the Table tests run: the tables, what reached the service, and clients on them. */
interface TableBackend {
  /** Every request that reached the service (method and path). */
  readonly reached: string[];
  client(table: string, policies?: AdditionalPolicyConfig[], retryOptions?: typeof FAST_TABLE_RETRY): TableClient;
  writer(): ConcurrentWriter;
}

function countingClient(inner: HttpClient, reached: string[]): HttpClient {
  return {
    sendRequest: (request) => {
      reached.push(`${request.method} ${decodeURIComponent(new URL(request.url).pathname)}`);
      return inner.sendRequest(request);
    },
  };
}

function inMemoryBackend(service = new InMemoryTableService()): TableBackend & { service: InMemoryTableService; httpClient: HttpClient } {
  const reached: string[] = [];
  const httpClient = countingClient(service, reached);
  const { connectionString } = inMemoryStorageTarget(service);
  return {
    service,
    httpClient,
    reached,
    client: (table, policies = [], retryOptions = FAST_TABLE_RETRY) =>
      TableClient.fromConnectionString(connectionString, table, { httpClient, additionalPolicies: policies, retryOptions }),
    writer: () => concurrentWriterFor(service),
  };
}

function azuriteBackend(azurite: () => AzuriteTables): TableBackend {
  const reached: string[] = [];
  const httpClient = countingClient(createDefaultHttpClient(), reached);
  return {
    reached,
    client: (table, policies = [], retryOptions = FAST_TABLE_RETRY) =>
      TableClient.fromConnectionString(azurite().connectionString, table, {
        httpClient,
        allowInsecureConnection: true,
        additionalPolicies: policies,
        retryOptions,
      }),
    writer: () => concurrentWriterFor(azurite().connectionString),
  };
}

/** An entity with a property of every EDM type, a DateTime with all seven fractional digits among them. */
function everyType(partitionKey: string, rowKey: string) {
  return {
    partitionKey,
    rowKey,
    text: 'payments-prod',
    count: 7,
    ratio: 1.5,
    enabled: true,
    big: { value: '9007199254740993', type: 'Int64' as const },
    at: { value: '2025-06-02T08:00:00.1234567Z', type: 'DateTime' as const },
    id: { value: '0f8fad5b-d9cb-469f-a165-70867728950e', type: 'Guid' as const },
    bytes: new Uint8Array([0, 1, 2, 250]),
  };
}

/** The entity as the service stores it (its raw JSON), apart from its ETag and Timestamp. */
async function stored(
  client: TableClient,
  partitionKey: string,
  rowKey: string,
): Promise<{ content: Record<string, unknown>; etag: string }> {
  let raw: Record<string, unknown> = {};
  await client.getEntity(partitionKey, rowKey, { onResponse: (response) => (raw = JSON.parse(response.bodyAsText ?? '{}')) });
  const { 'odata.etag': etag, 'odata.metadata': _metadata, Timestamp: _timestamp, ...content } = raw;
  return { content, etag: String(etag) };
}

async function failure(promise: Promise<unknown>): Promise<RestError> {
  const error = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(error).toBeInstanceOf(RestError);
  return error as RestError;
}

let tableCount = 0;
function tableName(): string {
  tableCount += 1;
  return `wire${process.pid}t${tableCount}`;
}

// One local Azure server with its ACS Email service for the file: the process and e-mail tests share it.
let azure: LocalAzure;
let mail: CommunicationEmailService;
beforeAll(async () => {
  mail = createCommunicationEmailService({ accessKey: Buffer.from('wire-faults-key').toString('base64'), retryAfterSeconds: 0 });
  azure = await startLocalAzure({ services: [mail] });
});
afterAll(async () => {
  await azure?.close();
});
beforeEach(() => mail.reset());

describe('ProcessLife', () => {
  it('before-send: the n-th request never reaches the service; it and every later request fail at once', async () => {
    const tables = inMemoryBackend();
    const deaths: Death[] = [];
    const life = new ProcessLife({ name: 'scan-worker', onDeath: (death) => deaths.push(death) });
    const name = tableName();
    const table = tables.client(name, [life.policy]);
    await table.createTable();
    life.armAfter(2, 'before-send');
    await table.createEntity({ partitionKey: 'p', rowKey: 'first' });
    const reached = tables.reached.length;

    const error = await table.createEntity({ partitionKey: 'p', rowKey: 'second' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProcessKilledError);
    expect(String(error)).toContain('scan-worker is dead');
    expect(deaths).toEqual([{ request: 3, when: 'before-send', method: 'POST', url: expect.stringContaining(`/${name}`) }]);
    await expect(life.died).resolves.toEqual(deaths[0]);
    expect(life.killed).toBe(true);

    await expect(table.getEntity('p', 'first')).rejects.toBeInstanceOf(ProcessKilledError);
    expect(tables.reached.length).toBe(reached);
    expect([life.requests, life.forwarded]).toEqual([4, 2]);
    await expect(tables.client(name).getEntity('p', 'second')).rejects.toMatchObject({ statusCode: 404 });
    expect(deaths).toHaveLength(1);
  });

  it('after-send: the request reaches the service, which acts on it, and the caller still fails', async () => {
    const tables = inMemoryBackend();
    const life = new ProcessLife();
    const name = tableName();
    await tables.client(name).createTable();
    const table = tables.client(name, [life.policy]);
    life.armAfter(1, 'after-send');

    await expect(table.createEntity({ partitionKey: 'p', rowKey: 'written', note: 'kept' })).rejects.toBeInstanceOf(ProcessKilledError);
    expect(life.death).toMatchObject({ request: 1, when: 'after-send', method: 'POST' });
    expect(tables.reached.at(-1)).toBe(`POST /${name}`);
    await expect(tables.client(name).getEntity('p', 'written')).resolves.toMatchObject({ note: 'kept' });
  });

  it('is not retried by the SDK, where a reset connection is', async () => {
    const tables = inMemoryBackend();
    const name = tableName();
    await tables.client(name).createTable();
    const retries = { maxRetries: 3, retryDelayInMs: 1, maxRetryDelayInMs: 2 };

    const life = new ProcessLife();
    life.kill();
    await expect(tables.client(name, [life.policy], retries).getEntity('p', 'r')).rejects.toBeInstanceOf(ProcessKilledError);
    expect(life.requests).toBe(1);

    let resets = 0;
    const reset: AdditionalPolicyConfig = {
      position: 'perRetry',
      policy: {
        name: 'test-reset',
        sendRequest: async (request) => {
          resets += 1;
          throw new RestError('read ECONNRESET', { code: 'ECONNRESET', request });
        },
      },
    };
    await expect(tables.client(name, [reset], retries).getEntity('p', 'r')).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(resets).toBe(4);
  });

  it('takes the answers of requests in flight when it is killed', async () => {
    const service = new InMemoryTableService();
    const life = new ProcessLife();
    const { connectionString } = inMemoryStorageTarget(service);
    const name = tableName();
    await TableClient.fromConnectionString(connectionString, name, { httpClient: service }).createTable();
    // The process dies while the service is answering.
    const dying: HttpClient = {
      sendRequest: async (request) => {
        const response = await service.sendRequest(request);
        life.kill();
        return response;
      },
    };
    const table = TableClient.fromConnectionString(connectionString, name, { httpClient: dying, additionalPolicies: [life.policy] });
    await expect(table.createEntity({ partitionKey: 'p', rowKey: 'in-flight' })).rejects.toBeInstanceOf(ProcessKilledError);
    expect(life.death).toEqual({ request: 1, when: 'killed' });
    await expect(
      TableClient.fromConnectionString(connectionString, name, { httpClient: service }).getEntity('p', 'in-flight'),
    ).resolves.toBeDefined();
  });

  it("is in every Table client of the state store: the outbox, the scan lease and the scan reports share the store's pipeline", async () => {
    const tables = inMemoryBackend();
    const life = new ProcessLife();
    const store = openStateStore(inMemoryStorageTarget(tables.service), {
      httpClient: tables.httpClient,
      additionalPolicies: [life.policy],
      tablePrefix: 'shared',
    });
    const outbox = await TableOutbox.connect(store.connection);
    const lease = openScanLease(store.connection);
    const reports = openScanReportStore(store.connection);
    const uses: Record<string, () => Promise<unknown>> = {
      store: () => store.loadSubscriptions(),
      outbox: () => outbox.listMessages(['pending']),
      lease: () => lease.tryAcquire('process-a', 60_000),
      reports: () => reports.get(randomUUID()),
    };
    for (const [name, use] of Object.entries(uses)) {
      const before = life.requests;
      await use();
      expect({ name, through: life.requests > before }).toEqual({ name, through: true });
    }

    life.kill();
    const reached = tables.reached.length;
    for (const [name, use] of Object.entries(uses)) {
      const error = await use().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect({ name, error }).toEqual({ name, error: expect.any(ProcessKilledError) });
    }
    expect(tables.reached.length).toBe(reached);
  });

  it('is in the ARM clients: once dead, the adapters throw ProcessKilledError and ARM sees nothing', async () => {
    const life = new ProcessLife();
    const adapters = createAzureAdapters(azure.env(), {
      retry: FAST_RETRY,
      credential: defaultCredentialFor(azure),
      additionalPolicies: [life.policy],
    });
    await adapters.subscriptions.listSubscriptions();
    expect(life.forwarded).toBe(1);
    const listed = azure.requests.count('subscriptions');

    life.kill();
    await expect(adapters.subscriptions.listSubscriptions()).rejects.toBeInstanceOf(ProcessKilledError);
    await expect(adapters.subscriptions.getSubscription(subscriptionIdFor(1))).rejects.toBeInstanceOf(ProcessKilledError);
    expect(azure.requests.count('subscriptions')).toBe(listed);
    expect(life.requests).toBe(3);
  });

  it('is in the e-mail client: after-send, the service accepted the message, the sender saw an error, and nothing was retried', async () => {
    const life = new ProcessLife();
    const transport = new AcsEmailTransport({
      connection: { connectionString: mail.connectionString(azure.url) },
      senderAddress: SENDER,
      ...FAST_MAIL,
      clientOptions: { additionalPolicies: [life.policy] },
    });
    life.armAfter(1, 'after-send');
    const outcome = await transport.send(EMAIL, randomUUID());
    expect(outcome).toMatchObject({ kind: 'error', accepted: false, error: expect.stringContaining('is dead') });
    expect(mail.sendAttempts.map((attempt) => attempt.outcome)).toEqual(['accepted']);
    expect(mail.messages).toHaveLength(1);

    expect(await transport.send(EMAIL, randomUUID())).toMatchObject({ kind: 'error' });
    expect(mail.sendAttempts).toHaveLength(1);
    expect(life.requests).toBe(2);
  });
});

describe('Table faults, in-memory table service', () => {
  tableFaultTests(() => inMemoryBackend());
});

describe('Table faults, Azurite', () => {
  let azurite: AzuriteTables;
  beforeAll(async () => {
    azurite = await startAzurite();
  });
  afterAll(async () => {
    await azurite?.stop();
  });
  tableFaultTests(() => azuriteBackend(() => azurite));
});

function tableFaultTests(backendFor: () => TableBackend): void {
  let tables: TableBackend;
  let name: string;
  beforeEach(async () => {
    tables = backendFor();
    name = tableName();
    await tables.client(name).createTable();
  });

  it('unavailable: 503 ServerBusy in the service’s error shape on every attempt, seen by the client after its retries; nothing reaches the service', async () => {
    const seen: TableFaultKind[] = [];
    const faults = tableFaults({ random: seededRandom(1), rates: { unavailable: 1 }, onFault: (kind) => seen.push(kind) });
    const reached = tables.reached.length;
    const error = await failure(tables.client(name, [faults]).getEntity('p', 'r'));
    // The SDK leaves `code` unset on a single entity's error (a transaction's it reads from the body).
    expect(error.statusCode).toBe(503);
    expect(error.response?.headers.get('x-ms-error-code')).toBe('ServerBusy');
    expect(JSON.parse(error.response?.bodyAsText ?? '{}')).toMatchObject({
      'odata.error': { code: 'ServerBusy', message: { lang: 'en-US', value: expect.stringContaining('Please retry') } },
    });
    expect(seen).toEqual(['unavailable', 'unavailable', 'unavailable']);
    expect(tables.reached.length).toBe(reached);

    const batch = await failure(tables.client(name, [faults]).submitTransaction([['create', { partitionKey: 'p', rowKey: 'r' }]]));
    expect(batch).toMatchObject({ statusCode: 503, code: 'ServerBusy' });
    expect(faults.counts).toEqual({ unavailable: 6, concurrentWriter: 0, dropMidBatch: 0 });
    expect(tables.reached.length).toBe(reached);
  });

  it('draws the same faults for the same seed, at about the rate asked', async () => {
    const run = async (seed: number) => {
      const faults = tableFaults({ random: seededRandom(seed), rates: { unavailable: 0.3 } });
      const table = tables.client(name, [faults], { ...FAST_TABLE_RETRY, maxRetries: 0 });
      const outcomes: string[] = [];
      for (let index = 0; index < 40; index += 1) {
        const entity = { partitionKey: `seed${seed}`, rowKey: String(index) };
        outcomes.push(
          await table.upsertEntity(entity).then(
            () => 'ok',
            (error: RestError) => String(error.statusCode),
          ),
        );
      }
      return outcomes;
    };
    const first = await run(7);
    expect(await run(7)).toEqual(first);
    const busy = first.filter((outcome) => outcome === '503').length;
    expect(busy).toBeGreaterThan(4);
    expect(busy).toBeLessThan(20);
    expect(first.filter((outcome) => outcome !== '503' && outcome !== 'ok')).toEqual([]);
    expect(await run(8)).not.toEqual(first);
  });

  it('concurrentWriter: a write on condition of its ETag fails 412, and the touch left the content as it was', async () => {
    const clean = tables.client(name);
    await clean.createEntity(everyType('p', 'a'));
    const before = await stored(clean, 'p', 'a');
    const writer = tables.writer();
    const faults = tableFaults({ random: seededRandom(2), rates: { concurrentWriter: 1 }, writer });
    const table = tables.client(name, [faults]);

    const error = await failure(table.updateEntity({ partitionKey: 'p', rowKey: 'a', text: 'changed' }, 'Merge', { etag: before.etag }));
    expect(error.statusCode).toBe(412);
    expect(error.message).toContain('UpdateConditionNotSatisfied');
    const after = await stored(clean, 'p', 'a');
    expect(after.content).toEqual(before.content);
    expect(after.content).toMatchObject({ 'at@odata.type': 'Edm.DateTime', at: '2025-06-02T08:00:00.1234567Z', big: '9007199254740993' });
    expect(after.etag).not.toBe(before.etag);
    expect([writer.touches, faults.counts.concurrentWriter]).toEqual([1, 1]);

    // Writes without an ETag check (If-Match: *, or none) meet no writer.
    await table.updateEntity({ partitionKey: 'p', rowKey: 'a', text: 'unconditional' }, 'Merge');
    await table.upsertEntity({ partitionKey: 'p', rowKey: 'b' });
    await table.deleteEntity('p', 'b');
    expect([writer.touches, faults.counts.concurrentWriter]).toEqual([1, 1]);
  });

  it('concurrentWriter: inside a $batch changeset, the batch fails 412 and none of it is committed', async () => {
    const clean = tables.client(name);
    await clean.createEntity(everyType('p', 'a'));
    const before = await stored(clean, 'p', 'a');
    const writer = tables.writer();
    const faults = tableFaults({ random: seededRandom(3), rates: { concurrentWriter: 1 }, writer });
    const actions: TransactionAction[] = [
      ['create', { partitionKey: 'p', rowKey: 'new' }],
      ['update', { partitionKey: 'p', rowKey: 'a', text: 'changed' }, 'Merge', { etag: before.etag }],
    ];
    const error = await failure(tables.client(name, [faults]).submitTransaction(actions));
    expect(error).toMatchObject({ statusCode: 412, code: 'UpdateConditionNotSatisfied' });
    expect((await stored(clean, 'p', 'a')).content).toEqual(before.content);
    await expect(clean.getEntity('p', 'new')).rejects.toMatchObject({ statusCode: 404 });
    expect([writer.touches, faults.counts.concurrentWriter]).toEqual([1, 1]);
  });

  it('dropMidBatch: the service commits the batch, the client sees a reset connection, and the SDK’s retry meets the committed batch', async () => {
    const clean = tables.client(name);
    await clean.createEntity({ partitionKey: 'p', rowKey: 'u', version: 1 });
    await clean.createEntity({ partitionKey: 'p', rowKey: 'd' });
    const { etag } = await stored(clean, 'p', 'u');
    const seen: TableFaultKind[] = [];
    // Each batch's first attempt is dropped after the service committed it; its retry goes through.
    const faults = tableFaults({ random: everyOther(), rates: { dropMidBatch: 0.5 }, onFault: (kind) => seen.push(kind) });
    const table = tables.client(name, [faults]);
    const batches = () => tables.reached.filter((request) => request.endsWith('/$batch')).length;
    const start = batches();

    // A create: committed, and the retry is told the entity already exists.
    expect(await failure(table.submitTransaction([['create', { partitionKey: 'p', rowKey: 'c' }]]))).toMatchObject({
      statusCode: 409,
      code: 'EntityAlreadyExists',
    });
    await expect(clean.getEntity('p', 'c')).resolves.toBeDefined();
    // An update on condition of its ETag: committed, and the retry meets the ETag its own write moved.
    expect(
      await failure(table.submitTransaction([['update', { partitionKey: 'p', rowKey: 'u', version: 2 }, 'Replace', { etag }]])),
    ).toMatchObject({ statusCode: 412 });
    await expect(clean.getEntity('p', 'u')).resolves.toMatchObject({ version: 2 });
    // A delete (the SDK sends If-Match: * in a batch): committed, and the retry finds nothing to delete.
    expect(await failure(table.submitTransaction([['delete', { partitionKey: 'p', rowKey: 'd' }]]))).toMatchObject({ statusCode: 404 });
    // An upsert: committed twice, and the client never knows.
    await table.submitTransaction([['upsert', { partitionKey: 'p', rowKey: 'x', version: 3 }, 'Replace']]);
    await expect(clean.getEntity('p', 'x')).resolves.toMatchObject({ version: 3 });

    expect(batches() - start).toBe(8);
    expect(seen).toEqual(['dropMidBatch', 'dropMidBatch', 'dropMidBatch', 'dropMidBatch']);
  });

  it('stripEtagChecks: a write with a stale ETag goes through, alone and inside a $batch', async () => {
    const clean = tables.client(name);
    await clean.createEntity({ partitionKey: 'p', rowKey: 'a', version: 1 });
    await clean.createEntity({ partitionKey: 'p', rowKey: 'b', version: 1 });
    const stale = (await stored(clean, 'p', 'a')).etag;
    const staleB = (await stored(clean, 'p', 'b')).etag;
    await clean.updateEntity({ partitionKey: 'p', rowKey: 'a', version: 2 }, 'Replace');
    await clean.updateEntity({ partitionKey: 'p', rowKey: 'b', version: 2 }, 'Replace');
    const batch: TransactionAction[] = [
      ['update', { partitionKey: 'p', rowKey: 'b', version: 3 }, 'Merge', { etag: staleB }],
      ['create', { partitionKey: 'p', rowKey: 'c', note: 'a body longer by the ETag it loses' }],
    ];

    // The build as it is: both refused.
    expect(await failure(clean.updateEntity({ partitionKey: 'p', rowKey: 'a', version: 3 }, 'Replace', { etag: stale }))).toMatchObject({
      statusCode: 412,
    });
    expect(await failure(clean.submitTransaction(batch))).toMatchObject({ statusCode: 412 });

    const strip = stripEtagChecks();
    const broken = tables.client(name, [strip]);
    await broken.updateEntity({ partitionKey: 'p', rowKey: 'a', version: 3 }, 'Replace', { etag: stale });
    await broken.submitTransaction(batch);
    expect(strip.stripped).toBe(2);
    await expect(clean.getEntity('p', 'a')).resolves.toMatchObject({ version: 3 });
    await expect(clean.getEntity('p', 'b')).resolves.toMatchObject({ version: 3 });
    await expect(clean.getEntity('p', 'c')).resolves.toMatchObject({ note: 'a body longer by the ETag it loses' });
  });
}

describe('concurrentWriter through the state store', () => {
  it('makes the store meet a 412, re-read and re-plan, and still record what the scan found', async () => {
    const tables = inMemoryBackend();
    const writer = tables.writer();
    const seen: string[] = [];
    // Only the first conditional write meets the writer.
    const faults = tableFaults({
      random: scripted(0),
      rates: { concurrentWriter: 0.5 },
      writer,
      onFault: (_kind, request) => seen.push(request.url),
    });
    const store = openStateStore(inMemoryStorageTarget(tables.service), {
      httpClient: tables.httpClient,
      additionalPolicies: [faults],
      tablePrefix: 'conflicts',
    });
    const subscriptionId = subscriptionIdFor(1);
    await recordTenantRun(store, randomUUID(), [verdict(subscriptionId, 'compliant')]);
    expect(faults.counts.concurrentWriter).toBe(0);

    await recordTenantRun(store, randomUUID(), [verdict(subscriptionId, 'noncompliant')]);
    expect(faults.counts.concurrentWriter).toBe(1);
    expect(seen).toEqual([expect.stringMatching(/\$batch$/)]);
    expect(store.stats.conflictRetries).toBe(1);
    await expect(store.getSubscription(subscriptionId)).resolves.toMatchObject({ status: 'noncompliant' });
    expect(await store.history(subscriptionId)).toHaveLength(2);
  });
});

describe('freshOperationIds', () => {
  const transport = (policies: AdditionalPolicyConfig[] = []) =>
    new AcsEmailTransport({
      connection: { connectionString: mail.connectionString(azure.url) },
      senderAddress: SENDER,
      ...FAST_MAIL,
      clientOptions: { additionalPolicies: policies },
    });

  it('a send retried after its answer was lost reaches the service as two messages; with its Operation-Id kept, as one', async () => {
    const operationId = randomUUID();
    mail.faults.add({ kind: 'drop', when: 'after-accept' });
    expect(await transport().send(EMAIL, operationId)).toMatchObject({ kind: 'succeeded' });
    expect(mail.sendAttempts.map((attempt) => attempt.outcome)).toEqual(['accepted', 'repeated']);
    expect(mail.messages).toHaveLength(1);

    mail.reset();
    const fresh = freshOperationIds();
    mail.faults.add({ kind: 'drop', when: 'after-accept' });
    expect(await transport([fresh]).send(EMAIL, operationId)).toMatchObject({ kind: 'succeeded' });
    expect(mail.sendAttempts.map((attempt) => attempt.outcome)).toEqual(['accepted', 'accepted']);
    const ids = mail.messages.map((message) => message.operationId.toLowerCase());
    // The first send keeps its id; only the send again gets a new one.
    expect(ids[0]).toBe(operationId);
    expect(new Set(ids).size).toBe(2);
    expect(fresh.replaced).toBe(1);
  });

  it('leaves a message sent once alone', async () => {
    const fresh = freshOperationIds();
    const operationId = randomUUID();
    expect(await transport([fresh]).send(EMAIL, operationId)).toMatchObject({ kind: 'succeeded' });
    expect(mail.messages.map((message) => message.operationId.toLowerCase())).toEqual([operationId]);
    expect(fresh.replaced).toBe(0);
  });
});

describe('failedContactReads', () => {
  const SUBSCRIPTION = '0d9a1e5c-3b7f-4c2d-8e6a-5f4b3c2d1e0f';
  const url = `https://127.0.0.1:8443/subscriptions/${SUBSCRIPTION.toUpperCase()}/providers/Microsoft.Security/securityContacts?api-version=2023-12-01-preview`;
  const respond =
    (status: number) =>
    async (request: PipelineRequest): Promise<PipelineResponse> => ({
      request,
      status,
      headers: createHttpHeaders(),
    });

  it('notes a read answered with an error status, or not answered, and lets the outcome through', async () => {
    const noted: Array<[string, number]> = [];
    const { policy } = failedContactReads((subscriptionId, status) => noted.push([subscriptionId, status]));
    await expect(policy.sendRequest(createPipelineRequest({ url }), respond(200))).resolves.toMatchObject({ status: 200 });
    await expect(policy.sendRequest(createPipelineRequest({ url }), respond(404))).resolves.toMatchObject({ status: 404 });
    const timeout = new Error('The operation was aborted.');
    await expect(policy.sendRequest(createPipelineRequest({ url }), () => Promise.reject(timeout))).rejects.toBe(timeout);
    expect(noted).toEqual([
      [SUBSCRIPTION, 404],
      [SUBSCRIPTION, 0],
    ]);
  });

  it('ignores other requests, and a dead process (it reads nothing)', async () => {
    const noted: unknown[] = [];
    const { policy } = failedContactReads((...args) => noted.push(args));
    const other = 'https://127.0.0.1:8443/providers/Microsoft.ResourceGraph/resources?api-version=2022-10-01';
    await policy.sendRequest(createPipelineRequest({ url: other, method: 'POST' }), respond(500));
    const killed = new ProcessKilledError('p', 'GET', url);
    await expect(policy.sendRequest(createPipelineRequest({ url }), () => Promise.reject(killed))).rejects.toBe(killed);
    expect(noted).toEqual([]);
  });
});
