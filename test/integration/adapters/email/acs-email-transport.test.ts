/**
 * The real @azure/communication-email client against the local ACS Email service: the mail
 * transport's contract (test/contract/email-sender.contract.ts: the Operation-Id and its reuse,
 * throttling, refusals, Failed deliveries), and what only the ACS transport has — HMAC and bearer
 * authentication, every form of Retry-After, dropped connections and bounded polling.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLocalAzure, type LocalAzure } from '../../../azure-server/index.js';
import { defaultCredentialFor } from '../../../azure-server/sdk-clients.js';
import { createCommunicationEmailService, type CommunicationEmailService } from '../../../azure-server/services/communication-email.js';
import {
  AcsEmailTransport,
  parseAcsConnectionString,
  type AcsEmailTransportOptions,
} from '../../../../src/adapters/email/acs-email-sender.js';
import { redactSecrets } from '../../../../src/core/secret-text.js';
import { EMAIL, emailSenderContract } from '../../../contract/email-sender.contract.js';

const SENDER = 'DoNotReply@contoso-alerts.example.net';
/**
 * Quick polls and retries. maxPollWaitMs is a bound only a broken service reaches: a send polls
 * until the service's verdict, so a slow machine never turns a delivered message into a running one.
 */
const FAST = { pollIntervalMs: 5, maxPollWaitMs: 20_000, retry: { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 } };

let azure: LocalAzure;
let mail: CommunicationEmailService;
const accessKey = randomBytes(32).toString('base64');

beforeAll(async () => {
  mail = createCommunicationEmailService({ accessKey });
  azure = await startLocalAzure({ services: [mail] });
});
afterAll(async () => {
  await azure?.close();
});
beforeEach(() => mail.reset());

function hmacTransport(overrides: Partial<AcsEmailTransportOptions> = {}): AcsEmailTransport {
  return new AcsEmailTransport({
    connection: { connectionString: mail.connectionString(azure.url) },
    senderAddress: SENDER,
    ...FAST,
    ...overrides,
  });
}

emailSenderContract({
  name: 'ACS transport, local ACS Email service',
  senderAddress: SENDER,
  transport: () => hmacTransport(),
  messages: () => mail.messages,
  sendAttempts: () => mail.sendAttempts.map((attempt) => ({ operationId: attempt.operationIdHeader, outcome: attempt.outcome })),
  throttleNextSend: (retryAfterSeconds) => mail.faults.add({ kind: 'throttle', retryAfterSeconds }),
  refuseNextSend: (status, code) => mail.faults.add({ kind: 'refuse', status, code }),
  failNextDelivery: () => mail.faults.add({ kind: 'fail-delivery' }),
  reset: () => mail.reset(),
});

describe('ACS Email transport against the local service', () => {
  it('sends with HMAC, signed with the access key', async () => {
    const outcome = await hmacTransport().send(EMAIL, randomUUID());
    expect(outcome).toMatchObject({ kind: 'succeeded' });
    expect(mail.messages.map((m) => m.auth)).toEqual(['hmac']);
  });

  it('sends with a managed identity token for https://communication.azure.com', async () => {
    const transport = new AcsEmailTransport({
      connection: { endpoint: azure.url, credential: defaultCredentialFor(azure) },
      senderAddress: SENDER,
      ...FAST,
    });
    const outcome = await transport.send(EMAIL, randomUUID());
    expect(outcome).toMatchObject({ kind: 'succeeded' });
    expect(mail.messages.map((m) => m.auth)).toEqual(['bearer']);
  });

  it('is refused with a wrong access key, and the key appears in no error', async () => {
    const wrongKey = randomBytes(32).toString('base64');
    const transport = hmacTransport({ connection: { connectionString: `endpoint=${azure.url}/;accesskey=${wrongKey}` } });
    const outcome = await transport.send(EMAIL, randomUUID());
    expect(outcome.kind).toBe('error');
    expect(outcome.kind === 'error' && outcome.error).toContain('401');
    expect(JSON.stringify(outcome)).not.toContain(wrongKey);
    expect(mail.messages).toHaveLength(0);
    expect(mail.sendAttempts[0]?.auth).toBe('invalid');
  });

  it('is refused with a token for another audience', async () => {
    const token = azure.tokens.issue(azure.url);
    const credential = { getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }) };
    const transport = new AcsEmailTransport({ connection: { endpoint: azure.url, credential }, senderAddress: SENDER, ...FAST });
    const outcome = await transport.send(EMAIL, randomUUID());
    expect(outcome.kind).toBe('error');
    expect(mail.messages).toHaveLength(0);
  });

  it('retries a dropped connection with the same Operation-Id and the service keeps one message', async () => {
    mail.faults.add({ kind: 'drop', when: 'after-accept' });
    const operationId = randomUUID();
    const outcome = await hmacTransport().send(EMAIL, operationId);
    expect(outcome.kind).toBe('succeeded');
    expect(mail.sendAttempts.map((a) => [a.operationIdHeader, a.outcome])).toEqual([
      [operationId, 'accepted'],
      [operationId, 'repeated'],
    ]);
    expect(mail.messages).toHaveLength(1);
  });

  describe('reads every form of wait the service may name, and never waits longer than one hour', () => {
    const HOUR = 3_600_000;
    // The service's clock, as its Date header gives it: an HTTP-date Retry-After counts from it.
    const serviceNow = 'Mon, 02 Jun 2025 08:00:00 GMT';
    const cases: { name: string; status?: number; retryAfter?: string | null; headers?: Record<string, string>; waitMs: number }[] = [
      { name: 'seconds', retryAfter: '120', waitMs: 120_000 },
      { name: 'zero seconds', retryAfter: '0', waitMs: 0 },
      { name: 'fractional seconds', retryAfter: '1.5', waitMs: 1500 },
      { name: 'exactly one hour', retryAfter: '3600', waitMs: HOUR },
      { name: 'one second over the hour', retryAfter: '3601', waitMs: HOUR },
      { name: '1e9 seconds (31 years)', retryAfter: '1e9', waitMs: HOUR },
      { name: '1e20 seconds (past the last valid date)', retryAfter: '1e20', waitMs: HOUR },
      { name: '1e400 seconds (not even a finite number)', retryAfter: '1e400', waitMs: HOUR },
      {
        name: 'an HTTP date 90 s after the service clock',
        retryAfter: 'Mon, 02 Jun 2025 08:01:30 GMT',
        headers: { date: serviceNow },
        waitMs: 90_000,
      },
      { name: 'an HTTP date two days ahead', retryAfter: 'Wed, 04 Jun 2025 08:00:00 GMT', headers: { date: serviceNow }, waitMs: HOUR },
      { name: 'an HTTP date in the past', retryAfter: 'Sun, 01 Jun 2025 08:00:00 GMT', headers: { date: serviceNow }, waitMs: 0 },
      { name: 'an obsolete RFC 850 date', retryAfter: 'Monday, 02-Jun-25 08:00:30 GMT', headers: { date: serviceNow }, waitMs: 30_000 },
      { name: 'an asctime date', retryAfter: 'Mon Jun  2 08:00:45 2025', headers: { date: serviceNow }, waitMs: 45_000 },
      { name: 'a date in the year 99999', retryAfter: 'Sat, 01 Jan 99999 00:00:00 GMT', headers: { date: serviceNow }, waitMs: 60_000 },
      { name: 'a negative number', retryAfter: '-5', waitMs: 60_000 },
      { name: 'a word', retryAfter: 'soon', waitMs: 60_000 },
      { name: 'Infinity', retryAfter: 'Infinity', waitMs: 60_000 },
      { name: 'NaN', retryAfter: 'NaN', waitMs: 60_000 },
      { name: 'an empty value', retryAfter: '', waitMs: 60_000 },
      { name: 'no Retry-After at all', retryAfter: null, waitMs: 60_000 },
      { name: 'retry-after-ms', retryAfter: null, headers: { 'retry-after-ms': '1500' }, waitMs: 1500 },
      { name: 'x-ms-retry-after-ms of 1e12', retryAfter: null, headers: { 'x-ms-retry-after-ms': '1e12' }, waitMs: HOUR },
      {
        name: 'retry-after-ms before Retry-After (as the SDK reads them)',
        retryAfter: '1e9',
        headers: { 'retry-after-ms': '2500' },
        waitMs: 2500,
      },
      {
        name: 'a 503 naming its wait only in retry-after-ms',
        status: 503,
        retryAfter: null,
        headers: { 'retry-after-ms': '2500' },
        waitMs: 2500,
      },
      { name: 'a 503 with a Retry-After of 1e20', status: 503, retryAfter: '1e20', waitMs: HOUR },
    ];
    it.each(cases)('$name', async ({ status, retryAfter, headers, waitMs }) => {
      mail.faults.add({ kind: 'throttle', ...(status ? { status } : {}), retryAfter: retryAfter ?? null, ...(headers ? { headers } : {}) });
      const outcome = await hmacTransport().send(EMAIL, randomUUID());
      expect(outcome).toMatchObject({ kind: 'throttled', retryAfterMs: waitMs, accepted: false });
      expect(outcome.kind === 'throttled' && outcome.error).toMatch(/^the service answered (429|503) \(throttled\); retry after /);
      // Stopped on the first answer: the SDK did not wait inside the send.
      expect(mail.sendAttempts).toHaveLength(1);
      expect(mail.messages).toHaveLength(0);
    });
  });

  it('leaves a long-running operation to be polled later, without sending again', async () => {
    const slow = createCommunicationEmailService({ accessKey, runningPolls: 1000 });
    const local = await startLocalAzure({ services: [slow] });
    try {
      const transport = new AcsEmailTransport({
        connection: { connectionString: slow.connectionString(local.url) },
        senderAddress: SENDER,
        ...FAST,
        maxPollWaitMs: 50,
      });
      const operationId = randomUUID();
      const first = await transport.send(EMAIL, operationId);
      expect(first.kind).toBe('running');
      if (first.kind !== 'running') return;
      expect(first.resumeState).toBeTruthy();
      expect(slow.messages).toHaveLength(1);
      // The next run polls the operation it saved; no second POST.
      const second = await transport.send(EMAIL, operationId, { resumeState: first.resumeState });
      expect(second.kind).toBe('running');
      expect(slow.sendAttempts).toHaveLength(1);
    } finally {
      await local.close();
    }
  });

  it('writes the accepted messages as files a person can open', async () => {
    await hmacTransport().send({ ...EMAIL, html: '<html><body><h1>Alert</h1></body></html>' }, randomUUID());
    const dir = await mkdtemp(join(tmpdir(), 'contact-watch-mail-'));
    try {
      const files = await mail.writeMessagesTo(dir);
      expect(files.map((f) => f.slice(-4))).toEqual(['html', '.txt', '.eml']);
      expect(await readFile(files[0]!, 'utf8')).toContain('<h1>Alert</h1>');
      const eml = await readFile(files[2]!, 'utf8');
      expect(eml).toContain(`Subject: ${EMAIL.subject}`);
      expect(eml).toContain('Content-Type: multipart/alternative');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('ACS connection strings', () => {
  it('parses endpoint and accesskey and never echoes the value in an error', () => {
    const key = randomBytes(32).toString('base64');
    expect(parseAcsConnectionString(`endpoint=https://cw.communication.azure.com/;accesskey=${key}`)).toEqual({
      endpoint: 'https://cw.communication.azure.com',
      accessKey: key,
    });
    for (const bad of [
      `accesskey=${key}`,
      `endpoint=ftp://x;accesskey=${key}`,
      `endpoint=https://x/path;accesskey=${key}`,
      `endpoint=http://cw.example.com/;accesskey=${key}`,
    ]) {
      let message = '';
      try {
        parseAcsConnectionString(bad);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain('CONTACT_WATCH_ACS_CONNECTION_STRING');
      expect(message).not.toContain(key);
    }
    expect(redactSecrets(`endpoint=https://x/;accesskey=${key} HMAC-SHA256 SignedHeaders=a&Signature=abc+/=`)).not.toMatch(
      /abc\+|accesskey=[^<]/,
    );
  });
});
