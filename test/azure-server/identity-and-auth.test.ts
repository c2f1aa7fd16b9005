import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAzure, type LocalAzure } from './index.js';
import { defaultCredentialFor } from './sdk-clients.js';

let azure: LocalAzure;
const subscriptionId = '0b1f6471-1bf0-4dda-aec3-cb9272f09590';

beforeAll(async () => {
  azure = await startLocalAzure();
  azure.tenant.addSubscription({ subscriptionId, displayName: 'Payments Prod' });
});
afterAll(async () => {
  await azure?.close();
});

async function armGet(path: string, authorization?: string): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(`${azure.url}${path}`, { headers: authorization ? { authorization } : {} });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

describe('managed identity (App Service, api-version 2019-08-01)', () => {
  it('gives new DefaultAzureCredential() a token with only IDENTITY_ENDPOINT and IDENTITY_HEADER set', async () => {
    azure.requests.clear();
    const credential = defaultCredentialFor(azure);
    const token = await credential.getToken(`${azure.url}/.default`);

    expect(token.token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now() + 3600_000);
    expect(azure.tokens.isValid(`Bearer ${token.token}`, azure.url)).toBe(true);
    expect(azure.tokens.isValid(`Bearer ${token.token}`, `${azure.url}/`)).toBe(true);
    expect(azure.tokens.isValid(`Bearer ${token.token}`, 'https://management.azure.com')).toBe(false);

    // The request MSAL node sends for the App Service source.
    const [request] = azure.requests.of('identity');
    expect(azure.requests.count('identity')).toBe(1);
    expect(request).toMatchObject({
      method: 'GET',
      path: '/msi/token',
      query: { 'api-version': '2019-08-01', resource: azure.url },
      status: 200,
      hadBearerToken: false,
    });
  });

  it('answers the token body App Service answers', async () => {
    const response = await fetch(`${azure.identityEndpoint}?api-version=2019-08-01&resource=${encodeURIComponent(azure.url)}`, {
      headers: { 'X-IDENTITY-HEADER': azure.identityHeader },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'client_id', 'expires_on', 'resource', 'token_type']);
    expect(body.token_type).toBe('Bearer');
    expect(body.resource).toBe(azure.url);
    expect(body.expires_on).toMatch(/^\d{10}$/);
  });

  it('serves DefaultAzureCredential for a second server started after another one closed', async () => {
    // MSAL node keeps the identity endpoint and its token cache in statics, per process.
    const first = await startLocalAzure();
    await defaultCredentialFor(first).getToken(`${first.url}/.default`);
    await first.close();

    const second = await startLocalAzure();
    try {
      const token = await defaultCredentialFor(second).getToken(`${second.url}/.default`);
      expect(second.tokens.isValid(`Bearer ${token.token}`, second.url)).toBe(true);
      expect(second.requests.count('identity')).toBe(1);
    } finally {
      await second.close();
    }
  });

  it('refuses a missing (400) or wrong (401) X-IDENTITY-HEADER', async () => {
    const target = `${azure.identityEndpoint}?api-version=2019-08-01&resource=${encodeURIComponent(azure.url)}`;
    expect((await fetch(target)).status).toBe(400);
    expect((await fetch(target, { headers: { 'X-IDENTITY-HEADER': 'not-the-secret' } })).status).toBe(401);
  });
});

describe('ARM bearer-token check', () => {
  it('refuses a request without Authorization (401 AuthenticationFailed)', async () => {
    const { status, body, headers } = await armGet(`/subscriptions/${subscriptionId}?api-version=2022-12-01`);
    expect(status).toBe(401);
    expect(body.error.code).toBe('AuthenticationFailed');
    expect(headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  it('refuses a token it never issued (401 InvalidAuthenticationToken)', async () => {
    const { status, body } = await armGet(`/subscriptions/${subscriptionId}?api-version=2022-12-01`, 'Bearer made-up');
    expect(status).toBe(401);
    expect(body.error.code).toBe('InvalidAuthenticationToken');
  });

  it('refuses a token issued for another resource (401 InvalidAuthenticationTokenAudience)', async () => {
    // What a client that kept the public-cloud scope would send to a sovereign endpoint.
    const publicCloudToken = azure.tokens.issue('https://management.azure.com/');
    const { status, body } = await armGet(`/subscriptions/${subscriptionId}?api-version=2022-12-01`, `Bearer ${publicCloudToken}`);
    expect(status).toBe(401);
    expect(body.error.code).toBe('InvalidAuthenticationTokenAudience');
    expect(body.error.message).toContain('https://management.azure.com/');
  });

  it('accepts a token for the server url with or without a trailing slash', async () => {
    for (const resource of [azure.url, `${azure.url}/`]) {
      const { status, body } = await armGet(
        `/subscriptions/${subscriptionId}?api-version=2022-12-01`,
        `Bearer ${azure.tokens.issue(resource)}`,
      );
      expect(status).toBe(200);
      expect(body.displayName).toBe('Payments Prod');
    }
  });

  it('refuses an expired token (401 ExpiredAuthenticationToken)', async () => {
    const token = azure.tokens.issue(azure.url);
    // This token only: tokens other test files' clients cached in this process stay valid.
    azure.tokens.expire(token);
    const { status, body } = await armGet(`/subscriptions/${subscriptionId}?api-version=2022-12-01`, `Bearer ${token}`);
    expect(status).toBe(401);
    expect(body.error.code).toBe('ExpiredAuthenticationToken');
  });

  it('logs whether a bearer token came with the request', async () => {
    azure.requests.clear();
    await armGet(`/subscriptions?api-version=2022-12-01`);
    await armGet(`/subscriptions?api-version=2022-12-01`, `Bearer ${azure.tokens.issue(azure.url)}`);
    expect(azure.requests.all().map((entry) => [entry.kind, entry.status, entry.hadBearerToken])).toEqual([
      ['subscriptions', 401, false],
      ['subscriptions', 200, true],
    ]);
  });
});
