import { DefaultAzureCredential, type DefaultAzureCredentialOptions, type TokenCredential } from '@azure/identity';
import type { AzureCloudSettings } from './azure-cloud.js';

/**
 * The identity contact-watch runs as: DefaultAzureCredential (managed identity through
 * IDENTITY_ENDPOINT + IDENTITY_HEADER, a service principal through AZURE_CLIENT_ID /
 * AZURE_TENANT_ID / AZURE_CLIENT_SECRET, or an `az login` session), signing in at the cloud's
 * authority. It reads its variables from process.env, as @azure/identity always does.
 */
export function createAzureCredential(
  cloud: AzureCloudSettings,
  options: Omit<DefaultAzureCredentialOptions, 'authorityHost'> = {},
): TokenCredential {
  return new DefaultAzureCredential({ ...options, authorityHost: cloud.authorityHost });
}
