/**
 * How the reports put things in words (display.ts): why a contact could not be read, in a few
 * words (the reports keep the service's full answer one step away: the page's collapsed section,
 * `check`), and how long a scan took.
 */
import { describe, expect, it } from 'vitest';
import { formatDuration, shortReason } from '../../../src/report/display.js';

const FORBIDDEN =
  "403 AuthorizationFailed: The client '7d0b5b3e-1c2a-4f6e-9a53-4c8e2f1d0a11' with object id '7d0b5b3e-1c2a-4f6e-9a53-4c8e2f1d0a11' " +
  "does not have authorization to perform action 'Microsoft.Security/securityContacts/read' over scope " +
  "'/subscriptions/161e7e9f-d36a-40a7-a563-edd620c5f815' or the scope is invalid. If access was recently granted, please refresh your credentials.";

describe('shortReason', () => {
  it('says what an HTTP answer means for reading the contact, keeping its status and code', () => {
    expect(shortReason(FORBIDDEN)).toBe("403 AuthorizationFailed: the identity cannot read this subscription's security contacts");
    expect(shortReason('The securityContacts API answered 403 AuthorizationFailed: the client does not have authorization.')).toBe(
      "403 AuthorizationFailed: the identity cannot read this subscription's security contacts",
    );
    expect(shortReason('404 SubscriptionNotFound: The subscription could not be found.')).toBe(
      '404 SubscriptionNotFound: the subscription or its security contacts were not found',
    );
    expect(shortReason('503 (still failing after 3 retries)')).toBe('503: the service kept failing, even after retries');
    expect(shortReason('429 TooManyRequests: Rate limit exceeded. (still failing after 3 retries)')).toBe(
      '429 TooManyRequests: Azure kept throttling the requests, even after retries',
    );
  });

  it('keeps a short message as it is, and cuts anything else to its first sentence, or at a word', () => {
    expect(shortReason('no answer from https://management.azure.com within 30 s')).toBe(
      'no answer from https://management.azure.com within 30 s',
    );
    expect(shortReason('200 but the body is not JSON. It began with <html>.')).toBe('200 but the body is not JSON.');
    const long = `the security contacts could not be read: ${'word '.repeat(40)}end`;
    const cut = shortReason(long);
    expect(cut.endsWith('word…')).toBe(true);
    expect(Array.from(cut).length).toBeLessThanOrEqual(111);
    expect(long.startsWith(cut.slice(0, -1))).toBe(true);
  });

  it('never cuts a character in two', () => {
    const emoji = '\u{1F512}'.repeat(200);
    const cut = shortReason(emoji);
    expect(cut).toBe(`${'\u{1F512}'.repeat(110)}…`);
  });
});

describe('formatDuration', () => {
  const after = (ms: number) =>
    formatDuration('2025-03-01T10:00:00.000Z', new Date(Date.parse('2025-03-01T10:00:00.000Z') + ms).toISOString());

  it('gives a fraction of a second as such, and longer scans in whole seconds and minutes', () => {
    expect(after(120)).toBe('0.1 s');
    expect(after(0)).toBe('0.0 s');
    expect(after(42_500)).toBe('43 s');
    expect(after(185_000)).toBe('3 min 5 s');
    expect(after(2 * 3_600_000 + 60_000)).toBe('2 h 1 min');
  });

  it('says nothing when a timestamp cannot be read or the scan ended before it began', () => {
    expect(formatDuration('not a date', '2025-03-01T10:00:00.000Z')).toBe('');
    expect(after(-1)).toBe('');
  });
});
