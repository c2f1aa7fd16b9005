/**
 * schema/report-v1.json and schema/fix-report-v1.json against what the code writes: the reports of
 * generated tenants (every status, every contact shape, both sources, every fix result), scanned
 * and repaired through the real scan and fix over in-memory ports, rendered by the real JSON
 * renderers, all valid; and reports broken in each way the contract forbids, all refused, so that
 * the schemas can fail.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { applyExemptions } from '../../../src/core/exemptions.js';
import {
  CONTACT_SHAPES,
  FIX_RESULTS,
  SUBSCRIPTION_STATUSES,
  type FixReport,
  type Policy,
  type ScanReport,
  type SecurityContactPutBody,
} from '../../../src/core/model.js';
import { DEFAULT_POLICY, parsePolicy } from '../../../src/core/policy.js';
import type { Exemption } from '../../../src/core/state-model.js';
import { runFix } from '../../../src/remediation/fix.js';
import type { ContactWriteResult, SecurityContactWriter } from '../../../src/remediation/ports.js';
import { renderFixReport } from '../../../src/report/fix-report.js';
import { renderReport, renderVerdict, type RenderContext } from '../../../src/report/index.js';
import { RULES } from '../../../src/core/rules/index.js';
import type { ContactListRead, SecurityContactsSource, TenantInventorySource } from '../../../src/scan/ports.js';
import { runScan, summarise } from '../../../src/scan/scan.js';
import { generateTenant, type SimulatedTenant } from '../../azure-server/tenant.js';
import { compliantContact2023, contactItem, contactListItems } from '../../support/fixtures.js';
import {
  expectValidFixReport,
  expectValidReport,
  expectValidVerdict,
  FIX_REPORT_SCHEMA,
  REPORT_SCHEMA,
  schemaErrors,
  VERDICT_SCHEMA,
} from '../../support/report-schema.js';

const CONTEXT: RenderContext = { rules: RULES, portalUrl: 'https://portal.azure.com' };
const NOW = new Date('2026-03-01T10:00:00.000Z');

/** Resource Graph and the securityContacts API of a simulated tenant, in memory: what the local Azure test server answers, without HTTP. */
function inMemoryAzure(tenant: SimulatedTenant): { inventory: TenantInventorySource; contacts: SecurityContactsSource } {
  const inventory: TenantInventorySource = {
    stats: { requests: 0 },
    readInventory: async (_scope, listener) => {
      const listed = tenant.listSubscriptions().filter((subscription) => !subscription.quirks.notInResourceGraph);
      for (const { subscriptionId, displayName, state } of listed) listener.subscription({ subscriptionId, displayName, state });
      for (const { subscriptionId, indexedContacts } of listed) {
        indexedContacts.forEach((item, n) => listener.contact(subscriptionId, `/subscriptions/${subscriptionId}/contacts/${n}`, item));
      }
      return { managementGroupsWithoutSubscriptions: [] };
    },
  };
  const contacts: SecurityContactsSource = {
    stats: { calls: 0 },
    listContacts: async (subscriptionId: string): Promise<ContactListRead> => {
      contacts.stats.calls += 1;
      const { quirks, contacts: items } = tenant.getSubscription(subscriptionId)!;
      if (quirks.forbidden)
        return { kind: 'unreadable', status: 403, message: 'the securityContacts API answered 403 AuthorizationFailed' };
      if (quirks.notFound)
        return { kind: 'unreadable', status: 404, message: 'the securityContacts API answered 404 SubscriptionNotFound' };
      if (quirks.providerNotRegistered) {
        return { kind: 'provider-not-registered', message: 'the Microsoft.Security resource provider is not registered' };
      }
      if (quirks.invalidBody)
        return { kind: 'unreadable', status: 200, message: 'the securityContacts API answered a body that is not a list' };
      return { kind: 'listed', contacts: [...items] };
    },
  };
  return { inventory, contacts };
}

/** Writes land in the tenant, but for `readOnly` (403) and `ignored` (accepted, then not kept: the contact reads back unchanged). */
function inMemoryWriter(tenant: SimulatedTenant, ignored: ReadonlySet<string>): SecurityContactWriter {
  const writer: SecurityContactWriter = {
    stats: { writes: 0 },
    putContact: async (subscriptionId: string, body: SecurityContactPutBody): Promise<ContactWriteResult> => {
      writer.stats.writes += 1;
      const subscription = tenant.getSubscription(subscriptionId)!;
      if (subscription.quirks.readOnlyIdentity) {
        return { kind: 'refused', status: 403, message: '403 AuthorizationFailed: Microsoft.Security/securityContacts/write is missing' };
      }
      if (!ignored.has(subscriptionId)) {
        tenant.setContacts(subscriptionId, [
          {
            id: `/subscriptions/${subscriptionId}/providers/Microsoft.Security/securityContacts/default`,
            name: 'default',
            type: 'Microsoft.Security/securityContacts',
            properties: body.properties,
          },
        ]);
      }
      return { kind: 'written', status: 200 };
    },
  };
  return writer;
}

/** A generated tenant with every quirk the scan handles, and the shapes and merges the generator does not make. */
function tenantFor(seed: number): SimulatedTenant {
  const tenant = generateTenant({
    count: 160,
    seed,
    withoutContactFraction: 0.15,
    weakContactFraction: 0.35,
    inactiveFraction: 0.05,
    indexed: { doubtfulFraction: 0.2 },
    quirkFractions: { forbidden: 0.03, notFound: 0.03, providerNotRegistered: 0.03, bareArrayBody: 0.02 },
  });
  const second2017 = contactItem('2017-08-01-preview');
  second2017.name = 'default2';
  tenant.addSubscription({ displayName: 'two 2017 contacts', contacts: [contactItem('2017-08-01-preview'), second2017] });
  tenant.addSubscription({ displayName: 'spec example 2020', contacts: contactListItems('2020-01-01-preview') });
  const severe = compliantContact2023();
  severe.properties.notificationsSources = [{ sourceType: 'Alert', minimalSeverity: 'Severe' }];
  tenant.addSubscription({ displayName: 'unknown severity', contacts: [severe] });
  tenant.addSubscription({ displayName: 'body not JSON', quirks: { invalidBody: 'not-json' } });
  tenant.addSubscription({ displayName: 'Reader only', quirks: { readOnlyIdentity: true } });
  tenant.addSubscription({ displayName: '', state: 'Expired' });
  return tenant;
}

/** A policy that requires only the two rules always required, so that a compliant contact can fail the others. */
const LENIENT: Policy = parsePolicy({ alerts: { required: false }, owners: { required: false }, attackPaths: { required: false } }, 'test');
const WITH_REMEDIATION: Policy = parsePolicy({ remediation: { emails: ['secops@corp-sec.net'] } }, 'test');

async function scanReport(tenant: SimulatedTenant, policy: Policy, exemptEvery: number): Promise<ScanReport> {
  const { report } = await runScan({}, { ...inMemoryAzure(tenant), policy, clock: () => NOW });
  const exemptions: Exemption[] = report.subscriptions
    .filter((_, index) => index % exemptEvery === 0)
    .map((verdict) => ({
      subscriptionId: verdict.subscriptionId,
      reason: 'lab',
      owner: 'lead@fabrikam.io',
      expiresOn: '2026-06-30',
      createdBy: 'test',
      createdAt: NOW.toISOString(),
    }));
  const subscriptions = applyExemptions(report.subscriptions, exemptions, NOW);
  return { ...report, subscriptions, summary: summarise(subscriptions) };
}

describe('the JSON report of generated tenants', () => {
  const reports: any[] = [];
  beforeAll(async () => {
    for (const [seed, policy] of [
      [1, DEFAULT_POLICY],
      [2, DEFAULT_POLICY],
      [3, LENIENT],
      [4, WITH_REMEDIATION],
    ] as const) {
      reports.push(JSON.parse(renderReport(await scanReport(tenantFor(seed), policy, 7), 'json', CONTEXT)));
    }
  });

  it('validates, every one', () => {
    for (const report of reports) expectValidReport(report);
  });

  it('covers every status, contact shape, source and rule result the schema names', () => {
    const verdicts = reports.flatMap((report) => report.subscriptions);
    expect(new Set(verdicts.map((v) => v.status))).toEqual(new Set(SUBSCRIPTION_STATUSES));
    expect(new Set(verdicts.map((v) => v.contact.shape))).toEqual(new Set(CONTACT_SHAPES));
    expect(new Set(verdicts.map((v) => v.source))).toEqual(new Set(['resource-graph', 'security-contacts-api']));
    expect(new Set(verdicts.flatMap((v) => v.findings.map((f: any) => f.result)))).toEqual(new Set(['pass', 'fail', 'error']));
    expect(new Set(reports.map((report) => report.scan.status))).toEqual(new Set(['partial']));
    // A compliant subscription that fails a rule its policy does not require.
    expect(verdicts.some((v) => v.status === 'compliant' && v.findings.some((f: any) => f.result === 'fail'))).toBe(true);
  });

  it('each element is what check --format json prints, and validates alone', () => {
    for (const verdict of reports[0].subscriptions) expectValidVerdict(verdict);
  });

  it('validates a report without subscriptions, and a scan with nothing unreadable', async () => {
    const empty = generateTenant({ count: 0 });
    expectValidReport(JSON.parse(renderReport(await scanReport(empty, DEFAULT_POLICY, 1), 'json', CONTEXT)));
    const clean = generateTenant({ count: 40, seed: 9 });
    const report = JSON.parse(renderReport(await scanReport(clean, DEFAULT_POLICY, 1000), 'json', CONTEXT));
    expect(report.scan.status).toBe('succeeded');
    expectValidReport(report);
  });
});

describe('the fix report of generated tenants', () => {
  const reports: FixReport[] = [];
  beforeAll(async () => {
    for (const dryRun of [true, false]) {
      const tenant = tenantFor(5);
      const ignored = new Set(
        tenant
          .listSubscriptions()
          .filter((s) => s.profile === 'no-owner')
          .slice(0, 2)
          .map((s) => s.subscriptionId),
      );
      const run = await runFix(
        {},
        {
          ...inMemoryAzure(tenant),
          writer: inMemoryWriter(tenant, ignored),
          policy: WITH_REMEDIATION,
          clock: () => NOW,
          exemptions: [
            {
              subscriptionId: tenant.listSubscriptions()[0]!.subscriptionId,
              reason: 'lab',
              owner: 'lead@fabrikam.io',
              expiresOn: '2026-06-30',
              createdBy: 'test',
              createdAt: NOW.toISOString(),
            },
          ],
        },
        { dryRun, by: 'fix by test' },
      );
      reports.push(JSON.parse(renderFixReport(run.report, 'json', run.changes)) as FixReport);
    }
  });

  it('validates, dry run and not', () => {
    for (const report of reports) expectValidFixReport(report);
  });

  it('covers every result', () => {
    const results = new Set(reports.flatMap((report) => report.subscriptions.map((entry) => entry.result)));
    expect(results).toEqual(new Set(FIX_RESULTS));
    // `failed` both before a write (unreadable, refused) and after one (read back still failing), with its body.
    expect(reports[1]!.subscriptions.some((entry) => entry.result === 'failed' && entry.body !== undefined)).toBe(true);
    expect(reports[1]!.subscriptions.some((entry) => entry.result === 'failed' && entry.body === undefined)).toBe(true);
  });
});

/** A valid report to break: one subscription of each status. */
async function sampleReport(): Promise<any> {
  return JSON.parse(renderReport(await scanReport(tenantFor(1), DEFAULT_POLICY, 7), 'json', CONTEXT));
}

function withStatus(report: any, status: string): any {
  return report.subscriptions.find((v: any) => v.status === status);
}

describe('the report schema refuses', () => {
  let report: any;
  beforeAll(async () => {
    report = await sampleReport();
    expectValidReport(report);
  });

  const broken = (change: (copy: any) => void): any => {
    const copy = structuredClone(report);
    change(copy);
    return copy;
  };

  it.each<[string, (copy: any) => void, RegExp]>([
    ['a missing finding', (r) => withStatus(r, 'noncompliant').findings.pop(), /findings must NOT have fewer than 5 items/],
    [
      'findings out of rule order',
      (r) => withStatus(r, 'compliant').findings.reverse(),
      /findings\/0\/ruleId must be equal to constant.*"allowedValue":"contact-exists"/,
    ],
    [
      'a sixth finding',
      (r) => withStatus(r, 'compliant').findings.push({ ruleId: 'contact-exists', result: 'pass', message: 'x' }),
      /items/,
    ],
    [
      'an upper-case subscription id',
      (r) => (r.subscriptions[0].subscriptionId = r.subscriptions[0].subscriptionId.toUpperCase()),
      /pattern/,
    ],
    ['a subscription id that is not a GUID', (r) => (r.subscriptions[0].subscriptionId = 'prod-42'), /pattern/],
    ['an unknown status', (r) => (withStatus(r, 'compliant').status = 'passing'), /status must be equal to one of the allowed values/],
    [
      'an unknown rule result',
      (r) => (withStatus(r, 'compliant').findings[2].result = 'warn'),
      /result must be equal to one of the allowed values/,
    ],
    ['an unknown contact shape', (r) => (withStatus(r, 'compliant').contact.shape = '2024-01-01'), /shape must be equal to one of/],
    ['a severity outside its enum', (r) => (withStatus(r, 'compliant').contact.alertMinimalSeverity = 'Critical'), /alertMinimalSeverity/],
    ['a field the report does not have', (r) => (withStatus(r, 'compliant').fix = { kind: 'none' }), /must NOT have additional properties/],
    ['a field missing', (r) => delete withStatus(r, 'compliant').source, /must have required property 'source'/],
    ['another schema version', (r) => (r.schemaVersion = 2), /schemaVersion must be equal to constant/],
    ['a time that is not UTC ISO 8601', (r) => (r.scan.startedAt = '1 March 2026'), /startedAt must match format "date-time"/],
    ['an unknown scan status', (r) => (r.scan.status = 'running'), /scan\/status must be equal to one of the allowed values/],
    ['a negative count', (r) => (r.summary.error = -1), /summary\/error must be >= 0/],
    [
      'compliant while email-configured fails',
      (r) => (withStatus(r, 'compliant').findings[1].result = 'fail'),
      /findings\/1\/result must be equal to constant/,
    ],
    [
      'noncompliant with nothing failing',
      (r) => {
        for (const f of withStatus(r, 'noncompliant').findings) f.result = 'pass';
      },
      /must contain at least 1 valid item/,
    ],
    [
      'an error that passes a rule',
      (r) => (withStatus(r, 'error').findings[3].result = 'pass'),
      /findings\/3\/result must be equal to constant/,
    ],
    [
      'no contact, yet a rule passes',
      (r) => {
        const none = r.subscriptions.find((v: any) => v.status !== 'skipped' && v.findings[0].result === 'fail');
        none.findings[4].result = 'pass';
        none.status = 'exempt';
      },
      /findings\/4\/result must be equal to constant/,
    ],
    [
      'a contact with addresses and no shape',
      (r) => withStatus(r, 'skipped').contact.emails.push('a@b.io'),
      /emails must NOT have more than 0 items/,
    ],
    [
      'a skipped subscription with findings',
      (r) => (withStatus(r, 'skipped').findings = withStatus(r, 'compliant').findings),
      /maxItems|more than 0/,
    ],
    [
      'a noncompliant verdict taken from Resource Graph',
      (r) => (withStatus(r, 'noncompliant').source = 'resource-graph'),
      /status must be equal to one of the allowed values/,
    ],
  ])('%s', (_name, change, message) => {
    const errors = schemaErrors(REPORT_SCHEMA, broken(change));
    expect(errors.length, 'refused').toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(message);
  });

  it('an element alone, broken the same way', () => {
    const verdict = structuredClone(withStatus(report, 'noncompliant'));
    expect(schemaErrors(VERDICT_SCHEMA, verdict)).toEqual([]);
    verdict.findings.shift();
    expect(schemaErrors(VERDICT_SCHEMA, verdict).length).toBeGreaterThan(0);
    expect(() => expectValidVerdict(verdict)).toThrow();
  });

  it('unsorted subscriptions and a summary that does not count them (what the schema cannot say, expectValidReport checks)', () => {
    expect(() => expectValidReport(broken((r) => r.subscriptions.reverse()))).toThrow(/sorted by subscriptionId/);
    expect(() => expectValidReport(broken((r) => (r.summary.compliant += 1)))).toThrow(/summary counts/);
    expect(() => expectValidReport(broken((r) => r.subscriptions.pop()))).toThrow(/summary counts/);
  });

  it('check --format json is one element, not the report', () => {
    const text = renderVerdict(withStatus(report, 'compliant'), 'json', CONTEXT);
    expect(schemaErrors(VERDICT_SCHEMA, JSON.parse(text))).toEqual([]);
    expect(schemaErrors(REPORT_SCHEMA, JSON.parse(text)).length).toBeGreaterThan(0);
  });
});

describe('the fix report schema refuses', () => {
  const ID = 'a0000000-0000-4000-8000-00000000000f';
  const BODY: SecurityContactPutBody = {
    properties: {
      emails: 'secops@corp-sec.net',
      isEnabled: true,
      notificationsByRole: { state: 'On', roles: ['Owner'] },
      notificationsSources: [
        { sourceType: 'Alert', minimalSeverity: 'High' },
        { sourceType: 'Custom', carried: { over: true } },
      ],
    },
  };
  const valid = (): any => ({
    schemaVersion: 1,
    fix: { dryRun: false, startedAt: NOW.toISOString(), finishedAt: NOW.toISOString() },
    subscriptions: [{ subscriptionId: ID, displayName: 'Payments', result: 'fixed', body: structuredClone(BODY) }],
  });

  it('accepts the sample', () => {
    expectValidFixReport(valid());
  });

  it.each<[string, (copy: any) => void, RegExp]>([
    ['fixed without its body', (r) => delete r.subscriptions[0].body, /must have required property 'body'/],
    ['would-fix outside a dry run', (r) => (r.subscriptions[0].result = 'would-fix'), /must NOT be valid/],
    ['fixed in a dry run', (r) => (r.fix.dryRun = true), /must NOT be valid/],
    ['an unknown result', (r) => (r.subscriptions[0].result = 'repaired'), /result must be equal to one of the allowed values/],
    [
      'unchanged without a reason',
      (r) => Object.assign(r.subscriptions[0], { result: 'unchanged', body: undefined }),
      /required property 'reason'|body/,
    ],
    [
      'a body on a subscription that was not written',
      (r) => Object.assign(r.subscriptions[0], { result: 'not-fixable', reason: 'provider not registered' }),
      /must NOT be valid/,
    ],
    ['a body with a field the PUT does not send', (r) => (r.subscriptions[0].body.properties.etag = 'x'), /additional properties/],
    ['an upper-case id', (r) => (r.subscriptions[0].subscriptionId = ID.toUpperCase()), /pattern/],
    ['a missing dryRun', (r) => delete r.fix.dryRun, /required property 'dryRun'/],
  ])('%s', (_name, change, message) => {
    const copy = valid();
    change(copy);
    const errors = schemaErrors(FIX_REPORT_SCHEMA, JSON.parse(JSON.stringify(copy)));
    expect(errors.length, 'refused').toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(message);
  });
});
