/**
 * The Table Storage adapters over the in-memory table service: the same connection, state store,
 * outbox, scan lease and scan reports as over Azure, with the service in this process. A test (or
 * a local run) creates one service and opens as many connections and stores on it as it likes;
 * they see each other's rows as they would in one storage account:
 *
 *     const service = new InMemoryTableService();
 *     const store = openInMemoryStateStore(service, { tablePrefix: 'contactwatch' });
 *     const tables = connectInMemoryTables(service, { tablePrefix: 'contactwatch' });
 *     const outbox = await TableOutbox.connect(tables);
 *     const lease = openScanLease(tables);
 *     const reports = openScanReportStore(tables);
 */
import { connectTables, type TableConnection, type TableConnectionOptions, type TableStorageTarget } from '../table-storage/connection.js';
import { openStateStore, type TableStateStore, type StateStoreOptions } from '../table-storage/index.js';
import { InMemoryTableService } from './table-service.js';

export { InMemoryTableService, type InMemoryTableServiceOptions } from './table-service.js';

/**
 * The service's account as a storage target. The key only satisfies the SDK, which signs every
 * request with it; the in-memory service serves any caller in this process and checks no signature.
 */
export function inMemoryStorageTarget(service: InMemoryTableService): Extract<TableStorageTarget, { kind: 'connection-string' }> {
  const accountKey = Buffer.from(`in-memory table service ${service.accountName}`).toString('base64');
  const { accountName, tableEndpoint } = service;
  return {
    kind: 'connection-string',
    connectionString: `DefaultEndpointsProtocol=https;AccountName=${accountName};AccountKey=${accountKey};TableEndpoint=${tableEndpoint};`,
    tableEndpoint: service.tableEndpoint,
    allowInsecureConnection: false,
  };
}

export type InMemoryConnectionOptions = Omit<TableConnectionOptions, 'credential' | 'httpClient' | 'settingName'>;

/** The tables of the service under a prefix (connectTables over the in-memory service). */
export function connectInMemoryTables(service: InMemoryTableService, options: InMemoryConnectionOptions = {}): TableConnection {
  return connectTables(inMemoryStorageTarget(service), { ...options, httpClient: service });
}

/** The state store over the in-memory service (openStateStore over it). */
export function openInMemoryStateStore(
  service: InMemoryTableService,
  options: Omit<StateStoreOptions, 'credential' | 'httpClient' | 'settingName'> = {},
): TableStateStore {
  return openStateStore(inMemoryStorageTarget(service), { ...options, httpClient: service });
}
