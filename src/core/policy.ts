/**
 * The policy file of docs/reference/policy.md: which rules make a subscription non-compliant, the
 * thresholds they use, and the addresses a fix adds where a contact has no valid one. Given with `--config FILE` or `CONTACT_WATCH_POLICY` (the same JSON inline).
 * Unknown keys and bad values are refused with a message naming the origin and the key.
 */
import * as z from 'zod';
import { ALERT_SEVERITIES, ATTACK_PATH_RISK_LEVELS, type Policy } from './model.js';
import { findEmailAddressProblem, isDomainName, type EmailAddressProblem } from './email-addresses.js';
import { describeJsonType } from './contact-shapes.js';
import { isSafeToQuote, quoteWithoutSecrets } from './secret-text.js';
import { messageOf } from './error-message.js';

/** The policy when none is given: every rule required, thresholds High. Frozen; copy it to change it. */
export const DEFAULT_POLICY: Policy = Object.freeze({
  alerts: Object.freeze({ required: true, minimalSeverity: 'High' as const }),
  owners: Object.freeze({ required: true }),
  attackPaths: Object.freeze({ required: true, minimalRiskLevel: 'High' as const }),
  emails: Object.freeze({ allowedDomains: Object.freeze([]) as unknown as string[] }),
  remediation: Object.freeze({ emails: Object.freeze([]) as unknown as string[] }),
});

/** A policy file that cannot be used; the message names where it came from and the offending key. */
export class PolicyError extends Error {
  constructor(
    message: string,
    readonly origin: string,
  ) {
    super(message);
    this.name = 'PolicyError';
  }
}

const allowedDomainSchema = z
  .string()
  .superRefine((value, ctx) => {
    if (!isDomainName(value)) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a domain name such as fabrikam.com (got ${quoteWithoutSecrets(value)})`,
      });
    }
  })
  .transform((value) => value.toLowerCase());

/**
 * Why an address may not be a remediation address, as a person reads it. The allowed domains are
 * checked separately, once the whole policy (and so emails.allowedDomains) has been read.
 */
const REMEDIATION_ADDRESS_PROBLEMS: Record<Exclude<EmailAddressProblem, 'domain-not-allowed'>, string> = {
  'invalid-syntax': 'must be a valid e-mail address such as secops@fabrikam.com',
  'placeholder-domain': 'is on a placeholder domain that reaches no security team',
};

const remediationAddressSchema = z.string().superRefine((value, ctx) => {
  const problem = findEmailAddressProblem(value, []);
  if (problem === 'invalid-syntax' || problem === 'placeholder-domain') {
    ctx.addIssue({ code: 'custom', message: `${REMEDIATION_ADDRESS_PROBLEMS[problem]} (got ${JSON.stringify(value)})` });
  }
});

const policySchema = z
  .object({
    alerts: z
      .object({
        required: z.boolean().default(DEFAULT_POLICY.alerts.required),
        minimalSeverity: z.enum(ALERT_SEVERITIES).default(DEFAULT_POLICY.alerts.minimalSeverity),
      })
      .strict()
      .prefault({}),
    owners: z
      .object({
        required: z.boolean().default(DEFAULT_POLICY.owners.required),
      })
      .strict()
      .prefault({}),
    attackPaths: z
      .object({
        required: z.boolean().default(DEFAULT_POLICY.attackPaths.required),
        minimalRiskLevel: z.enum(ATTACK_PATH_RISK_LEVELS).default(DEFAULT_POLICY.attackPaths.minimalRiskLevel),
      })
      .strict()
      .prefault({}),
    emails: z
      .object({
        allowedDomains: z.array(allowedDomainSchema).default(() => []),
      })
      .strict()
      .prefault({}),
    remediation: z
      .object({
        emails: z.array(remediationAddressSchema).default(() => []),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((policy, ctx) => {
    // A fix must pass email-configured under this very policy, so its addresses must too.
    const { allowedDomains } = policy.emails;
    policy.remediation.emails.forEach((address, index) => {
      if (findEmailAddressProblem(address, allowedDomains) === 'domain-not-allowed') {
        ctx.addIssue({
          code: 'custom',
          path: ['remediation', 'emails', index],
          message: `is outside emails.allowedDomains (${allowedDomains.join(', ')}) (got ${JSON.stringify(address)})`,
        });
      }
    });
  });

/** `alerts.minimalSeverity`, `emails.allowedDomains[0]` */
function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    return text === '' ? String(key) : `${text}.${String(key)}`;
  }, '');
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'object' && value !== null) return describeJsonType(value);
  // A string in the wrong place may be a secret pasted into the wrong setting.
  return typeof value === 'string' ? quoteWithoutSecrets(value) : JSON.stringify(value);
}

function describePolicyIssue(issue: z.core.$ZodIssue): string[] {
  const path = formatPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => `unknown key ${quoteWithoutSecrets(path === '' ? key : `${path}.${key}`)}`);
    case 'invalid_value':
      return [`${path} must be one of ${issue.values.map(String).join(', ')} (got ${describeValue(issue.input)})`];
    case 'invalid_type': {
      if (path === '') return [`the policy must be a JSON object (got ${describeValue(issue.input)})`];
      const article = issue.expected === 'object' || issue.expected === 'array' ? 'an' : 'a';
      return [`${path} must be ${article} ${issue.expected} (got ${describeValue(issue.input)})`];
    }
    case 'custom':
      return [`${path} ${issue.message}`];
    default:
      return [`${path === '' ? 'the policy' : path}: ${issue.message}`];
  }
}

/**
 * Validates a policy already parsed from JSON and fills in every default. `origin` names where it
 * came from (a file path, or `CONTACT_WATCH_POLICY`) and starts every error message.
 * @throws PolicyError naming the key, e.g. `policy.json: alerts.minimalSeverity must be one of Low, Medium, High (got "Critical")`
 */
export function parsePolicy(input: unknown, origin: string): Policy {
  const parsed = policySchema.safeParse(input, { reportInput: true });
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.flatMap(describePolicyIssue);
  throw new PolicyError(`${origin}: ${problems.join('; ')}`, origin);
}

/** Parses the policy's JSON text, then validates it like {@link parsePolicy}. */
export function parsePolicyJson(text: string, origin: string): Policy {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    // The parser's reason quotes the text around the fault: shown only when nothing in the text may be a secret.
    const parserReason = messageOf(error);
    const reason = isSafeToQuote(text)
      ? parserReason
      : 'its text is not repeated here, as it may hold a secret; expected a JSON object such as {"alerts":{"minimalSeverity":"Medium"}}';
    throw new PolicyError(`${origin}: the policy is not valid JSON (${reason})`, origin);
  }
  return parsePolicy(input, origin);
}
