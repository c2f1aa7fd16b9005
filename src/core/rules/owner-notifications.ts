import type { NormalisedContactEntry } from '../model.js';
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
import { NIST_SP_800_53_R5_INITIATIVE, SOC_2_TYPE_2_INITIATIVE, control, initiativeSource } from './frameworks.js';

/** Azure Policy: Email notification to subscription owner for high severity alerts should be enabled. */
const POLICY = '0b15565f-aa9e-48ba-8619-45960f2c314d';
import { NOTIFICATION_ROLES, ON_OFF_STATES, effectiveNotifyRoles } from '../normalise.js';

/**
 * A state this rule cannot interpret, named. Only the state decides the outcome: a role outside
 * the API's enum (the REST specification's own examples list "Admin") cannot make a contact that
 * also lists Owner stop e-mailing owners, so unknown roles are named in the message, never failed
 * on by themselves (docs/reference/rules.md).
 */
function unknownState(entry: NormalisedContactEntry): string | null {
  const stateField = entry.shape === '2017-08-01-preview' ? 'alertsToAdmins' : 'notificationsByRole.state';
  return unknownValueProblem(stateField, entry.roles.state, ON_OFF_STATES);
}

/** The roles as listed, outside the API's enum, as the contact spells them. */
function unknownRoles(entry: NormalisedContactEntry): string[] {
  return entry.roles.roles.flatMap((role) => (role.kind === 'unknown' ? [role.raw] : []));
}

/** `role "Admin" is not one of …` / `roles "Admin", "Reader" are not one of …`. */
function unknownRolesClause(raws: readonly string[]): string {
  const quoted = raws.map((raw) => JSON.stringify(raw)).join(', ');
  return raws.length === 1
    ? `role ${quoted} is not one of ${NOTIFICATION_ROLES.join(', ')}`
    : `roles ${quoted} are not one of ${NOTIFICATION_ROLES.join(', ')}`;
}

function emailsOwners(entry: NormalisedContactEntry): boolean {
  return effectiveNotifyRoles(entry).includes('Owner');
}

/** Why an entry does not e-mail subscription owners. */
function whyNot(entry: NormalisedContactEntry): string {
  const name = contactName(entry);
  const field = entry.shape === '2017-08-01-preview' ? 'alertsToAdmins' : 'notificationsByRole.state';
  if (entry.roles.state.kind === 'absent') return `${name} does not set ${field}`;
  if (!isOn(entry.roles.state)) return `${name} has ${field} Off`;
  const listed = entry.roles.roles.flatMap((role) =>
    role.kind === 'known' ? [role.value] : role.kind === 'unknown' ? [JSON.stringify(role.raw)] : [],
  );
  if (listed.length === 0) return `${name} lists no roles`;
  const unknown = unknownRoles(entry);
  return `${name} e-mails ${listed.join(', ')} but not Owner${unknown.length > 0 ? ` (${unknownRolesClause(unknown)})` : ''}`;
}

/**
 * Role notifications are on and include Owner (case-insensitive); 2017 shape: alertsToAdmins "On".
 * As docs/reference/rules.md words it, this does not depend on the 2023 shape's isEnabled.
 */
export const ownerNotificationsRule: Rule = {
  id: 'owner-notifications',
  title: 'Subscription owners are e-mailed about security alerts',
  rationale:
    'Owners can act on a compromised subscription at once and are the people Microsoft should reach first. ' +
    'E-mailing them as well as the security team means an alert still reaches someone when a mailbox is unattended.',
  references: {
    cis: [
      cis('1.3.0', '2.15', "Ensure that 'All users with the following roles' is set to 'Owner'"),
      cis('2.0.0', '2.1.18', "Ensure That 'All users with the following roles' is set to 'Owner'"),
      cis('3.0.0', '3.1.12', "Ensure That 'All users with the following roles' is set to 'Owner'"),
      cis('4.0.0', '9.1.12', "Ensure That 'All users with the following roles' is set to 'Owner'"),
      cis('5.0.0', '8.1.12', "Ensure That 'All users with the following roles' is Set to 'Owner'"),
      cis('6.0.0', '8.1.12', "Ensure That 'All users with the following roles' is Set to 'Owner'"),
    ],
    mcsb: MCSB_INCIDENT_RESPONSE,
    azurePolicy: [
      {
        definitionId: POLICY,
        displayName: 'Email notification to subscription owner for high severity alerts should be enabled',
      },
    ],
    frameworks: [
      control(
        'NIST SP 800-53 Rev. 5',
        'IR-4',
        'Owners can contain a compromised subscription at once: e-mailing them brings the people with the access to act into incident handling.',
        initiativeSource(NIST_SP_800_53_R5_INITIATIVE, POLICY, 'NIST_SP_800-53_R5_IR-4'),
      ),
      control(
        'NIST SP 800-53 Rev. 5',
        'IR-6(2)',
        'Owners are told of each reported incident in their subscription and of the weakness behind it.',
        initiativeSource(NIST_SP_800_53_R5_INITIATIVE, POLICY, 'NIST_SP_800-53_R5_IR-6(2)'),
      ),
      control(
        'NIST SP 800-53 Rev. 5',
        'SI-4(12)',
        "Subscription owners become one of the roles Defender for Cloud's automated alerts reach.",
        initiativeSource(NIST_SP_800_53_R5_INITIATIVE, POLICY, 'NIST_SP_800-53_R5_SI-4(12)'),
      ),
      control(
        'SOC 2',
        'CC7.4',
        'With owners e-mailed as well as the security team, an identified incident still reaches someone who can respond when a mailbox is unattended.',
        initiativeSource(SOC_2_TYPE_2_INITIATIVE, POLICY, 'SOC_2_CC7.4'),
      ),
    ],
  },
  remediation: securityContactRemediation('owners'),
  isRequired: (policy) => policy.owners.required,
  evaluate(contact) {
    const missing = failWithoutContact(contact);
    if (missing) return missing;
    // One contact that e-mails owners settles it, whatever another contact holds (§1: a setting
    // counts if any contact enables it); only otherwise can an unreadable state change the outcome.
    const owning = contact.entries.find(emailsOwners);
    if (owning === undefined) {
      const unknown = contact.entries.flatMap((entry) => {
        const problem = unknownState(entry);
        return problem === null ? [] : [{ entry, problem }];
      });
      if (unknown.length > 0) return fail(problemsMessage(unknown));
      return fail(`Subscription owners are not e-mailed: ${contact.entries.map(whyNot).join('; ')}.`);
    }
    if (owning.shape === '2017-08-01-preview') return pass('Subscription admins and owners are e-mailed (alertsToAdmins is On).');
    const alsoListed = unknownRoles(owning).map((raw) => JSON.stringify(raw));
    const note =
      alsoListed.length > 0
        ? `; also listed: ${alsoListed.join(', ')}, which ${alsoListed.length === 1 ? 'is' : 'are'} not one of ${NOTIFICATION_ROLES.join(', ')}`
        : '';
    return pass(`Subscription owners are e-mailed (roles: ${effectiveNotifyRoles(owning).join(', ')}${note}).`);
  },
};
