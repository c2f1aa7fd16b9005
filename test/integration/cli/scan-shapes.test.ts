/**
 * `contact-watch scan` against the local Azure test server: every securityContacts shape and
 * quirk of docs/reference/rules.md, judged end to end through Resource Graph and the securityContacts API,
 * and reported as §7 says.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedTenant, startLocalAzure } from '../../azure-server/index.js';
import type { LocalAzure } from '../../azure-server/index.js';
import { runCliInProcess } from '../../support/cli.js';
import { compliantContact2023, contactItem, contactListItems } from '../../support/fixtures.js';
import { expectValidReport } from '../../support/report-schema.js';

const RULE_ORDER = ['contact-exists', 'email-configured', 'alert-notifications', 'owner-notifications', 'attack-path-notifications'];

/** Subscription ids chosen so that the report's sort order is easy to read. */
const id = (n: number) => `${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;

const S = {
  compliantIndexed: id(1),
  fixture2023: id(2),
  shape2020: id(3),
  shape2017Merged: id(4),
  noContact: id(5),
  emptyEmails: id(6),
  lagging: id(7),
  bareArray: id(8),
  paged: id(9),
  forbidden: id(10),
  unregistered: id(11),
  disabled: id(12),
  notJson: id(13),
  wrongTypes: id(14),
  quirky: id(15),
  unknownEnum: id(16),
  staleIndex: id(17),
};

let azure: LocalAzure;
let report: any;
let run: Awaited<ReturnType<typeof runCliInProcess>>;

beforeAll(async () => {
  const tenant = new SimulatedTenant();
  const add = (subscriptionId: string, displayName: string, contacts: unknown[], extra: Record<string, unknown> = {}) =>
    tenant.addSubscription({ subscriptionId, displayName, contacts, ...extra });

  add(S.compliantIndexed, 'compliant, indexed', [compliantContact2023()]);
  add(S.fixture2023, 'spec example 2023', contactListItems('2023-12-01-preview'));
  const c2020 = contactListItems('2020-01-01-preview');
  c2020[0].properties.emails = 'secops@fabrikam.io;soc@fabrikam.io';
  add(S.shape2020, 'spec example 2020', c2020);
  const first2017 = contactItem('2017-08-01-preview');
  first2017.properties.email = 'secops@fabrikam.io';
  const second2017 = structuredClone(first2017);
  second2017.name = 'default2';
  second2017.properties = { email: 'oncall@fabrikam.io', alertNotifications: 'Off', alertsToAdmins: 'Off' };
  add(S.shape2017Merged, 'two 2017 contacts', [first2017, second2017]);
  add(S.noContact, 'no contact', []);
  const empty = compliantContact2023();
  empty.properties.emails = '';
  add(S.emptyEmails, 'empty emails', [empty]);
  add(S.lagging, 'Resource Graph has not indexed it', [compliantContact2023()], { indexed: false });
  add(S.bareArray, 'bare array body', [compliantContact2023()], { indexed: false, quirks: { bareArrayBody: true } });
  const pagedA = compliantContact2023('secops@fabrikam.io');
  const pagedB = compliantContact2023('soc@fabrikam.io');
  pagedB.name = 'default2';
  add(S.paged, 'nextLink paging', [pagedA, pagedB], { indexed: false, quirks: { contactsPageSize: 1 } });
  add(S.forbidden, 'forbidden', [compliantContact2023()], { indexed: false, quirks: { forbidden: true } });
  add(S.unregistered, 'provider not registered', [], { quirks: { providerNotRegistered: true } });
  add(S.disabled, 'disabled', [], { state: 'Disabled' });
  add(S.notJson, 'body not JSON', [], { indexed: false, quirks: { invalidBody: 'not-json' } });
  add(S.wrongTypes, 'body with wrong types', [], { indexed: false, quirks: { invalidBody: 'wrong-types' } });
  const quirky = compliantContact2023();
  quirky.name = 'Default';
  quirky.type = 'Microsoft.Security/securityContact';
  quirky.etag = '"0x8D9"';
  quirky.location = 'West Europe';
  quirky.properties.notificationsByRole = { state: 'on', roles: ['owner'] };
  quirky.properties.emails = ' secops@fabrikam.io , soc@fabrikam.io ;';
  for (const source of quirky.properties.notificationsSources) source.sourceType = source.sourceType.toLowerCase();
  add(S.quirky, 'quirks: Default, singular type, case, separators', [quirky]);
  const unknown = compliantContact2023();
  unknown.properties.notificationsSources = [
    { sourceType: 'Alert', minimalSeverity: 'Severe' },
    { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
  ];
  add(S.unknownEnum, 'unknown severity', [unknown]);
  // Resource Graph still shows the old contact without an owner; it has been fixed since.
  const before = compliantContact2023();
  before.properties.notificationsByRole = { state: 'Off', roles: [] };
  add(S.staleIndex, 'stale index', [compliantContact2023()]);
  tenant.setIndexedContacts(S.staleIndex, [before]);

  azure = await startLocalAzure({ tenant });
  run = await runCliInProcess(['scan', '--format', 'json'], azure.env());
  report = JSON.parse(run.stdout);
});

afterAll(async () => {
  await azure?.close();
});

const verdict = (subscriptionId: string) => report.subscriptions.find((s: any) => s.subscriptionId === subscriptionId);
const finding = (subscriptionId: string, ruleId: string) => verdict(subscriptionId).findings.find((f: any) => f.ruleId === ruleId);

describe('scan --format json', () => {
  it('exits 0 and writes the report of docs/reference/report.md', () => {
    expect(run.code, run.stderr).toBe(0);
    expectValidReport(report);
    expect(report.schemaVersion).toBe(1);
    expect(Object.keys(report)).toEqual(['schemaVersion', 'scan', 'summary', 'subscriptions']);
    expect(report.scan.status).toBe('partial'); // some subscriptions could not be read
    expect(Date.parse(report.scan.finishedAt)).toBeGreaterThanOrEqual(Date.parse(report.scan.startedAt));
    const ids = report.subscriptions.map((s: any) => s.subscriptionId);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toHaveLength(Object.keys(S).length);
  });

  it('counts every status in the summary', () => {
    expect(report.summary).toEqual({
      subscriptions: 17,
      compliant: 6,
      noncompliant: 7,
      exempt: 0,
      error: 3,
      skipped: 1,
    });
  });

  it('lists all five rules in contract order for every judged subscription', () => {
    for (const s of report.subscriptions.filter((v: any) => v.status !== 'skipped')) {
      expect(s.findings.map((f: any) => f.ruleId)).toEqual(RULE_ORDER);
    }
  });

  it('takes a compliant contact from Resource Graph without calling the securityContacts API', () => {
    expect(verdict(S.compliantIndexed)).toMatchObject({
      status: 'compliant',
      source: 'resource-graph',
      displayName: 'compliant, indexed',
      state: 'Enabled',
    });
    expect(verdict(S.compliantIndexed).contact).toEqual({
      emails: ['secops@fabrikam.io'],
      alertMinimalSeverity: 'Medium',
      notifyRoles: ['Owner'],
      attackPathMinimalRiskLevel: 'High',
      shape: '2023-12-01-preview',
    });
    const contactCalls = azure.requests.of('security-contacts').map((r) => r.subscriptionId);
    expect(contactCalls).not.toContain(S.compliantIndexed);
    expect(contactCalls).not.toContain(S.quirky);
  });

  it('confirms with the API, at api-version 2023-12-01-preview, everything Resource Graph does not show as compliant', () => {
    const calls = azure.requests.of('security-contacts');
    expect(new Set(calls.map((r) => r.apiVersion))).toEqual(new Set(['2023-12-01-preview']));
    const confirmed = new Set(calls.map((r) => r.subscriptionId));
    for (const subscriptionId of [S.fixture2023, S.noContact, S.lagging, S.bareArray, S.paged, S.forbidden, S.unregistered, S.staleIndex]) {
      expect(confirmed.has(subscriptionId), subscriptionId).toBe(true);
    }
    expect(confirmed.has(S.disabled)).toBe(false);
  });

  it('reads the two plain Resource Graph queries once each for a small tenant', () => {
    const queries = azure.requests.of('resource-graph').map((r) => r.resourceGraph?.query ?? '');
    expect(queries).toHaveLength(2);
    expect(queries.some((q) => /resourcecontainers/i.test(q) && /microsoft\.resources\/subscriptions/i.test(q))).toBe(true);
    expect(queries.some((q) => /securityresources/i.test(q) && /microsoft\.security\/securitycontacts/i.test(q))).toBe(true);
    expect(queries.every((q) => !/join/i.test(q))).toBe(true);
    expect(azure.requests.of('resource-graph').every((r) => r.resourceGraph?.top === 1000)).toBe(true);
  });

  it('judges the 2023 spec example: placeholder domain and attack paths from Critical only fail; Owner beside the unknown role "Admin" passes', () => {
    const s = verdict(S.fixture2023);
    expect(s.status).toBe('noncompliant');
    expect(s.source).toBe('security-contacts-api');
    expect(finding(S.fixture2023, 'contact-exists').result).toBe('pass');
    expect(finding(S.fixture2023, 'email-configured')).toMatchObject({ result: 'fail' });
    expect(finding(S.fixture2023, 'email-configured').message).toMatch(/contoso\.com/);
    expect(finding(S.fixture2023, 'alert-notifications').result).toBe('pass');
    expect(finding(S.fixture2023, 'owner-notifications').result).toBe('pass');
    expect(finding(S.fixture2023, 'owner-notifications').message).toContain('"Admin"');
    expect(finding(S.fixture2023, 'attack-path-notifications').result).toBe('fail');
    expect(s.contact.emails).toEqual(['john@contoso.com', 'Jane@contoso.com']);
  });

  it('cannot see attack-path notifications in the 2020 shape', () => {
    expect(verdict(S.shape2020).status).toBe('noncompliant');
    expect(verdict(S.shape2020).contact.shape).toBe('2020-01-01-preview');
    expect(verdict(S.shape2020).contact.alertMinimalSeverity).toBe('Low');
    expect(finding(S.shape2020, 'email-configured').result).toBe('pass');
    expect(finding(S.shape2020, 'alert-notifications').result).toBe('pass');
    expect(finding(S.shape2020, 'owner-notifications').result).toBe('pass'); // its roles are Owner and 'Admin'
    expect(finding(S.shape2020, 'attack-path-notifications').result).toBe('fail');
  });

  it('merges several 2017 contacts: union of addresses, a setting counts if any contact enables it', () => {
    const s = verdict(S.shape2017Merged);
    expect(s.contact.shape).toBe('2017-08-01-preview');
    expect(s.contact.emails).toEqual(['secops@fabrikam.io', 'oncall@fabrikam.io']);
    expect(s.contact.alertMinimalSeverity).toBe('High');
    expect(finding(S.shape2017Merged, 'alert-notifications').result).toBe('pass');
    expect(finding(S.shape2017Merged, 'owner-notifications').result).toBe('pass');
    expect(finding(S.shape2017Merged, 'attack-path-notifications').result).toBe('fail');
  });

  it('reports a subscription with no contact (Prowler drops it) with every rule failing', () => {
    const s = verdict(S.noContact);
    expect(s.status).toBe('noncompliant');
    expect(s.contact.shape).toBe('none');
    expect(finding(S.noContact, 'contact-exists').result).toBe('fail');
    for (const rule of RULE_ORDER.slice(1)) {
      expect(finding(S.noContact, rule)).toEqual({ ruleId: rule, result: 'fail', message: 'no security contact' });
    }
  });

  it('fails an empty emails string (Prowler passes it)', () => {
    expect(verdict(S.emptyEmails).status).toBe('noncompliant');
    expect(finding(S.emptyEmails, 'contact-exists').result).toBe('pass');
    expect(finding(S.emptyEmails, 'email-configured').result).toBe('fail');
  });

  it('confirms lagging, bare-array and paged lists with the API', () => {
    expect(verdict(S.lagging)).toMatchObject({ status: 'compliant', source: 'security-contacts-api' });
    expect(verdict(S.bareArray)).toMatchObject({ status: 'compliant', source: 'security-contacts-api' });
    expect(verdict(S.paged)).toMatchObject({ status: 'compliant', source: 'security-contacts-api' });
    expect(verdict(S.paged).contact.emails).toEqual(['secops@fabrikam.io', 'soc@fabrikam.io']);
    expect(azure.requests.of('security-contacts').filter((r) => r.subscriptionId === S.paged)).toHaveLength(2);
  });

  it('never reports a stale, failing Resource Graph row: the API has the last word', () => {
    expect(verdict(S.staleIndex)).toMatchObject({ status: 'compliant', source: 'security-contacts-api' });
    expect(finding(S.staleIndex, 'owner-notifications').result).toBe('pass');
  });

  it('reports what could not be read as error, never compliant', () => {
    for (const subscriptionId of [S.forbidden, S.notJson, S.wrongTypes]) {
      const s = verdict(subscriptionId);
      expect(s.status, subscriptionId).toBe('error');
      expect(s.findings.every((f: any) => f.result === 'error')).toBe(true);
    }
    expect(finding(S.forbidden, 'contact-exists').message).toMatch(/403|AuthorizationFailed/);
    expect(run.stderr).toMatch(/could not be read/);
  });

  it('treats MissingSubscriptionRegistration as noncompliant, saying why', () => {
    expect(verdict(S.unregistered).status).toBe('noncompliant');
    expect(finding(S.unregistered, 'contact-exists').result).toBe('fail');
    expect(finding(S.unregistered, 'contact-exists').message).toMatch(/not registered/i);
  });

  it('lists a disabled subscription as skipped without judging it', () => {
    expect(verdict(S.disabled)).toMatchObject({ status: 'skipped', state: 'Disabled' });
  });

  it('reads the quirks: Default, singular type, extra fields, case and separators', () => {
    expect(verdict(S.quirky).status).toBe('compliant');
    expect(verdict(S.quirky).contact.emails).toEqual(['secops@fabrikam.io', 'soc@fabrikam.io']);
    expect(verdict(S.quirky).contact.notifyRoles).toEqual(['Owner']);
  });

  it('fails an unknown enum value, naming it', () => {
    expect(verdict(S.unknownEnum).status).toBe('noncompliant');
    expect(finding(S.unknownEnum, 'alert-notifications')).toMatchObject({ result: 'fail' });
    expect(finding(S.unknownEnum, 'alert-notifications').message).toContain('Severe');
  });

  it('reports progress and a summary on stderr, not stdout', () => {
    expect(run.stderr).toMatch(/scanned 17 subscription\(s\)/);
    expect(run.stdout.trim().startsWith('{')).toBe(true);
  });
});
