/** POST /api/scans: a scan now; 200 within 60 s, else 202 naming GET /api/scans/{scanId}; 409 while another holds the lease (docs/reference/http-api.md). */
import { app } from '@azure/functions';
import { createScansHandler } from '../app/handlers/scans.js';
import { FUNCTION_NAMES } from './function-names.js';
import { lazy } from './lazy.js';

app.http(FUNCTION_NAMES.scans, {
  methods: ['POST'],
  route: 'scans',
  authLevel: 'function',
  handler: lazy(createScansHandler),
});
