import {
  AggregateAuthenticationError,
  AuthenticationError,
  AuthenticationRequiredError,
  CredentialUnavailableError,
  DefaultAzureCredential,
  type AccessToken,
  type DefaultAzureCredentialOptions,
  type GetTokenOptions,
  type TokenCredential,
} from '@azure/identity';
import { looksLikeSecret } from '../core/secret-text.js';
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

/** A token handed out again only while it has more than this left (the SDK pipelines renew theirs 2 minutes before expiry). */
const SHARED_TOKEN_MARGIN_MS = 5 * 60_000;

/**
 * `credential`, with each token it gave kept and handed to the next caller that asks for the same
 * scopes. Every SDK client caches the token of its own pipeline, but not across clients; an
 * `az login` session has no cache of its own, and every token costs a run of `az` (about a second).
 * A request with claims (a Continuous Access Evaluation challenge) or a proof-of-possession token
 * always goes to the credential.
 */
export function shareTokens(credential: TokenCredential, now: () => number = Date.now): TokenCredential {
  const tokens = new Map<string, AccessToken>();
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      if (options?.claims || options?.proofOfPossessionOptions) return credential.getToken(scopes, options);
      const key = JSON.stringify([[scopes].flat(), options?.tenantId ?? '', options?.enableCae === true]);
      const kept = tokens.get(key);
      const at = now();
      if (
        kept &&
        kept.expiresOnTimestamp - at > SHARED_TOKEN_MARGIN_MS &&
        !(kept.refreshAfterTimestamp !== undefined && at >= kept.refreshAfterTimestamp)
      ) {
        return kept;
      }
      const token = await credential.getToken(scopes, options);
      if (token) tokens.set(key, token);
      else tokens.delete(key);
      return token;
    },
  };
}

/**
 * What a person must do when the sign-in failed, as one line; undefined when `error` (or what
 * caused it) is not a failure of the credential. Recognised by the @azure/identity error types,
 * never by their text; the SDK's own account of each method it tried is left to a debug run.
 */
export function describeCredentialFailure(error: unknown): string | undefined {
  const failure = findCredentialError(error);
  if (!failure) return undefined;
  const refused = refusal(failure);
  if (refused) {
    return (
      `the Azure sign-in failed (${refused}): check the service principal's AZURE_CLIENT_ID, AZURE_TENANT_ID and ` +
      'AZURE_CLIENT_SECRET and that this machine reaches the sign-in endpoint, or sign in again with `az login`'
    );
  }
  return (
    'no Azure sign-in was found: run `az login` (then `az account show` to see the account it uses), run where a managed ' +
    'identity is assigned, or set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET for a service principal'
  );
}

type CredentialError = CredentialUnavailableError | AuthenticationError | AggregateAuthenticationError | AuthenticationRequiredError;

/** The credential error in `error` or in its chain of causes (an SDK RestError, the scan's own wrapping). */
function findCredentialError(error: unknown): CredentialError | undefined {
  const seen = new Set<unknown>();
  for (let current = error; current instanceof Error && !seen.has(current); current = current.cause) {
    seen.add(current);
    if (
      current instanceof CredentialUnavailableError ||
      current instanceof AuthenticationError ||
      current instanceof AggregateAuthenticationError ||
      current instanceof AuthenticationRequiredError
    ) {
      return current;
    }
  }
  return undefined;
}

/**
 * When a credential was found and the identity platform refused it (a wrong or expired secret, an
 * unknown client): its error code and the first line of its description. Undefined when no
 * credential was available at all.
 */
function refusal(error: CredentialError): string | undefined {
  const refusedBy =
    error instanceof AuthenticationError
      ? error
      : error instanceof AggregateAuthenticationError
        ? (error.errors as unknown[]).find((inner): inner is AuthenticationError => inner instanceof AuthenticationError)
        : undefined;
  if (!refusedBy) return undefined;
  const { error: code, errorDescription } = refusedBy.errorResponse;
  const firstLine = (errorDescription ?? '').split('\n')[0]!.trim();
  const description = looksLikeSecret(firstLine) ? '' : firstLine.length > 160 ? `${firstLine.slice(0, 159)}…` : firstLine;
  // `error` is an OAuth code (invalid_client), except where a credential put its own sentence there.
  const shownCode = code && /^[\w.-]+$/.test(code) && !description.startsWith(code) ? code : '';
  return [shownCode, description].filter(Boolean).join(': ') || `status ${refusedBy.statusCode}`;
}
