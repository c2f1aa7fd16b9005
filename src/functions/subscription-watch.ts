/**
 * The new-subscription watch: every CONTACT_WATCH_WATCH_SCHEDULE (docs/reference/scanning.md). Registered
 * only when the setting is not `off`; with the setting unset, on the default schedule itself, since
 * the host refuses a `%…%` schedule it cannot resolve.
 */
import { app } from '@azure/functions';
import { createSubscriptionWatchHandler } from '../app/handlers/subscription-watch.js';
import { readWatchSettings } from '../compose/app-settings.js';
import { FUNCTION_NAMES } from './function-names.js';
import { lazy } from './lazy.js';

const watch = readWatchSettings(process.env);
if (watch.enabled) {
  app.timer(FUNCTION_NAMES.subscriptionWatch, {
    schedule: watch.timerSchedule,
    handler: lazy(createSubscriptionWatchHandler),
  });
}
