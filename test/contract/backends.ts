/**
 * The table services a contract suite runs against: Azurite (a server in a child process, one per
 * test file) or the in-memory service (src/adapters/in-memory, one per test file). A suite is
 * written once against TableBackend and registered once per backend.
 */
import { TableServiceClient } from '@azure/data-tables';
import { afterAll, beforeAll } from 'vitest';
import { connectTables, type TableConnection } from '../../src/adapters/table-storage/connection.js';
import { openStateStore, type TableStateStore, type StateStoreOptions } from '../../src/adapters/table-storage/index.js';
import {
  connectInMemoryTables,
  InMemoryTableService,
  inMemoryStorageTarget,
  openInMemoryStateStore,
} from '../../src/adapters/in-memory/tables.js';
import { startAzurite, type AzuriteTables } from '../support/azurite.js';

/** What a test may set on a connection or store; the backend supplies where the account is. */
export type ConnectionOptions = Omit<StateStoreOptions, 'credential' | 'httpClient' | 'settingName'>;

export interface TableBackend {
  readonly name: string;
  /** openStateStore on this backend's account. */
  openStateStore(options?: ConnectionOptions): TableStateStore;
  /** connectTables on this backend's account. */
  connect(options?: ConnectionOptions): TableConnection;
  /** The names of every table of the account, as the service lists them. */
  tableNames(): Promise<string[]>;
}

/** Azurite, started before the file's tests and stopped after them. */
export function azuriteTables(): TableBackend & { azurite(): AzuriteTables } {
  let azurite: AzuriteTables | undefined;
  beforeAll(async () => {
    azurite = await startAzurite();
  });
  afterAll(async () => {
    await azurite?.stop();
  });
  const started = (): AzuriteTables => {
    if (!azurite) throw new Error('Azurite is used before it was started (outside a test or hook)');
    return azurite;
  };
  const connectionString = (): string => started().connectionString;
  return {
    name: 'Azurite',
    azurite: started,
    openStateStore: (options = {}) => openStateStore(connectionString(), options),
    connect: (options = {}) => connectTables(connectionString(), options),
    tableNames: () => listTables(TableServiceClient.fromConnectionString(connectionString(), { allowInsecureConnection: true })),
  };
}

/** The in-memory table service, one for the file's tests (as one Azurite is). */
export function inMemoryTables(): TableBackend {
  const service = new InMemoryTableService();
  return {
    name: 'in-memory',
    openStateStore: (options = {}) => openInMemoryStateStore(service, options),
    connect: (options = {}) => connectInMemoryTables(service, options),
    tableNames: () =>
      listTables(TableServiceClient.fromConnectionString(inMemoryStorageTarget(service).connectionString, { httpClient: service })),
  };
}

async function listTables(service: TableServiceClient): Promise<string[]> {
  const names: string[] = [];
  for await (const table of service.listTables()) if (table.name) names.push(table.name);
  return names;
}
