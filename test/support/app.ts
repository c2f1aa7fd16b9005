/**
 * AppDependencies for handler tests: the real adapters against the local Azure test server (with
 * its ACS Email service mounted) and Table Storage (in memory, or Azurite), a controllable clock, and a log that keeps every
 * structured line so tests can read what the app said.
 */
// The package is CommonJS: Node's ES module loader (tsx, for the benchmarks) finds its classes on
// the default export only.
import azureFunctions, { type InvocationContext } from '@azure/functions';
import { createAzureAdapters } from '../../src/compose/azure.js';
import type { AdditionalPolicyConfig } from '@azure/core-client';
import type { PipelineRetryOptions } from '@azure/core-rest-pipeline';
import { InMemoryTableService, inMemoryStorageTarget, openInMemoryStateStore } from '../../src/adapters/in-memory/tables.js';
import { openStateStore, type StateStoreOptions, type TableStateStore } from '../../src/adapters/table-storage/index.js';
import { readRetentionSettings } from '../../src/adapters/table-storage/retention.js';
import { openScanReportStore } from '../../src/adapters/table-storage/scan-reports.js';
import { openRepairClaims } from '../../src/adapters/table-storage/repair-claims.js';
import { readAlertingSettings } from '../../src/compose/alerting-settings.js';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import type { Policy } from '../../src/core/model.js';
import { alertDelivery, type AlertingOptions } from '../../src/compose/alert-delivery.js';
import type { AppSettings, ComposedAppDependencies } from '../../src/compose/app.js';
import type { ScanLease } from '../../src/scan/ports.js';
import { startLocalAzure, type LocalAzure, type SimulatedTenant } from '../azure-server/index.js';
import { createCommunicationEmailService, type CommunicationEmailService } from '../azure-server/services/communication-email.js';
import { useManagedIdentityEnv } from '../azure-server/sdk-clients.js';
import { startAzurite, type AzuriteTables } from './azurite.js';
import { FAST_RETRY } from './fixtures.js';

export interface LoggedLine {
  event: string;
  invocationId: string;
  [field: string]: unknown;
}

/**
 * Where a handler test's tables live: the in-memory table service (the default: the Table adapters
 * over it behave as over Table Storage, test/contract proves it), or Azurite for the end-to-end files.
 */
export interface TestTables {
  readonly kind: 'in-memory' | 'azurite';
  /** A connection string naming these tables (the app settings' CONTACT_WATCH_STORAGE). */
  readonly connectionString: string;
  /** The in-memory table service behind an in-memory TestTables (to reach its rows directly). */
  readonly service?: InMemoryTableService;
  openStore(options: Omit<StateStoreOptions, 'credential' | 'httpClient' | 'settingName'>): TableStateStore;
  stop(): Promise<void>;
}

export function inMemoryTestTables(): TestTables {
  const service = new InMemoryTableService();
  return {
    kind: 'in-memory',
    connectionString: inMemoryStorageTarget(service).connectionString,
    service,
    openStore: (options) => openInMemoryStateStore(service, options),
    stop: async () => undefined,
  };
}

export function azuriteTestTables(azurite: AzuriteTables): TestTables {
  return {
    kind: 'azurite',
    connectionString: azurite.connectionString,
    openStore: (options) => openStateStore(azurite.connectionString, options),
    stop: () => azurite.stop(),
  };
}

export interface TestAppOptions {
  azure: LocalAzure;
  mail: CommunicationEmailService;
  tables: TestTables;
  /** Pipeline policies of the store's (and so the outbox's) requests, e.g. to count them. */
  storePolicies?: AdditionalPolicyConfig[];
  /** The Table clients' retries (default the SDK's: 3 from a 1 s delay). */
  storeRetry?: PipelineRetryOptions;
  /** Pipeline policies of every ARM client (Resource Graph, securityContacts, subscriptions). */
  armPolicies?: AdditionalPolicyConfig[];
  /** Per-request time limit of the ARM clients (default the app's). */
  armRequestTimeoutMs?: number;
  /** The alert sender's options (its client's policies, retries, poll interval). */
  sender?: AlertingOptions['sender'];
  /** The Teams and webhook transports' options (retries, timeout). */
  http?: AlertingOptions['http'];
  /** A table prefix of the test's own, so test files never see each other's rows. */
  tablePrefix: string;
  clock?: () => Date;
  /** The scan lease; tests of the lease-free handlers may leave it out. */
  lease?: ScanLease;
  /** The policy (default: the default policy). */
  policy?: Policy;
  /** CONTACT_WATCH_REMEDIATION on (default off). */
  remediation?: boolean;
  env?: Record<string, string>;
}

export const TEST_SENDER = 'DoNotReply@contact-watch.test';
export const TEST_RECIPIENTS = ['secops@fabrikam.io'];

export function testAppDependencies(options: TestAppOptions): ComposedAppDependencies & { lines: LoggedLine[] } {
  const env = {
    ...options.azure.env(),
    CONTACT_WATCH_STORAGE: options.tables.connectionString,
    CONTACT_WATCH_ACS_CONNECTION_STRING: options.mail.connectionString(options.azure.url),
    CONTACT_WATCH_EMAIL_SENDER: TEST_SENDER,
    CONTACT_WATCH_ALERT_RECIPIENTS: TEST_RECIPIENTS.join(';'),
    CONTACT_WATCH_EMAIL_RATE_PER_MINUTE: '1000',
    CONTACT_WATCH_EMAIL_RATE_PER_HOUR: '10000',
    ...options.env,
  };
  // DefaultAzureCredential reads the managed-identity variables from process.env itself. Only
  // those: they are the same for every server of this process (identity-plane.ts), so leaving
  // them set affects no later test file, where the server's endpoint would.
  useManagedIdentityEnv(options.azure);
  const azure = createAzureAdapters(env, {
    retry: FAST_RETRY,
    ...(options.armPolicies ? { additionalPolicies: options.armPolicies } : {}),
    ...(options.armRequestTimeoutMs !== undefined ? { requestTimeoutMs: options.armRequestTimeoutMs } : {}),
  });
  const clock = options.clock ?? (() => new Date());
  const retention = readRetentionSettings(env);
  const store = options.tables.openStore({
    tablePrefix: options.tablePrefix,
    clock,
    retention,
    additionalPolicies: options.storePolicies ?? [],
    ...(options.storeRetry && { retryOptions: options.storeRetry }),
  });
  const settings: AppSettings = {
    cloud: azure.cloud,
    storage: { settingName: 'CONTACT_WATCH_STORAGE', value: options.tables.connectionString },
    policy: options.policy ?? DEFAULT_POLICY,
    remediation: { enabled: options.remediation === true },
    alerting: readAlertingSettings(env),
    scanSchedule: '0 */30 * * * *',
    watch: { enabled: true, schedule: '0 */5 * * * *', timerSchedule: '%CONTACT_WATCH_WATCH_SCHEDULE%' },
    retention,
  };
  const lines: LoggedLine[] = [];
  const noLease: ScanLease = {
    tryAcquire: async () => {
      throw new Error('this test gave the app no scan lease');
    },
    renew: async () => false,
    release: async () => undefined,
  };
  return {
    settings,
    azure: { ...azure, writer: azure.contacts },
    store,
    lease: options.lease ?? noLease,
    repairClaims: openRepairClaims(store.connection, { clock }),
    scanReports: openScanReportStore(store.connection),
    alerts: alertDelivery({
      settings: settings.alerting,
      store,
      portalUrl: settings.cloud.portalUrl,
      credential: azure.credential,
      clock,
      runner: 'app',
      ...(options.sender ? { sender: options.sender } : {}),
      ...(options.http ? { http: options.http } : {}),
    }),
    clock,
    lines,
    log: (context: InvocationContext, event: string, fields: Record<string, unknown> = {}) => {
      lines.push({ event, invocationId: context.invocationId, ...fields });
    },
  };
}

/** What a handler test file stands up once: the local Azure server with ACS Email, Azurite, and the app's dependencies. */
export interface AppTestBed {
  azure: LocalAzure;
  mail: CommunicationEmailService;
  tables: TestTables;
  deps: ReturnType<typeof testAppDependencies>;
  close(): Promise<void>;
}

export async function startAppTestBed(
  tenant: SimulatedTenant,
  options: Omit<TestAppOptions, 'azure' | 'mail' | 'tables'> & { tables?: TestTables['kind'] },
): Promise<AppTestBed> {
  // retryAfterSeconds 0: the SDK's poll of a send does not wait the service's suggested seconds.
  const mail = createCommunicationEmailService({
    accessKey: Buffer.from('local-test-access-key').toString('base64'),
    retryAfterSeconds: 0,
  });
  const { tables: kind = 'in-memory', ...rest } = options;
  const [azure, tables] = await Promise.all([
    startLocalAzure({ tenant, services: [mail] }),
    kind === 'azurite' ? startAzurite().then(azuriteTestTables) : inMemoryTestTables(),
  ]);
  const deps = testAppDependencies({ ...rest, azure, mail, tables });
  return { azure, mail, tables, deps, close: async () => void (await Promise.all([azure.close(), tables.stop()])) };
}

/** A fresh InvocationContext of `functionName` per call, with ids `<prefix>-invocation-1`, `-2`, … */
export function invocationContexts(functionName: string, prefix: string): () => InvocationContext {
  let count = 0;
  return () => {
    count += 1;
    return new azureFunctions.InvocationContext({ invocationId: `${prefix}-invocation-${count}`, functionName });
  };
}
