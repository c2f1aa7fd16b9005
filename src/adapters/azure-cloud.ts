/**
 * Which Azure cloud we talk to: the ARM endpoint, the token scope for it, the Entra authority and
 * the portal (for links in reports), from AZURE_CLOUD and AZURE_RESOURCE_MANAGER_ENDPOINT.
 */
import { PORTAL_URLS } from '../core/azure-portal.js';
import { quoteWithoutSecrets } from '../core/secret-text.js';
import { SettingsError } from '../core/settings-error.js';

export const AZURE_CLOUD_NAMES = ['AzureCloud', 'AzureUSGovernment', 'AzureChinaCloud'] as const;
export type AzureCloudName = (typeof AZURE_CLOUD_NAMES)[number];

export interface AzureCloudSettings {
  name: AzureCloudName;
  /** Absolute https URL without a trailing slash, e.g. `https://management.azure.com`. */
  resourceManagerEndpoint: string;
  /** `<resourceManagerEndpoint>/.default`. */
  tokenScope: string;
  /** Entra ID authority host for DefaultAzureCredential. */
  authorityHost: string;
  /** Azure portal, for links in reports. */
  portalUrl: string;
}

const KNOWN_CLOUDS: Record<AzureCloudName, Omit<AzureCloudSettings, 'name' | 'tokenScope'>> = {
  AzureCloud: {
    resourceManagerEndpoint: 'https://management.azure.com',
    authorityHost: 'https://login.microsoftonline.com',
    portalUrl: PORTAL_URLS.AzureCloud,
  },
  AzureUSGovernment: {
    resourceManagerEndpoint: 'https://management.usgovcloudapi.net',
    authorityHost: 'https://login.microsoftonline.us',
    portalUrl: PORTAL_URLS.AzureUSGovernment,
  },
  AzureChinaCloud: {
    resourceManagerEndpoint: 'https://management.chinacloudapi.cn',
    authorityHost: 'https://login.chinacloudapi.cn',
    portalUrl: PORTAL_URLS.AzureChinaCloud,
  },
};

/**
 * Reads AZURE_CLOUD (default `AzureCloud`, case-insensitive) and AZURE_RESOURCE_MANAGER_ENDPOINT
 * (an absolute https URL that replaces the cloud's ARM endpoint; the token scope follows it).
 * An empty variable counts as unset. Throws a SettingsError naming the variable otherwise.
 */
export function resolveAzureCloud(env: NodeJS.ProcessEnv): AzureCloudSettings {
  const name = parseCloudName(env.AZURE_CLOUD);
  const known = KNOWN_CLOUDS[name];
  const override = env.AZURE_RESOURCE_MANAGER_ENDPOINT?.trim();
  const resourceManagerEndpoint = override ? parseEndpoint(override, 'AZURE_RESOURCE_MANAGER_ENDPOINT') : known.resourceManagerEndpoint;
  return {
    name,
    resourceManagerEndpoint,
    tokenScope: `${resourceManagerEndpoint}/.default`,
    authorityHost: known.authorityHost,
    portalUrl: known.portalUrl,
  };
}

function parseCloudName(raw: string | undefined): AzureCloudName {
  const text = raw?.trim();
  if (!text) return 'AzureCloud';
  const match = AZURE_CLOUD_NAMES.find((name) => name.toLowerCase() === text.toLowerCase());
  if (!match) {
    throw new SettingsError(
      'AZURE_CLOUD',
      `AZURE_CLOUD is ${quoteWithoutSecrets(text)}; expected one of ${AZURE_CLOUD_NAMES.join(', ')} (case-insensitive; unset means AzureCloud).`,
    );
  }
  return match;
}

/** An absolute https URL, returned without query, fragment or trailing slash. */
function parseEndpoint(text: string, setting: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SettingsError(
      setting,
      `${setting} is ${quoteWithoutSecrets(text)}, which is not an absolute URL; expected e.g. https://management.azure.com.`,
    );
  }
  if (url.protocol !== 'https:') {
    throw new SettingsError(
      setting,
      `${setting} is ${quoteWithoutSecrets(text)}; it must be an https:// URL (a bearer token is never sent over plain http).`,
    );
  }
  const extras = [
    url.username || url.password ? 'credentials (user:password@)' : '',
    url.search ? 'a query' : '',
    url.hash ? 'a fragment' : '',
  ].filter(Boolean);
  if (extras.length > 0) {
    throw new SettingsError(
      setting,
      `${setting} is ${quoteWithoutSecrets(text)}; it must not carry ${extras.join(' or ')}: give the bare endpoint, e.g. https://management.azure.com.`,
    );
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}
