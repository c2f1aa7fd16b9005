/**
 * POST /api/scans and GET /api/scans/{scanId} (docs/reference/http-api.md): the real handlers with real
 * HttpRequest/InvocationContext objects, against the local Azure test server and Azurite. 200 with
 * the §7 report within the answer budget, else 202 with a Location to poll; 409 while the lease is
 * held, 413 for a body, 405 for another method, and a readable JSON error when the scan cannot run.
 * A scan is held by a gate on its Resource Graph answer and the budget is injected, so nothing here
 * depends on how long anything takes.
 */
import { randomUUID } from 'node:crypto';
import { HttpRequest, type HttpResponseInit, type Timer } from '@azure/functions';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { openScanLease } from '../../../src/adapters/table-storage/scan-lease.js';
import { createScanResultHandler } from '../../../src/app/handlers/scan-result.js';
import { createScanTimerHandler } from '../../../src/app/handlers/scan-timer.js';
import { createScansHandler, MAX_SCAN_REQUEST_BODY_BYTES, type ScansHandlerOptions } from '../../../src/app/handlers/scans.js';
import { startScanJob, type ScanJobOptions } from '../../../src/app/scan-job.js';
import { FUNCTION_NAMES } from '../../../src/functions/function-names.js';
import type { ScanLease } from '../../../src/scan/ports.js';
import { SimulatedTenant, type LocalAzure } from '../../azure-server/index.js';
import type { CommunicationEmailService } from '../../azure-server/services/communication-email.js';
import { invocationContexts, startAppTestBed, type testAppDependencies, type TestTables } from '../../support/app.js';
import { compliantContact2023 } from '../../support/fixtures.js';
import { expectDocumentedAnswer, expectValidReport } from '../../support/report-schema.js';

const COMPLIANT = '11111111-1111-4111-8111-111111111111';
const NO_CONTACT = '22222222-2222-4222-8222-222222222222';
const DISABLED = '33333333-3333-4333-8333-333333333333';
const URL = 'http://127.0.0.1:7071/api/scans';

let tenant: SimulatedTenant;
let azure: LocalAzure;
let mail: CommunicationEmailService;
let tables: TestTables;
let deps: ReturnType<typeof testAppDependencies>;
beforeAll(async () => {
  tenant = new SimulatedTenant();
  tenant.addSubscription({ subscriptionId: NO_CONTACT, displayName: 'Sandbox', contacts: [] });
  tenant.addSubscription({ subscriptionId: COMPLIANT, displayName: 'Production', contacts: [compliantContact2023()] });
  tenant.addSubscription({ subscriptionId: DISABLED, displayName: 'Old', state: 'Disabled', contacts: [] });
  ({ azure, mail, tables, deps } = await startAppTestBed(tenant, { tablePrefix: 'scansroute' }));
  deps.lease = openScanLease(deps.store.connection);
});

afterAll(async () => {
  await Promise.all([azure?.close(), tables?.stop()]);
});

// POST answers once the scan is recorded; its alerts may still be going out under the lease.
afterEach(async () => {
  await untilLeaseIsFree();
});

const context = invocationContexts(FUNCTION_NAMES.scans, 'scans');
const resultContext = invocationContexts(FUNCTION_NAMES.scanResult, 'scan-result');
const timerContext = invocationContexts(FUNCTION_NAMES.scanTimer, 'timer');

async function post(
  init: { body?: string; headers?: Record<string, string>; method?: string } = {},
  options?: ScansHandlerOptions,
): Promise<HttpResponseInit> {
  const request = new HttpRequest({
    method: init.method ?? 'POST',
    url: URL,
    headers: init.headers ?? {},
    ...(init.body === undefined ? {} : { body: { string: init.body } }),
  });
  return expectDocumentedAnswer('POST /api/scans', await createScansHandler(deps, options)(request, context()), request.method);
}

async function get(scanId: string, init: { method?: string; handlerDeps?: typeof deps } = {}): Promise<HttpResponseInit> {
  const request = new HttpRequest({ method: init.method ?? 'GET', url: `${URL}/${encodeURIComponent(scanId)}`, params: { scanId } });
  return expectDocumentedAnswer(
    'GET /api/scans/{scanId}',
    await createScanResultHandler(init.handlerDeps ?? deps)(request, resultContext()),
    request.method,
  );
}

/** GET until the scan is no longer running (the gate has been opened); returns that answer. */
async function settledAnswer(scanId: string): Promise<HttpResponseInit> {
  return vi.waitFor(
    async () => {
      const response = await get(scanId);
      if (response.status === 202) throw new Error(`scan ${scanId} is still running`);
      return response;
    },
    { timeout: 20_000, interval: 25 },
  );
}

/** A promise the test resolves when it is ready to let the held scan go on. */
function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

async function leaseIsFree(lease: ScanLease): Promise<boolean> {
  const probe = await lease.tryAcquire('probe/lease-free', 1_000);
  if (!probe.acquired) return false;
  await lease.release(probe.token);
  return true;
}

/** The background part of a scan (alerts, the lease's release) may outlast its stored report. */
async function untilLeaseIsFree(): Promise<void> {
  await vi.waitFor(async () => expect(await leaseIsFree(deps.lease)).toBe(true), { timeout: 20_000, interval: 25 });
}

function scanIdFromLocation(response: HttpResponseInit): string {
  const location = headerOf(response, 'location') ?? '';
  const match = /^\/api\/scans\/([0-9a-f-]{36})$/.exec(location);
  expect(match, `Location: ${location}`).not.toBeNull();
  return match![1]!;
}

function expectReport(response: HttpResponseInit, scanId?: string): { scan: { id: string; status: string }; summary: unknown } {
  expect(response.status).toBe(200);
  expect(headerOf(response, 'content-type')).toMatch(/^application\/json/);
  const report = JSON.parse(response.body as string);
  expectValidReport(report);
  expect(Object.keys(report)).toEqual(['schemaVersion', 'scan', 'summary', 'subscriptions']);
  expect(report.summary).toEqual({ subscriptions: 3, compliant: 1, noncompliant: 1, exempt: 0, error: 0, skipped: 1 });
  expect(report.subscriptions.map((s: { subscriptionId: string }) => s.subscriptionId)).toEqual([COMPLIANT, NO_CONTACT, DISABLED]);
  if (scanId !== undefined) expect(report.scan.id).toBe(scanId);
  return report;
}

function headerOf(response: HttpResponseInit, name: string): string | undefined {
  const headers = response.headers as Record<string, string> | undefined;
  return headers?.[name];
}

function errorOf(response: HttpResponseInit): { code: string; message: string } {
  expect(headerOf(response, 'content-type')).toMatch(/^application\/json/);
  const body = JSON.parse(response.body as string) as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error)).toEqual(['code', 'message']);
  return body.error;
}

describe('POST /api/scans', () => {
  it('runs a scan and answers 200 with the §7 JSON report', async () => {
    const response = await post();
    expect(response.status).toBe(200);
    expect(headerOf(response, 'content-type')).toMatch(/^application\/json/);
    const report = JSON.parse(response.body as string);
    expectValidReport(report);
    expect(Object.keys(report)).toEqual(['schemaVersion', 'scan', 'summary', 'subscriptions']);
    expect(report.schemaVersion).toBe(1);
    expect(report.scan).toMatchObject({ status: 'succeeded' });
    expect(report.summary).toEqual({ subscriptions: 3, compliant: 1, noncompliant: 1, exempt: 0, error: 0, skipped: 1 });
    expect(report.subscriptions.map((s: { subscriptionId: string }) => s.subscriptionId)).toEqual([COMPLIANT, NO_CONTACT, DISABLED]);
    const sandbox = report.subscriptions[1];
    expect(sandbox).toMatchObject({ displayName: 'Sandbox', status: 'noncompliant', source: 'security-contacts-api' });
    expect(sandbox.findings.length).toBeGreaterThan(0);

    const [run] = await deps.store.listScanRuns(1);
    expect(run).toMatchObject({ scanId: report.scan.id, trigger: 'http', outcome: 'succeeded' });
    await untilLeaseIsFree(); // the job goes on after the answer until its alerts are out
    expect(mail.messages).toHaveLength(1); // the scan sends what is owed, as the timer does

    // The same report stays retrievable by its id, from any instance.
    const again = await get(report.scan.id);
    expect(again.status).toBe(200);
    expect(again.body).toBe(response.body);
  });

  it('answers 409 ScanInProgress, naming the holder and its expiry, while another scan holds the lease', async () => {
    const other = await deps.lease.tryAcquire('timer-instance/inv-7', 10 * 60_000);
    if (!other.acquired) throw new Error('the lease should have been free');
    azure.requests.clear();
    try {
      const response = await post();
      expect(response.status).toBe(409);
      const error = errorOf(response);
      expect(error.code).toBe('ScanInProgress');
      expect(error.message).toContain('timer-instance/inv-7');
      expect(error.message).toContain(other.token.expiresAt);
      expect(azure.requests.count('resource-graph')).toBe(0);
    } finally {
      await deps.lease.release(other.token);
    }
    expect((await post()).status).toBe(200); // free again once released
  });

  it('refuses a body over the limit with 413 before scanning', async () => {
    azure.requests.clear();
    const runs = (await deps.store.listScanRuns(20)).length;
    const response = await post({ body: 'x'.repeat(MAX_SCAN_REQUEST_BODY_BYTES + 1), headers: { 'content-type': 'text/plain' } });
    expect(response.status).toBe(413);
    expect(errorOf(response).code).toBe('PayloadTooLarge');
    const declared = await post({ headers: { 'content-length': String(1024 * 1024) } });
    expect(declared.status).toBe(413);
    expect(azure.requests.count('resource-graph')).toBe(0);
    expect(await deps.store.listScanRuns(20)).toHaveLength(runs);
  });

  it('accepts a small body such as {} from a pipeline tool', async () => {
    const response = await post({ body: '{}', headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(200);
  });

  it('answers 405 for any method but POST', async () => {
    const response = await post({ method: 'GET' });
    expect(response.status).toBe(405);
    expect(errorOf(response).code).toBe('MethodNotAllowed');
    expect(headerOf(response, 'allow')).toBe('POST');
  });

  it('answers 502 with a message a person can act on, never a stack trace, when Resource Graph cannot be read', async () => {
    azure.faults.add({ target: 'resource-graph', status: 403, times: Infinity });
    let response: HttpResponseInit;
    try {
      response = await post();
    } finally {
      azure.faults.clear();
    }
    expect(response.status).toBe(502);
    const error = errorOf(response);
    expect(error.code).toBe('ScanFailed');
    expect(error.message).toMatch(/Resource Graph/);
    expect(error.message).toMatch(/Reader/);
    expect(error.message).not.toMatch(/\n\s+at /);
    expect((await post()).status).toBe(200); // the lease was given back
  });
});

describe('the answer and the alerts', () => {
  it('answers 200 once the scan is recorded, while its alert e-mail is still going out', async () => {
    const fresh = '44444444-4444-4444-8444-444444444444';
    tenant.addSubscription({ subscriptionId: fresh, displayName: 'New sandbox', contacts: [] });
    // Every request to the e-mail service waits at the gate; the scan's own requests do not.
    const mailService = gate();
    azure.faults.add({ target: 'other', holdUntil: mailService.promise, times: Infinity });
    try {
      const answered = await post();
      expect(answered.status).toBe(200);
      expect(JSON.parse(answered.body as string).subscriptions.map((s: { subscriptionId: string }) => s.subscriptionId)).toContain(fresh);
      expect(mail.messages.some((message) => (message.plainText ?? '').includes(fresh))).toBe(false);
    } finally {
      mailService.open();
      azure.faults.clear();
    }
    // The job goes on after the answer: the alert is delivered and the lease given back.
    await untilLeaseIsFree();
    expect(mail.messages.some((message) => (message.plainText ?? '').includes(fresh))).toBe(true);
    tenant.removeSubscription(fresh); // the other tests count the tenant as it was
  });
});

describe('a scan that outlasts the answer budget', () => {
  it('answers 202 with a Location, then 202 on GET while it runs, then 200 with its §7 report', async () => {
    const resourceGraph = gate();
    azure.faults.add({ target: 'resource-graph', holdUntil: resourceGraph.promise });
    let scanId: string;
    try {
      const accepted = await post({}, { answerWithinMs: 0 });
      expect(accepted.status).toBe(202);
      scanId = scanIdFromLocation(accepted);
      expect(headerOf(accepted, 'content-type')).toMatch(/^application\/json/);
      expect(JSON.parse(accepted.body as string)).toMatchObject({ scan: { id: scanId, status: 'running' } });

      const running = await get(scanId);
      expect(running.status).toBe(202);
      expect(headerOf(running, 'location')).toBe(`/api/scans/${scanId}`);
      expect(JSON.parse(running.body as string)).toMatchObject({ scan: { id: scanId, status: 'running' } });
      expect(headerOf(running, 'cache-control')).toBe('no-store');

      // The scan keeps its lease after the 202: a second one is refused until it has finished.
      const second = await post();
      expect(second.status).toBe(409);
      expect(errorOf(second).code).toBe('ScanInProgress');
    } finally {
      resourceGraph.open();
    }

    const finished = await settledAnswer(scanId);
    const report = expectReport(finished, scanId);
    expect(report.scan.status).toBe('succeeded');
    const [run] = await deps.store.listScanRuns(1);
    expect(run).toMatchObject({ scanId, trigger: 'http', outcome: 'succeeded' });
    await untilLeaseIsFree();
  });

  it('answers the GET of a scan that failed after its 202 as the POST would have: 502 ScanFailed', async () => {
    const resourceGraph = gate();
    azure.faults.add({ target: 'resource-graph', holdUntil: resourceGraph.promise, status: 403, times: Infinity });
    let failed: HttpResponseInit;
    let scanId: string;
    try {
      const accepted = await post({}, { answerWithinMs: 0 });
      expect(accepted.status).toBe(202);
      scanId = scanIdFromLocation(accepted);
      resourceGraph.open();
      failed = await settledAnswer(scanId);
    } finally {
      resourceGraph.open();
      azure.faults.clear();
    }
    expect(failed.status).toBe(502);
    const error = errorOf(failed);
    expect(error.code).toBe('ScanFailed');
    expect(error.message).toMatch(/Resource Graph/);
    expect(error.message).toMatch(/Reader/);
    expect(error.message).toContain('scans-invocation-'); // where the app's log has the details
    await untilLeaseIsFree();
  });

  /** Starts a scan held at Resource Graph; `check` runs while it is held, then it is let go and awaited. */
  async function whileHeld(options: ScanJobOptions, check: (scanId: string, invocationId: string) => Promise<void>): Promise<void> {
    const resourceGraph = gate();
    azure.faults.add({ target: 'resource-graph', holdUntil: resourceGraph.promise });
    const invocation = context();
    const start = await startScanJob(deps, invocation, 'http', options);
    if (start.kind !== 'started') throw new Error(`the lease should have been free, not held by ${start.holder}`);
    try {
      await check(start.scanId, invocation.invocationId);
    } finally {
      resourceGraph.open();
      await start.finished;
    }
    await untilLeaseIsFree();
  }

  it("moves a running scan's stored sign of life on as its lease is renewed", async () => {
    await whileHeld({ renewEveryMs: 20 }, async (scanId) => {
      const first = await deps.scanReports.get(scanId);
      if (first?.status !== 'running') throw new Error(`expected a running scan, not ${first?.status}`);
      await vi.waitFor(
        async () => {
          const now = await deps.scanReports.get(scanId);
          expect(now?.status === 'running' && Date.parse(now.aliveUntil)).toBeGreaterThan(Date.parse(first.aliveUntil));
        },
        { timeout: 20_000, interval: 25 },
      );
    });
  });

  it('renews the lease no longer than a scan may run, so a scan that hangs cannot keep it', async () => {
    await whileHeld({ renewEveryMs: 20, renewForMs: 0 }, async (scanId, invocationId) => {
      const first = await deps.scanReports.get(scanId);
      await vi.waitFor(
        () =>
          expect(deps.lines.some((line) => line.invocationId === invocationId && line.event === 'scan.lease.renewals.ended')).toBe(true),
        {
          timeout: 20_000,
          interval: 25,
        },
      );
      expect(await deps.scanReports.get(scanId)).toEqual(first);
    });
  });

  it('answers a scan whose instance stopped (still running after its lease expired) as interrupted, saying to start a new one', async () => {
    const scanId = randomUUID();
    const now = Date.now();
    await deps.scanReports.recordStarted({
      scanId,
      trigger: 'http',
      startedAt: new Date(now - 40 * 60_000).toISOString(),
      aliveUntil: new Date(now - 5 * 60_000).toISOString(),
    });
    const response = await get(scanId);
    expect(response.status).toBe(503);
    const error = errorOf(response);
    expect(error.code).toBe('ScanInterrupted');
    expect(error.message).toContain(scanId);
    expect(error.message).toContain('POST /api/scans');

    // The same row while its lease is still alive is a running scan.
    const alive = randomUUID();
    await deps.scanReports.recordStarted({
      scanId: alive,
      trigger: 'http',
      startedAt: new Date(now).toISOString(),
      aliveUntil: new Date(now + 30 * 60_000).toISOString(),
    });
    expect((await get(alive)).status).toBe(202);
  });
});

describe('GET /api/scans/{scanId}', () => {
  it('answers a scan the timer ran by its id', async () => {
    const timer: Timer = { isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };
    const invocation = timerContext();
    await createScanTimerHandler(deps)(timer, invocation);
    const finished = deps.lines.find((line) => line.invocationId === invocation.invocationId && line.event === 'scan.finished');
    expect(finished?.scanId).toEqual(expect.any(String));
    expectReport(await get(finished!.scanId as string), finished!.scanId as string);
  });

  it('answers 404 ScanNotFound for a GUID it does not know', async () => {
    const response = await get(randomUUID());
    expect(response.status).toBe(404);
    const error = errorOf(response);
    expect(error.code).toBe('ScanNotFound');
    expect(error.message).toContain('POST /api/scans');
  });

  it('answers 400 InvalidScanId for an id that is not a GUID, reading nothing', async () => {
    let reads = 0;
    const counted = {
      ...deps,
      scanReports: { ...deps.scanReports, get: (scanId: string) => ((reads += 1), deps.scanReports.get(scanId)) },
    };
    for (const scanId of ['latest', '12345', `${randomUUID()}x`, "x' or PartitionKey ne '"]) {
      const response = await get(scanId, { handlerDeps: counted });
      expect(response.status, scanId).toBe(400);
      const error = errorOf(response);
      expect(error.code).toBe('InvalidScanId');
      expect(error.message).toContain('GUID');
    }
    expect(reads).toBe(0);
    expect((await get(randomUUID(), { handlerDeps: counted })).status).toBe(404); // and a GUID is read
    expect(reads).toBe(1);
  });

  it('accepts an id in upper case', async () => {
    const accepted = await post();
    const report = expectReport(accepted);
    expectReport(await get(report.scan.id.toUpperCase()), report.scan.id);
  });

  it('answers 405 for any method but GET', async () => {
    const response = await get(randomUUID(), { method: 'POST' });
    expect(response.status).toBe(405);
    expect(headerOf(response, 'allow')).toBe('GET');
  });
});
