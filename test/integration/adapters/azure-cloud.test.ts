import { describe, expect, it } from 'vitest';
import { resolveAzureCloud } from '../../../src/adapters/azure-cloud.js';
import { createAzureAdapters } from '../../../src/compose/azure.js';
import { SettingsError } from '../../../src/core/settings-error.js';

describe('resolveAzureCloud', () => {
  it('defaults to the public cloud', () => {
    expect(resolveAzureCloud({})).toEqual({
      name: 'AzureCloud',
      resourceManagerEndpoint: 'https://management.azure.com',
      tokenScope: 'https://management.azure.com/.default',
      authorityHost: 'https://login.microsoftonline.com',
      portalUrl: 'https://portal.azure.com',
    });
    expect(resolveAzureCloud({ AZURE_CLOUD: '  ' }).name).toBe('AzureCloud');
  });

  it('knows US Government and China, case-insensitively', () => {
    expect(resolveAzureCloud({ AZURE_CLOUD: 'azureusgovernment' })).toEqual({
      name: 'AzureUSGovernment',
      resourceManagerEndpoint: 'https://management.usgovcloudapi.net',
      tokenScope: 'https://management.usgovcloudapi.net/.default',
      authorityHost: 'https://login.microsoftonline.us',
      portalUrl: 'https://portal.azure.us',
    });
    expect(resolveAzureCloud({ AZURE_CLOUD: 'AZURECHINACLOUD' })).toEqual({
      name: 'AzureChinaCloud',
      resourceManagerEndpoint: 'https://management.chinacloudapi.cn',
      tokenScope: 'https://management.chinacloudapi.cn/.default',
      authorityHost: 'https://login.chinacloudapi.cn',
      portalUrl: 'https://portal.azure.cn',
    });
  });

  it('refuses an unknown cloud, naming the variable and the allowed values', () => {
    const error = catchError(() => resolveAzureCloud({ AZURE_CLOUD: 'AzureGermanCloud' }));
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as SettingsError).setting).toBe('AZURE_CLOUD');
    expect(error.message).toContain('AZURE_CLOUD');
    expect(error.message).toContain('AzureGermanCloud');
    expect(error.message).toContain('AzureCloud, AzureUSGovernment, AzureChinaCloud');
  });

  it('lets AZURE_RESOURCE_MANAGER_ENDPOINT override the endpoint and the token scope', () => {
    const cloud = resolveAzureCloud({ AZURE_RESOURCE_MANAGER_ENDPOINT: 'https://127.0.0.1:8443/', AZURE_CLOUD: 'AzureChinaCloud' });
    expect(cloud.resourceManagerEndpoint).toBe('https://127.0.0.1:8443');
    expect(cloud.tokenScope).toBe('https://127.0.0.1:8443/.default');
    // The rest of the cloud stays as named.
    expect(cloud.authorityHost).toBe('https://login.chinacloudapi.cn');
    expect(cloud.portalUrl).toBe('https://portal.azure.cn');
    expect(resolveAzureCloud({ AZURE_RESOURCE_MANAGER_ENDPOINT: 'https://arm.contoso.internal/stack//' }).tokenScope).toBe(
      'https://arm.contoso.internal/stack/.default',
    );
  });

  it.each([
    ['http://127.0.0.1:8443', 'https'],
    ['management.azure.com', 'not an absolute URL'],
    ['https://user:secret@management.azure.com', 'credentials'],
    ['https://management.azure.com/?x=1', 'query'],
  ])('refuses AZURE_RESOURCE_MANAGER_ENDPOINT=%s', (value, why) => {
    const error = catchError(() => resolveAzureCloud({ AZURE_RESOURCE_MANAGER_ENDPOINT: value }));
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as SettingsError).setting).toBe('AZURE_RESOURCE_MANAGER_ENDPOINT');
    expect(error.message).toContain('AZURE_RESOURCE_MANAGER_ENDPOINT');
    expect(error.message).toContain(why);
  });
});

describe('createAzureAdapters', () => {
  it('stops on a malformed cloud setting before building any client', () => {
    expect(() => createAzureAdapters({ AZURE_CLOUD: 'Mars' })).toThrow(SettingsError);
  });

  it('wires every adapter to the same cloud', () => {
    const azure = createAzureAdapters({ AZURE_CLOUD: 'AzureUSGovernment' });
    expect(azure.cloud.resourceManagerEndpoint).toBe('https://management.usgovcloudapi.net');
    expect(azure.contacts.listUrl('00000000-0000-0000-0000-00000000000A')).toBe(
      'https://management.usgovcloudapi.net/subscriptions/00000000-0000-0000-0000-00000000000a/providers/Microsoft.Security/securityContacts?api-version=2023-12-01-preview',
    );
  });
});

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}
