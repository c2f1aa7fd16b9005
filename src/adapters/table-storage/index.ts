/** Table Storage: contact-watch's record. The tables and this API are described in README.md here. */
export {
  openStateStore,
  StateWriteError,
  WriteConflictError,
  MAX_TRANSACTION_OPERATIONS,
  type StateStore,
  type StateStoreOptions,
  type StateStoreStats,
  type RunInit,
  type RunHandle,
  type RunResult,
  type RecordedRun,
  type RecordedEvaluation,
  type StoredScanRun,
} from './state-store.js';
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
