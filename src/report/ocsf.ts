/**
 * OCSF (`scan --format ocsf`): the scan as OCSF 1.6.0 Compliance Finding events (class 2003, category
 * Findings), one JSON object per line (JSON Lines), for a SIEM or a security data lake.
 *
 * - One event per subscription and rule, passes included: a SIEM that keys findings by
 *   `finding_info.uid` (`<subscriptionId>/<ruleId>`, the same from one scan to the next) sees a
 *   later pass close an earlier fail. A skipped subscription (Disabled, Deleted, Expired) has no
 *   findings; it gets one archived event per rule, so its open findings close too.
 * - What each outcome becomes (status, activity, severity) is decided in ./ocsf-mapping.ts and
 *   documented in docs/reference/report.md.
 * - Values from Azure are kept exactly; bidirectional controls in them are written as `\uXXXX`
 *   escapes, and so are U+0085, U+2028 and U+2029, which some readers take for line ends: every
 *   event is exactly one line, whatever splits the lines.
 * - schema/ocsf-compliance-finding-1.6.0.json describes each event exactly: a new attribute or
 *   value here is one there too.
 */
import type { Finding, Policy, ScanReport, SubscriptionVerdict } from '../core/model.js';
import type { Rule } from '../core/rules/rule.js';
import { BIDI_CONTROL_CHARACTERS, oneLine } from './azure-text.js';
import { ocsfCompliance, ocsfOutcome, type OcsfOutcome } from './ocsf-mapping.js';
import type { RenderContext } from './render-context.js';
import { TOOL_INFORMATION_URI } from './sarif.js';
import { compareCodeUnits } from './triage-order.js';

/** The OCSF version of the events (`metadata.version`). */
export const OCSF_VERSION = '1.6.0';
/** The profiles the events apply (`metadata.profiles`): cloud, for `cloud` and the resources' cloud attributes. */
export const OCSF_PROFILES = ['cloud'] as const;

export const OCSF_CATEGORY = { uid: 2, name: 'Findings' } as const;
export const OCSF_CLASS = { uid: 2003, name: 'Compliance Finding' } as const;

/** OCSF account type 13: what `cloud.account` is, a subscription. */
const AZURE_SUBSCRIPTION_ACCOUNT = { type_id: 13, type: 'Azure Subscription' } as const;

/** What the OCSF format needs beyond the other formats' context. */
export interface OcsfContext {
  rules: readonly Rule[];
  /** The policy the scan judged by: whether it requires a rule sets the severity of a failure. */
  policy: Policy;
  /** contact-watch's version, as `--version` reports it. */
  productVersion: string;
}

/** The context of the OCSF format, from the one every format gets; the CLI gives the scan's policy and its version. */
export function ocsfContext(context: RenderContext): OcsfContext {
  if (context.policy === undefined || context.productVersion === undefined) {
    throw new TypeError("the ocsf format needs the scan's policy and contact-watch's version in its render context");
  }
  return { rules: context.rules, policy: context.policy, productVersion: context.productVersion };
}

/** Every event as one line of JSON ending in `\n`: subscriptions by id, rules in the order of docs/reference/rules.md. */
export function* ocsfEventLines(report: ScanReport, context: OcsfContext): Generator<string> {
  const sorted = [...report.subscriptions].sort((a, b) => compareCodeUnits(a.subscriptionId, b.subscriptionId));
  const lines = new OcsfLines(report, context);
  for (const verdict of sorted) {
    for (const rule of context.rules) {
      const finding = verdict.findings.find((f) => f.ruleId === rule.id);
      if (finding !== undefined || verdict.status === 'skipped') yield `${lines.line(verdict, rule, finding)}\n`;
    }
  }
}

export type OcsfEvent = ReturnType<typeof ocsfEvent>;

/** One Compliance Finding as an object: how `rule` judged one subscription's contact (or that it was not judged). */
export function ocsfEvent(
  report: ScanReport,
  verdict: SubscriptionVerdict,
  rule: Rule,
  finding: Finding | undefined,
  context: OcsfContext,
) {
  const outcome = ocsfOutcome(verdict, finding, rule.isRequired(context.policy));
  return {
    ...eventHead(report, verdict, rule, finding, outcome, context),
    compliance: ocsfCompliance(rule, finding, outcome),
    ...eventTail(verdict, rule),
  };
}

/** The attributes of an event before `compliance`, in the order they are written. */
function eventHead(
  report: ScanReport,
  verdict: SubscriptionVerdict,
  rule: Rule,
  finding: Finding | undefined,
  outcome: OcsfOutcome,
  context: OcsfContext,
) {
  const id = verdict.subscriptionId;
  const statusDetail = outcomeDetail(verdict);
  return {
    activity_id: outcome.activity.id,
    activity_name: outcome.activity.name,
    category_uid: OCSF_CATEGORY.uid,
    category_name: OCSF_CATEGORY.name,
    class_uid: OCSF_CLASS.uid,
    class_name: OCSF_CLASS.name,
    type_uid: OCSF_CLASS.uid * 100 + outcome.activity.id,
    type_name: `${OCSF_CLASS.name}: ${outcome.activity.name}`,
    severity_id: outcome.severity.id,
    severity: outcome.severity.name,
    status_id: outcome.findingStatus.id,
    status: outcome.findingStatus.name,
    ...(statusDetail === undefined ? {} : { status_detail: statusDetail }),
    time: Date.parse(report.scan.finishedAt),
    message: eventMessage(verdict, rule, finding, outcome),
    metadata: {
      version: OCSF_VERSION,
      product: { name: 'contact-watch', vendor_name: 'contact-watch', version: context.productVersion },
      profiles: [...OCSF_PROFILES],
      uid: `${report.scan.id}/${id}/${rule.id}`,
      correlation_uid: report.scan.id,
      event_code: rule.id,
    },
    finding_info: {
      uid: `${id}/${rule.id}`,
      title: rule.title,
      desc: rule.rationale,
      analytic: { uid: rule.id, type_id: 1, type: 'Rule' },
    },
  };
}

/** The attributes of an event after `compliance`, in the order they are written. */
function eventTail(verdict: SubscriptionVerdict, rule: Rule) {
  const id = verdict.subscriptionId;
  const name = verdict.displayName;
  return {
    cloud: {
      provider: 'Azure',
      account: { uid: id, ...(name === '' ? {} : { name }), ...AZURE_SUBSCRIPTION_ACCOUNT },
    },
    resources: [
      { uid: `/subscriptions/${id}`, type: 'Microsoft.Resources/subscriptions', ...(name === '' ? {} : { name }) },
      {
        uid: `/subscriptions/${id}/providers/Microsoft.Security/securityContacts`,
        type: 'Microsoft.Security/securityContacts',
        ...(verdict.contact.shape === 'none' ? {} : { data: { contact: contactData(verdict) } }),
      },
    ],
    remediation: { desc: rule.remediation.summary, references: [TOOL_INFORMATION_URI] },
  };
}

/** Compliance texts kept at most; past that the writer starts again (error messages can make each one differ). */
const REMEMBERED_COMPLIANCE_TEXTS = 2_000;

/**
 * Writes the events of one report as lines. An event's `compliance` (every CIS version, MCSB and
 * framework control of its rule: most of the line) is the same for every subscription the rule
 * judged alike, so its text is written once per rule, outcome and finding, and the rest of the
 * event around it: the same text as `ocsfJsonLine(ocsfEvent(...))`.
 */
class OcsfLines {
  private readonly complianceTexts = new Map<string, string>();

  constructor(
    private readonly report: ScanReport,
    private readonly context: OcsfContext,
  ) {}

  line(verdict: SubscriptionVerdict, rule: Rule, finding: Finding | undefined): string {
    const outcome = ocsfOutcome(verdict, finding, rule.isRequired(this.context.policy));
    const head = ocsfJsonLine(eventHead(this.report, verdict, rule, finding, outcome, this.context));
    const tail = ocsfJsonLine(eventTail(verdict, rule));
    return `${head.slice(0, -1)},"compliance":${this.complianceText(rule, finding, outcome)},${tail.slice(1)}`;
  }

  private complianceText(rule: Rule, finding: Finding | undefined, outcome: OcsfOutcome): string {
    const key = JSON.stringify([rule.id, outcome.complianceStatus.id, finding?.result, finding?.message]);
    let text = this.complianceTexts.get(key);
    if (text === undefined) {
      if (this.complianceTexts.size >= REMEMBERED_COMPLIANCE_TEXTS) this.complianceTexts.clear();
      text = ocsfJsonLine(ocsfCompliance(rule, finding, outcome));
      this.complianceTexts.set(key, text);
    }
    return text;
  }
}

/** The contact as it was read, as the JSON report's `contact` has it (a contact was read: its shape is not `none`). */
function contactData(verdict: SubscriptionVerdict) {
  const contact = verdict.contact;
  return {
    emails: [...contact.emails],
    alertMinimalSeverity: contact.alertMinimalSeverity ?? null,
    notifyRoles: [...contact.notifyRoles],
    attackPathMinimalRiskLevel: contact.attackPathMinimalRiskLevel ?? null,
    shape: contact.shape,
  };
}

/** Why a finding is suppressed or archived rather than open or resolved. */
function outcomeDetail(verdict: SubscriptionVerdict): string | undefined {
  if (verdict.status === 'exempt') return 'The subscription is exempt: an active exemption covers it, so its findings are suppressed.';
  if (verdict.status === 'skipped') return `The subscription is ${oneLine(verdict.state)}: it is listed, not judged.`;
  return undefined;
}

function eventMessage(verdict: SubscriptionVerdict, rule: Rule, finding: Finding | undefined, outcome: OcsfOutcome): string {
  const name = oneLine(verdict.displayName);
  const who = name === '' ? `Subscription ${verdict.subscriptionId}` : `Subscription "${name}" (${verdict.subscriptionId})`;
  if (finding === undefined) return `${who}: ${rule.id} was not checked; the subscription is ${oneLine(verdict.state)}.`;
  const exempt = verdict.status === 'exempt' ? ' (exempt)' : '';
  return `${who}${exempt}: ${rule.id} ${outcome.verb}: ${oneLine(finding.message)}`;
}

/** The characters escaped in an event's text: the bidirectional controls, and those some readers take for a line end. */
const ESCAPED_IN_LINES = new RegExp(`[${BIDI_CONTROL_CHARACTERS}\u0085\u2028\u2029]`, 'g');

/**
 * One event (or a part of one) as one line of JSON. `JSON.stringify` escapes the control
 * characters; the characters some readers take for a line end (U+0085, U+2028, U+2029) and the
 * bidirectional controls are escaped here, inside strings, where the escape decodes to the very
 * same character.
 */
export function ocsfJsonLine(value: unknown): string {
  return JSON.stringify(value).replace(ESCAPED_IN_LINES, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
