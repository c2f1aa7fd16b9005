/**
 * The wire form of an entity group transaction (`POST /$batch`): a `multipart/mixed` body with one
 * changeset of HTTP requests in, a `multipart/mixed` body with one changeset of HTTP responses out —
 * every operation's answer when all succeeded, else only the failing one's, its index leading the
 * error message (`2:The update condition …`), as Table Storage answers.
 */
import { randomUUID } from 'node:crypto';
import { errors } from './table-entities.js';

export interface SubRequest {
  method: string;
  url: URL;
  headers: Map<string, string>;
  /** The JSON body, or undefined (a delete). */
  body: string | undefined;
}

const CRLF = '\r\n';

/** The requests of the batch's changeset, in order; InvalidInput when the body is not one. */
export function parseBatch(contentType: string | undefined, body: string): SubRequest[] {
  const batchBoundary = /boundary=([^;\s]+)/.exec(contentType ?? '')?.[1];
  const changesetBoundary = /Content-Type:\s*multipart\/mixed;\s*boundary=([^;\s]+)/i.exec(body)?.[1];
  if (!batchBoundary || !changesetBoundary || !body.includes(`--${batchBoundary}`)) {
    throw errors.invalidInput('The batch request body is malformed.');
  }
  const parts = body.split(`--${changesetBoundary}`).slice(1);
  const last = parts.pop();
  if (last === undefined || !last.startsWith('--')) throw errors.invalidInput('The batch request body is malformed.');
  return parts.map(parseSubRequest);
}

function parseSubRequest(part: string): SubRequest {
  const lines = part.replace(/^\r\n/, '').split(CRLF);
  // The part's own headers (Content-Type: application/http …), blank lines, then the request line.
  let index = lines.indexOf('');
  if (index < 0) throw errors.invalidInput('The batch request body is malformed.');
  while (index < lines.length && lines[index] === '') index += 1;
  const requestLine = /^([A-Z]+) (\S+) HTTP\/1\.1$/.exec(lines[index] ?? '');
  if (!requestLine) throw errors.invalidInput('The batch request body is malformed.');
  const headers = new Map<string, string>();
  for (index += 1; index < lines.length && lines[index] !== ''; index += 1) {
    const line = lines[index]!;
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const body = lines.slice(index).join(CRLF).trim();
  return { method: requestLine[1]!, url: new URL(requestLine[2]!), headers, body: body.length > 0 ? body : undefined };
}

/** One operation's successful answer. */
export interface SubResponse {
  status: 201 | 204;
  etag?: string;
  /** The entity's address, for an insert. */
  location?: string;
  /** The entity, for an insert that asked for its content. */
  body?: string;
}

const REASONS: Record<number, string> = {
  201: 'Created',
  204: 'No Content',
  400: 'Bad Request',
  404: 'Not Found',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Request Entity Too Large',
  501: 'Not Implemented',
};

/** The failing operation of a transaction: its 0-based index, the status and the error body answered. */
export interface FailedOperation {
  index: number;
  status: number;
  /** The `odata.error` JSON, its message led by the index. */
  body: string;
}

/** The batch's answer: every operation's, or the failing one's. */
export function renderBatchResponse(outcome: { responses: SubResponse[] } | { failure: FailedOperation }): {
  contentType: string;
  body: string;
} {
  const batch = `batchresponse_${randomUUID()}`;
  const changeset = `changesetresponse_${randomUUID()}`;
  const part = (lines: string[]) =>
    [`--${changeset}`, 'Content-Type: application/http', 'Content-Transfer-Encoding: binary', '', ...lines].join(CRLF);
  const parts =
    'responses' in outcome
      ? outcome.responses.map((response) =>
          part([
            `HTTP/1.1 ${response.status} ${REASONS[response.status]}`,
            'X-Content-Type-Options: nosniff',
            'Cache-Control: no-cache',
            'DataServiceVersion: 3.0;',
            ...(response.location ? [`Location: ${response.location}`, `DataServiceId: ${response.location}`] : []),
            ...(response.body ? ['Content-Type: application/json;odata=minimalmetadata;streaming=true;charset=utf-8'] : []),
            ...(response.etag ? [`ETag: ${response.etag}`] : []),
            '',
            response.body ?? '',
          ]),
        )
      : [
          part([
            `HTTP/1.1 ${outcome.failure.status} ${REASONS[outcome.failure.status] ?? 'Error'}`,
            `Content-ID: ${outcome.failure.index + 1}`,
            'DataServiceVersion: 3.0;',
            'Content-Type: application/json;odata=minimalmetadata;charset=utf-8',
            '',
            outcome.failure.body,
          ]),
        ];
  const body = [
    `--${batch}`,
    `Content-Type: multipart/mixed; boundary=${changeset}`,
    '',
    ...parts,
    `--${changeset}--`,
    `--${batch}--`,
    '',
  ].join(CRLF);
  return { contentType: `multipart/mixed; boundary=${batch}`, body };
}
