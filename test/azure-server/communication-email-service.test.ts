/**
 * The local ACS Email service speaks the REST contract of the 2025-09-01 examples, and checks
 * authentication as ACS does: an SDK-signed request passes; the same signature over another body,
 * a forged hash, a stale date or a missing header do not.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { EmailClient, type EmailMessage } from '@azure/communication-email';
import { createDefaultHttpClient, type PipelineRequest } from '@azure/core-rest-pipeline';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLocalAzure, type LocalAzure } from './index.js';
import { createCommunicationEmailService, COMMUNICATION_RESOURCE, type CommunicationEmailService } from './services/communication-email.js';
import { azureExample } from '../support/fixtures.js';

const EXAMPLES = 'communication-email/2025-09-01';
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

const bearer = () => `Bearer ${azure.tokens.issue(COMMUNICATION_RESOURCE)}`;

async function post(body: unknown, headers: Record<string, string>): Promise<Response> {
  return fetch(`${azure.url}/emails:send?api-version=2025-09-01`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('local ACS Email service: REST contract', () => {
  it('accepts the SendEmail example: 202 with Operation-Location, retry-after and { id, status: Running }', async () => {
    const example = azureExample<any>(`${EXAMPLES}/SendEmail.json`);
    const operationId = example.parameters['operation-id'] as string;
    const response = await post(example.parameters.emailMessage, { authorization: bearer(), 'operation-id': operationId });
    expect(response.status).toBe(202);
    expect(response.headers.get('operation-location')).toBe(`${azure.url}/emails/operations/${operationId}?api-version=2025-09-01`);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(Object.keys(example.responses['202'].body).sort());
    expect(body).toEqual({ id: operationId, status: 'Running' });

    const [message] = mail.messages;
    expect(message).toMatchObject({
      operationId,
      auth: 'bearer',
      senderAddress: 'abc@domain.com',
      subject: 'An exciting offer especially for you!',
      headers: { ClientCorrelationId: '123', ClientCustomHeaderName: 'ClientCustomHeaderValue' },
    });
    expect(message!.to.map((a) => a.address)).toEqual(['john.doe@domain.com', 'jane.doe@domain2.com']);
    expect(message!.cc).toHaveLength(2);
    expect(message!.bcc).toHaveLength(2);
    expect(message!.replyTo).toEqual([{ address: 'contoso-support@contoso.com', displayName: 'Contoso Support' }]);
  });

  it('answers polls like the GetOperationStatus examples', async () => {
    const running = createCommunicationEmailService({ accessKey, runningPolls: 1 });
    const local = await startLocalAzure({ services: [running] });
    try {
      const operationId = randomUUID();
      running.faults.add({ kind: 'fail-delivery' });
      const token = `Bearer ${local.tokens.issue(COMMUNICATION_RESOURCE)}`;
      const message = azureExample<any>(`${EXAMPLES}/SendEmail.json`).parameters.emailMessage;
      await fetch(`${local.url}/emails:send?api-version=2025-09-01`, {
        method: 'POST',
        headers: { authorization: token, 'content-type': 'application/json', 'operation-id': operationId },
        body: JSON.stringify(message),
      });
      const poll = async () => {
        const response = await fetch(`${local.url}/emails/operations/${operationId}?api-version=2025-09-01`, {
          headers: { authorization: token },
        });
        return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json() };
      };
      const nonTerminal = azureExample<any>(`${EXAMPLES}/GetOperationStatusReturnsNonTerminalStatus.json`).responses['200'];
      const failed = azureExample<any>(`${EXAMPLES}/GetOperationStatusReturnsFailedTerminalStatus.json`).responses['200'];
      const first = await poll();
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ ...nonTerminal.body, id: operationId });
      expect(first.retryAfter).not.toBeNull();
      const second = await poll();
      expect(second.body).toEqual({ ...failed.body, id: operationId });
      expect(running.messages[0]!.status).toBe('Failed');

      const unknown = await fetch(`${local.url}/emails/operations/${randomUUID()}?api-version=2025-09-01`, {
        headers: { authorization: token },
      });
      expect(unknown.status).toBe(404);
    } finally {
      await local.close();
    }
  });

  it('treats a repeated Operation-Id as the same operation and stores no second message', async () => {
    const operationId = randomUUID();
    const body = azureExample<any>(`${EXAMPLES}/SendEmail.json`).parameters.emailMessage;
    const first = await post(body, { authorization: bearer(), 'operation-id': operationId });
    const second = await post(
      { ...body, content: { subject: 'changed', plainText: 'changed' } },
      { authorization: bearer(), 'operation-id': operationId },
    );
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(((await second.json()) as { id: string }).id).toBe(operationId);
    expect(mail.messages).toHaveLength(1);
    expect(mail.messages[0]!.subject).toBe('An exciting offer especially for you!');
    expect(mail.sendAttempts.map((a) => a.outcome)).toEqual(['accepted', 'repeated']);
  });

  it('forgets messages and attempts on forgetContent but still answers a repeated Operation-Id as repeated', async () => {
    const body = azureExample<any>(`${EXAMPLES}/SendEmail.json`).parameters.emailMessage;
    const earlier = randomUUID();
    expect((await post(body, { authorization: bearer(), 'operation-id': earlier })).status).toBe(202);
    expect(mail.messages).toHaveLength(1);

    mail.forgetContent();
    expect(mail.messages).toEqual([]);
    expect(mail.sendAttempts).toEqual([]);

    const repeated = await post(
      { ...body, content: { subject: 'changed', plainText: 'changed' } },
      { authorization: bearer(), 'operation-id': earlier },
    );
    expect(repeated.status).toBe(202);
    expect(((await repeated.json()) as { id: string }).id).toBe(earlier);
    expect(mail.messages).toEqual([]);

    const later = randomUUID();
    const fresh = await post(
      { ...body, content: { subject: 'After forgetting', plainText: 'still delivered' } },
      { authorization: bearer(), 'operation-id': later },
    );
    expect(fresh.status).toBe(202);
    expect(mail.sendAttempts.map((a) => a.outcome)).toEqual(['repeated', 'accepted']);
    expect(mail.messages).toHaveLength(1);
    expect(mail.messages[0]).toMatchObject({ operationId: later, subject: 'After forgetting', plainText: 'still delivered' });
  });

  it('refuses bodies ACS refuses: no recipient, a subject with CR/LF, a wrong api-version', async () => {
    const body = azureExample<any>(`${EXAMPLES}/SendEmail.json`).parameters.emailMessage;
    expect((await post({ ...body, recipients: { to: [] } }, { authorization: bearer() })).status).toBe(400);
    expect(
      (await post({ ...body, content: { subject: 'a\r\nBcc: x@evil.test', plainText: 'x' } }, { authorization: bearer() })).status,
    ).toBe(400);
    const wrongVersion = await fetch(`${azure.url}/emails:send?api-version=2021-10-01-preview`, {
      method: 'POST',
      headers: { authorization: bearer(), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(wrongVersion.status).toBe(400);
    expect(mail.messages).toHaveLength(0);
  });
});

describe('local ACS Email service: authentication', () => {
  /** Sends one message with the SDK (HMAC) and returns the request exactly as it went on the wire. */
  async function signedBySdk(): Promise<PipelineRequest> {
    const transport = createDefaultHttpClient();
    let captured: PipelineRequest | undefined;
    const client = new EmailClient(mail.connectionString(azure.url), {
      httpClient: {
        sendRequest: async (request) => {
          if (request.method === 'POST') captured = request;
          return transport.sendRequest(request);
        },
      },
    });
    const message: EmailMessage = {
      senderAddress: 'DoNotReply@alerts.fabrikam.io',
      content: { subject: 's', plainText: 'hello' },
      recipients: { to: [{ address: 'secops@fabrikam.io' }] },
    };
    const poller = await client.beginSend(message, { operationId: randomUUID(), updateIntervalInMs: 1 });
    await poller.pollUntilDone();
    return captured!;
  }

  function headersOf(request: PipelineRequest): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const [name, value] of request.headers) {
      const lower = name.toLowerCase();
      if (lower !== 'host' && lower !== 'content-length') headers[lower] = value;
    }
    return headers;
  }

  it('accepts what the SDK signs with the access key', async () => {
    const request = await signedBySdk();
    expect(request.headers.get('authorization')).toMatch(/^HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=/);
    expect(mail.messages.map((m) => m.auth)).toEqual(['hmac']);
  });

  it('refuses the same signature over another body, a forged hash, a stale date, or no Authorization', async () => {
    const request = await signedBySdk();
    const headers = headersOf(request);
    const original = request.body as string;
    const tampered = original.replace('hello', 'HELLO');
    const operation = { 'operation-id': randomUUID() };

    const refusal = async (response: Response) => ({
      status: response.status,
      message: ((await response.json()) as { error: { message: string } }).error.message,
    });

    // The body changed, the hash header did not.
    expect(await refusal(await post(tampered, { ...headers, ...operation }))).toEqual({
      status: 401,
      message: 'x-ms-content-sha256 does not match the body.',
    });
    // The hash header made to match the new body: the signature no longer matches.
    const forgedHash = createHash('sha256').update(tampered).digest('base64');
    expect(await refusal(await post(tampered, { ...headers, ...operation, 'x-ms-content-sha256': forgedHash }))).toEqual({
      status: 401,
      message: 'The request signature does not match.',
    });
    // A date far from now (replayed later) is refused even when everything else matches.
    const stale = new Date(Date.now() - 3600_000).toUTCString();
    expect(await refusal(await post(original, { ...headers, ...operation, 'x-ms-date': stale }))).toEqual({
      status: 401,
      message: 'x-ms-date is missing or too far from the current time.',
    });
    // No credentials at all.
    expect((await post(original, { 'content-type': 'application/json' })).status).toBe(401);
    // The untouched request is accepted (the refusals above were about the changes).
    expect((await post(original, { ...headers, ...operation })).status).toBe(202);
    expect(mail.sendAttempts.slice(1, 5).map((a) => a.outcome)).toEqual([401, 401, 401, 401]);
  });

  it('refuses a bearer token issued for another resource', async () => {
    const body = azureExample<any>(`${EXAMPLES}/SendEmail.json`).parameters.emailMessage;
    const response = await post(body, { authorization: `Bearer ${azure.tokens.issue(azure.url)}` });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('Denied');
  });

  it('can be limited to one kind of authentication', async () => {
    const hmacOnly = createCommunicationEmailService({ accessKey, auth: 'hmac' });
    const local = await startLocalAzure({ services: [hmacOnly] });
    try {
      const body = azureExample<any>(`${EXAMPLES}/SendEmail.json`).parameters.emailMessage;
      const response = await fetch(`${local.url}/emails:send?api-version=2025-09-01`, {
        method: 'POST',
        headers: { authorization: `Bearer ${local.tokens.issue(COMMUNICATION_RESOURCE)}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(401);
    } finally {
      await local.close();
    }
  });
});
