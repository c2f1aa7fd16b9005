/**
 * One Event Grid delivery costs the same number of Table Storage requests whatever the number of
 * subscriptions stored: the event reads, records and alerts on its own subscription by key. The
 * real handler against the local Azure test server (with its ACS Email service) and Azurite, the
 * requests counted on the wire. (Timings are in `npm run bench:event`.)
 */
import type { PipelineRequest, SendRequest } from '@azure/core-rest-pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContactEventHandler } from '../../../src/app/handlers/contact-events.js';
import { FUNCTION_NAMES } from '../../../src/functions/function-names.js';
import { SimulatedTenant } from '../../azure-server/index.js';
import { invocationContexts, startAppTestBed, testAppDependencies, type AppTestBed } from '../../support/app.js';
import { securityContactsEvent } from '../../support/events.js';
import { recordTenantRun, subscriptionIdFor, verdict } from '../../contract/support.js';

const EVENT_TARGETS = [subscriptionIdFor(0), subscriptionIdFor(1)];
let bed: AppTestBed;

beforeAll(async () => {
  const tenant = new SimulatedTenant();
  for (const id of EVENT_TARGETS) tenant.addSubscription({ subscriptionId: id, displayName: `Target ${id.slice(0, 8)}`, contacts: [] });
  bed = await startAppTestBed(tenant, { tablePrefix: 'eventcostunused' });
});

afterAll(async () => {
  await bed?.close();
});

/**
 * Records `stored` subscriptions, then counts the Table requests of one contact-delete event, and
 * those of them that query the subscriptions table rather than read an entity by its key.
 */
async function tableRequestsOfOneEvent(stored: number, target: string): Promise<{ requests: number; subscriptionQueries: number }> {
  const prefix = `eventcost${stored}`;
  const counted = { requests: 0, subscriptionQueries: 0 };
  const counting = {
    position: 'perCall' as const,
    policy: {
      name: 'count',
      sendRequest(request: PipelineRequest, next: SendRequest) {
        counted.requests += 1;
        const url = new URL(request.url);
        if (request.method === 'GET' && url.pathname.endsWith(`/${prefix}subscriptions()`)) counted.subscriptionQueries += 1;
        return next(request);
      },
    },
  };
  // The outbox sits beside the store, so its requests are counted too.
  const deps = testAppDependencies({
    azure: bed.azure,
    mail: bed.mail,
    tables: bed.tables,
    tablePrefix: prefix,
    storePolicies: [counting],
  });
  const verdicts = Array.from({ length: stored }, (_, i) => verdict(subscriptionIdFor(i), 'compliant'));
  await recordTenantRun(deps.store, `seed-${stored}`, verdicts);
  await deps.store.connection.table('outbox'); // created on first use; that belongs to no event

  const sentBefore = bed.mail.messages.length;
  counted.requests = 0;
  counted.subscriptionQueries = 0;
  await createContactEventHandler(deps)(
    securityContactsEvent('event-grid-schema', target, 'delete', `cost-${stored}`),
    invocationContexts(FUNCTION_NAMES.contactEvents, `cost-${stored}`)(),
  );
  expect(await deps.store.getSubscription(target)).toMatchObject({ status: 'noncompliant', lastEvaluatedBy: `event:cost-${stored}` });
  expect(bed.mail.messages.length).toBe(sentBefore + 1);
  return { ...counted };
}

describe('the cost of one event', () => {
  it('is the same number of Table requests with 50 and with 500 subscriptions stored', async () => {
    const small = await tableRequestsOfOneEvent(50, EVENT_TARGETS[0]!);
    const large = await tableRequestsOfOneEvent(500, EVENT_TARGETS[1]!);
    expect(large.requests).toBe(small.requests);
    expect(small.requests).toBeLessThanOrEqual(20);
    // Every subscription it reads, it reads by key: nothing lists the stored subscriptions.
    expect([small.subscriptionQueries, large.subscriptionQueries]).toEqual([0, 0]);
  });
});
