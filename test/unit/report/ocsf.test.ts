/**
 * `scan --format ocsf` over the report fixture (every status and shape): each line is one OCSF
 * Compliance Finding that validates against schema/ocsf-compliance-finding-1.6.0.json (and, with
 * OCSF_SCHEMA_DIR set, against OCSF's own definitions: test/support/ocsf-schema.ts), with the
 * mapping of docs/reference/report.md ("OCSF"). The schema is shown to refuse planted bad events,
 * so that its passes mean something.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Finding, ScanReport, SubscriptionVerdict } from '../../../src/core/model.js';
import { DEFAULT_POLICY } from '../../../src/core/policy.js';
import type { Rule } from '../../../src/core/rules/rule.js';
import { renderReport, renderReportChunks, type RenderContext } from '../../../src/report/index.js';
import { OCSF_VERSION, ocsfContext, ocsfEvent, ocsfEventLines, ocsfJsonLine } from '../../../src/report/ocsf.js';
import { OCSF_TEST_PROFILES, OCSF_TEST_SCHEMA_VERSION, ocsfEventErrors, ocsfSchemaErrors } from '../../support/ocsf-schema.js';
import { OCSF_VIOLATIONS, OUR_RESTRICTIONS } from './ocsf-bad-events.js';
import {
  buildReport,
  COMPLIANT,
  CONTEXT,
  EXEMPT,
  HOSTILE_NAME,
  NO_CONTACT,
  NONCOMPLIANT_HOSTILE,
  REPORT,
  SKIPPED,
  UNREADABLE,
  VERDICTS,
} from './report-fixture.js';

/** The events `--format ocsf` writes for `report`, each checked against the schema. */
function eventsOf(report: ScanReport, context: RenderContext = CONTEXT): any[] {
  const text = renderReport(report, 'ocsf', context);
  expect(text === '' || text.endsWith('\n'), 'every line ends with a newline').toBe(true);
  const events = text
    .split('\n')
    .slice(0, -1)
    .map((line) => JSON.parse(line));
  for (const event of events) expect(ocsfEventErrors(event), JSON.stringify(event)).toEqual([]);
  return events;
}

const EVENTS = eventsOf(REPORT);
const eventFor = (verdict: SubscriptionVerdict, ruleId: string, events = EVENTS) =>
  events.find((event) => event.cloud.account.uid === verdict.subscriptionId && event.compliance.control === ruleId);

/** What docs/reference/report.md says each outcome becomes: [compliance status, finding status, activity, severity]. */
type Expected = [compliance: string, finding: string, activity: string, severity: string];
const PASS: Expected = ['Pass', 'Resolved', 'Close', 'Informational'];
const FAIL_REQUIRED: Expected = ['Fail', 'New', 'Create', 'High'];
const FAIL_OPTIONAL: Expected = ['Fail', 'New', 'Create', 'Low'];
const ERROR_REQUIRED: Expected = ['Warning', 'New', 'Create', 'Medium'];
const ERROR_OPTIONAL: Expected = ['Warning', 'New', 'Create', 'Low'];
const NOT_JUDGED: Expected = ['Unknown', 'Archived', 'Close', 'Informational'];
const outcomeOf = (event: any): Expected => [event.compliance.status, event.status, event.activity_name, event.severity];

describe('scan --format ocsf', () => {
  it('writes one valid OCSF Compliance Finding per line', () => {
    expect(EVENTS.length).toBeGreaterThan(0);
    for (const event of EVENTS) expect(ocsfEventErrors(event), JSON.stringify(event)).toEqual([]);
  });

  it('has one event per subscription and rule, passes included; subscriptions by id, rules in order', () => {
    const ids = [...VERDICTS].map((v) => v.subscriptionId).sort();
    const expected = ids.flatMap((id) => CONTEXT.rules.map((rule) => `${id}/${rule.id}`));
    expect(EVENTS.map((event) => event.finding_info.uid)).toEqual(expected);
    expect(EVENTS).toHaveLength(VERDICTS.length * CONTEXT.rules.length);
  });

  it('streams the same lines in chunks, each ending at a line end', () => {
    const many = buildReport(
      Array.from({ length: 250 }, (_, i) => ({ ...COMPLIANT, subscriptionId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` })),
    );
    const chunks = [...renderReportChunks(many, 'ocsf', CONTEXT)];
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(chunk.endsWith('\n')).toBe(true);
    expect(chunks.join('')).toBe(renderReport(many, 'ocsf', CONTEXT));
    expect(chunks.join('').split('\n')).toHaveLength(250 * CONTEXT.rules.length + 1);
    expect([...ocsfEventLines(many, ocsfContext(CONTEXT))]).toHaveLength(250 * CONTEXT.rules.length);
  });

  it('writes each line as the text of its whole event, also for subscriptions that share findings under another status', () => {
    // Alike subscriptions share their findings objects; an exemption keeps them under another status.
    const shared = NONCOMPLIANT_HOSTILE;
    const alike = { ...shared, subscriptionId: 'ffffffff-0000-4000-8000-000000000001', displayName: 'Alike\u2028\u202e' };
    const exempt = { ...shared, subscriptionId: 'ffffffff-0000-4000-8000-000000000002', status: 'exempt' as const };
    const report = buildReport([...VERDICTS, alike, exempt]);
    const context = ocsfContext(CONTEXT);
    const expected = [...report.subscriptions]
      .sort((a, b) => (a.subscriptionId < b.subscriptionId ? -1 : 1))
      .flatMap((verdict) =>
        context.rules
          .map((rule) => [rule, verdict.findings.find((f) => f.ruleId === rule.id)] as const)
          .filter(([, finding]) => finding !== undefined || verdict.status === 'skipped')
          .map(([rule, finding]) => `${ocsfJsonLine(ocsfEvent(report, verdict, rule, finding, context))}\n`),
      );
    expect([...ocsfEventLines(report, context)]).toEqual(expected);
    const events = eventsOf(report);
    expect([eventFor(exempt, 'email-configured', events).status, eventFor(shared, 'email-configured', events).status]).toEqual([
      'Suppressed',
      'New',
    ]);
    for (const line of expected) expect(line).not.toMatch(/[\u2028\u202e]/);
  });

  it('writes nothing for a scan of no subscription', () => {
    expect(renderReport(buildReport([]), 'ocsf', CONTEXT)).toBe('');
    expect([...renderReportChunks(buildReport([]), 'ocsf', CONTEXT)]).toEqual([]);
  });

  it('names the class, its category and a type_uid of class_uid * 100 + activity_id', () => {
    for (const event of EVENTS) {
      expect(event).toMatchObject({ class_uid: 2003, class_name: 'Compliance Finding', category_uid: 2, category_name: 'Findings' });
      expect(event.type_uid).toBe(event.class_uid * 100 + event.activity_id);
      expect(event.type_name).toBe(`Compliance Finding: ${event.activity_name}`);
      expect(event.time).toBe(Date.parse(REPORT.scan.finishedAt));
    }
  });

  it('carries the product, the OCSF version the tests validate against and the profiles applied', () => {
    expect(OCSF_VERSION).toBe(OCSF_TEST_SCHEMA_VERSION);
    for (const event of EVENTS) {
      expect(event.metadata).toMatchObject({
        version: OCSF_VERSION,
        product: { name: 'contact-watch', vendor_name: 'contact-watch', version: CONTEXT.productVersion },
        profiles: [...OCSF_TEST_PROFILES],
        correlation_uid: REPORT.scan.id,
        event_code: event.compliance.control,
      });
    }
    expect(new Set(EVENTS.map((event) => event.metadata.uid)).size).toBe(EVENTS.length);
  });

  it('keeps finding_info.uid from one scan to the next; the event uid is per scan', () => {
    const later = buildReport([...VERDICTS].reverse());
    const again = eventsOf({
      ...later,
      scan: { ...later.scan, id: '0d7e9c41-5b2a-4f6e-9a83-c4d2e1f0b7a9', finishedAt: '2025-03-02T10:00:00.000Z' },
    });
    expect(again.map((event) => event.finding_info.uid)).toEqual(EVENTS.map((event) => event.finding_info.uid));
    expect(again.map((event) => event.metadata.uid)).not.toEqual(EVENTS.map((event) => event.metadata.uid));
  });

  it.each([
    ['a compliant subscription', COMPLIANT, () => PASS],
    ['a noncompliant subscription', NONCOMPLIANT_HOSTILE, (f: Finding) => (f.result === 'pass' ? PASS : FAIL_REQUIRED)],
    ['a subscription without a contact', NO_CONTACT, () => FAIL_REQUIRED],
    ['an unreadable subscription', UNREADABLE, () => ERROR_REQUIRED],
  ] as const)('maps the findings of %s', (_name, verdict, expected) => {
    for (const finding of verdict.findings) {
      const event = eventFor(verdict, finding.ruleId);
      expect(outcomeOf(event), finding.ruleId).toEqual(expected(finding));
      expect(event.compliance.status_code).toBe(finding.result);
      expect(event.compliance.status_details).toEqual([finding.message]);
      expect(event).not.toHaveProperty('status_detail');
    }
  });

  it('never shows an unreadable contact as a pass or a resolved finding', () => {
    const errors = EVENTS.filter((event) => event.compliance.status_code === 'error');
    expect(errors).toHaveLength(UNREADABLE.findings.length);
    for (const event of errors) {
      expect(event.compliance.status_id).not.toBe(1);
      expect(event.status_id).toBe(1);
      expect(event.severity_id).toBeGreaterThan(1);
    }
  });

  it('suppresses the findings of an exempt subscription, keeping what was found and its severity', () => {
    for (const finding of EXEMPT.findings) {
      const event = eventFor(EXEMPT, finding.ruleId);
      const judged = finding.result === 'pass' ? PASS : FAIL_REQUIRED;
      expect(outcomeOf(event)).toEqual([judged[0], 'Suppressed', 'Update', judged[3]]);
      expect(event.status_detail).toMatch(/exempt/);
      expect(event.message).toContain('(exempt)');
    }
    const unreadableExempt = eventsOf(buildReport([{ ...UNREADABLE, status: 'exempt' }]));
    for (const event of unreadableExempt) expect(outcomeOf(event)).toEqual(['Warning', 'Suppressed', 'Update', 'Medium']);
  });

  it('archives every rule of a skipped subscription, unknown and not judged', () => {
    const events = EVENTS.filter((event) => event.cloud.account.uid === SKIPPED.subscriptionId);
    expect(events.map((event) => event.compliance.control)).toEqual(CONTEXT.rules.map((rule) => rule.id));
    for (const event of events) {
      expect(outcomeOf(event)).toEqual(NOT_JUDGED);
      expect(event.status_detail).toBe('The subscription is Disabled: it is listed, not judged.');
      expect(event.compliance).not.toHaveProperty('status_code');
    }
  });

  it('makes a failure of a rule the policy does not require Low, and an error on it Low', () => {
    const policy = { ...DEFAULT_POLICY, owners: { required: false } };
    const failing: SubscriptionVerdict = {
      ...COMPLIANT,
      findings: COMPLIANT.findings.map((f) =>
        f.ruleId === 'owner-notifications' ? { ...f, result: 'fail', message: 'Owners are not notified.' } : f,
      ),
    };
    const events = eventsOf(buildReport([failing, UNREADABLE]), { ...CONTEXT, policy });
    expect(outcomeOf(eventFor(failing, 'owner-notifications', events))).toEqual(FAIL_OPTIONAL);
    expect(outcomeOf(eventFor(UNREADABLE, 'owner-notifications', events))).toEqual(ERROR_OPTIONAL);
    expect(outcomeOf(eventFor(UNREADABLE, 'email-configured', events))).toEqual(ERROR_REQUIRED);
    for (const event of events) expect(ocsfEventErrors(event)).toEqual([]);
  });

  it('maps every CIS reference, MCSB control and framework control of the rule into compliance', () => {
    for (const event of EVENTS) {
      const rule = CONTEXT.rules.find((r) => r.id === event.compliance.control)!;
      expectComplianceOf(rule, event.compliance);
    }
  });

  it('maps the other frameworks a rule names, with each control id', () => {
    const base = CONTEXT.rules[1]!;
    const rule: Rule = {
      ...base,
      references: {
        ...base.references,
        frameworks: [
          { framework: 'NIST SP 800-53 Rev. 5', control: 'IR-6', title: 'Incident Reporting', reason: 'r', source: 's' },
          { framework: 'ISO/IEC 27001:2022', control: 'A.5.24', title: 'Planning', reason: 'r', source: 's' },
          { framework: 'PCI DSS 4.0', control: '12.10.1', title: 'A plan exists', reason: 'r', source: 's' },
          { framework: 'SOC 2', control: 'CC7.3', title: 'The entity evaluates security events', reason: 'r', source: 's' },
          { framework: 'NIST SP 800-53 Rev. 5', control: 'IR-8', title: 'Incident Response Plan', reason: 'r', source: 's' },
        ],
      },
    };
    const events = eventsOf(REPORT, { ...CONTEXT, rules: [rule] });
    expect(events).toHaveLength(VERDICTS.length);
    for (const event of events) {
      expectComplianceOf(rule, event.compliance);
      expect(ocsfEventErrors(event)).toEqual([]);
    }
    expect(events[0].compliance.requirements).toEqual(expect.arrayContaining(['NIST SP 800-53 Rev. 5 IR-6', 'SOC 2 CC7.3']));
    expect(events[0].compliance.standards.filter((standard: string) => standard === 'NIST SP 800-53 Rev. 5')).toHaveLength(1);
    expect(events[0].compliance.checks.slice(-5)).toEqual([
      { uid: 'IR-6', name: 'Incident Reporting', standards: ['NIST SP 800-53 Rev. 5'] },
      { uid: 'A.5.24', name: 'Planning', standards: ['ISO/IEC 27001:2022'] },
      { uid: '12.10.1', name: 'A plan exists', standards: ['PCI DSS 4.0'] },
      { uid: 'CC7.3', name: 'The entity evaluates security events', standards: ['SOC 2'] },
      { uid: 'IR-8', name: 'Incident Response Plan', standards: ['NIST SP 800-53 Rev. 5'] },
    ]);
  });

  it('writes no checks for a rule mapped to no CIS recommendation and no other framework', () => {
    const base = CONTEXT.rules[0]!;
    const rule: Rule = { ...base, references: { ...base.references, cis: [], frameworks: [] } };
    for (const event of eventsOf(REPORT, { ...CONTEXT, rules: [rule] })) {
      expect(event.compliance).not.toHaveProperty('checks');
      expect(event.compliance.requirements).toEqual(base.references.mcsb.map((control) => `Microsoft cloud security benchmark ${control}`));
    }
  });

  it('names the subscription as the cloud account and the resources, its contact as read', () => {
    const event = eventFor(NONCOMPLIANT_HOSTILE, 'email-configured');
    const id = NONCOMPLIANT_HOSTILE.subscriptionId;
    expect(event.cloud).toEqual({ provider: 'Azure', account: { uid: id, name: HOSTILE_NAME, type_id: 13, type: 'Azure Subscription' } });
    expect(event.resources).toEqual([
      { uid: `/subscriptions/${id}`, type: 'Microsoft.Resources/subscriptions', name: HOSTILE_NAME },
      {
        uid: `/subscriptions/${id}/providers/Microsoft.Security/securityContacts`,
        type: 'Microsoft.Security/securityContacts',
        data: { contact: { ...NONCOMPLIANT_HOSTILE.contact } },
      },
    ]);
    expect(eventFor(NO_CONTACT, 'contact-exists').resources[1]).not.toHaveProperty('data');
    const nameless = eventsOf(buildReport([{ ...COMPLIANT, displayName: '' }]))[0];
    expect(nameless.cloud.account).not.toHaveProperty('name');
    expect(ocsfEventErrors(nameless)).toEqual([]);
  });

  it("gives the rule's title, rationale and remediation, and a one-line message naming subscription and rule", () => {
    for (const event of EVENTS) {
      const rule = CONTEXT.rules.find((r) => r.id === event.compliance.control)!;
      expect(event.finding_info).toMatchObject({
        title: rule.title,
        desc: rule.rationale,
        analytic: { uid: rule.id, type_id: 1, type: 'Rule' },
      });
      expect(event.remediation.desc).toBe(rule.remediation.summary);
      expect(event.message).toContain(event.cloud.account.uid);
      expect(event.message).toContain(rule.id);
      expect(event.message).not.toMatch(/[\r\n\u2028\u2029]/);
    }
    expect(eventFor(NONCOMPLIANT_HOSTILE, 'owner-notifications').message).toBe(
      `Subscription "=cmd|' /C calc'!A0 <script>alert(1)</script>, "Payments" | prod line2" (${NONCOMPLIANT_HOSTILE.subscriptionId}): ` +
        'owner-notifications failed: Contact "default1": alertsToAdmins is "Off".',
    );
  });

  it('keeps values exactly, with characters that reorder text or end a line written as \\u escapes', () => {
    const tricky = { ...COMPLIANT, displayName: 'Payroll \u202Egpj.exe\u2028next\u2029line\u0085end' };
    const text = renderReport(buildReport([tricky]), 'ocsf', CONTEXT);
    expect(text).not.toMatch(/[\u202E\u2028\u2029\u0085]/);
    expect(text).toContain('Payroll \\u202egpj.exe\\u2028next');
    const lines = text.split(/\r\n|[\n\r\u0085\u2028\u2029]/).slice(0, -1);
    expect(lines).toHaveLength(CONTEXT.rules.length);
    expect(JSON.parse(lines[0]!).cloud.account.name).toBe(tricky.displayName);
  });

  it('refuses a render context without the policy or the version', () => {
    expect(() => renderReport(REPORT, 'ocsf', { rules: CONTEXT.rules, portalUrl: CONTEXT.portalUrl })).toThrow(/policy/);
  });
});

function expectComplianceOf(rule: Rule, compliance: any): void {
  const { cis, mcsb, frameworks } = rule.references;
  expect(compliance.control).toBe(rule.id);
  for (const reference of cis) {
    const standard = `${reference.benchmark} v${reference.version}`;
    expect(compliance.standards).toContain(standard);
    expect(compliance.requirements).toContain(`${standard} ${reference.recommendation}`);
    expect(compliance.checks).toContainEqual({
      uid: reference.recommendation,
      name: reference.title,
      version: reference.version,
      standards: [standard],
    });
  }
  expect(compliance.checks ?? []).toHaveLength(cis.length + frameworks.length);
  for (const control of mcsb) expect(compliance.requirements).toContain(`Microsoft cloud security benchmark ${control}`);
  for (const reference of frameworks) {
    expect(compliance.standards).toContain(reference.framework);
    expect(compliance.requirements).toContain(`${reference.framework} ${reference.control}`);
    expect(compliance.checks).toContainEqual({ uid: reference.control, name: reference.title, standards: [reference.framework] });
  }
  expect(compliance.requirements).toHaveLength(cis.length + mcsb.length + frameworks.length);
  expect(new Set(compliance.standards).size).toBe(compliance.standards.length);
}

describe('the example of docs/reference/report.md', () => {
  const page = readFileSync(new URL('../../../docs/reference/report.md', import.meta.url), 'utf8');
  const firstJsonAfter = (heading: string) => {
    const rest = page.slice(page.indexOf(heading));
    return JSON.parse(rest.slice(rest.indexOf('```json\n') + 8, rest.indexOf('\n```', rest.indexOf('```json\n'))));
  };
  const example = firstJsonAfter('## OCSF Compliance Findings');

  it('is a valid event', () => {
    expect(ocsfEventErrors(example)).toEqual([]);
  });

  it("is what the format writes for the JSON report example's noncompliant subscription", () => {
    const report = firstJsonAfter('## An example') as ScanReport;
    const written = eventsOf(report, { ...CONTEXT, productVersion: example.metadata.product.version });
    const event = written.find((e) => e.finding_info.uid === example.finding_info.uid);
    // Whole, references included: a change to a rule's metadata shows here, and the page is updated with it.
    expect(example).toEqual(event);
  });
});

describe('schema/ocsf-compliance-finding-1.6.0.json', () => {
  const valid = () => structuredClone(eventFor(NONCOMPLIANT_HOSTILE, 'email-configured'));

  it('accepts the unchanged event', () => {
    expect(ocsfSchemaErrors(valid())).toEqual([]);
  });

  it.each([...OCSF_VIOLATIONS, ...OUR_RESTRICTIONS])('rejects %s', (_name, plant, message) => {
    const event = valid();
    plant(event);
    const errors = ocsfSchemaErrors(event);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(message);
  });
});
