/**
 * Event Grid deliveries for handler tests and benchmarks, built from the real Microsoft.Resources
 * example of the Azure REST specifications (test/fixtures/azure-examples/eventgrid).
 */
import { azureExample } from './fixtures.js';

/** A securityContacts write or delete of one subscription, as its system topic delivers it. */
export function securityContactsEvent(
  schema: 'event-grid-schema' | 'cloud-events-schema',
  subscriptionId: string,
  operation: 'write' | 'delete',
  eventId: string,
  eventTime?: Date,
): any {
  const text = JSON.stringify(azureExample(`eventgrid/Microsoft.Resources/${schema}/resource_write_success.json`))
    .replaceAll('{subscription-id}', subscriptionId)
    .replaceAll('{resource-group}', 'rg');
  const event = JSON.parse(text);
  const type = operation === 'write' ? 'Microsoft.Resources.ResourceWriteSuccess' : 'Microsoft.Resources.ResourceDeleteSuccess';
  const resource = `/subscriptions/${subscriptionId}/providers/Microsoft.Security/securityContacts/default`;
  if (schema === 'event-grid-schema') {
    event.eventType = type;
    if (eventTime) event.eventTime = eventTime.toISOString();
  } else {
    event.type = type;
    if (eventTime) event.time = eventTime.toISOString();
  }
  event.id = eventId;
  event.subject = resource;
  event.data.resourceUri = resource;
  event.data.operationName = `Microsoft.Security/securityContacts/${operation}`;
  return event;
}
