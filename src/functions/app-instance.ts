/**
 * The Functions app's one instance per worker process. The host loads the entry point once and
 * then calls the registered handlers for as long as the process lives, so what start-up read is
 * kept here: the settings, checked when the entry point is loaded (startup.ts), and the
 * dependencies every handler receives, built from them on the first invocation so that loading
 * the entry point (a cold start) creates no client and opens no connection.
 */
import { readAppSettings } from '../compose/app-settings.js';
import { startTelemetry } from '../app/start-telemetry.js';
import type { AppDependencies } from '../app/dependencies.js';
import { createAppDependencies, type AppSettings } from '../compose/app.js';

let started: { settings: AppSettings; dependencies?: AppDependencies } | undefined;

/**
 * Reads the app settings from `env` (throwing the AppSettingsError that names every bad one, which
 * stops the app before any function is registered), starts telemetry, and keeps the settings.
 */
export function startApp(env: NodeJS.ProcessEnv = process.env): AppSettings {
  const settings = readAppSettings(env);
  startTelemetry(settings);
  started = { settings };
  return settings;
}

/** The process's dependencies, built on first use from the settings startApp read. */
export function appDependencies(): AppDependencies {
  if (!started)
    throw new Error('The app has not started: the entry point (src/functions/index.ts) imports startup.js before any registration.');
  started.dependencies ??= createAppDependencies(started.settings);
  return started.dependencies;
}

/** Forgets the settings and dependencies, so that a test can start the app again. */
export function forgetAppForTests(): void {
  started = undefined;
}
