/**
 * Sending one Resource Graph query and reading every page of its answer through the Resource Graph
 * SDK: `$top`/`$skipToken` paging, the per-user quota, the tenant-scope subscription limit, and
 * a failure described so that it names the query, its scope and what the service said.
 */
import { ResourceGraphClient, type QueryResponse } from '@azure/arm-resourcegraph';
import { isRestError, type HttpHeaders } from '@azure/core-rest-pipeline';
import type { TokenCredential } from '@azure/identity';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ResourceGraphStats } from '../scan/ports.js';
import type { AzureCloudSettings } from './azure-cloud.js';
import {
  preparePipeline,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_RETRY_SETTINGS,
  describeHttpFailure,
  describeTransportError,
  isTimeout,
  type ArmClientOptions,
  type RetrySettings,
} from './arm-http.js';
import { describeQuery, ResourceGraphError, type Query, type RequestScope } from './resource-graph-query.js';
import { ResourceGraphQuota } from './resource-graph-quota.js';
import { messageOf } from '../core/error-message.js';

/** Rows per page (`$top`). */
export const RESOURCE_GRAPH_PAGE_SIZE = 1000;
export const TENANT_LIMIT_HIT_HEADER = 'x-ms-tenant-subscription-limit-hit';

export interface PagingOptions {
  /** Stop at the first page that says the tenant is over Resource Graph's tenant-scope limit. */
  stopWhenLimitHit?: boolean;
  /** When aborted, no further page is requested (the query beside this one failed). */
  stop?: AbortSignal;
  /**
   * Counts this reader's requests, one per page (the pipeline's retries are not counted): the
   * runner is shared by the identity's readers (a scan and the watch may page at once), and each
   * says what it sent.
   */
  count?: ResourceGraphStats;
  /**
   * Called once each page's rows have all been handed over; not for a page that says the tenant
   * is over the limit when `stopWhenLimitHit` (its rows are not handed over), nor once `stop` is
   * aborted.
   */
  afterPage?: () => void;
}

/** One page of a query's answer, and whether it says the tenant is over the tenant-scope limit. */
type PageAnswer = QueryResponse & { limitHit: boolean };

export interface QueryRunnerOptions extends ArmClientOptions {
  /** Epoch ms (default Date.now): the clock a spent quota's reset is timed on. */
  clock?: () => number;
  /** Waits for a spent quota to reset (default a timer); tests pass one that moves their own clock. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Runs Resource Graph queries for one identity. Its queries share one quota (resource-graph-quota.ts),
 * however many of them page side by side: build one runner per identity and run every query through
 * it (compose/azure.ts does).
 */
export class ResourceGraphQueryRunner {
  private readonly client: ResourceGraphClient;
  private readonly retry: RetrySettings;
  private readonly timeout: number;
  private readonly quota: ResourceGraphQuota;

  constructor(credential: TokenCredential, cloud: AzureCloudSettings, options: QueryRunnerOptions) {
    this.retry = options.retry ?? DEFAULT_RETRY_SETTINGS;
    this.timeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.quota = new ResourceGraphQuota(
      options.clock ?? Date.now,
      options.sleep ?? ((ms, signal) => sleep(ms, undefined, { signal })),
      this.retry.maxRetryAfterMs,
    );
    this.client = new ResourceGraphClient(credential, {
      endpoint: cloud.resourceManagerEndpoint,
      credentials: { scopes: [cloud.tokenScope] },
      retryOptions: this.retry,
      userAgentOptions: { userAgentPrefix: 'contact-watch' },
      additionalPolicies: options.additionalPolicies ?? [],
    });
    preparePipeline(this.client.pipeline, this.retry, options);
  }

  /**
   * Runs one query over every page, handing each row to `onRow` as its page arrives (the page is
   * not kept). `where` names the row in an error message: `row #3 of page 2`. The next page is
   * asked for before this page's rows are handed over, so that reading them overlaps its latency;
   * when `onRow` throws, that request is let finish before the error is thrown.
   */
  async run(
    query: Query,
    scope: RequestScope,
    signal: AbortSignal | undefined,
    onRow: (row: unknown, where: string) => void,
    paging: PagingOptions = {},
  ): Promise<{ limitHit: boolean }> {
    if (paging.stop?.aborted) return { limitHit: false };
    let limitHit = false;
    let skipToken: string | undefined;
    let next: Promise<PageAnswer> | undefined = this.requestPage(query, scope, undefined, signal, paging.count);
    for (let page = 1; next; page += 1) {
      const answer: PageAnswer = await next;
      next = undefined;
      limitHit ||= answer.limitHit;
      // The caller reads the whole scope another way; the rest of these pages would be thrown away.
      if (limitHit && paging.stopWhenLimitHit) return { limitHit };

      const rows: unknown = answer.data;
      if (!Array.isArray(rows)) {
        throw new ResourceGraphError(
          `${describeQuery(query, scope)} answered with "data" that is not a list of rows (resultFormat objectArray was asked for).`,
        );
      }
      const token = answer.skipToken || undefined;
      if (!token && answer.resultTruncated === 'true') {
        throw new ResourceGraphError(`${describeQuery(query, scope)} answered with a truncated result and no $skipToken to read the rest.`);
      }
      if (token && token === skipToken) {
        throw new ResourceGraphError(
          `${describeQuery(query, scope)} answered page ${page} with the same $skipToken again; the read was stopped.`,
        );
      }
      skipToken = token;
      if (token && !paging.stop?.aborted) {
        next = this.requestPage(query, scope, token, signal, paging.count);
        // Lets the request go out before the rows below keep this thread busy.
        await new Promise((resolve) => setImmediate(resolve));
      }
      try {
        rows.forEach((row, index) => onRow(row, `row #${index + 1} of page ${page}`));
        if (!paging.stop?.aborted) paging.afterPage?.();
      } catch (error) {
        await next?.catch(() => undefined);
        throw error;
      }
    }
    return { limitHit };
  }

  /** One page, within the quota; a failure is a ResourceGraphError naming the query. */
  private requestPage(
    query: Query,
    scope: RequestScope,
    skipToken: string | undefined,
    signal: AbortSignal | undefined,
    count: ResourceGraphStats | undefined,
  ): Promise<PageAnswer> {
    const answer = this.sendPageRequest(query, scope, skipToken, signal, count);
    // Handled where it is awaited; until then a failure must not count as unhandled.
    answer.catch(() => undefined);
    return answer;
  }

  private async sendPageRequest(
    query: Query,
    scope: RequestScope,
    skipToken: string | undefined,
    signal: AbortSignal | undefined,
    count: ResourceGraphStats | undefined,
  ): Promise<PageAnswer> {
    await this.quota.beforeRequest(signal);
    let headers: HttpHeaders | undefined;
    if (count) count.requests += 1;
    try {
      const answer = await this.client.resources(
        {
          ...scope,
          query: query.text,
          options: { top: RESOURCE_GRAPH_PAGE_SIZE, resultFormat: 'objectArray', ...(skipToken ? { skipToken } : {}) },
        },
        {
          abortSignal: signal,
          requestOptions: { timeout: this.timeout },
          onResponse: (response) => {
            headers = response.headers;
          },
        },
      );
      return Object.assign(answer, { limitHit: headers?.get(TENANT_LIMIT_HIT_HEADER)?.trim().toLowerCase() === 'true' });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ResourceGraphError(`${describeQuery(query, scope)} failed: ${this.describeError(error)}`, { cause: error });
    } finally {
      this.quota.answered(headers);
    }
  }

  private describeError(error: unknown): string {
    if (isTimeout(error)) return `no answer within ${this.timeout / 1000} s`;
    if (!isRestError(error)) return messageOf(error);
    if (error.statusCode === undefined || !error.response) {
      return describeTransportError(error, error.request?.url ?? 'https://resource-graph.invalid', this.retry);
    }
    const { status, bodyAsText, headers } = error.response;
    // The SDK keeps the ARM error body in `details`; it is re-read from the text when missing.
    const body = error.details ?? safeJson(bodyAsText);
    if (error.code === 'PARSE_ERROR') return `${status}: the answer is not JSON`;
    return describeHttpFailure(status, body, bodyAsText ?? undefined, this.retry, headers);
  }
}

function safeJson(text: string | null | undefined): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}
