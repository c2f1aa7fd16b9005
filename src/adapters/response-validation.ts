/** Edge validation shared by the adapters: zod pieces and the wording of a rejected field. */
import * as z from 'zod';
import { isSubscriptionId } from '../core/subscription-id.js';

export const subscriptionIdSchema = z.string().refine(isSubscriptionId, { error: 'expected a subscription id (a GUID)' });

/** `field "properties.state": expected string, received undefined` for the first issue. */
export function describeFirstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'it does not match the expected shape';
  const path = issue.path.map(String).join('.') || '(the row itself)';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
  return `field "${path}": ${issue.message}${more}`;
}

/** ARM tags are strings; anything else (rare, from odd writers) is left out. */
export function stringTags(tags: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}
