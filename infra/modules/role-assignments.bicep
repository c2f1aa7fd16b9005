// The app identity's data-plane roles, each on the one resource it is needed for, and the optional
// publisher role for the vending pipeline. Role ids come only from infra/roles.json (the
// documented allow-list the offline checker reads too); names are guid(scope, principal, role),
// so a redeployment finds the same assignment.
param principalId string
param storageAccountName string
param applicationInsightsName string
param communicationServiceName string
param eventTopicName string

@description('Principal (object) id of the vending pipeline\'s identity; empty: no EventGrid Data Sender grant.')
param vendingPublisherPrincipalId string = ''

var roles = loadJsonContent('../roles.json')

resource storage 'Microsoft.Storage/storageAccounts@2025-08-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource communicationService 'Microsoft.Communication/communicationServices@2023-04-01' existing = {
  name: communicationServiceName
}

resource eventTopic 'Microsoft.EventGrid/topics@2025-02-15' existing = {
  name: eventTopicName
}

// Both storage roles are on the account, the narrowest scope that works: the app creates its
// tables on first use and the Functions host its containers (azure-webjobs-hosts,
// azure-webjobs-secrets) and a diagnostic-events table each month, while a role on one table or
// container reaches only one that already exists. The Flex Consumption package container is in the
// same account, so the host's Blob Data Owner covers it; no queue role, as nothing uses queues (no
// queue or blob trigger; Event Grid delivers to the function directly, endpointType AzureFunction).
resource tableData 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, roles.storageTableDataContributor.id)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor.id)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'contact-watch: ${roles.storageTableDataContributor.why}'
  }
}

resource hostBlobData 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, roles.storageBlobDataOwner.id)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner.id)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'contact-watch: ${roles.storageBlobDataOwner.why}'
  }
}

resource telemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, principalId, roles.monitoringMetricsPublisher.id)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher.id)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'contact-watch: ${roles.monitoringMetricsPublisher.why}'
  }
}

resource emailSend 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(communicationService.id, principalId, roles.communicationAndEmailServiceOwner.id)
  scope: communicationService
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.communicationAndEmailServiceOwner.id)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'contact-watch: ${roles.communicationAndEmailServiceOwner.why}'
  }
}

resource vendingPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(vendingPublisherPrincipalId)) {
  name: guid(eventTopic.id, vendingPublisherPrincipalId, roles.eventGridDataSender.id)
  scope: eventTopic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventGridDataSender.id)
    principalId: vendingPublisherPrincipalId
    principalType: 'ServicePrincipal'
    description: 'contact-watch: ${roles.eventGridDataSender.why}'
  }
}
