/**
 * Helpers for the Table Storage tests: verdicts as the scan produces them, and HTTP pipeline
 * policies that record (and, where a test asks, break) what the adapters really send to the table
 * service — Azurite over the network, or the in-memory service in its place: the SDK sends the
 * same requests to either, through the same policies.
 */
import type { AdditionalPolicyConfig } from '@azure/core-client';
import { createHttpHeaders, type PipelineRequest, type SendRequest } from '@azure/core-rest-pipeline';
import { RULE_IDS } from '../../src/core/model.js';
import type { Finding, SubscriptionStatus, SubscriptionVerdict } from '../../src/core/model.js';
import type { RecordedRun, StateStore } from '../../src/scan/ports.js';

/** Records a succeeded run of the whole tenant that read every one of `verdicts`: what a clean scan stores. */
export function recordTenantRun(
  store: Pick<StateStore, 'recordRun'>,
  scanId: string,
  verdicts: readonly SubscriptionVerdict[],
  trigger = 'test',
): Promise<RecordedRun> {
  return store.recordRun({
    scanId,
    trigger,
    evaluate: () =>
      Promise.resolve({
        status: 'succeeded',
        scope: 'tenant',
        subscriptionListComplete: true,
        verdicts,
        readSubscriptionIds: verdicts.map((v) => v.subscriptionId),
      }),
  });
}

/** A lower-case GUID whose first hex digit is `index % 16`, so ids spread over the 16 partitions. */
export function subscriptionIdFor(index: number): string {
  const head = `${(index % 16).toString(16)}${index.toString(16).padStart(7, '0')}`;
  return `${head}-0000-4000-8000-${index.toString(16).padStart(12, '0')}`;
}

const CONTACT = {
  emails: ['secops@fabrikam.com'],
  alertMinimalSeverity: 'High',
  notifyRoles: ['Owner'],
  attackPathMinimalRiskLevel: 'High',
  shape: '2023-12-01-preview',
} as const;

function findings(status: SubscriptionStatus): Finding[] {
  return RULE_IDS.map((ruleId) => {
    if (status === 'error') return { ruleId, result: 'error', message: 'the security contacts could not be read: 403 AuthorizationFailed' };
    if (status === 'noncompliant' && ruleId === 'email-configured') {
      return { ruleId, result: 'fail', message: 'admin@contoso.com is on a placeholder domain' };
    }
    return { ruleId, result: 'pass', message: 'ok' };
  });
}

export function verdict(
  subscriptionId: string,
  status: Exclude<SubscriptionStatus, 'exempt'>,
  displayName = `Subscription ${subscriptionId.slice(0, 8)}`,
): SubscriptionVerdict {
  return {
    subscriptionId,
    displayName,
    state: status === 'skipped' ? 'Disabled' : 'Enabled',
    status,
    source: status === 'compliant' ? 'resource-graph' : 'security-contacts-api',
    contact:
      status === 'error' || status === 'skipped'
        ? { emails: [], alertMinimalSeverity: null, notifyRoles: [], attackPathMinimalRiskLevel: null, shape: 'none' }
        : {
            ...CONTACT,
            notifyRoles: [...CONTACT.notifyRoles],
            emails: status === 'noncompliant' ? ['admin@contoso.com'] : [...CONTACT.emails],
          },
    findings: status === 'skipped' ? [] : findings(status),
  };
}

/** One operation inside a `$batch` request, as parsed from the multipart body on the wire. */
export interface BatchOperation {
  method: string;
  table: string;
  partitionKey: string;
  rowKey: string;
}

export interface SentRequest {
  method: string;
  /** The table addressed (lower case), `Tables` for table creation, `$batch` for a transaction. */
  target: string;
  operations: BatchOperation[];
  status?: number;
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'MERGE', 'DELETE']);

export interface RequestLog {
  policy: AdditionalPolicyConfig;
  requests: SentRequest[];
  clear(): void;
  /** Entity writes to a table: single requests plus every operation inside transactions. */
  entityWrites(table: string): BatchOperation[];
  batches(): SentRequest[];
}

/** Records every request the store sends (a per-call policy: it sees each logical request once). */
export function requestLog(): RequestLog {
  const requests: SentRequest[] = [];
  return {
    requests,
    policy: {
      position: 'perCall',
      policy: {
        name: 'test-request-log',
        async sendRequest(request, next) {
          const entry = describe(request);
          requests.push(entry);
          const response = await next(request);
          entry.status = response.status;
          return response;
        },
      },
    },
    clear: () => requests.splice(0, requests.length),
    entityWrites(table) {
      const name = table.toLowerCase();
      return requests.flatMap((request) => {
        if (request.target === '$batch') return request.operations.filter((operation) => operation.table === name);
        if (request.target === name && WRITE_METHODS.has(request.method)) return request.operations;
        return [];
      });
    },
    batches: () => requests.filter((request) => request.target === '$batch'),
  };
}

/** A policy that throws (as a dropped connection would) on the n-th request matching `match`. */
export function failNth(match: (request: SentRequest) => boolean, n: number): AdditionalPolicyConfig & { failures: number } {
  let seen = 0;
  const config = {
    failures: 0,
    position: 'perCall' as const,
    policy: {
      name: 'test-fail-nth',
      async sendRequest(request: PipelineRequest, next: SendRequest) {
        if (match(describe(request))) {
          seen += 1;
          if (seen === n) {
            config.failures += 1;
            throw Object.assign(new Error('injected: connection reset by peer'), { code: 'ECONNRESET' });
          }
        }
        return next(request);
      },
    },
  };
  return config;
}

/** A policy that runs `action` once, before the first request matching `match` is sent. */
export function beforeFirst(
  match: (request: SentRequest) => boolean,
  action: () => Promise<void>,
): AdditionalPolicyConfig & { ran: boolean } {
  const config = {
    ran: false,
    position: 'perCall' as const,
    policy: {
      name: 'test-before-first',
      async sendRequest(request: PipelineRequest, next: SendRequest) {
        if (!config.ran && match(describe(request))) {
          config.ran = true;
          await action();
        }
        return next(request);
      },
    },
  };
  return config;
}

export function describe(request: PipelineRequest): SentRequest {
  const url = new URL(request.url);
  const segments = url.pathname.split('/').filter(Boolean);
  const last = decodeURIComponent(segments[segments.length - 1] ?? '');
  if (last === '$batch') {
    return { method: request.method, target: '$batch', operations: parseBatch(typeof request.body === 'string' ? request.body : '') };
  }
  const { table, partitionKey, rowKey } = parseResource(last);
  const body =
    typeof request.body === 'string' && request.body.startsWith('{') ? (JSON.parse(request.body) as Record<string, unknown>) : {};
  return {
    method: request.method,
    target: table.toLowerCase(),
    operations:
      table === 'Tables'
        ? []
        : [
            {
              method: request.method,
              table: table.toLowerCase(),
              partitionKey: partitionKey ?? String(body.PartitionKey),
              rowKey: rowKey ?? String(body.RowKey),
            },
          ],
  };
}

function parseResource(segment: string): { table: string; partitionKey?: string; rowKey?: string } {
  const match = /^([^(]+)(?:\(PartitionKey='((?:[^']|'')*)',RowKey='((?:[^']|'')*)'\))?/.exec(segment);
  if (!match) return { table: segment };
  return {
    table: match[1] ?? segment,
    ...(match[2] !== undefined && { partitionKey: match[2].replace(/''/g, "'") }),
    ...(match[3] !== undefined && { rowKey: match[3].replace(/''/g, "'") }),
  };
}

function parseBatch(body: string): BatchOperation[] {
  const operations: BatchOperation[] = [];
  for (const part of body.split(/--changeset_[^\r\n]*/).slice(1)) {
    const line = /^(POST|PUT|PATCH|MERGE|DELETE|GET) (\S+) HTTP\/1\.1/m.exec(part);
    if (!line?.[1] || !line[2]) continue;
    const resource = decodeURIComponent(new URL(line[2]).pathname.split('/').filter(Boolean).pop() ?? '');
    const parsed = parseResource(resource);
    const json = /\{[\s\S]*\}/.exec(part);
    const entity = json ? (JSON.parse(json[0]) as Record<string, unknown>) : {};
    operations.push({
      method: line[1],
      table: parsed.table.toLowerCase(),
      partitionKey: parsed.partitionKey ?? String(entity.PartitionKey),
      rowKey: parsed.rowKey ?? String(entity.RowKey),
    });
  }
  return operations;
}

/** A clock the test moves by hand. */
export function manualClock(start: string): { now: () => Date; set(iso: string): void; advance(ms: number): void } {
  let current = new Date(start).getTime();
  return {
    now: () => new Date(current),
    set: (iso) => {
      current = new Date(iso).getTime();
    },
    advance: (ms) => {
      current += ms;
    },
  };
}

let prefixCounter = 0;
/** A fresh table prefix per test, so tests share one Azurite without seeing each other's rows. */
export function uniquePrefix(): string {
  prefixCounter += 1;
  return `cw${process.pid}t${prefixCounter}`;
}

/**
 * A policy that answers a transaction touching `rowKey` the way Table Storage answers content it
 * refuses (400 PropertyValueTooLarge), when `refuse(body)` says so; other requests go through.
 */
export function refuseEntity(
  rowKey: string,
  refuse: (body: string) => boolean = () => true,
): AdditionalPolicyConfig & { refusals: number } {
  const config = {
    refusals: 0,
    position: 'perCall' as const,
    policy: {
      name: 'test-refuse-entity',
      async sendRequest(request: PipelineRequest, next: SendRequest) {
        const sent = describe(request);
        const body = typeof request.body === 'string' ? request.body : '';
        if (sent.target === '$batch' && sent.operations.some((operation) => operation.rowKey === rowKey) && refuse(body)) {
          config.refusals += 1;
          return {
            request,
            status: 400,
            headers: createHttpHeaders({ 'content-type': 'application/json;odata=minimalmetadata' }),
            bodyAsText: JSON.stringify({
              'odata.error': {
                code: 'PropertyValueTooLarge',
                message: { lang: 'en-US', value: 'The property value exceeds the maximum allowed size (64KB).' },
              },
            }),
          };
        }
        return next(request);
      },
    },
  };
  return config;
}
