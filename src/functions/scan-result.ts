/** GET /api/scans/{scanId}: one scan's outcome, 202 while it runs (docs/reference/http-api.md). */
import { app } from '@azure/functions';
import { createScanResultHandler } from '../app/handlers/scan-result.js';
import { FUNCTION_NAMES } from './function-names.js';
import { lazy } from './lazy.js';

app.http(FUNCTION_NAMES.scanResult, {
  methods: ['GET'],
  // No `{scanId:guid}` constraint (docs/reference/http-api.md): the handler answers 400 for a malformed id.
  route: 'scans/{scanId}',
  authLevel: 'function',
  handler: lazy(createScanResultHandler),
});
