// The app's one storage account: the Functions host's storage (AzureWebJobsStorage), the Flex
// Consumption deployment package (a private blob container) and the app's state in Table Storage.
// Shared keys are off, so every request, the platform's and the app's, is made with a Microsoft
// Entra token (the app's identity and its roles, modules/role-assignments.bicep); nothing reads
// an account key or a SAS.
param name string
param location string
param tags { *: string }

@description('The private container Flex Consumption deploys the app package to and runs it from.')
param deploymentContainerName string

resource account 'Microsoft.Storage/storageAccounts@2025-08-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    // Microsoft Entra ID only: no account keys, no SAS, no anonymous reads, no local (SFTP) users.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    isLocalUserEnabled: false
    isSftpEnabled: false
    allowCrossTenantReplication: false
    supportsHttpsTrafficOnly: true
    minimumTlsVersion: 'TLS1_2'
    // Standard endpoints, <account>.<service>.<the cloud's storage suffix>: the host's service URIs
    // (modules/function-app.bicep) are built that way.
    dnsEndpointType: 'Standard'
    // Flex Consumption without a virtual network reaches the account over its public endpoint;
    // access is by identity and role, not by network.
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      // Set when the account is created and never changeable afterwards; accounts created by
      // earlier versions of this template have it on.
      requireInfrastructureEncryption: true
      services: {
        blob: { enabled: true }
        file: { enabled: true }
        queue: { enabled: true }
        table: { enabled: true }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-08-01' = {
  parent: account
  name: 'default'
  properties: {
    // A deleted package, key or container can be restored for a week.
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-08-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

output name string = account.name
output resourceId string = account.id
output deploymentContainerName string = deploymentContainer.name
