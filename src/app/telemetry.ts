/**
 * Application Insights through OpenTelemetry (Azure Monitor), loaded only when
 * APPLICATIONINSIGHTS_CONNECTION_STRING is set: scripts/build.js bundles this file on its own into
 * dist/functions/telemetry.cjs, and startTelemetry (./start-telemetry.ts) requires it then — the
 * app's bundle holds no OpenTelemetry code, so a cold start without the setting pays nothing for it.
 *
 * What it does, as Microsoft documents OpenTelemetry for Node Functions apps (`useAzureMonitor`
 * with `@azure/functions-opentelemetry-instrumentation`, host.json `"telemetryMode": "OpenTelemetry"`):
 *   - starts the Azure Monitor distro: traces and logs (and standard metrics) exported to the
 *     connection string's ingestion endpoint;
 *   - tells the host, through `app.setup({ capabilities: { WorkerOpenTelemetryEnabled: true } })`,
 *     that the worker sends its own logs, so the host does not send them a second time;
 *   - sends every `context.log` line itself (the `log` hook): the app's structured JSON lines
 *     (src/adapters/structured-log.ts) become Application Insights traces whose message is the
 *     line and whose custom dimensions are its fields (`event`, `invocationId`, counts…);
 *   - runs each handler in the host's trace context, so logs and dependencies share the
 *     invocation's operation id.
 * The instrumentation package's own log hook sends the line as a message only, without custom
 * dimensions; these hooks are its hooks with that added.
 */
import { app } from '@azure/functions';
import type { LogHookContext, LogLevel, PreInvocationContext } from '@azure/functions';
import type { TokenCredential } from '@azure/identity';
import { useAzureMonitor, shutdownAzureMonitor } from '@azure/monitor-opentelemetry';
import { AzureSdkInstrumentation } from '@azure/opentelemetry-instrumentation-azure-sdk';
import { context as otelContext, propagation } from '@opentelemetry/api';
import { logs, SeverityNumber, type AnyValueMap } from '@opentelemetry/api-logs';

/** The part of `@azure/functions`' `app` this module uses (the host's seam). */
export type FunctionsAppSeam = Pick<typeof app, 'setup'> & { hook: Pick<typeof app.hook, 'log' | 'preInvocation' | 'appTerminate'> };

export interface StartAzureMonitorOptions {
  /** An Entra credential for ingestion (Application Insights with local authentication off). */
  credential?: TokenCredential;
  /** The app to hook (default: `@azure/functions`' `app`). */
  functionsApp?: FunctionsAppSeam;
  /**
   * `useInstrumenter` of the `@azure/core-tracing` inside the app's bundle. The distro's Azure SDK
   * instrumentation finds that package by patching `require`, which a bundle never calls; handed
   * over here, every Azure SDK call (ARM, Table Storage, ACS) becomes a dependency span.
   */
  useAzureSdkInstrumenter?: (instrumenter: never) => void;
}

const LOGGER_NAME = 'contact-watch';
let started = false;

/**
 * Starts Azure Monitor export with `connectionString` and hooks the Functions app's logs to it.
 * Call once, before any function is registered (`app.setup` is locked once the host has read the
 * worker's capabilities). Never logs the connection string.
 */
export function startAzureMonitor(connectionString: string, options: StartAzureMonitorOptions = {}): void {
  if (started) return;
  const functionsApp = options.functionsApp ?? app;
  useAzureMonitor({
    azureMonitorExporterOptions: { connectionString, ...(options.credential ? { credential: options.credential } : {}) },
    // Live Metrics keeps a connection open from every instance; not asked for.
    enableLiveMetrics: false,
    // The app uses no database or logging library; scripts/build.js leaves those instrumentations
    // out of the chunk. (The HTTP instrumentation patches `require('https')`, which the app's ES
    // module bundle never calls: its SDK calls are traced through useAzureSdkInstrumenter.)
    instrumentationOptions: {
      mongoDb: { enabled: false },
      mySql: { enabled: false },
      postgreSql: { enabled: false },
      redis: { enabled: false },
      redis4: { enabled: false },
      bunyan: { enabled: false },
      winston: { enabled: false },
    },
  });
  started = true;
  if (options.useAzureSdkInstrumenter) {
    // The instrumentation's own patch: it calls useInstrumenter(new OpenTelemetryInstrumenter()).
    for (const definition of new AzureSdkInstrumentation({ enabled: false }).getModuleDefinitions())
      definition.patch?.({ useInstrumenter: options.useAzureSdkInstrumenter });
  }

  functionsApp.setup({ capabilities: { WorkerOpenTelemetryEnabled: true } });
  const logger = logs.getLogger(LOGGER_NAME);
  functionsApp.hook.log((context: LogHookContext) => {
    logger.emit({
      body: context.message,
      severityNumber: severityOf(context.level),
      severityText: context.level,
      attributes: { ...logLineAttributes(context.message), 'azure.functions.log.category': context.category },
    });
  });
  functionsApp.hook.preInvocation((context: PreInvocationContext) => {
    const traceContext = context.invocationContext.traceContext;
    if (!traceContext?.traceParent) return;
    const parent = propagation.extract(otelContext.active(), {
      traceparent: traceContext.traceParent,
      tracestate: traceContext.traceState ?? '',
    });
    context.functionHandler = otelContext.bind(parent, context.functionHandler);
  });
  // Sends what is still batched when the host stops the worker.
  functionsApp.hook.appTerminate(() => shutdownAzureMonitor());
}

/** Exports what is batched and stops (tests; the appTerminate hook in the host). */
export async function stopAzureMonitor(): Promise<void> {
  if (!started) return;
  started = false;
  await shutdownAzureMonitor();
}

/**
 * The custom dimensions of one log line: the top-level fields of a structured line
 * (src/adapters/structured-log.ts), each a string, number or boolean, or its JSON; nothing for
 * any other line. The line is already redacted by formatLogLine.
 */
export function logLineAttributes(message: string): AnyValueMap {
  if (!message.startsWith('{')) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || typeof (parsed as { event?: unknown }).event !== 'string')
    return {};
  const attributes: AnyValueMap = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (value === null || value === undefined) continue;
    attributes[key] = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : JSON.stringify(value);
  }
  return attributes;
}

function severityOf(level: LogLevel): SeverityNumber {
  switch (level) {
    case 'trace':
      return SeverityNumber.TRACE;
    case 'debug':
      return SeverityNumber.DEBUG;
    case 'information':
      return SeverityNumber.INFO;
    case 'warning':
      return SeverityNumber.WARN;
    case 'error':
      return SeverityNumber.ERROR;
    case 'critical':
      return SeverityNumber.FATAL;
    default:
      return SeverityNumber.UNSPECIFIED;
  }
}
