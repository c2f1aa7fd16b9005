/**
 * Starts Application Insights through OpenTelemetry, once, at start-up (the Functions entry point,
 * src/functions/app-instance.ts), before any function is registered: the OpenTelemetry code is
 * the separately built chunk of ./telemetry.ts, required only when the connection string is set.
 */
import { createRequire } from 'node:module';
import { useInstrumenter } from '@azure/core-tracing';
import { ManagedIdentityCredential, type TokenCredential } from '@azure/identity';

/** What src/app/telemetry.ts exports (dist/functions/telemetry.cjs once built). */
export type TelemetryModule = Pick<typeof import('./telemetry.js'), 'startAzureMonitor'>;

/** The telemetry chunk, next to the app's bundle (scripts/build.js `telemetryBuildOptions`). */
function requireTelemetryChunk(): TelemetryModule {
  try {
    return createRequire(import.meta.url)('./telemetry.cjs') as TelemetryModule;
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
 * (returns false): the app's bundle holds no OpenTelemetry code. With it, it requires the
 * separately built telemetry chunk (synchronously, since the host locks `app.setup` once it has
 * loaded the entry point) and starts Azure Monitor export of traces and logs, with a managed
 * identity token when APPLICATIONINSIGHTS_AUTHENTICATION_STRING asks for one, with the Azure SDK
 * calls of this bundle as dependency spans (its `useInstrumenter`); each structured line of the
 * app's log (src/adapters/structured-log.ts) then becomes an Application Insights trace with its
 * fields as custom dimensions (src/app/telemetry.ts). Returns whether telemetry was started. `load` replaces the chunk (tests).
 */
export function startTelemetry(
  settings: { applicationInsightsConnectionString?: string },
  { load = requireTelemetryChunk, env = process.env }: { load?: () => TelemetryModule; env?: Record<string, string | undefined> } = {},
): boolean {
  const connectionString = settings.applicationInsightsConnectionString;
  if (!connectionString) return false;
  const credential = telemetryCredential(env);
  load().startAzureMonitor(connectionString, { ...(credential ? { credential } : {}), useAzureSdkInstrumenter: useInstrumenter });
  return true;
}
