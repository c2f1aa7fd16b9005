// The Defender for Cloud security contact a vending pipeline sets on each new subscription, in the
// 2023-12-01-preview shape contact-watch checks (all five rules of docs/reference/rules.md pass with the
// defaults). Subscription scope; used by the sub-vending example in infra/vending/README.md.
targetScope = 'subscription'

@description('The security team\'s addresses, separated by ;')
@minLength(3)
param emails string

@allowed(['High', 'Medium', 'Low'])
param minimalAlertSeverity string = 'High'

@allowed(['Critical', 'High', 'Medium', 'Low'])
param minimalAttackPathRiskLevel string = 'High'

resource contact 'Microsoft.Security/securityContacts@2023-12-01-preview' = {
  name: 'default'
  properties: {
    emails: emails
    isEnabled: true
    notificationsByRole: {
      state: 'On'
      roles: [
        'Owner'
      ]
    }
    notificationsSources: [
      {
        sourceType: 'Alert'
        minimalSeverity: minimalAlertSeverity
      }
      {
        sourceType: 'AttackPath'
        minimalRiskLevel: minimalAttackPathRiskLevel
      }
    ]
  }
}

output securityContactId string = contact.id
