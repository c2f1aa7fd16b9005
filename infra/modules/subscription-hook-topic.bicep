// The resource-group part of subscription-hook.bicep: the subscription's system topic and the
// event subscription to contact-watch's contactEvents function (docs/reference/events.md), filtered to the
// securityContacts writes and deletes.
param functionResourceId string
param systemTopicName string
param existingSystemTopic bool
param subscriptionResourceId string
param tags { *: string }

resource newTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = if (!existingSystemTopic) {
  name: systemTopicName
  location: 'global'
  tags: tags
  properties: {
    source: subscriptionResourceId
    topicType: 'Microsoft.Resources.Subscriptions'
  }
}

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource contactEvents 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: topic
  name: 'contact-watch-security-contacts'
  dependsOn: [
    newTopic
  ]
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: functionResourceId
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [
        'Microsoft.Resources.ResourceWriteSuccess'
        'Microsoft.Resources.ResourceDeleteSuccess'
      ]
      enableAdvancedFilteringOnArrays: true
      advancedFilters: [
        {
          operatorType: 'StringIn'
          key: 'data.operationName'
          values: [
            'Microsoft.Security/securityContacts/write'
            'Microsoft.Security/securityContacts/delete'
          ]
        }
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

output systemTopicId string = topic.id
output eventSubscriptionName string = contactEvents.name
