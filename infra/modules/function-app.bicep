// The Functions app: Flex Consumption (FC1), Node 22, the user-assigned identity for everything
// (host storage, the deployment package, Table Storage, ACS, ARM and telemetry). No keys or
// connection strings with secrets anywhere: shared-key access is off on the storage account and
// local authentication is off on Application Insights.
param functionAppName string
param planName string
param location string
param tags { *: string }

param identityResourceId string
param identityClientId string
param storageAccountName string
param deploymentContainerName string
param applicationInsightsName string

param acsEndpoint string
param emailSender string
param emailRatePerMinute int
param emailRatePerHour int
param alertRecipients string
param scanSchedule string
param watchSchedule string
param reminderDays int
param newSubscriptionGraceMinutes int
param fixedNotices bool
@allowed(['off', 'on'])
param remediation string
param reportUrl string
// The alert channels' settings (a secret each: the value, or a Key Vault reference to it); an
// empty one is not written.
@secure()
param teamsWorkflowUrlSetting string = ''
@secure()
param webhookUrlSetting string = ''
@secure()
param webhookSecretSetting string = ''
param historyRetentionDays int
param scanRunRetentionDays int
param policyJson string
param azureCloud string

param instanceMemoryMB int
param maximumInstanceCount int

resource storage 'Microsoft.Storage/storageAccounts@2025-08-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  // azd deploys the `api` service of azure.yaml to the site with this tag.
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    // The identity the Functions host resolves Key Vault references in app settings with.
    keyVaultReferenceIdentity: identityResourceId
    httpsOnly: true
    clientCertEnabled: false
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// The app settings: every name of APP_SETTING_NAMES (src/compose/app-settings.ts) and
// local.settings.example.json, plus the platform's identity settings. AzureWebJobsStorage is given
// in its identity-based form (AzureWebJobsStorage__*): a plain AzureWebJobsStorage value, even an
// empty one, would be read as a connection string. Its services are named by URI, not by
// AzureWebJobsStorage__accountName: Microsoft documents the account-name form as valid only for an
// account with the public cloud's default DNS suffix (core.windows.net), and AZURE_CLOUD may be
// AzureUSGovernment or AzureChinaCloud. FUNCTIONS_WORKER_RUNTIME is not set: Flex Consumption takes
// the runtime from functionAppConfig and refuses that setting.
var alertChannelSettings = union(
  empty(teamsWorkflowUrlSetting) ? {} : { CONTACT_WATCH_TEAMS_WORKFLOW_URL: teamsWorkflowUrlSetting },
  empty(webhookUrlSetting) ? {} : { CONTACT_WATCH_WEBHOOK_URL: webhookUrlSetting },
  empty(webhookSecretSetting) ? {} : { CONTACT_WATCH_WEBHOOK_SECRET: webhookSecretSetting }
)

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: union({
    // ---- the Functions host: its keys, the timer's schedule and locks in blobs, its diagnostic
    // events in tables. The queue URI keeps the connection whole, as the account name did, but
    // nothing here uses queues (no queue or blob trigger) and no queue role is granted. Each URI
    // is the account's standard endpoint in the cloud deployed to (modules/storage.bicep). ----
    AzureWebJobsStorage__blobServiceUri: 'https://${storage.name}.blob.${environment().suffixes.storage}'
    AzureWebJobsStorage__queueServiceUri: 'https://${storage.name}.queue.${environment().suffixes.storage}'
    AzureWebJobsStorage__tableServiceUri: 'https://${storage.name}.table.${environment().suffixes.storage}'
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identityClientId}'
    // ---- the identity DefaultAzureCredential uses (user-assigned: it must be named) ----
    AZURE_CLIENT_ID: identityClientId
    // ---- contact-watch (docs/reference/settings.md) ----
    AZURE_CLOUD: azureCloud
    AZURE_RESOURCE_MANAGER_ENDPOINT: '' // empty: the cloud's own ARM endpoint
    CONTACT_WATCH_STORAGE: 'https://${storage.name}.table.${environment().suffixes.storage}'
    CONTACT_WATCH_POLICY: policyJson
    CONTACT_WATCH_ACS_ENDPOINT: acsEndpoint
    CONTACT_WATCH_ACS_CONNECTION_STRING: '' // never set in Azure: the endpoint with the managed identity
    CONTACT_WATCH_EMAIL_SENDER: emailSender
    CONTACT_WATCH_ALERT_RECIPIENTS: alertRecipients
    CONTACT_WATCH_REMINDER_DAYS: string(reminderDays)
    CONTACT_WATCH_NEW_SUBSCRIPTION_GRACE_MINUTES: string(newSubscriptionGraceMinutes)
    CONTACT_WATCH_FIXED_NOTICES: fixedNotices ? 'true' : 'false'
    CONTACT_WATCH_REMEDIATION: remediation
    CONTACT_WATCH_EMAIL_RATE_PER_MINUTE: string(emailRatePerMinute)
    CONTACT_WATCH_EMAIL_RATE_PER_HOUR: string(emailRatePerHour)
    CONTACT_WATCH_REPORT_URL: reportUrl
    CONTACT_WATCH_SCAN_SCHEDULE: scanSchedule
    CONTACT_WATCH_WATCH_SCHEDULE: watchSchedule
    CONTACT_WATCH_HISTORY_RETENTION_DAYS: string(historyRetentionDays)
    CONTACT_WATCH_SCAN_RUN_RETENTION_DAYS: string(scanRunRetentionDays)
  }, alertChannelSettings)
}

// Basic (publishing-profile) credentials off: azd and az deploy with Microsoft Entra tokens.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = site.name
output resourceId string = site.id
output url string = 'https://${site.properties.defaultHostName}'
