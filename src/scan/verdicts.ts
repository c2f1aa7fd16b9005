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
