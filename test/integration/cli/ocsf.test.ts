/**
 * `contact-watch scan --format ocsf` against the local Azure test server: every line an OCSF
 * Compliance Finding valid against schema/ocsf-compliance-finding-1.6.0.json (and, with
 * OCSF_SCHEMA_DIR set, against OCSF's own definitions: test/support/ocsf-schema.ts), one per
 * subscription and rule, agreeing with `--format json` of the same tenant, with each rule's
 * compliance references taken from the rule's own metadata.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import packageJson from '../../../package.json' with { type: 'json' };
import { RULES } from '../../../src/core/rules/index.js';
import { SimulatedTenant, startLocalAzure } from '../../azure-server/index.js';
import type { LocalAzure } from '../../azure-server/index.js';
import { runCliInProcess, runContactWatch } from '../../support/cli.js';
import { compliantContact2023 } from '../../support/fixtures.js';
import { ocsfEventErrors } from '../../support/ocsf-schema.js';

const id = (n: number) => `${n.toString(16).padStart(8, '0')}-0000-4000-8000-0000000000cf`;
const S = { compliant: id(1), noAttackPaths: id(2), noContact: id(3), unregistered: id(4), forbidden: id(5), disabled: id(6) };
/** A display name with a right-to-left override: it reaches the events exact, written as an escape. */
const TRICKY_NAME = 'Payroll \u202Egpj.exe';

let azure: LocalAzure;
let dir: string;
let events: any[];
let text: string;
let report: any;

function parseLines(output: string): any[] {
  expect(output.endsWith('\n'), 'the last line ends with a newline').toBe(true);
  return output
    .split('\n')
    .slice(0, -1)
    .map((line) => JSON.parse(line));
}

beforeAll(async () => {
  const tenant = new SimulatedTenant();
  const add = (subscriptionId: string, displayName: string, contacts: unknown[], extra: Record<string, unknown> = {}) =>
    tenant.addSubscription({ subscriptionId, displayName, contacts, ...extra });
  add(S.compliant, TRICKY_NAME, [compliantContact2023()]);
  const noAttackPaths = compliantContact2023();
  noAttackPaths.properties.notificationsSources = [{ sourceType: 'Alert', minimalSeverity: 'High' }];
  noAttackPaths.properties.notificationsByRole = { state: 'Off', roles: [] };
  add(S.noAttackPaths, 'no attack paths, no owners', [noAttackPaths]);
  add(S.noContact, 'no contact', []);
  add(S.unregistered, 'provider not registered', [], { quirks: { providerNotRegistered: true } });
  add(S.forbidden, 'forbidden', [compliantContact2023()], { indexed: false, quirks: { forbidden: true } });
  add(S.disabled, 'disabled', [], { state: 'Disabled' });
  azure = await startLocalAzure({ tenant });
  dir = await mkdtemp(join(tmpdir(), 'contact-watch-ocsf-'));

  const ocsf = await runCliInProcess(['scan', '--format', 'ocsf'], azure.env());
  expect(ocsf.code, ocsf.stderr).toBe(0);
  text = ocsf.stdout;
  events = parseLines(text);
  const json = await runCliInProcess(['scan', '--format', 'json'], azure.env());
  expect(json.code, json.stderr).toBe(0);
  report = JSON.parse(json.stdout);
});

afterAll(async () => {
  await azure?.close();
});

const eventsOf = (subscriptionId: string) => events.filter((event) => event.cloud.account.uid === subscriptionId);

describe('scan --format ocsf', () => {
  it('writes only valid OCSF Compliance Findings, one per line', () => {
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) expect(ocsfEventErrors(event), JSON.stringify(event)).toEqual([]);
    for (const event of events) {
      expect(event).toMatchObject({
        class_uid: 2003,
        category_uid: 2,
        metadata: { version: '1.6.0', product: { version: packageJson.version } },
      });
    }
  });

  it('has one event per subscription and rule, agreeing with --format json', () => {
    expect(report.subscriptions.map((s: any) => s.subscriptionId)).toEqual(Object.values(S).sort());
    const expected = report.subscriptions.flatMap((s: any) =>
      RULES.map((rule) => {
        const finding = s.findings.find((f: any) => f.ruleId === rule.id);
        return `${s.subscriptionId}/${rule.id} ${finding?.result ?? 'not judged'}`;
      }),
    );
    const actual = events.map((event) => `${event.finding_info.uid} ${event.compliance.status_code ?? 'not judged'}`);
    expect(actual).toEqual(expected);
    const statusOf = (subscriptionId: string) => report.subscriptions.find((s: any) => s.subscriptionId === subscriptionId).status;
    expect(Object.values(S).map(statusOf)).toEqual(['compliant', 'noncompliant', 'noncompliant', 'noncompliant', 'error', 'skipped']);
  });

  it('gives every failing rule every CIS reference and framework control of its metadata', () => {
    const failing = events.filter((event) => event.compliance.status === 'Fail');
    expect(new Set(failing.map((event) => event.compliance.control))).toEqual(new Set(RULES.map((rule) => rule.id)));
    for (const event of failing) {
      const rule = RULES.find((r) => r.id === event.compliance.control)!;
      expect(event.compliance.requirements).toHaveLength(
        rule.references.cis.length + rule.references.mcsb.length + rule.references.frameworks.length,
      );
      expect(event.compliance.checks).toHaveLength(rule.references.cis.length + rule.references.frameworks.length);
      for (const cis of rule.references.cis) {
        expect(event.compliance.standards).toContain(`${cis.benchmark} v${cis.version}`);
        expect(event.compliance.requirements).toContain(`${cis.benchmark} v${cis.version} ${cis.recommendation}`);
        expect(event.compliance.checks).toContainEqual(expect.objectContaining({ uid: cis.recommendation, version: cis.version }));
      }
      for (const framework of rule.references.frameworks) {
        expect(event.compliance.standards).toContain(framework.framework);
        expect(event.compliance.requirements).toContain(`${framework.framework} ${framework.control}`);
        expect(event.compliance.checks).toContainEqual({ uid: framework.control, name: framework.title, standards: [framework.framework] });
      }
      expect(event).toMatchObject({ status: 'New', activity_name: 'Create', severity: 'High' });
    }
  });

  it('never shows an unreadable subscription as a pass; archives a disabled one; resolves a pass', () => {
    for (const event of eventsOf(S.forbidden)) {
      expect(event.compliance).toMatchObject({ status: 'Warning', status_code: 'error' });
      expect(event).toMatchObject({ status: 'New', severity: 'Medium' });
    }
    for (const event of eventsOf(S.disabled)) expect(event).toMatchObject({ status: 'Archived', compliance: { status: 'Unknown' } });
    for (const event of eventsOf(S.compliant))
      expect(event).toMatchObject({ status: 'Resolved', activity_name: 'Close', compliance: { status: 'Pass' } });
    expect(eventsOf(S.unregistered)[0].compliance.status_details[0]).toMatch(/not registered/);
  });

  it('keeps the display name exactly, written as an escape, on the account and the subscription resource', () => {
    expect(text).not.toContain('\u202E');
    expect(text).toContain('Payroll \\u202egpj.exe');
    for (const event of eventsOf(S.compliant)) {
      expect(event.cloud.account).toEqual({ uid: S.compliant, name: TRICKY_NAME, type_id: 13, type: 'Azure Subscription' });
      expect(event.resources[0]).toEqual({
        uid: `/subscriptions/${S.compliant}`,
        type: 'Microsoft.Resources/subscriptions',
        name: TRICKY_NAME,
      });
    }
  });

  it('makes the failure of a rule the policy does not require Low', async () => {
    const policy = join(dir, 'policy.json');
    await writeFile(policy, JSON.stringify({ owners: { required: false }, attackPaths: { required: false } }));
    const run = await runCliInProcess(['scan', '--subscription', S.noAttackPaths, '--config', policy, '--format', 'ocsf'], azure.env());
    expect(run.code, run.stderr).toBe(0);
    const relaxed = parseLines(run.stdout);
    const severity = Object.fromEntries(relaxed.map((event) => [event.compliance.control, `${event.compliance.status} ${event.severity}`]));
    expect(severity).toEqual({
      'contact-exists': 'Pass Informational',
      'email-configured': 'Pass Informational',
      'alert-notifications': 'Pass Informational',
      'owner-notifications': 'Fail Low',
      'attack-path-notifications': 'Fail Low',
    });
    for (const event of relaxed) expect(ocsfEventErrors(event)).toEqual([]);
  });

  it('writes the same events from the built command line to --output, with stable finding uids', async () => {
    const output = join(dir, 'findings.ocsf.jsonl');
    const run = await runContactWatch(['scan', '--format', 'ocsf', '--output', output], azure.env());
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    const written = parseLines(await readFile(output, 'utf8'));
    for (const event of written) expect(ocsfEventErrors(event)).toEqual([]);
    expect(written.map((event) => event.finding_info.uid)).toEqual(events.map((event) => event.finding_info.uid));
    expect(written[0].metadata.correlation_uid).not.toBe(events[0].metadata.correlation_uid);
    expect(written[0].metadata.product.version).toBe(packageJson.version);
  });
});
