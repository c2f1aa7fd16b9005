import { InvocationContext, type LogLevel } from '@azure/functions';
import { RestError } from '@azure/core-rest-pipeline';
import { describe, expect, it } from 'vitest';
import { createLogger, redact, REDACTED } from '../../../src/adapters/structured-log.js';

const STORAGE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const STORAGE_CONNECTION = `DefaultEndpointsProtocol=https;AccountName=cwstate;AccountKey=${STORAGE_KEY};EndpointSuffix=core.windows.net`;
const ACS_KEY = 'c2VjcmV0LWtleS1tYXRlcmlhbC10aGF0LW11c3Qtbm90LWxlYWs=';
const JWT = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tIn0.c2lnbmF0dXJl';

interface Captured {
  level: LogLevel;
  line: string;
}

function capture(invocationId = '7f7e5c4a-1d2b-4c3d-9e8f-0a1b2c3d4e5f', functionName = 'scanTimer') {
  const lines: Captured[] = [];
  const context = new InvocationContext({
    invocationId,
    functionName,
    logHandler: (level, ...args) => lines.push({ level, line: args.map(String).join(' ') }),
  });
  return { context, lines };
}

describe('createLogger', () => {
  it('writes one JSON object per event with the invocation id and function name first', () => {
    const { context, lines } = capture();
    const log = createLogger();
    log(context, 'scan.finished', { subscriptions: 200, noncompliant: 12, durationMs: 5300.5, at: new Date('2026-11-22T05:00:00Z') });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe('information');
    expect(lines[0]!.line).not.toContain('\n');
    expect(JSON.parse(lines[0]!.line)).toEqual({
      event: 'scan.finished',
      invocationId: '7f7e5c4a-1d2b-4c3d-9e8f-0a1b2c3d4e5f',
      functionName: 'scanTimer',
      subscriptions: 200,
      noncompliant: 12,
      durationMs: 5300.5,
      at: '2026-11-22T05:00:00.000Z',
    });
    expect(Object.keys(JSON.parse(lines[0]!.line)).slice(0, 3)).toEqual(['event', 'invocationId', 'functionName']);
  });

  it('keeps event and invocationId even when a field tries to replace them', () => {
    const { context, lines } = capture('inv-1', 'contactEvents');
    createLogger()(context, 'event.ignored', { event: 'forged', invocationId: 'forged', functionName: 'forged', reason: 'unknown type' });
    expect(JSON.parse(lines[0]!.line)).toEqual({
      event: 'event.ignored',
      invocationId: 'inv-1',
      functionName: 'contactEvents',
      reason: 'unknown type',
    });
  });

  it('sends failures to context.error and warnings to context.warn', () => {
    const { context, lines } = capture();
    const log = createLogger();
    log(context, 'alert.failed', { error: 'ACS answered 500' });
    log(context, 'event.dropped', { reason: 'malformed' });
    log(context, 'alert.pending', { pending: 2 });
    log(context, 'scan.started');
    expect(lines.map((line) => line.level)).toEqual(['error', 'warning', 'warning', 'information']);
    expect(JSON.parse(lines[3]!.line)).toEqual({
      event: 'scan.started',
      invocationId: '7f7e5c4a-1d2b-4c3d-9e8f-0a1b2c3d4e5f',
      functionName: 'scanTimer',
    });
  });

  it('never writes a connection string, a bearer token or an ACS access key, however deep', () => {
    const { context, lines } = capture();
    createLogger()(context, 'alert.failed', {
      storage: STORAGE_CONNECTION,
      note: `Authorization: Bearer ${JWT}`,
      bareJwt: JWT,
      sasUrl: 'https://cwstate.table.core.windows.net/subscriptions?sv=2022-11-02&sig=abcDEF%2Bghi%3D',
      request: {
        headers: { authorization: `Bearer ${JWT}`, 'x-ms-date': 'Sun, 22 Nov 2026 05:00:00 GMT' },
        acs: { connectionString: `endpoint=https://cw.communication.azure.com/;accesskey=${ACS_KEY}`, settings: [{ accessKey: ACS_KEY }] },
        tries: [`endpoint=https://cw.communication.azure.com/;accesskey=${ACS_KEY}`],
      },
      clientSecret: 'plain-looking-value',
      password: 'hunter2',
      subscriptionId: '00000000-0000-0000-0000-000000000001',
    });
    const line = lines[0]!.line;
    for (const secret of [STORAGE_KEY, ACS_KEY, JWT, 'abcDEF', 'plain-looking-value', 'hunter2']) expect(line).not.toContain(secret);
    const parsed = JSON.parse(line);
    expect(parsed.invocationId).toBe('7f7e5c4a-1d2b-4c3d-9e8f-0a1b2c3d4e5f');
    expect(parsed.storage).toBe(REDACTED);
    expect(parsed.note).toBe(REDACTED);
    expect(parsed.bareJwt).toBe(REDACTED);
    expect(parsed.sasUrl).toBe(REDACTED);
    expect(parsed.request.headers).toEqual({ authorization: REDACTED, 'x-ms-date': 'Sun, 22 Nov 2026 05:00:00 GMT' });
    expect(parsed.request.acs).toEqual({ connectionString: REDACTED, settings: [{ accessKey: REDACTED }] });
    expect(parsed.request.tries).toEqual([REDACTED]);
    expect(parsed.clientSecret).toBe(REDACTED);
    expect(parsed.subscriptionId).toBe('00000000-0000-0000-0000-000000000001');
  });

  it('never writes the password of a URL', () => {
    const { context, lines } = capture();
    createLogger()(context, 'scan.failed', {
      endpoint: 'https://operator:pa55-w0rd@cw-acs.communication.azure.com',
      plain: 'https://cw-acs.communication.azure.com:443/',
    });
    expect(lines[0]!.line).not.toContain('pa55-w0rd');
    expect(JSON.parse(lines[0]!.line)).toMatchObject({ endpoint: REDACTED, plain: 'https://cw-acs.communication.azure.com:443/' });
  });

  it('logs an error by its name, message and status, never its request or headers', () => {
    const { context, lines } = capture();
    const error = new RestError('The access token expiry UTC time is earlier than current UTC time.', {
      code: 'ExpiredAuthenticationToken',
      statusCode: 401,
    });
    Object.assign(error, { request: { headers: { authorization: `Bearer ${JWT}` } } });
    createLogger()(context, 'scan.failed', { error, wrapped: { cause: new Error(`could not open ${STORAGE_CONNECTION}`) } });
    const parsed = JSON.parse(lines[0]!.line);
    expect(lines[0]!.level).toBe('error');
    expect(parsed.error).toEqual({
      name: 'RestError',
      message: 'The access token expiry UTC time is earlier than current UTC time.',
      code: 'ExpiredAuthenticationToken',
      statusCode: 401,
    });
    expect(parsed.wrapped.cause).toEqual({ name: 'Error', message: REDACTED });
    expect(lines[0]!.line).not.toContain(JWT);
    expect(lines[0]!.line).not.toContain(STORAGE_KEY);
  });

  it('cuts cycles and leaves out what JSON cannot hold', () => {
    const looped: Record<string, unknown> = { name: 'a' };
    looped.self = looped;
    expect(redact({ looped, fn: () => 1, big: 10n, set: new Set(['x']), map: new Map([['k', 'v']]) })).toEqual({
      looped: { name: 'a', self: '[circular]' },
      big: '10',
      set: ['x'],
      map: { k: 'v' },
    });
  });
});
