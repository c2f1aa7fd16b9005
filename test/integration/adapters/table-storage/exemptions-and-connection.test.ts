/**
 * The forms of CONTACT_WATCH_STORAGE, and the state store's contract (exemptions, the tables it
 * creates) against Azurite.
 */
import { describe, expect, it } from 'vitest';
import { SettingsError } from '../../../../src/core/settings-error.js';
import { openStateStore, parseStorageSetting, DEVELOPMENT_TABLE_ENDPOINT } from '../../../../src/adapters/table-storage/index.js';
import { DEVSTORE_ACCOUNT, DEVSTORE_KEY } from '../../../support/azurite.js';
import { azuriteTables } from '../../../contract/backends.js';
import { stateExemptionsContract } from '../../../contract/state-exemptions.contract.js';
import { uniquePrefix } from '../../../contract/support.js';

const backend = azuriteTables();
stateExemptionsContract(backend);

describe('connecting', () => {
  it('accepts Azurite on any 127.0.0.1 port, with or without DefaultEndpointsProtocol', async () => {
    const azurite = backend.azurite();
    const withoutProtocol = `AccountName=${DEVSTORE_ACCOUNT};AccountKey=${DEVSTORE_KEY};TableEndpoint=${azurite.tableEndpoint}`;
    const target = parseStorageSetting(withoutProtocol);
    expect(target).toMatchObject({ kind: 'connection-string', allowInsecureConnection: true, tableEndpoint: azurite.tableEndpoint });
    const store = openStateStore(target, { tablePrefix: uniquePrefix() });
    expect(await store.listExemptions()).toEqual([]);
  });

  it('reads every form of the setting and names the setting when one is malformed', () => {
    expect(parseStorageSetting('UseDevelopmentStorage=true')).toMatchObject({
      kind: 'connection-string',
      tableEndpoint: DEVELOPMENT_TABLE_ENDPOINT,
      allowInsecureConnection: true,
    });
    expect(parseStorageSetting(' https://contoso.table.core.windows.net/ ')).toEqual({
      kind: 'token',
      tableEndpoint: 'https://contoso.table.core.windows.net',
    });
    expect(
      parseStorageSetting('DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey=a2V5;EndpointSuffix=core.usgovcloudapi.net'),
    ).toMatchObject({
      kind: 'connection-string',
      tableEndpoint: 'https://contoso.table.core.usgovcloudapi.net',
      allowInsecureConnection: false,
    });
    expect(parseStorageSetting('TableEndpoint=https://contoso.table.core.windows.net/;SharedAccessSignature=sv=2024&sig=x')).toMatchObject({
      kind: 'connection-string',
    });

    const refused = (value: string, setting = 'CONTACT_WATCH_STORAGE') => {
      try {
        parseStorageSetting(value, setting);
      } catch (error) {
        expect(error).toBeInstanceOf(SettingsError);
        expect((error as SettingsError).setting).toBe(setting);
        return (error as Error).message;
      }
      throw new Error(`accepted: ${value}`);
    };
    expect(refused('')).toMatch(/^CONTACT_WATCH_STORAGE is empty/);
    expect(refused('http://contoso.table.core.windows.net')).toMatch(/must be https/);
    expect(
      refused('DefaultEndpointsProtocol=http;AccountName=x;AccountKey=a2V5;TableEndpoint=http://10.0.0.5:10002/x', 'AzureWebJobsStorage'),
    ).toMatch(/^AzureWebJobsStorage points at http:\/\/10\.0\.0\.5:10002: plain http is accepted only on 127\.0\.0\.1/);
    expect(refused('AccountName=contoso;EndpointSuffix=core.windows.net')).toMatch(/without AccountKey= or SharedAccessSignature=/);
    expect(refused('not a connection string')).toMatch(/neither a URL nor a connection string/);
    expect(refused('https://contoso.table.core.windows.net?sv=1&sig=2')).toMatch(/without a query/);
  });

  it('never repeats a key, a SAS or a password when it refuses the setting', () => {
    const secret = 'c2VjcmV0LXNpZ25hdHVyZQ';
    const refused = (value: string) => {
      try {
        parseStorageSetting(value, 'AzureWebJobsStorage');
      } catch (error) {
        expect((error as SettingsError).setting).toBe('AzureWebJobsStorage');
        expect((error as Error).message).not.toContain(secret);
        return (error as Error).message;
      }
      throw new Error(`accepted: ${value}`);
    };
    // A TableEndpoint carrying a SAS: refused, the endpoint shown without the signature.
    expect(
      refused(
        `TableEndpoint=https://contoso.table.core.windows.net/?sv=2024-05-04&sig=${secret};SharedAccessSignature=sv=2024-05-04&sig=${secret}`,
      ),
    ).toBe(
      'AzureWebJobsStorage has a TableEndpoint with a query ("https://contoso.table.core.windows.net/?sv=…&sig=…"); ' +
        'give the bare endpoint, https://<account>.table.core.windows.net, and the SAS in SharedAccessSignature=',
    );
    expect(refused(`TableEndpoint=ftp://contoso.example/?sig=${secret};SharedAccessSignature=sig=${secret}`)).toMatch(
      /^AzureWebJobsStorage has a TableEndpoint with an unsupported scheme: "ftp:\/\/contoso\.example\/\?sig=…"/,
    );
    expect(refused(`AccountName=contoso;AccountKey=a2V5;TableEndpoint=https://user:${secret}@contoso.table.core.windows.net`)).toMatch(
      /TableEndpoint .*credentials/,
    );
    // A URL with a password, used with the managed identity: refused for it.
    expect(refused(`https://user:${secret}@contoso.table.core.windows.net`)).toMatch(/^AzureWebJobsStorage .*credentials/);
    expect(refused(`https://contoso:${secret}@tab le`)).toBe(
      'AzureWebJobsStorage is not a valid URL: "https://…"; expected https://<account>.table.core.windows.net',
    );
    // A key pasted without its name: which part is wrong, not what it holds.
    expect(refused(`AccountName=contoso;${secret}`)).toMatch(/part 2 is not Key=Value/);
  });
});
