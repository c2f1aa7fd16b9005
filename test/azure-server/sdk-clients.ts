/**
 * The real SDK clients, configured for a local Azure test server exactly as contact-watch
 * configures them for a sovereign cloud: endpoint = the server, token scope = `<url>/.default`,
 * credential = `new DefaultAzureCredential()` finding the managed identity through
 * IDENTITY_ENDPOINT / IDENTITY_HEADER.
 */
import { ResourceGraphClient } from '@azure/arm-resourcegraph';
import { SecurityCenter } from '@azure/arm-security';
import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import type { LocalAzure } from './types.js';

const MANAGED_IDENTITY_VARIABLES = ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER'] as const;

/**
 * Puts the server's managed identity into process.env (DefaultAzureCredential reads it when
 * constructed) and returns a function that restores the previous values.
 */
export function useManagedIdentityEnv(azure: LocalAzure): () => void {
  const previous = MANAGED_IDENTITY_VARIABLES.map((name) => [name, process.env[name]] as const);
  const env = azure.env();
  for (const name of MANAGED_IDENTITY_VARIABLES) process.env[name] = env[name];
  return () => {
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/**
 * `new DefaultAzureCredential()` with the server's IDENTITY_ENDPOINT / IDENTITY_HEADER put into
 * process.env and left there: MSAL reads them at the first token request, not at construction.
 * (They are the same for every local server of the process, see identity-plane.ts.)
 */
export function defaultCredentialFor(azure: LocalAzure): DefaultAzureCredential {
  useManagedIdentityEnv(azure);
  return new DefaultAzureCredential();
}

export interface RetryTuning {
  maxRetries?: number;
  retryDelayInMs?: number;
  maxRetryDelayInMs?: number;
}

export function resourceGraphClientFor(azure: LocalAzure, credential: TokenCredential, retryOptions?: RetryTuning): ResourceGraphClient {
  return new ResourceGraphClient(credential, {
    endpoint: azure.url,
    credentials: { scopes: [`${azure.url}/.default`] },
    ...(retryOptions ? { retryOptions } : {}),
  });
}

export function securityCenterFor(
  azure: LocalAzure,
  credential: TokenCredential,
  subscriptionId: string,
  retryOptions?: RetryTuning,
): SecurityCenter {
  return new SecurityCenter(credential, subscriptionId, {
    endpoint: azure.url,
    credentialScopes: [`${azure.url}/.default`],
    ...(retryOptions ? { retryOptions } : {}),
  });
}
