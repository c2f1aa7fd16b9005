// contact-watch, the privileged step: tenant-wide read for the app's identity, and nothing more
// unless remediation is asked for (then Security Admin too, to write security contacts).
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

@description('Also grant Security Admin, so that the app can repair security contacts itself (CONTACT_WATCH_REMEDIATION on). A write right across the tenant: leave false unless you turn remediation on.')
param remediation bool = false

module readRoles 'read-roles.bicep' = {
  name: 'contact-watch-read-roles'
  scope: managementGroup(managementGroupId)
  params: {
    principalId: principalId
  }
}

module remediationRole 'remediation-role.bicep' = if (remediation) {
  name: 'contact-watch-remediation-role'
  scope: managementGroup(managementGroupId)
  params: {
    principalId: principalId
  }
}

output managementGroupId string = managementGroupId
output roleAssignmentIds string[] = remediation
  ? concat(readRoles.outputs.roleAssignmentIds, [remediationRole!.outputs.roleAssignmentId])
  : readRoles.outputs.roleAssignmentIds
