/**
 * What test/support/azurite.ts promises the test files that share a worker's Azurite: each one
 * gets it as empty as a fresh one, and a start while it is lent out gets an Azurite of its own.
 */
import { TableClient, TableServiceClient } from '@azure/data-tables';
import { afterEach, describe, expect, it } from 'vitest';
import { startAzurite, type AzuriteTables } from './azurite.js';

const started: AzuriteTables[] = [];
async function start(): Promise<AzuriteTables> {
  const azurite = await startAzurite();
  started.push(azurite);
  return azurite;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((azurite) => azurite.stop()));
});

async function tableNames(azurite: AzuriteTables): Promise<string[]> {
  // No retries: an ended Azurite is refused at once instead of after the SDK's back-off.
  const service = TableServiceClient.fromConnectionString(azurite.connectionString, {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
  });
  const names: string[] = [];
  for await (const table of service.listTables()) names.push(table.name!);
  return names;
}

function table(azurite: AzuriteTables, name: string): TableClient {
  return TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true });
}

describe('the Azurite a worker lends', () => {
  it('comes back empty to the next borrower, which can create the same tables again', async () => {
    const first = await start();
    await table(first, 'contactwatchstate').createTable();
    await table(first, 'contactwatchstate').createEntity({ partitionKey: 'p', rowKey: 'r', value: 1 });
    await first.stop();

    const second = await start();
    expect(second.port).toBe(first.port); // the same process, lent again
    expect(await tableNames(second)).toEqual([]);
    await table(second, 'contactwatchstate').createTable();
    const rows: unknown[] = [];
    for await (const row of table(second, 'contactwatchstate').listEntities()) rows.push(row);
    expect(rows).toEqual([]);
  });

  it('is not lent twice at once: a second start gets an Azurite of its own, which stop() ends', async () => {
    const lent = await start();
    const own = await start();
    expect(own.port).not.toBe(lent.port);
    await table(own, 'ownonly').createTable();
    expect(await tableNames(lent)).toEqual([]);

    await own.stop();
    await expect(tableNames(own)).rejects.toThrow();
    expect(await tableNames(lent)).toEqual([]);
  });
});
