/** GET /api/subscriptions[?status=STATUS]: the stored state of every subscription (docs/reference/http-api.md). */
import { app } from '@azure/functions';
import { createSubscriptionsHandler } from '../app/handlers/subscriptions.js';
import { FUNCTION_NAMES } from './function-names.js';
import { lazy } from './lazy.js';

app.http(FUNCTION_NAMES.subscriptions, {
  methods: ['GET'],
  route: 'subscriptions',
  authLevel: 'function',
  handler: lazy(createSubscriptionsHandler),
});
