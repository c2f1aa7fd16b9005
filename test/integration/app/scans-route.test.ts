/**
 * POST /api/scans (CONTRACT §8): the real handler with real HttpRequest/InvocationContext objects,
 * against the local Azure test server and Azurite. 200 with the §7 report, 409 while the lease is
 * held, 413 for a body, 405 for another method, and a readable JSON error when the scan cannot run.
 */
import { HttpRequest, type HttpResponseInit } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openScanLease } from '../../../src/adapters/table-storage/scan-lease.js';
import { createScansHandler, MAX_SCAN_REQUEST_BODY_BYTES } from '../../../src/app/handlers/scans.js';
import { FUNCTION_NAMES } from '../../../src/app/types.js';
import { SimulatedTenant, type LocalAzure } from '../../azure-server/index.js';
import type { CommunicationEmailService } from '../../azure-server/services/communication-email.js';
import { invocationContexts, startAppTestBed, type testAppDependencies } from '../../support/app.js';
import type { AzuriteTables } from '../../support/azurite.js';
import { compliantContact2023 } from '../../support/fixtures.js';

const COMPLIANT = '11111111-1111-4111-8111-111111111111';
const NO_CONTACT = '22222222-2222-4222-8222-222222222222';
const DISABLED = '33333333-3333-4333-8333-333333333333';
const URL = 'http://127.0.0.1:7071/api/scans';

let azure: LocalAzure;
let mail: CommunicationEmailService;
let azurite: AzuriteTables;
let deps: ReturnType<typeof testAppDependencies>;
beforeAll(async () => {
  const tenant = new SimulatedTenant();
  tenant.addSubscription({ subscriptionId: NO_CONTACT, displayName: 'Sandbox', contacts: [] });
  tenant.addSubscription({ subscriptionId: COMPLIANT, displayName: 'Production', contacts: [compliantContact2023()] });
  tenant.addSubscription({ subscriptionId: DISABLED, displayName: 'Old', state: 'Disabled', contacts: [] });
  ({ azure, mail, azurite, deps } = await startAppTestBed(tenant, { tablePrefix: 'scansroute' }));
  deps.lease = openScanLease(deps.store.connection);
});

afterAll(async () => {
  await Promise.all([azure?.close(), azurite?.stop()]);
});

const context = invocationContexts(FUNCTION_NAMES.scans, 'scans');

async function post(init: { body?: string; headers?: Record<string, string>; method?: string } = {}): Promise<HttpResponseInit> {
  const request = new HttpRequest({
    method: init.method ?? 'POST',
    url: URL,
    headers: init.headers ?? {},
    ...(init.body === undefined ? {} : { body: { string: init.body } }),
  });
  return createScansHandler(deps)(request, context()) as Promise<HttpResponseInit>;
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
    expect(mail.messages).toHaveLength(1); // the scan sends what is owed, as the timer does
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
