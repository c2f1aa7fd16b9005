/**
 * Table Storage's own rules, as the adapters rely on them, for any table service: the answers of
 * the TableClient operations the adapters call (status, `odata.error` code, the failing operation's
 * index in a transaction's error), ETags, limits, transactions and the query grammar the adapters
 * send. Run against Azurite, it says what the in-memory service must do; run against the
 * in-memory service, that it does.
 */
import { odata, RestError, type TableClient, type TransactionAction } from '@azure/data-tables';
import { describe, expect, it } from 'vitest';
import type { TableBackend } from './backends.js';
import { uniquePrefix } from './support.js';

const STALE_ETAG = `W/"datetime'2020-01-01T00%3A00%3A00.0000000Z'"`;

/** The RestError an operation failed with: its status, the service's code and the message's first line. */
async function failure(operation: Promise<unknown>): Promise<{ statusCode?: number; code?: string; message: string }> {
  try {
    await operation;
  } catch (error) {
    if (!(error instanceof RestError)) throw error;
    // A single operation's error carries the service's JSON as its message; a transaction's, the message itself.
    const body = /"code":"([^"]+)","message":\{"lang":"en-US","value":"([^"\\]*)/.exec(error.message);
    return { statusCode: error.statusCode, code: error.code ?? body?.[1], message: body ? body[2]! : error.message.split('\n')[0]! };
  }
  throw new Error('the operation succeeded');
}

/** `count` inserts into one partition, row keys k0000, k0001, … from `from`. */
function creates(partitionKey: string, count: number, from = 0): TransactionAction[] {
  return Array.from({ length: count }, (_, i) => [
    'create',
    { partitionKey, rowKey: `k${String(from + i).padStart(4, '0')}`, n: from + i },
  ]);
}

async function keys(client: TableClient, filter?: string, select: string[] = ['PartitionKey', 'RowKey']): Promise<string[]> {
  const found: string[] = [];
  for await (const entity of client.listEntities({ queryOptions: { ...(filter !== undefined && { filter }), select } })) {
    found.push(`${entity.partitionKey ?? ''}/${entity.rowKey ?? ''}`);
  }
  return found;
}

export function tableServiceContract(backend: TableBackend): void {
  async function freshTable(): Promise<TableClient> {
    return backend.connect({ tablePrefix: uniquePrefix() }).table('rows');
  }

  describe('single entities', () => {
    it('are created once: a second insert is 409 EntityAlreadyExists, a missing entity 404 ResourceNotFound', async () => {
      const client = await freshTable();
      await client.createTable(); // a table that exists already is fine
      const created = await client.createEntity({ partitionKey: 'p', rowKey: 'r', holder: 'a' });
      expect(created.etag).toMatch(/^W\/"datetime'.+'"$/);
      expect(await failure(client.createEntity({ partitionKey: 'p', rowKey: 'r', holder: 'b' }))).toMatchObject({
        statusCode: 409,
        code: 'EntityAlreadyExists',
      });
      expect((await client.getEntity('p', 'r')).holder).toBe('a');
      expect(await failure(client.getEntity('p', 'missing'))).toMatchObject({ statusCode: 404, code: 'ResourceNotFound' });
      expect(await failure(client.deleteEntity('p', 'missing'))).toMatchObject({ statusCode: 404, code: 'ResourceNotFound' });
      expect(await failure(client.updateEntity({ partitionKey: 'p', rowKey: 'missing', holder: 'c' }, 'Merge'))).toMatchObject({
        statusCode: 404,
      });
    });

    it('get a new ETag on every write, however quick; a write or delete with an older one is 412', async () => {
      const client = await freshTable();
      const etags = [(await client.createEntity({ partitionKey: 'p', rowKey: 'r', n: 0 })).etag];
      for (let n = 1; n <= 50; n += 1)
        etags.push((await client.updateEntity({ partitionKey: 'p', rowKey: 'r', n }, 'Merge', { etag: etags.at(-1) })).etag);
      expect(new Set(etags).size).toBe(51);
      const current = await client.getEntity<{ n: number }>('p', 'r');
      expect(current).toMatchObject({ n: 50, etag: etags.at(-1) });
      expect(await failure(client.updateEntity({ partitionKey: 'p', rowKey: 'r', n: -1 }, 'Replace', { etag: etags[0] }))).toMatchObject({
        statusCode: 412,
        code: 'UpdateConditionNotSatisfied',
      });
      expect(await failure(client.deleteEntity('p', 'r', { etag: STALE_ETAG }))).toMatchObject({ statusCode: 412 });
      expect(
        await failure(client.updateEntity({ partitionKey: 'p', rowKey: 'gone', n: 1 }, 'Replace', { etag: etags.at(-1) })),
      ).toMatchObject({ statusCode: 404 });
      await client.deleteEntity('p', 'r', { etag: current.etag });
      expect(await failure(client.getEntity('p', 'r'))).toMatchObject({ statusCode: 404 });
    });

    it('merge into what is stored, or replace it; an upsert creates; a null stores nothing', async () => {
      const client = await freshTable();
      await client.upsertEntity({ partitionKey: 'p', rowKey: 'r', a: 'a', b: 'b' }, 'Merge');
      await client.upsertEntity({ partitionKey: 'p', rowKey: 'r', a: 'A', c: null } as never, 'Merge');
      const merged = await client.getEntity<Record<string, unknown>>('p', 'r');
      expect(merged).toMatchObject({ a: 'A', b: 'b' });
      expect('c' in merged).toBe(false);
      await client.upsertEntity({ partitionKey: 'p', rowKey: 'r', z: 'only' }, 'Replace');
      const replaced = await client.getEntity<Record<string, unknown>>('p', 'r');
      expect(replaced).toMatchObject({ z: 'only' });
      expect(['a', 'b'].filter((name) => name in replaced)).toEqual([]);
    });

    it('keep every type the adapters write as it was written', async () => {
      const client = await freshTable();
      const entity = {
        partitionKey: 'p',
        rowKey: "it's",
        text: 'x',
        empty: '',
        count: 5,
        large: 2 ** 40,
        ratio: 1.5,
        yes: true,
        bytes: new Uint8Array([1, 2, 3]),
        when: new Date('2025-01-01T00:00:00.000Z'),
      };
      await client.createEntity(entity);
      const read = await client.getEntity<Record<string, unknown>>('p', "it's");
      const { bytes, ...rest } = entity;
      expect(read).toMatchObject(rest);
      expect(read['bytes']).toBeInstanceOf(Uint8Array);
      expect([...(read['bytes'] as Uint8Array)]).toEqual([...bytes]);
      expect(read['timestamp']).toEqual(expect.any(String));
    });

    it('are refused when too large: a string over 32 K characters, a binary value over 64 KiB, an entity over 1 MiB', async () => {
      const client = await freshTable();
      await client.upsertEntity({ partitionKey: 'p', rowKey: 's', text: 'x'.repeat(32 * 1024) }, 'Replace');
      await client.upsertEntity({ partitionKey: 'p', rowKey: 'b', bytes: new Uint8Array(64 * 1024) }, 'Replace');
      expect(
        await failure(client.upsertEntity({ partitionKey: 'p', rowKey: 's', text: 'x'.repeat(32 * 1024 + 1) }, 'Replace')),
      ).toMatchObject({
        statusCode: 400,
        code: 'PropertyValueTooLarge',
      });
      expect(await failure(client.createEntity({ partitionKey: 'p', rowKey: 'b2', bytes: new Uint8Array(64 * 1024 + 1) }))).toMatchObject({
        statusCode: 400,
        code: 'PropertyValueTooLarge',
      });
      const huge = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`part${i}`, new Uint8Array(60 * 1024)]));
      expect(await failure(client.upsertEntity({ partitionKey: 'p', rowKey: 'e', ...huge }, 'Replace'))).toMatchObject({
        statusCode: 400,
        code: 'EntityTooLarge',
      });
      // What was stored before a refused write stays.
      expect((await client.getEntity<{ text: string }>('p', 's')).text.length).toBe(32 * 1024);
      expect(await failure(client.getEntity('p', 'e'))).toMatchObject({ statusCode: 404 });
    });

    it('have keys without / \\ # ? or control characters, of at most 1 KiB', async () => {
      const client = await freshTable();
      for (const rowKey of ['a#b', 'a/b', 'a?b', 'tab\there', 'k'.repeat(513)]) {
        expect(await failure(client.createEntity({ partitionKey: 'p', rowKey })), rowKey.slice(0, 10)).toMatchObject({ statusCode: 400 });
      }
      await client.createEntity({ partitionKey: 'p', rowKey: 'k'.repeat(512) });
      expect(await keys(client)).toEqual([`p/${'k'.repeat(512)}`]);
    });

    it('live in a table that exists: 404 TableNotFound otherwise', async () => {
      const missing = await freshTable();
      await missing.deleteTable();
      expect(await failure(missing.getEntity('p', 'r'))).toMatchObject({ statusCode: 404, code: 'TableNotFound' });
      expect(await failure(missing.createEntity({ partitionKey: 'p', rowKey: 'r' }))).toMatchObject({
        statusCode: 404,
        code: 'TableNotFound',
      });
      expect(await failure(missing.submitTransaction([['create', { partitionKey: 'p', rowKey: 'r' }]]))).toMatchObject({
        statusCode: 404,
        code: 'TableNotFound',
        message: '0:The table specified does not exist.',
      });
    });
  });

  describe('entity group transactions', () => {
    it('apply every operation, each with its ETag, or none: the failing one is named by its index', async () => {
      const client = await freshTable();
      const done = await client.submitTransaction([
        ['create', { partitionKey: 'q', rowKey: 'a', n: 1 }],
        ['upsert', { partitionKey: 'q', rowKey: 'b', n: 2 }, 'Replace'],
        ['upsert', { partitionKey: 'q', rowKey: 'c', n: 3 }, 'Merge'],
      ]);
      expect(done.status).toBe(202);
      expect(done.subResponses.map((response) => [response.status, typeof response.etag])).toEqual([
        [204, 'string'],
        [204, 'string'],
        [204, 'string'],
      ]);
      expect(done.subResponses[1]?.etag).toBe((await client.getEntity('q', 'b')).etag);

      // The second operation creates what exists: nothing of the transaction is written.
      expect(
        await failure(
          client.submitTransaction([
            ['create', { partitionKey: 'q', rowKey: 'x', n: 1 }],
            ['create', { partitionKey: 'q', rowKey: 'a', n: 2 }],
            ['delete', { partitionKey: 'q', rowKey: 'c' }],
          ]),
        ),
      ).toEqual({ statusCode: 409, code: 'EntityAlreadyExists', message: '1:The specified entity already exists.' });
      expect(await keys(client)).toEqual(['q/a', 'q/b', 'q/c']);

      // A stale ETag on the third.
      const stale = await failure(
        client.submitTransaction([
          ['delete', { partitionKey: 'q', rowKey: 'a' }],
          ['update', { partitionKey: 'q', rowKey: 'b', n: 5 }, 'Merge'],
          ['update', { partitionKey: 'q', rowKey: 'c', n: 6 }, 'Replace', { etag: STALE_ETAG }],
        ]),
      );
      expect(stale).toMatchObject({ statusCode: 412, code: 'UpdateConditionNotSatisfied', message: expect.stringMatching(/^2:/) });
      expect(await failure(client.submitTransaction([['delete', { partitionKey: 'q', rowKey: 'missing' }]]))).toMatchObject({
        statusCode: 404,
        code: 'ResourceNotFound',
        message: expect.stringMatching(/^0:/),
      });
      expect((await client.getEntity<{ n: number }>('q', 'b')).n).toBe(2);
      expect(await keys(client)).toEqual(['q/a', 'q/b', 'q/c']);
    });

    it('hold at most 100 operations and each entity once', async () => {
      const client = await freshTable();
      expect(await failure(client.submitTransaction(creates('m', 101)))).toMatchObject({
        statusCode: 400,
        code: 'InvalidInput',
        message: '0:The batch request operation exceeds the maximum 100 changes per change set.',
      });
      expect(await keys(client)).toEqual([]);
      expect((await client.submitTransaction(creates('m', 100))).subResponses).toHaveLength(100);
      expect(
        await failure(
          client.submitTransaction([
            ['create', { partitionKey: 'd', rowKey: 'a' }],
            ['upsert', { partitionKey: 'd', rowKey: 'a' }],
          ]),
        ),
      ).toMatchObject({
        statusCode: 400,
        code: 'InvalidDuplicateRow',
        message: expect.stringMatching(/^1:A command with RowKey 'a' is already present in the batch/),
      });
    });

    it('refuse content the service refuses (400, naming the operation) and a body over 4 MiB (413)', async () => {
      const client = await freshTable();
      expect(
        await failure(
          client.submitTransaction([
            ['create', { partitionKey: 'big', rowKey: 'a' }],
            ['upsert', { partitionKey: 'big', rowKey: 't', text: 'x'.repeat(40_000) }, 'Replace'],
          ]),
        ),
      ).toMatchObject({
        statusCode: 400,
        code: 'PropertyValueTooLarge',
        message: expect.stringMatching(/^1:The property value exceeds the maximum allowed size/),
      });
      const huge = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`part${i}`, new Uint8Array(60 * 1024)]));
      expect(await failure(client.submitTransaction([['upsert', { partitionKey: 'big', rowKey: 'e', ...huge }, 'Replace']]))).toMatchObject(
        {
          statusCode: 400,
          code: 'EntityTooLarge',
          message: '0:The entity is larger than the maximum allowed size (1MB).',
        },
      );
      const body = (i: number): TransactionAction => [
        'upsert',
        { partitionKey: 'huge', rowKey: `r${i}`, a: 'x'.repeat(30_000), b: 'y'.repeat(30_000) },
        'Replace',
      ];
      expect(await failure(client.submitTransaction(Array.from({ length: 90 }, (_, i) => body(i))))).toMatchObject({
        statusCode: 413,
        code: 'RequestBodyTooLarge',
      });
      expect(await keys(client)).toEqual([]);
    });
  });

  describe('queries', () => {
    async function seeded(): Promise<TableClient> {
      const client = await freshTable();
      await client.submitTransaction([
        ['create', { partitionKey: 'a', rowKey: 'state:1', status: 'gone', since: '2024-01-01T00:00:00.000Z', n: 1, on: true }],
        ['create', { partitionKey: 'a', rowKey: 'state:2', status: 'compliant', since: '2025-01-01T00:00:00.000Z', n: 2, on: false }],
        ['create', { partitionKey: 'a', rowKey: 'history:1:x', at: '2024-02-01T00:00:00.000Z' }],
        ['create', { partitionKey: 'a', rowKey: "it's", status: 'error', when: new Date('2025-06-01T00:00:00.000Z') }],
      ]);
      await client.createEntity({ partitionKey: 'b', rowKey: 'state:3', status: 'gone', since: '2023-01-01T00:00:00.000Z', n: 3 });
      await client.createEntity({ partitionKey: '0', rowKey: 'z', status: 'gone' });
      return client;
    }

    it('return entities ordered by partition and row key, in the grammar the adapters send', async () => {
      const client = await seeded();
      expect(await keys(client)).toEqual(['0/z', 'a/history:1:x', "a/it's", 'a/state:1', 'a/state:2', 'b/state:3']);
      expect(await keys(client, odata`PartitionKey eq ${'a'} and RowKey ge ${'state:'} and RowKey lt ${'state;'}`)).toEqual([
        'a/state:1',
        'a/state:2',
      ]);
      expect(await keys(client, odata`PartitionKey eq ${'a'} and (status eq ${'gone'} or status eq ${'error'})`)).toEqual([
        "a/it's",
        'a/state:1',
      ]);
      expect(await keys(client, odata`status eq ${'gone'} and since lt ${'2024-06-01T00:00:00.000Z'}`)).toEqual(['a/state:1', 'b/state:3']);
      expect(await keys(client, odata`RowKey eq ${"it's"}`)).toEqual(["a/it's"]);
      expect(await keys(client, 'n gt 1 and n le 3')).toEqual(['a/state:2', 'b/state:3']);
      expect(await keys(client, 'on eq true')).toEqual(['a/state:1']);
      expect(await keys(client, odata`when ge ${new Date('2025-01-01T00:00:00.000Z')}`)).toEqual(["a/it's"]);
      expect(await keys(client, odata`PartitionKey gt ${'0'} and PartitionKey lt ${'b'} and RowKey ge ${'state:2'}`)).toEqual([
        'a/state:2',
      ]);
    });

    it('leave out an entity that lacks the property or holds another type, even for ne', async () => {
      const client = await seeded();
      expect(await keys(client, odata`PartitionKey eq ${'a'} and status ne ${'gone'}`)).toEqual(["a/it's", 'a/state:2']);
      expect(await keys(client, 'status eq 5')).toEqual([]);
      expect(await keys(client, odata`n eq ${'1'}`)).toEqual([]);
    });

    it('return only the selected properties, and the ETag', async () => {
      const client = await seeded();
      const rows: Array<Record<string, unknown>> = [];
      for await (const row of client.listEntities<Record<string, unknown>>({
        queryOptions: { filter: odata`PartitionKey eq ${'a'}`, select: ['RowKey', 'since'] },
      }))
        rows.push(row);
      expect(rows.map((row) => Object.keys(row).sort())).toEqual([
        ['etag', 'rowKey'],
        ['etag', 'rowKey'],
        ['etag', 'rowKey', 'since'],
        ['etag', 'rowKey', 'since'],
      ]);
      expect(rows[2]).toMatchObject({ rowKey: 'state:1', since: '2024-01-01T00:00:00.000Z', etag: expect.stringMatching(/^W\//) });
    });

    it('come in pages of at most 1,000 (fewer when asked), continued where they stopped', async () => {
      const client = await freshTable();
      for (let from = 0; from < 1_050; from += 100) await client.submitTransaction(creates('p', Math.min(100, 1_050 - from), from));
      const sizes: number[] = [];
      for await (const page of client
        .listEntities({ queryOptions: { filter: odata`PartitionKey eq ${'p'}`, select: ['RowKey'] } })
        .byPage())
        sizes.push(page.length);
      expect(sizes).toEqual([1_000, 50]);
      const small: string[][] = [];
      for await (const page of client
        .listEntities({ queryOptions: { filter: odata`RowKey lt ${'k0005'}`, select: ['RowKey'] } })
        .byPage({ maxPageSize: 2 })) {
        small.push(page.map((row) => row.rowKey!));
      }
      expect(small).toEqual([['k0000', 'k0001'], ['k0002', 'k0003'], ['k0004']]);
      expect(await keys(client)).toHaveLength(1_050);
    });
  });

  describe('tables', () => {
    it('are created once under their name and listed', async () => {
      const prefix = uniquePrefix();
      const connection = backend.connect({ tablePrefix: prefix });
      await connection.table('one');
      await connection.table('two');
      await (await connection.table('one')).createTable();
      expect((await backend.tableNames()).filter((name) => name.startsWith(prefix)).sort()).toEqual([`${prefix}one`, `${prefix}two`]);
    });
  });
}
