/**
 * Turning what was read about one subscription into its verdict. Shared by the scan, `check`
 * and the event and HTTP handlers, so every entry point judges alike.
 */
import { evaluateContact, unreadableFindings, EMPTY_CONTACT_SUMMARY } from '../core/evaluate.js';
import { UNJUDGED_SUBSCRIPTION_STATES } from '../core/model.js';
import type { Policy, SubscriptionInfo, SubscriptionVerdict, VerdictSource } from '../core/model.js';
import { normaliseContactList, providerNotRegisteredContact } from '../core/normalise.js';
import { mergeContactFix } from '../core/contact-merge.js';
import type { ContactListRead, RawSecurityContact } from './ports.js';

export function isJudged(subscription: SubscriptionInfo): boolean {
  return !UNJUDGED_SUBSCRIPTION_STATES.includes(subscription.state);
}

/** A subscription in a state that is listed but not judged (Disabled, Deleted, Expired). */
export function skippedVerdict(subscription: SubscriptionInfo): SubscriptionVerdict {
  return {
    ...identity(subscription),
    status: 'skipped',
    source: 'resource-graph',
    contact: EMPTY_CONTACT_SUMMARY,
    findings: [],
  };
}

export function errorVerdict(subscription: SubscriptionInfo, source: VerdictSource, message: string): SubscriptionVerdict {
  return {
    ...identity(subscription),
    status: 'error',
    source,
    contact: EMPTY_CONTACT_SUMMARY,
    findings: unreadableFindings(message),
  };
}

/**
 * Judges a list of raw contact items (from Resource Graph rows or the securityContacts API). Only
 * a contact read from the securityContacts API gets its merged fix: Resource Graph lags, and a
 * body built from a stale row could undo what the subscription set since.
 */
export function verdictFromContacts(
  subscription: SubscriptionInfo,
  source: VerdictSource,
  items: RawSecurityContact[],
  policy: Policy,
): SubscriptionVerdict {
  const normalised = normaliseContactList(items);
  if (!normalised.ok) {
    return errorVerdict(subscription, source, `the security contacts could not be read: ${normalised.message}`);
  }
  const evaluation = evaluateContact(normalised.contact, policy);
  const verdict: SubscriptionVerdict = {
    ...identity(subscription),
    status: evaluation.status,
    source,
    contact: evaluation.contact,
    findings: evaluation.findings,
  };
  if (source === 'security-contacts-api') verdict.fix = mergeContactFix(normalised.contact, evaluation.findings, policy);
  return verdict;
}

/** Judges what the securityContacts API answered. */
export function verdictFromApi(subscription: SubscriptionInfo, read: ContactListRead, policy: Policy): SubscriptionVerdict {
  switch (read.kind) {
    case 'listed':
      return verdictFromContacts(subscription, 'security-contacts-api', read.contacts, policy);
    case 'provider-not-registered': {
      const contact = providerNotRegisteredContact();
      const evaluation = evaluateContact(contact, policy);
      return {
        ...identity(subscription),
        status: evaluation.status,
        source: 'security-contacts-api',
        contact: evaluation.contact,
        findings: evaluation.findings,
        fix: mergeContactFix(contact, evaluation.findings, policy),
      };
    }
    case 'unreadable':
      return errorVerdict(subscription, 'security-contacts-api', read.message);
  }
}

function identity(subscription: SubscriptionInfo): Pick<SubscriptionVerdict, 'subscriptionId' | 'displayName' | 'state'> {
  return { subscriptionId: subscription.subscriptionId, displayName: subscription.displayName, state: subscription.state };
}

/** What a verdict says beyond whose it is: the same for every subscription with the same contact. */
type Judgement = Omit<SubscriptionVerdict, 'subscriptionId' | 'displayName' | 'state'>;

/** Distinct contacts remembered by one ContactJudge at most; past that it starts again. */
const REMEMBERED_CONTACTS = 2_000;

/**
 * Judges contacts for one scan, remembering the judgement of each distinct contact. A tenant is
 * full of subscriptions whose contacts are alike (set by the same pipeline or Azure Policy
 * assignment), and judging the same contact again under the same policy gives the same findings,
 * summary and fix: those are computed once, frozen and shared by every verdict that has them, so
 * that a scan of 50,000 subscriptions neither judges nor keeps 50,000 copies. A contact is the same
 * when its items are, but for their resource ids (which name the subscription and which no rule
 * reads).
 */
export class ContactJudge {
  private readonly judged = new Map<string, Judgement>();

  constructor(private readonly policy: Policy) {}

  /** verdictFromContacts, remembered. */
  fromContacts(subscription: SubscriptionInfo, source: VerdictSource, items: RawSecurityContact[]): SubscriptionVerdict {
    const key = judgementKey(source, items);
    let judgement = key === undefined ? undefined : this.judged.get(key);
    if (!judgement) {
      judgement = judgementOf(verdictFromContacts(subscription, source, items, this.policy));
      if (key !== undefined) this.remember(key, judgement);
    }
    return { ...identity(subscription), ...judgement };
  }

  /** verdictFromApi, remembered. */
  fromApi(subscription: SubscriptionInfo, read: ContactListRead): SubscriptionVerdict {
    if (read.kind === 'listed') return this.fromContacts(subscription, 'security-contacts-api', read.contacts);
    if (read.kind === 'unreadable') return verdictFromApi(subscription, read, this.policy);
    const key = 'provider-not-registered';
    let judgement = this.judged.get(key);
    if (!judgement) this.remember(key, (judgement = judgementOf(verdictFromApi(subscription, read, this.policy))));
    return { ...identity(subscription), ...judgement };
  }

  private remember(key: string, judgement: Judgement): void {
    if (this.judged.size >= REMEMBERED_CONTACTS) this.judged.clear();
    this.judged.set(key, judgement);
  }
}

function judgementOf(verdict: SubscriptionVerdict): Judgement {
  const { subscriptionId: _id, displayName: _name, state: _state, ...judgement } = verdict;
  return deepFreeze(judgement);
}

/** The items as text, their resource ids left out; undefined when they cannot be written as JSON. */
function judgementKey(source: VerdictSource, items: RawSecurityContact[]): string | undefined {
  try {
    const withoutIds = items.map((item) =>
      typeof item === 'object' && item !== null && !Array.isArray(item) && typeof (item as { id?: unknown }).id === 'string'
        ? { ...item, id: '' }
        : item,
    );
    return `${source} ${JSON.stringify(withoutIds)}`;
  } catch {
    return undefined;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
