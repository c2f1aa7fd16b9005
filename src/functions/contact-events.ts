/** SubscriptionCreated from the vending pipeline and securityContacts writes/deletes (docs/reference/events.md). */
import { app } from '@azure/functions';
import { createContactEventHandler } from '../app/handlers/contact-events.js';
import { FUNCTION_NAMES } from './function-names.js';
import { lazy } from './lazy.js';

app.eventGrid(FUNCTION_NAMES.contactEvents, {
  handler: lazy(createContactEventHandler),
});
