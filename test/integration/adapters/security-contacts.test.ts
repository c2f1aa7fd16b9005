/**
 * SecurityContactsApi against the local Azure test server: the real SecurityCenter pipeline,
 * DefaultAzureCredential through the App Service managed identity, every outcome of ContactListRead.
 */
import { describe, expect, it, vi } from 'vitest';
import { createAzureAdapters } from '../../../src/compose/azure.js';
import { resolveAzureCloud } from '../../../src/adapters/azure-cloud.js';
import { createAzureCredential } from '../../../src/adapters/credential.js';
import { SECURITY_CONTACTS_API_VERSION } from '../../../src/adapters/security-contacts.js';
import { SimulatedTenant, type LocalAzure } from '../../azure-server/index.js';
import { contactListItems, FAST_RETRY } from '../../support/fixtures.js';
import { adaptersFor, gate, guid, recordingAdaptersFor, ScopeRecordingCredential, useLocalAzure } from './helpers.js';

let azure: LocalAzure;
const tenant = new SimulatedTenant();

const SUB = guid(1);

useLocalAzure(tenant, {}, (started) => (azure = started));

function contactRequests() {
  return azure.requests.of('security-contacts');
}

describe('SecurityContactsApi.listContacts', () => {
  it('reads the list at api-version 2023-12-01-preview with a token for the custom endpoint', async () => {
    const items = contactListItems('2023-12-01-preview');
    tenant.addSubscription({ subscriptionId: SUB, contacts: items });
    const { adapters, credential } = recordingAdaptersFor(azure);

    const read = await adapters.contacts.listContacts(SUB);

    expect(read).toEqual({ kind: 'listed', contacts: items });
    expect(adapters.contacts.stats.calls).toBe(1);
    const [request] = contactRequests();
    expect(request).toMatchObject({
      method: 'GET',
      path: `/subscriptions/${SUB}/providers/Microsoft.Security/securityContacts`,
      apiVersion: SECURITY_CONTACTS_API_VERSION,
      hadBearerToken: true,
      status: 200,
    });
    // The token scope follows AZURE_RESOURCE_MANAGER_ENDPOINT, and the identity endpoint was asked for that resource.
    expect(credential.scopes).toContainEqual([`${azure.url}/.default`]);
    expect(azure.requests.of('identity').map((r) => r.query.resource)).toContain(azure.url);
  });

  it('a trailing slash on AZURE_RESOURCE_MANAGER_ENDPOINT changes neither the URLs nor the token scope', async () => {
    tenant.addSubscription({ subscriptionId: SUB, contacts: [] });
    const env = { ...azure.env(), AZURE_RESOURCE_MANAGER_ENDPOINT: `${azure.url}/` };
    const credential = new ScopeRecordingCredential(createAzureCredential(resolveAzureCloud(env)));
    const adapters = createAzureAdapters(env, { retry: FAST_RETRY, credential });

    expect(await adapters.contacts.listContacts(SUB)).toEqual({ kind: 'listed', contacts: [] });
    expect(credential.scopes).toEqual([[`${azure.url}/.default`]]);
    expect(contactRequests()[0]?.path).toBe(`/subscriptions/${SUB}/providers/Microsoft.Security/securityContacts`);
  });

  it('sees the 2023 fields that the SDK typed operations (2017-08-01-preview) would hide', async () => {
    const items = contactListItems('2023-12-01-preview');
    tenant.addSubscription({ subscriptionId: SUB, contacts: items });
    const read = await adaptersFor(azure).contacts.listContacts(SUB);
    expect(read.kind).toBe('listed');
    const [contact] = read.kind === 'listed' ? (read.contacts as any[]) : [];
    expect(contact.properties.emails).toBe('john@contoso.com;Jane@contoso.com');
    expect(contact.properties.notificationsSources).toHaveLength(2);
  });

  it('accepts a bare JSON array body', async () => {
    const items = contactListItems('2020-01-01-preview');
    tenant.addSubscription({ subscriptionId: SUB, contacts: items, quirks: { bareArrayBody: true } });
    expect(await adaptersFor(azure).contacts.listContacts(SUB)).toEqual({ kind: 'listed', contacts: items });
  });

  it('returns an empty list as listed, not as an error', async () => {
    tenant.addSubscription({ subscriptionId: SUB, contacts: [] });
    expect(await adaptersFor(azure).contacts.listContacts(SUB)).toEqual({ kind: 'listed', contacts: [] });
  });

  it('follows nextLink on the same host and counts every page', async () => {
    const base = contactListItems('2017-08-01-preview')[0];
    const items = ['default1', 'default2', 'default3'].map((name) => ({
      ...base,
      id: `/subscriptions/${SUB}/providers/Microsoft.Security/securityContacts/${name}`,
      name,
    }));
    tenant.addSubscription({ subscriptionId: SUB, contacts: items, quirks: { contactsPageSize: 1 } });
    const adapters = adaptersFor(azure);

    const read = await adapters.contacts.listContacts(SUB);

    expect(read.kind).toBe('listed');
    expect(read.kind === 'listed' && read.contacts.map((c: any) => c.name)).toEqual(['default1', 'default2', 'default3']);
    expect(adapters.contacts.stats.calls).toBe(3);
    expect(contactRequests().map((r) => r.query.$skipToken !== undefined)).toEqual([false, true, true]);
  });

  it('refuses a nextLink on another host: no request (and no token) goes there', async () => {
    tenant.addSubscription({ subscriptionId: SUB, contacts: [] });
    // Same server under another name: a different origin, so it must not be followed.
    const elsewhere = azure.url.replace('127.0.0.1', 'localhost');
    azure.faults.add({
      target: 'security-contacts',
      status: 200,
      body: {
        value: contactListItems('2023-12-01-preview'),
        nextLink: `${elsewhere}/subscriptions/${SUB}/providers/Microsoft.Security/securityContacts?api-version=2023-12-01-preview&page=2`,
      },
    });
    const adapters = adaptersFor(azure);

    const read = await adapters.contacts.listContacts(SUB);

    expect(read.kind).toBe('unreadable');
    expect(read.kind === 'unreadable' && read.message).toContain('localhost');
    expect(read.kind === 'unreadable' && read.message).toContain('not followed');
    expect(contactRequests()).toHaveLength(1);
    expect(adapters.contacts.stats.calls).toBe(1);
  });

  it('403: unreadable, with status, ARM code and message', async () => {
    tenant.addSubscription({ subscriptionId: SUB, quirks: { forbidden: true } });
    const read = await adaptersFor(azure).contacts.listContacts(SUB);
    expect(read.kind).toBe('unreadable');
    expect(read.kind === 'unreadable' && read.message).toMatch(
      /^403 AuthorizationFailed: The client '.*' .*does not have authorization to perform action 'Microsoft\.Security\/securityContacts\/read'/,
    );
    expect(contactRequests()).toHaveLength(1); // 403 is not retried
  });

  it('404: unreadable', async () => {
    const read = await adaptersFor(azure).contacts.listContacts(guid(404));
    expect(read).toEqual({
      kind: 'unreadable',
      message: `404 SubscriptionNotFound: The subscription '${guid(404)}' could not be found.`,
      status: 404,
    });
  });

  it("409 MissingSubscriptionRegistration: provider-not-registered, with ARM's message", async () => {
    tenant.addSubscription({ subscriptionId: SUB, quirks: { providerNotRegistered: true } });
    const read = await adaptersFor(azure).contacts.listContacts(SUB);
    expect(read.kind).toBe('provider-not-registered');
    expect(read.kind === 'provider-not-registered' && read.message).toContain("not registered to use namespace 'Microsoft.Security'");
  });

  it('another 409: unreadable', async () => {
    tenant.addSubscription({ subscriptionId: SUB });
    azure.faults.add({ target: 'security-contacts', status: 409, body: { error: { code: 'Conflict', message: 'Busy.' } } });
    expect(await adaptersFor(azure).contacts.listContacts(SUB)).toEqual({
      kind: 'unreadable',
      message: '409 Conflict: Busy.',
      status: 409,
    });
  });

  it('429 with Retry-After: waits as told, then reads', async () => {
    const items = contactListItems('2023-12-01-preview');
    tenant.addSubscription({ subscriptionId: SUB, contacts: items });
    azure.faults.add({ target: 'security-contacts', status: 429, retryAfterSeconds: 1 });
    const adapters = adaptersFor(azure);

    const started = Date.now();
    const read = await adapters.contacts.listContacts(SUB);

    expect(read).toEqual({ kind: 'listed', contacts: items });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(contactRequests().map((r) => r.status)).toEqual([429, 200]);
    expect(adapters.contacts.stats.calls).toBe(1);
  });

  it('429 without Retry-After: retried with back-off all the same', async () => {
    tenant.addSubscription({ subscriptionId: SUB, contacts: [] });
    azure.faults.add({ target: 'security-contacts', status: 429, times: 2 });
    expect(await adaptersFor(azure).contacts.listContacts(SUB)).toEqual({ kind: 'listed', contacts: [] });
    expect(contactRequests().map((r) => r.status)).toEqual([429, 429, 200]);
  });

  it('persistent 429: unreadable after the retries', async () => {
    tenant.addSubscription({ subscriptionId: SUB, contacts: [] });
    azure.faults.add({ target: 'security-contacts', status: 429, times: Infinity });
    const read = await adaptersFor(azure).contacts.listContacts(SUB);
    expect(read.kind).toBe('unreadable');
    expect(read.kind === 'unreadable' && read.message).toMatch(/^429 TooManyRequests: .*\(still failing after 2 retries\)$/);
    expect(contactRequests()).toHaveLength(FAST_RETRY.maxRetries + 1);
  });

  it('a wait longer than maxRetryAfterMs is not slept on: a 429 is unreadable at once, naming the wait; a 503 is retried on our back-off', async () => {
    tenant.addSubscription({ subscriptionId: SUB, contacts: [] });
    azure.faults.add({ target: 'security-contacts', status: 429, retryAfterSeconds: 3600, times: Infinity });
    const adapters = adaptersFor(azure, { retry: { ...FAST_RETRY, maxRetryAfterMs: 5_000 } });
    const read = await adapters.contacts.listContacts(SUB);
    // One request and no retry: the wait was not slept on (a wait is only ever slept before a retry).
    expect(read).toEqual({
      kind: 'unreadable',
      message: expect.stringMatching(
        /^429 TooManyRequests: .* \(asked to wait 3600 s before retrying, longer than the 5 s contact-watch waits; not retried\)$/,
      ),
      transient: true,
      status: 429,
    });
    expect(contactRequests().map((r) => r.status)).toEqual([429]);

    azure.faults.clear();
    azure.requests.clear();
    azure.faults.add({ target: 'security-contacts', status: 503, retryAfterSeconds: 3600, times: 2 });
    expect(await adapters.contacts.listContacts(SUB)).toEqual({ kind: 'listed', contacts: [] });
    expect(contactRequests().map((r) => r.status)).toEqual([503, 503, 200]);

    // Within the bound, Retry-After is honoured as before (the test above waits 1 s of it).
    azure.requests.clear();
    azure.faults.add({ target: 'security-contacts', status: 429, retryAfterSeconds: 1 });
    expect(await adapters.contacts.listContacts(SUB)).toEqual({ kind: 'listed', contacts: [] });
    expect(contactRequests().map((r) => r.status)).toEqual([429, 200]);
  });

  it('5xx is retried; a persistent 5xx is unreadable', async () => {
    tenant.addSubscription({ subscriptionId: SUB, contacts: [] });
    azure.faults.add({ target: 'security-contacts', status: 503, times: 2 });
    expect(await adaptersFor(azure).contacts.listContacts(SUB)).toEqual({ kind: 'listed', contacts: [] });
    expect(contactRequests().map((r) => r.status)).toEqual([503, 503, 200]);

    azure.requests.clear();
    azure.faults.add({ target: 'security-contacts', status: 500, times: Infinity });
    const read = await adaptersFor(azure).contacts.listContacts(SUB);
    expect(read.kind).toBe('unreadable');
    expect(read.kind === 'unreadable' && read.message).toMatch(/^500 InternalServerError: .*\(still failing after 2 retries\)$/);
    expect(contactRequests()).toHaveLength(3);
  });

  it('a dropped connection is retried', async () => {
    tenant.addSubscription({ subscriptionId: SUB, contacts: [] });
    azure.faults.add({ target: 'security-contacts', dropConnection: true });
    expect(await adaptersFor(azure).contacts.listContacts(SUB)).toEqual({ kind: 'listed', contacts: [] });
    expect(contactRequests().map((r) => r.status)).toEqual([0, 200]);
  });

  it('an endpoint that refuses connections is unreadable after the retries', async () => {
    // Nothing listens on port 1; the managed identity still hands out a token for that audience.
    const env = { ...azure.env(), AZURE_RESOURCE_MANAGER_ENDPOINT: 'https://127.0.0.1:1' };
    const read = await createAzureAdapters(env, { retry: FAST_RETRY }).contacts.listContacts(SUB);
    expect(read.kind).toBe('unreadable');
    expect(read.kind === 'unreadable' && read.message).toMatch(
      /^no answer from https:\/\/127\.0\.0\.1:1 \(ECONNREFUSED: .*; still failing after 2 retries\)$/,
    );
  });

  // The server holds a request until the client has given up on it (a gate, not a race between two
  // timers); the time limit only has to be long enough for an answer that is not held.
  it('a request that does not answer in time is unreadable, and transient (an event retry may succeed)', async () => {
    tenant.addSubscription({ subscriptionId: SUB, contacts: [] });
    const answered = gate();
    const held = azure.faults.add({ target: 'security-contacts', holdUntil: answered.opened, times: Infinity });
    try {
      const read = await adaptersFor(azure, { requestTimeoutMs: 2_000 }).contacts.listContacts(SUB);
      expect(read).toEqual({ kind: 'unreadable', message: `no answer from ${azure.url} within 2 s (2 tries)`, transient: true });
      expect(held.hits).toBe(2);
    } finally {
      answered.open();
    }
    // Both abandoned requests are in the server's log before the next test counts requests.
    await vi.waitFor(() => expect(contactRequests()).toHaveLength(2), { timeout: 10_000 });
  });

  it('a request that timed out once is sent again, and the second answer counts', async () => {
    tenant.addSubscription({ subscriptionId: SUB, contacts: [] });
    const answered = gate();
    const heldOnce = azure.faults.add({ target: 'security-contacts', holdUntil: answered.opened, times: 1 });
    try {
      expect(await adaptersFor(azure, { requestTimeoutMs: 2_000 }).contacts.listContacts(SUB)).toEqual({ kind: 'listed', contacts: [] });
      expect(heldOnce.hits).toBe(1);
    } finally {
      answered.open();
    }
    await vi.waitFor(() => expect(contactRequests()).toHaveLength(2), { timeout: 10_000 });
  });

  it('a 200 body that is not JSON, or not a list, is unreadable', async () => {
    tenant.addSubscription({ subscriptionId: SUB, quirks: { invalidBody: 'not-json' } });
    const notJson = await adaptersFor(azure).contacts.listContacts(SUB);
    expect(notJson.kind).toBe('unreadable');
    expect(notJson.kind === 'unreadable' && notJson.message).toContain('not JSON');

    tenant.setQuirks(SUB, { invalidBody: 'wrong-types' });
    const notList = await adaptersFor(azure).contacts.listContacts(SUB);
    expect(notList).toEqual({ kind: 'unreadable', message: '200 but the body is neither a list nor { "value": [...] }' });
  });

  it('refuses an id that is not a GUID without sending anything', async () => {
    const adapters = adaptersFor(azure);
    const read = await adapters.contacts.listContacts('../../providers/Microsoft.Other');
    expect(read.kind).toBe('unreadable');
    expect(azure.requests.all()).toHaveLength(0);
    expect(adapters.contacts.stats.calls).toBe(0);
  });

  it('throws when the caller aborts', async () => {
    tenant.addSubscription({ subscriptionId: SUB, contacts: [] });
    const answered = gate();
    const held = azure.faults.add({ target: 'security-contacts', holdUntil: answered.opened });
    const controller = new AbortController();
    const read = adaptersFor(azure).contacts.listContacts(SUB, controller.signal);
    try {
      // Aborted once the server holds the request, whenever that is.
      await vi.waitFor(() => expect(held.hits).toBe(1), { timeout: 10_000 });
      controller.abort();
      await expect(read).rejects.toThrow(/abort/i);
    } finally {
      answered.open();
    }
  });
});
