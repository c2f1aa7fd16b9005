// Security Admin for one principal at the management group this module is scoped to: what writing
// Microsoft.Security/securityContacts takes, for an app that repairs contacts itself. Deployed only
// when the tenant step's remediation parameter is true. Role id only from infra/roles.json; name
// guid(scope, principal, role).
targetScope = 'managementGroup'

param principalId string

var securityAdmin = loadJsonContent('../roles.json').securityAdmin

resource assignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(managementGroup().id, principalId, securityAdmin.id)
  properties: {
    roleDefinitionId: tenantResourceId('Microsoft.Authorization/roleDefinitions', securityAdmin.id)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'contact-watch: ${securityAdmin.why}'
  }
}

output roleAssignmentId string = assignment.id
