/**
 * Exemptions as stored, the forms of CONTACT_WATCH_STORAGE, and the tables a store creates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TableServiceClient } from '@azure/data-tables';
import { InvalidExemptionError, isExemptionActive } from '../../../src/core/exemptions.js';
import { SettingsError } from '../../../src/core/settings-error.js';
import { openStateStore, parseStorageSetting, DEVELOPMENT_TABLE_ENDPOINT } from '../../../src/adapters/table-storage/index.js';
import { DEVSTORE_ACCOUNT, DEVSTORE_KEY, startAzurite, type AzuriteTables } from '../../support/azurite.js';
import { manualClock, subscriptionIdFor, uniquePrefix } from './support.js';

let azurite: AzuriteTables;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

const id = subscriptionIdFor(5);
const request = { subscriptionId: id, reason: 'lab subscription, deleted at quarter end', owner: 'jane@fabrikam.com', expiresOn: '2025-06-30', createdBy: 'jane@fabrikam.com' };

describe('exemptions in the store', () => {
  it('stores, lists (expired ones included), replaces and removes', async () => {
    const clock = manualClock('2025-05-01T09:00:00Z');
    const store = openStateStore(azurite.connectionString, { tablePrefix: uniquePrefix(), clock: clock.now });
    const stored = await store.putExemption(request);
    expect(stored).toEqual({ ...request, createdAt: '2025-05-01T09:00:00.000Z' });
    await store.putExemption({ ...request, subscriptionId: subscriptionIdFor(6), expiresOn: '2025-05-02' });
    expect(await store.getExemption(id.toUpperCase())).toEqual(stored);

    clock.set('2025-05-03T00:00:00Z');
    const listed = await store.listExemptions();
    expect(listed.map((e) => [e.subscriptionId, isExemptionActive(e, clock.now())])).toEqual([
      [id, true],
      [subscriptionIdFor(6), false],
    ]);

    const renewed = await store.putExemption({ ...request, expiresOn: '2025-07-31', reason: 'extended' });
    expect((await store.getExemption(id))?.expiresOn).toBe('2025-07-31');
    expect(renewed.reason).toBe('extended');

    expect(await store.removeExemption(id)).toBe(true);
    expect(await store.removeExemption(id)).toBe(false);
    expect(await store.getExemption(id)).toBeUndefined();
  });

  it('refuses an invalid exemption with every problem named, and stores nothing', async () => {
    const store = openStateStore(azurite.connectionString, { tablePrefix: uniquePrefix(), clock: () => new Date('2025-05-01T09:00:00Z') });
    const attempt = store.putExemption({ ...request, reason: ' ', owner: 'jane', expiresOn: '2026-05-02' }, { fieldNames: { expiresOn: '--expires' } });
    await expect(attempt).rejects.toBeInstanceOf(InvalidExemptionError);
    await expect(attempt).rejects.toThrow(/reason: must not be empty[\s\S]*owner: "jane" is not a valid e-mail address[\s\S]*--expires: 2026-05-02 is more than one year ahead; the latest allowed is 2026-05-01/);
    expect(await store.listExemptions()).toEqual([]);
  });
});

describe('connecting', () => {
  it('creates its tables, prefixed, on first use', async () => {
    const prefix = uniquePrefix();
    const store = openStateStore(azurite.connectionString, { tablePrefix: prefix });
    await store.startRun({ scanId: 'scan-1', trigger: 'test' });
    const service = TableServiceClient.fromConnectionString(azurite.connectionString, { allowInsecureConnection: true });
    const names: string[] = [];
    for await (const table of service.listTables()) if (table.name?.startsWith(prefix)) names.push(table.name);
    expect(names.sort()).toEqual([`${prefix}exemptions`, `${prefix}leases`, `${prefix}scanruns`, `${prefix}subscriptions`]);
    expect((await store.listScanRuns()).map((run) => [run.scanId, run.outcome])).toEqual([['scan-1', 'running']]);
  });

  it('lists scan runs newest first', async () => {
    const store = openStateStore(azurite.connectionString, { tablePrefix: uniquePrefix() });
    for (const [scanId, at] of [['a', '2025-05-01T10:00:00Z'], ['c', '2025-05-01T11:00:00Z'], ['b', '2025-05-01T10:30:00Z']] as const) {
      await store.startRun({ scanId, trigger: 'timer', startedAt: new Date(at) });
    }
    expect((await store.listScanRuns()).map((run) => run.scanId)).toEqual(['c', 'b', 'a']);
    expect((await store.listScanRuns(2)).map((run) => run.scanId)).toEqual(['c', 'b']);
  });

  it('accepts Azurite on any 127.0.0.1 port, with or without DefaultEndpointsProtocol', async () => {
    const withoutProtocol = `AccountName=${DEVSTORE_ACCOUNT};AccountKey=${DEVSTORE_KEY};TableEndpoint=${azurite.tableEndpoint}`;
    const target = parseStorageSetting(withoutProtocol);
    expect(target).toMatchObject({ kind: 'connection-string', allowInsecureConnection: true, tableEndpoint: azurite.tableEndpoint });
    const store = openStateStore(target, { tablePrefix: uniquePrefix() });
    expect(await store.listExemptions()).toEqual([]);
  });

  it('reads every form of the setting and names the setting when one is malformed', () => {
    expect(parseStorageSetting('UseDevelopmentStorage=true')).toMatchObject({ kind: 'connection-string', tableEndpoint: DEVELOPMENT_TABLE_ENDPOINT, allowInsecureConnection: true });
    expect(parseStorageSetting(' https://contoso.table.core.windows.net/ ')).toEqual({ kind: 'token', tableEndpoint: 'https://contoso.table.core.windows.net' });
    expect(parseStorageSetting('DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey=a2V5;EndpointSuffix=core.usgovcloudapi.net')).toMatchObject({
      kind: 'connection-string',
      tableEndpoint: 'https://contoso.table.core.usgovcloudapi.net',
      allowInsecureConnection: false,
    });
    expect(parseStorageSetting('TableEndpoint=https://contoso.table.core.windows.net/;SharedAccessSignature=sv=2024&sig=x')).toMatchObject({ kind: 'connection-string' });

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
    expect(refused('DefaultEndpointsProtocol=http;AccountName=x;AccountKey=a2V5;TableEndpoint=http://10.0.0.5:10002/x', 'AzureWebJobsStorage')).toMatch(
      /^AzureWebJobsStorage points at http:\/\/10\.0\.0\.5:10002: plain http is accepted only on 127\.0\.0\.1/,
    );
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
    expect(refused(`TableEndpoint=https://contoso.table.core.windows.net/?sv=2024-05-04&sig=${secret};SharedAccessSignature=sv=2024-05-04&sig=${secret}`)).toBe(
      'AzureWebJobsStorage has a TableEndpoint with a query ("https://contoso.table.core.windows.net/?sv=…&sig=…"); ' +
        'give the bare endpoint, https://<account>.table.core.windows.net, and the SAS in SharedAccessSignature=',
    );
    expect(refused(`TableEndpoint=ftp://contoso.example/?sig=${secret};SharedAccessSignature=sig=${secret}`)).toMatch(
      /^AzureWebJobsStorage has a TableEndpoint with an unsupported scheme: "ftp:\/\/contoso\.example\/\?sig=…"/,
    );
    expect(refused(`AccountName=contoso;AccountKey=a2V5;TableEndpoint=https://user:${secret}@contoso.table.core.windows.net`)).toMatch(/TableEndpoint .*credentials/);
    // A URL with a password, used with the managed identity: refused for it.
    expect(refused(`https://user:${secret}@contoso.table.core.windows.net`)).toMatch(/^AzureWebJobsStorage .*credentials/);
    expect(refused(`https://contoso:${secret}@tab le`)).toBe(
      'AzureWebJobsStorage is not a valid URL: "https://…"; expected https://<account>.table.core.windows.net',
    );
    // A key pasted without its name: which part is wrong, not what it holds.
    expect(refused(`AccountName=contoso;${secret}`)).toMatch(/part 2 is not Key=Value/);
  });
});
