/** The vending gate: GET /api/subscriptions/{subscriptionId}/compliance[?wait=SECONDS] (docs/reference/http-api.md). */
import { app } from '@azure/functions';
import { createComplianceHandler } from '../app/handlers/compliance.js';
import { FUNCTION_NAMES } from './function-names.js';
import { lazy } from './lazy.js';

app.http(FUNCTION_NAMES.compliance, {
  methods: ['GET'],
  route: 'subscriptions/{subscriptionId}/compliance',
  authLevel: 'function',
  handler: lazy(createComplianceHandler),
});
