// contact-watch, the privileged step: tenant-wide read for the app's identity, and nothing more
// unless remediation is asked for (then a write right on security contacts too).
// Reader (to list every subscription) and Security Reader (to read Microsoft.Security/
// securityContacts) at a management group — the tenant root group by default, whose id is the
// tenant id. Deployed once by someone who may assign roles there (Owner or User Access
// Administrator at that group); the exact command is in docs/deploy.md, step 2.
targetScope = 'managementGroup'

@description('Principal (object) id of contact-watch\'s user-assigned identity: the azd output CONTACT_WATCH_IDENTITY_PRINCIPAL_ID.')
@minLength(36)
@maxLength(36)
param principalId string

@description('Management group the identity reads below; default the tenant root group (its id is the tenant id).')
param managementGroupId string = tenant().tenantId

@description('Also grant the right to write security contacts (remediationRole), so that the app can repair them itself (app setting CONTACT_WATCH_REMEDIATION on). A write right across the tenant: leave false unless you turn remediation on.')
param enableRemediation bool = false

@description('With enableRemediation: SecurityAdmin grants the built-in Security Admin; custom creates a custom role at the management group with only Microsoft.Security/securityContacts/read and /write, and grants that.')
@allowed(['SecurityAdmin', 'custom'])
param remediationRole string = 'SecurityAdmin'

module readRoles 'read-roles.bicep' = {
  name: 'contact-watch-read-roles'
  scope: managementGroup(managementGroupId)
  params: {
    principalId: principalId
  }
}

module remediation 'remediation-role.bicep' = if (enableRemediation) {
  name: 'contact-watch-remediation-role'
  scope: managementGroup(managementGroupId)
  params: {
    principalId: principalId
    role: remediationRole
  }
}

output managementGroupId string = managementGroupId
output roleAssignmentIds string[] = enableRemediation
  ? concat(readRoles.outputs.roleAssignmentIds, [remediation!.outputs.roleAssignmentId])
  : readRoles.outputs.roleAssignmentIds
