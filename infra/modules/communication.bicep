// Azure Communication Services for the alert e-mails: an Email Communication Service with an
// Azure-managed domain (always: it works at once), optionally a custom domain, and the ACS resource
// the domain is linked to. The app sends through the ACS endpoint with the managed identity, so
// local authentication is off on the ACS resource: its access keys (and any connection string made
// from them) are refused. The Email Communication Service and its domains have no keys of their
// own and no such property: sending is authorised on the ACS resource.
//
// A custom domain needs DNS records before it can be linked: deploy once with customEmailDomain,
// publish the records (az communication email domain show … --query verificationRecords), verify,
// then redeploy with customEmailDomainVerified=true (docs/deploy.md, "A custom sender domain").
param communicationServiceName string
param emailServiceName string
param dataLocation string
param customEmailDomain string
param customEmailDomainVerified bool
param tags { *: string }

var useCustomDomain = !empty(customEmailDomain) && customEmailDomainVerified

resource emailService 'Microsoft.Communication/emailServices@2023-04-01' = {
  name: emailServiceName
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
  }
}

resource azureManagedDomain 'Microsoft.Communication/emailServices/domains@2023-04-01' = {
  parent: emailService
  name: 'AzureManagedDomain'
  location: 'global'
  tags: tags
  properties: {
    domainManagement: 'AzureManaged'
    userEngagementTracking: 'Disabled'
  }
}

resource customDomain 'Microsoft.Communication/emailServices/domains@2023-04-01' = if (!empty(customEmailDomain)) {
  parent: emailService
  name: empty(customEmailDomain) ? 'unused' : customEmailDomain
  location: 'global'
  tags: tags
  properties: {
    domainManagement: 'CustomerManaged'
    userEngagementTracking: 'Disabled'
  }
}

// The sender user name of the address the app sends from (DoNotReply@<domain>). An
// Azure-managed domain has it from the start; a custom domain gets it here.
resource customSender 'Microsoft.Communication/emailServices/domains/senderUsernames@2023-04-01' = if (!empty(customEmailDomain)) {
  parent: customDomain
  name: 'DoNotReply'
  properties: {
    username: 'DoNotReply'
    displayName: 'contact-watch'
  }
}

// 2025-05-01 is the first stable API version with disableLocalAuth.
resource communicationService 'Microsoft.Communication/communicationServices@2025-05-01' = {
  name: communicationServiceName
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
    disableLocalAuth: true
    linkedDomains: useCustomDomain ? [azureManagedDomain.id, customDomain.id] : [azureManagedDomain.id]
  }
}

// The sender address is the From address recipients see: the domain's fromSenderDomain ("P2 sender
// domain ... displayed to the email recipients [RFC 5322]" in the 2023-04-01 API), not
// mailFromSenderDomain (the P1 envelope domain [RFC 5321]), though both are the same on an
// Azure-managed domain.
var senderDomain = useCustomDomain ? customDomain!.properties.fromSenderDomain : azureManagedDomain.properties.fromSenderDomain

output communicationServiceName string = communicationService.name
output endpoint string = 'https://${communicationService.properties.hostName}'
output senderAddress string = 'DoNotReply@${senderDomain}'
// The ACS sending quota the outbox keeps to (CONTACT_WATCH_EMAIL_RATE_PER_MINUTE/_PER_HOUR).
output ratePerMinute int = useCustomDomain ? 30 : 5
output ratePerHour int = useCustomDomain ? 100 : 10
