/**
 * AppDependencies for handler tests: the real adapters against the local Azure test server (with
 * its ACS Email service mounted) and Azurite, a controllable clock, and a log that keeps every
 * structured line so tests can read what the app said.
 */
// The package is CommonJS: Node's ES module loader (tsx, for the benchmarks) finds its classes on
// the default export only.
import azureFunctions, { type InvocationContext } from '@azure/functions';
import { createAzureAdapters } from '../../src/compose/azure.js';
import { openStateStore } from '../../src/adapters/table-storage/index.js';
import { DEFAULT_RETENTION } from '../../src/adapters/table-storage/retention.js';
import { openScanReportStore } from '../../src/adapters/table-storage/scan-reports.js';
import { readAlertingSettings } from '../../src/compose/alerting-settings.js';
import { DEFAULT_POLICY } from '../../src/core/policy.js';
import { alertDelivery } from '../../src/compose/alert-delivery.js';
import type { AppSettings, ComposedAppDependencies } from '../../src/compose/app.js';
import type { ScanLease } from '../../src/scan/ports.js';
import { startLocalAzure, type LocalAzure, type SimulatedTenant } from '../azure-server/index.js';
import { createCommunicationEmailService, type CommunicationEmailService } from '../azure-server/services/communication-email.js';
import { useManagedIdentityEnv } from '../azure-server/sdk-clients.js';
import { startAzurite } from './azurite.js';
import { FAST_RETRY } from './fixtures.js';

export interface LoggedLine {
  event: string;
  invocationId: string;
  [field: string]: unknown;
}

export interface TestAppOptions {
  azure: LocalAzure;
  mail: CommunicationEmailService;
  /** Azurite's connection string. */
  storage: string;
  /** A table prefix of the test's own, so test files never see each other's rows. */
  tablePrefix: string;
  clock?: () => Date;
  /** The scan lease; tests of the lease-free handlers may leave it out. */
  lease?: ScanLease;
  env?: Record<string, string>;
}

export const TEST_SENDER = 'DoNotReply@contact-watch.test';
export const TEST_RECIPIENTS = ['secops@fabrikam.io'];

export function testAppDependencies(options: TestAppOptions): ComposedAppDependencies & { lines: LoggedLine[] } {
  const env = {
    ...options.azure.env(),
    CONTACT_WATCH_STORAGE: options.storage,
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
  const azure = createAzureAdapters(env, { retry: FAST_RETRY });
  const clock = options.clock ?? (() => new Date());
  const store = openStateStore(options.storage, { tablePrefix: options.tablePrefix, clock, credential: azure.credential });
  const settings: AppSettings = {
    cloud: azure.cloud,
    storage: { settingName: 'CONTACT_WATCH_STORAGE', value: options.storage },
    policy: DEFAULT_POLICY,
    alerting: readAlertingSettings(env),
    scanSchedule: '0 */30 * * * *',
    retention: DEFAULT_RETENTION,
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
    azure,
    store,
    lease: options.lease ?? noLease,
    scanReports: openScanReportStore(store.connection),
    alerts: alertDelivery({ settings: settings.alerting, store, portalUrl: settings.cloud.portalUrl, credential: azure.credential, clock }),
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
  azurite: Awaited<ReturnType<typeof startAzurite>>;
  deps: ReturnType<typeof testAppDependencies>;
  close(): Promise<void>;
}

export async function startAppTestBed(
  tenant: SimulatedTenant,
  options: Omit<TestAppOptions, 'azure' | 'mail' | 'storage'>,
): Promise<AppTestBed> {
  // retryAfterSeconds 0: the SDK's poll of a send does not wait the service's suggested seconds.
  const mail = createCommunicationEmailService({
    accessKey: Buffer.from('local-test-access-key').toString('base64'),
    retryAfterSeconds: 0,
  });
  const [azure, azurite] = await Promise.all([startLocalAzure({ tenant, services: [mail] }), startAzurite()]);
  const deps = testAppDependencies({ ...options, azure, mail, storage: azurite.connectionString });
  return { azure, mail, azurite, deps, close: async () => void (await Promise.all([azure.close(), azurite.stop()])) };
}

/** A fresh InvocationContext of `functionName` per call, with ids `<prefix>-invocation-1`, `-2`, … */
export function invocationContexts(functionName: string, prefix: string): () => InvocationContext {
  let count = 0;
  return () => {
    count += 1;
    return new azureFunctions.InvocationContext({ invocationId: `${prefix}-invocation-${count}`, functionName });
  };
}
