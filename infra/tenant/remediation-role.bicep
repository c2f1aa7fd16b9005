// The write right for an app that repairs security contacts itself, for one principal at the
// management group this module is scoped to. Deployed only when the tenant step's enableRemediation
// parameter is true. Two choices (the parameter role):
// - SecurityAdmin: the built-in Security Admin, its id from infra/roles.json. It can do far more
//   than write security contacts: update the security policy, dismiss alerts and recommendations.
// - custom: a custom role created here, at this management group, with only
//   Microsoft.Security/securityContacts/read and /write: the least privilege that writing a
//   contact takes. Creating it needs Microsoft.Authorization/roleDefinitions/write at the group,
//   which Owner and User Access Administrator hold.
// Assignments are named guid(scope, principal, role), so a redeployment finds the same one.
targetScope = 'managementGroup'

param principalId string

@allowed(['SecurityAdmin', 'custom'])
param role string

var securityAdmin = loadJsonContent('../roles.json').securityAdmin
// This management group: where the custom role is defined and may be assigned (and below it).
var thisGroup = managementGroup().id

// Named from the group, so that every deployment at that group finds the same definition; its role
// name carries the group's name too, as role names are unique in the tenant.
resource securityContactWriter 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (role == 'custom') {
  name: guid(thisGroup, 'contact-watch security contact writer')
  properties: {
    roleName: 'contact-watch Security Contact Writer (${managementGroup().name})'
    description: 'Reads and writes the Microsoft Defender for Cloud security contacts of the subscriptions below this management group, and nothing else: contact-watch repairs them with it.'
    type: 'CustomRole'
    permissions: [
      {
        actions: [
          'Microsoft.Security/securityContacts/read'
          'Microsoft.Security/securityContacts/write'
        ]
        notActions: []
      }
    ]
    assignableScopes: [thisGroup]
  }
}

resource securityAdminAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (role == 'SecurityAdmin') {
  name: guid(thisGroup, principalId, securityAdmin.id)
  properties: {
    roleDefinitionId: tenantResourceId('Microsoft.Authorization/roleDefinitions', securityAdmin.id)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'contact-watch: ${securityAdmin.why}'
  }
}

resource customAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (role == 'custom') {
  name: guid(thisGroup, principalId, securityContactWriter.name)
  properties: {
    roleDefinitionId: securityContactWriter.id
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'contact-watch: repairs security contacts (Microsoft.Security/securityContacts/read and /write only).'
  }
}

output roleAssignmentId string = role == 'custom' ? customAssignment.id : securityAdminAssignment.id
