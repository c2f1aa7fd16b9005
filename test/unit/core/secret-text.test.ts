import { describe, expect, it } from 'vitest';
import { isSafeToQuote, looksLikeSecret, quoteWithoutSecrets, VALUE_NOT_SHOWN } from '../../../src/core/secret-text.js';

const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

describe('quoteWithoutSecrets', () => {
  it.each([
    ['a URL, as the URL parser writes it', 'https://cw-acs.communication.azure.com', '"https://cw-acs.communication.azure.com/"'],
    [
      'a URL without its user and password',
      'https://operator:hunter2@cw-acs.communication.azure.com',
      '"https://…:…@cw-acs.communication.azure.com/"',
    ],
    [
      'a URL with a password and no user',
      'https://:hunter2@cw-acs.communication.azure.com',
      '"https://:…@cw-acs.communication.azure.com/"',
    ],
    ['a URL with a user alone (a token is sometimes given as one)', 'https://ghp_token@example.com/x', '"https://…@example.com/x"'],
    [
      'a URL with its query by parameter names',
      'https://cwstate.table.core.windows.net/?sv=2024-05-04&ss=t&sig=c2ln%2B',
      '"https://cwstate.table.core.windows.net/?sv=…&ss=…&sig=…"',
    ],
    ['a URL without its fragment', 'https://arm.example/#access_token=abc', '"https://arm.example/#…"'],
    ['a URL whose path holds a signature', 'https://arm.example/x;sig=abc/y', '"https://arm.example/…"'],
    ['a URL the parser refuses, by its scheme', 'https://operator:hunter2@cw acs', '"https://…"'],
    [
      'a connection string by the names of its parts',
      `DefaultEndpointsProtocol=https;AccountName=cwstate;AccountKey=${KEY};`,
      '"DefaultEndpointsProtocol=…;AccountName=…;AccountKey=…"',
    ],
    ['a raw SAS by its first parameter', 'sv=2024-05-04&sig=abc', '"sv=…"'],
    ['a part without a name', 'AccountName=cwstate;c2VjcmV0', '"AccountName=…;…"'],
    ['a key pasted alone', KEY, '"…"'],
    ['user:password@host without a scheme', 'alerts:hunter2@smtp.example.com', '"…:…@smtp.example.com"'],
    ['plain text as it is', 'AzureMoon', '"AzureMoon"'],
    ['a cron expression as it is', '0 */30 * * * *', '"0 */30 * * * *"'],
    ['an e-mail address as it is', 'DoNotReply@alerts.fabrikam.io', '"DoNotReply@alerts.fabrikam.io"'],
    ['control characters as spaces, quotes escaped', 'a\r\nb"c', '"a b\\"c"'],
  ])('shows %s', (_what, value, shown) => {
    expect(quoteWithoutSecrets(value)).toBe(shown);
  });

  it.each([
    ['a bearer token', 'Bearer eyJhbGciOiJIUzI1NiJ9'],
    ['a JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc'],
    ['a URL with a password inside other text', '0 0 https://operator:hunter2@example.com * *'],
  ])('does not show %s at all', (_what, value) => {
    expect(quoteWithoutSecrets(value)).toBe(VALUE_NOT_SHOWN);
  });

  it('cuts a long value short after taking its secrets out', () => {
    const shown = quoteWithoutSecrets(`https://operator:hunter2@${'a'.repeat(30)}.example.com/${'b'.repeat(100)}`);
    expect(shown).toHaveLength(82);
    expect(shown).toMatch(/^"https:\/\/…:…@a+\.example\.com\/b+…"$/);
  });
});

describe('isSafeToQuote', () => {
  it.each(['{"alerts": {"minimalSeverity": "High"}', 'AzureMoon', '0 */30 * * * *'])('holds for %s', (text) => {
    expect(isSafeToQuote(text)).toBe(true);
  });

  it.each(['https://example.com', 'a=b', `{"k": "${KEY}"}`, '{"k": alerts:hunter2@smtp}', 'x https://user@host'])(
    'fails for %s',
    (text) => {
      expect(isSafeToQuote(text)).toBe(false);
    },
  );
});

describe('looksLikeSecret', () => {
  it.each([
    `AccountKey=${KEY}`,
    'accesskey=abc',
    'SharedAccessSignature=sv',
    '?sig=abc',
    'Bearer abc',
    'see https://operator:hunter2@example.com/x',
  ])('finds %s', (text) => {
    expect(looksLikeSecret(text)).toBe(true);
  });

  it.each(['https://example.com:8443/path', 'DoNotReply@alerts.fabrikam.io', 'signature verified'])('leaves %s', (text) => {
    expect(looksLikeSecret(text)).toBe(false);
  });
});
