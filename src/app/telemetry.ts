/**
 * Application Insights through OpenTelemetry (Azure Monitor), loaded only when
 * APPLICATIONINSIGHTS_CONNECTION_STRING is set: scripts/build.js bundles this file on its own into
 * dist/functions/telemetry.cjs, and startTelemetry (./start-telemetry.ts) requires it then, after
 * the entry point has loaded — the app's bundle holds no OpenTelemetry code, so neither a cold
 * start without the setting nor the import of the entry point with it pays for it.
 *
 * What it does, as Microsoft documents OpenTelemetry for Node Functions apps (`useAzureMonitor`
 * with `@azure/functions-opentelemetry-instrumentation`, host.json `"telemetryMode": "OpenTelemetry"`):
 *   - starts the Azure Monitor distro: traces and logs (and standard metrics) exported to the
 *     connection string's ingestion endpoint;
 *   - sends every `context.log` line itself (the `log` hook): the app's structured JSON lines
 *     (src/adapters/structured-log.ts) become Application Insights traces whose message is the
 *     line and whose custom dimensions are its fields (`event`, `invocationId`, counts…);
 *   - runs each handler in the host's trace context (the `preInvocation` hook), so logs and
 *     dependencies share the invocation's operation id.
 * start-telemetry.ts registers the hooks and tells the host that the worker sends its own logs
 * (`WorkerOpenTelemetryEnabled`, as `@azure/functions-opentelemetry-instrumentation` does) while the
 * entry point loads; the hooks call the ones returned here. The instrumentation package's own log
 * hook sends the line as a message only, without custom dimensions; these are its hooks with that
 * added.
 */
import type { LogHookContext, LogLevel, PreInvocationContext } from '@azure/functions';
import type { TokenCredential } from '@azure/identity';
import { useAzureMonitor, shutdownAzureMonitor } from '@azure/monitor-opentelemetry';
import { AzureSdkInstrumentation } from '@azure/opentelemetry-instrumentation-azure-sdk';
import { context as otelContext, propagation } from '@opentelemetry/api';
import { logs, SeverityNumber, type AnyValueMap } from '@opentelemetry/api-logs';

export interface StartAzureMonitorOptions {
  /** An Entra credential for ingestion (Application Insights with local authentication off). */
  credential?: TokenCredential;
  /**
   * `useInstrumenter` of the `@azure/core-tracing` inside the app's bundle. The distro's Azure SDK
   * instrumentation finds that package by patching `require`, which a bundle never calls; handed
   * over here, every Azure SDK call (ARM, Table Storage, ACS) becomes a dependency span.
   */
  useAzureSdkInstrumenter?: (instrumenter: never) => void;
}

/** What the app's Functions hooks call once telemetry runs (src/app/start-telemetry.ts registers them). */
export interface TelemetryHooks {
  /** Sends a `context.log` line as a trace, its structured fields as custom dimensions. */
  log(context: LogHookContext): void;
  /** Runs the handler in the host's trace context, so its logs and dependencies share the invocation's operation id. */
  preInvocation(context: PreInvocationContext): void;
  /** Exports what is batched and stops. */
  shutdown(): Promise<void>;
}

const LOGGER_NAME = 'contact-watch';
let started = false;

/**
 * Starts Azure Monitor export with `connectionString` (once per process; a second call returns the
 * same hooks) and returns the hooks the Functions app forwards to. Never logs the connection string.
 */
export function startAzureMonitor(connectionString: string, options: StartAzureMonitorOptions = {}): TelemetryHooks {
  if (!started) {
    useAzureMonitor({
      azureMonitorExporterOptions: { connectionString, ...(options.credential ? { credential: options.credential } : {}) },
      // Live Metrics keeps a connection open from every instance; not asked for.
      enableLiveMetrics: false,
      // The app uses no database or logging library, and makes no call through Node's `http` or
      // `https` modules as `require`d (its Azure SDK calls are traced through
      // useAzureSdkInstrumenter); scripts/build.js leaves these instrumentations out of the chunk.
      instrumentationOptions: {
        http: { enabled: false },
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
  }
  const logger = logs.getLogger(LOGGER_NAME);
  return {
    log(context) {
      logger.emit({
        body: context.message,
        severityNumber: severityOf(context.level),
        severityText: context.level,
        attributes: { ...logLineAttributes(context.message), 'azure.functions.log.category': context.category },
      });
    },
    preInvocation(context) {
      const traceContext = context.invocationContext.traceContext;
      if (!traceContext?.traceParent) return;
      const parent = propagation.extract(otelContext.active(), {
        traceparent: traceContext.traceParent,
        tracestate: traceContext.traceState ?? '',
      });
      context.functionHandler = otelContext.bind(parent, context.functionHandler);
    },
    shutdown: stopAzureMonitor,
  };
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
