import { describe, expect, it } from 'vitest';
import { mergeContactFix, mergedContactBody } from '../../../src/core/contact-merge.js';
import { readContactListPage } from '../../../src/core/contact-shapes.js';
import { evaluateContact } from '../../../src/core/evaluate.js';
import { PROVIDER_NOT_REGISTERED_REASON, normaliseContactList, providerNotRegisteredContact } from '../../../src/core/normalise.js';
import { DEFAULT_POLICY, parsePolicy } from '../../../src/core/policy.js';
import { EXAMPLE_SECURITY_TEAM_ADDRESS } from '../../../src/core/rules/remediation.js';
import type { ContactFix, Finding, Policy, SecurityContactPutBody, SubscriptionContact } from '../../../src/core/model.js';
import { GET_AND_LIST_ITEMS, listItems, responseBody } from '../../support/fixtures.js';

function contactOf(items: unknown[]): SubscriptionContact {
  const outcome = normaliseContactList(items);
  if (!outcome.ok) throw new Error(outcome.message);
  return outcome.contact;
}

/** The fix as the verdict computes it: the contact judged under the policy, then merged. */
function fixFor(items: unknown[], policy: Policy = DEFAULT_POLICY): ContactFix {
  const contact = contactOf(items);
  return mergeContactFix(contact, evaluateContact(contact, policy).findings, policy);
}

function putBody(fix: ContactFix): SecurityContactPutBody {
  if (fix.kind !== 'put') throw new Error(`expected a put, got ${JSON.stringify(fix)}`);
  return fix.body;
}

/** The findings of a body written and read back as the only contact. */
function findingsAfterWriting(body: SecurityContactPutBody, policy: Policy): Record<string, string> {
  const contact = contactOf([{ name: 'default', type: 'Microsoft.Security/securityContacts', ...body }]);
  return Object.fromEntries(evaluateContact(contact, policy).findings.map((finding) => [finding.ruleId, finding.result]));
}

function policyWith(input: unknown): Policy {
  return parsePolicy(input, 'test-policy.json');
}

const WITH_REMEDIATION = policyWith({ remediation: { emails: ['secops@fabrikam.io'] } });

/** An example item with its properties changed (the examples' contoso.com is a placeholder domain). */
function changed(item: Record<string, unknown>, changes: Record<string, unknown>): Record<string, unknown> {
  return { ...item, properties: { ...(item['properties'] as object), ...changes } };
}

const get2023 = () => responseBody('2023-12-01-preview', 'GetSecurityContact_example.json');
const get2020 = () => responseBody('2020-01-01-preview', 'GetSecurityContact_example.json');
const get2017 = () => responseBody('2017-08-01-preview', 'GetSecurityContact_full_example.json');

describe('mergeContactFix on the Azure REST examples', () => {
  it('keeps the own addresses, phone and sources of a 2023 contact that only lacks attack paths from High', () => {
    // The GET example e-mails attack paths from Critical only; the default policy wants High.
    const item = changed(get2023(), { emails: 'john@fabrikam.io;Jane@fabrikam.io' });
    expect(putBody(fixFor([item]))).toEqual({
      properties: {
        emails: 'john@fabrikam.io;Jane@fabrikam.io',
        phone: '(214)275-4038',
        isEnabled: true,
        notificationsByRole: { state: 'On', roles: ['Owner'] },
        notificationsSources: [
          { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
          { sourceType: 'Alert', minimalSeverity: 'Medium' },
        ],
      },
    });
  });

  it('drops the placeholder addresses of the 2023 list example and adds the remediation addresses, keeping the role "Admin"', () => {
    const body = putBody(fixFor(listItems('2023-12-01-preview', 'GetSecurityContactsSubscription_example.json'), WITH_REMEDIATION));
    expect(body).toEqual({
      properties: {
        emails: 'secops@fabrikam.io',
        phone: '(214)275-4038',
        isEnabled: true,
        notificationsByRole: { state: 'On', roles: ['Owner', 'Admin'] },
        notificationsSources: [
          { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
          { sourceType: 'Alert', minimalSeverity: 'Medium' },
        ],
      },
    });
  });

  it('writes the contact when merging alone fixes it: a second AttackPath source with an unknown level beside a known one', () => {
    const sources = [
      { sourceType: 'AttackPath', minimalRiskLevel: 'Severe' },
      { sourceType: 'AttackPath', minimalRiskLevel: 'Low' },
      { sourceType: 'Alert', minimalSeverity: 'Low' },
    ];
    const item = changed(get2023(), { emails: 'soc@fabrikam.io', notificationsSources: sources });
    const contact = contactOf([item]);
    expect(
      evaluateContact(contact, DEFAULT_POLICY).findings.find((finding) => finding.ruleId === 'attack-path-notifications')?.result,
    ).toBe('fail');
    const body = putBody(fixFor([item]));
    expect(body.properties.notificationsSources.filter((source) => source.sourceType === 'AttackPath')).toEqual([
      { sourceType: 'AttackPath', minimalRiskLevel: 'Low' },
    ]);
    expect(findingsAfterWriting(body, DEFAULT_POLICY)['attack-path-notifications']).toBe('pass');
  });

  it('carries a 2020 contact into the 2023 shape: its alert severity kept, an AttackPath source added', () => {
    const item = changed(get2020(), { emails: 'john@fabrikam.io;jane@fabrikam.io' });
    expect(putBody(fixFor([item]))).toEqual({
      properties: {
        emails: 'john@fabrikam.io;jane@fabrikam.io',
        phone: '(214)275-4038',
        isEnabled: true,
        notificationsByRole: { state: 'On', roles: ['Owner'] },
        notificationsSources: [
          { sourceType: 'Alert', minimalSeverity: 'Low' },
          { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
        ],
      },
    });
  });

  it('carries the 2020 list example (singular type, role "Admin") into the 2023 shape', () => {
    const [item] = listItems('2020-01-01-preview', 'GetSecurityContactsSubscription_example.json');
    const body = putBody(fixFor([changed(item!, { emails: 'john@fabrikam.io;Jane@fabrikam.io' })]));
    expect(body.properties.emails).toBe('john@fabrikam.io;Jane@fabrikam.io');
    expect(body.properties.notificationsByRole).toEqual({ state: 'On', roles: ['Owner', 'Admin'] });
    expect(body.properties.notificationsSources).toEqual([
      { sourceType: 'Alert', minimalSeverity: 'Low' },
      { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
    ]);
  });

  it('carries a 2017 contact into the 2023 shape: alertNotifications On as Alert High, alertsToAdmins On as Owner', () => {
    const item = changed(get2017(), { email: 'default1@fabrikam.io' });
    expect(putBody(fixFor([item]))).toEqual({
      properties: {
        emails: 'default1@fabrikam.io',
        phone: '(214)275-4038',
        isEnabled: true,
        notificationsByRole: { state: 'On', roles: ['Owner'] },
        notificationsSources: [
          { sourceType: 'Alert', minimalSeverity: 'High' },
          { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
        ],
      },
    });
  });

  it('writes no phone for a contact that has none (the 2017 minimal example)', () => {
    const item = responseBody('2017-08-01-preview', 'CreateSecurityContact_min_example.json');
    const body = putBody(fixFor([changed(item, { email: 'chen@fabrikam.io' })]));
    expect(body.properties).not.toHaveProperty('phone');
    expect(body.properties.emails).toBe('chen@fabrikam.io');
  });

  it('turns on role notifications of the 2023 create response, whose notificationsByRole has no state', () => {
    const item = changed(responseBody('2023-12-01-preview', 'CreateSecurityContact_example.json', '201'), { emails: 'john@fabrikam.io' });
    const body = putBody(fixFor([item]));
    expect(body.properties.notificationsByRole).toEqual({ state: 'On', roles: ['Owner'] });
  });

  const namedDefault = GET_AND_LIST_ITEMS.filter(({ item }) => (item() as { name: string }).name.toLowerCase() === 'default');
  const namedOtherwise = GET_AND_LIST_ITEMS.filter(({ item }) => (item() as { name: string }).name.toLowerCase() !== 'default');

  it('has REST examples of both kinds: contacts named default, and 2017 ones named default1', () => {
    expect(namedDefault.length).toBeGreaterThan(0);
    expect(namedOtherwise.map(({ version }) => version)).toEqual(expect.arrayContaining(['2017-08-01-preview']));
  });

  it.each(namedOtherwise)(
    'calls the $version $file contact not fixable by a write of default: its own placeholder address would stay beside it',
    ({ item }) => {
      const contact = item() as { name: string };
      expect(fixFor([contact], WITH_REMEDIATION)).toEqual({
        kind: 'not-fixable',
        reason: expect.stringContaining(`other contact (${contact.name}) would still fail the rules`) as string,
      });
    },
  );

  it('writes default beside a 2017 contact named default1 whose address is valid, and the list then passes', () => {
    const legacy = changed(get2017(), { email: 'legacy@fabrikam.io' });
    const body = putBody(fixFor([legacy], WITH_REMEDIATION));
    expect(body.properties.emails).toBe('legacy@fabrikam.io');
    const afterWrite = contactOf([legacy, { name: 'default', type: 'Microsoft.Security/securityContacts', ...body }]);
    expect(evaluateContact(afterWrite, WITH_REMEDIATION).status).toBe('compliant');
  });

  it.each(namedDefault)('gives the $version $file contact a body with valid addresses, every notification on and its phone', ({ item }) => {
    const body = putBody(fixFor([item()], WITH_REMEDIATION));
    const after = findingsAfterWriting(body, WITH_REMEDIATION);
    expect(after).toMatchObject({
      'contact-exists': 'pass',
      'email-configured': 'pass',
      'alert-notifications': 'pass',
      'attack-path-notifications': 'pass',
    });
    expect(body.properties.notificationsByRole.state).toBe('On');
    expect(body.properties.notificationsByRole.roles).toContain('Owner');
    expect(body.properties.phone).toBe('(214)275-4038');
  });

  it('reads the bare-array quirk exactly like the { value } form', () => {
    const body = responseBody('2023-12-01-preview', 'GetSecurityContactsSubscription_example.json');
    const value = body['value'] as unknown[];
    const wrapped = readContactListPage(body);
    const bare = readContactListPage(structuredClone(value));
    if (!wrapped.ok || !bare.ok) throw new Error('expected both pages to read');
    expect(fixFor(bare.items, WITH_REMEDIATION)).toEqual(fixFor(wrapped.items, WITH_REMEDIATION));
  });

  it('reads enum values in any case and writes them in their canonical spelling', () => {
    const item = {
      name: 'Default',
      type: 'microsoft.security/securitycontact',
      etag: 'W/"1"',
      location: 'West Europe',
      properties: {
        emails: 'soc@fabrikam.io',
        isEnabled: true,
        notificationsByRole: { state: 'on', roles: ['owner', 'serviceadmin'] },
        notificationsSources: [
          { sourceType: 'alert', minimalSeverity: 'medium' },
          { sourceType: 'attackpath', minimalRiskLevel: 'critical' },
        ],
      },
    };
    expect(putBody(fixFor([item])).properties).toEqual({
      emails: 'soc@fabrikam.io',
      isEnabled: true,
      notificationsByRole: { state: 'On', roles: ['Owner', 'ServiceAdmin'] },
      notificationsSources: [
        { sourceType: 'Alert', minimalSeverity: 'Medium' },
        { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
      ],
    });
  });
});

describe('mergeContactFix: addresses', () => {
  it('drops exactly the addresses that fail email-configured and keeps the rest in their spelling', () => {
    const policy = policyWith({ emails: { allowedDomains: ['fabrikam.io'] } });
    const item = changed(get2023(), { emails: ' SOC@Fabrikam.io ; bad@, noc@eu.fabrikam.io;a@contoso.com;me@gmail.com;x@corp.test' });
    const fix = fixFor([item], policy);
    expect(putBody(fix).properties.emails).toBe('SOC@Fabrikam.io;noc@eu.fabrikam.io');
    expect(fix).toMatchObject({ placeholderEmails: false });
  });

  it('keeps an address outside every domain when the policy allows any domain', () => {
    const item = changed(get2023(), { emails: 'me@gmail.com;a@contoso.com' });
    expect(putBody(fixFor([item])).properties.emails).toBe('me@gmail.com');
  });

  it('leaves valid addresses untouched when only a notification setting fails', () => {
    const item = changed(get2023(), { emails: 'soc@fabrikam.io, noc@fabrikam.io' });
    expect(putBody(fixFor([item])).properties.emails).toBe('soc@fabrikam.io;noc@fabrikam.io');
  });

  it('adds the remediation addresses only when no valid address would remain', () => {
    const policy = policyWith({ remediation: { emails: ['secops@fabrikam.io', 'SecOps@fabrikam.io', 'ciso@fabrikam.io'] } });
    const onlyPlaceholders = changed(get2023(), { emails: 'john@contoso.com;jane@example.org' });
    expect(fixFor([onlyPlaceholders], policy)).toMatchObject({
      kind: 'put',
      placeholderEmails: false,
      body: { properties: { emails: 'secops@fabrikam.io;ciso@fabrikam.io' } },
    });
    const oneValid = changed(get2023(), { emails: 'john@contoso.com;soc@fabrikam.io' });
    expect(putBody(fixFor([oneValid], policy)).properties.emails).toBe('soc@fabrikam.io');
  });

  it('writes the example address and says so when the policy names no remediation addresses', () => {
    const item = changed(get2023(), { emails: '' });
    const fix = fixFor([item]);
    expect(fix).toMatchObject({ kind: 'put', placeholderEmails: true, body: { properties: { emails: EXAMPLE_SECURITY_TEAM_ADDRESS } } });
  });
});

describe('mergeContactFix: notification settings', () => {
  it('turns a disabled contact on and keeps its levels where they are already more sensitive', () => {
    const item = changed(get2023(), {
      emails: 'soc@fabrikam.io',
      isEnabled: false,
      notificationsSources: [
        { sourceType: 'Alert', minimalSeverity: 'Low' },
        { sourceType: 'AttackPath', minimalRiskLevel: 'Medium' },
      ],
    });
    expect(putBody(fixFor([item])).properties).toMatchObject({
      isEnabled: true,
      notificationsSources: [
        { sourceType: 'Alert', minimalSeverity: 'Low' },
        { sourceType: 'AttackPath', minimalRiskLevel: 'Medium' },
      ],
    });
  });

  it("lowers a level to the policy's threshold, never raises one", () => {
    const policy = policyWith({ alerts: { minimalSeverity: 'Low' }, attackPaths: { minimalRiskLevel: 'Medium' } });
    const item = changed(get2023(), { emails: 'soc@fabrikam.io' }); // Alert Medium, AttackPath Critical
    expect(putBody(fixFor([item], policy)).properties.notificationsSources).toEqual([
      { sourceType: 'AttackPath', minimalRiskLevel: 'Medium' },
      { sourceType: 'Alert', minimalSeverity: 'Low' },
    ]);
  });

  it('replaces a level it cannot read with the threshold', () => {
    const item = changed(get2023(), {
      emails: 'soc@fabrikam.io',
      notificationsSources: [
        { sourceType: 'Alert', minimalSeverity: 'Severe' },
        { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
      ],
    });
    expect(putBody(fixFor([item])).properties.notificationsSources).toEqual([
      { sourceType: 'Alert', minimalSeverity: 'High' },
      { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
    ]);
  });

  it('only adds roles: the roles listed stay, unknown ones too, and Owner joins them', () => {
    const item = changed(get2023(), {
      emails: 'soc@fabrikam.io',
      notificationsByRole: { state: 'Off', roles: ['AccountAdmin', 'Admin'] },
      notificationsSources: [
        { sourceType: 'Alert', minimalSeverity: 'High' },
        { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
      ],
    });
    expect(putBody(fixFor([item])).properties.notificationsByRole).toEqual({ state: 'On', roles: ['AccountAdmin', 'Admin', 'Owner'] });
  });

  it('replaces a role state it cannot read with On', () => {
    const item = changed(get2023(), { emails: 'soc@fabrikam.io', notificationsByRole: { state: 'Sometimes', roles: ['Owner'] } });
    expect(putBody(fixFor([item])).properties.notificationsByRole).toEqual({ state: 'On', roles: ['Owner'] });
  });

  it('carries over source types and members no rule reads, and collapses repeated sources to the most sensitive', () => {
    const item = changed(get2023(), {
      emails: 'soc@fabrikam.io',
      notificationsSources: [
        { sourceType: 'BillingAnomaly', threshold: 3, channels: ['mail'] },
        { sourceType: 'Alert', minimalSeverity: 'High', digest: { hours: 4 } },
        { sourceType: 'Alert', minimalSeverity: 'Medium' },
      ],
    });
    expect(putBody(fixFor([item])).properties.notificationsSources).toEqual([
      { sourceType: 'BillingAnomaly', threshold: 3, channels: ['mail'] },
      { sourceType: 'Alert', minimalSeverity: 'Medium', digest: { hours: 4 } },
      { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
    ]);
  });

  it('fixes only the rules the policy requires, turning alerts on at the level stored while they were off', () => {
    const policy = policyWith({ attackPaths: { required: false }, owners: { required: false } });
    const item = changed(get2020(), {
      emails: 'soc@fabrikam.io',
      alertNotifications: { state: 'Off', minimalSeverity: 'Low' },
      notificationsByRole: { state: 'Off', roles: ['Contributor'] },
    });
    expect(putBody(fixFor([item], policy)).properties).toEqual({
      emails: 'soc@fabrikam.io',
      phone: '(214)275-4038',
      isEnabled: true,
      notificationsByRole: { state: 'Off', roles: ['Contributor'] },
      // The write replaces the stored Low: raising it to the policy's High would be less sensitive.
      notificationsSources: [{ sourceType: 'Alert', minimalSeverity: 'Low' }],
    });
  });

  it('leaves a disabled contact disabled when no required rule needs it on', () => {
    const policy = policyWith({ alerts: { required: false }, attackPaths: { required: false } });
    const item = changed(get2023(), { emails: 'a@contoso.com;soc@fabrikam.io', isEnabled: false });
    expect(putBody(fixFor([item], policy)).properties).toMatchObject({
      emails: 'soc@fabrikam.io',
      isEnabled: false,
      notificationsSources: [
        { sourceType: 'AttackPath', minimalRiskLevel: 'Critical' },
        { sourceType: 'Alert', minimalSeverity: 'Medium' },
      ],
    });
  });
});

describe('mergeContactFix: several contacts', () => {
  it('merges 2017 contacts named default1 and default2: addresses united, each setting from the contact that enables it', () => {
    const first = { ...changed(get2017(), { email: 'john@fabrikam.io', alertsToAdmins: 'Off' }), name: 'default1' };
    const second = {
      ...changed(responseBody('2017-08-01-preview', 'CreateSecurityContact_min_example.json'), {
        email: 'chen@fabrikam.io;JOHN@fabrikam.io',
        alertNotifications: 'Off',
      }),
      name: 'default2',
    };
    expect(putBody(fixFor([first, second])).properties).toEqual({
      emails: 'john@fabrikam.io;chen@fabrikam.io',
      phone: '(214)275-4038',
      isEnabled: true,
      notificationsByRole: { state: 'On', roles: ['Owner'] },
      notificationsSources: [
        { sourceType: 'Alert', minimalSeverity: 'High' },
        { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
      ],
    });
  });

  it('merges contacts of different shapes, taking the phone of the one named default', () => {
    const old = { ...changed(get2020(), { emails: 'noc@fabrikam.io', phone: '+1 555 0100' }), name: 'default1' };
    const current = changed(get2023(), { emails: 'soc@fabrikam.io', phone: '+1 555 0199' });
    const body = putBody(fixFor([old, current]));
    expect(body.properties.emails).toBe('noc@fabrikam.io;soc@fabrikam.io');
    expect(body.properties.phone).toBe('+1 555 0199');
    // The 2020 contact e-mails alerts from Low, the 2023 one from Medium: Low counts.
    expect(body.properties.notificationsSources).toContainEqual({ sourceType: 'Alert', minimalSeverity: 'Low' });
  });

  it('takes source types from the enabled contacts only, as the rules do, but never raises a level a disabled one stores', () => {
    const disabled = changed(get2023(), {
      emails: 'soc@fabrikam.io',
      isEnabled: false,
      notificationsSources: [
        { sourceType: 'Alert', minimalSeverity: 'Low' },
        { sourceType: 'AttackPath', minimalRiskLevel: 'Low' },
      ],
    });
    const enabled = {
      ...changed(get2020(), { emails: 'noc@fabrikam.io', alertNotifications: { state: 'On', minimalSeverity: 'High' } }),
      name: 'default1',
    };
    const contact = contactOf([disabled, enabled]);
    // No AttackPath source (the disabled contact's e-mailed nothing); the Alert level is the
    // disabled contact's Low, which a write of default replaces and so must keep.
    expect(mergedContactBody(contact).properties).toMatchObject({
      isEnabled: true,
      notificationsSources: [{ sourceType: 'Alert', minimalSeverity: 'Low' }],
    });
  });
});

describe('mergeContactFix: nothing to write, or nothing a write can do', () => {
  it('answers none when every rule the policy requires passes', () => {
    const item = changed(get2023(), {
      emails: 'soc@fabrikam.io',
      notificationsSources: [
        { sourceType: 'Alert', minimalSeverity: 'High' },
        { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
      ],
    });
    expect(fixFor([item])).toEqual({ kind: 'none' });
  });

  it('answers none for a 2017 contact when the policy requires nothing it lacks, without rewriting it', () => {
    const policy = policyWith({ attackPaths: { required: false } });
    expect(fixFor([changed(get2017(), { email: 'soc@fabrikam.io' })], policy)).toEqual({ kind: 'none' });
  });

  it('answers not-fixable with the reason when the provider is not registered', () => {
    const contact = providerNotRegisteredContact();
    const fix = mergeContactFix(contact, evaluateContact(contact, DEFAULT_POLICY).findings, DEFAULT_POLICY);
    expect(fix).toEqual({ kind: 'not-fixable', reason: PROVIDER_NOT_REGISTERED_REASON });
  });

  it('creates the whole contact where there is none, and says what it adds', () => {
    expect(fixFor([], WITH_REMEDIATION)).toEqual({
      kind: 'put',
      placeholderEmails: false,
      changes: [
        'added address secops@fabrikam.io, as no valid address remained',
        'turned role notifications on',
        'added Owner to the notified roles',
        'turned alert e-mails on for severity High and above',
        'turned attack path e-mails on for risk level High and above',
      ],
      body: {
        properties: {
          emails: 'secops@fabrikam.io',
          isEnabled: true,
          notificationsByRole: { state: 'On', roles: ['Owner'] },
          notificationsSources: [
            { sourceType: 'Alert', minimalSeverity: 'High' },
            { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
          ],
        },
      },
    });
    expect(fixFor([])).toMatchObject({
      kind: 'put',
      placeholderEmails: true,
      body: { properties: { emails: EXAMPLE_SECURITY_TEAM_ADDRESS } },
    });
  });

  it('answers not-fixable when a write would change nothing the failing rule judges', () => {
    const contact = contactOf([changed(get2023(), { emails: 'soc@fabrikam.io' })]);
    const findings: Finding[] = [{ ruleId: 'owner-notifications', result: 'fail', message: 'judged by a stricter rule' }];
    expect(mergeContactFix(contact, findings, DEFAULT_POLICY)).toEqual({
      kind: 'not-fixable',
      reason: 'writing the contact would not change what owner-notifications judges, so it would still fail',
    });
  });

  it('answers not-fixable when a required rule could not be judged, and ignores rules the policy does not require', () => {
    const contact = contactOf([changed(get2023(), { emails: 'soc@fabrikam.io' })]);
    const error: Finding = { ruleId: 'alert-notifications', result: 'error', message: 'the contact could not be read' };
    expect(mergeContactFix(contact, [error], DEFAULT_POLICY)).toEqual({
      kind: 'not-fixable',
      reason: 'alert-notifications could not be judged: the contact could not be read',
    });
    expect(mergeContactFix(contact, [error], policyWith({ alerts: { required: false } }))).toEqual({ kind: 'none' });
  });

  it('does not change the contact it was given', () => {
    const contact = contactOf([changed(get2023(), { emails: 'a@contoso.com;soc@fabrikam.io', isEnabled: false })]);
    const before = structuredClone(contact);
    mergeContactFix(contact, evaluateContact(contact, DEFAULT_POLICY).findings, DEFAULT_POLICY);
    expect(contact).toEqual(before);
  });
});
