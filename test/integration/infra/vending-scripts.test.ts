/**
 * The vending pipeline's two scripts (README "Deploy it", step 3), run for
 * real with sh, curl and jq against the app's real handlers behind a local stand-in for the
 * Functions host and the Event Grid topic (test/support/functions-http-host.ts), the local Azure
 * test server and Azurite:
 *
 * - infra/scripts/publish-subscription-created.sh publishes ContactWatch.SubscriptionCreated with
 *   an Entra token (from `az`, here a stand-in printing a token) — the app records the subscription
 *   and alerts on it once;
 * - infra/scripts/check-subscription.sh is the gate a vending stage fails on: exit 1 with the
 *   failing rules for a subscription without a contact, 0 once its contact is set (also while it
 *   waits), 2 when contact-watch does not answer or refuses.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createComplianceHandler } from '../../../src/app/handlers/compliance.js';
import { createContactEventHandler } from '../../../src/app/handlers/contact-events.js';
import { FUNCTION_NAMES } from '../../../src/functions/function-names.js';
import { SimulatedTenant, type LocalAzure } from '../../azure-server/index.js';
import type { CommunicationEmailService } from '../../azure-server/services/communication-email.js';
import { startAppTestBed, type AppTestBed } from '../../support/app.js';
import { runProcess, type CliRun } from '../../support/cli.js';
import { compliantContact2023 } from '../../support/fixtures.js';
import { startFunctionsHttpHost, type FunctionsHttpHost } from '../../support/functions-http-host.js';
import { REPO_ROOT } from '../../infra/bicep-lint.js';

const VENDED = 'a5000000-0000-4000-8000-000000000001';
const VENDED_LATER_FIXED = 'a5000000-0000-4000-8000-000000000002';
const COMPLIANT = 'b5000000-0000-4000-8000-000000000001';

const FUNCTION_KEY = 'local-function-key';
const EVENT_GRID_TOKEN = 'local-event-grid-token';

let tenant: SimulatedTenant;
let bed: AppTestBed;
let azure: LocalAzure;
let mail: CommunicationEmailService;
let host: FunctionsHttpHost;
let bin: string;

beforeAll(async () => {
  tenant = new SimulatedTenant();
  tenant.addSubscription({ subscriptionId: VENDED, displayName: 'Vended: payments', contacts: [] });
  tenant.addSubscription({ subscriptionId: VENDED_LATER_FIXED, displayName: 'Vended: ledger', contacts: [] });
  tenant.addSubscription({ subscriptionId: COMPLIANT, displayName: 'Production', contacts: [compliantContact2023()] });
  bed = await startAppTestBed(tenant, { tablePrefix: 'vendingscripts' });
  ({ azure, mail } = bed);
  host = await startFunctionsHttpHost({
    functionKey: FUNCTION_KEY,
    routes: [
      {
        functionName: FUNCTION_NAMES.compliance,
        methods: ['GET'],
        route: 'subscriptions/{subscriptionId}/compliance',
        // Quick polls, so that a test that sets the contact while the gate waits takes a second.
        handler: createComplianceHandler(bed.deps, { pollIntervalMs: 200, maxPollIntervalMs: 400 }),
      },
    ],
    topic: { bearerToken: EVENT_GRID_TOKEN, functionName: FUNCTION_NAMES.contactEvents, handler: createContactEventHandler(bed.deps) },
  });
  // `az` as the scripts use it: `az account get-access-token --resource <r> --query accessToken -o tsv`.
  bin = mkdtempSync(join(tmpdir(), 'cw-vending-bin-'));
  writeFileSync(
    join(bin, 'az'),
    `#!/bin/sh
echo "$@" >> "${join(bin, 'az.log')}"
case "$*" in
  "account get-access-token --resource https://eventgrid.azure.net --query accessToken --output tsv") echo "${EVENT_GRID_TOKEN}" ;;
  *) echo "az stand-in: unexpected arguments: $*" >&2; exit 1 ;;
esac
`,
  );
  chmodSync(join(bin, 'az'), 0o755);
});

afterAll(async () => {
  await Promise.all([host?.close(), bed?.close()]);
  if (bin) rmSync(bin, { recursive: true, force: true });
});

beforeEach(() => {
  azure.faults.clear();
  host.requests.length = 0;
});

/** Runs an infra/scripts script with sh and only the environment it is documented to need. */
function runScript(script: string, args: string[], env: Record<string, string>): Promise<CliRun> {
  return runProcess('sh', [join(REPO_ROOT, 'infra/scripts', script), ...args], { PATH: `${bin}:${process.env.PATH ?? ''}`, ...env });
}

const publish = (subscriptionId: string): Promise<CliRun> =>
  runScript('publish-subscription-created.sh', [subscriptionId], { CONTACT_WATCH_EVENT_TOPIC_ENDPOINT: `${host.url}/api/events` });

const gate = (subscriptionId: string, env: Record<string, string> = {}): Promise<CliRun> =>
  runScript('check-subscription.sh', [subscriptionId], {
    CONTACT_WATCH_URL: host.url,
    CONTACT_WATCH_KEY: FUNCTION_KEY,
    CONTACT_WATCH_WAIT_SECONDS: '0',
    ...env,
  });

const messagesNaming = (subscriptionId: string) => mail.messages.filter((message) => (message.html ?? '').includes(subscriptionId));

describe('publish-subscription-created.sh', () => {
  it('publishes ContactWatch.SubscriptionCreated with the Event Grid token; the app records the subscription and alerts once', async () => {
    // The script stamps the event with the time it runs, to the second.
    const before = Math.floor(Date.now() / 1000) * 1000;
    const run = await publish(VENDED.toUpperCase());
    const after = Date.now();
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(
        `^publish-subscription-created: ContactWatch.SubscriptionCreated for ${VENDED.toUpperCase()} accepted \\(event [0-9a-f-]{36}\\)\\n$`,
      ),
    );

    expect(host.requests).toEqual([{ method: 'POST', path: '/api/events', status: 200, authorization: `Bearer ${EVENT_GRID_TOKEN}` }]);
    expect(readFileSync(join(bin, 'az.log'), 'utf8')).toContain('account get-access-token --resource https://eventgrid.azure.net');
    const [delivery] = host.deliveries.slice(-1);
    expect(delivery!.error).toBeUndefined();
    expect(delivery!.event).toMatchObject({
      eventType: 'ContactWatch.SubscriptionCreated',
      subject: `/subscriptions/${VENDED.toUpperCase()}`,
      dataVersion: '1.0',
      data: { subscriptionId: VENDED.toUpperCase() },
    });
    const eventTime = Date.parse((delivery!.event as { eventTime: string }).eventTime);
    expect(eventTime).toBeGreaterThanOrEqual(before);
    expect(eventTime).toBeLessThanOrEqual(after);

    expect(await bed.deps.store.getSubscription(VENDED)).toMatchObject({ status: 'noncompliant', displayName: 'Vended: payments' });
    expect(messagesNaming(VENDED)).toHaveLength(1);
  });

  it('refuses an id that is not a GUID (exit 2) without asking for a token or sending anything', async () => {
    const run = await publish('not-a-subscription');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('"not-a-subscription" is not a subscription id (a GUID)');
    expect(host.requests).toEqual([]);
  });

  it('retries a 503 from the topic, and fails at once on a 401 (no EventGrid Data Sender role)', async () => {
    host.failNext(1, 503);
    expect((await publish(COMPLIANT)).code).toBe(0);
    expect(host.requests.map((request) => request.status)).toEqual([503, 200]);

    host.requests.length = 0;
    host.failNext(1, 401);
    const refused = await publish(COMPLIANT);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).not.toContain('accepted');
    expect(host.requests.map((request) => request.status)).toEqual([401]);
  });
});

describe('check-subscription.sh, the gate a vending stage fails on', () => {
  it('exits 1 for a subscription without a contact, printing each failing rule', async () => {
    const run = await gate(VENDED);
    expect(run.code).toBe(1);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe(`contact-watch: subscription ${VENDED} is noncompliant`);
    expect(lines.slice(1)).toEqual([
      '  contact-exists: No security contact is set on this subscription.',
      '  email-configured: no security contact',
      '  alert-notifications: no security contact',
      '  owner-notifications: no security contact',
      '  attack-path-notifications: no security contact',
    ]);
    expect(host.requests).toEqual([
      { method: 'GET', path: `/api/subscriptions/${VENDED}/compliance`, status: 200, authorization: undefined },
    ]);
  });

  it('exits 0 for a compliant subscription', async () => {
    const run = await gate(COMPLIANT);
    expect(run).toMatchObject({ code: 0, stdout: `contact-watch: subscription ${COMPLIANT} is compliant\n` });
  });

  it('exits 0 when the contact is set while it waits', async () => {
    const waiting = gate(VENDED_LATER_FIXED, { CONTACT_WATCH_WAIT_SECONDS: '20' });
    // The contact is set once the app has read the subscription without one and waits to read it
    // again, however long the script took to start.
    const waitingLine = () =>
      bed.deps.lines.find((line) => line.event === 'compliance.waiting' && line.subscriptionId === VENDED_LATER_FIXED);
    await vi.waitFor(() => expect(waitingLine()).toMatchObject({ status: 'noncompliant' }), { timeout: 20_000, interval: 20 });
    tenant.setContacts(VENDED_LATER_FIXED, [compliantContact2023()]);
    const run = await waiting;
    expect(run).toMatchObject({ code: 0, stdout: `contact-watch: subscription ${VENDED_LATER_FIXED} is compliant\n` });
  });

  it('exits 1 with the error when the subscription cannot be read, never 0', async () => {
    azure.faults.add({ target: 'security-contacts', subscriptionId: COMPLIANT, status: 403, times: Infinity });
    const run = await gate(COMPLIANT);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`contact-watch: subscription ${COMPLIANT} is error`);
    expect(run.stdout).toMatch(/403/);
  });

  it('retries a 503 from the host (reading only the answer that counted), and exits 2 on a wrong key or a non-GUID id', async () => {
    host.failNext(1, 503);
    const retried = await gate(COMPLIANT);
    expect(retried, JSON.stringify({ retried, requests: host.requests })).toMatchObject({ code: 0 });
    expect(host.requests.map((request) => request.status)).toEqual([503, 200]);

    host.requests.length = 0;
    const wrongKey = await gate(COMPLIANT, { CONTACT_WATCH_KEY: 'not-the-key' });
    expect(wrongKey.code).toBe(2);
    expect(wrongKey.stderr).toContain(`contact-watch did not answer for ${COMPLIANT}`);
    expect(host.requests.map((request) => request.status)).toEqual([401]);

    const notGuid = await gate('not-a-subscription');
    expect(notGuid.code).toBe(2);
    expect(host.requests.map((request) => request.status)).toEqual([401, 400]);
  });
});
