/**
 * The local Azure test server: start it with startLocalAzure(), point the real SDK clients at
 * `url` (ARM endpoint, token scope `${url}/.default`) and let DefaultAzureCredential find the
 * managed identity through `env()`.
 */
export { startLocalAzure, DEFAULT_IDENTITY_CLIENT_ID } from './server.js';
export type { LocalAzure, LocalAzureOptions, LocalRequest, LocalService, LocalTokens } from './types.js';
export {
  SimulatedTenant,
  generateTenant,
  seededRandom,
  ROOT_MANAGEMENT_GROUP_DISPLAY_NAME,
  type AddSubscriptionInput,
  type GenerateTenantOptions,
  type GeneratedProfile,
  type GeneratedTenantSummary,
  type IndexingState,
  type ManagementGroup,
  type RawContact,
  type SimulatedSubscription,
  type SubscriptionPatch,
  type SubscriptionQuirks,
} from './tenant.js';
export { FaultScript, type FaultSpec, type FaultTarget, type RequestKind, type ScriptedFault } from './faults.js';
export { RequestLog, type LoggedRequest } from './request-log.js';
export { generateTestTls, loadOrCreateTestTls, readTestTls, TLS_DIR_VARIABLE, type TestTls } from './tls.js';
export { armErrorBody, sendArmError, sendJson } from './arm-errors.js';
export { normaliseResource } from './tokens.js';
export { IDENTITY_PATH, APP_SERVICE_MSI_API_VERSION } from './services/identity.js';
export { RESOURCE_GRAPH_API_VERSIONS, SECURITY_CONTACT_TYPE, SUBSCRIPTION_TYPE, parseQuery } from './services/resource-graph.js';
export { SECURITY_CONTACTS_API_VERSIONS, toApi2017, toApi2020, toStoredProperties } from './services/security-contacts.js';
export { SUBSCRIPTIONS_API_VERSIONS } from './services/subscriptions.js';
export { defaultCredentialFor, resourceGraphClientFor, securityCenterFor, useManagedIdentityEnv, type RetryTuning } from './sdk-clients.js';
