/**
 * Links into the Azure portal, for the reports, the operator page and the alert e-mails. Pure URL
 * building: each builder takes the portal of the cloud (AzureCloudSettings.portalUrl) and answers
 * undefined when that is not an http(s) URL, so a bad setting can never turn into a `javascript:`
 * link; the caller then leaves the link out.
 */

/** The Azure portal of each cloud (AZURE_CLOUD). */
export const PORTAL_URLS = {
  AzureCloud: 'https://portal.azure.com',
  AzureUSGovernment: 'https://portal.azure.us',
  AzureChinaCloud: 'https://portal.azure.cn',
} as const;

/** The Defender for Cloud "Email notifications" settings of one subscription. */
export function emailNotificationsUrl(portalUrl: string, subscriptionId: string): string | undefined {
  const base = portalBase(portalUrl);
  if (base === undefined) return undefined;
  return `${base}/#view/Microsoft_Azure_Security/PolicyMenuBlade/~/emailNotifications/subscriptionId/${encodeURIComponent(subscriptionId)}`;
}

/** Defender for Cloud's "Environment settings", where every subscription's e-mail notifications are. */
export function environmentSettingsUrl(portalUrl: string): string | undefined {
  const base = portalBase(portalUrl);
  if (base === undefined) return undefined;
  return `${base}/#view/Microsoft_Azure_Security/SecurityMenuBlade/~/EnvironmentSettings`;
}

/** One subscription's overview. */
export function subscriptionOverviewUrl(portalUrl: string, subscriptionId: string): string | undefined {
  const base = portalBase(portalUrl);
  if (base === undefined) return undefined;
  return `${base}/#resource/subscriptions/${encodeURIComponent(subscriptionId)}/overview`;
}

/** A built-in Azure Policy definition. */
export function policyDefinitionUrl(portalUrl: string, definitionId: string): string | undefined {
  const base = portalBase(portalUrl);
  if (base === undefined) return undefined;
  const resourceId = `/providers/Microsoft.Authorization/policyDefinitions/${definitionId}`;
  return `${base}/#view/Microsoft_Azure_Policy/PolicyDetailBlade/definitionId/${encodeURIComponent(resourceId)}`;
}

/**
 * The portal's origin and path without a trailing slash, or undefined when it is not an http(s)
 * URL. A bare host (`portal.azure.cn`) is taken as https.
 */
function portalBase(portalUrl: string): string | undefined {
  const text = /^[a-z][a-z\d+.-]*:\/\//i.test(portalUrl) ? portalUrl : `https://${portalUrl}`;
  try {
    const url = new URL(text);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    return url.origin + url.pathname.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}
