/**
 * The vending gate, GET /api/subscriptions/{subscriptionId}/compliance[?wait] (docs/reference/http-api.md and docs/reference/cli.md
 * `check --wait`): the real handler with the real @azure/functions HttpRequest and
 * InvocationContext, the real adapters against the local Azure test server and Azurite.
 */
import { HttpRequest, type HttpResponseInit } from '@azure/functions';
import { RestError } from '@azure/core-rest-pipeline';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createComplianceHandler, DEFAULT_MAX_WAIT_SECONDS } from '../../../src/app/handlers/compliance.js';
import { FUNCTION_NAMES } from '../../../src/functions/function-names.js';
import { RULE_IDS } from '../../../src/core/model.js';
import { SimulatedTenant, type LocalAzure } from '../../azure-server/index.js';
import { invocationContexts, startAppTestBed, type testAppDependencies, type TestTables } from '../../support/app.js';
import { compliantContact2023 } from '../../support/fixtures.js';
import { expectDocumentedAnswer } from '../../support/report-schema.js';

const COMPLIANT = 'a1111111-1111-4111-8111-111111111111';
const NEW_SUBSCRIPTION = 'b2222222-2222-4222-8222-222222222222';
const EXEMPTED = 'c3333333-3333-4333-8333-333333333333';
const SLOW = 'd4444444-4444-4444-8444-444444444444';
const FOREVER_BARE = 'e5555555-5555-4555-8555-555555555555';

let azure: LocalAzure;
let tables: TestTables;
let deps: ReturnType<typeof testAppDependencies>;
beforeAll(async () => {
  const tenant = new SimulatedTenant();
  tenant.addSubscription({ subscriptionId: COMPLIANT, displayName: 'Production', contacts: [compliantContact2023()] });
  tenant.addSubscription({ subscriptionId: NEW_SUBSCRIPTION, displayName: 'Vended 42', contacts: [] });
  tenant.addSubscription({ subscriptionId: EXEMPTED, displayName: 'Lab', contacts: [] });
  tenant.addSubscription({ subscriptionId: SLOW, displayName: 'Slow', contacts: [compliantContact2023()] });
  tenant.addSubscription({ subscriptionId: FOREVER_BARE, displayName: 'Forever bare', contacts: [] });
  ({ azure, tables, deps } = await startAppTestBed(tenant, { tablePrefix: 'gatetest' }));
});

afterAll(async () => {
  await Promise.all([azure?.close(), tables?.stop()]);
});

beforeEach(() => {
  azure.faults.clear();
});

const invocation = invocationContexts(FUNCTION_NAMES.compliance, 'gate');

function gateRequest(subscriptionId: string, query: Record<string, string> = {}): HttpRequest {
  const search = new URLSearchParams(query).toString();
  return new HttpRequest({
    method: 'GET',
    url: `https://contact-watch.example.net/api/subscriptions/${encodeURIComponent(subscriptionId)}/compliance${search ? `?${search}` : ''}`,
    params: { subscriptionId },
    query,
  });
}

function bodyOf(response: HttpResponseInit): any {
  expectDocumentedAnswer('GET /api/subscriptions/{subscriptionId}/compliance', response);
  expect(typeof response.body).toBe('string');
  return JSON.parse(response.body as string);
}

function header(response: HttpResponseInit, name: string): string | undefined {
  return (response.headers as Record<string, string> | undefined)?.[name];
}

describe('the vending gate', () => {
  it('answers a compliant subscription with one §7 element, not cacheable', async () => {
    const response = await createComplianceHandler(deps)(gateRequest(COMPLIANT.toUpperCase()), invocation());
    expect(response.status).toBe(200);
    expect(header(response, 'content-type')).toMatch(/^application\/json/);
    expect(header(response, 'cache-control')).toBe('no-store');
    const body = bodyOf(response);
    expect(Object.keys(body)).toEqual(['subscriptionId', 'displayName', 'state', 'status', 'source', 'contact', 'findings']);
    expect(body).toMatchObject({
      subscriptionId: COMPLIANT,
      displayName: 'Production',
      state: 'Enabled',
      status: 'compliant',
      source: 'security-contacts-api',
    });
    expect(body.contact.emails).toEqual(['secops@fabrikam.io']);
    expect(body.findings.map((f: any) => f.ruleId)).toEqual([...RULE_IDS]);
    expect(body.findings.every((f: any) => f.result === 'pass')).toBe(true);
  });

  it('answers noncompliant with the failing rules and what to fix, then compliant once the contact is set while wait polls', async () => {
    const handler = createComplianceHandler(deps, { pollIntervalMs: 150, maxPollIntervalMs: 300 });

    const first = bodyOf(await handler(gateRequest(NEW_SUBSCRIPTION), invocation()));
    expect(first.status).toBe('noncompliant');
    expect(first.findings.filter((f: any) => f.result === 'fail').map((f: any) => f.ruleId)).toEqual([...RULE_IDS]);
    expect(first.findings.find((f: any) => f.ruleId === 'contact-exists').message).toMatch(/no security contact/i);

    const readsBefore = azure.requests.count('security-contacts');
    const context = invocation();
    // The pipeline sets the contact once the gate has read it noncompliant and is waiting: the
    // gate's own "waiting" line is the signal, so the order holds however slow the machine is.
    const setWhileWaiting = {
      ...deps,
      log: (ctx: typeof context, event: string, fields?: Record<string, unknown>) => {
        deps.log(ctx, event, fields);
        if (event === 'compliance.waiting' && ctx.invocationId === context.invocationId) {
          azure.tenant.setContacts(NEW_SUBSCRIPTION, [compliantContact2023('cloud-team@fabrikam.io')]);
        }
      },
    };
    const response = await createComplianceHandler(setWhileWaiting, { pollIntervalMs: 150, maxPollIntervalMs: 300 })(
      gateRequest(NEW_SUBSCRIPTION, { wait: '20' }),
      context,
    );
    const body = bodyOf(response);
    expect(response.status).toBe(200);
    expect(body.status).toBe('compliant');
    expect(body.contact.emails).toEqual(['cloud-team@fabrikam.io']);
    expect(azure.requests.count('security-contacts') - readsBefore).toBe(2);
    const waiting = deps.lines.filter((line) => line.invocationId === context.invocationId && line.event === 'compliance.waiting');
    expect(waiting).toEqual([expect.objectContaining({ subscriptionId: NEW_SUBSCRIPTION, status: 'noncompliant', nextReadInMs: 150 })]);
    expect(deps.lines.find((line) => line.invocationId === context.invocationId && line.event === 'compliance.checked')).toMatchObject({
      subscriptionId: NEW_SUBSCRIPTION,
      status: 'compliant',
      waitSeconds: 20,
      reads: 2,
      timedOut: false,
    });
  });

  it('answers the last reading when the wait runs out', async () => {
    const handler = createComplianceHandler(deps, { pollIntervalMs: 200 });
    const context = invocation();
    const body = bodyOf(await handler(gateRequest(FOREVER_BARE, { wait: '1' }), context));
    expect(body.status).toBe('noncompliant');
    // It read again while it waited, and the wait's own end (not the answer's outer bound) stopped it.
    const lines = deps.lines.filter((line) => line.invocationId === context.invocationId);
    expect(lines.filter((line) => line.event === 'compliance.waiting').length).toBeGreaterThan(0);
    expect(lines.find((line) => line.event === 'compliance.checked')).toMatchObject({
      status: 'noncompliant',
      waitSeconds: 1,
      timedOut: false,
      reads: expect.any(Number),
    });
    expect(lines.find((line) => line.event === 'compliance.checked')!.reads as number).toBeGreaterThan(1);
  });

  it('refuses an id that is not a GUID without sending any request to Azure', async () => {
    const seenBefore = azure.requests.all().length;
    const countsBefore = (['identity', 'subscriptions', 'security-contacts', 'resource-graph', 'other'] as const).map((kind) =>
      azure.requests.count(kind),
    );
    for (const id of ['not-a-guid', '', "00000000-0000-0000-0000-00000000000'", 'x'.repeat(5000)]) {
      const response = await createComplianceHandler(deps)(gateRequest(id), invocation());
      expect(response.status).toBe(400);
      expect(header(response, 'content-type')).toMatch(/^application\/json/);
      const body = bodyOf(response);
      expect(Object.keys(body)).toEqual(['error']);
      expect(body.error.code).toBe('InvalidSubscriptionId');
      expect(body.error.message).toMatch(/^subscriptionId: .* is not a subscription id/);
      expect(body.error.message.length).toBeLessThan(300);
    }
    expect(azure.requests.all().length).toBe(seenBefore);
    expect(
      (['identity', 'subscriptions', 'security-contacts', 'resource-graph', 'other'] as const).map((kind) => azure.requests.count(kind)),
    ).toEqual(countsBefore);
  });

  it.each([
    ['abc', /wait: "abc" is not a whole number of seconds from 0 to 200/],
    ['-1', /wait: -1 is out of range; expected a whole number of seconds from 0 to 200/],
    ['1.5', /wait: "1.5" is not a whole number/],
    ['1e3', /wait: "1e3" is not a whole number/],
    [String(DEFAULT_MAX_WAIT_SECONDS + 1), /wait: 201 is out of range; expected a whole number of seconds from 0 to 200/],
  ])('refuses wait=%s with 400 naming the parameter', async (wait, message) => {
    const seenBefore = azure.requests.count('security-contacts');
    const response = await createComplianceHandler(deps)(gateRequest(COMPLIANT, { wait }), invocation());
    expect(response.status).toBe(400);
    expect(bodyOf(response).error).toMatchObject({ code: 'InvalidQueryParameter', message: expect.stringMatching(message) });
    expect(azure.requests.count('security-contacts')).toBe(seenBefore);
  });

  it('refuses wait given twice, and honours a smaller configured cap', async () => {
    const twice = new HttpRequest({
      method: 'GET',
      url: `https://contact-watch.example.net/api/subscriptions/${COMPLIANT}/compliance?wait=1&wait=2`,
      params: { subscriptionId: COMPLIANT },
    });
    const response = await createComplianceHandler(deps)(twice, invocation());
    expect(response.status).toBe(400);
    expect(bodyOf(response).error.message).toMatch(/^wait: give it once/);

    const capped = await createComplianceHandler(deps, { maxWaitSeconds: 30 })(gateRequest(COMPLIANT, { wait: '31' }), invocation());
    expect(capped.status).toBe(400);
    expect(bodyOf(capped).error.message).toMatch(/from 0 to 30/);
  });

  it('answers exempt for a subscription with an active exemption, at once even with a wait, keeping the findings', async () => {
    const today = new Date();
    const expiresOn = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 30)).toISOString().slice(0, 10);
    await deps.store.putExemption({
      subscriptionId: EXEMPTED,
      reason: 'lab tenant, torn down monthly',
      owner: 'lab-owner@fabrikam.io',
      expiresOn,
      createdBy: 'test',
    });
    const readsBefore = azure.requests.count('security-contacts');
    const context = invocation();
    const body = bodyOf(await createComplianceHandler(deps, { pollIntervalMs: 100 })(gateRequest(EXEMPTED, { wait: '30' }), context));
    expect(body.status).toBe('exempt');
    expect(body.findings.find((f: any) => f.ruleId === 'contact-exists').result).toBe('fail');
    // Read once, never waited on.
    expect(azure.requests.count('security-contacts') - readsBefore).toBe(1);
    expect(deps.lines.filter((line) => line.invocationId === context.invocationId).map((line) => line.event)).toEqual([
      'compliance.checked',
    ]);

    // An expired exemption no longer counts.
    await deps.store.putExemption({
      subscriptionId: EXEMPTED,
      reason: 'lab',
      owner: 'lab-owner@fabrikam.io',
      expiresOn: today.toISOString().slice(0, 10),
      createdBy: 'test',
    });
    const later = createComplianceHandler({ ...deps, clock: () => new Date(today.getTime() + 2 * 86_400_000) });
    expect(bodyOf(await later(gateRequest(EXEMPTED), invocation())).status).toBe('noncompliant');
  });

  it('answers within its bound when Azure is slow, with error (never compliant)', async () => {
    // Azure holds the read until the answer has been given; the exemptions come at once, so the
    // bound can only run out on Azure, however slow the machine.
    let answered!: () => void;
    const held = new Promise<void>((resolve) => (answered = resolve));
    azure.faults.add({ target: 'security-contacts', subscriptionId: SLOW, holdUntil: held, times: Infinity });
    const noExemptions = Object.assign(Object.create(deps.store) as typeof deps.store, { listExemptions: async () => [] });
    const handler = createComplianceHandler({ ...deps, store: noExemptions }, { readAllowanceMs: 600 });
    const context = invocation();
    let response: HttpResponseInit;
    try {
      response = await handler(gateRequest(SLOW), context);
    } finally {
      answered();
    }
    // The answer's bound ended it (the read in flight was given up), not an answer from Azure.
    expect(deps.lines.find((line) => line.invocationId === context.invocationId && line.event === 'compliance.checked')).toMatchObject({
      status: 'error',
      timedOut: true,
    });
    expect(response.status).toBe(200);
    const body = bodyOf(response);
    expect(body.status).toBe('error');
    expect(body.findings.every((f: any) => f.result === 'error')).toBe(true);
    expect(body.findings[0].message).toMatch(/no answer from Azure within 1 s/);
  });

  it('answers 503 with a JSON error when the exemptions cannot be read', async () => {
    // The real store, with its storage unreachable: every request fails at the HTTP boundary.
    const unreachable = tables.openStore({
      tablePrefix: 'gatetestdown',
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
    const seenBefore = azure.requests.count('security-contacts');
    const response = await createComplianceHandler({ ...deps, store: unreachable })(gateRequest(COMPLIANT), invocation());
    expect(response.status).toBe(503);
    expect(bodyOf(response).error).toMatchObject({ code: 'ExemptionsUnavailable', message: expect.stringContaining('ECONNREFUSED') });
    expect(azure.requests.count('security-contacts')).toBe(seenBefore);
  });
});
