/**
 * SecurityContactsApi.putContact against the local Azure test server: the real SecurityCenter
 * pipeline (bearer token, the SDK's retry policies with our Retry-After policy), DefaultAzureCredential
 * through the App Service managed identity, every outcome of ContactWriteResult.
 */
import { describe, expect, it, vi } from 'vitest';
import { createAzureAdapters } from '../../../src/compose/azure.js';
import type { SecurityContactPutBody } from '../../../src/core/model.js';
import { SECURITY_CONTACTS_API_VERSION } from '../../../src/adapters/security-contacts.js';
import { SimulatedTenant, type LocalAzure } from '../../azure-server/index.js';
import { contactListItems, FAST_RETRY } from '../../support/fixtures.js';
import { adaptersFor, gate, guid, useLocalAzure } from './helpers.js';

let azure: LocalAzure;
const tenant = new SimulatedTenant();

const SUB = guid(1);
const CONTACT_PATH = `/subscriptions/${SUB}/providers/Microsoft.Security/securityContacts/default`;

/** The 2023 shape, as `contact-watch fix` writes it. */
const BODY: SecurityContactPutBody = {
  properties: {
    emails: 'secops@fabrikam.com',
    isEnabled: true,
    notificationsByRole: { state: 'On', roles: ['Owner'] },
    notificationsSources: [
      { sourceType: 'Alert', minimalSeverity: 'Medium' },
      { sourceType: 'AttackPath', minimalRiskLevel: 'Critical' },
    ],
  },
};

/** The contact as the securityContacts API lists it once BODY was written. */
function writtenItem(body: SecurityContactPutBody = BODY) {
  return { id: CONTACT_PATH, name: 'default', type: 'Microsoft.Security/securityContacts', properties: body.properties };
}

useLocalAzure(tenant, {}, (started) => (azure = started));

const statuses = (): number[] => azure.requests.contactWrites().map((write) => write.status);

describe('SecurityContactsApi.putContact', () => {
  it('201 when it creates the contact, 200 when it replaces it; the next read sees what was written', async () => {
    tenant.addSubscription({ subscriptionId: SUB });
    const { contacts } = adaptersFor(azure);

    expect(await contacts.putContact(SUB, BODY)).toEqual({ kind: 'written', status: 201 });
    expect(tenant.getSubscription(SUB)!.contacts).toEqual([writtenItem()]);

    const changed: SecurityContactPutBody = { properties: { ...BODY.properties, emails: 'secops@fabrikam.com;soc@fabrikam.com' } };
    expect(await contacts.putContact(SUB.toUpperCase(), changed)).toEqual({ kind: 'written', status: 200 });
    expect(await contacts.listContacts(SUB)).toEqual({ kind: 'listed', contacts: [writtenItem(changed)] });

    const [request] = azure.requests.of('security-contacts');
    expect(request).toMatchObject({ method: 'PUT', path: CONTACT_PATH, apiVersion: SECURITY_CONTACTS_API_VERSION, hadBearerToken: true });
    expect(azure.requests.contactWrites()).toEqual([
      { subscriptionId: SUB, name: 'default', body: BODY, status: 201 },
      { subscriptionId: SUB, name: 'default', body: changed, status: 200 },
    ]);
    expect(contacts.stats).toEqual({ calls: 1, writes: 2 });
  });

  it('replaces a contact an older client wrote in an older shape', async () => {
    tenant.addSubscription({ subscriptionId: SUB, contacts: contactListItems('2020-01-01-preview') });
    const { contacts } = adaptersFor(azure);
    expect(await contacts.putContact(SUB, BODY)).toEqual({ kind: 'written', status: 200 });
    expect(await contacts.listContacts(SUB)).toEqual({ kind: 'listed', contacts: [writtenItem()] });
  });

  it('403: refused, naming the missing write right and the Security Admin role after the service message; not retried', async () => {
    tenant.addSubscription({ subscriptionId: SUB, quirks: { forbidden: true } });
    const result = await adaptersFor(azure).contacts.putContact(SUB, BODY);
    expect(result).toEqual({ kind: 'refused', status: 403, message: expect.any(String) });
    expect(result.kind === 'refused' && result.message).toMatch(
      new RegExp(
        "^403 AuthorizationFailed: The client '.*' .*does not have authorization to perform action 'Microsoft\\.Security/securityContacts/write'.* " +
          `\\(the identity lacks Microsoft\\.Security/securityContacts/write on subscription ${SUB}; the Security Admin role grants it\\)$`,
      ),
    );
    expect(statuses()).toEqual([403]);
  });

  it('an identity that may read but not write (Security Reader): the read lists, the write is refused with 403', async () => {
    tenant.addSubscription({ subscriptionId: SUB, contacts: contactListItems('2023-12-01-preview'), quirks: { readOnlyIdentity: true } });
    const { contacts } = adaptersFor(azure);
    expect(await contacts.listContacts(SUB)).toEqual({ kind: 'listed', contacts: contactListItems('2023-12-01-preview') });
    const result = await contacts.putContact(SUB, BODY);
    expect(result.kind === 'refused' && [result.status, result.transient, result.message]).toEqual([
      403,
      undefined,
      expect.stringContaining('lacks Microsoft.Security/securityContacts/write'),
    ]);
    expect(tenant.getSubscription(SUB)!.contacts).toEqual(contactListItems('2023-12-01-preview'));
  });

  it('a 403 from Azure Policy says so instead of naming a role', async () => {
    tenant.addSubscription({ subscriptionId: SUB });
    azure.faults.add({
      target: 'security-contacts',
      method: 'PUT',
      status: 403,
      body: {
        error: {
          code: 'RequestDisallowedByPolicy',
          message: 'Resource \'default\' was disallowed by policy. Policy identifiers: \'[{"policyAssignment":{"name":"No writes"}}]\'.',
        },
      },
    });
    const result = await adaptersFor(azure).contacts.putContact(SUB, BODY);
    expect(result).toEqual({
      kind: 'refused',
      status: 403,
      message: expect.stringMatching(
        /^403 RequestDisallowedByPolicy: Resource 'default' was disallowed by policy\..* \(an Azure Policy assignment denies writing security contacts on subscription /,
      ),
    });
    expect(result.kind === 'refused' && result.message).not.toContain('Security Admin');
  });

  it('409 MissingSubscriptionRegistration: refused with the code and message, not transient', async () => {
    tenant.addSubscription({ subscriptionId: SUB, quirks: { providerNotRegistered: true } });
    expect(await adaptersFor(azure).contacts.putContact(SUB, BODY)).toEqual({
      kind: 'refused',
      status: 409,
      message:
        "409 MissingSubscriptionRegistration: The subscription is not registered to use namespace 'Microsoft.Security'. See https://aka.ms/rps-not-found for how to register subscriptions.",
    });
    expect(statuses()).toEqual([409]);
  });

  it('409 ReadOnlyDisabledSubscription and 404 SubscriptionNotFound: refused with the code and message', async () => {
    tenant.addSubscription({ subscriptionId: SUB, state: 'Disabled' });
    const { contacts } = adaptersFor(azure);
    expect(await contacts.putContact(SUB, BODY)).toEqual({
      kind: 'refused',
      status: 409,
      message: expect.stringMatching(
        /^409 ReadOnlyDisabledSubscription: The subscription '.*' is disabled and therefore marked as read only\./,
      ),
    });
    expect(await contacts.putContact(guid(404), BODY)).toEqual({
      kind: 'refused',
      status: 404,
      message: `404 SubscriptionNotFound: The subscription '${guid(404)}' could not be found.`,
    });
  });

  it('a 503 is retried by the pipeline and the contact written once', async () => {
    tenant.addSubscription({ subscriptionId: SUB });
    azure.faults.add({ target: 'security-contacts', method: 'PUT', status: 503 });
    const { contacts } = adaptersFor(azure);

    expect(await contacts.putContact(SUB, BODY)).toEqual({ kind: 'written', status: 201 });
    expect(statuses()).toEqual([503, 201]);
    expect(azure.requests.contactWrites({ accepted: true })).toEqual([{ subscriptionId: SUB, name: 'default', body: BODY, status: 201 }]);
    // Every try carried the same body.
    expect(azure.requests.contactWrites().map((write) => write.body)).toEqual([BODY, BODY]);
    expect(tenant.getSubscription(SUB)!.contacts).toEqual([writtenItem()]);
    expect(contacts.stats.writes).toBe(1);
  });

  it('a 429 with Retry-After: waits as told, then writes', async () => {
    tenant.addSubscription({ subscriptionId: SUB });
    azure.faults.add({ target: 'security-contacts', method: 'PUT', status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    expect(await adaptersFor(azure).contacts.putContact(SUB, BODY)).toEqual({ kind: 'written', status: 201 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(statuses()).toEqual([429, 201]);
  });

  it('a 429 without Retry-After is retried with back-off all the same', async () => {
    tenant.addSubscription({ subscriptionId: SUB });
    azure.faults.add({ target: 'security-contacts', method: 'PUT', status: 429, times: 2 });
    expect(await adaptersFor(azure).contacts.putContact(SUB, BODY)).toEqual({ kind: 'written', status: 201 });
    expect(statuses()).toEqual([429, 429, 201]);
  });

  it('a persistent 500 is a transient refusal after the retries, and nothing is written', async () => {
    tenant.addSubscription({ subscriptionId: SUB });
    azure.faults.add({ target: 'security-contacts', method: 'PUT', status: 500, times: Infinity });
    expect(await adaptersFor(azure).contacts.putContact(SUB, BODY)).toEqual({
      kind: 'refused',
      status: 500,
      transient: true,
      message: expect.stringMatching(/^500 InternalServerError: .*\(still failing after 2 retries\)$/),
    });
    expect(statuses()).toEqual([500, 500, 500]);
    expect(tenant.getSubscription(SUB)!.contacts).toEqual([]);
  });

  it('a persistent 429 is a transient refusal too', async () => {
    tenant.addSubscription({ subscriptionId: SUB });
    azure.faults.add({ target: 'security-contacts', method: 'PUT', status: 429, times: Infinity });
    const result = await adaptersFor(azure).contacts.putContact(SUB, BODY);
    expect(result.kind === 'refused' && [result.status, result.transient]).toEqual([429, true]);
    expect(statuses()).toHaveLength(FAST_RETRY.maxRetries + 1);
  });

  it('a dropped connection is retried; an endpoint that refuses connections is a transient refusal', async () => {
    tenant.addSubscription({ subscriptionId: SUB });
    azure.faults.add({ target: 'security-contacts', method: 'PUT', dropConnection: true });
    expect(await adaptersFor(azure).contacts.putContact(SUB, BODY)).toEqual({ kind: 'written', status: 201 });
    expect(statuses()).toEqual([0, 201]);

    const env = { ...azure.env(), AZURE_RESOURCE_MANAGER_ENDPOINT: 'https://127.0.0.1:1' };
    expect(await createAzureAdapters(env, { retry: FAST_RETRY }).contacts.putContact(SUB, BODY)).toEqual({
      kind: 'refused',
      transient: true,
      message: expect.stringMatching(/^no answer from https:\/\/127\.0\.0\.1:1 \(ECONNREFUSED: .*; still failing after 2 retries\)$/),
    });
  });

  it('a write that does not answer in time is sent once more, then a transient refusal', async () => {
    tenant.addSubscription({ subscriptionId: SUB });
    const answered = gate();
    const held = azure.faults.add({ target: 'security-contacts', method: 'PUT', holdUntil: answered.opened, times: Infinity });
    try {
      const result = await adaptersFor(azure, { requestTimeoutMs: 1_000 }).contacts.putContact(SUB, BODY);
      expect(result).toEqual({ kind: 'refused', message: `no answer from ${azure.url} within 1 s (2 tries)`, transient: true });
      expect(held.hits).toBe(2);
    } finally {
      answered.open();
    }
    // Both abandoned requests are in the server's log before the next test counts requests.
    await vi.waitFor(() => expect(azure.requests.contactWrites()).toHaveLength(2), { timeout: 10_000 });
  });

  it('refuses an id that is not a GUID without sending anything', async () => {
    const { contacts } = adaptersFor(azure);
    const result = await contacts.putContact('../../providers/Microsoft.Other', BODY);
    expect(result).toEqual({
      kind: 'refused',
      message: '"../../providers/Microsoft.Other" is not a subscription id (a GUID); no request was sent',
    });
    expect(azure.requests.all()).toHaveLength(0);
    expect(contacts.stats.writes).toBe(0);
  });

  it('throws when the caller aborts', async () => {
    tenant.addSubscription({ subscriptionId: SUB });
    const answered = gate();
    const held = azure.faults.add({ target: 'security-contacts', method: 'PUT', holdUntil: answered.opened });
    const controller = new AbortController();
    const write = adaptersFor(azure).contacts.putContact(SUB, BODY, controller.signal);
    try {
      await vi.waitFor(() => expect(held.hits).toBe(1), { timeout: 10_000 });
      controller.abort();
      await expect(write).rejects.toThrow(/abort/i);
    } finally {
      answered.open();
    }
  });
});
