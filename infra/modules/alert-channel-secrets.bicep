// The alert channels' secrets in an existing Key Vault (Azure RBAC authorization): the Teams
// workflow's URL, the webhook's URL and its signing secret, each written as a secret of its own
// when given, and readable by the app's identity alone (Key Vault Secrets User on each secret, not
// on the vault). The app settings then hold Key Vault references to them (modules/function-app.bicep),
// which the Functions host resolves with the same identity. Deployed to the vault's resource group.
param keyVaultName string
param principalId string

@secure()
param teamsWorkflowUrl string

@secure()
param webhookUrl string

@secure()
param webhookSecret string

var roles = loadJsonContent('../roles.json')

// Only the ones given: an empty value writes no secret.
var given = filter(
  [
    { name: 'contact-watch-teams-workflow-url', value: teamsWorkflowUrl }
    { name: 'contact-watch-webhook-url', value: webhookUrl }
    { name: 'contact-watch-webhook-secret', value: webhookSecret }
  ],
  entry => !empty(entry.value)
)

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' existing = {
  name: keyVaultName
}

resource secrets 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = [
  for entry in given: {
    parent: vault
    name: entry.name
    properties: {
      value: entry.value
      contentType: 'text/plain'
    }
  }
]

resource secretsRead 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (entry, index) in given: {
    name: guid(secrets[index].id, principalId, roles.keyVaultSecretsUser.id)
    scope: secrets[index]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser.id)
      principalId: principalId
      principalType: 'ServicePrincipal'
      description: 'contact-watch: ${roles.keyVaultSecretsUser.why}'
    }
  }
]

// The references name each secret without a version, so the app gets a new value within a day of
// it being set in the vault (or at its next restart).
output vaultUri string = vault.properties.vaultUri
