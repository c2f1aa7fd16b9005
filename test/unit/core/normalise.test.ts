import { describe, expect, it } from 'vitest';
import { normaliseContactList, summariseContact } from '../../../src/core/normalise.js';
import { detectContactShape, readContactListPage } from '../../../src/core/contact-shapes.js';
import type { NormalisedContactEntry, SubscriptionContact } from '../../../src/core/model.js';
import { EMPTY_CONTACT_SUMMARY } from '../../../src/core/evaluate.js';
import { GET_AND_LIST_ITEMS, listItems, readExample, responseBody } from '../../support/fixtures.js';

function normaliseOk(items: unknown[]): SubscriptionContact {
  const outcome = normaliseContactList(items);
  if (!outcome.ok) throw new Error(`expected the list to normalise, got: ${outcome.message}`);
  return outcome.contact;
}

function onlyEntry(items: unknown[]): NormalisedContactEntry {
  const { entries } = normaliseOk(items);
  expect(entries).toHaveLength(1);
  return entries[0]!;
}

function item2023Phone(phone: unknown): Record<string, unknown> {
  const item = responseBody('2023-12-01-preview', 'GetSecurityContact_example.json');
  return { ...item, properties: { ...(item['properties'] as object), phone } };
}

function normaliseError(items: unknown[]): string {
  const outcome = normaliseContactList(items);
  if (outcome.ok) throw new Error('expected the list to be refused');
  return outcome.message;
}

describe('normaliseContactList on the Azure REST examples', () => {
  it.each(GET_AND_LIST_ITEMS)('reads $version $file as its own shape', ({ version, item }) => {
    expect(onlyEntry([item()]).shape).toBe(version);
  });

  it('reads the 2023-12-01-preview GET example field by field', () => {
    const entry = onlyEntry([responseBody('2023-12-01-preview', 'GetSecurityContact_example.json')]);
    expect(entry).toEqual<NormalisedContactEntry>({
      name: 'default',
      shape: '2023-12-01-preview',
      emails: ['john@contoso.com', 'jane@contoso.com'],
      phone: '(214)275-4038',
      enabled: true,
      alerts: { state: { kind: 'known', value: 'On' }, minimalSeverity: { kind: 'known', value: 'Medium' } },
      roles: { state: { kind: 'known', value: 'On' }, roles: [{ kind: 'known', value: 'Owner' }] },
      attackPaths: { present: true, minimalRiskLevel: { kind: 'known', value: 'Critical' } },
      notificationSources: [
        { sourceType: 'AttackPath', minimalRiskLevel: 'Critical' },
        { sourceType: 'Alert', minimalSeverity: 'Medium' },
      ],
    });
  });

  it('keeps an unknown role of the 2023 list example as raw text beside the known one', () => {
    const entry = onlyEntry(listItems('2023-12-01-preview', 'GetSecurityContactsSubscription_example.json'));
    expect(entry.roles.roles).toEqual([
      { kind: 'known', value: 'Owner' },
      { kind: 'unknown', raw: 'Admin' },
    ]);
    expect(entry.emails).toEqual(['john@contoso.com', 'Jane@contoso.com']);
  });

  it('reads the 2023 create response whose notificationsByRole has no state as state absent', () => {
    const entry = onlyEntry([responseBody('2023-12-01-preview', 'CreateSecurityContact_example.json', '201')]);
    expect(entry.roles.state).toEqual({ kind: 'absent' });
    expect(entry.roles.roles).toEqual([{ kind: 'known', value: 'Owner' }]);
  });

  it('reads a 2023 item without id, name or type (the create request body)', () => {
    const body = readExample('2023-12-01-preview', 'CreateSecurityContact_example.json').parameters['securityContact'];
    const entry = onlyEntry([body]);
    expect(entry.name).toBe('(unnamed)');
    expect(entry.alerts.minimalSeverity).toEqual({ kind: 'known', value: 'Medium' });
  });

  it('reads the 2020-01-01-preview GET example field by field', () => {
    const entry = onlyEntry([responseBody('2020-01-01-preview', 'GetSecurityContact_example.json')]);
    expect(entry).toEqual<NormalisedContactEntry>({
      name: 'default',
      shape: '2020-01-01-preview',
      emails: ['john@contoso.com', 'jane@contoso.com'],
      phone: '(214)275-4038',
      enabled: true,
      alerts: { state: { kind: 'known', value: 'On' }, minimalSeverity: { kind: 'known', value: 'Low' } },
      roles: { state: { kind: 'known', value: 'On' }, roles: [{ kind: 'known', value: 'Owner' }] },
      attackPaths: { present: false, minimalRiskLevel: { kind: 'absent' } },
      notificationSources: [],
    });
  });

  it('reads the 2017-08-01-preview GET example: alertNotifications On means High, alertsToAdmins means Owner', () => {
    const entry = onlyEntry([responseBody('2017-08-01-preview', 'GetSecurityContact_full_example.json')]);
    expect(entry).toEqual<NormalisedContactEntry>({
      name: 'default1',
      shape: '2017-08-01-preview',
      emails: ['default1@contoso.com'],
      phone: '(214)275-4038',
      enabled: true,
      alerts: { state: { kind: 'known', value: 'On' }, minimalSeverity: { kind: 'known', value: 'High' } },
      roles: { state: { kind: 'known', value: 'On' }, roles: [{ kind: 'known', value: 'Owner' }] },
      attackPaths: { present: false, minimalRiskLevel: { kind: 'absent' } },
      notificationSources: [],
    });
  });

  it('accepts the singular type Microsoft.Security/securityContact (2020 create response)', () => {
    const item = responseBody('2020-01-01-preview', 'CreateSecurityContact_example.json', '201');
    expect(item['type']).toBe('Microsoft.Security/securityContact');
    expect(onlyEntry([item]).emails).toEqual(['john@microsoft.com', 'jane@microsoft.com']);
  });

  it('accepts the lower-case type Resource Graph writes', () => {
    const item = { ...responseBody('2023-12-01-preview', 'GetSecurityContact_example.json'), type: 'microsoft.security/securitycontacts' };
    expect(onlyEntry([item]).shape).toBe('2023-12-01-preview');
  });

  it('reads contacts named Default, default2 and anything else without assuming "default"', () => {
    const upper = { ...responseBody('2023-12-01-preview', 'GetSecurityContact_example.json'), name: 'Default' };
    const second = responseBody('2017-08-01-preview', 'CreateSecurityContact_min_example.json');
    const contact = normaliseOk([upper, second]);
    expect(contact.entries.map((entry) => entry.name)).toEqual(['Default', 'default2']);
    expect(contact.entries.map((entry) => entry.shape)).toEqual(['2023-12-01-preview', '2017-08-01-preview']);
  });

  it('ignores extra fields such as etag, location and systemData', () => {
    const base = responseBody('2023-12-01-preview', 'GetSecurityContact_example.json');
    const item = {
      ...base,
      etag: 'W/"datetime\'2024-01-01T00%3A00%3A00Z\'"',
      location: 'West Europe',
      systemData: { createdBy: 'someone' },
      properties: { ...(base['properties'] as object), phone: 12345, futureField: { nested: true } },
    };
    expect(onlyEntry([item]).emails).toEqual(['john@contoso.com', 'jane@contoso.com']);
  });

  it('reads enum values in any case: on, owner, alert, attackpath, medium', () => {
    const entry = onlyEntry([
      {
        name: 'default',
        type: 'Microsoft.Security/securityContacts',
        properties: {
          emails: 'soc@fabrikam.com',
          isEnabled: true,
          notificationsByRole: { state: 'on', roles: ['owner', 'ACCOUNTADMIN'] },
          notificationsSources: [
            { sourceType: 'alert', minimalSeverity: 'medium' },
            { sourceType: 'attackpath', minimalRiskLevel: 'HIGH' },
          ],
        },
      },
    ]);
    expect(entry.roles.state).toEqual({ kind: 'known', value: 'On' });
    expect(entry.roles.roles).toEqual([
      { kind: 'known', value: 'Owner' },
      { kind: 'known', value: 'AccountAdmin' },
    ]);
    expect(entry.alerts).toEqual({ state: { kind: 'known', value: 'On' }, minimalSeverity: { kind: 'known', value: 'Medium' } });
    expect(entry.attackPaths).toEqual({ present: true, minimalRiskLevel: { kind: 'known', value: 'High' } });
  });

  it('reads the 2017 shape in lower case too', () => {
    const entry = onlyEntry([
      { name: 'default1', properties: { email: 'soc@fabrikam.com', alertNotifications: 'on', alertsToAdmins: 'off' } },
    ]);
    expect(entry.alerts.state).toEqual({ kind: 'known', value: 'On' });
    expect(entry.roles.state).toEqual({ kind: 'known', value: 'Off' });
  });

  it('keeps unknown enum values as raw text for the rules to name', () => {
    const entry = onlyEntry([
      {
        name: 'default',
        properties: {
          emails: 'soc@fabrikam.com',
          alertNotifications: { state: 'Enabled', minimalSeverity: 'Severe' },
          notificationsByRole: { state: 'On', roles: ['Reader'] },
        },
      },
    ]);
    expect(entry.alerts).toEqual({ state: { kind: 'unknown', raw: 'Enabled' }, minimalSeverity: { kind: 'unknown', raw: 'Severe' } });
    expect(entry.roles.roles).toEqual([{ kind: 'unknown', raw: 'Reader' }]);
  });

  it('splits e-mails on ; and , trims white space and drops empty parts', () => {
    const entry = onlyEntry([{ name: 'default', properties: { emails: ' a@fabrikam.com ;b@fabrikam.com,, c@fabrikam.com ;\t; ' } }]);
    expect(entry.emails).toEqual(['a@fabrikam.com', 'b@fabrikam.com', 'c@fabrikam.com']);
  });

  it('reads an empty emails string (as Prowler passes it) as no address', () => {
    expect(onlyEntry([{ name: 'default', properties: { emails: '', isEnabled: true } }]).emails).toEqual([]);
  });

  it('reads isEnabled false as disabled, and absent or null isEnabled as enabled', () => {
    const [off, absent, nulled] = normaliseOk([
      { name: 'a', properties: { isEnabled: false } },
      { name: 'b', properties: { emails: 'x@fabrikam.com' } },
      { name: 'c', properties: { isEnabled: null, notificationsSources: [] } },
    ]).entries;
    expect(off?.enabled).toBe(false);
    expect(absent?.enabled).toBe(true);
    expect(nulled?.enabled).toBe(true);
  });

  it('takes the most inclusive of several Alert sources', () => {
    const entry = onlyEntry([
      {
        name: 'default',
        properties: {
          notificationsSources: [
            { sourceType: 'Alert', minimalSeverity: 'High' },
            { sourceType: 'Alert', minimalSeverity: 'Low' },
          ],
        },
      },
    ]);
    expect(entry.alerts.minimalSeverity).toEqual({ kind: 'known', value: 'Low' });
  });

  it('keeps every notification source as read, source types and members no rule reads included', () => {
    const sources = [
      { sourceType: 'alert', minimalSeverity: 'medium', digest: { hours: 4 } },
      { sourceType: 'BillingAnomaly', threshold: 3 },
      { sourceType: 'AttackPath', minimalRiskLevel: null },
    ];
    const entry = onlyEntry([{ name: 'default', properties: { isEnabled: true, notificationsSources: sources } }]);
    expect(entry.notificationSources).toEqual(sources);
    expect(entry.notificationSources[0]).not.toBe(sources[0]);
    // The readings the rules judge are unchanged by the unknown source type.
    expect(entry.alerts.minimalSeverity).toEqual({ kind: 'known', value: 'Medium' });
    expect(entry.attackPaths).toEqual({ present: true, minimalRiskLevel: { kind: 'absent' } });
  });

  it('reads phone in every shape, and a phone that is not a string as not set without refusing the list', () => {
    expect(onlyEntry([item2023Phone('+44 20 7946 0000')]).phone).toBe('+44 20 7946 0000');
    expect(onlyEntry([responseBody('2020-01-01-preview', 'GetSecurityContact_example.json')]).phone).toBe('(214)275-4038');
    expect(onlyEntry([responseBody('2017-08-01-preview', 'GetSecurityContact_full_example.json')]).phone).toBe('(214)275-4038');
    expect(onlyEntry([responseBody('2017-08-01-preview', 'CreateSecurityContact_min_example.json')]).phone).toBeNull();
    expect(onlyEntry([item2023Phone(2147254038)]).phone).toBeNull();
    expect(onlyEntry([item2023Phone(null)]).phone).toBeNull();
  });

  it('reads an empty list as a contact without entries', () => {
    expect(normaliseOk([])).toEqual({ entries: [] });
  });
});

describe('readContactListPage', () => {
  it('reads the bare-array quirk exactly like the { value } form of the same examples', () => {
    const versions = ['2023-12-01-preview', '2020-01-01-preview'] as const;
    const items = [
      ...versions.flatMap((version) => listItems(version, 'GetSecurityContactsSubscription_example.json')),
      ...listItems('2017-08-01-preview', 'GetSecurityContactsSubscription_full_example.json'),
    ];
    const wrapped = readContactListPage({ value: items, nextLink: 'https://management.azure.com/next?page=2' });
    const bare = readContactListPage(structuredClone(items));
    if (!wrapped.ok || !bare.ok) throw new Error('both forms should be readable');
    expect(wrapped.nextLink).toBe('https://management.azure.com/next?page=2');
    expect(bare.nextLink).toBeNull();
    const fromBare = normaliseOk(bare.items);
    expect(fromBare).toEqual(normaliseOk(wrapped.items));
    expect(fromBare.entries.map((entry) => entry.shape)).toEqual(['2023-12-01-preview', '2020-01-01-preview', '2017-08-01-preview']);
  });

  it('refuses a body that is neither a list nor { value: [...] }', () => {
    expect(readContactListPage('oops')).toEqual({
      ok: false,
      message: 'the securityContacts list must be a JSON object or array, got string',
    });
    expect(readContactListPage({ value: {} })).toEqual({
      ok: false,
      message: 'the securityContacts list must have a "value" array, got object',
    });
    expect(readContactListPage({ value: [], nextLink: 3 })).toEqual({
      ok: false,
      message: "the securityContacts list's nextLink must be a string, got number",
    });
  });
});

describe('normaliseContactList refuses wrong types, naming item and field', () => {
  const good2023 = () => responseBody('2023-12-01-preview', 'GetSecurityContact_example.json');
  const withProperties = (changes: Record<string, unknown>) => {
    const item = good2023();
    return { ...item, properties: { ...(item['properties'] as object), ...changes } };
  };

  it.each([
    [{ emails: 42 }, 'contact 0 (default): properties.emails must be a string, got number'],
    [{ isEnabled: 'true' }, 'contact 0 (default): properties.isEnabled must be a boolean, got string'],
    [
      { notificationsByRole: { state: 'On', roles: 'Owner' } },
      'contact 0 (default): properties.notificationsByRole.roles must be an array, got string',
    ],
    [
      { notificationsByRole: { state: 'On', roles: ['Owner', 7] } },
      'contact 0 (default): properties.notificationsByRole.roles[1] must be a string, got number',
    ],
    [{ notificationsByRole: { state: true } }, 'contact 0 (default): properties.notificationsByRole.state must be a string, got boolean'],
    [{ notificationsSources: {} }, 'contact 0 (default): properties.notificationsSources must be an array, got object'],
    [
      { notificationsSources: [{ sourceType: 'Alert', minimalSeverity: 'High' }, { sourceType: 1 }] },
      'contact 0 (default): properties.notificationsSources[1].sourceType must be a string, got number',
    ],
    [
      { notificationsSources: [{ sourceType: 'Alert', minimalSeverity: 3 }] },
      'contact 0 (default): properties.notificationsSources[0].minimalSeverity must be a string, got number',
    ],
  ])('2023 shape %j', (changes, message) => {
    expect(normaliseError([withProperties(changes)])).toBe(message);
  });

  it('names every wrong field of an item', () => {
    expect(normaliseError([withProperties({ emails: ['a@fabrikam.com'], isEnabled: 1 })])).toBe(
      'contact 0 (default): properties.emails must be a string, got array; properties.isEnabled must be a boolean, got number',
    );
  });

  it('names the index of the failing item in a longer list', () => {
    const bad = { ...responseBody('2017-08-01-preview', 'CreateSecurityContact_min_example.json') };
    bad['properties'] = { email: 'chen@fabrikam.com', alertNotifications: 'On', alertsToAdmins: false };
    expect(normaliseError([good2023(), bad])).toBe('contact 1 (default2): properties.alertsToAdmins must be a string, got boolean');
  });

  it('refuses a 2020 alertNotifications.state of the wrong type', () => {
    const item = responseBody('2020-01-01-preview', 'GetSecurityContact_example.json');
    item['properties'] = { emails: 'a@fabrikam.com', alertNotifications: { state: 1, minimalSeverity: 'High' } };
    expect(normaliseError([item])).toBe('contact 0 (default): properties.alertNotifications.state must be a string, got number');
  });

  it('refuses an alertNotifications that is neither an object nor a string', () => {
    expect(normaliseError([{ name: 'default1', properties: { alertNotifications: 1 } }])).toBe(
      'contact 0 (default1): properties.alertNotifications must be a string, got number',
    );
  });

  it('refuses a 2017 alertNotifications given as an array', () => {
    expect(normaliseError([{ name: 'default1', properties: { email: null, alertsToAdmins: 'On', alertNotifications: ['On'] } }])).toBe(
      'contact 0 (default1): properties.alertNotifications must be a string, got array',
    );
  });

  it('refuses items that are not objects, have no properties, or a non-string name', () => {
    expect(normaliseError(['default'])).toBe('contact 0: must be an object, got string');
    expect(normaliseError([null])).toBe('contact 0: must be an object, got null');
    expect(normaliseError([{ name: 'default' }])).toBe('contact 0 (default): properties is missing');
    expect(normaliseError([{ name: 'default', properties: 'x' }])).toBe('contact 0 (default): properties must be an object, got string');
    expect(normaliseError([{ name: 5, properties: {} }])).toBe('contact 0: name must be a string, got number');
  });

  it('refuses an item of another resource type', () => {
    const item = { ...good2023(), type: 'Microsoft.Security/pricings' };
    expect(normaliseError([item])).toBe(
      'contact 0 (default): type must be Microsoft.Security/securityContacts, got "Microsoft.Security/pricings"',
    );
  });
});

describe('detectContactShape', () => {
  it.each([
    [{ isEnabled: false }, '2023-12-01-preview'],
    [{ notificationsSources: [] }, '2023-12-01-preview'],
    [{ emails: 'a@fabrikam.com', notificationsByRole: { state: 'On' } }, '2023-12-01-preview'],
    [{}, '2023-12-01-preview'],
    [{ emails: 'a@fabrikam.com', alertNotifications: { state: 'On' } }, '2020-01-01-preview'],
    [{ email: 'a@fabrikam.com' }, '2017-08-01-preview'],
    [{ alertNotifications: 'Off' }, '2017-08-01-preview'],
    [{ alertsToAdmins: 'On' }, '2017-08-01-preview'],
  ] as const)('%j is %s', (properties, shape) => {
    expect(detectContactShape(properties)).toBe(shape);
  });
});

describe('summariseContact', () => {
  it('summarises the 2023 GET example', () => {
    const contact = normaliseOk([responseBody('2023-12-01-preview', 'GetSecurityContact_example.json')]);
    expect(summariseContact(contact)).toEqual({
      emails: ['john@contoso.com', 'jane@contoso.com'],
      alertMinimalSeverity: 'Medium',
      notifyRoles: ['Owner'],
      attackPathMinimalRiskLevel: 'Critical',
      shape: '2023-12-01-preview',
    });
  });

  it('summarises a 2017 contact: alerts High, alertsToAdmins On as Owner, no attack paths', () => {
    const contact = normaliseOk(listItems('2017-08-01-preview', 'GetSecurityContactsSubscription_full_example.json'));
    expect(summariseContact(contact)).toEqual({
      emails: ['john@contoso.com'],
      alertMinimalSeverity: 'High',
      notifyRoles: ['Owner'],
      attackPathMinimalRiskLevel: null,
      shape: '2017-08-01-preview',
    });
  });

  it('merges several contacts: e-mails deduplicated case-insensitively, most inclusive levels, newest shape', () => {
    const contact = normaliseOk([
      { name: 'default1', properties: { email: 'SOC@fabrikam.com;ciso@fabrikam.com', alertNotifications: 'On', alertsToAdmins: 'Off' } },
      {
        name: 'default',
        properties: {
          emails: 'soc@fabrikam.com; noc@fabrikam.com',
          isEnabled: true,
          notificationsByRole: { state: 'On', roles: ['AccountAdmin', 'owner'] },
          notificationsSources: [
            { sourceType: 'Alert', minimalSeverity: 'Medium' },
            { sourceType: 'AttackPath', minimalRiskLevel: 'Critical' },
          ],
        },
      },
      { name: 'default2', properties: { emails: '', alertNotifications: { state: 'On', minimalSeverity: 'Low' } } },
    ]);
    expect(summariseContact(contact)).toEqual({
      emails: ['SOC@fabrikam.com', 'ciso@fabrikam.com', 'noc@fabrikam.com'],
      alertMinimalSeverity: 'Low',
      notifyRoles: ['AccountAdmin', 'Owner'],
      attackPathMinimalRiskLevel: 'Critical',
      shape: '2023-12-01-preview',
    });
  });

  it('leaves out what is not effectively on: disabled contacts, states Off, unknown values', () => {
    const contact = normaliseOk([
      {
        name: 'default',
        properties: {
          emails: 'soc@fabrikam.com',
          isEnabled: false,
          notificationsByRole: { state: 'Off', roles: ['Owner'] },
          notificationsSources: [
            { sourceType: 'Alert', minimalSeverity: 'Low' },
            { sourceType: 'AttackPath', minimalRiskLevel: 'Low' },
          ],
        },
      },
      { name: 'default2', properties: { emails: '', alertNotifications: { state: 'On', minimalSeverity: 'Severe' } } },
    ]);
    expect(summariseContact(contact)).toEqual({
      emails: ['soc@fabrikam.com'],
      alertMinimalSeverity: null,
      notifyRoles: [],
      attackPathMinimalRiskLevel: null,
      shape: '2023-12-01-preview',
    });
  });

  it('gives shape none and nothing else for a contact without entries', () => {
    expect(summariseContact({ entries: [] })).toEqual(EMPTY_CONTACT_SUMMARY);
    expect(EMPTY_CONTACT_SUMMARY.shape).toBe('none');
  });
});
