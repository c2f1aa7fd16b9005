/**
 * How to fix a security contact, correct for the 2023-12-01-preview securityContacts API. The
 * REST body, az CLI command, Bicep and Terraform are shared by every rule (a PUT writes the whole contact);
 * each rule says which part it fixes through its summary and portal step.
 */
import type { Remediation, RemediationTarget } from './rule.js';
import type { ContactShape, SecurityContactPutBody } from '../model.js';
import { isSubscriptionId } from '../subscription-id.js';
import { azapiSecurityContactTerraform, defaultContactFromShape } from './remediation-terraform.js';

export const REMEDIATION_API_VERSION = '2023-12-01-preview';

/**
 * The address the examples use. It is syntactically valid and under `.internal`, a top-level domain
 * reserved for private use that is never delegated, so a command pasted without editing passes the
 * rules yet cannot send alert mail to a stranger. Replace it with the security team's shared mailbox.
 */
export const EXAMPLE_SECURITY_TEAM_ADDRESS = 'secops@your-company.internal';

export type { RemediationTarget } from './rule.js';

export interface RemediationOptions {
  /** Fills the subscription id into the az CLI URL (else `<subscription-id>`). */
  subscriptionId?: string;
  /** The addresses to write, separated by `;` (else {@link EXAMPLE_SECURITY_TEAM_ADDRESS}). */
  emails?: string;
}

/** The PUT body of `.../securityContacts/default?api-version=2023-12-01-preview` that satisfies all five rules. */
export function securityContactRestBody(emails: string = EXAMPLE_SECURITY_TEAM_ADDRESS) {
  return {
    properties: {
      emails,
      isEnabled: true,
      notificationsByRole: { state: 'On', roles: ['Owner'] },
      notificationsSources: [
        { sourceType: 'Alert', minimalSeverity: 'High' },
        { sourceType: 'AttackPath', minimalRiskLevel: 'High' },
      ],
    },
  };
}

function azCliScript(target: RemediationTarget, subscriptionId: string, emails: string): string {
  const lines = [
    ...(emails === EXAMPLE_SECURITY_TEAM_ADDRESS
      ? [`# Replace ${EXAMPLE_SECURITY_TEAM_ADDRESS} with your security team's shared mailbox.`]
      : []),
    '# The PUT replaces the whole contact: read it first and keep the addresses you still want.',
    ...(target === 'contact'
      ? [
          '# If Microsoft.Security is not registered on the subscription yet, register it first:',
          `az provider register --namespace Microsoft.Security --subscription ${subscriptionId} --wait`,
        ]
      : []),
    azRestGet(subscriptionId),
    azRestPut(subscriptionId, securityContactRestBody(emails)),
  ];
  return lines.join('\n');
}

/**
 * JSON text that means the same as `JSON.stringify(value)` but holds only printable ASCII and no
 * single quote: every other character is written as a `\uXXXX` escape, which JSON allows inside
 * strings (the only place such characters can occur). Inside single quotes a POSIX shell then
 * takes it literally, so a `'`, `$`, backtick or backslash in an address cannot end the quoting or
 * expand, and no control or bidirectional character can reorder or hide what the reader sees.
 */
function shellInertJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]|'/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The bash command that writes `body` as the security contact of one subscription:
 * `az rest --method put --url "/subscriptions/<id>/providers/Microsoft.Security/securityContacts/default?api-version=2023-12-01-preview" --body '<json>'`.
 * `az rest` puts a URL that starts with "/" on the ARM endpoint of the signed-in cloud, so the same
 * command is right in every cloud. The body is single-quoted and holds nothing a POSIX shell
 * interprets there; the id must be a GUID (written in lower case).
 * @throws RangeError when the subscription id is not a GUID (it goes into the command as it is).
 */
export function azRestPutCommand(subscriptionId: string, body: SecurityContactPutBody): string {
  return azRestPut(checkedSubscriptionId(subscriptionId), body);
}

/**
 * The bash command that reads the security contacts of one subscription, to start a write from:
 * `az rest --method get --url "/subscriptions/<id>/providers/Microsoft.Security/securityContacts?api-version=2023-12-01-preview"`.
 * @throws RangeError when the subscription id is not a GUID.
 */
export function azRestGetCommand(subscriptionId: string): string {
  return azRestGet(checkedSubscriptionId(subscriptionId));
}

/**
 * The Terraform (azapi) that writes `body` as the security contact of one subscription, from the
 * same merged body as {@link azRestPutCommand}; `shape` is the shape its contact was read in, which
 * says whether the file must take over an existing `default` contact first.
 * @throws RangeError when the subscription id is not a GUID.
 */
export function terraformForSubscription(
  subscriptionId: string,
  body: SecurityContactPutBody,
  shape: ContactShape,
  placeholderEmails: boolean,
): string {
  return azapiSecurityContactTerraform(body, {
    subscription: checkedSubscriptionId(subscriptionId),
    defaultContact: defaultContactFromShape(shape),
    comments: [
      shape === 'none'
        ? 'The security contact to create.'
        : "This subscription's own contact with only the failing settings changed: its addresses, phone and roles are kept.",
      ...(placeholderEmails ? [`Replace ${EXAMPLE_SECURITY_TEAM_ADDRESS} with your security team's shared mailbox first.`] : []),
    ],
  });
}

function checkedSubscriptionId(subscriptionId: string): string {
  if (!isSubscriptionId(subscriptionId)) {
    throw new RangeError(`${JSON.stringify(subscriptionId.slice(0, 60))} is not a subscription id: expected a GUID`);
  }
  return subscriptionId.toLowerCase();
}

/**
 * The securityContacts collection of a subscription (a GUID, or the `<subscription-id>` of the
 * rules' generic commands), as a URL `az rest` reads relative to the signed-in cloud's ARM endpoint.
 */
function securityContactsPath(subscription: string): string {
  return `/subscriptions/${subscription}/providers/Microsoft.Security/securityContacts`;
}

function azRestGet(subscription: string): string {
  return `az rest --method get --url "${securityContactsPath(subscription)}?api-version=${REMEDIATION_API_VERSION}"`;
}

function azRestPut(subscription: string, body: unknown): string {
  const url = `${securityContactsPath(subscription)}/default?api-version=${REMEDIATION_API_VERSION}`;
  return `az rest --method put --url "${url}" --body '${shellInertJson(body)}'`;
}

function bicepTemplate(emails: string): string {
  return [
    "targetScope = 'subscription'",
    '',
    '// Deploy with: az deployment sub create --location <region> --template-file security-contact.bicep',
    ...(emails === EXAMPLE_SECURITY_TEAM_ADDRESS
      ? [`// Replace ${EXAMPLE_SECURITY_TEAM_ADDRESS} with your security team's shared mailbox.`]
      : []),
    `resource securityContact 'Microsoft.Security/securityContacts@${REMEDIATION_API_VERSION}' = {`,
    "  name: 'default'",
    '  properties: {',
    `    emails: '${emails.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`,
    '    isEnabled: true',
    '    notificationsByRole: {',
    "      state: 'On'",
    "      roles: ['Owner']",
    '    }',
    '    notificationsSources: [',
    '      {',
    "        sourceType: 'Alert'",
    "        minimalSeverity: 'High'",
    '      }',
    '      {',
    "        sourceType: 'AttackPath'",
    "        minimalRiskLevel: 'High'",
    '      }',
    '    ]',
    '  }',
    '}',
    '',
  ].join('\n');
}

function terraformTemplate(emails: string): string {
  return azapiSecurityContactTerraform(securityContactRestBody(emails), {
    subscription: '<subscription-id>',
    defaultContact: 'unknown',
    comments: [
      ...(emails === EXAMPLE_SECURITY_TEAM_ADDRESS
        ? [`Replace ${EXAMPLE_SECURITY_TEAM_ADDRESS} with your security team's shared mailbox.`]
        : []),
      'The body replaces the whole contact: read it first and keep the addresses you still want.',
    ],
  });
}

/** The setting each part of the contact is on the portal's "Email notifications" page, in the page's order. */
const PORTAL_STEP: Record<Exclude<RemediationTarget, 'contact'>, string> = {
  emails:
    "In 'Additional email addresses', enter your security team's shared mailbox (several addresses separated by commas); " +
    'sample domains such as example.com or contoso.com do not count.',
  alerts: "Tick 'Notify about alerts with the following severity (or higher)' and choose High, or the lower severity your policy requires.",
  owners: "In 'All users with the following roles', select Owner.",
  attackPaths:
    "Tick 'Notify about attack paths with the following risk level (or higher)' and choose High, or the lower risk level your policy requires.",
};

const SUMMARY: Record<RemediationTarget, string> = {
  contact:
    "Create the subscription's security contact 'default' with your security team's mailbox, alert and attack path e-mails, " +
    'and e-mails to subscription owners.',
  emails:
    "Set the contact's e-mail addresses (properties.emails) to real mailboxes of your security team, separated by semicolons" +
    ' and within the domains your policy allows.',
  alerts:
    'Add an Alert notification source (properties.notificationsSources) with minimalSeverity High, or lower if your policy requires, ' +
    'and keep isEnabled true.',
  owners: 'Turn role notifications on for owners (properties.notificationsByRole: state On, roles including Owner).',
  attackPaths:
    'Add an AttackPath notification source with minimalRiskLevel High, or lower if your policy requires, and keep isEnabled true; ' +
    `a contact written with an older API version must be written again with ${REMEDIATION_API_VERSION}.`,
};

const REGISTER_PROVIDER =
  'If the subscription has never used Defender for Cloud, register the Microsoft.Security resource provider first ' +
  '(Subscriptions > your subscription > Resource providers).';

/**
 * The portal steps that fix these parts of the contact, in one visit to its "Email notifications"
 * page: each part's setting once, in the page's order (creating the contact sets them all). One
 * part gives exactly the steps of its rule's remediation.
 */
export function securityContactPortalSteps(targets: readonly RemediationTarget[]): string[] {
  const whole = targets.includes('contact');
  const settings = (Object.keys(PORTAL_STEP) as Array<keyof typeof PORTAL_STEP>).filter((part) => whole || targets.includes(part));
  return [
    ...(whole ? [REGISTER_PROVIDER] : []),
    'Sign in to the Azure portal and open Microsoft Defender for Cloud > Environment settings.',
    'Select the subscription, then Email notifications.',
    ...settings.map((part) => PORTAL_STEP[part]),
    'Select Save.',
  ];
}

/** The remediation for one part of the security contact, optionally filled in for one subscription. */
export function securityContactRemediation(target: RemediationTarget, options: RemediationOptions = {}): Remediation {
  const subscriptionId = options.subscriptionId ?? '<subscription-id>';
  const emails = options.emails ?? EXAMPLE_SECURITY_TEAM_ADDRESS;
  return {
    target,
    summary: `${SUMMARY[target]} The REST PUT, Bicep and Terraform write the whole contact, so include everything you want to keep.`,
    portal: securityContactPortalSteps([target]),
    azCli: azCliScript(target, subscriptionId, emails),
    restBody: securityContactRestBody(emails),
    bicep: bicepTemplate(emails),
    terraform: terraformTemplate(emails),
  };
}
