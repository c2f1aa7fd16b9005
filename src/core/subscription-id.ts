/** Subscription ids are GUIDs; we keep them in lower case everywhere. */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isSubscriptionId(text: string): boolean {
  return GUID.test(text);
}

/** Any GUID, in either case (scan ids are GUIDs too). */
export function isGuid(text: string): boolean {
  return GUID.test(text);
}

export class InvalidSubscriptionIdError extends Error {
  override name = 'InvalidSubscriptionIdError';
}

/** Returns the id in lower case, or throws a message a person can act on. */
export function parseSubscriptionId(text: string): string {
  const trimmed = text.trim();
  if (!GUID.test(trimmed)) {
    const shown = trimmed.length > 60 ? `${trimmed.slice(0, 60)}…` : trimmed;
    throw new InvalidSubscriptionIdError(
      `"${shown}" is not a subscription id: expected a GUID such as 00000000-0000-0000-0000-000000000000`,
    );
  }
  return trimmed.toLowerCase();
}

/** Orders anything that names a subscription by its id (records, changes, exemptions, listings). */
export function bySubscriptionId(a: { subscriptionId: string }, b: { subscriptionId: string }): number {
  return a.subscriptionId < b.subscriptionId ? -1 : a.subscriptionId > b.subscriptionId ? 1 : 0;
}
