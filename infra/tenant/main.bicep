// contact-watch, the privileged step: tenant-wide read for the app's identity, and nothing more.
// Reader (to list every subscription) and Security Reader (to read Microsoft.Security/
// securityContacts) at a management group — the tenant root group by default, whose id is the
// tenant id. Deployed once by someone who may assign roles there (Owner or User Access
// Administrator at that group); the exact command is in README.md, "Deploy it".
targetScope = 'managementGroup'

@description('Principal (object) id of contact-watch\'s user-assigned identity: the azd output CONTACT_WATCH_IDENTITY_PRINCIPAL_ID.')
@minLength(36)
@maxLength(36)
param principalId string

@description('Management group the identity reads below; default the tenant root group (its id is the tenant id).')
param managementGroupId string = tenant().tenantId

module readRoles 'read-roles.bicep' = {
  name: 'contact-watch-read-roles'
  scope: managementGroup(managementGroupId)
  params: {
    principalId: principalId
  }
}

output managementGroupId string = managementGroupId
output roleAssignmentIds array = readRoles.outputs.roleAssignmentIds
