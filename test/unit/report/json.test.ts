import { describe, expect, it } from 'vitest';
import { RULE_IDS } from '../../../src/core/model.js';
import { renderReport, renderReportChunks, renderVerdict, reportJsonValue } from '../../../src/report/index.js';
import { CHUNK_CHARACTERS } from '../../../src/report/chunks.js';
import { buildReport, CONTEXT, NONCOMPLIANT_HOSTILE, REPORT, VERDICTS } from './report-fixture.js';
import { expectValidReport, expectValidVerdict } from '../../support/report-schema.js';

const json = renderReport(REPORT, 'json', CONTEXT);
const parsed = JSON.parse(json);

describe('JSON report (docs/reference/report.md)', () => {
  it('has the keys of §7 in the order shown, at every level', () => {
    expectValidReport(parsed);
    expect(Object.keys(parsed)).toEqual(['schemaVersion', 'scan', 'summary', 'subscriptions']);
    expect(Object.keys(parsed.scan)).toEqual(['id', 'startedAt', 'finishedAt', 'status']);
    expect(Object.keys(parsed.summary)).toEqual(['subscriptions', 'compliant', 'noncompliant', 'exempt', 'error', 'skipped']);
    for (const subscription of parsed.subscriptions) {
      expect(Object.keys(subscription)).toEqual(['subscriptionId', 'displayName', 'state', 'status', 'source', 'contact', 'findings']);
      expect(Object.keys(subscription.contact)).toEqual([
        'emails',
        'alertMinimalSeverity',
        'notifyRoles',
        'attackPathMinimalRiskLevel',
        'shape',
      ]);
      for (const finding of subscription.findings) expect(Object.keys(finding)).toEqual(['ruleId', 'result', 'message']);
    }
  });

  it('sorts subscriptions by subscriptionId and findings in rule order', () => {
    const ids = parsed.subscriptions.map((s: { subscriptionId: string }) => s.subscriptionId);
    expect(ids).toEqual(VERDICTS.map((v) => v.subscriptionId).sort());
    expect(ids).not.toEqual(VERDICTS.map((v) => v.subscriptionId)); // the fixture is out of order
    for (const subscription of parsed.subscriptions) {
      if (subscription.status === 'skipped') expect(subscription.findings).toEqual([]);
      else expect(subscription.findings.map((f: { ruleId: string }) => f.ruleId)).toEqual([...RULE_IDS]);
    }
  });

  it('is indented by two spaces and ends with one newline', () => {
    expect(json).toBe(`${JSON.stringify(parsed, null, 2)}\n`);
    expect(json.startsWith('{\n  "schemaVersion": 1,\n  "scan": {\n    "id": ')).toBe(true);
    expect(json.endsWith('}\n')).toBe(true);
    expect(json.endsWith('\n\n')).toBe(false);
  });

  it('writes the summary and scan as given, and nulls for unset contact levels', () => {
    expect(parsed.schemaVersion).toBe(1);
    expect(parsed.scan).toEqual(REPORT.scan);
    expect(parsed.summary).toEqual({ subscriptions: 6, compliant: 1, noncompliant: 2, exempt: 1, error: 1, skipped: 1 });
    const hostile = parsed.subscriptions.find((s: { subscriptionId: string }) => s.subscriptionId === NONCOMPLIANT_HOSTILE.subscriptionId);
    expect(hostile.contact.attackPathMinimalRiskLevel).toBeNull();
    expect(hostile.displayName).toBe(NONCOMPLIANT_HOSTILE.displayName); // user input kept exactly, JSON-escaped
    expect(json).toContain('\\r\\nline2');
  });

  it('renders one verdict exactly as §7 shows it, leaving out anything not in the contract', () => {
    const withExtras = {
      ...NONCOMPLIANT_HOSTILE,
      internalNote: 'not for the report',
      contact: { ...NONCOMPLIANT_HOSTILE.contact, raw: { etag: 'x' } },
    };
    const text = renderVerdict(withExtras, 'json', CONTEXT);
    expect(text).toBe(
      `${JSON.stringify(
        {
          subscriptionId: '0b1f6471-1bf0-4dda-aec3-111122223333',
          displayName: NONCOMPLIANT_HOSTILE.displayName,
          state: 'Enabled',
          status: 'noncompliant',
          source: 'security-contacts-api',
          contact: {
            emails: ['ops@example.com', '@SUM(1+1)'],
            alertMinimalSeverity: 'High',
            notifyRoles: [],
            attackPathMinimalRiskLevel: null,
            shape: '2017-08-01-preview',
          },
          findings: [
            { ruleId: 'contact-exists', result: 'pass', message: 'Contact "default1" exists.' },
            {
              ruleId: 'email-configured',
              result: 'fail',
              message: 'Not a valid e-mail address: "@SUM(1+1)". On a placeholder domain that reaches no security team: "ops@example.com".',
            },
            { ruleId: 'alert-notifications', result: 'pass', message: 'Alert e-mails are on from High severity.' },
            { ruleId: 'owner-notifications', result: 'fail', message: 'Contact "default1": alertsToAdmins is "Off".' },
            {
              ruleId: 'attack-path-notifications',
              result: 'fail',
              message: 'The 2017-08-01-preview contact cannot express attack path notifications.',
            },
          ],
        },
        null,
        2,
      )}\n`,
    );
  });

  it('check --format json prints the same element the scan report holds', () => {
    const element = parsed.subscriptions.find((s: { subscriptionId: string }) => s.subscriptionId === NONCOMPLIANT_HOSTILE.subscriptionId);
    expect(JSON.parse(renderVerdict(NONCOMPLIANT_HOSTILE, 'json', CONTEXT))).toEqual(element);
    for (const verdict of VERDICTS) expectValidVerdict(JSON.parse(renderVerdict(verdict, 'json', CONTEXT)));
  });

  it('does not reorder the caller’s report', () => {
    expect(REPORT.subscriptions.map((v) => v.subscriptionId)).toEqual(VERDICTS.map((v) => v.subscriptionId));
    expect(NONCOMPLIANT_HOSTILE.findings[0]!.ruleId).toBe('attack-path-notifications');
  });
});

describe('streamed JSON report', () => {
  const standard = (report: typeof REPORT) => `${JSON.stringify(reportJsonValue(report), null, 2)}\n`;

  it('is byte for byte what JSON.stringify writes', () => {
    expect([...renderReportChunks(REPORT, 'json', CONTEXT)].join('')).toBe(standard(REPORT));
  });

  it('holds for an empty tenant and for a report of many chunks, none of them large', () => {
    const empty = { ...REPORT, subscriptions: [], summary: { ...REPORT.summary, subscriptions: 0 } };
    expect([...renderReportChunks(empty, 'json', CONTEXT)].join('')).toBe(standard(empty));
    expectValidReport(JSON.parse(standard(buildReport([]))));
    const many = {
      ...REPORT,
      subscriptions: Array.from({ length: 450 }, (_, i) => ({
        ...VERDICTS[0]!,
        subscriptionId: `${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`,
      })),
    };
    const chunks = [...renderReportChunks(many, 'json', CONTEXT)];
    expect(chunks.length).toBeGreaterThan(10);
    for (const chunk of chunks) expect(chunk.length).toBeLessThan(CHUNK_CHARACTERS + 2_000);
    expect(chunks.join('')).toBe(standard(many));
  });

  it('writes verdicts that share a judgement each with its own status, source and identity', () => {
    // The scan hands alike subscriptions the same contact and findings objects; an exemption keeps them under another status.
    const [shared] = VERDICTS.filter((v) => v.status === 'noncompliant');
    const alike = { ...shared!, subscriptionId: 'ffffffff-0000-4000-8000-000000000001', displayName: 'Alike \u202e' };
    const exempt = { ...shared!, subscriptionId: 'ffffffff-0000-4000-8000-000000000002', status: 'exempt' as const };
    const fromApi = { ...shared!, subscriptionId: 'ffffffff-0000-4000-8000-000000000003', source: 'resource-graph' as const };
    const report = buildReport([shared!, alike, exempt, fromApi]);
    const streamed = [...renderReportChunks(report, 'json', CONTEXT)].join('');
    expect(JSON.parse(streamed)).toEqual(JSON.parse(standard(report)));
    expect(streamed).toContain('"displayName": "Alike \\u202e"');
    expect(JSON.parse(streamed).subscriptions.map((v: { status: string; source: string }) => `${v.status} ${v.source}`)).toEqual(
      [shared!, alike, exempt, fromApi]
        .sort((a, b) => (a.subscriptionId < b.subscriptionId ? -1 : 1))
        .map((v) => `${v.status} ${v.source}`),
    );
    // The same judgement written at another indent (check --format json) is still the standard text.
    expect(renderVerdict(exempt, 'json', CONTEXT)).toBe(
      `${JSON.stringify(reportJsonValue(buildReport([exempt])).subscriptions[0], null, 2)}\n`,
    );
  });
});
