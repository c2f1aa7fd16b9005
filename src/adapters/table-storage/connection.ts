/**
 * Where the tables live: the forms CONTACT_WATCH_STORAGE (or AzureWebJobsStorage) may take
 * (docs/reference/settings.md) and the TableClients built from them. Shared by the state store and the
 * alert outbox, so both read the setting alike and use the same table prefix.
 */
import { TableClient } from '@azure/data-tables';
import type { AdditionalPolicyConfig } from '@azure/core-client';
import type { HttpClient, PipelineRetryOptions } from '@azure/core-rest-pipeline';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { quoteWithoutSecrets } from '../../core/secret-text.js';
import { SettingsError } from '../../core/settings-error.js';

/** Azurite's well-known development account (documented by Microsoft; not a secret). */
export const DEVELOPMENT_ACCOUNT = 'devstoreaccount1';
export const DEVELOPMENT_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
/** Azurite's default table endpoint, what `UseDevelopmentStorage=true` means. */
export const DEVELOPMENT_TABLE_ENDPOINT = `http://127.0.0.1:10002/${DEVELOPMENT_ACCOUNT}`;

export const DEFAULT_TABLE_PREFIX = 'contactwatch';

export type TableStorageTarget =
  /** An account-key or SAS connection string; `http://` only towards this machine (Azurite). */
  | { kind: 'connection-string'; connectionString: string; tableEndpoint: string; allowInsecureConnection: boolean }
  /** An `https://` table endpoint reached with a Microsoft Entra token (managed identity). */
  | { kind: 'token'; tableEndpoint: string; credential?: TokenCredential };

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Reads a storage setting: `UseDevelopmentStorage=true`, a connection string, or an
 * `https://<account>.table.core.windows.net` URL. Throws SettingsError naming the setting.
 */
export function parseStorageSetting(value: string, settingName = 'CONTACT_WATCH_STORAGE'): TableStorageTarget {
  const text = value.trim();
  const fail = (why: string): never => {
    throw new SettingsError(settingName, `${settingName} ${why}`);
  };
  if (text.length === 0)
    return fail('is empty: give a storage connection string, UseDevelopmentStorage=true or https://<account>.table.core.windows.net');

  if (/^[a-z]+:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return fail(`is not a valid URL: ${quoteWithoutSecrets(text)}; expected https://<account>.table.core.windows.net`);
    }
    if (url.protocol !== 'https:') {
      return fail(
        `is a ${url.protocol}// URL; a URL must be https://<account>.table.core.windows.net (for Azurite use UseDevelopmentStorage=true or its connection string)`,
      );
    }
    if (url.username || url.password) {
      return fail(
        `is a URL with credentials (${quoteWithoutSecrets(text)}); a URL is used with the managed identity: give https://<account>.table.core.windows.net alone, or a connection string`,
      );
    }
    if (url.search || url.hash)
      return fail('must be the bare table endpoint, without a query (for a SAS, use a connection string with SharedAccessSignature=)');
    return { kind: 'token', tableEndpoint: url.href.replace(/\/+$/, '') };
  }

  const parts = parseConnectionString(text, fail);
  if (parts.get('usedevelopmentstorage')?.toLowerCase() === 'true') {
    if (parts.size > 1)
      return fail("combines UseDevelopmentStorage=true with other settings; give Azurite's full connection string instead");
    return {
      kind: 'connection-string',
      connectionString: `DefaultEndpointsProtocol=http;AccountName=${DEVELOPMENT_ACCOUNT};AccountKey=${DEVELOPMENT_ACCOUNT_KEY};TableEndpoint=${DEVELOPMENT_TABLE_ENDPOINT};`,
      tableEndpoint: DEVELOPMENT_TABLE_ENDPOINT,
      allowInsecureConnection: true,
    };
  }

  const accountName = parts.get('accountname');
  const accountKey = parts.get('accountkey');
  const sas = parts.get('sharedaccesssignature');
  if (!accountKey && !sas) return fail('is a connection string without AccountKey= or SharedAccessSignature=');
  let tableEndpoint = parts.get('tableendpoint')?.replace(/\/+$/, '');
  if (!tableEndpoint) {
    if (!accountName) return fail('is a connection string without TableEndpoint= or AccountName=');
    const protocol = (parts.get('defaultendpointsprotocol') ?? 'https').toLowerCase();
    tableEndpoint = `${protocol}://${accountName}.table.${parts.get('endpointsuffix') ?? 'core.windows.net'}`;
  }
  let endpoint: URL;
  try {
    endpoint = new URL(tableEndpoint);
  } catch {
    return fail(
      `has a TableEndpoint that is not a URL: ${quoteWithoutSecrets(tableEndpoint)}; expected https://<account>.table.core.windows.net`,
    );
  }
  const insecure = endpoint.protocol === 'http:';
  if (insecure && !LOOPBACK_HOSTS.has(endpoint.hostname)) {
    return fail(`points at http://${endpoint.host}: plain http is accepted only on 127.0.0.1 (Azurite); use https`);
  }
  if (!insecure && endpoint.protocol !== 'https:') {
    return fail(
      `has a TableEndpoint with an unsupported scheme: ${quoteWithoutSecrets(tableEndpoint)}; expected https://<account>.table.core.windows.net`,
    );
  }
  // The SDK puts the table's name after the endpoint, and a SAS belongs in SharedAccessSignature=.
  const extras = [
    endpoint.username || endpoint.password ? 'credentials' : '',
    endpoint.search ? 'a query' : '',
    endpoint.hash ? 'a fragment' : '',
  ].filter(Boolean);
  if (extras.length > 0) {
    return fail(
      `has a TableEndpoint with ${extras.join(' and ')} (${quoteWithoutSecrets(tableEndpoint)}); ` +
        'give the bare endpoint, https://<account>.table.core.windows.net, and the SAS in SharedAccessSignature=',
    );
  }

  // The SDK takes an account-key string only with DefaultEndpointsProtocol=; add it when missing.
  let connectionString = text;
  if (accountKey && !parts.has('defaultendpointsprotocol')) {
    connectionString = `DefaultEndpointsProtocol=${endpoint.protocol.slice(0, -1)};${text}`;
  }
  if (accountKey && !accountName) return fail('is a connection string with AccountKey= but without AccountName=');
  return { kind: 'connection-string', connectionString, tableEndpoint, allowInsecureConnection: insecure };
}

function parseConnectionString(text: string, fail: (why: string) => never): Map<string, string> {
  const parts = new Map<string, string>();
  for (const [index, element] of text.split(';').entries()) {
    const trimmed = element.trim();
    if (trimmed.length === 0) continue;
    const equals = trimmed.indexOf('=');
    // Which part, not what it holds: a part without its name may be a key pasted on its own.
    if (equals <= 0)
      fail(`is neither a URL nor a connection string of Key=Value pairs separated by ';' (its part ${index + 1} is not Key=Value)`);
    parts.set(trimmed.slice(0, equals).trim().toLowerCase(), trimmed.slice(equals + 1).trim());
  }
  return parts;
}

export interface TableConnectionOptions {
  /** Prefix of every table name (letters and digits, starting with a letter). Default `contactwatch`. */
  tablePrefix?: string;
  /** For an https URL target; default DefaultAzureCredential. */
  credential?: TokenCredential;
  /** Extra HTTP pipeline policies for every client (request accounting, fault injection in tests). */
  additionalPolicies?: AdditionalPolicyConfig[];
  /** The SDK's retries of a failed request (default: its own, 3 retries from a 1 s delay). */
  retryOptions?: PipelineRetryOptions;
  /** The setting named in messages about a malformed string. Default CONTACT_WATCH_STORAGE. */
  settingName?: string;
  /**
   * What sends every request instead of the network: the in-memory table service
   * (src/adapters/in-memory/table-service.ts). Default: the SDK's HTTP client.
   */
  httpClient?: HttpClient;
}

/** The tables of one storage account under one prefix. */
export interface TableConnection {
  readonly tableEndpoint: string;
  readonly tablePrefix: string;
  /** `<prefix><suffix>`, e.g. `contactwatchsubscriptions`. */
  tableName(suffix: string): string;
  /** A client for `<prefix><suffix>`; the table is created on first use (an existing one is fine). */
  table(suffix: string): Promise<TableClient>;
}

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]{2,62}$/;

export function connectTables(target: string | TableStorageTarget, options: TableConnectionOptions = {}): TableConnection {
  const resolved = typeof target === 'string' ? parseStorageSetting(target, options.settingName) : target;
  const tablePrefix = options.tablePrefix ?? DEFAULT_TABLE_PREFIX;
  if (!/^[A-Za-z][A-Za-z0-9]{0,39}$/.test(tablePrefix)) {
    throw new Error(`table prefix "${tablePrefix}" must be 1–40 letters and digits, starting with a letter`);
  }
  let credential: TokenCredential | undefined;
  const clientFor = (name: string): TableClient => {
    if (resolved.kind === 'connection-string') {
      return TableClient.fromConnectionString(resolved.connectionString, name, {
        allowInsecureConnection: resolved.allowInsecureConnection,
        additionalPolicies: options.additionalPolicies,
        httpClient: options.httpClient,
        ...(options.retryOptions && { retryOptions: options.retryOptions }),
      });
    }
    credential ??= resolved.credential ?? options.credential ?? new DefaultAzureCredential();
    return new TableClient(resolved.tableEndpoint, name, credential, {
      additionalPolicies: options.additionalPolicies,
      httpClient: options.httpClient,
      ...(options.retryOptions && { retryOptions: options.retryOptions }),
    });
  };
  const tables = new Map<string, Promise<TableClient>>();
  const tableName = (suffix: string): string => {
    const name = `${tablePrefix}${suffix}`;
    if (!TABLE_NAME.test(name)) throw new Error(`table name "${name}" is not valid: 3–63 letters and digits, starting with a letter`);
    return name;
  };
  return {
    tableEndpoint: resolved.tableEndpoint,
    tablePrefix,
    tableName,
    table(suffix) {
      const name = tableName(suffix);
      let client = tables.get(name);
      if (!client) {
        const created = clientFor(name);
        client = created.createTable().then(() => created);
        // A failed creation (storage unreachable) is tried again on the next use.
        client.catch(() => tables.delete(name));
        tables.set(name, client);
      }
      return client;
    },
  };
}

/** How to start Azurite for the development endpoint; `npm run azurite` in a clone of the repository runs the same. */
export const AZURITE_COMMAND = 'npx azurite --silent --location .azurite --skipApiVersionCheck --disableTelemetry';

/**
 * One line for a storage endpoint that could not be reached: which endpoint (never a key or a
 * SAS: the endpoint alone), which setting named it, why, and what to do — for Azurite's endpoint
 * (UseDevelopmentStorage=true, or any http:// one on this machine), how to start it.
 */
export function describeUnreachableStorage(target: TableStorageTarget, settingName: string, reason: string): string {
  // Scheme, host and path only: a parsed endpoint holds no key, but nothing else is ever shown.
  const url = new URL(target.tableEndpoint);
  const endpoint = `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
  const where = `Table Storage at ${endpoint} (${settingName}) cannot be reached: ${reason}`;
  if (target.kind === 'connection-string' && target.allowInsecureConnection) {
    const port = url.port;
    const portOption = port && port !== '10002' ? ` --tablePort ${port}` : '';
    return `${where}; is Azurite running? Start it with \`${AZURITE_COMMAND}${portOption}\`${portOption ? '' : ' (in a clone of contact-watch: `npm run azurite`)'}`;
  }
  return `${where}; check the storage account's name in ${settingName}, and that this machine can reach it (network, firewall, private endpoint)`;
}
