import { ATTACK_PATH_RISK_LEVELS, type NormalisedContactEntry } from '../model.js';
import type { Rule } from './rule.js';
import {
  MCSB_INCIDENT_RESPONSE,
  cis,
  contactName,
  fail,
  failWithoutContact,
  pass,
  problemsMessage,
  unknownValueProblem,
} from './outcomes.js';
import { REMEDIATION_API_VERSION, securityContactRemediation } from './remediation.js';
import { effectiveAttackPathRiskLevel, levelRank, mostInclusiveLevel } from '../normalise.js';

/** Why an entry does not e-mail attack paths. */
function whyOff(entry: NormalisedContactEntry): string {
  const name = contactName(entry);
  if (entry.shape !== '2023-12-01-preview') {
    return (
      `${name} uses an older API shape (${entry.shape}) that cannot express attack path notifications; ` +
      `write it again with ${REMEDIATION_API_VERSION}`
    );
  }
  if (!entry.enabled) return `${name} is disabled (isEnabled is false)`;
  if (!entry.attackPaths.present) return `${name} has no AttackPath notification source`;
  return `${name} has an AttackPath notification source without minimalRiskLevel`;
}

/**
 * isEnabled is not false and an AttackPath source exists whose minimalRiskLevel is at or below the
 * policy's threshold. Only the 2023 shape can express this; older shapes fail.
 */
export const attackPathNotificationsRule: Rule = {
  id: 'attack-path-notifications',
  title: 'Attack paths are e-mailed from the required risk level',
  rationale:
    'Attack path analysis finds chains of weaknesses an attacker can exploit from the internet to reach critical ' +
    'resources. E-mailing them lets the security team close a path before it is used, not after an alert fires.',
  references: {
    cis: [
      cis('4.0.0', '9.1.15', "Ensure that 'Notify about attack paths with the following risk level (or higher)' is enabled"),
      cis('5.0.0', '8.1.15', "Ensure that 'Notify about attack paths with the following risk level (or higher)' is Enabled"),
      cis('6.0.0', '8.1.15', "Ensure that 'Notify about attack paths with the following risk level (or higher)' is Enabled"),
    ],
    mcsb: MCSB_INCIDENT_RESPONSE,
    azurePolicy: [],
    // Attack paths are exposures found before an attack, not incidents: no public mapping we know of
    // (Microsoft's initiatives have no policy for this setting; Prowler maps its check to none of
    // these frameworks) ties them to NIST, ISO/IEC 27001, PCI DSS or SOC 2 incident controls.
    frameworks: [],
  },
  remediation: securityContactRemediation('attackPaths'),
  isRequired: (policy) => policy.attackPaths.required,
  evaluate(contact, policy) {
    const missing = failWithoutContact(contact);
    if (missing) return missing;
    const threshold = policy.attackPaths.minimalRiskLevel;
    const levels = contact.entries.flatMap((entry) => effectiveAttackPathRiskLevel(entry) ?? []);
    const best = mostInclusiveLevel(levels, ATTACK_PATH_RISK_LEVELS);
    // A contact that e-mails from the threshold settles it, whatever another contact holds (§1);
    // only otherwise can a risk level this rule cannot read change the outcome.
    const settled = best !== null && levelRank(best, ATTACK_PATH_RISK_LEVELS) <= levelRank(threshold, ATTACK_PATH_RISK_LEVELS);
    const unknown = settled
      ? []
      : contact.entries.flatMap((entry) => {
          const problem = unknownValueProblem('attack path minimalRiskLevel', entry.attackPaths.minimalRiskLevel, ATTACK_PATH_RISK_LEVELS);
          return problem === null ? [] : [{ entry, problem }];
        });
    if (unknown.length > 0) return fail(problemsMessage(unknown));
    if (best === null) return fail(`Attack path e-mails are off: ${contact.entries.map(whyOff).join('; ')}.`);
    if (levelRank(best, ATTACK_PATH_RISK_LEVELS) > levelRank(threshold, ATTACK_PATH_RISK_LEVELS)) {
      return fail(`Attack paths are e-mailed only from risk level ${best}; the policy requires ${threshold} and above.`);
    }
    return pass(`Attack paths of risk level ${best} and above are e-mailed.`);
  },
};
