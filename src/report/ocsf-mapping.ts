/**
 * What a rule's outcome on one subscription becomes in an OCSF Compliance Finding
 * (docs/reference/report.md, "OCSF"), and the finding's `compliance` object from the rule's metadata.
 *
 * | outcome | compliance.status | status (the finding) | activity | severity |
 * | --- | --- | --- | --- | --- |
 * | `pass` | Pass | Resolved | Close | Informational |
 * | `fail`, rule required by the policy | Fail | New | Create | High |
 * | `fail`, rule not required | Fail | New | Create | Low |
 * | `error` (the contact could not be read), rule required | Warning | New | Create | Medium |
 * | `error`, rule not required | Warning | New | Create | Low |
 * | any of these on an `exempt` subscription | as above | Suppressed | Update | as above |
 * | `skipped` subscription (not judged) | Unknown | Archived | Close | Informational |
 *
 * An `error` is never a Pass: OCSF's Warning is "the check did not yield a result due to missing
 * information", and the finding stays open. A failure is High when the policy requires the rule (it
 * makes the subscription non-compliant) and Low when it does not (reported, not counted). An
 * exemption suppresses findings, it does not change what was found, so compliance status and
 * severity stay. The scan keeps no memory of earlier scans: an open finding is a Create each time,
 * and a SIEM that keys findings by `finding_info.uid` updates the one it has.
 */
import type { Finding, SubscriptionVerdict } from '../core/model.js';
import type { Rule } from '../core/rules/rule.js';

/** An OCSF enum value with its caption, as the event writes both (`status_id` and `status`). */
export interface OcsfEnumValue {
  id: number;
  name: string;
}

const ACTIVITY = {
  create: { id: 1, name: 'Create' },
  update: { id: 2, name: 'Update' },
  close: { id: 3, name: 'Close' },
} as const satisfies Record<string, OcsfEnumValue>;

/** The finding's own status (`status_id`): where it stands in a SOC's workflow. */
const FINDING_STATUS = {
  new: { id: 1, name: 'New' },
  suppressed: { id: 3, name: 'Suppressed' },
  resolved: { id: 4, name: 'Resolved' },
  archived: { id: 5, name: 'Archived' },
} as const satisfies Record<string, OcsfEnumValue>;

/** The result of the check (`compliance.status_id`). */
const COMPLIANCE_STATUS = {
  unknown: { id: 0, name: 'Unknown' },
  pass: { id: 1, name: 'Pass' },
  warning: { id: 2, name: 'Warning' },
  fail: { id: 3, name: 'Fail' },
} as const satisfies Record<string, OcsfEnumValue>;

const SEVERITY = {
  informational: { id: 1, name: 'Informational' },
  low: { id: 2, name: 'Low' },
  medium: { id: 3, name: 'Medium' },
  high: { id: 4, name: 'High' },
} as const satisfies Record<string, OcsfEnumValue>;

export interface OcsfOutcome {
  activity: OcsfEnumValue;
  findingStatus: OcsfEnumValue;
  complianceStatus: OcsfEnumValue;
  severity: OcsfEnumValue;
  /** What the rule did, for the message: "passed", "failed", "could not be checked". */
  verb: string;
}

/**
 * The outcome of one rule on one subscription. `finding` is undefined where the subscription was
 * not judged (skipped); `required`: whether the scan's policy requires the rule.
 */
export function ocsfOutcome(
  verdict: Pick<SubscriptionVerdict, 'status'>,
  finding: Pick<Finding, 'result'> | undefined,
  required: boolean,
): OcsfOutcome {
  if (finding === undefined) {
    return {
      activity: ACTIVITY.close,
      findingStatus: FINDING_STATUS.archived,
      complianceStatus: COMPLIANCE_STATUS.unknown,
      severity: SEVERITY.informational,
      verb: 'was not checked',
    };
  }
  const judged = judgedOutcome(finding.result, required);
  return verdict.status === 'exempt' ? { ...judged, activity: ACTIVITY.update, findingStatus: FINDING_STATUS.suppressed } : judged;
}

function judgedOutcome(result: Finding['result'], required: boolean): OcsfOutcome {
  switch (result) {
    case 'pass':
      return {
        activity: ACTIVITY.close,
        findingStatus: FINDING_STATUS.resolved,
        complianceStatus: COMPLIANCE_STATUS.pass,
        severity: SEVERITY.informational,
        verb: 'passed',
      };
    case 'fail':
      return {
        activity: ACTIVITY.create,
        findingStatus: FINDING_STATUS.new,
        complianceStatus: COMPLIANCE_STATUS.fail,
        severity: required ? SEVERITY.high : SEVERITY.low,
        verb: 'failed',
      };
    case 'error':
      return {
        activity: ACTIVITY.create,
        findingStatus: FINDING_STATUS.new,
        complianceStatus: COMPLIANCE_STATUS.warning,
        severity: required ? SEVERITY.medium : SEVERITY.low,
        verb: 'could not be checked',
      };
  }
}

const MCSB = 'Microsoft cloud security benchmark';

/**
 * The `compliance` object: the rule (`control`), the standards its metadata maps it to (each CIS
 * benchmark version, the Microsoft cloud security benchmark, the other frameworks), one requirement
 * per reference (`<standard> <recommendation or control>`), one check per CIS recommendation and
 * per other framework's control, each named by its title (the MCSB references have none), and the
 * result of the check with the finding's message.
 */
export function ocsfCompliance(rule: Rule, finding: Finding | undefined, outcome: OcsfOutcome) {
  const { cis, mcsb, frameworks } = rule.references;
  const cisStandard = (reference: (typeof cis)[number]) => `${reference.benchmark} v${reference.version}`;
  const standards = [...cis.map(cisStandard), ...(mcsb.length > 0 ? [MCSB] : []), ...frameworks.map((reference) => reference.framework)];
  const checks = [
    ...cis.map((reference) => ({
      uid: reference.recommendation,
      name: reference.title,
      version: reference.version,
      standards: [cisStandard(reference)],
    })),
    // The framework's name carries its version (NIST SP 800-53 Rev. 5, PCI DSS 4.0), so a check of one has no `version` of its own.
    ...frameworks.map((reference) => ({ uid: reference.control, name: reference.title, standards: [reference.framework] })),
  ];
  return {
    control: rule.id,
    standards: [...new Set(standards)],
    requirements: [
      ...cis.map((reference) => `${cisStandard(reference)} ${reference.recommendation}`),
      ...mcsb.map((control) => `${MCSB} ${control}`),
      ...frameworks.map((reference) => `${reference.framework} ${reference.control}`),
    ],
    ...(checks.length === 0 ? {} : { checks }),
    status_id: outcome.complianceStatus.id,
    status: outcome.complianceStatus.name,
    ...(finding === undefined ? {} : { status_code: finding.result, status_details: [finding.message] }),
  };
}
