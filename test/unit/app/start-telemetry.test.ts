/**
 * startTelemetry's deferred start, in process: what the import of the entry point does (the
 * capability, the hooks, nothing loaded), when the chunk is loaded and started, and a start that
 * fails. test/unit/app/telemetry.test.ts runs the real bundle and chunk against a fake ingestion
 * endpoint.
 */
import { describe, expect, it, vi } from 'vitest';
import type { LogHookContext, PreInvocationContext } from '@azure/functions';
import { startTelemetry, type FunctionsAppSeam, type TelemetryModule } from '../../../src/app/start-telemetry.js';
import type { TelemetryHooks } from '../../../src/app/telemetry.js';

const SETTINGS = { applicationInsightsConnectionString: 'InstrumentationKey=00000000-0000-4000-8000-000000000000' };

/** A host's app that records what telemetry asks of it, and runs the hooks as the worker would. */
function fakeApp() {
  const capabilities: Record<string, unknown> = {};
  const hooks = {
    log: [] as Array<(c: LogHookContext) => unknown>,
    preInvocation: [] as Array<(c: PreInvocationContext) => unknown>,
    appTerminate: [] as Array<() => unknown>,
  };
  const functionsApp = {
    setup: (options: { capabilities?: Record<string, unknown> }) => Object.assign(capabilities, options.capabilities),
    hook: {
      log: (handler: (c: LogHookContext) => unknown) => hooks.log.push(handler),
      preInvocation: (handler: (c: PreInvocationContext) => unknown) => hooks.preInvocation.push(handler),
      appTerminate: (handler: () => unknown) => hooks.appTerminate.push(handler),
    },
  } as unknown as FunctionsAppSeam;
  return { functionsApp, capabilities, hooks };
}

/** A chunk that counts its starts and records what its hooks were given. */
function fakeChunk() {
  const calls: string[] = [];
  const telemetry: TelemetryHooks = {
    log: (context) => void calls.push(`log ${context.message}`),
    preInvocation: () => void calls.push('preInvocation'),
    shutdown: async () => void calls.push('shutdown'),
  };
  const load = vi.fn((): TelemetryModule => ({
    startAzureMonitor: (connectionString) => {
      calls.push(`start ${connectionString}`);
      return telemetry;
    },
  }));
  return { load, calls };
}

describe('startTelemetry, deferred', () => {
  it('while the entry point loads: tells the host the worker sends its logs and registers the hooks, and loads nothing', () => {
    const { functionsApp, capabilities, hooks } = fakeApp();
    const { load } = fakeChunk();
    const deferred: Array<() => void> = [];
    expect(startTelemetry(SETTINGS, { load, env: {}, functionsApp, whenLoaded: (start) => deferred.push(start) })).toBe(true);
    expect(capabilities).toEqual({ WorkerOpenTelemetryEnabled: true });
    expect([hooks.log.length, hooks.preInvocation.length, hooks.appTerminate.length]).toEqual([1, 1, 1]);
    expect(deferred).toHaveLength(1);
    expect(load).not.toHaveBeenCalled();
  });

  it('starts once, when the entry point has loaded', async () => {
    const { functionsApp, hooks } = fakeApp();
    const { load, calls } = fakeChunk();
    const deferred: Array<() => void> = [];
    startTelemetry(SETTINGS, { load, env: {}, functionsApp, whenLoaded: (start) => deferred.push(start) });
    deferred[0]!();
    expect(calls).toEqual([`start ${SETTINGS.applicationInsightsConnectionString}`]);
    hooks.preInvocation[0]!({} as PreInvocationContext);
    hooks.log[0]!({ message: 'a line' } as LogHookContext);
    await hooks.appTerminate[0]!();
    expect(load).toHaveBeenCalledTimes(1);
    expect(calls.slice(1)).toEqual(['preInvocation', 'log a line', 'shutdown']);
  });

  it('an invocation or a log line that comes first starts it then, before its handler runs', () => {
    for (const first of ['preInvocation', 'log'] as const) {
      const { functionsApp, hooks } = fakeApp();
      const { load, calls } = fakeChunk();
      const deferred: Array<() => void> = [];
      startTelemetry(SETTINGS, { load, env: {}, functionsApp, whenLoaded: (start) => deferred.push(start) });
      if (first === 'preInvocation') hooks.preInvocation[0]!({} as PreInvocationContext);
      else hooks.log[0]!({ message: 'early' } as LogHookContext);
      expect(calls[0]).toMatch(/^start /);
      expect(calls[1]).toBe(first === 'preInvocation' ? 'preInvocation' : 'log early');
      deferred[0]!();
      expect(load).toHaveBeenCalledTimes(1);
    }
  });

  it('nothing started, nothing to flush when the host stops the worker', async () => {
    const { functionsApp, hooks } = fakeApp();
    const { load } = fakeChunk();
    startTelemetry(SETTINGS, { load, env: {}, functionsApp, whenLoaded: () => undefined });
    await hooks.appTerminate[0]!();
    expect(load).not.toHaveBeenCalled();
  });

  it('a start that fails is said once on stderr, and the app runs on without telemetry', () => {
    const { functionsApp, hooks } = fakeApp();
    const load = vi.fn((): TelemetryModule => {
      throw new Error('the exporter refused the connection string');
    });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const deferred: Array<() => void> = [];
      startTelemetry(SETTINGS, { load, env: {}, functionsApp, whenLoaded: (start) => deferred.push(start) });
      expect(() => deferred[0]!()).not.toThrow();
      expect(() => hooks.preInvocation[0]!({} as PreInvocationContext)).not.toThrow();
      expect(() => hooks.log[0]!({ message: 'a line' } as LogHookContext)).not.toThrow();
      expect(load).toHaveBeenCalledTimes(1);
      expect(stderr.mock.calls.map(([text]) => String(text))).toEqual([
        'contact-watch: Application Insights could not be started, so the app runs without it: the exporter refused the connection string\n',
      ]);
    } finally {
      stderr.mockRestore();
    }
  });

  it('a malformed APPLICATIONINSIGHTS_AUTHENTICATION_STRING still stops the app while the entry point loads', () => {
    const { functionsApp } = fakeApp();
    const { load } = fakeChunk();
    expect(() =>
      startTelemetry(SETTINGS, {
        load,
        env: { APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=x' },
        functionsApp,
        whenLoaded: () => undefined,
      }),
    ).toThrow(/APPLICATIONINSIGHTS_AUTHENTICATION_STRING/);
  });
});
