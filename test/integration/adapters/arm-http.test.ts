/** The pure pieces the ARM adapters share: header parsing, error wording, nextLink trust. */
import { describe, expect, it } from 'vitest';
import { checkNextLink, describeHttpFailure, parseJson, parseTimeSpan, readArmError } from '../../../src/adapters/arm-http.js';

const retry = { maxRetries: 5, retryDelayInMs: 1, maxRetryDelayInMs: 2 };

describe('parseTimeSpan (x-ms-user-quota-resets-after)', () => {
  it.each([
    ['00:00:05', 5_000],
    ['00:01:00', 60_000],
    ['01:00:00', 3_600_000],
    ['00:00:02.5000000', 2_500],
    ['1.00:00:01', 86_401_000],
    [' 00:00:00 ', 0],
  ])('%s is %i ms', (text, ms) => {
    expect(parseTimeSpan(text)).toBe(ms);
  });

  it.each([undefined, null, '', '5', 'soon', '00:05', '-00:00:05'])('%s is not a time span', (text) => {
    expect(parseTimeSpan(text)).toBeUndefined();
  });
});

describe('describeHttpFailure', () => {
  it('names the status, ARM error code and message', () => {
    const body = {
      error: {
        code: 'AuthorizationFailed',
        message:
          "The client 'aaaa' with object id 'bbbb' does not have authorization to perform action 'Microsoft.Security/securityContacts/read' over scope '/subscriptions/x'.",
      },
    };
    expect(describeHttpFailure(403, body, JSON.stringify(body), retry)).toBe(
      "403 AuthorizationFailed: The client 'aaaa' with object id 'bbbb' does not have authorization to perform action 'Microsoft.Security/securityContacts/read' over scope '/subscriptions/x'.",
    );
  });

  it('adds details and says that retries were spent on throttling and server errors', () => {
    const body = { error: { code: 'BadRequest', message: 'Query is invalid.', details: [{ code: 'InvalidQuery', message: 'Bad token' }] } };
    expect(describeHttpFailure(400, body, undefined, retry)).toBe('400 BadRequest: Query is invalid. (InvalidQuery: Bad token)');
    expect(describeHttpFailure(503, { error: { code: 'ServiceUnavailable', message: 'Try later' } }, undefined, retry)).toBe(
      '503 ServiceUnavailable: Try later (still failing after 5 retries)',
    );
  });

  it('falls back to the body text when there is no ARM error', () => {
    expect(describeHttpFailure(502, undefined, '<html>Bad   gateway</html>', retry)).toBe(
      '502: <html>Bad gateway</html> (still failing after 5 retries)',
    );
    expect(describeHttpFailure(404, undefined, undefined, retry)).toBe('404');
  });
});

describe('readArmError', () => {
  it('reads the nested and the flat error shapes', () => {
    expect(readArmError({ error: { code: 'A', message: 'B' } })).toEqual({ code: 'A', message: 'B', details: [] });
    expect(readArmError({ code: 'C', message: 'D' })).toEqual({ code: 'C', message: 'D', details: [] });
    expect(readArmError('nonsense')).toEqual({ code: undefined, message: undefined, details: [] });
  });
});

describe('parseJson', () => {
  it('says why a body cannot be used', () => {
    expect(parseJson('[1]')).toEqual({ ok: true, value: [1] });
    expect(parseJson('')).toEqual({ ok: false, reason: 'the body is empty' });
    expect(parseJson('<html>')).toEqual({ ok: false, reason: 'the body is not JSON (<html>)' });
  });
});

describe('checkNextLink', () => {
  const endpoint = 'https://127.0.0.1:8443';

  it('follows links on the ARM origin, absolute or relative', () => {
    expect(checkNextLink('https://127.0.0.1:8443/subscriptions/x?page=2', endpoint)).toEqual({
      ok: true,
      url: 'https://127.0.0.1:8443/subscriptions/x?page=2',
    });
    expect(checkNextLink('/subscriptions/x?page=2', endpoint)).toEqual({ ok: true, url: 'https://127.0.0.1:8443/subscriptions/x?page=2' });
  });

  it.each([
    'https://evil.example/subscriptions/x',
    'http://127.0.0.1:8443/subscriptions/x',
    'https://127.0.0.1:9443/subscriptions/x',
    'https://127.0.0.1:8443@evil.example/x',
  ])('refuses %s', (link) => {
    const result = checkNextLink(link, endpoint);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toContain('not followed');
  });
});
