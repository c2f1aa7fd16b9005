/**
 * Resource Graph: `POST /providers/Microsoft.ResourceGraph/resources`.
 *
 * It understands the two plain queries contact-watch sends (docs/reference/scanning.md) and answers them with
 * whole rows, paged with an opaque `$skipToken`, with the quota headers and the subscription
 * limit of tenant / management-group scopes of the real service. Query language served (anything else is a 400):
 *
 *   resourcecontainers | where type =~ 'microsoft.resources/subscriptions' [| project c1, c2…] [| order by id asc]
 *   securityresources  | where type == 'microsoft.security/securitycontacts' [| project …] [| order by …]
 *
 * Table names are matched case-insensitively; the `type` comparison follows Kusto: `=~` ignores
 * case, `==` does not - and Resource Graph stores types in lower case, so
 * `type == 'Microsoft.Security/securityContacts'` matches no row, exactly as in Azure.
 */
import { createHash } from 'node:crypto';
import { noRegisteredProviderFound, sendArmError, sendJson, type Headers } from '../arm-errors.js';
import type { SimulatedSubscription, SimulatedTenant } from '../tenant.js';
import type { HandlerContext, ResolvedOptions } from '../types.js';

export const RESOURCE_GRAPH_API_VERSIONS = ['2024-04-01', '2022-10-01', '2021-03-01'] as const;
export const SUBSCRIPTION_TYPE = 'microsoft.resources/subscriptions';
export const SECURITY_CONTACT_TYPE = 'microsoft.security/securitycontacts';
const DEFAULT_TOP = 100;
const MAX_TOP = 1000;
/** What `x-ms-user-quota-remaining` says when no quota is configured. */
const UNLIMITED_QUOTA_REMAINING = 1_000_000;

type Table = 'resourcecontainers' | 'securityresources';
const TABLE_TYPES: Record<Table, string> = {
  resourcecontainers: SUBSCRIPTION_TYPE,
  securityresources: SECURITY_CONTACT_TYPE,
};
const SORTABLE_COLUMNS = ['id', 'name', 'subscriptionId'] as const;
const COMMON_COLUMNS = [
  'id',
  'name',
  'type',
  'tenantId',
  'kind',
  'location',
  'resourceGroup',
  'subscriptionId',
  'managedBy',
  'sku',
  'plan',
  'properties',
  'tags',
  'identity',
  'zones',
  'extendedLocation',
];
const TABLE_COLUMNS: Record<Table, readonly string[]> = {
  resourcecontainers: [...COMMON_COLUMNS, 'managementGroup'],
  securityresources: COMMON_COLUMNS,
};
type SortColumn = (typeof SORTABLE_COLUMNS)[number];

export interface ParsedQuery {
  table: Table;
  typeFilters: { op: '==' | '=~'; value: string }[];
  project?: string[];
  order?: { column: SortColumn; descending: boolean };
}

export class QueryError extends Error {}

/** Splits a query on `|` outside string literals. */
function splitPipes(query: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (const char of query) {
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (char === '|') {
      parts.push(current.trim());
      current = '';
      continue;
    }
    current += char;
  }
  parts.push(current.trim());
  return parts;
}

export function parseQuery(query: string): ParsedQuery {
  const [source, ...stages] = splitPipes(query.replace(/\s+/g, ' '));
  const table = source?.toLowerCase();
  if (table !== 'resourcecontainers' && table !== 'securityresources') {
    throw new QueryError(
      `The local Azure test server serves only the tables 'resourcecontainers' and 'securityresources', not '${source ?? ''}'.`,
    );
  }
  const parsed: ParsedQuery = { table, typeFilters: [] };
  for (const stage of stages) {
    let match: RegExpExecArray | null;
    if ((match = /^where (.+)$/i.exec(stage))) {
      for (const condition of match[1]!.split(/ and /i)) {
        const filter = /^\(?\s*type\s*(==|=~)\s*(['"])(.*?)\2\s*\)?$/i.exec(condition.trim());
        if (!filter) throw new QueryError(`Unsupported condition '${condition.trim()}': only type == '…' or type =~ '…' is served.`);
        parsed.typeFilters.push({ op: filter[1] as '==' | '=~', value: filter[3]! });
      }
    } else if ((match = /^project (.+)$/i.exec(stage))) {
      const columns = match[1]!.split(',').map((column) => column.trim());
      const bad = columns.find((column) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(column));
      if (bad !== undefined) throw new QueryError(`Unsupported projection '${bad}': only plain column names are served.`);
      // Kusto column names are case-sensitive.
      const unknown = columns.find((column) => !TABLE_COLUMNS[table].includes(column));
      if (unknown !== undefined) throw new QueryError(`Column '${unknown}' does not exist in ${table}.`);
      parsed.project = columns;
    } else if ((match = /^(?:order|sort) by ([A-Za-z_]+)(?: (asc|desc))?$/i.exec(stage))) {
      const column = SORTABLE_COLUMNS.find((name) => name.toLowerCase() === match![1]!.toLowerCase());
      if (!column) throw new QueryError(`Unsupported sort column '${match[1]}': use ${SORTABLE_COLUMNS.join(', ')}.`);
      // Kusto sorts descending unless told otherwise.
      parsed.order = { column, descending: match[2]?.toLowerCase() !== 'asc' };
    } else {
      throw new QueryError(`Unsupported query operator '${stage}': the local server serves where, project and order by.`);
    }
  }
  const expected = TABLE_TYPES[table];
  if (!parsed.typeFilters.some((filter) => filter.value.toLowerCase() === expected)) {
    throw new QueryError(`A query on ${table} must filter on type == '${expected}'.`);
  }
  return parsed;
}

function typeMatches(parsed: ParsedQuery): boolean {
  const rowType = TABLE_TYPES[parsed.table];
  return parsed.typeFilters.every((filter) => (filter.op === '==' ? filter.value === rowType : filter.value.toLowerCase() === rowType));
}

// ---- rows ----

interface RowRef {
  subscription: SimulatedSubscription;
  /** Index into indexedContacts, for securityresources rows. */
  item: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const SUBSCRIPTION_POLICIES = Object.freeze({
  locationPlacementId: 'Public_2014-09-01',
  quotaId: 'PayAsYouGo_2014-09-01',
  spendingLimit: 'Off',
});

function subscriptionRow(tenant: SimulatedTenant, subscription: SimulatedSubscription): Record<string, unknown> {
  return {
    id: `/subscriptions/${subscription.subscriptionId}`,
    name: subscription.displayName,
    type: SUBSCRIPTION_TYPE,
    tenantId: subscription.tenantId,
    kind: '',
    location: '',
    resourceGroup: '',
    subscriptionId: subscription.subscriptionId,
    managementGroup: '',
    managedBy: '',
    sku: null,
    plan: null,
    properties: {
      subscriptionPolicies: SUBSCRIPTION_POLICIES,
      managementGroupAncestorsChain: tenant
        .managementGroupChain(subscription)
        .map((group) => ({ displayName: group.displayName, name: group.name })),
      state: subscription.state,
    },
    tags: subscription.tags,
    identity: null,
    zones: null,
    extendedLocation: null,
  };
}

function contactName(item: unknown): string {
  return isObject(item) && typeof item.name === 'string' ? item.name : 'default';
}

function contactRow(subscription: SimulatedSubscription, item: unknown): Record<string, unknown> {
  const raw = isObject(item) ? item : {};
  const name = contactName(item);
  return {
    id:
      typeof raw.id === 'string'
        ? raw.id
        : `/subscriptions/${subscription.subscriptionId}/providers/Microsoft.Security/securityContacts/${name}`,
    name,
    type: SECURITY_CONTACT_TYPE,
    tenantId: subscription.tenantId,
    kind: '',
    location: typeof raw.location === 'string' ? raw.location : '',
    resourceGroup: '',
    subscriptionId: subscription.subscriptionId,
    managedBy: '',
    sku: null,
    plan: null,
    properties: isObject(raw.properties) ? raw.properties : {},
    tags: {},
    identity: null,
    zones: null,
    extendedLocation: null,
  };
}

function sortKey(ref: RowRef, parsed: ParsedQuery, column: SortColumn): string {
  const { subscription } = ref;
  if (column === 'subscriptionId') return subscription.subscriptionId;
  if (parsed.table === 'resourcecontainers') {
    return column === 'id' ? `/subscriptions/${subscription.subscriptionId}` : subscription.displayName;
  }
  const item = subscription.indexedContacts[ref.item];
  const row = contactRow(subscription, item);
  return String(row[column]);
}

// ---- request ----

interface RequestBody {
  query: string;
  subscriptions?: string[];
  managementGroups?: string[];
  options: { top?: number; skip?: number; skipToken?: string; resultFormat?: string };
}

function readBody(raw: Buffer): RequestBody {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new QueryError('The request content was invalid and could not be deserialized: the body is not JSON.');
  }
  if (!isObject(json) || typeof json.query !== 'string' || json.query.trim() === '') {
    throw new QueryError("The request body must be a JSON object with a non-empty string 'query'.");
  }
  const stringList = (key: 'subscriptions' | 'managementGroups'): string[] | undefined => {
    const value = json[key];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || !value.every((entry) => typeof entry === 'string')) {
      throw new QueryError(`'${key}' must be an array of strings.`);
    }
    return value;
  };
  const options = isObject(json.options) ? json.options : {};
  const integer = (key: string, min: number, max: number): number | undefined => {
    const value = options[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new QueryError(`The option '${key}' must be an integer between ${min} and ${max}; got ${JSON.stringify(value)}.`);
    }
    return value;
  };
  const skipToken = options.$skipToken;
  const resultFormat = options.resultFormat;
  return {
    query: json.query,
    subscriptions: stringList('subscriptions'),
    managementGroups: stringList('managementGroups'),
    options: {
      top: integer('$top', 1, MAX_TOP),
      skip: integer('$skip', 0, Number.MAX_SAFE_INTEGER),
      skipToken: typeof skipToken === 'string' && skipToken !== '' ? skipToken : undefined,
      resultFormat: typeof resultFormat === 'string' ? resultFormat : undefined,
    },
  };
}

interface SkipToken {
  /** Hash of the query and scope it continues. */
  k: string;
  /** Offset of the next page. */
  o: number;
  /** Page size. */
  n: number;
}

function encodeSkipToken(token: SkipToken): string {
  return Buffer.from(JSON.stringify(token)).toString('base64');
}

function decodeSkipToken(text: string): SkipToken | undefined {
  try {
    const token = JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as Partial<SkipToken>;
    if (typeof token.k === 'string' && Number.isInteger(token.o) && Number.isInteger(token.n)) return token as SkipToken;
  } catch {
    // fall through
  }
  return undefined;
}

function formatDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const pad = (value: number): string => String(value).padStart(2, '0');
  return `${pad(Math.floor(total / 3600))}:${pad(Math.floor((total % 3600) / 60))}:${pad(total % 60)}`;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class ResourceGraphService {
  private windowStart = 0;
  private usedInWindow = 0;
  private readonly cache = new Map<string, { version: number; refs: RowRef[]; limitHit: boolean }>();

  constructor(private readonly options: ResolvedOptions) {}

  async handle(ctx: HandlerContext): Promise<void> {
    const { req, res } = ctx;
    const quota = this.takeQuota();
    if (this.options.latency.resourceGraphPageMs > 0) await sleep(this.options.latency.resourceGraphPageMs);
    if (!quota.allowed) {
      sendArmError(
        res,
        429,
        'RateLimiting',
        'Client application has been throttled and should not attempt to repeat the request until an amount of time has elapsed. ' +
          'Please see https://aka.ms/resourcegraph-throttling for help.',
        { headers: quota.headers },
      );
      return;
    }
    const apiVersion = req.url.searchParams.get('api-version');
    ctx.log.apiVersion = apiVersion ?? undefined;
    if (req.method !== 'POST') {
      sendArmError(res, 405, 'MethodNotAllowed', `The requested resource does not support http method '${req.method}'.`, {
        headers: quota.headers,
      });
      return;
    }
    if (!apiVersion || !(RESOURCE_GRAPH_API_VERSIONS as readonly string[]).includes(apiVersion)) {
      if (!apiVersion) {
        sendArmError(
          res,
          400,
          'MissingApiVersionParameter',
          'The api-version query parameter (?api-version=) is required for all requests.',
          {
            headers: quota.headers,
          },
        );
      } else {
        noRegisteredProviderFound(res, apiVersion, 'resources', RESOURCE_GRAPH_API_VERSIONS, quota.headers);
      }
      return;
    }
    try {
      const body = readBody(req.body);
      ctx.log.resourceGraph = {
        query: body.query,
        subscriptions: body.subscriptions,
        managementGroups: body.managementGroups,
        top: body.options.top,
        skip: body.options.skip,
        skipToken: body.options.skipToken,
        resultFormat: body.options.resultFormat,
      };
      this.answer(ctx, body, quota.headers);
    } catch (error) {
      if (!(error instanceof QueryError)) throw error;
      sendArmError(
        res,
        400,
        'BadRequest',
        `Please provide below info when asking for support: the query could not be run. ${error.message}`,
        {
          headers: quota.headers,
          details: [
            {
              code: 'InvalidQuery',
              message:
                'Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the error before retrying.',
            },
            { code: 'LocalServerQueryError', message: error.message },
          ],
        },
      );
    }
  }

  private answer(ctx: HandlerContext, body: RequestBody, quotaHeaders: Headers): void {
    const parsed = parseQuery(body.query);
    if (body.subscriptions?.length && body.managementGroups?.length) {
      throw new QueryError("Give either 'subscriptions' or 'managementGroups', not both.");
    }
    const resultFormat = body.options.resultFormat ?? 'objectArray';
    if (resultFormat !== 'objectArray' && resultFormat !== 'table') {
      throw new QueryError(`Unknown resultFormat '${resultFormat}': use 'objectArray' or 'table'.`);
    }
    const key = createHash('sha1')
      .update(JSON.stringify([body.query, body.subscriptions ?? null, body.managementGroups ?? null]))
      .digest('base64url');
    const { refs, limitHit, limitedScope } = this.selectRows(ctx.tenant, parsed, key, body);

    let offset = body.options.skip ?? 0;
    let top = body.options.top ?? DEFAULT_TOP;
    if (body.options.skipToken !== undefined) {
      const token = decodeSkipToken(body.options.skipToken);
      if (!token || token.k !== key) {
        throw new QueryError('The $skipToken is not valid for this query and scope; send the same query and scope that produced it.');
      }
      offset = body.options.skip ?? token.o;
      top = body.options.top ?? token.n;
    }
    const page = refs.slice(offset, offset + top);
    const rows = page.map((ref) => this.materialise(ctx.tenant, parsed, ref));
    const nextOffset = offset + page.length;
    const headers: Headers = { ...quotaHeaders };
    if (limitedScope) headers['x-ms-tenant-subscription-limit-hit'] = limitHit ? 'true' : 'false';
    sendJson(
      ctx.res,
      200,
      {
        totalRecords: refs.length,
        count: rows.length,
        resultTruncated: 'false',
        ...(nextOffset < refs.length ? { $skipToken: encodeSkipToken({ k: key, o: nextOffset, n: top }) } : {}),
        facets: [],
        data: resultFormat === 'table' ? toTable(rows, parsed.project) : rows,
      },
      headers,
    );
  }

  /** The rows of a query, in order; cached per query and scope until the tenant changes. */
  private selectRows(
    tenant: SimulatedTenant,
    parsed: ParsedQuery,
    key: string,
    body: RequestBody,
  ): { refs: RowRef[]; limitHit: boolean; limitedScope: boolean } {
    // Tenant and management-group scopes cover at most tenantSubscriptionLimit subscriptions
    // (10,000 in Azure) and say whether they hit it; explicit subscriptions do not.
    const limitedScope = !body.subscriptions?.length;
    const cached = this.cache.get(key);
    if (cached && cached.version === tenant.version) return { refs: cached.refs, limitHit: cached.limitHit, limitedScope };

    let subscriptions: readonly SimulatedSubscription[];
    if (body.subscriptions?.length) {
      const seen = new Set<string>();
      const selected: SimulatedSubscription[] = [];
      for (const id of body.subscriptions) {
        const subscription = tenant.getSubscription(id);
        if (subscription && !seen.has(subscription.subscriptionId)) {
          seen.add(subscription.subscriptionId);
          selected.push(subscription);
        }
      }
      subscriptions = selected;
    } else if (body.managementGroups?.length) {
      const groups = new Set(body.managementGroups.map((name) => name.toLowerCase()));
      subscriptions = tenant.listSubscriptions().filter((subscription) => tenant.isUnderManagementGroups(subscription, groups));
    } else {
      subscriptions = tenant.listSubscriptions();
    }
    subscriptions = subscriptions.filter((subscription) => !subscription.quirks.notInResourceGraph);
    const limitHit = limitedScope && subscriptions.length > this.options.tenantSubscriptionLimit;
    if (limitHit) subscriptions = subscriptions.slice(0, this.options.tenantSubscriptionLimit);

    const refs: RowRef[] = [];
    if (typeMatches(parsed)) {
      for (const subscription of subscriptions) {
        if (parsed.table === 'resourcecontainers') refs.push({ subscription, item: -1 });
        else for (let item = 0; item < subscription.indexedContacts.length; item++) refs.push({ subscription, item });
      }
    }
    if (parsed.order) {
      const { column, descending } = parsed.order;
      const keyed = refs.map((ref) => ({ ref, sortKey: sortKey(ref, parsed, column) }));
      keyed.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0) * (descending ? -1 : 1));
      refs.splice(0, refs.length, ...keyed.map((entry) => entry.ref));
    }
    if (this.cache.size >= 16) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, { version: tenant.version, refs, limitHit });
    return { refs, limitHit, limitedScope };
  }

  private materialise(tenant: SimulatedTenant, parsed: ParsedQuery, ref: RowRef): Record<string, unknown> {
    const row =
      parsed.table === 'resourcecontainers'
        ? subscriptionRow(tenant, ref.subscription)
        : contactRow(ref.subscription, ref.subscription.indexedContacts[ref.item]);
    if (!parsed.project) return row;
    const projected: Record<string, unknown> = {};
    for (const column of parsed.project) projected[column] = row[column];
    return projected;
  }

  private takeQuota(): { allowed: boolean; headers: Headers } {
    const quota = this.options.resourceGraphQuota;
    if (!quota) {
      return {
        allowed: true,
        headers: { 'x-ms-user-quota-remaining': String(UNLIMITED_QUOTA_REMAINING), 'x-ms-user-quota-resets-after': '00:00:00' },
      };
    }
    const now = quota.clock ? quota.clock() : Date.now();
    if (now - this.windowStart >= quota.windowMs) {
      this.windowStart = now;
      this.usedInWindow = 0;
    }
    const resetsInMs = this.windowStart + quota.windowMs - now;
    if (this.usedInWindow >= quota.requestsPerWindow) {
      return {
        allowed: false,
        headers: {
          'x-ms-user-quota-remaining': '0',
          'x-ms-user-quota-resets-after': formatDuration(resetsInMs),
          'retry-after': String(Math.max(1, Math.ceil(resetsInMs / 1000))),
        },
      };
    }
    this.usedInWindow++;
    return {
      allowed: true,
      headers: {
        'x-ms-user-quota-remaining': String(quota.requestsPerWindow - this.usedInWindow),
        'x-ms-user-quota-resets-after': formatDuration(resetsInMs),
      },
    };
  }
}

function columnType(value: unknown): string {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return 'object';
}

/** Resource Graph's `table` result format: `{ columns: [{ name, type }], rows: [[…]] }`. */
function toTable(rows: Record<string, unknown>[], project?: string[]): unknown {
  const names = project ?? (rows[0] ? Object.keys(rows[0]) : []);
  const columns = names.map((name) => ({
    name,
    type: columnType(rows.find((row) => row[name] !== null && row[name] !== undefined)?.[name]),
  }));
  return { columns, rows: rows.map((row) => names.map((name) => row[name] ?? null)) };
}
