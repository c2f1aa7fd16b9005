// The per-subscription vending hook (docs/deploy.md, step 3): deployed by a subscription-
// vending pipeline into each new subscription, it forwards that subscription's
// Microsoft.Security/securityContacts writes and deletes to contact-watch's Event Grid trigger, so
// a contact removed or changed is re-evaluated within seconds instead of at the next scan.
//
//   az deployment sub create --subscription <new subscription> --location <region> \
//     --template-file infra/modules/subscription-hook.bicep \
//     --parameters functionResourceId=<CONTACT_WATCH_FUNCTION_APP_ID>/functions/contactEvents
//
// An Azure subscription can have only one system topic of type Microsoft.Resources.Subscriptions:
// if the landing zone already has one, pass its resource group and name (existingSystemTopic)
// and only the event subscription is added to it.
targetScope = 'subscription'

@description('Resource id of the Event Grid-triggered function: <function app id>/functions/contactEvents (the app may live in another subscription of the same tenant).')
param functionResourceId string

@description('Region of the resource group that holds the system topic (the topic itself is global).')
param location string = deployment().location

@description('Resource group for the system topic, created when missing.')
param resourceGroupName string = 'rg-contact-watch-hook'

@description('Name of the subscription\'s Microsoft.Resources.Subscriptions system topic (or of the existing one).')
param systemTopicName string = 'egst-subscription-${subscription().subscriptionId}'

@description('true when the subscription already has its system topic in resourceGroupName/systemTopicName.')
param existingSystemTopic bool = false

param tags { *: string } = {}

resource hookGroup 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: resourceGroupName
  location: location
  tags: tags
}

module topic 'subscription-hook-topic.bicep' = {
  name: 'contact-watch-subscription-hook'
  scope: hookGroup
  params: {
    functionResourceId: functionResourceId
    systemTopicName: systemTopicName
    existingSystemTopic: existingSystemTopic
    subscriptionResourceId: subscription().id
    tags: tags
  }
}

output systemTopicId string = topic.outputs.systemTopicId
output eventSubscriptionName string = topic.outputs.eventSubscriptionName
