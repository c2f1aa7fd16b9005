import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SecurityCenter } from '@azure/arm-security';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedTenant, startLocalAzure, type LocalAzure } from './index.js';
import { defaultCredentialFor, securityCenterFor } from './sdk-clients.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'azure-examples', 'securityContacts');
/** The subscription every securityContacts fixture is about. */
const FIXTURE_SUBSCRIPTION = '20ff7fc3-e762-44dd-bd96-b71116dcdc23';
const OTHER_SUBSCRIPTION = 'c1d2e3f4-0000-4000-8000-000000000001';

function fixture(version: string, file: string): any {
  return JSON.parse(readFileSync(join(FIXTURES, version, file), 'utf8'));
}
const contactsPath = (subscriptionId: string, suffix = ''): string =>
  `/subscriptions/${subscriptionId}/providers/Microsoft.Security/securityContacts${suffix}`;

let tenant: SimulatedTenant;
let azure: LocalAzure;
let client: SecurityCenter;

/** A request through the SecurityCenter client's own pipeline (bearer token, retries), any api-version. */
async function send(
  method: 'GET' | 'PUT' | 'DELETE',
  path: string,
  apiVersion: string,
  body?: unknown,
): Promise<{ status: number; body: any; headers: Record<string, string> }> {
  const url = `${azure.url}${path}${path.includes('?') ? '&' : '?'}api-version=${apiVersion}`;
  const request = createPipelineRequest({ url, method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  if (body !== undefined) request.headers.set('content-type', 'application/json');
  const response = await client.sendRequest(request);
  return {
    status: response.status,
    body: response.bodyAsText ? JSON.parse(response.bodyAsText) : undefined,
    headers: response.headers.toJSON(),
  };
}

beforeAll(async () => {
  tenant = new SimulatedTenant();
  azure = await startLocalAzure({ tenant });
  client = securityCenterFor(azure, defaultCredentialFor(azure), FIXTURE_SUBSCRIPTION, { maxRetries: 0 });
});
afterAll(async () => {
  await azure?.close();
});
beforeEach(() => {
  for (const subscription of [...tenant.listSubscriptions()]) tenant.removeSubscription(subscription.subscriptionId);
  tenant.addSubscription({ subscriptionId: FIXTURE_SUBSCRIPTION, displayName: 'Fixture subscription' });
  tenant.addSubscription({ subscriptionId: OTHER_SUBSCRIPTION, displayName: 'Other' });
  tenant.indexWrites = false;
  azure.requests.clear();
});

describe('the api-version decides what the list shows', () => {
  it('the pipeline with 2023-12-01-preview reads `emails`; the typed 2017-pinned list cannot', async () => {
    const modern = fixture('2023-12-01-preview', 'GetSecurityContactsSubscription_example.json').responses['200'].body.value;
    tenant.setContacts(FIXTURE_SUBSCRIPTION, modern);

    const viaPipeline = await send('GET', contactsPath(FIXTURE_SUBSCRIPTION), '2023-12-01-preview');
    expect(viaPipeline.status).toBe(200);
    expect(viaPipeline.body.value[0].properties.emails).toBe('john@contoso.com;Jane@contoso.com');

    const rawBodies: any[] = [];
    const typed = [];
    for await (const contact of client.securityContacts.list({ onResponse: (raw) => rawBodies.push(JSON.parse(raw.bodyAsText!)) })) {
      typed.push(contact);
    }
    expect(typed).toHaveLength(1);
    expect(typed[0]).toMatchObject({ name: 'default', email: 'john@contoso.com', alertNotifications: 'On', alertsToAdmins: 'On' });
    expect(rawBodies[0].value[0].properties).toEqual({
      email: 'john@contoso.com',
      phone: '(214)275-4038',
      alertNotifications: 'On',
      alertsToAdmins: 'On',
    });
    expect(JSON.stringify(rawBodies)).not.toContain('emails');
    expect(JSON.stringify(rawBodies)).not.toContain('notificationsSources');

    const versions = azure.requests
      .of('security-contacts')
      .map((entry) => [entry.method, entry.path, entry.apiVersion, entry.subscriptionId, entry.hadBearerToken]);
    expect(versions).toEqual([
      ['GET', contactsPath(FIXTURE_SUBSCRIPTION), '2023-12-01-preview', FIXTURE_SUBSCRIPTION, true],
      ['GET', contactsPath(FIXTURE_SUBSCRIPTION), '2017-08-01-preview', FIXTURE_SUBSCRIPTION, true],
    ]);
  });

  it('2020-01-01-preview shows 2023 items with alertNotifications', async () => {
    tenant.setContacts(
      FIXTURE_SUBSCRIPTION,
      fixture('2023-12-01-preview', 'GetSecurityContactsSubscription_example.json').responses['200'].body.value,
    );
    const { body } = await send('GET', contactsPath(FIXTURE_SUBSCRIPTION), '2020-01-01-preview');
    expect(body.value[0].properties).toEqual({
      notificationsByRole: { state: 'On', roles: ['Owner', 'Admin'] },
      emails: 'john@contoso.com;Jane@contoso.com',
      phone: '(214)275-4038',
      alertNotifications: { state: 'On', minimalSeverity: 'Medium' },
    });
  });
});

describe('fixtures from test/fixtures/azure-examples round-trip', () => {
  const versions = readdirSync(FIXTURES);

  it.each(versions)('list %s: the stored items come back exactly as the example shows', async (version) => {
    const file = readdirSync(join(FIXTURES, version)).find((name) => name.startsWith('GetSecurityContactsSubscription'))!;
    const example = fixture(version, file);
    tenant.setContacts(example.parameters.subscriptionId, example.responses['200'].body.value);
    const { status, body } = await send('GET', contactsPath(example.parameters.subscriptionId), version);
    expect(status).toBe(200);
    expect(body).toEqual(example.responses['200'].body);
  });

  it.each(versions.filter((version) => version !== '2017-08-01-preview'))('get %s: one contact by name', async (version) => {
    const example = fixture(version, 'GetSecurityContact_example.json');
    tenant.setContacts(example.parameters.subscriptionId, [example.responses['200'].body]);
    const { status, body } = await send('GET', contactsPath(example.parameters.subscriptionId, '/default'), version);
    expect(status).toBe(200);
    expect(body).toEqual(example.responses['200'].body);
  });

  it('get 2017-08-01-preview: default1 by name, case-insensitively', async () => {
    const example = fixture('2017-08-01-preview', 'GetSecurityContact_full_example.json');
    tenant.setContacts(FIXTURE_SUBSCRIPTION, [example.responses['200'].body]);
    const { status, body } = await send('GET', contactsPath(FIXTURE_SUBSCRIPTION, '/DEFAULT1'), '2017-08-01-preview');
    expect(status).toBe(200);
    expect(body).toEqual(example.responses['200'].body);
    expect((await send('GET', contactsPath(FIXTURE_SUBSCRIPTION, '/default9'), '2017-08-01-preview')).status).toBe(404);
  });

  it('create 2023-12-01-preview: 201, then 200; stored as sent; Resource Graph not updated', async () => {
    const example = fixture('2023-12-01-preview', 'CreateSecurityContact_example.json');
    const path = contactsPath(example.parameters.subscriptionId, `/${example.parameters.securityContactName}`);
    const first = await send('PUT', path, '2023-12-01-preview', example.parameters.securityContact);
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      id: example.responses['200'].body.id,
      name: 'default',
      type: 'Microsoft.Security/securityContacts',
      properties: example.parameters.securityContact.properties,
    });
    expect((await send('PUT', path, '2023-12-01-preview', example.parameters.securityContact)).status).toBe(200);
    expect(tenant.getSubscription(FIXTURE_SUBSCRIPTION)!.contacts).toEqual([first.body]);
    expect(tenant.getSubscription(FIXTURE_SUBSCRIPTION)!.indexedContacts).toEqual([]);
  });

  it('create 2020-01-01-preview: stored in the 2023 shape, shown in the 2020 shape', async () => {
    const example = fixture('2020-01-01-preview', 'CreateSecurityContact_example.json');
    const path = contactsPath(FIXTURE_SUBSCRIPTION, '/default');
    const created = await send('PUT', path, '2020-01-01-preview', example.parameters.securityContact);
    expect(created.status).toBe(201);
    expect(created.body.properties).toEqual(example.parameters.securityContact.properties);
    const [stored] = tenant.getSubscription(FIXTURE_SUBSCRIPTION)!.contacts as any[];
    expect(stored.properties).toEqual({
      notificationsByRole: { state: 'On', roles: ['Owner'] },
      emails: 'john@contoso.com;jane@contoso.com',
      phone: '(214)275-4038',
      isEnabled: true,
      notificationsSources: [{ sourceType: 'Alert', minimalSeverity: 'Low' }],
    });
  });

  it.each(['CreateSecurityContact_full_example.json', 'CreateSecurityContact_min_example.json'])(
    'create 2017-08-01-preview (%s): the answer is the example response',
    async (file) => {
      const example = fixture('2017-08-01-preview', file);
      const path = contactsPath(FIXTURE_SUBSCRIPTION, `/${example.parameters.securityContactName}`);
      const created = await send('PUT', path, '2017-08-01-preview', example.parameters.securityContact);
      // 2017-08-01-preview has no 201: a new contact is 200 as well.
      expect(created.status).toBe(200);
      expect(created.body).toEqual(example.responses['200'].body);
      const [stored] = tenant.getSubscription(FIXTURE_SUBSCRIPTION)!.contacts as any[];
      expect(stored.properties.emails).toBe(example.parameters.securityContact.properties.email);
      expect(stored.properties.notificationsSources).toEqual([{ sourceType: 'Alert', minimalSeverity: 'High' }]);
    },
  );

  it.each(readdirSync(FIXTURES))('delete %s: 200 when it existed, 204 when nothing was there', async (version) => {
    const example = fixture(version, 'DeleteSecurityContact_example.json');
    const name = example.parameters.securityContactName;
    tenant.setContacts(FIXTURE_SUBSCRIPTION, [{ id: 'x', name, type: 'Microsoft.Security/securityContacts', properties: {} }]);
    const path = contactsPath(FIXTURE_SUBSCRIPTION, `/${name}`);
    expect((await send('DELETE', path, version)).status).toBe(200);
    expect((await send('DELETE', path, version)).status).toBe(204);
    expect(tenant.getSubscription(FIXTURE_SUBSCRIPTION)!.contacts).toEqual([]);
    expect(tenant.getSubscription(FIXTURE_SUBSCRIPTION)!.indexedContacts).toHaveLength(1); // Resource Graph lags
  });

  it('writes reach Resource Graph when the tenant says indexWrites', async () => {
    tenant.indexWrites = true;
    const example = fixture('2023-12-01-preview', 'CreateSecurityContact_example.json');
    await send('PUT', contactsPath(FIXTURE_SUBSCRIPTION, '/default'), '2023-12-01-preview', example.parameters.securityContact);
    expect(tenant.getSubscription(FIXTURE_SUBSCRIPTION)!.indexedContacts).toHaveLength(1);
  });
});

describe('quirks of real responses', () => {
  const modern = (): any[] => fixture('2023-12-01-preview', 'GetSecurityContactsSubscription_example.json').responses['200'].body.value;

  it('a bare JSON array instead of { value }', async () => {
    tenant.setContacts(OTHER_SUBSCRIPTION, modern(), {});
    tenant.setQuirks(OTHER_SUBSCRIPTION, { bareArrayBody: true });
    const { status, body } = await send('GET', contactsPath(OTHER_SUBSCRIPTION), '2023-12-01-preview');
    expect(status).toBe(200);
    expect(body).toEqual(modern());
  });

  it('nextLink paging with an absolute URL', async () => {
    const items = ['default', 'default1', 'default2'].map((name) => ({ ...modern()[0], name }));
    tenant.setContacts(OTHER_SUBSCRIPTION, items);
    tenant.setQuirks(OTHER_SUBSCRIPTION, { contactsPageSize: 2 });
    const first = await send('GET', contactsPath(OTHER_SUBSCRIPTION), '2023-12-01-preview');
    expect(first.body.value.map((item: any) => item.name)).toEqual(['default', 'default1']);
    expect(first.body.nextLink).toMatch(
      new RegExp(
        `^${azure.url}/subscriptions/${OTHER_SUBSCRIPTION}/providers/Microsoft.Security/securityContacts\\?api-version=2023-12-01-preview&\\$skipToken=`,
      ),
    );
    const second = await client.sendRequest(createPipelineRequest({ url: first.body.nextLink, method: 'GET' }));
    const page = JSON.parse(second.bodyAsText!);
    expect(page.value.map((item: any) => item.name)).toEqual(['default2']);
    expect(page.nextLink).toBeUndefined();
  });

  it.each([
    [{ forbidden: true }, 403, 'AuthorizationFailed'],
    [{ notFound: true }, 404, 'SubscriptionNotFound'],
    [{ providerNotRegistered: true }, 409, 'MissingSubscriptionRegistration'],
  ] as const)('%o answers %i %s', async (quirks, status, code) => {
    tenant.setQuirks(OTHER_SUBSCRIPTION, quirks);
    const response = await send('GET', contactsPath(OTHER_SUBSCRIPTION), '2023-12-01-preview');
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
  });

  it('a body that is not JSON, or whose value is not a list', async () => {
    tenant.setQuirks(OTHER_SUBSCRIPTION, { invalidBody: 'not-json' });
    const request = createPipelineRequest({ url: `${azure.url}${contactsPath(OTHER_SUBSCRIPTION)}?api-version=2023-12-01-preview` });
    // The SecurityCenter pipeline's deserialization policy refuses it (a RestError, not a response).
    await expect(client.sendRequest(request)).rejects.toMatchObject({ code: 'PARSE_ERROR', statusCode: 200 });
    const raw = await fetch(request.url, { headers: { authorization: `Bearer ${azure.tokens.issue(azure.url)}` } });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await raw.text();
    expect(() => JSON.parse(text)).toThrow();
    tenant.setQuirks(OTHER_SUBSCRIPTION, { invalidBody: 'wrong-types' });
    const wrong = await send('GET', contactsPath(OTHER_SUBSCRIPTION), '2023-12-01-preview');
    expect(Array.isArray(wrong.body.value)).toBe(false);
  });

  it('ARM errors: unknown subscription, malformed id, api-versions', async () => {
    const unknown = await send('GET', contactsPath('99999999-9999-4999-8999-999999999999'), '2023-12-01-preview');
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'SubscriptionNotFound']);
    const malformed = await send('GET', contactsPath('not-a-guid'), '2023-12-01-preview');
    expect([malformed.status, malformed.body.error.code]).toEqual([400, 'InvalidSubscriptionId']);
    const unsupported = await send('GET', contactsPath(OTHER_SUBSCRIPTION), '2021-01-01');
    expect([unsupported.status, unsupported.body.error.code]).toEqual([400, 'NoRegisteredProviderFound']);
    expect(unsupported.body.error.message).toContain('2023-12-01-preview');
    const response = await client.sendRequest(createPipelineRequest({ url: `${azure.url}${contactsPath(OTHER_SUBSCRIPTION)}` }));
    expect([response.status, JSON.parse(response.bodyAsText!).error.code]).toEqual([400, 'MissingApiVersionParameter']);
  });

  it('a disabled subscription is read-only', async () => {
    tenant.updateSubscription(OTHER_SUBSCRIPTION, { state: 'Disabled' });
    const body = fixture('2023-12-01-preview', 'CreateSecurityContact_example.json').parameters.securityContact;
    const refused = await send('PUT', contactsPath(OTHER_SUBSCRIPTION, '/default'), '2023-12-01-preview', body);
    expect([refused.status, refused.body.error.code]).toEqual([409, 'ReadOnlyDisabledSubscription']);
    expect((await send('GET', contactsPath(OTHER_SUBSCRIPTION), '2023-12-01-preview')).status).toBe(200);
  });
});

describe('latency', () => {
  it('delays every securityContacts answer by securityContactsMs', async () => {
    const slow = await startLocalAzure({ tenant, latency: { securityContactsMs: 150 } });
    try {
      const slowClient = securityCenterFor(slow, defaultCredentialFor(slow), OTHER_SUBSCRIPTION);
      await slowClient.sendRequest(
        createPipelineRequest({ url: `${slow.url}${contactsPath(OTHER_SUBSCRIPTION)}?api-version=2023-12-01-preview` }),
      );
      const started = Date.now();
      const response = await slowClient.sendRequest(
        createPipelineRequest({ url: `${slow.url}${contactsPath(OTHER_SUBSCRIPTION)}?api-version=2023-12-01-preview` }),
      );
      expect(response.status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    } finally {
      await slow.close();
    }
  });
});

/** Every SecurityContacts_Create example, as [api-version, file]. */
const CREATE_EXAMPLES = readdirSync(FIXTURES).flatMap((version) =>
  readdirSync(join(FIXTURES, version))
    .filter((file) => file.startsWith('CreateSecurityContact'))
    .map((file) => [version, file] as const),
);

/**
 * Where the Create examples contradict their own request or the Get examples; the server answers
 * what was sent, as the contact that GET shows afterwards:
 * - `type`: the 2020 and 2023 Create examples say `Microsoft.Security/securityContact`, their Get
 *   examples (and every 2017 example) `Microsoft.Security/securityContacts`, the ARM resource type.
 * - `properties.emails`: the 2020 and 2023 answers name @microsoft.com addresses for a request
 *   naming @contoso.com.
 * - `properties.notificationsByRole.state`: the 2023 example's 201 leaves it out, its 200 keeps it.
 */
const EXAMPLE_SLIPS = ['type', 'properties.emails', 'properties.notificationsByRole.state'];

/** The dotted JSON paths at which two values differ. */
function differences(actual: unknown, expected: unknown, path = ''): string[] {
  const isRecord = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value);
  const at = (key: string | number): string => (path ? `${path}.${key}` : String(key));
  if (isRecord(actual) && isRecord(expected)) {
    const keys = new Set([...Object.keys(actual), ...Object.keys(expected)]);
    return [...keys].flatMap((key) => differences(actual[key], expected[key], at(key)));
  }
  if (Array.isArray(actual) && Array.isArray(expected)) {
    if (actual.length !== expected.length) return [path];
    return actual.flatMap((item, index) => differences(item, expected[index], at(index)));
  }
  return Object.is(actual, expected) ? [] : [path];
}

/** A contact as contact-watch writes it (the 2023 shape). */
const WRITTEN = {
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

describe('PUT answers as the SecurityContacts_Create examples say', () => {
  it.each(CREATE_EXAMPLES)('%s %s: status, body and headers', async (version, file) => {
    const example = fixture(version, file);
    const { subscriptionId, securityContactName: name, securityContact: sent } = example.parameters;
    const path = contactsPath(subscriptionId, `/${name}`);
    const exampleStatuses = Object.keys(example.responses).map(Number);

    // New: 201 where the example has one (2020, 2023), else 200 (2017 has no 201). Sent again: 200,
    // which the 2020 spec lists though its example shows only the 201.
    const created = await send('PUT', path, version, sent);
    expect(created.status).toBe(exampleStatuses.includes(201) ? 201 : 200);
    const replaced = await send('PUT', path, version, sent);
    expect(replaced.status).toBe(200);

    for (const answer of [created, replaced]) {
      const expected = (example.responses[String(answer.status)] ?? Object.values(example.responses)[0]).body;
      expect(differences(answer.body, expected).filter((where) => !EXAMPLE_SLIPS.includes(where))).toEqual([]);
      expect(Object.keys(answer.body).sort()).toEqual(['id', 'name', 'properties', 'type']);
      expect(answer.body.id).toBe(`/subscriptions/${subscriptionId}/providers/Microsoft.Security/securityContacts/${name}`);
      expect(answer.body.type).toBe('Microsoft.Security/securityContacts');
      expect(answer.body.properties).toEqual(sent.properties);
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
      for (const header of ['etag', 'location', 'azure-asyncoperation', 'retry-after']) expect(answer.headers).not.toHaveProperty(header);
    }
    expect(tenant.getSubscription(subscriptionId)!.contacts).toHaveLength(1);
  });

  it('the examples slip only where EXAMPLE_SLIPS says (a slip fixed upstream shows here)', () => {
    const slips = CREATE_EXAMPLES.flatMap(([version, file]) => {
      const example = fixture(version, file);
      return Object.values(example.responses).flatMap((response: any) =>
        differences(response.body, { ...example.parameters.securityContact, id: response.body.id, name: response.body.name }),
      );
    });
    expect(new Set(slips)).toEqual(new Set(EXAMPLE_SLIPS));
  });
});

describe('writes change what the service shows', () => {
  it('a PUT is what the next GET list shows, in the 2023 shape as written; a second PUT replaces it', async () => {
    const legacy = fixture('2017-08-01-preview', 'GetSecurityContact_full_example.json').responses['200'].body;
    tenant.setContacts(OTHER_SUBSCRIPTION, [legacy]);
    const path = contactsPath(OTHER_SUBSCRIPTION, '/default');

    expect((await send('PUT', path, '2023-12-01-preview', WRITTEN)).status).toBe(201);
    const item = {
      id: `/subscriptions/${OTHER_SUBSCRIPTION}/providers/Microsoft.Security/securityContacts/default`,
      name: 'default',
      type: 'Microsoft.Security/securityContacts',
      properties: WRITTEN.properties,
    };
    expect((await send('GET', contactsPath(OTHER_SUBSCRIPTION), '2023-12-01-preview')).body).toEqual({ value: [legacy, item] });
    expect((await send('GET', path, '2023-12-01-preview')).body).toEqual(item);

    // The name matches case-insensitively and keeps its stored spelling.
    const changed = { properties: { ...WRITTEN.properties, emails: 'secops@fabrikam.com;soc@fabrikam.com', phone: '+1 555 0100' } };
    const replaced = await send('PUT', contactsPath(OTHER_SUBSCRIPTION, '/Default'), '2023-12-01-preview', changed);
    expect(replaced.status).toBe(200);
    expect(replaced.body).toEqual({ ...item, properties: changed.properties });
    expect((await send('GET', contactsPath(OTHER_SUBSCRIPTION), '2023-12-01-preview')).body).toEqual({
      value: [legacy, { ...item, properties: changed.properties }],
    });
  });

  it.each([
    [
      '2017-08-01-preview',
      { properties: { email: 'ops@fabrikam.com', phone: '(214)275-4038', alertNotifications: 'On', alertsToAdmins: 'Off' } },
      {
        emails: 'ops@fabrikam.com',
        phone: '(214)275-4038',
        isEnabled: true,
        notificationsByRole: { state: 'Off', roles: ['Owner'] },
        notificationsSources: [{ sourceType: 'Alert', minimalSeverity: 'High' }],
      },
    ],
    [
      '2020-01-01-preview',
      {
        properties: {
          emails: 'ops@fabrikam.com;soc@fabrikam.com',
          notificationsByRole: { state: 'On', roles: ['Owner', 'ServiceAdmin'] },
          alertNotifications: { state: 'On', minimalSeverity: 'Low' },
        },
      },
      {
        emails: 'ops@fabrikam.com;soc@fabrikam.com',
        notificationsByRole: { state: 'On', roles: ['Owner', 'ServiceAdmin'] },
        isEnabled: true,
        notificationsSources: [{ sourceType: 'Alert', minimalSeverity: 'Low' }],
      },
    ],
  ])('a %s-shaped body written by an older client: the 2023 list shows it in the 2023 shape', async (version, body, stored) => {
    const written = await send('PUT', contactsPath(OTHER_SUBSCRIPTION, '/default'), version, body);
    expect(written.status).toBe(version === '2017-08-01-preview' ? 200 : 201);
    expect(written.body.properties).toEqual(body.properties);
    const { body: list } = await send('GET', contactsPath(OTHER_SUBSCRIPTION), '2023-12-01-preview');
    expect(list.value).toEqual([
      {
        id: `/subscriptions/${OTHER_SUBSCRIPTION}/providers/Microsoft.Security/securityContacts/default`,
        name: 'default',
        type: 'Microsoft.Security/securityContacts',
        properties: stored,
      },
    ]);
  });

  it('a body that is not a contact is 400 InvalidRequestContent and changes nothing', async () => {
    const path = contactsPath(OTHER_SUBSCRIPTION, '/default');
    const notAContact = await send('PUT', path, '2023-12-01-preview', { emails: 'ops@fabrikam.com' });
    expect([notAContact.status, notAContact.body.error.code]).toEqual([400, 'InvalidRequestContent']);
    expect(tenant.getSubscription(OTHER_SUBSCRIPTION)!.contacts).toEqual([]);
  });
});

describe('writes that are refused', () => {
  const put = (subscriptionId: string) => send('PUT', contactsPath(subscriptionId, '/default'), '2023-12-01-preview', WRITTEN);

  it('no access at all: 403 AuthorizationFailed naming Microsoft.Security/securityContacts/write', async () => {
    tenant.setQuirks(OTHER_SUBSCRIPTION, { forbidden: true });
    const refused = await put(OTHER_SUBSCRIPTION);
    expect([refused.status, refused.body.error.code]).toEqual([403, 'AuthorizationFailed']);
    expect(refused.body.error.message).toContain("perform action 'Microsoft.Security/securityContacts/write'");
    expect(refused.body.error.message).toContain(`over scope '/subscriptions/${OTHER_SUBSCRIPTION}'`);
    expect(tenant.getSubscription(OTHER_SUBSCRIPTION)!.contacts).toEqual([]);
  });

  it('readOnlyIdentity (Security Reader, not Security Admin): reads answer, PUT and DELETE are 403', async () => {
    const existing = { ...WRITTEN, id: 'x', name: 'default', type: 'Microsoft.Security/securityContacts' };
    tenant.setContacts(OTHER_SUBSCRIPTION, [existing]);
    tenant.setQuirks(OTHER_SUBSCRIPTION, { readOnlyIdentity: true });

    expect((await send('GET', contactsPath(OTHER_SUBSCRIPTION), '2023-12-01-preview')).body).toEqual({ value: [existing] });
    expect((await send('GET', contactsPath(OTHER_SUBSCRIPTION, '/default'), '2023-12-01-preview')).status).toBe(200);
    const refused = await put(OTHER_SUBSCRIPTION);
    expect([refused.status, refused.body.error.code]).toEqual([403, 'AuthorizationFailed']);
    expect(refused.body.error.message).toContain("perform action 'Microsoft.Security/securityContacts/write'");
    const deleted = await send('DELETE', contactsPath(OTHER_SUBSCRIPTION, '/default'), '2023-12-01-preview');
    expect([deleted.status, deleted.body.error.code]).toEqual([403, 'AuthorizationFailed']);
    expect(deleted.body.error.message).toContain("perform action 'Microsoft.Security/securityContacts/delete'");
    expect(tenant.getSubscription(OTHER_SUBSCRIPTION)!.contacts).toEqual([existing]);

    tenant.setQuirks(OTHER_SUBSCRIPTION, { readOnlyIdentity: undefined });
    expect((await put(OTHER_SUBSCRIPTION)).status).toBe(200);
  });

  it('provider not registered: 409 MissingSubscriptionRegistration', async () => {
    tenant.setQuirks(OTHER_SUBSCRIPTION, { providerNotRegistered: true });
    const refused = await put(OTHER_SUBSCRIPTION);
    expect([refused.status, refused.body.error.code]).toEqual([409, 'MissingSubscriptionRegistration']);
    expect(refused.body.error.message).toContain("not registered to use namespace 'Microsoft.Security'");
    expect(tenant.getSubscription(OTHER_SUBSCRIPTION)!.contacts).toEqual([]);
  });

  it.each(['Disabled', 'Deleted', 'Expired'])('subscription state %s: 409 ReadOnlyDisabledSubscription', async (state) => {
    tenant.updateSubscription(OTHER_SUBSCRIPTION, { state });
    const refused = await put(OTHER_SUBSCRIPTION);
    expect([refused.status, refused.body.error.code]).toEqual([409, 'ReadOnlyDisabledSubscription']);
    expect(tenant.getSubscription(OTHER_SUBSCRIPTION)!.contacts).toEqual([]);
  });

  it('an unknown subscription: 404 SubscriptionNotFound', async () => {
    const refused = await put('99999999-9999-4999-8999-999999999999');
    expect([refused.status, refused.body.error.code]).toEqual([404, 'SubscriptionNotFound']);
  });
});

describe('the request log keeps what was written', () => {
  it('contactWrites(): every PUT with its body, faulted tries included; { accepted: true } the ones that took', async () => {
    const fault = azure.faults.add({ target: 'security-contacts', method: 'PUT', status: 503 });
    const path = contactsPath(OTHER_SUBSCRIPTION, '/default');
    await send('GET', contactsPath(OTHER_SUBSCRIPTION), '2023-12-01-preview');
    expect((await send('PUT', path, '2023-12-01-preview', WRITTEN)).status).toBe(503);
    expect((await send('PUT', path, '2023-12-01-preview', WRITTEN)).status).toBe(201);
    tenant.setQuirks(FIXTURE_SUBSCRIPTION, { readOnlyIdentity: true });
    expect((await send('PUT', contactsPath(FIXTURE_SUBSCRIPTION, '/default'), '2023-12-01-preview', WRITTEN)).status).toBe(403);

    expect(azure.requests.contactWrites()).toEqual([
      { subscriptionId: OTHER_SUBSCRIPTION, name: 'default', body: WRITTEN, status: 503, faultId: fault.id },
      { subscriptionId: OTHER_SUBSCRIPTION, name: 'default', body: WRITTEN, status: 201 },
      { subscriptionId: FIXTURE_SUBSCRIPTION, name: 'default', body: WRITTEN, status: 403 },
    ]);
    expect(azure.requests.contactWrites({ accepted: true })).toEqual([
      { subscriptionId: OTHER_SUBSCRIPTION, name: 'default', body: WRITTEN, status: 201 },
    ]);
    // Reads carry no body.
    expect(azure.requests.of('security-contacts').find((entry) => entry.method === 'GET')).not.toHaveProperty('body');
  });

  it('a body that is not JSON is logged as the text sent', async () => {
    const request = createPipelineRequest({
      url: `${azure.url}${contactsPath(OTHER_SUBSCRIPTION, '/default')}?api-version=2023-12-01-preview`,
      method: 'PUT',
      body: '{"properties": ',
    });
    request.headers.set('content-type', 'application/json');
    expect((await client.sendRequest(request)).status).toBe(400);
    expect(azure.requests.contactWrites()).toEqual([
      { subscriptionId: OTHER_SUBSCRIPTION, name: 'default', body: '{"properties": ', status: 400 },
    ]);
  });
});
