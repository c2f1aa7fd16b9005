// The app's one identity, user-assigned so that it exists, and can be granted its roles, before the
// function app does: host storage, the deployment package, Table Storage, ACS, telemetry and, from
// infra/tenant, Reader and Security Reader across the tenant.
param name string
param location string
param tags { *: string }

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

output resourceId string = identity.id
// The application (client) id: what the app settings name (AZURE_CLIENT_ID, AzureWebJobsStorage__clientId).
output clientId string = identity.properties.clientId
// The object id: what role assignments name.
output principalId string = identity.properties.principalId
