/**
 * GET /api/subscriptions[?status] (docs/reference/http-api.md): the stored state from Table Storage, as
 * real stored scans left it (runStoredScan against the local Azure test server and Azurite),
 * through the real handler with the real @azure/functions HttpRequest and InvocationContext.
 */
import { HttpRequest, type HttpResponseInit } from '@azure/functions';
import { RestError } from '@azure/core-rest-pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSubscriptionsHandler } from '../../../src/app/handlers/subscriptions.js';
import { FUNCTION_NAMES } from '../../../src/functions/function-names.js';
import { runStoredScan } from '../../../src/scan/stored-scan.js';
import { SimulatedTenant, type LocalAzure } from '../../azure-server/index.js';
import { invocationContexts, startAppTestBed, type testAppDependencies, type TestTables } from '../../support/app.js';
import { compliantContact2023 } from '../../support/fixtures.js';
import { expectDocumentedAnswer } from '../../support/report-schema.js';

const COMPLIANT = '0a111111-1111-4111-8111-111111111111';
const NO_CONTACT = '1b222222-2222-4222-8222-222222222222';
const EXEMPTED = '2c333333-3333-4333-8333-333333333333';
const DISABLED = '3d444444-4444-4444-8444-444444444444';
const LEAVING = '4e555555-5555-4555-8555-555555555555';
const FORBIDDEN = '5f666666-6666-4666-8666-666666666666';

let azure: LocalAzure;
let tables: TestTables;
let deps: ReturnType<typeof testAppDependencies>;
beforeAll(async () => {
  const tenant = new SimulatedTenant();
  tenant.addSubscription({ subscriptionId: COMPLIANT, displayName: 'Production', contacts: [compliantContact2023()] });
  tenant.addSubscription({ subscriptionId: NO_CONTACT, displayName: 'Sandbox <script>alert(1)</script>', contacts: [] });
  tenant.addSubscription({ subscriptionId: EXEMPTED, displayName: 'Lab', contacts: [] });
  tenant.addSubscription({ subscriptionId: DISABLED, displayName: 'Old', state: 'Disabled', contacts: [] });
  tenant.addSubscription({ subscriptionId: LEAVING, displayName: 'Leaving', contacts: [compliantContact2023()] });
  tenant.addSubscription({ subscriptionId: FORBIDDEN, displayName: 'Locked down', contacts: [] });
  ({ azure, tables, deps } = await startAppTestBed(tenant, { tablePrefix: 'subslisttest' }));

  const today = new Date();
  const expiresOn = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 10)).toISOString().slice(0, 10);
  await deps.store.putExemption({ subscriptionId: EXEMPTED, reason: 'lab', owner: 'lab-owner@fabrikam.io', expiresOn, createdBy: 'test' });
  const scan = () =>
    runStoredScan(
      {},
      {
        inventory: deps.azure.inventory,
        contacts: deps.azure.contacts,
        subscriptions: deps.azure.subscriptions,
        policy: deps.settings.policy,
        store: deps.store,
        trigger: 'test',
      },
    );
  await scan();
  // LEAVING leaves the tenant; the next complete scan marks it gone.
  tenant.removeSubscription(LEAVING);
  await scan();
  // FORBIDDEN's contact can no longer be read: error (the partial scan leaves LEAVING gone).
  azure.faults.add({ target: 'security-contacts', subscriptionId: FORBIDDEN, status: 403, times: Infinity });
  await scan();
}, 60_000);

afterAll(async () => {
  await Promise.all([azure?.close(), tables?.stop()]);
});

const invocation = invocationContexts(FUNCTION_NAMES.subscriptions, 'subscriptions');

function listRequest(search = ''): HttpRequest {
  return new HttpRequest({ method: 'GET', url: `https://contact-watch.example.net/api/subscriptions${search}` });
}

function bodyOf(response: HttpResponseInit): any {
  expectDocumentedAnswer('GET /api/subscriptions', response);
  expect(typeof response.body).toBe('string');
  return JSON.parse(response.body as string);
}

describe('GET /api/subscriptions', () => {
  it('lists every stored subscription, sorted by id, in the documented shape', async () => {
    const response = await createSubscriptionsHandler(deps)(listRequest('?code=function-key'), invocation());
    expect(response.status).toBe(200);
    expect((response.headers as Record<string, string>)['content-type']).toMatch(/^application\/json/);
    const body = bodyOf(response);
    expect(Object.keys(body)).toEqual(['subscriptions']);
    const ids = body.subscriptions.map((s: any) => s.subscriptionId);
    expect(ids).toEqual([COMPLIANT, NO_CONTACT, EXEMPTED, DISABLED, LEAVING, FORBIDDEN]);
    expect(Object.fromEntries(body.subscriptions.map((s: any) => [s.subscriptionId, s.status]))).toEqual({
      [COMPLIANT]: 'compliant',
      [NO_CONTACT]: 'noncompliant',
      [EXEMPTED]: 'exempt',
      [DISABLED]: 'skipped',
      [LEAVING]: 'gone',
      [FORBIDDEN]: 'error',
    });

    const sandbox = body.subscriptions.find((s: any) => s.subscriptionId === NO_CONTACT);
    expect(Object.keys(sandbox)).toEqual([
      'subscriptionId',
      'displayName',
      'state',
      'status',
      'failedRules',
      'findings',
      'contact',
      'source',
      'firstSeenAt',
      'lastEvaluatedAt',
      'statusSince',
      'noncompliantSince',
      'lastAlertedAt',
    ]);
    expect(sandbox.displayName).toBe('Sandbox <script>alert(1)</script>');
    expect(sandbox.failedRules).toContain('contact-exists');
    expect(sandbox.findings[0]).toMatchObject({ ruleId: 'contact-exists', result: 'fail' });
    expect(sandbox.contact).toEqual({
      emails: [],
      alertMinimalSeverity: null,
      notifyRoles: [],
      attackPathMinimalRiskLevel: null,
      shape: 'none',
    });
    expect(Date.parse(sandbox.noncompliantSince)).not.toBeNaN();
    expect(sandbox.lastAlertedAt).toBeNull();

    const production = body.subscriptions.find((s: any) => s.subscriptionId === COMPLIANT);
    expect(production).toMatchObject({
      failedRules: [],
      noncompliantSince: null,
      contact: { emails: ['secops@fabrikam.io'], shape: '2023-12-01-preview' },
    });
  });

  it.each([
    ['noncompliant', [NO_CONTACT]],
    ['compliant', [COMPLIANT]],
    ['exempt', [EXEMPTED]],
    ['skipped', [DISABLED]],
    ['gone', [LEAVING]],
    ['error', [FORBIDDEN]],
    ['NonCompliant', [NO_CONTACT]],
  ])('filters with ?status=%s', async (status, expected) => {
    const response = await createSubscriptionsHandler(deps)(listRequest(`?status=${status}`), invocation());
    expect(response.status).toBe(200);
    expect(bodyOf(response).subscriptions.map((s: any) => s.subscriptionId)).toEqual(expected);
  });

  it.each([
    ['?status=bogus', /^status: "bogus" is not one of compliant, noncompliant, exempt, error, skipped, gone\.$/],
    ['?status=compliant&status=error', /^status: give it once/],
    [`?status=${'x'.repeat(100_000)}`, /^status: "x{60}…" is not one of/],
  ])('refuses %s with 400 naming the parameter', async (search, message) => {
    const response = await createSubscriptionsHandler(deps)(listRequest(search), invocation());
    expect(response.status).toBe(400);
    const body = bodyOf(response);
    expect(body).toEqual({ error: { code: 'InvalidQueryParameter', message: expect.stringMatching(message) } });
  });

  it('answers 503 with a JSON error when the storage cannot be read', async () => {
    const unreachable = tables.openStore({
      tablePrefix: 'subslistdown',
      additionalPolicies: [
        {
          position: 'perCall',
          policy: {
            name: 'storage-unreachable',
            sendRequest: async () => {
              throw new RestError('connect ECONNREFUSED 127.0.0.1:10002', { code: 'ECONNREFUSED' });
            },
          },
        },
      ],
    });
    const response = await createSubscriptionsHandler({ ...deps, store: unreachable })(listRequest(), invocation());
    expect(response.status).toBe(503);
    expect(bodyOf(response).error).toMatchObject({ code: 'StorageUnavailable', message: expect.stringContaining('ECONNREFUSED') });
  });
});
