/** GET /api/report: the self-contained HTML page (docs/reference/http-api.md). */
import { app } from '@azure/functions';
import { createReportHandler } from '../app/handlers/report.js';
import { FUNCTION_NAMES } from './function-names.js';
import { lazy } from './lazy.js';

app.http(FUNCTION_NAMES.report, {
  methods: ['GET'],
  route: 'report',
  authLevel: 'function',
  handler: lazy(createReportHandler),
});
