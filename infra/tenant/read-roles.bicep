// Reader and Security Reader for one principal at the management group this module is scoped to.
// Role ids only from infra/roles.json; names guid(scope, principal, role).
targetScope = 'managementGroup'

param principalId string

var roles = loadJsonContent('../roles.json')
var readRoles = [
  roles.reader
  roles.securityReader
]

resource assignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in readRoles: {
    name: guid(managementGroup().id, principalId, role.id)
    properties: {
      roleDefinitionId: tenantResourceId('Microsoft.Authorization/roleDefinitions', role.id)
      principalId: principalId
      principalType: 'ServicePrincipal'
      description: 'contact-watch: ${role.why}'
    }
  }
]

output roleAssignmentIds string[] = [for (role, index) in readRoles: assignments[index].id]
