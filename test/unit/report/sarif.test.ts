import { describe, expect, it } from 'vitest';
import { renderReport } from '../../../src/report/index.js';
import { FINGERPRINT_KEY } from '../../../src/report/sarif.js';
import { buildReport, COMPLIANT, CONTEXT, EXEMPT, NONCOMPLIANT_HOSTILE, REPORT, SKIPPED, UNREADABLE, VERDICTS } from './report-fixture.js';

const sarifText = renderReport(REPORT, 'sarif', CONTEXT);
const sarif = JSON.parse(sarifText);
const run = sarif.runs[0];

/** A SARIF multiformatMessageString: an object with a non-empty `text`. */
function expectMessage(value: unknown): void {
  expect(value).toEqual(expect.objectContaining({ text: expect.any(String) }));
  expect((value as { text: string }).text.trim()).not.toBe('');
}

describe('scan --format sarif', () => {
  it('is a SARIF 2.1.0 log with the required top-level fields', () => {
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.$schema).toMatch(/^https:\/\/.+sarif.*2\.1\.0.*\.json$/);
    expect(Array.isArray(sarif.runs)).toBe(true);
    expect(sarif.runs).toHaveLength(1);
    expect(run.tool.driver.name).toBe('contact-watch');
    expect(new URL(run.tool.driver.informationUri).protocol).toBe('https:');
    expect(run.invocations).toEqual([
      { executionSuccessful: true, startTimeUtc: REPORT.scan.startedAt, endTimeUtc: REPORT.scan.finishedAt },
    ]);
    expect(run.automationDetails.id).toBe(`contact-watch/${REPORT.scan.id}`);
    expect(sarifText.endsWith('}\n')).toBe(true);
  });

  it('describes every rule: id, name, descriptions, help in text and Markdown, tags with CIS references', () => {
    const rules = run.tool.driver.rules;
    expect(rules.map((r: { id: string }) => r.id)).toEqual(CONTEXT.rules.map((r) => r.id));
    for (const [index, rule] of rules.entries()) {
      const source = CONTEXT.rules[index]!;
      expect(rule.name).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(rule.shortDescription.text).toBe(source.title);
      expect(rule.fullDescription.text).toBe(source.rationale);
      expectMessage(rule.help);
      expect(rule.help.text).toContain(source.remediation.summary);
      expect(rule.help.text).toContain(source.remediation.azCli.trimEnd());
      expect(rule.help.markdown).toContain('```bicep\n');
      expect(rule.defaultConfiguration).toEqual({ level: 'error' });
      expect(rule.properties.tags).toEqual(expect.arrayContaining(['security']));
      for (const cis of source.references.cis) expect(rule.properties.tags).toContain(`CIS ${cis.version} ${cis.recommendation}`);
      for (const mcsb of source.references.mcsb) expect(rule.properties.tags).toContain(`MCSB ${mcsb}`);
      expect(rule.help.text).toContain(source.remediation.terraform.trimEnd());
      expect(rule.help.markdown).toContain('```hcl\n');
    }
    expect(rules[0].name).toBe('ContactExists');
  });

  it("carries every rule's controls of other frameworks whole in its properties, as tags and in its help", () => {
    const rules = run.tool.driver.rules;
    for (const [index, rule] of rules.entries()) {
      const source = CONTEXT.rules[index]!;
      expect(rule.properties.frameworks).toEqual(source.references.frameworks);
      for (const reference of source.references.frameworks) {
        expect(rule.properties.tags).toContain(`${reference.framework} ${reference.control}`);
        const line = `- ${reference.framework} ${reference.control} ${reference.title} — ${reference.reason}`;
        expect(rule.help.markdown).toContain(line);
        expect(rule.help.text).toContain(line);
      }
    }
    expect(rules[0].properties.frameworks.length).toBeGreaterThan(0);
  });

  it('has one result per failed or error finding of each noncompliant or error subscription', () => {
    const expected = VERDICTS.filter((v) => v.status === 'noncompliant' || v.status === 'error').flatMap((v) =>
      v.findings.filter((f) => f.result !== 'pass').map((f) => `${v.subscriptionId}/${f.ruleId}/${f.result}`),
    );
    const actual = run.results.map(
      (r: { properties: { subscriptionId: string; result: string }; ruleId: string }) =>
        `${r.properties.subscriptionId}/${r.ruleId}/${r.properties.result}`,
    );
    expect(actual.sort()).toEqual(expected.sort());
    expect(run.results).toHaveLength(3 + 5 + 5);
    for (const verdict of [COMPLIANT, EXEMPT, SKIPPED]) expect(sarifText).not.toContain(`/subscriptions/${verdict.subscriptionId}`);
  });

  it('gives each result a rule reference, level, message, logical location and fingerprint', () => {
    const ruleIds = run.tool.driver.rules.map((r: { id: string }) => r.id);
    for (const result of run.results) {
      expect(ruleIds[result.ruleIndex]).toBe(result.ruleId);
      expect(result.level).toBe(result.properties.result === 'fail' ? 'error' : 'warning');
      expectMessage(result.message);
      expect(result.message.text).not.toMatch(/[\r\n]/);
      expect(result.locations).toHaveLength(1);
      const [logical] = result.locations[0].logicalLocations;
      expect(logical.fullyQualifiedName).toBe(`/subscriptions/${result.properties.subscriptionId}`);
      expect(logical.kind).toBe('resource');
      expect(result.partialFingerprints[FINGERPRINT_KEY]).toBe(`${result.properties.subscriptionId}/${result.ruleId}`);
    }
    const fingerprints = run.results.map((r: { partialFingerprints: Record<string, string> }) => r.partialFingerprints[FINGERPRINT_KEY]);
    expect(new Set(fingerprints).size).toBe(fingerprints.length);
    const hostile = run.results.find(
      (r: { properties: { subscriptionId: string } }) => r.properties.subscriptionId === NONCOMPLIANT_HOSTILE.subscriptionId,
    );
    expect(hostile.message.text).toContain('prod line2');
    expect(hostile.properties.displayName).toBe(NONCOMPLIANT_HOSTILE.displayName);
    const unreadable = run.results.filter(
      (r: { properties: { subscriptionId: string } }) => r.properties.subscriptionId === UNREADABLE.subscriptionId,
    );
    expect(unreadable.map((r: { level: string }) => r.level)).toEqual(['warning', 'warning', 'warning', 'warning', 'warning']);
  });

  it('keeps fingerprints stable from one scan to the next', () => {
    const later = buildReport([...VERDICTS].reverse());
    const again = JSON.parse(renderReport({ ...later, scan: { ...later.scan, id: 'another-scan' } }, 'sarif', CONTEXT));
    const key = (r: { ruleId: string; partialFingerprints: Record<string, string> }) => r.partialFingerprints[FINGERPRINT_KEY];
    expect(again.runs[0].results.map(key)).toEqual(run.results.map(key));
  });

  it('has an empty result list, not a missing one, when nothing fails; a failed scan is not successful', () => {
    const clean = JSON.parse(renderReport(buildReport([COMPLIANT, SKIPPED]), 'sarif', CONTEXT));
    expect(clean.runs[0].results).toEqual([]);
    const failedReport = buildReport([]);
    const failed = JSON.parse(renderReport({ ...failedReport, scan: { ...failedReport.scan, status: 'failed' } }, 'sarif', CONTEXT));
    expect(failed.runs[0].invocations[0].executionSuccessful).toBe(false);
  });
});
