/**
 * The spans of ARM requests: one per request from each client, as the Functions app's telemetry
 * exports them (docs/deploy.md), and none from clients built with `spans: false` (the CLI's). The
 * credential's token requests have their own, either way.
 */
import { useInstrumenter, type Instrumenter, type TracingContext, type TracingSpan } from '@azure/core-tracing';
import { afterEach, describe, expect, it } from 'vitest';
import { openCliDependencies } from '../../../src/compose/cli.js';
import { SimulatedTenant, type LocalAzure } from '../../azure-server/index.js';
import { adaptersFor, gatherInventory, guid, useLocalAzure } from './helpers.js';

let azure: LocalAzure;
const tenant = new SimulatedTenant();
useLocalAzure(tenant, {}, (started) => (azure = started));

/** A context that only holds values, as the SDK sets and reads them. */
class ValueContext implements TracingContext {
  constructor(private readonly values = new Map<symbol, unknown>()) {}
  getValue(key: symbol): unknown {
    return this.values.get(key);
  }
  setValue(key: symbol, value: unknown): TracingContext {
    return new ValueContext(new Map(this.values).set(key, value));
  }
  deleteValue(key: symbol): TracingContext {
    const values = new Map(this.values);
    values.delete(key);
    return new ValueContext(values);
  }
}

function instrumenter(startSpan: (name: string) => TracingSpan): Instrumenter {
  return {
    startSpan: (name) => ({ span: startSpan(name), tracingContext: new ValueContext() }),
    withContext: (_context, callback, ...args) => callback(...args),
    parseTraceparentHeader: () => undefined,
    createRequestHeaders: () => ({}),
  };
}

const span = (recording: boolean): TracingSpan => ({
  setStatus: () => undefined,
  setAttribute: () => undefined,
  end: () => undefined,
  recordException: () => undefined,
  isRecording: () => recording,
});

/** Records the name of every span the Azure SDK starts (its requests' spans are `HTTP GET`, `HTTP POST`). */
function recordSpans(): string[] {
  const names: string[] = [];
  useInstrumenter(
    instrumenter((name) => {
      names.push(name);
      return span(true);
    }),
  );
  return names;
}

// Back to no tracing: nothing else in this process records spans.
afterEach(() => useInstrumenter(instrumenter(() => span(false))));

describe('spans of ARM requests', () => {
  it('the app’s clients make one per request', async () => {
    tenant.addSubscription({ subscriptionId: guid(1), contacts: [] });
    const spans = recordSpans();
    const adapters = adaptersFor(azure);

    await gatherInventory(adapters.inventory, {});
    await adapters.contacts.listContacts(guid(1));
    await adapters.subscriptions.getSubscription(guid(1));

    // Two Resource Graph pages, one securityContacts read, one subscription read; and the token's own.
    expect(spans.filter((name) => name.startsWith('HTTP '))).toHaveLength(4 + azure.requests.count('identity'));
  });

  it('the CLI’s clients make none', async () => {
    tenant.addSubscription({ subscriptionId: guid(1), contacts: [] });
    const spans = recordSpans();
    const { azure: adapters } = openCliDependencies(azure.env());

    await gatherInventory(adapters.inventory, {});
    await adapters.contacts.listContacts(guid(1));
    await adapters.subscriptions.getSubscription(guid(1));

    // Only the credential's token requests, which are not ARM clients' (and are few).
    expect(spans.filter((name) => name.startsWith('HTTP '))).toHaveLength(azure.requests.count('identity'));
    // The requests went out all the same.
    expect(azure.requests.count('security-contacts')).toBe(1);
    expect(azure.requests.count('resource-graph')).toBe(2);
  });
});
