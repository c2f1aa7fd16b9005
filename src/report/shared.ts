/**
 * What every report formatter needs: the render context, the order subscriptions are read in,
 * the compliance rate, the failing findings of a verdict condensed for people, and text from
 * Azure made safe to show. The alert e-mails use the same order and the same text rules.
 * Pure functions; no I/O.
 */
import { RULE_IDS } from '../core/model.js';
import type { Finding, RuleId, ScanReport, SubscriptionStatus, SubscriptionVerdict } from '../core/model.js';
import type { Rule } from '../core/rules/rule.js';

/** What a formatter needs beyond the report itself. */
export interface RenderContext {
  /** The rules with their metadata (titles, rationale, references, remediation). */
  rules: readonly Rule[];
  /** The Azure portal of the cloud scanned, e.g. `https://portal.azure.com`. */
  portalUrl: string;
}

export const STATUS_LABELS: Record<SubscriptionStatus, string> = {
  compliant: 'Compliant',
  noncompliant: 'Non-compliant',
  error: 'Error',
  exempt: 'Exempt',
  skipped: 'Skipped',
};

/** Failing first (the order a reader triages in), the unremarkable bulk last. */
export const TRIAGE_ORDER: readonly SubscriptionStatus[] = ['noncompliant', 'error', 'exempt', 'skipped', 'compliant'];

export function isFailingStatus(status: SubscriptionStatus): boolean {
  return status === 'noncompliant' || status === 'error';
}

/** What the triage order reads: a verdict, or anything else about one subscription (an owed alert). */
export type TriageSortable = Pick<SubscriptionVerdict, 'status' | 'displayName' | 'subscriptionId'>;

/** Status in triage order, then display name, then id. */
export function compareInTriageOrder(a: TriageSortable, b: TriageSortable): number {
  return (
    TRIAGE_ORDER.indexOf(a.status) - TRIAGE_ORDER.indexOf(b.status) ||
    NAME_ORDER.compare(a.displayName, b.displayName) ||
    compareCodeUnits(a.subscriptionId, b.subscriptionId)
  );
}

/** Sorts by status in triage order, then by display name, then by id; returns a copy. */
export function inTriageOrder<T extends TriageSortable>(items: readonly T[]): T[] {
  return [...items].sort(compareInTriageOrder);
}

/** One collator for every comparison: `localeCompare` with options builds one per call (50,000 rows, ~800,000 calls). */
const NAME_ORDER = new Intl.Collator('en', { sensitivity: 'base' });

export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const RULE_POSITION = new Map<string, number>(RULE_IDS.map((id, index) => [id, index]));

/** Position of a rule in CONTRACT.md §1; unknown ids sort last. */
export function rulePosition(ruleId: string): number {
  return RULE_POSITION.get(ruleId) ?? RULE_IDS.length;
}

/** The findings in the order of CONTRACT.md §1 (a stable sort: unknown ids keep their order, last). */
export function findingsInRuleOrder(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => rulePosition(a.ruleId) - rulePosition(b.ruleId));
}

/** Findings that did not pass, in rule order. */
export function failingFindings(verdict: Pick<SubscriptionVerdict, 'findings'>): Finding[] {
  return findingsInRuleOrder(verdict.findings.filter((finding) => finding.result !== 'pass'));
}

/**
 * The rules whose remediation fixes this subscription: its `fail` findings, except that a
 * missing contact (contact-exists fails, so every rule fails) is fixed by creating the contact.
 */
export function rulesToFix(verdict: Pick<SubscriptionVerdict, 'findings'>): RuleId[] {
  const failed = failingFindings(verdict).filter((finding) => finding.result === 'fail');
  if (failed.some((finding) => finding.ruleId === 'contact-exists')) return ['contact-exists'];
  return failed.map((finding) => finding.ruleId);
}

/** How many non-compliant subscriptions each rule's remediation would fix, by rule id. */
export function fixCounts(verdicts: readonly SubscriptionVerdict[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const verdict of verdicts) {
    if (verdict.status !== 'noncompliant') continue;
    for (const ruleId of rulesToFix(verdict)) counts.set(ruleId, (counts.get(ruleId) ?? 0) + 1);
  }
  return counts;
}

/**
 * Failing findings grouped by result and message, in rule order of first appearance. An
 * unreadable subscription (five `error` findings with one message) or a missing contact (every
 * rule failing with "no security contact") then reads as one line instead of five.
 */
export interface FailureGroup {
  result: 'fail' | 'error';
  ruleIds: RuleId[];
  message: string;
}

export function groupedFailures(verdict: Pick<SubscriptionVerdict, 'findings'>): FailureGroup[] {
  const groups: FailureGroup[] = [];
  for (const finding of failingFindings(verdict)) {
    const result = finding.result === 'error' ? 'error' : 'fail';
    const group = groups.find((g) => g.result === result && g.message === finding.message);
    if (group) group.ruleIds.push(finding.ruleId);
    else groups.push({ result, ruleIds: [finding.ruleId], message: finding.message });
  }
  return groups;
}

/**
 * The compliance rate: compliant subscriptions out of the judged ones (compliant, noncompliant
 * and error: an unreadable subscription counts against it). Exempt and skipped subscriptions are
 * left out of both sides. Rounded down, so a rate of 100 % means every judged subscription passes.
 */
export interface ComplianceRate {
  compliant: number;
  judged: number;
  /** Whole percent, rounded down; null when nothing was judged. */
  percent: number | null;
}

export function complianceRate(summary: ScanReport['summary']): ComplianceRate {
  const judged = summary.compliant + summary.noncompliant + summary.error;
  return {
    compliant: summary.compliant,
    judged,
    percent: judged === 0 ? null : Math.floor((summary.compliant * 100) / judged),
  };
}

export function formatPercent(rate: ComplianceRate): string {
  return rate.percent === null ? 'n/a' : `${rate.percent}%`;
}

export function ruleById(context: RenderContext, ruleId: string): Rule | undefined {
  return context.rules.find((rule) => rule.id === ruleId);
}

/** `2025-03-01T10:00:05.123Z` → `2025-03-01 10:00:05 UTC`; text that is not a date is returned as is. */
export function formatUtc(iso: string): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  return `${new Date(time).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** The scan's duration, e.g. `42 s` or `3 min 5 s`; empty when a timestamp cannot be read. */
export function formatDuration(startedAt: string, finishedAt: string): string {
  const ms = Date.parse(finishedAt) - Date.parse(startedAt);
  if (!Number.isFinite(ms) || ms < 0) return '';
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/**
 * The Defender for Cloud "Email notifications" settings of one subscription in the portal of
 * the cloud that was scanned. Undefined when the portal URL is not an http(s) URL, so a bad
 * setting can never turn into a `javascript:` link.
 */
export function emailNotificationsUrl(portalUrl: string, subscriptionId: string): string | undefined {
  const base = httpUrl(portalUrl);
  if (base === undefined) return undefined;
  return `${base}/#view/Microsoft_Azure_Security/PolicyMenuBlade/~/emailNotifications/subscriptionId/${encodeURIComponent(subscriptionId)}`;
}

/** A built-in Azure Policy definition in the portal. */
export function policyDefinitionUrl(portalUrl: string, definitionId: string): string | undefined {
  const base = httpUrl(portalUrl);
  if (base === undefined) return undefined;
  const resourceId = `/providers/Microsoft.Authorization/policyDefinitions/${definitionId}`;
  return `${base}/#view/Microsoft_Azure_Policy/PolicyDetailBlade/definitionId/${encodeURIComponent(resourceId)}`;
}

function httpUrl(text: string): string | undefined {
  try {
    const url = new URL(text);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    return url.origin + url.pathname.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

/** The contact's alert, role and attack-path settings in words, for tables and summaries. */
export function describeContact(verdict: SubscriptionVerdict): {
  emails: string;
  alerts: string;
  roles: string;
  attackPaths: string;
} {
  const c = verdict.contact;
  return {
    emails: c.emails.length > 0 ? c.emails.join(', ') : 'none',
    alerts: c.alertMinimalSeverity === null ? 'none' : `${c.alertMinimalSeverity} and above`,
    roles: c.notifyRoles.length > 0 ? c.notifyRoles.join(', ') : 'none',
    attackPaths: c.attackPathMinimalRiskLevel === null ? 'none' : `${c.attackPathMinimalRiskLevel} and above`,
  };
}

// ---------------------------------------------------------------------------------------------
// Text from Azure
//
// Display names, e-mail addresses and the messages quoting them are whatever a subscription's
// owner typed. Each format escapes its own syntax (escape-html, Markdown escapes, CSV quoting,
// terminal control characters); the two concerns below are the same in every format, so they
// are handled here, once.

/**
 * The bidirectional formatting characters: embeddings and overrides (U+202A to U+202E), isolates
 * (U+2066 to U+2069) and the implicit marks LRM, RLM and ALM (U+200E, U+200F, U+061C). They are
 * invisible and reorder the text around them, so `Payroll <U+202E>gpj.exe` reads "Payroll exe.jpg"
 * and a command can show one thing and run another. Right-to-left scripts read correctly without
 * them.
 */
export const BIDI_CONTROL_CHARACTERS = '\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069';
const BIDI_CONTROLS = new RegExp(`[${BIDI_CONTROL_CHARACTERS}]`, 'g');

/** Shown in place of a character that must not act: visible, and it reorders nothing. */
export const VISIBLE_REPLACEMENT = '\uFFFD';

/** Text for people: each bidirectional control shown as U+FFFD, so the reader sees one was there. */
export function showBidiControls(text: string): string {
  return text.replace(BIDI_CONTROLS, VISIBLE_REPLACEMENT);
}

/**
 * JSON text (any `JSON.stringify` output) with each bidirectional control written as a `\uXXXX`
 * escape. Outside strings JSON holds only ASCII, so they can only be inside a string, where the
 * escape decodes to the very same character: the data stays exact, the text is safe to look at.
 */
export function escapeBidiControlsInJson(json: string): string {
  return json.replace(BIDI_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Text with nothing a Markdown renderer or a mail client turns into a link by itself: `://` becomes
 * `[://]` and `www.` becomes `www[.]`, the way threat reports write an address that must not be
 * followed. GFM links `www.`, `http://` and `https://` text (cmark-gfm in the source, remark-gfm and
 * markdown-it in the text after escapes are undone), so an escape alone would not stop it; and a
 * `:` right before `//` keeps linkify-it from reading `//host` as a link of its own.
 */
export function defangAutolinks(text: string): string {
  return text.replace(/:\/\//g, '[://]').replace(/(www)\./gi, '$1[.]');
}
