import { describe, expect, it } from 'vitest';
import {
  emailNotificationsUrl,
  environmentSettingsUrl,
  policyDefinitionUrl,
  PORTAL_URLS,
  subscriptionOverviewUrl,
} from '../../../src/core/azure-portal.js';

const ID = '6f1b2c3d-0000-4000-8000-000000000001';

describe('portal links', () => {
  it('are built on the portal of the cloud', () => {
    expect(emailNotificationsUrl(PORTAL_URLS.AzureUSGovernment, ID)).toBe(
      `https://portal.azure.us/#view/Microsoft_Azure_Security/PolicyMenuBlade/~/emailNotifications/subscriptionId/${ID}`,
    );
    expect(environmentSettingsUrl(PORTAL_URLS.AzureCloud)).toBe(
      'https://portal.azure.com/#view/Microsoft_Azure_Security/SecurityMenuBlade/~/EnvironmentSettings',
    );
    expect(subscriptionOverviewUrl(PORTAL_URLS.AzureChinaCloud, ID)).toBe(`https://portal.azure.cn/#resource/subscriptions/${ID}/overview`);
    expect(policyDefinitionUrl(PORTAL_URLS.AzureCloud, '4f4f78b8-e367-4b10-a341-d9a4ad5cf1c7')).toBe(
      'https://portal.azure.com/#view/Microsoft_Azure_Policy/PolicyDetailBlade/definitionId/%2Fproviders%2FMicrosoft.Authorization%2FpolicyDefinitions%2F4f4f78b8-e367-4b10-a341-d9a4ad5cf1c7',
    );
  });

  it('take a bare host as https, and drop a trailing slash', () => {
    expect(environmentSettingsUrl('portal.azure.cn')).toBe(
      'https://portal.azure.cn/#view/Microsoft_Azure_Security/SecurityMenuBlade/~/EnvironmentSettings',
    );
    expect(subscriptionOverviewUrl('https://portal.azure.us/', ID)).toBe(`https://portal.azure.us/#resource/subscriptions/${ID}/overview`);
  });

  it('are never built on a portal URL that is not http(s)', () => {
    for (const portal of ['javascript:alert(1)//', 'ftp://portal.azure.com', 'data:text/html,x', 'https://', '']) {
      expect(emailNotificationsUrl(portal, ID)).toBeUndefined();
      expect(environmentSettingsUrl(portal)).toBeUndefined();
      expect(subscriptionOverviewUrl(portal, ID)).toBeUndefined();
      expect(policyDefinitionUrl(portal, 'x')).toBeUndefined();
    }
  });

  it('encode what they carry', () => {
    expect(emailNotificationsUrl(PORTAL_URLS.AzureCloud, 'a/b#c')).toMatch(/subscriptionId\/a%2Fb%23c$/);
  });
});
