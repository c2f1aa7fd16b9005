// contact-watch: everything `azd up` deploys into one subscription (docs/deploy.md).
// The tenant-wide read roles are a separate, privileged step: infra/tenant/main.bicep.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('azd environment name: part of the resource token and of the resource group name, and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Region for every resource. It must offer Flex Consumption (az functionapp list-flexconsumption-locations).')
@metadata({ azd: { type: 'location' } })
param location string

@description('Where ACS keeps e-mail data at rest (a geography, not a region): United States, Europe, UK, Australia, Japan, …')
param emailDataLocation string = 'United States'

@description('Security team addresses alerts are sent to, separated by ; or , (CONTACT_WATCH_ALERT_RECIPIENTS).')
@minLength(3)
param alertRecipients string

@description('Optional custom sender domain (e.g. alerts.contoso.org). Empty: the Azure-managed domain (5 e-mails a minute, 10 an hour).')
param customEmailDomain string = ''

@description('Set to true once the custom domain\'s DNS records are verified: only then is it linked to ACS and used as the sender.')
param customEmailDomainVerified bool = false

@description('Six-field NCRONTAB schedule of the tenant scan (CONTACT_WATCH_SCAN_SCHEDULE).')
param scanSchedule string = '0 */30 * * * *'

@description('Six-field NCRONTAB schedule of the new-subscription watch, which finds subscriptions created without a vending event; off: no watch (CONTACT_WATCH_WATCH_SCHEDULE).')
param watchSchedule string = '0 */5 * * * *'

@description('Days between reminders while a subscription stays non-compliant; 0 = never (CONTACT_WATCH_REMINDER_DAYS).')
@minValue(0)
param reminderDays int = 7

@description('How long a new subscription may lack a contact before it is alerted on (CONTACT_WATCH_NEW_SUBSCRIPTION_GRACE_MINUTES).')
@minValue(0)
param newSubscriptionGraceMinutes int = 0

@description('Send a notice when a subscription that was alerted on is fixed (CONTACT_WATCH_FIXED_NOTICES).')
param fixedNotices bool = false

@description('true: the app repairs security contacts itself (the app setting CONTACT_WATCH_REMEDIATION on). Needs remediation.emails in policy.json, and the write right for the identity from the tenant step (its enableRemediation parameter).')
param enableRemediation bool = false

@description('Optional: where people open the report page (for example behind your sign-in), linked from every alert digest; never with a function key (CONTACT_WATCH_REPORT_URL). Empty: no link.')
param reportUrl string = ''

@secure()
@description('Optional: the Teams workflow\'s trigger URL, with its sig= (CONTACT_WATCH_TEAMS_WORKFLOW_URL; a secret). Empty: no Teams channel.')
param teamsWorkflowUrl string = ''

@secure()
@description('Optional: the webhook receiver\'s https:// URL (CONTACT_WATCH_WEBHOOK_URL; a secret). Empty: no webhook channel.')
param webhookUrl string = ''

@secure()
@description('The webhook\'s signing secret, at least 32 bytes (CONTACT_WATCH_WEBHOOK_SECRET); needed with webhookUrl.')
param webhookSecret string = ''

@description('Optional: resource id of an existing Key Vault with Azure RBAC authorization. Given, the three values above are kept there and the app settings are Key Vault references; empty, they are written as app settings.')
param alertChannelsKeyVaultId string = ''

@description('Days status history, and the records of subscriptions gone from the tenant, are kept (CONTACT_WATCH_HISTORY_RETENTION_DAYS).')
@minValue(1)
@maxValue(3650)
param historyRetentionDays int = 400

@description('Days a scan run\'s row is kept (CONTACT_WATCH_SCAN_RUN_RETENTION_DAYS).')
@minValue(1)
@maxValue(3650)
param scanRunRetentionDays int = 90

@description('Azure cloud the app talks to (AZURE_CLOUD).')
@allowed(['AzureCloud', 'AzureUSGovernment', 'AzureChinaCloud'])
param azureCloud string = 'AzureCloud'

@description('Optional: principal (object) id of the vending pipeline\'s identity, granted EventGrid Data Sender on the custom topic only. Empty: no grant.')
param vendingPublisherPrincipalId string = ''

@description('Flex Consumption instance memory (MB). The scan peaks near 200 MB RSS at 10,000 subscriptions.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Flex Consumption scale-out ceiling (40 is the smallest the plan accepts).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = '${abbrs.webSitesFunctions}contact-watch-${resourceToken}'
var deploymentContainerName = 'app-package-${take(resourceToken, 13)}'
// The policy of docs/reference/policy.md (CONTACT_WATCH_POLICY), kept in a file so that its JSON needs no
// escaping: {} is the default policy.
var policyJson = string(loadJsonContent('policy.json'))

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbrs.resourcesResourceGroups}contact-watch-${environmentName}'
  location: location
  tags: tags
}

// The app's one identity: storage, ACS, telemetry, and (infra/tenant) Reader + Security Reader.
module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}contact-watch-${resourceToken}'
    location: location
    tags: tags
  }
}

// Host storage (AzureWebJobsStorage), the Flex Consumption package and the app's tables.
// Shared keys off: everything reaches it with the identity.
module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    workspaceName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    location: location
    tags: tags
  }
}

module communication 'modules/communication.bicep' = {
  name: 'communication'
  scope: rg
  params: {
    communicationServiceName: '${abbrs.communicationCommunicationServices}contact-watch-${resourceToken}'
    emailServiceName: '${abbrs.communicationEmailServices}contact-watch-${resourceToken}'
    dataLocation: emailDataLocation
    customEmailDomain: customEmailDomain
    customEmailDomainVerified: customEmailDomainVerified
    tags: tags
  }
}

module eventTopic 'modules/event-topic.bicep' = {
  name: 'event-topic'
  scope: rg
  params: {
    topicName: '${abbrs.eventGridDomainsTopics}contact-watch-${resourceToken}'
    location: location
    tags: tags
  }
}

// The alert channels' secrets in the given vault, readable by the app's identity alone.
module alertChannelSecrets 'modules/alert-channel-secrets.bicep' = if (!empty(alertChannelsKeyVaultId)) {
  name: 'alert-channel-secrets'
  scope: resourceGroup(split(alertChannelsKeyVaultId, '/')[2], split(alertChannelsKeyVaultId, '/')[4])
  params: {
    keyVaultName: last(split(alertChannelsKeyVaultId, '/'))
    principalId: identity.outputs.principalId
    teamsWorkflowUrl: teamsWorkflowUrl
    webhookUrl: webhookUrl
    webhookSecret: webhookSecret
  }
}

// What each channel's app setting holds: the value, a Key Vault reference to it, or nothing.
var alertChannelsVaultUri = alertChannelSecrets.?outputs.vaultUri ?? ''
var teamsWorkflowUrlSetting = empty(teamsWorkflowUrl)
  ? ''
  : empty(alertChannelsKeyVaultId)
      ? teamsWorkflowUrl
      : '@Microsoft.KeyVault(SecretUri=${alertChannelsVaultUri}secrets/contact-watch-teams-workflow-url)'
var webhookUrlSetting = empty(webhookUrl)
  ? ''
  : empty(alertChannelsKeyVaultId) ? webhookUrl : '@Microsoft.KeyVault(SecretUri=${alertChannelsVaultUri}secrets/contact-watch-webhook-url)'
var webhookSecretSetting = empty(webhookSecret)
  ? ''
  : empty(alertChannelsKeyVaultId)
      ? webhookSecret
      : '@Microsoft.KeyVault(SecretUri=${alertChannelsVaultUri}secrets/contact-watch-webhook-secret)'

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    functionAppName: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: tags
    identityResourceId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    acsEndpoint: communication.outputs.endpoint
    emailSender: communication.outputs.senderAddress
    emailRatePerMinute: communication.outputs.ratePerMinute
    emailRatePerHour: communication.outputs.ratePerHour
    alertRecipients: alertRecipients
    scanSchedule: scanSchedule
    watchSchedule: watchSchedule
    reminderDays: reminderDays
    newSubscriptionGraceMinutes: newSubscriptionGraceMinutes
    fixedNotices: fixedNotices
    remediation: enableRemediation ? 'on' : 'off'
    reportUrl: reportUrl
    teamsWorkflowUrlSetting: teamsWorkflowUrlSetting
    webhookUrlSetting: webhookUrlSetting
    webhookSecretSetting: webhookSecretSetting
    historyRetentionDays: historyRetentionDays
    scanRunRetentionDays: scanRunRetentionDays
    policyJson: policyJson
    azureCloud: azureCloud
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
  }
}

// Data-plane roles on exactly what the app touches (role ids: infra/roles.json).
module roleAssignments 'modules/role-assignments.bicep' = {
  name: 'role-assignments'
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    communicationServiceName: communication.outputs.communicationServiceName
    eventTopicName: eventTopic.outputs.name
    vendingPublisherPrincipalId: vendingPublisherPrincipalId
  }
}

// ---- What azd keeps in the environment (.azure/<env>/.env) and the hooks read. No secrets. ----
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output SERVICE_API_NAME string = functionApp.outputs.name
output CONTACT_WATCH_FUNCTION_APP_NAME string = functionApp.outputs.name
output CONTACT_WATCH_FUNCTION_APP_ID string = functionApp.outputs.resourceId
output CONTACT_WATCH_URL string = functionApp.outputs.url
output CONTACT_WATCH_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output CONTACT_WATCH_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output CONTACT_WATCH_STORAGE_ACCOUNT string = storage.outputs.name
output CONTACT_WATCH_ACS_ENDPOINT string = communication.outputs.endpoint
output CONTACT_WATCH_EMAIL_SENDER string = communication.outputs.senderAddress
output CONTACT_WATCH_EVENT_TOPIC_ID string = eventTopic.outputs.resourceId
output CONTACT_WATCH_EVENT_TOPIC_ENDPOINT string = eventTopic.outputs.endpoint
