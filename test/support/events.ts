/**
 * Event Grid deliveries for handler tests, benchmarks and the soak run: the system topic's events,
 * built from the real Microsoft.Resources example of the Azure REST specifications
 * (test/fixtures/azure-examples/eventgrid), and the app's own SubscriptionCreated event.
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

/**
 * The ContactWatch.SubscriptionCreated event a vending pipeline publishes to the app's custom
 * topic, in the Event Grid schema.
 */
export function subscriptionCreatedEvent(subscriptionId: string, eventId: string, eventTime = new Date()): unknown {
  return {
    id: eventId,
    topic: '/subscriptions/99999999-9999-4999-8999-999999999999/resourceGroups/platform/providers/Microsoft.EventGrid/topics/vending',
    subject: `/subscriptions/${subscriptionId}`,
    eventType: 'ContactWatch.SubscriptionCreated',
    eventTime: eventTime.toISOString(),
    data: { subscriptionId },
    dataVersion: '1.0',
    metadataVersion: '1',
  };
}

/** The same event as a vending pipeline publishing CloudEvents 1.0 sends it. */
export function subscriptionCreatedCloudEvent(subscriptionId: string, eventId: string): unknown {
  return {
    specversion: '1.0',
    id: eventId,
    source: '/vending/pipeline',
    type: 'ContactWatch.SubscriptionCreated',
    time: new Date().toISOString(),
    data: { subscriptionId },
  };
}
