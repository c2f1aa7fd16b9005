/**
 * Starts Application Insights through OpenTelemetry at start-up (the Functions entry point,
 * src/functions/app-instance.ts), before any function is registered. The OpenTelemetry code is the
 * separately built chunk of ./telemetry.ts, used only when the connection string is set, and
 * loaded only once the entry point has loaded: requiring and starting it takes longer than the
 * rest of a cold start, so the import of the entry point does not wait for it.
 */
import { createRequire } from 'node:module';
import { app, type LogHookContext, type PreInvocationContext } from '@azure/functions';
import { useInstrumenter } from '@azure/core-tracing';
import { ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import type { TelemetryHooks } from './telemetry.js';
import { messageOf } from '../core/error-message.js';

/** What src/app/telemetry.ts exports (dist/functions/telemetry.cjs once built). */
export type TelemetryModule = Pick<typeof import('./telemetry.js'), 'startAzureMonitor'>;

/** The part of `@azure/functions`' `app` that telemetry uses (the host's seam). */
export type FunctionsAppSeam = Pick<typeof app, 'setup'> & { hook: Pick<typeof app.hook, 'log' | 'preInvocation' | 'appTerminate'> };

const TELEMETRY_CHUNK = './telemetry.cjs';

/** The telemetry chunk, next to the app's bundle (scripts/build.js `telemetryBuildOptions`). */
function requireTelemetryChunk(): TelemetryModule {
  return createRequire(import.meta.url)(TELEMETRY_CHUNK) as TelemetryModule;
}

/** Fails now, with what to do, when the chunk that the deferred start will require is not there. */
function checkTelemetryChunk(): void {
  try {
    createRequire(import.meta.url).resolve(TELEMETRY_CHUNK);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'MODULE_NOT_FOUND' || !String((error as Error).message).includes('telemetry.cjs'))
      throw error;
    throw new Error(
      `APPLICATIONINSIGHTS_CONNECTION_STRING is set, but telemetry.cjs is not next to the app's entry point (${new URL('.', import.meta.url).pathname}): ` +
        'build with `node scripts/build.js` (`npm run package` ships it), or unset the setting to run without Application Insights.',
      { cause: error },
    );
  }
}

/** Runs `start` once the entry point has loaded, without keeping a process alive for it (one that only loads the app ends). */
function afterEntryPointLoads(start: () => void): void {
  setImmediate(start).unref();
}

/**
 * The Entra credential for telemetry ingestion, from the host's own setting
 * APPLICATIONINSIGHTS_AUTHENTICATION_STRING (`Authorization=AAD;ClientId=<user-assigned identity>`,
 * or `Authorization=AAD` for the system-assigned one): the infra turns local authentication off on
 * Application Insights, so the exporter must send a token as the host does. Undefined when unset.
 */
export function telemetryCredential(env: Record<string, string | undefined>): TokenCredential | undefined {
  const text = env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING?.trim();
  if (!text) return undefined;
  const pairs = new Map(
    text
      .split(';')
      .map((part) => part.trim())
      .filter(Boolean)
      .map(
        (part) =>
          [
            part
              .slice(0, Math.max(part.indexOf('='), 0))
              .trim()
              .toLowerCase(),
            part.slice(part.indexOf('=') + 1).trim(),
          ] as const,
      ),
  );
  if (pairs.get('authorization')?.toLowerCase() !== 'aad') {
    throw new Error(
      "APPLICATIONINSIGHTS_AUTHENTICATION_STRING is not 'Authorization=AAD;ClientId=<client id of the app's managed identity>' (or 'Authorization=AAD'): fix it or leave it empty.",
    );
  }
  const clientId = pairs.get('clientid');
  return clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
}

/**
 * Application Insights through OpenTelemetry, called once at start-up before any function is
 * registered. Without `applicationInsightsConnectionString` it does nothing and loads nothing
 * (returns false): the app's bundle holds no OpenTelemetry code. With it, while the entry point
 * loads, it checks the settings and that the chunk is there, tells the host that the worker sends
 * its own logs (`app.setup` is locked once the host has loaded the entry point) and registers the
 * Functions hooks; the chunk is required and Azure Monitor export started right after the entry
 * point has loaded (`whenLoaded`), or at the first invocation or log line if one comes sooner, so
 * that no invocation runs before telemetry does and the first one's dependencies and logs are
 * sent like any other's. Export goes with a managed identity token when
 * APPLICATIONINSIGHTS_AUTHENTICATION_STRING asks for one, with the Azure SDK calls of this bundle
 * as dependency spans (its `useInstrumenter`); each structured line of the app's log
 * (src/adapters/structured-log.ts) then becomes an Application Insights trace with its fields as
 * custom dimensions (src/app/telemetry.ts). Should the start fail, the app runs on without
 * telemetry and says so on stderr, which the host keeps. Returns whether telemetry was set up.
 * `load`, `functionsApp` and `whenLoaded` replace the chunk, the host's app and the deferral (tests).
 */
export function startTelemetry(
  settings: { applicationInsightsConnectionString?: string },
  {
    load = requireTelemetryChunk,
    env = process.env,
    functionsApp = app,
    whenLoaded = afterEntryPointLoads,
  }: {
    load?: () => TelemetryModule;
    env?: Record<string, string | undefined>;
    functionsApp?: FunctionsAppSeam;
    whenLoaded?: (start: () => void) => void;
  } = {},
): boolean {
  const connectionString = settings.applicationInsightsConnectionString;
  if (!connectionString) return false;
  const credential = telemetryCredential(env);
  if (load === requireTelemetryChunk) checkTelemetryChunk();

  let hooks: TelemetryHooks | undefined;
  let failed = false;
  const running = (): TelemetryHooks | undefined => {
    if (hooks === undefined && !failed) {
      try {
        hooks = load().startAzureMonitor(connectionString, {
          ...(credential ? { credential } : {}),
          useAzureSdkInstrumenter: useInstrumenter,
        });
      } catch (error) {
        failed = true;
        process.stderr.write(`contact-watch: Application Insights could not be started, so the app runs without it: ${messageOf(error)}\n`);
      }
    }
    return hooks;
  };

  functionsApp.setup({ capabilities: { WorkerOpenTelemetryEnabled: true } });
  functionsApp.hook.log((context: LogHookContext) => running()?.log(context));
  functionsApp.hook.preInvocation((context: PreInvocationContext) => running()?.preInvocation(context));
  // Sends what is still batched when the host stops the worker.
  functionsApp.hook.appTerminate(() => hooks?.shutdown());
  whenLoaded(() => void running());
  return true;
}
