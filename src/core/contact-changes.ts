/**
 * What a write of the merged fix changes in a subscription's contact, one line per change, for
 * the people who read the alert, the history and `fix`'s output. Pure; no I/O.
 */
import { splitEmailList } from './email-addresses.js';
import type { SecurityContactPutBody } from './model.js';

type Source = SecurityContactPutBody['properties']['notificationsSources'][number];

/** Addresses named in a change line at most; the rest are counted. */
const NAMED_ADDRESSES = 5;

/** The changes from `before` (the contact as it is, merged into the 2023 shape) to `after` (the body written). */
export function describeContactChanges(before: SecurityContactPutBody, after: SecurityContactPutBody): string[] {
  const changes: string[] = [];
  const was = splitEmailList(before.properties.emails);
  const now = splitEmailList(after.properties.emails);
  // Sets, not pairwise comparison: an owner can paste thousands of addresses into one contact.
  const nowKeys = new Set(now.map(addressKey));
  const wasKeys = new Set(was.map(addressKey));
  const removed = was.filter((address) => !nowKeys.has(addressKey(address)));
  const added = now.filter((address) => !wasKeys.has(addressKey(address)));
  if (removed.length > 0) changes.push(`removed ${listed(removed)}, which failed email-configured`);
  if (added.length > 0) changes.push(`added ${listed(added)}${was.length - removed.length === 0 ? ', as no valid address remained' : ''}`);

  if (!before.properties.isEnabled && after.properties.isEnabled) changes.push('turned the contact on (isEnabled was false)');

  const roles = { before: before.properties.notificationsByRole, after: after.properties.notificationsByRole };
  if (roles.before.state.toLowerCase() !== 'on' && roles.after.state.toLowerCase() === 'on') changes.push('turned role notifications on');
  const newRoles = roles.after.roles.filter((role) => !roles.before.roles.some((present) => present.toLowerCase() === role.toLowerCase()));
  if (newRoles.length > 0) changes.push(`added ${newRoles.join(', ')} to the notified roles`);

  changes.push(...sourceChange(before, after, 'Alert', 'minimalSeverity', 'alert e-mails', 'severity'));
  changes.push(...sourceChange(before, after, 'AttackPath', 'minimalRiskLevel', 'attack path e-mails', 'risk level'));
  return changes;
}

function sourceChange(
  before: SecurityContactPutBody,
  after: SecurityContactPutBody,
  sourceType: string,
  levelMember: 'minimalSeverity' | 'minimalRiskLevel',
  what: string,
  levelName: string,
): string[] {
  const find = (body: SecurityContactPutBody): Source | undefined =>
    body.properties.notificationsSources.find((source) => source.sourceType.toLowerCase() === sourceType.toLowerCase());
  const was = find(before);
  const now = find(after);
  if (!now) return [];
  const level = now[levelMember];
  if (!was) return [`turned ${what} on for ${levelName} ${level ?? '(unset)'} and above`];
  const wasLevel = was[levelMember];
  if (wasLevel !== level) return [`${what} now for ${levelName} ${level ?? '(unset)'} and above (was ${wasLevel ?? 'unset'})`];
  return [];
}

/** Addresses are compared without regard to case. */
function addressKey(address: string): string {
  return address.toLowerCase();
}

function listed(addresses: readonly string[]): string {
  const named = addresses.slice(0, NAMED_ADDRESSES).join(', ');
  const more = addresses.length - NAMED_ADDRESSES;
  const noun = addresses.length === 1 ? 'address' : 'addresses';
  return more > 0 ? `${addresses.length} ${noun} (${named} and ${more} more)` : `${noun} ${named}`;
}
