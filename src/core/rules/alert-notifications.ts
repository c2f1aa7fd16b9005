import { ALERT_SEVERITIES, type NormalisedContactEntry } from '../model.js';
import type { Rule } from './rule.js';
import {
  MCSB_INCIDENT_RESPONSE,
  cis,
  contactName,
  fail,
  failWithoutContact,
  isOn,
  pass,
  problemsMessage,
  unknownValueProblem,
} from './outcomes.js';
import { securityContactRemediation } from './remediation.js';
import {
  NIST_SP_800_53_R5_1_1_INITIATIVE,
  NIST_SP_800_53_R5_INITIATIVE,
  PCI_DSS_4_0_1_INITIATIVE,
  PCI_DSS_4_0_1_NUMBERING,
  SOC_2_TYPE_2_INITIATIVE,
  control,
  initiativeSource,
  prowlerSource,
} from './frameworks.js';

/** Azure Policy: Email notification for high severity alerts should be enabled. */
const POLICY = '6e2593d9-add6-4083-9c9b-4b7d2188c899';
import { ON_OFF_STATES, effectiveAlertSeverity, levelRank, mostInclusiveLevel } from '../normalise.js';

/** Values this rule reads that are outside their enum, each named. */
function unknownValues(entry: NormalisedContactEntry): string[] {
  const stateField = entry.shape === '2017-08-01-preview' ? 'alertNotifications' : 'alertNotifications.state';
  return [
    unknownValueProblem(stateField, entry.alerts.state, ON_OFF_STATES),
    unknownValueProblem('alert minimalSeverity', entry.alerts.minimalSeverity, ALERT_SEVERITIES),
  ].filter((problem) => problem !== null);
}

/** Why an entry's alert e-mails are not on (it has no effective severity). */
function whyOff(entry: NormalisedContactEntry): string {
  const name = contactName(entry);
  switch (entry.shape) {
    case '2023-12-01-preview':
      if (!entry.enabled) return `${name} is disabled (isEnabled is false)`;
      if (!isOn(entry.alerts.state)) return `${name} has no Alert notification source`;
      return `${name} has an Alert notification source without minimalSeverity`;
    case '2020-01-01-preview':
      if (entry.alerts.state.kind === 'absent') return `${name} does not set alertNotifications.state`;
      if (!isOn(entry.alerts.state)) return `${name} has alertNotifications.state Off`;
      return `${name} does not set alertNotifications.minimalSeverity`;
    case '2017-08-01-preview':
      if (entry.alerts.state.kind === 'absent') return `${name} does not set alertNotifications`;
      return `${name} has alertNotifications Off`;
  }
}

/**
 * Alert e-mails are on and start at or below the policy's minimal severity. 2023 shape: isEnabled
 * is not false and an Alert source exists; 2020: alertNotifications.state On; 2017:
 * alertNotifications "On" (High). With several contacts, the most inclusive one counts.
 */
export const alertNotificationsRule: Rule = {
  id: 'alert-notifications',
  title: 'Security alerts are e-mailed from the required severity',
  rationale:
    'Defender for Cloud only e-mails alerts at or above the minimal severity the contact names, and only while alert ' +
    'notifications are on. With them off, or set above the severity your organisation must hear about, an attack ' +
    'in progress goes unnoticed until someone opens the portal.',
  references: {
    cis: [
      cis('1.3.0', '2.14', "Ensure that 'Notify about alerts with the following severity' is set to 'High'"),
      cis('2.0.0', '2.1.20', "Ensure That 'Notify about alerts with the following severity' is Set to 'High'"),
      cis('3.0.0', '3.1.14', "Ensure That 'Notify about alerts with the following severity' is Set to 'High'"),
      cis('4.0.0', '9.1.14', "Ensure that 'Notify about alerts with the following severity (or higher)' is enabled"),
      cis('5.0.0', '8.1.14', "Ensure that 'Notify about alerts with the following severity (or higher)' is Enabled"),
      cis('6.0.0', '8.1.14', "Ensure that 'Notify about alerts with the following severity (or higher)' is Enabled"),
    ],
    mcsb: MCSB_INCIDENT_RESPONSE,
    azurePolicy: [
      {
        definitionId: POLICY,
        displayName: 'Email notification for high severity alerts should be enabled',
      },
    ],
    frameworks: [
      control(
        'NIST SP 800-53 Rev. 5',
        'IR-4',
        'Alert e-mails from the required severity bring the threats Defender for Cloud detects into incident handling without anyone opening the portal.',
        initiativeSource(NIST_SP_800_53_R5_INITIATIVE, POLICY, 'NIST_SP_800-53_R5_IR-4'),
      ),
      control(
        'NIST SP 800-53 Rev. 5',
        'IR-6',
        'Alert e-mails are how Defender for Cloud reports suspected incidents at or above the severity the policy sets.',
        initiativeSource(NIST_SP_800_53_R5_1_1_INITIATIVE, POLICY, 'NIST_SP_800-53_R5.1.1_IR.6'),
      ),
      control(
        'NIST SP 800-53 Rev. 5',
        'IR-6(2)',
        'Each alert e-mail reports a suspected incident with the resource and the weakness involved to the security team.',
        initiativeSource(NIST_SP_800_53_R5_INITIATIVE, POLICY, 'NIST_SP_800-53_R5_IR-6(2)'),
      ),
      control(
        'NIST SP 800-53 Rev. 5',
        'SI-4(12)',
        "E-mailing Defender for Cloud's alerts from the required severity is the automated alert to personnel this control asks for.",
        initiativeSource(NIST_SP_800_53_R5_INITIATIVE, POLICY, 'NIST_SP_800-53_R5_SI-4(12)'),
      ),
      control(
        'PCI DSS 4.0',
        '11.5.1',
        "Its 'personnel are alerted to suspected compromises' holds for Defender for Cloud's threat detection only while alert e-mails are on.",
        initiativeSource(PCI_DSS_4_0_1_INITIATIVE, POLICY, 'PCI_DSS_v4.0.1_11.5.1', PCI_DSS_4_0_1_NUMBERING),
      ),
      control(
        'SOC 2',
        'CC7.3',
        'Alerts from the required severity reach the people who judge whether a security event is an incident.',
        prowlerSource('soc2_azure.json', 'defender_ensure_notify_alerts_severity_is_high', 'cc_7_3'),
      ),
      control(
        'SOC 2',
        'CC7.4',
        'The alert e-mail is what sets the response to an incident Defender for Cloud identifies in motion.',
        initiativeSource(SOC_2_TYPE_2_INITIATIVE, POLICY, 'SOC_2_CC7.4'),
      ),
    ],
  },
  remediation: securityContactRemediation('alerts'),
  isRequired: (policy) => policy.alerts.required,
  evaluate(contact, policy) {
    const missing = failWithoutContact(contact);
    if (missing) return missing;
    const threshold = policy.alerts.minimalSeverity;
    const severities = contact.entries.flatMap((entry) => effectiveAlertSeverity(entry) ?? []);
    const best = mostInclusiveLevel(severities, ALERT_SEVERITIES);
    // A contact that e-mails from the threshold settles it, whatever another contact holds (§1);
    // only otherwise can a value this rule cannot read change the outcome.
    const settled = best !== null && levelRank(best, ALERT_SEVERITIES) <= levelRank(threshold, ALERT_SEVERITIES);
    const unknown = settled ? [] : contact.entries.flatMap((entry) => unknownValues(entry).map((problem) => ({ entry, problem })));
    if (unknown.length > 0) return fail(problemsMessage(unknown));
    if (best === null) return fail(`Alert e-mails are off: ${contact.entries.map(whyOff).join('; ')}.`);
    if (levelRank(best, ALERT_SEVERITIES) > levelRank(threshold, ALERT_SEVERITIES)) {
      return fail(`Alerts are e-mailed only from severity ${best}; the policy requires ${threshold} and above.`);
    }
    return pass(`Alerts of severity ${best} and above are e-mailed.`);
  },
};
