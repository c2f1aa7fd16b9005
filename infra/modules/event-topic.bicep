// The custom topic a subscription-vending pipeline publishes ContactWatch.SubscriptionCreated to
// (docs/reference/events.md). Keys and SAS are disabled: publishers authenticate with Microsoft Entra ID and
// need EventGrid Data Sender on this topic. The event subscription to the app's Event Grid trigger
// is created after the code is deployed (infra/scripts/postdeploy.sh): Event Grid validates an
// Azure Function destination against the deployed function, which does not exist at provision time.
param topicName string
param location string
param tags { *: string }

resource topic 'Microsoft.EventGrid/topics@2025-02-15' = {
  name: topicName
  location: location
  tags: tags
  properties: {
    inputSchema: 'EventGridSchema'
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
    minimumTlsVersionAllowed: '1.2'
  }
}

output name string = topic.name
output resourceId string = topic.id
output endpoint string = topic.properties.endpoint
