/**
 * Table Storage: contact-watch's record, the adapter of the StateStore port (src/scan/ports.ts).
 * The tables and this API are described in README.md here.
 */
export { openStateStore, type StateStoreOptions, type TableStateStore } from './state-store.js';
export { MAX_TRANSACTION_OPERATIONS } from './subscription-writer.js';
export {
  connectTables,
  parseStorageSetting,
  DEFAULT_TABLE_PREFIX,
  DEVELOPMENT_TABLE_ENDPOINT,
  type TableConnection,
  type TableConnectionOptions,
  type TableStorageTarget,
} from './connection.js';
export { TABLE_SUFFIXES, LEASE_PARTITION, CorruptEntityError } from './entities.js';
