/**
 * A local Azure Communication Services Email endpoint (data plane, api-version 2025-09-01), as
 * the REST examples in test/fixtures/azure-examples/communication-email/2025-09-01 show it:
 *
 *   POST /emails:send?api-version=…            202, `Operation-Location`, `retry-after`, `{ id, status: "Running" }`
 *   GET  /emails/operations/{id}?api-version=… 200 `{ id, status }`: Running, then Succeeded (or Failed/EmailDropped)
 *
 * Authentication is checked as ACS checks it: either HMAC-SHA256 (the signature over
 * `VERB\npath?query\n<x-ms-date>;<host>;<x-ms-content-sha256>` with the access key, the content
 * hash matching the body, a fresh `x-ms-date`) or a bearer token issued for
 * `https://communication.azure.com`.
 *
 * The `Operation-Id` header is the idempotency key: a repeated id answers with the existing
 * operation and stores no second message. Every accepted message is kept (`messages`) and can be
 * written out as files a person can open (`writeMessagesTo`). Faults are scripted through `faults`.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalRequest, LocalService, LocalTokens } from '../types.js';
import { dropConnection, ScriptedFaults, sendJson } from './scripted-faults.js';

export const COMMUNICATION_EMAIL_API_VERSION = '2025-09-01';
/** The audience of bearer tokens for ACS (the SDK asks for `https://communication.azure.com//.default`). */
export const COMMUNICATION_RESOURCE = 'https://communication.azure.com';
/** ACS refuses requests larger than 10 MB. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
/** How far `x-ms-date` may be from the server's clock. */
const MAX_CLOCK_SKEW_MS = 15 * 60_000;

export interface EmailAddressValue {
  address: string;
  displayName?: string;
}

export interface AcceptedEmail {
  /** The operation id (the client's `Operation-Id`, or one the service made up). */
  operationId: string;
  receivedAt: string;
  /** How the request that was accepted authenticated. */
  auth: 'hmac' | 'bearer';
  senderAddress: string;
  to: EmailAddressValue[];
  cc: EmailAddressValue[];
  bcc: EmailAddressValue[];
  replyTo: EmailAddressValue[];
  subject: string;
  html?: string;
  plainText?: string;
  /** Custom headers the client asked for (`message.headers`). */
  headers: Record<string, string>;
  /** Status of its operation now. */
  status: 'Running' | 'Succeeded' | 'Failed' | 'Canceled';
}

/** One POST /emails:send as it arrived, accepted or not (to check what the SDK sent). */
export interface SendAttempt {
  operationIdHeader: string | undefined;
  auth: 'hmac' | 'bearer' | 'none' | 'invalid';
  /** What happened: 202 accepted (new), 202 repeated (same Operation-Id), an error status, or dropped. */
  outcome: 'accepted' | 'repeated' | 'dropped' | number;
  at: string;
}

/**
 * Scripted faults. Faults on POST /emails:send (`throttle`, `drop`, `refuse`) apply in the order
 * they were added; `skip` lets that many sends through before the fault starts; `operationId`
 * limits the fault to the sends carrying that `Operation-Id` (one message the service keeps
 * refusing while others go through).
 */
export type EmailFault =
  /**
   * The next POSTs are answered 429 (or the given status) with `Retry-After: <retryAfterSeconds>`
   * (default 1). `retryAfter` sends that exact header value instead (an HTTP date, garbage, `1e20`),
   * or no `Retry-After` at all when null; `headers` adds others (`retry-after-ms`,
   * `x-ms-retry-after-ms`, or a `date` of the service's clock for an HTTP-date `Retry-After`).
   */
  | {
      kind: 'throttle';
      times?: number;
      skip?: number;
      operationId?: string;
      retryAfterSeconds?: number;
      retryAfter?: string | null;
      headers?: Record<string, string>;
      status?: number;
    }
  /**
   * The next POSTs lose their connection. `before-accept`: nothing is stored; `after-accept`:
   * the message is accepted and stored, then the socket is destroyed before the answer.
   */
  | { kind: 'drop'; times?: number; skip?: number; operationId?: string; when?: 'before-accept' | 'after-accept' }
  /** The next POSTs are refused with this status (default 400) and error code, nothing stored. */
  | { kind: 'refuse'; times?: number; skip?: number; operationId?: string; status?: number; code?: string }
  /** The next accepted messages end `Failed` with error `EmailDropped`. */
  | { kind: 'fail-delivery'; times?: number }
  /** The next operation polls are answered 429 with `Retry-After`. */
  | { kind: 'throttle-poll'; times?: number; retryAfterSeconds?: number };

export interface EmailFaults {
  add(fault: EmailFault): void;
  clear(): void;
  /** Faults not yet used up. */
  pending(): readonly (EmailFault & { remaining: number })[];
}

export interface CommunicationEmailServiceOptions {
  /** The access key (base64) of the connection string; HMAC requests are refused without one. */
  accessKey?: string;
  /** Which authentication is accepted (default both). */
  auth?: 'hmac' | 'bearer' | 'either';
  /** How many polls answer `Running` before the operation ends (default 0: the first poll sees the end). */
  runningPolls?: number;
  /** `retry-after` (seconds) on the 202 and on `Running` polls (default 1). */
  retryAfterSeconds?: number;
  /** Addresses the service accepts as sender (default: any address). */
  senderAddresses?: string[];
}

export interface CommunicationEmailService extends LocalService {
  /** Every message accepted, in order (a repeated Operation-Id adds nothing). */
  readonly messages: AcceptedEmail[];
  /** Every POST /emails:send that reached the service. */
  readonly sendAttempts: SendAttempt[];
  readonly faults: EmailFaults;
  /** The connection string a client uses for this service at `endpoint` (the local server's URL). */
  connectionString(endpoint: string): string;
  /** Writes each message as `.html`, `.txt` and `.eml` files into `dir`; returns the paths written. */
  writeMessagesTo(dir: string): Promise<string[]>;
  /** Forgets every message, operation, attempt and fault. */
  reset(): void;
  /**
   * Forgets the messages and attempts listed so far and the text of every message, but keeps each
   * operation, so a repeated Operation-Id is still answered as such: what a long simulation calls
   * once it has read the messages, so that memory does not grow with the mail sent.
   */
  forgetContent(): void;
}

interface Operation {
  id: string;
  status: AcceptedEmail['status'];
  pollsLeft: number;
  willFail: boolean;
  message: AcceptedEmail;
}

function acsError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { code, message } }, headers);
}

type AuthResult = { ok: true; auth: 'hmac' | 'bearer' } | { ok: false; auth: 'none' | 'invalid'; message: string };

function checkHmac(req: LocalRequest, accessKey: string | undefined): AuthResult {
  const header = String(req.headers.authorization ?? '');
  const match = /^HMAC-SHA256 SignedHeaders=([^&]+)&Signature=(.+)$/.exec(header);
  if (!match) return { ok: false, auth: 'invalid', message: 'Malformed HMAC-SHA256 authorization header.' };
  if (!accessKey) return { ok: false, auth: 'invalid', message: 'HMAC authentication is not enabled for this resource.' };
  const signedHeaders = match[1]!.toLowerCase().split(';');
  if (signedHeaders.join(';') !== 'x-ms-date;host;x-ms-content-sha256') {
    return { ok: false, auth: 'invalid', message: `SignedHeaders must be x-ms-date;host;x-ms-content-sha256, got ${match[1]}.` };
  }
  const date = String(req.headers['x-ms-date'] ?? '');
  const host = String(req.headers.host ?? '');
  const contentHash = String(req.headers['x-ms-content-sha256'] ?? '');
  const dateMs = Date.parse(date);
  if (Number.isNaN(dateMs) || Math.abs(Date.now() - dateMs) > MAX_CLOCK_SKEW_MS) {
    return { ok: false, auth: 'invalid', message: 'x-ms-date is missing or too far from the current time.' };
  }
  const actualHash = createHash('sha256').update(req.body).digest('base64');
  if (contentHash !== actualHash) return { ok: false, auth: 'invalid', message: 'x-ms-content-sha256 does not match the body.' };
  const query = req.url.searchParams.toString();
  const pathAndQuery = query ? `${req.url.pathname}?${query}` : req.url.pathname;
  const stringToSign = `${req.method.toUpperCase()}\n${pathAndQuery}\n${date};${host};${contentHash}`;
  const expected = createHmac('sha256', Buffer.from(accessKey, 'base64')).update(stringToSign).digest();
  const given = Buffer.from(match[2]!, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, auth: 'invalid', message: 'The request signature does not match.' };
  }
  return { ok: true, auth: 'hmac' };
}

function authenticate(req: LocalRequest, tokens: LocalTokens, options: CommunicationEmailServiceOptions): AuthResult {
  const header = req.headers.authorization;
  const mode = options.auth ?? 'either';
  if (!header) return { ok: false, auth: 'none', message: 'The Authorization header is missing.' };
  if (/^HMAC-SHA256 /.test(header)) {
    if (mode === 'bearer') return { ok: false, auth: 'invalid', message: 'HMAC authentication is disabled for this resource.' };
    return checkHmac(req, options.accessKey);
  }
  if (/^Bearer /i.test(header)) {
    if (mode === 'hmac') return { ok: false, auth: 'invalid', message: 'Entra ID authentication is disabled for this resource.' };
    return tokens.isValid(header, COMMUNICATION_RESOURCE)
      ? { ok: true, auth: 'bearer' }
      : { ok: false, auth: 'invalid', message: `The bearer token is not valid for ${COMMUNICATION_RESOURCE}.` };
  }
  return { ok: false, auth: 'invalid', message: 'Unsupported authorization scheme.' };
}

function addresses(value: unknown): EmailAddressValue[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((item): item is { address: string; displayName?: unknown } => typeof item?.address === 'string')
    .map((item) =>
      typeof item.displayName === 'string' ? { address: item.address, displayName: item.displayName } : { address: item.address },
    );
}

/** Parses the send body; returns an error message for a body ACS would refuse. */
function parseMessage(
  body: Buffer,
): { ok: true; value: Omit<AcceptedEmail, 'operationId' | 'receivedAt' | 'auth' | 'status'> } | { ok: false; message: string } {
  let json: any;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, message: 'The request body is not JSON.' };
  }
  if (typeof json?.senderAddress !== 'string' || !json.senderAddress) return { ok: false, message: 'senderAddress is required.' };
  const content = json.content;
  if (typeof content?.subject !== 'string') return { ok: false, message: 'content.subject is required.' };
  if (/[\r\n]/.test(content.subject)) return { ok: false, message: 'content.subject must not contain CR or LF.' };
  if (typeof content.html !== 'string' && typeof content.plainText !== 'string') {
    return { ok: false, message: 'content.html or content.plainText is required.' };
  }
  const to = addresses(json.recipients?.to);
  const cc = addresses(json.recipients?.cc);
  const bcc = addresses(json.recipients?.bcc);
  if (to.length + cc.length + bcc.length === 0) return { ok: false, message: 'At least one recipient is required.' };
  if (to.length + cc.length + bcc.length > 50) return { ok: false, message: 'A message may have at most 50 recipients.' };
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(json.headers ?? {})) {
    if (typeof value !== 'string' || /[\r\n]/.test(name) || /[\r\n]/.test(value)) {
      return { ok: false, message: `Custom header ${JSON.stringify(name)} is not a single-line string.` };
    }
    headers[name] = value;
  }
  return {
    ok: true,
    value: {
      senderAddress: json.senderAddress,
      to,
      cc,
      bcc,
      replyTo: addresses(json.replyTo),
      subject: content.subject,
      ...(typeof content.html === 'string' ? { html: content.html } : {}),
      ...(typeof content.plainText === 'string' ? { plainText: content.plainText } : {}),
      headers,
    },
  };
}

export function createCommunicationEmailService(options: CommunicationEmailServiceOptions = {}): CommunicationEmailService {
  const messages: AcceptedEmail[] = [];
  const sendAttempts: SendAttempt[] = [];
  const operations = new Map<string, Operation>();
  // The operations whose message still holds its html/plainText: what forgetContent has to strip.
  // Kept apart so that each call costs the operations created since the last one, not every
  // operation of a long run.
  const operationsWithContent: Operation[] = [];
  const faults = new ScriptedFaults<EmailFault>();
  const retryAfter = String(options.retryAfterSeconds ?? 1);

  const takeFault = <K extends EmailFault['kind']>(kinds: K[], operationId?: string): Extract<EmailFault, { kind: K }> | undefined =>
    faults.take(
      (fault) =>
        (kinds as string[]).includes(fault.kind) &&
        (!('operationId' in fault) || fault.operationId === undefined || fault.operationId.toLowerCase() === operationId?.toLowerCase()),
    ) as Extract<EmailFault, { kind: K }> | undefined;

  const operationBody = (op: Operation) =>
    op.status === 'Failed'
      ? { id: op.id, status: op.status, error: { code: 'EmailDropped', message: 'Email was dropped after several attempts to deliver.' } }
      : { id: op.id, status: op.status };

  const handleSend = (req: LocalRequest, res: ServerResponse, tokens: LocalTokens, baseUrl: string): void => {
    const operationIdHeader = typeof req.headers['operation-id'] === 'string' ? req.headers['operation-id'] : undefined;
    const attempt: SendAttempt = { operationIdHeader, auth: 'none', outcome: 0, at: new Date().toISOString() };
    sendAttempts.push(attempt);
    const auth = authenticate(req, tokens, options);
    attempt.auth = auth.auth;
    if (!auth.ok) {
      attempt.outcome = 401;
      acsError(res, 401, 'Denied', auth.message);
      return;
    }
    if (req.url.searchParams.get('api-version') !== COMMUNICATION_EMAIL_API_VERSION) {
      attempt.outcome = 400;
      acsError(res, 400, 'InvalidApiVersion', `Use api-version ${COMMUNICATION_EMAIL_API_VERSION}.`);
      return;
    }
    const fault = takeFault(['throttle', 'drop', 'refuse'], operationIdHeader);
    const throttle = fault?.kind === 'throttle' ? fault : undefined;
    const drop = fault?.kind === 'drop' ? fault : undefined;
    if (throttle) {
      const status = throttle.status ?? 429;
      attempt.outcome = status;
      const retryAfterHeader = throttle.retryAfter === undefined ? String(throttle.retryAfterSeconds ?? 1) : throttle.retryAfter;
      acsError(res, status, 'TooManyRequests', 'Too many requests; retry after the time in Retry-After.', {
        ...(retryAfterHeader === null ? {} : { 'retry-after': retryAfterHeader }),
        ...throttle.headers,
      });
      return;
    }
    if (fault?.kind === 'refuse') {
      const status = fault.status ?? 400;
      attempt.outcome = status;
      acsError(res, status, fault.code ?? 'BadRequest', 'The request was refused (scripted).');
      return;
    }
    if (drop && (drop.when ?? 'before-accept') === 'before-accept') {
      attempt.outcome = 'dropped';
      dropConnection(res);
      return;
    }
    if (req.body.length > MAX_REQUEST_BYTES) {
      attempt.outcome = 413;
      acsError(res, 413, 'RequestEntityTooLarge', 'The request is larger than 10 MB.');
      return;
    }
    if (operationIdHeader !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(operationIdHeader)) {
      attempt.outcome = 400;
      acsError(res, 400, 'InvalidOperationId', 'Operation-Id must be a UUID.');
      return;
    }
    const id = (operationIdHeader ?? randomUUID()).toLowerCase();
    const existing = operations.get(id);
    const location = `${baseUrl}/emails/operations/${id}?api-version=${COMMUNICATION_EMAIL_API_VERSION}`;
    if (existing) {
      // Idempotency: the same Operation-Id is the same operation; nothing new is stored or sent.
      attempt.outcome = 'repeated';
      if (drop) return dropConnection(res);
      sendJson(res, 202, operationBody(existing), { 'operation-location': location, 'retry-after': retryAfter });
      return;
    }
    const parsed = parseMessage(req.body);
    if (!parsed.ok) {
      attempt.outcome = 400;
      acsError(res, 400, 'BadRequest', parsed.message);
      return;
    }
    if (options.senderAddresses && !options.senderAddresses.includes(parsed.value.senderAddress)) {
      attempt.outcome = 400;
      acsError(res, 400, 'InvalidSenderAddress', 'The sender address is not from a verified domain of this resource.');
      return;
    }
    const message: AcceptedEmail = {
      operationId: id,
      receivedAt: new Date().toISOString(),
      auth: auth.auth,
      status: 'Running',
      ...parsed.value,
    };
    const op: Operation = {
      id,
      status: 'Running',
      pollsLeft: options.runningPolls ?? 0,
      willFail: Boolean(takeFault(['fail-delivery'])),
      message,
    };
    operations.set(id, op);
    operationsWithContent.push(op);
    messages.push(message);
    attempt.outcome = 'accepted';
    if (drop) return dropConnection(res);
    sendJson(res, 202, operationBody(op), { 'operation-location': location, 'retry-after': retryAfter });
  };

  const handlePoll = (req: LocalRequest, res: ServerResponse, tokens: LocalTokens, id: string): void => {
    const auth = authenticate(req, tokens, options);
    if (!auth.ok) return acsError(res, 401, 'Denied', auth.message);
    const throttle = takeFault(['throttle-poll']);
    if (throttle) {
      return acsError(res, 429, 'TooManyRequests', 'Too many requests.', { 'retry-after': String(throttle.retryAfterSeconds ?? 1) });
    }
    const op = operations.get(id.toLowerCase());
    if (!op) return acsError(res, 404, 'NotFound', `Operation ${id} was not found.`);
    if (op.status === 'Running') {
      if (op.pollsLeft > 0) op.pollsLeft -= 1;
      else op.status = op.willFail ? 'Failed' : 'Succeeded';
      op.message.status = op.status;
    }
    sendJson(res, 200, operationBody(op), op.status === 'Running' ? { 'retry-after': retryAfter } : {});
  };

  return {
    name: 'communication-email',
    messages,
    sendAttempts,
    faults,
    handle(req, res, ctx) {
      const path = req.url.pathname;
      if (path === '/emails:send' || path === '/emails%3Asend') {
        if (req.method !== 'POST') {
          acsError(res, 405, 'MethodNotAllowed', 'Use POST.');
          return true;
        }
        handleSend(req, res, ctx.tokens, ctx.url);
        return true;
      }
      const poll = /^\/emails\/operations\/([^/]+)$/.exec(path);
      if (poll) {
        if (req.method !== 'GET') {
          acsError(res, 405, 'MethodNotAllowed', 'Use GET.');
          return true;
        }
        handlePoll(req, res, ctx.tokens, decodeURIComponent(poll[1]!));
        return true;
      }
      return false;
    },
    connectionString(endpoint: string) {
      if (!options.accessKey) throw new Error('createCommunicationEmailService: no accessKey was given');
      return `endpoint=${endpoint.replace(/\/+$/, '')}/;accesskey=${options.accessKey}`;
    },
    async writeMessagesTo(dir: string) {
      await mkdir(dir, { recursive: true });
      const written: string[] = [];
      for (const [index, message] of messages.entries()) {
        const base = join(dir, `${String(index + 1).padStart(3, '0')}-${message.operationId}`);
        if (message.html !== undefined) {
          await writeFile(`${base}.html`, message.html);
          written.push(`${base}.html`);
        }
        const text = [
          `From: ${message.senderAddress}`,
          `To: ${message.to.map((a) => a.address).join(', ')}`,
          `Subject: ${message.subject}`,
          `Operation-Id: ${message.operationId}`,
          `Status: ${message.status}`,
          '',
          message.plainText ?? '',
        ].join('\n');
        await writeFile(`${base}.txt`, text);
        written.push(`${base}.txt`);
        await writeFile(`${base}.eml`, toEml(message));
        written.push(`${base}.eml`);
      }
      return written;
    },
    forgetContent() {
      messages.length = 0;
      sendAttempts.length = 0;
      // A copy, not the message itself: the caller may still hold the message it has just read.
      for (const op of operationsWithContent) op.message = { ...op.message, html: undefined, plainText: undefined };
      operationsWithContent.length = 0;
    },
    reset() {
      messages.length = 0;
      sendAttempts.length = 0;
      operations.clear();
      operationsWithContent.length = 0;
      faults.clear();
    },
  };
}

/** RFC 2047 encoding for a header value that is not plain ASCII; CR/LF never reach a header. */
function headerValue(value: string): string {
  const single = value.replace(/[\r\n]+/g, ' ');
  return /^[\x20-\x7e]*$/.test(single) ? single : `=?UTF-8?B?${Buffer.from(single, 'utf8').toString('base64')}?=`;
}

function base64Lines(text: string): string {
  return (
    Buffer.from(text, 'utf8')
      .toString('base64')
      .match(/.{1,76}/g) ?? []
  ).join('\r\n');
}

/** A MIME message (multipart/alternative) that mail programs open. */
function toEml(message: AcceptedEmail): string {
  const boundary = `contact-watch-${message.operationId}`;
  const list = (items: EmailAddressValue[]) => items.map((item) => headerValue(item.address)).join(', ');
  const lines = [
    `From: ${headerValue(message.senderAddress)}`,
    `To: ${list(message.to)}`,
    ...(message.cc.length ? [`Cc: ${list(message.cc)}`] : []),
    `Subject: ${headerValue(message.subject)}`,
    `Date: ${new Date(message.receivedAt).toUTCString()}`,
    `Message-ID: <${message.operationId}@communication-email.local>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
  ];
  if (message.plainText !== undefined) {
    lines.push(
      `--${boundary}`,
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      base64Lines(message.plainText),
    );
  }
  if (message.html !== undefined) {
    lines.push(
      `--${boundary}`,
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      base64Lines(message.html),
    );
  }
  lines.push(`--${boundary}--`, '');
  return lines.join('\r\n');
}
