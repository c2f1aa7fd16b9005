/** Subject lines. No header is ever built from Azure data: a display name reaches a subject only through subjectSafe. */
import type { OwedAlert } from '../../core/alerts.js';
import { guidOrNull, subjectSafe } from './safe-text.js';
import { countStatuses, countWords, plural, PRODUCT } from './wording.js';

export function digestSubject(alerts: readonly OwedAlert[], part: { index: number; total: number } | undefined): string {
  const { noncompliant, unreadable, fixed, repaired } = countStatuses(alerts);
  const subscriptions = (count: number) => `${count} Azure ${plural(count, 'subscription', 'subscriptions')}`;
  const needs: string[] = [];
  if (noncompliant > 0) needs.push(`${subscriptions(noncompliant)} without a valid security contact`);
  if (unreadable > 0) needs.push(noncompliant > 0 ? `${unreadable} could not be read` : `${subscriptions(unreadable)} could not be read`);
  // Nothing failing: what the notices say (the counts in brackets say how many of each).
  const main =
    needs.length > 0
      ? needs.join(', ')
      : repaired > 0 && fixed === 0
        ? `${subscriptions(repaired)} repaired automatically`
        : `${subscriptions(alerts.length)} ${repaired > 0 ? 'fixed or repaired automatically' : 'fixed'}`;
  const partText = part && part.total > 1 ? ` (part ${part.index} of ${part.total})` : '';
  return `[${PRODUCT}] ${main} (${countWords(alerts)})${partText}`;
}

export function singleSubject(alert: OwedAlert): string {
  const name = subjectSafe(alert.displayName, 80);
  const id = guidOrNull(alert.subscriptionId);
  const who = name && id ? `"${name}" (${id})` : name ? `"${name}"` : (id ?? 'a subscription');
  switch (alert.kind) {
    case 'alert':
      return alert.status === 'error'
        ? `[${PRODUCT}] Subscription ${who}: security contact could not be read`
        : `[${PRODUCT}] Subscription ${who} has no valid security contact`;
    case 'reminder':
      return alert.status === 'error'
        ? `[${PRODUCT}] Reminder: subscription ${who}: security contact still could not be read`
        : `[${PRODUCT}] Reminder: subscription ${who} still has no valid security contact`;
    case 'fixed':
      return `[${PRODUCT}] Fixed: subscription ${who} is compliant again`;
    case 'repaired':
      return `[${PRODUCT}] Repaired automatically: subscription ${who} has a valid security contact again`;
  }
}
