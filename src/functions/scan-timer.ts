/** The tenant sweep: every CONTACT_WATCH_SCAN_SCHEDULE (docs/reference/http-api.md). */
import { app } from '@azure/functions';
import { createScanTimerHandler } from '../app/handlers/scan-timer.js';
import { FUNCTION_NAMES } from './function-names.js';
import { lazy } from './lazy.js';

app.timer(FUNCTION_NAMES.scanTimer, {
  schedule: '%CONTACT_WATCH_SCAN_SCHEDULE%',
  handler: lazy(createScanTimerHandler),
});
