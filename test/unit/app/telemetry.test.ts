/**
 * Application Insights through OpenTelemetry (src/app/telemetry.ts, built on its own into
 * dist/functions/telemetry.cjs). The app's real bundle is loaded in a fresh Node process the way
 * the Functions host's worker loads it: a preload answers `require('@azure/functions-core')`,
 * records the hooks the app registers and, after the import, runs the `log` hooks with a line the
 * way the worker does for `context.log`, then the `appTerminate` hooks. With a connection string,
 * the export goes to a fake Application Insights ingestion endpoint on 127.0.0.1 (the track API,
 * `POST /v2.1/track`) that keeps every envelope it receives. It speaks HTTPS with the local Azure
 * test server's certificate: the exporter always uses TLS, whatever the IngestionEndpoint's scheme.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateTestTls, type TestTls } from '../../azure-server/tls.js';
import { formatLogLine } from '../../../src/adapters/structured-log.js';
import { startTelemetry, telemetryCredential } from '../../../src/app/start-telemetry.js';
import { logLineAttributes } from '../../../src/app/telemetry.js';
import { FUNCTION_NAMES } from '../../../src/functions/function-names.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const bundle = join(repoRoot, 'dist/functions/index.js');
const chunk = join(repoRoot, 'dist/functions/telemetry.cjs');

/** The example's local values (but the local server's CA, which names a file of a running server). */
const {
  NODE_EXTRA_CA_CERTS: _localServerCa,
  APPLICATIONINSIGHTS_CONNECTION_STRING: _unset,
  ...exampleSettings
} = (JSON.parse(readFileSync(join(repoRoot, 'local.settings.example.json'), 'utf8')) as { Values: Record<string, string> }).Values;

/** Modules whose presence means OpenTelemetry (or our chunk of it) was loaded. */
const OPEN_TELEMETRY =
  /[\\/](?:@opentelemetry|monitor-opentelemetry|monitor-opentelemetry-exporter|functions-opentelemetry-instrumentation)[\\/]|telemetry\.cjs$/;

/** The storage account name of the Table Storage endpoint the fake server stands in for. */
const TABLE_ACCOUNT = 'devstoreaccount1';

const scratch = mkdtempSync(join(tmpdir(), 'cw-telemetry-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The worker's seam, recording hooks; the script below runs them as the worker would. */
const PRELOAD = join(scratch, 'fake-worker.cjs');
writeFileSync(
  PRELOAD,
  `'use strict';
const Module = require('node:module');
class Disposable { constructor(f) { this.f = f; } dispose() { this.f?.(); } }
const hooks = { log: [], preInvocation: [], postInvocation: [], appStart: [], appTerminate: [] };
let model;
const registered = [];
const handlers = {};
const coreApi = {
  version: 'fake', Disposable,
  setProgrammingModel(m) { model = m; }, getProgrammingModel() { return model; },
  registerFunction(metadata, handler) { registered.push(metadata.name); handlers[metadata.name] = handler; return new Disposable(); },
  registerHook(name, callback) { hooks[name].push(callback); return new Disposable(() => hooks[name].splice(hooks[name].indexOf(callback), 1)); },
  log() {},
};
const original = Module.prototype.require;
Module.prototype.require = function (id) { return id === '@azure/functions-core' ? coreApi : original.apply(this, arguments); };
globalThis.__fakeWorker = { hooks, registered, handlers, getProgrammingModel: () => model };
`,
);

/**
 * Imports the entry, asks for the worker capabilities, then — before anything else can run, as a
 * host that sends an invocation at once — either runs the log hooks with a line (CW_LOG_LINE) or
 * invokes the compliance route (CW_INVOKE_FUNCTION, CW_INVOKE_SUBSCRIPTION) the way the worker does: the preInvocation
 * hooks with the host's trace context (CW_TRACEPARENT), then the handler, whose context.log lines
 * go to the log hooks; then the appTerminate hooks. Reports what was loaded when.
 */
const SCRIPT = `
import { createRequire } from 'node:module';
import { format } from 'node:util';
const worker = globalThis.__fakeWorker;
const moduleCache = () => Object.keys(createRequire(import.meta.url).cache);
await import(process.env.CW_ENTRY);
const loadedByImport = moduleCache();
const capabilities = await worker.getProgrammingModel().getCapabilities({});
const logHooks = (level, message, invocationContext) => {
  for (const hook of worker.hooks.log) hook({ level, category: 'user', message, invocationContext, hookData: {} });
};
const line = process.env.CW_LOG_LINE;
if (line) logHooks('warning', line, {});
let answer;
const subscriptionId = process.env.CW_INVOKE_SUBSCRIPTION;
if (subscriptionId) {
  const { HttpRequest, InvocationContext } = createRequire(process.env.CW_ENTRY)('@azure/functions');
  const invocationContext = new InvocationContext({
    invocationId: 'c0ffee00-0000-4000-8000-00000000f1r5',
    functionName: process.env.CW_INVOKE_FUNCTION,
    traceContext: { traceParent: process.env.CW_TRACEPARENT, traceState: '' },
    logHandler: (level, ...args) => logHooks(level, format(...args), invocationContext),
  });
  const request = new HttpRequest({ method: 'GET', url: 'https://contact-watch.example.net/api/subscriptions/' + subscriptionId + '/compliance', params: { subscriptionId } });
  const hookContext = { invocationContext, inputs: [request], functionCallback: worker.handlers[process.env.CW_INVOKE_FUNCTION], hookData: {}, appHookData: {} };
  for (const hook of worker.hooks.preInvocation) await hook(hookContext);
  answer = (await hookContext.functionCallback(request, invocationContext)).status;
}
if (line || subscriptionId) for (const hook of worker.hooks.appTerminate) await hook({ hookData: {} });
const loaded = moduleCache();
const report = { capabilities, registered: worker.registered, loadedByImport, loaded, answer, hooks: Object.fromEntries(Object.entries(worker.hooks).map(([k, v]) => [k, v.length])) };
// The host would stop the worker here; the SDK leaves a timer behind after its shutdown.
process.stdout.write(JSON.stringify(report), () => process.exit(0));
`;

interface ChildReport {
  capabilities: Record<string, string>;
  registered: string[];
  /** The module cache right after the import of the entry point, and at the end. */
  loadedByImport: string[];
  loaded: string[];
  /** The status the compliance route answered, when invoked. */
  answer?: number;
  hooks: Record<string, number>;
}

function runEntry(
  settings: Record<string, string>,
  logLine?: string,
  caCertPath?: string,
  invoke?: { functionName: string; subscriptionId: string; traceParent: string },
): Promise<{ status: number | null; stderr: string; report: ChildReport }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--require', PRELOAD, '--input-type=module', '-e', SCRIPT], {
      cwd: scratch,
      env: {
        PATH: process.env.PATH ?? '',
        ...settings,
        CW_ENTRY: pathToFileURL(bundle).href,
        ...(logLine ? { CW_LOG_LINE: logLine } : {}),
        ...(invoke
          ? { CW_INVOKE_FUNCTION: invoke.functionName, CW_INVOKE_SUBSCRIPTION: invoke.subscriptionId, CW_TRACEPARENT: invoke.traceParent }
          : {}),
        ...(caCertPath ? { NODE_EXTRA_CA_CERTS: caCertPath } : {}),
        // The exporter keeps what it could not send under the temporary directory.
        TMPDIR: scratch,
        // No call to Microsoft's own endpoints (SDK statistics) from a test.
        APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
        APPLICATIONINSIGHTS_SDKSTATS_DISABLED: 'true',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill(), 20_000);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      try {
        resolve({ status, stderr, report: JSON.parse(stdout) as ChildReport });
      } catch {
        reject(new Error(`the entry point did not report (exit ${status}):\n${stderr.slice(0, 3000)}`));
      }
    });
  });
}

describe('startTelemetry without a connection string', () => {
  it('returns false and loads nothing', () => {
    let loads = 0;
    const load = () => {
      loads += 1;
      return { startAzureMonitor: () => expect.unreachable('telemetry started') };
    };
    expect(startTelemetry({}, { load })).toBe(false);
    expect(loads).toBe(0);
  });

  it('the app bundle holds no OpenTelemetry code: it is all in the telemetry chunk', () => {
    const text = readFileSync(bundle, 'utf8');
    expect(text).not.toMatch(/useAzureMonitor|@opentelemetry|AzureMonitorLogExporter/);
    expect(text).toContain('telemetry.cjs');
    expect(readFileSync(chunk, 'utf8')).toMatch(/useAzureMonitor|AzureMonitorLogExporter/);
  });

  it('the real entry point starts, registers every function, and no OpenTelemetry module is in the module cache', async () => {
    const { status, stderr, report } = await runEntry(exampleSettings);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(report.registered.length).toBeGreaterThan(0);
    expect(report.loaded.some((path) => path.includes(`${'@azure'}/functions`))).toBe(true);
    expect(report.loaded.filter((path) => OPEN_TELEMETRY.test(path))).toEqual([]);
    expect(report.capabilities.WorkerOpenTelemetryEnabled).toBeUndefined();
    expect(report.hooks.log).toBe(0);
  });
});

describe('startTelemetry with a connection string (a fake ingestion endpoint)', () => {
  interface Received {
    path: string;
    authorization: string | undefined;
    body: string;
  }
  const ACCESS_TOKEN = 'fake-entra-token-for-monitor';
  const tokenRequests: string[] = [];
  const received: Received[] = [];
  /** What the app asked of Azure Resource Manager and Table Storage, served by the same server. */
  const azureCalls: string[] = [];
  let server: Server;
  let connectionString: string;
  let tls: { tls: TestTls; generated: boolean };

  beforeAll(async () => {
    tls = await loadOrCreateTestTls();
    server = createServer({ key: tls.tls.serverKeyPem, cert: tls.tls.serverCertPem }, (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (request.url?.startsWith('/msi/token')) {
          // The App Service managed-identity endpoint (IDENTITY_ENDPOINT), as @azure/identity calls it.
          tokenRequests.push(request.url);
          response.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
          response.end(
            JSON.stringify({
              access_token: ACCESS_TOKEN,
              expires_on: String(Math.floor(Date.now() / 1000) + 3600),
              resource: 'https://monitor.azure.com',
              token_type: 'Bearer',
            }),
          );
          return;
        }
        if (request.url?.startsWith('/subscriptions/') || request.url?.startsWith(`/${TABLE_ACCOUNT}/`)) {
          // A subscription without a security contact, and an empty Table Storage.
          azureCalls.push(`${request.method} ${request.url}`);
          const creating = request.method === 'POST';
          response.writeHead(creating ? 201 : 200, { 'content-type': 'application/json', connection: 'close' });
          response.end(JSON.stringify(creating ? { TableName: 'created' } : { value: [] }));
          return;
        }
        const raw = Buffer.concat(chunks);
        const body = (request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
        received.push({ path: `${request.method} ${request.url}`, authorization: request.headers.authorization, body });
        let items: number;
        try {
          const parsed = JSON.parse(body) as unknown;
          items = Array.isArray(parsed) ? parsed.length : 1;
        } catch {
          items = body.split('\n').filter(Boolean).length;
        }
        // No keep-alive: the worker process exits once it has sent everything.
        response.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
        response.end(JSON.stringify({ itemsReceived: items, itemsAccepted: items, errors: [] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    connectionString = `InstrumentationKey=0f3d6a52-1c2b-4e5f-9a8b-7c6d5e4f3a21;IngestionEndpoint=https://127.0.0.1:${port}/;LiveEndpoint=https://127.0.0.1:${port}/`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (tls.generated) rmSync(tls.tls.dir, { recursive: true, force: true });
  });

  const line = formatLogLine({ invocationId: 'c0ffee00-0000-4000-8000-000000000001', functionName: 'scanTimer' }, 'alert.send.failed', {
    subscriptions: 200,
    noncompliant: 3,
    dryRun: false,
    recipients: ['secops@contoso.example'],
    storage: { connectionString: 'DefaultEndpointsProtocol=https;AccountName=cw;AccountKey=c2VjcmV0LWtleQ==' },
  });

  it('loads the chunk, tells the host the worker sends its logs, and a logged line arrives with its fields as custom dimensions', async () => {
    const { status, stderr, report } = await runEntry(
      { ...exampleSettings, APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString },
      line,
      tls.tls.caCertPath,
    );
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(report.loaded.some((path) => path.endsWith('telemetry.cjs'))).toBe(true);
    expect(report.capabilities.WorkerOpenTelemetryEnabled).toBe('true');
    expect(report.hooks.log).toBe(1);
    expect(report.registered.length).toBeGreaterThan(0);

    expect(received.length).toBeGreaterThan(0);
    expect(received.every((request) => request.path === 'POST /v2.1/track' && request.authorization === undefined)).toBe(true);
    const envelopes = received.flatMap(
      (request) =>
        JSON.parse(request.body) as Array<{ name: string; iKey: string; data: { baseType: string; baseData: Record<string, unknown> } }>,
    );
    const messages = envelopes.filter((envelope) => envelope.data.baseType === 'MessageData');
    expect(messages).toHaveLength(1);
    const message = messages[0]!;
    expect(message.iKey).toBe('0f3d6a52-1c2b-4e5f-9a8b-7c6d5e4f3a21');
    expect(message.data.baseData).toMatchObject({
      message: line,
      severityLevel: 'Warning',
      properties: {
        event: 'alert.send.failed',
        invocationId: 'c0ffee00-0000-4000-8000-000000000001',
        functionName: 'scanTimer',
        subscriptions: '200',
        noncompliant: '3',
        dryRun: 'false',
        recipients: '["secops@contoso.example"]',
        storage: '{"connectionString":"[redacted]"}',
      },
    });
  });

  it('with APPLICATIONINSIGHTS_AUTHENTICATION_STRING (local authentication off), sends a managed-identity token', async () => {
    const before = received.length;
    const { port } = server.address() as AddressInfo;
    const { status, stderr } = await runEntry(
      {
        ...exampleSettings,
        APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString,
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=7a1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d',
        IDENTITY_ENDPOINT: `https://127.0.0.1:${port}/msi/token`,
        IDENTITY_HEADER: 'fake-identity-header',
      },
      line,
      tls.tls.caCertPath,
    );
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(
      tokenRequests.some((url) => url.includes('client_id=7a1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d') && url.includes('monitor.azure.com')),
    ).toBe(true);
    const sent = received.slice(before);
    expect(sent.length).toBeGreaterThan(0);
    for (const request of sent) expect(request.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
    expect(sent.map((request) => request.body).join('\n')).not.toContain(ACCESS_TOKEN);
  });

  it('a process that only loads the entry point ends by itself, having loaded no OpenTelemetry code', async () => {
    const script = `
import { createRequire } from 'node:module';
import { writeSync } from 'node:fs';
process.on('exit', () => writeSync(1, JSON.stringify(Object.keys(createRequire(import.meta.url).cache))));
await import(process.env.CW_ENTRY);
`;
    const child = spawn(process.execPath, ['--require', PRELOAD, '--input-type=module', '-e', script], {
      cwd: scratch,
      env: {
        PATH: process.env.PATH ?? '',
        ...exampleSettings,
        APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString,
        CW_ENTRY: pathToFileURL(bundle).href,
        NODE_EXTRA_CA_CERTS: tls.tls.caCertPath,
        TMPDIR: scratch,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Only a safety net: before, the exporter's timers kept such a process alive for some 20 s.
    const timer = setTimeout(() => child.kill(), 20_000);
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    clearTimeout(timer);
    expect(stderr).toBe('');
    expect([code, signal]).toEqual([0, null]);
    expect((JSON.parse(stdout) as string[]).filter((path) => OPEN_TELEMETRY.test(path))).toEqual([]);
  });

  it('starts after the entry point has loaded; an invocation coming at once is sent whole, under the host operation id', async () => {
    const { port } = server.address() as AddressInfo;
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const subscriptionId = 'a1111111-1111-4111-8111-111111111111';
    const before = received.length;
    const { status, stderr, report } = await runEntry(
      {
        ...exampleSettings,
        APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString,
        AZURE_RESOURCE_MANAGER_ENDPOINT: `https://127.0.0.1:${port}`,
        IDENTITY_ENDPOINT: `https://127.0.0.1:${port}/msi/token`,
        CONTACT_WATCH_STORAGE: `DefaultEndpointsProtocol=https;AccountName=${TABLE_ACCOUNT};AccountKey=${Buffer.from('fake-key').toString('base64')};TableEndpoint=https://127.0.0.1:${port}/${TABLE_ACCOUNT};`,
        // Every span kept (the distro's default keeps 5 a second, and may skip the first).
        OTEL_TRACES_SAMPLER: 'always_on',
      },
      undefined,
      tls.tls.caCertPath,
      { functionName: FUNCTION_NAMES.compliance, subscriptionId, traceParent: `00-${traceId}-00f067aa0ba902b7-01` },
    );
    expect(stderr).toBe('');
    expect(status).toBe(0);
    // Loading the entry point loaded no OpenTelemetry code; the first invocation, before the
    // deferred start could run, started it.
    expect(report.loadedByImport.filter((path) => OPEN_TELEMETRY.test(path))).toEqual([]);
    expect(report.capabilities.WorkerOpenTelemetryEnabled).toBe('true');
    expect(report.loaded.some((path) => path.endsWith('telemetry.cjs'))).toBe(true);
    expect(report.answer).toBe(200);
    expect(azureCalls.some((call) => call.includes(`/subscriptions/${subscriptionId}/providers/Microsoft.Security/securityContacts`))).toBe(
      true,
    );

    const envelopes = received.slice(before).flatMap(
      (request) =>
        JSON.parse(request.body) as Array<{
          tags: Record<string, string>;
          data: { baseType: string; baseData: Record<string, unknown> };
        }>,
    );
    const dependencies = envelopes.filter((envelope) => envelope.data.baseType === 'RemoteDependencyData');
    expect(dependencies.map((envelope) => String(envelope.data.baseData.data))).toEqual(
      expect.arrayContaining([expect.stringContaining(`/subscriptions/${subscriptionId}/providers/Microsoft.Security/securityContacts`)]),
    );
    for (const dependency of dependencies) expect(dependency.tags['ai.operation.id']).toBe(traceId);
  });

  it("hands the app's Azure SDK tracing to OpenTelemetry: an SDK call is sent as a dependency", async () => {
    // The sources, not the bundle (whose own copy of @azure/core-tracing no outside call reaches):
    // startTelemetry from src/app/start-telemetry.ts with the built chunk, then a call through an Azure SDK
    // pipeline of the same @azure/core-tracing, as the app's clients make them.
    const { port } = server.address() as AddressInfo;
    const script = join(scratch, 'sdk-call.mts');
    writeFileSync(
      script,
      `import { createRequire } from 'node:module';
import { createDefaultHttpClient, createPipelineFromOptions, createPipelineRequest } from ${JSON.stringify(pathToFileURL(createRequire(join(repoRoot, 'package.json')).resolve('@azure/core-rest-pipeline')).href)};
import { startTelemetry } from ${JSON.stringify(pathToFileURL(join(repoRoot, 'src/app/start-telemetry.ts')).href)};
const telemetry = createRequire(import.meta.url)(${JSON.stringify(chunk)});
startTelemetry({ applicationInsightsConnectionString: process.env.CS }, { load: () => telemetry, env: {}, whenLoaded: (start) => start() });
const response = await createPipelineFromOptions({}).sendRequest(createDefaultHttpClient(), createPipelineRequest({ url: 'https://127.0.0.1:${port}/subscriptions?api-version=2022-12-01' }));
await telemetry.stopAzureMonitor();
process.stdout.write(String(response.status), () => process.exit(0));
`,
    );
    const before = received.length;
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '',
        CS: connectionString,
        NODE_EXTRA_CA_CERTS: tls.tls.caCertPath,
        TMPDIR: scratch,
        APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
        APPLICATIONINSIGHTS_SDKSTATS_DISABLED: 'true',
        // Every span kept (the distro's default keeps 5 a second, and may skip the first).
        OTEL_TRACES_SAMPLER: 'always_on',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill(), 20_000);
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    expect(
      stderr.replace(/^WARNING: Skipping call to register \w+ hook because the "@azure\/functions" package is in test mode\.\n/gm, ''),
    ).toBe('');
    expect(status).toBe(0);
    // @azure/functions, in test mode without the worker, prints its system log lines to stdout.
    expect(stdout).toMatch(/(?:^|\n)200$/);
    const envelopes = received
      .slice(before)
      .filter((request) => request.path === 'POST /v2.1/track')
      .flatMap((request) => JSON.parse(request.body) as Array<{ data: { baseType: string; baseData: Record<string, unknown> } }>);
    const dependencies = envelopes.filter((envelope) => envelope.data.baseType === 'RemoteDependencyData');
    expect(dependencies.map((envelope) => envelope.data.baseData)).toEqual([
      expect.objectContaining({
        name: 'GET /subscriptions',
        data: `https://127.0.0.1:${port}/subscriptions?api-version=2022-12-01`,
        resultCode: '200',
      }),
    ]);
  });

  it('never sends a connection string or a secret', () => {
    expect(received.length).toBeGreaterThan(0);
    const everything = received.map((request) => request.body).join('\n');
    expect(everything).not.toContain(connectionString);
    expect(everything).not.toMatch(
      /IngestionEndpoint=|InstrumentationKey=|AccountKey=|c2VjcmV0LWtleQ|fake-identity-header|Authorization=AAD/i,
    );
  });
});

describe('telemetryCredential (APPLICATIONINSIGHTS_AUTHENTICATION_STRING)', () => {
  it('is none when unset, a managed identity for Authorization=AAD, and a message naming the setting otherwise', () => {
    expect(telemetryCredential({})).toBeUndefined();
    expect(telemetryCredential({ APPLICATIONINSIGHTS_AUTHENTICATION_STRING: ' ' })).toBeUndefined();
    expect(
      telemetryCredential({ APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=7a1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d' })
        ?.constructor.name,
    ).toBe('ManagedIdentityCredential');
    expect(telemetryCredential({ APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'authorization=aad' })?.constructor.name).toBe(
      'ManagedIdentityCredential',
    );
    expect(() => telemetryCredential({ APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=7a1c2d3e' })).toThrow(
      /APPLICATIONINSIGHTS_AUTHENTICATION_STRING/,
    );
  });
});

describe('logLineAttributes', () => {
  it('turns a structured line into custom dimensions and leaves any other line alone', () => {
    expect(
      logLineAttributes('{"event":"scan.finished","invocationId":"i","subscriptions":2,"byStatus":{"compliant":2},"none":null}'),
    ).toEqual({
      event: 'scan.finished',
      invocationId: 'i',
      subscriptions: 2,
      byStatus: '{"compliant":2}',
    });
    expect(logLineAttributes('Executing function scanTimer')).toEqual({});
    expect(logLineAttributes('{"not":"ours"}')).toEqual({});
    expect(logLineAttributes('{broken')).toEqual({});
  });
});
