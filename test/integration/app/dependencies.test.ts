/**
 * The app's composition root on real parts: settings as the Functions host would pass them,
 * Azurite for Table Storage, the local Azure test server (ARM, managed identity, ACS Email); and
 * the entry point's one instance per process.
 */
import { randomBytes } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAzure, type LocalAzure } from '../../azure-server/index.js';
import { createCommunicationEmailService, type CommunicationEmailService } from '../../azure-server/services/communication-email.js';
import { startAzurite, type AzuriteTables } from '../../support/azurite.js';
import { deliverOwedAlerts } from '../../../src/app/deliver-owed-alerts.js';
import { readAppSettings } from '../../../src/compose/app-settings.js';
import { createAppDependencies } from '../../../src/compose/app.js';
import { appDependencies, forgetAppForTests, startApp } from '../../../src/functions/app-instance.js';

let azurite: AzuriteTables;
let azure: LocalAzure;
let mail: CommunicationEmailService;
const accessKey = randomBytes(32).toString('base64');
let env: Record<string, string>;
const originalEnv = { ...process.env };

beforeAll(async () => {
  mail = createCommunicationEmailService({ accessKey });
  [azurite, azure] = await Promise.all([startAzurite(), startLocalAzure({ services: [mail] })]);
  azure.tenant.addSubscription({ displayName: 'Fabrikam Production' });
  env = {
    ...azure.env(),
    FUNCTIONS_WORKER_RUNTIME: 'node',
    AzureWebJobsStorage: azurite.connectionString,
    CONTACT_WATCH_SCAN_SCHEDULE: '0 */30 * * * *',
    CONTACT_WATCH_ACS_CONNECTION_STRING: mail.connectionString(azure.url),
    CONTACT_WATCH_EMAIL_SENDER: 'DoNotReply@contact-watch.test',
    CONTACT_WATCH_ALERT_RECIPIENTS: 'secops@fabrikam.io',
  };
  // DefaultAzureCredential reads the managed-identity variables from process.env itself.
  Object.assign(process.env, azure.env());
});
afterEach(() => {
  forgetAppForTests();
  for (const name of Object.keys(process.env)) if (!(name in originalEnv)) delete process.env[name];
  Object.assign(process.env, originalEnv, azure.env());
});
afterAll(async () => {
  await Promise.all([azurite?.stop(), azure?.close()]);
});

function context(functionName = 'scans'): InvocationContext & { lines: string[] } {
  const lines: string[] = [];
  const created = new InvocationContext({
    invocationId: 'dependencies-test',
    functionName,
    logHandler: (_level, ...args) => lines.push(args.map(String).join(' ')),
  });
  return Object.assign(created, { lines });
}

describe('createAppDependencies', () => {
  it('builds a store, a lease, the Azure adapters and a logger that all answer', async () => {
    const deps = createAppDependencies(readAppSettings(env));
    expect(deps.settings.storage.settingName).toBe('AzureWebJobsStorage');
    expect(deps.azure.cloud.resourceManagerEndpoint).toBe(azure.url);
    // One cloud: the ARM adapters use the cloud the settings read, the one portal links are built from.
    expect(deps.azure.cloud).toBe(deps.settings.cloud);

    // The state store in Azurite.
    expect(await deps.store.listScanRuns()).toEqual([]);
    expect(deps.store.connection.tableEndpoint).toBe(azurite.tableEndpoint);

    // The scan lease on the same tables: one holder at a time.
    const first = await deps.lease.tryAcquire('instance-a', 60_000);
    expect(first.acquired).toBe(true);
    const second = await deps.lease.tryAcquire('instance-b', 60_000);
    expect(second).toMatchObject({ acquired: false, holder: 'instance-a' });
    if (first.acquired) await deps.lease.release(first.token);
    expect((await deps.lease.tryAcquire('instance-b', 60_000)).acquired).toBe(true);

    // The scans' reports on the same tables, with the default retention.
    const scanId = '5ca9d1e0-0000-4000-8000-000000000001';
    expect(await deps.scanReports.get(scanId)).toBeUndefined();
    await deps.scanReports.recordStarted({
      scanId,
      trigger: 'http',
      startedAt: '2026-11-22T06:00:00.000Z',
      aliveUntil: '2026-11-22T06:35:00.000Z',
    });
    expect(await deps.scanReports.get(scanId)).toMatchObject({ status: 'running', scanId });
    expect(deps.scanReports.retainedScans).toBe(50);

    // The Azure adapters through the managed identity of the local server.
    const subscriptions = await deps.azure.subscriptions.listSubscriptions();
    expect(subscriptions.map((subscription) => subscription.displayName)).toEqual(['Fabrikam Production']);
    expect(azure.requests.count('identity')).toBeGreaterThan(0);

    // Alerting with the ACS connection string: nothing owed, nothing sent, nothing failed.
    const ctx = context();
    expect(await deliverOwedAlerts(deps, ctx, { mode: 'digest' })).toMatchObject({ sent: 0, failed: 0 });
    expect(ctx.lines.filter((line) => line.includes('alert.failed'))).toEqual([]);

    // The structured logger.
    deps.log(ctx, 'scan.started', { connectionString: env.CONTACT_WATCH_ACS_CONNECTION_STRING });
    expect(JSON.parse(ctx.lines.at(-1)!)).toEqual({
      event: 'scan.started',
      invocationId: 'dependencies-test',
      functionName: 'scans',
      connectionString: '[redacted]',
    });
    expect(deps.clock()).toBeInstanceOf(Date);
  });

  it('prefers CONTACT_WATCH_STORAGE to AzureWebJobsStorage', async () => {
    // AzureWebJobsStorage names Azurite's default port, where nothing listens in this test.
    const settings = readAppSettings({
      ...env,
      AzureWebJobsStorage: 'UseDevelopmentStorage=true',
      CONTACT_WATCH_STORAGE: azurite.connectionString,
    });
    const deps = createAppDependencies(settings);
    expect(deps.settings.storage.settingName).toBe('CONTACT_WATCH_STORAGE');
    expect(deps.store.connection.tableEndpoint).toBe(azurite.tableEndpoint);
    expect(await deps.store.listScanRuns()).toEqual([]);
  });
});

describe('the app instance', () => {
  it('builds the dependencies once per process, on first use, from the settings read at start-up', async () => {
    Object.assign(process.env, env);
    const settings = startApp();
    const deps = appDependencies();
    expect(deps.settings).toBe(settings);
    expect(appDependencies()).toBe(deps);
    expect(await deps.store.listScanRuns()).toEqual([]);
    startApp();
    expect(appDependencies()).not.toBe(deps);
  });

  it('does not start with a bad setting, naming every one at fault, and builds nothing before it has started', () => {
    expect(() => startApp({ ...env, CONTACT_WATCH_ALERT_RECIPIENTS: 'nobody', AZURE_CLOUD: 'Mars' })).toThrow(
      /2 app settings are missing or malformed:\n- AZURE_CLOUD[^\n]*\n- CONTACT_WATCH_ALERT_RECIPIENTS/,
    );
    expect(() => appDependencies()).toThrow(/has not started/);
  });
});
