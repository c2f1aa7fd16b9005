/**
 * The project's own rules over infra/ (test/infra/bicep-lint.ts): what the Bicep compiler cannot
 * know, read with tree-sitter-bicep. Each rule is shown to fail on a deliberately broken fixture,
 * by rule id and line. Whether infra/ is valid Bicep is bicep-compile.test.ts's to show.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_SETTING_NAMES } from '../../../src/compose/app-settings.js';
import {
  BICEP_RULES,
  checkSettingsAgree,
  collectBicepAppSettings,
  lintBicepDirectory,
  lintParsedFiles,
  NOT_SET_IN_AZURE,
  parseBicep,
  readLocalSettingNames,
  readRoleAllowList,
  REPO_ROOT,
  type BicepFinding,
  type ParsedBicepFile,
} from '../../infra/bicep-lint.js';

const INFRA = join(REPO_ROOT, 'infra');
const FIXTURES = join(REPO_ROOT, 'test/infra/fixtures');
const FIXTURE_ROLES_PATH = join(FIXTURES, 'roles.json');
const LOCAL_SETTINGS = join(REPO_ROOT, 'local.settings.example.json');

async function parseFixture(name: string): Promise<ParsedBicepFile> {
  const path = join(FIXTURES, name);
  return parseBicep(path, readFileSync(path, 'utf8'));
}

/** The findings of every rule for one fixture. */
async function lintFixture(name: string): Promise<BicepFinding[]> {
  return lintParsedFiles([await parseFixture(name)], readRoleAllowList(FIXTURE_ROLES_PATH), FIXTURE_ROLES_PATH);
}

const ruleAtLine = (finding: BicepFinding): string => `${finding.rule}@${finding.line}`;

describe('infra/', () => {
  it('every .bicep file passes every rule, and the app settings agree', async () => {
    // The templates the deployment uses must exist: an empty infra/ would pass vacuously.
    for (const required of ['main.bicep', 'modules/subscription-hook.bicep', 'tenant/main.bicep', 'roles.json']) {
      expect(existsSync(join(INFRA, required)), `infra/${required}`).toBe(true);
    }
    const { files, findings } = await lintBicepDirectory(INFRA);
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(findings.map((finding) => `${finding.file}:${finding.line}:${finding.column} ${finding.rule} ${finding.message}`)).toEqual([]);
    // The settings check read the function app's settings, not nothing.
    const settings = collectBicepAppSettings(files);
    expect(settings.location).toBeDefined();
    for (const name of APP_SETTING_NAMES.filter((setting) => !(setting in NOT_SET_IN_AZURE)))
      expect(settings.names.has(name), name).toBe(true);
    // The host's storage is named by service URIs in the cloud's own suffix (the rules above fail
    // otherwise; this shows they looked at infra/'s settings): never by account name alone, which
    // only the public cloud resolves.
    expect([...settings.names.keys()].filter((name) => /^AzureWebJobsStorage__accountName$/i.test(name))).toEqual([]);
    for (const service of ['blob', 'queue', 'table'])
      expect(settings.names.get(`AzureWebJobsStorage__${service}ServiceUri`)?.text, service).toBe(
        `'https://\${storage.name}.${service}.\${environment().suffixes.storage}'`,
      );
  });

  it('keeps roles.json well formed: a GUID and a reason for every role', () => {
    const roles = readRoleAllowList(join(INFRA, 'roles.json'));
    expect(roles.size).toBeGreaterThan(0);
    for (const [name, role] of roles) {
      expect(role.id, name).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(role.why.length, name).toBeGreaterThan(10);
    }
  });
});

describe('the Bicep checker on fixtures', () => {
  it('has one id per rule', () => {
    expect(new Set(BICEP_RULES.map((rule) => rule.id)).size).toBe(BICEP_RULES.length);
  });

  it('passes a good file that uses every shape the rules look at', async () => {
    expect(await lintFixture('good.bicep')).toEqual([]);
  });

  it.each([
    [
      'role-definition-not-listed.bicep',
      ['role-definition-allow-list@9', 'role-definition-allow-list@17', 'role-definition-allow-list@27', 'role-definition-allow-list@37'],
    ],
    [
      'custom-role.bicep',
      ['role-definition-allow-list@43', 'role-definition-allow-list@44', 'role-definition-allow-list@46', 'role-definition-allow-list@63'],
    ],
    ['role-assignment-name.bicep', ['role-assignment-guid-name@6']],
    ['module-floating-tag.bicep', ['module-version-pinned@1', 'module-version-pinned@5']],
    [
      'secret-output.bicep',
      [
        'no-secret-outputs@10',
        'no-secret-outputs@10',
        'no-secret-outputs@11',
        'no-secret-outputs@12',
        'no-secret-outputs@13',
        'no-secret-outputs@14',
      ],
    ],
    ['secret-parameter.bicep', ['secure-secret-parameters@4', 'secure-secret-parameters@5']],
    ['storage-shared-key.bicep', ['storage-account-hardened@7', 'storage-account-hardened@8', 'storage-account-hardened@13']],
    ['web-app-https.bicep', ['web-app-hardened@5', 'web-app-hardened@7', 'web-app-hardened@12']],
    [
      'communication-local-auth.bicep',
      ['communication-service-hardened@6', 'communication-service-hardened@10', 'communication-service-hardened@18'],
    ],
  ])('%s fails exactly its rule, on the broken lines', async (fixture, expected) => {
    expect((await lintFixture(fixture)).map(ruleAtLine)).toEqual(expected);
  });

  it('names what is wrong in each message', async () => {
    const messages = async (fixture: string): Promise<string[]> => (await lintFixture(fixture)).map((finding) => finding.message);
    expect(await messages('role-definition-not-listed.bicep')).toEqual([
      expect.stringMatching(
        /^role definition 8e3af657-a8ff-443f-a75c-2fe8c4bcb635 \(roleDefinitionId through 'ownerId' \(line 4\)\) is not in test\/infra\/fixtures\/roles\.json/,
      ),
      expect.stringMatching(/^role definition b24988ac-6180-42a0-ab88-20f7382dd24c \(roleDefinitionId\) is not in/),
      expect.stringMatching(/^role "Owner" is not in/),
      "role definition from the parameter 'anyRole', which the checker cannot trace to test/infra/fixtures/roles.json: read the id from test/infra/fixtures/roles.json (loadJsonContent) in this file",
    ]);
    expect(await messages('role-assignment-name.bicep')).toEqual([
      expect.stringContaining("role assignment 'reader' is named \"'reader-${principalId}'\": name it with guid("),
    ]);
    expect(await messages('module-floating-tag.bicep')).toEqual([
      expect.stringContaining("not '0.4'"),
      expect.stringContaining("not 'latest'"),
    ]);
    expect(await messages('secret-output.bicep')).toEqual([
      'output \'firstKey\' looks like a secret ("key" in its name): do not output secrets',
      expect.stringContaining("output 'firstKey' carries listKeys()"),
      expect.stringContaining("output 'viaFunction' carries listKeys()"),
      expect.stringContaining("output 'forwarded' carries the @secure() parameter 'acsAccessKey'"),
      expect.stringContaining("output 'connection' carries a connection string with AccountKey through 'connection'"),
      expect.stringContaining('output \'adminPassword\' looks like a secret ("password" in its name)'),
    ]);
    expect(await messages('storage-shared-key.bicep')).toEqual([
      "storage account 'storage': properties.allowSharedKeyAccess is true; set it to false",
      "storage account 'storage': properties.minimumTlsVersion is \"TLS1_0\"; set it to 'TLS1_2'",
      "storage account 'avm': params.allowSharedKeyAccess is not set; set it to false",
    ]);
    // A custom role declared in the file and granted by its symbol passes (contactWriter); a wide
    // one, or a role definition the file only names (`existing`), does not.
    expect(await messages('custom-role.bicep')).toEqual([
      "custom role 'tooWide': the action 'Microsoft.Security/*' is a wildcard: name each operation the role needs",
      "custom role 'tooWide': the action 'Microsoft.Authorization/roleAssignments/write' is a Microsoft.Authorization right, with which the role could grant more",
      "custom role 'tooWide': dataActions grants data-plane rights: a custom role here grants control-plane actions only",
      "role definition from 'owner', which the checker cannot trace to test/infra/fixtures/roles.json: read the id from test/infra/fixtures/roles.json (loadJsonContent) in this file",
    ]);
    expect(await messages('communication-local-auth.bicep')).toEqual([
      "communication service 'keysOn': properties.disableLocalAuth is false; set it to true",
      "communication service 'olderApi': properties.disableLocalAuth is not set; set it to true",
      "communication service 'avmAcs': params.disableLocalAuth is not set; set it to true (a module version without that parameter cannot turn local authentication off: declare the Microsoft.Communication/communicationServices resource instead)",
    ]);
    expect(await messages('web-app-https.bicep')).toEqual([
      "web app 'site': properties.httpsOnly is false; set it to true",
      "web app 'site': properties.siteConfig.minTlsVersion is \"1.0\"; set it to '1.2'",
      "web app 'avmSite': params.siteConfig.minTlsVersion is not set; set it to '1.2'",
    ]);
  });

  it('refuses a roles.json entry without a GUID or a reason, naming the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-roles-'));
    try {
      const path = join(dir, 'roles.json');
      writeFileSync(path, JSON.stringify({ reader: { id: 'Reader', why: 'lists subscriptions' } }));
      expect(() => readRoleAllowList(path)).toThrow(/reader\.id must be a role definition GUID/);
      writeFileSync(path, JSON.stringify({ reader: { id: 'acdd72a7-3385-48ef-bd42-f606fba81ae7', why: '' } }));
      expect(() => readRoleAllowList(path)).toThrow(/reader\.why must say why/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints findings from the CLI and exits 1 when there are any', () => {
    const run = spawnSync(
      process.execPath,
      [join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'), 'test/infra/bicep-lint.ts', 'test/infra/fixtures'],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('test/infra/fixtures/role-assignment-name.bicep:6:9 role-assignment-guid-name ');
    expect(run.stderr).toMatch(/\d+ Bicep file\(s\) checked, \d+ finding\(s\)/);
  });
});

describe('the app settings agree', () => {
  /** The host's identity-based storage settings, as infra/modules/function-app.bicep writes them. */
  const HOST_STORAGE = [
    "AzureWebJobsStorage__blobServiceUri: 'https://${account}.blob.${environment().suffixes.storage}'",
    "AzureWebJobsStorage__queueServiceUri: 'https://${account}.queue.${environment().suffixes.storage}'",
    "AzureWebJobsStorage__tableServiceUri: 'https://${account}.table.${environment().suffixes.storage}'",
    "AzureWebJobsStorage__credential: 'managedidentity'",
    'AzureWebJobsStorage__clientId: client',
  ];
  /** A function app module in memory whose settings come from its caller, as infra/ does it. */
  const module = (host: readonly string[]): string => `
param settings object
var account = 'cwstate'
var client = '00000000-0000-0000-0000-000000000000'
resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: 'cw'
  properties: {
    httpsOnly: true
    siteConfig: { minTlsVersion: '1.2' }
  }
  resource config 'config' = {
    name: 'appsettings'
    properties: union(settings, {
${host.map((line) => `      ${line}`).join('\n')}
      AZURE_CLIENT_ID: client
    })
  }
}
`;
  const ALL_IN_AZURE = APP_SETTING_NAMES.filter((name) => !(name in NOT_SET_IN_AZURE));

  async function bicepWith(names: readonly string[], extra = '', host = HOST_STORAGE): Promise<ParsedBicepFile[]> {
    const caller = `
var common = {
${names.map((name) => `  ${name}: 'value'`).join('\n')}
${extra}
}
module app 'modules/app.bicep' = {
  name: 'app'
  params: {
    settings: common
  }
}
`;
    return [
      await parseBicep(join(FIXTURES, 'memory/main.bicep'), caller),
      await parseBicep(join(FIXTURES, 'memory/modules/app.bicep'), module(host)),
    ];
  }

  const check = async (
    bicepNames: readonly string[],
    localNames: readonly string[] = APP_SETTING_NAMES,
    extra = '',
    host = HOST_STORAGE,
  ): Promise<BicepFinding[]> =>
    checkSettingsAgree({
      appSettingNames: APP_SETTING_NAMES,
      bicep: collectBicepAppSettings(await bicepWith(bicepNames, extra, host)),
      localSettingNames: localNames,
      localSettingsFile: 'local.settings.example.json',
    });

  it('agree when Bicep sets every app setting but the documented exceptions, through a module parameter', async () => {
    expect(await check(ALL_IN_AZURE)).toEqual([]);
    // An exception listed with an empty value (deliberately unset) is fine too.
    expect(await check(ALL_IN_AZURE, APP_SETTING_NAMES, "  AZURE_RESOURCE_MANAGER_ENDPOINT: ''")).toEqual([]);
  });

  it('fail when Bicep misses an app setting', async () => {
    const findings = await check(ALL_IN_AZURE.filter((name) => name !== 'CONTACT_WATCH_EMAIL_SENDER'));
    expect(findings.map((finding) => [finding.rule, finding.file, finding.message])).toEqual([
      [
        'app-settings-agree',
        'test/infra/fixtures/memory/modules/app.bicep',
        "app setting CONTACT_WATCH_EMAIL_SENDER (APP_SETTING_NAMES in src/compose/app-settings.ts) is missing from the function app's settings in the Bicep",
      ],
    ]);
  });

  it('fail when local.settings.example.json misses an app setting', async () => {
    const findings = await check(
      ALL_IN_AZURE,
      APP_SETTING_NAMES.filter((name) => name !== 'CONTACT_WATCH_SCAN_SCHEDULE'),
    );
    expect(findings.map((finding) => [finding.rule, finding.file, finding.message])).toEqual([
      [
        'app-settings-agree',
        'local.settings.example.json',
        'app setting CONTACT_WATCH_SCAN_SCHEDULE is missing from local.settings.example.json',
      ],
    ]);
  });

  it('fail on an unknown name in Bicep (a typo) and on a value for a setting that must stay unset in Azure', async () => {
    const findings = await check(
      ALL_IN_AZURE,
      APP_SETTING_NAMES,
      "  CONTACT_WATCH_ALERT_RECIPIENT: 'x'\n  CONTACT_WATCH_ACS_CONNECTION_STRING: 'endpoint=https://x/;accesskey=abc'",
    );
    expect(findings.map((finding) => `${finding.rule}@${finding.line} ${finding.message}`)).toEqual([
      expect.stringMatching(
        /^app-settings-agree@\d+ app setting CONTACT_WATCH_ACS_CONNECTION_STRING has a value in the Bicep, but it must stay empty or absent in Azure: /,
      ),
      expect.stringMatching(
        /^app-settings-agree@\d+ app setting CONTACT_WATCH_ALERT_RECIPIENT in the Bicep is neither in APP_SETTING_NAMES/,
      ),
    ]);
  });

  it('fail on AzureWebJobsStorage__accountName, on a host service URI outside the cloud, on a missing one and on a key credential', async () => {
    const findings = await check(ALL_IN_AZURE, APP_SETTING_NAMES, '', [
      "AzureWebJobsStorage__accountName: 'cwstate'",
      "AzureWebJobsStorage__blobServiceUri: 'https://${account}.blob.core.windows.net'",
      "AzureWebJobsStorage__tableServiceUri: 'https://${account}.table.${environment().suffixes.storage}'",
      "AzureWebJobsStorage__credential: 'connectionstring'",
    ]);
    expect(findings.map((finding) => finding.message)).toEqual([
      "AzureWebJobsStorage__accountName is valid only for an account with the public cloud's default DNS suffix (core.windows.net): name each service by URI instead (AzureWebJobsStorage__blobServiceUri, AzureWebJobsStorage__queueServiceUri, AzureWebJobsStorage__tableServiceUri), built from environment().suffixes.storage",
      "AzureWebJobsStorage__blobServiceUri is 'https://${account}.blob.core.windows.net': set it to 'https://${<account>}.blob.${environment().suffixes.storage}', the cloud's own storage suffix",
      "the function app has no AzureWebJobsStorage__queueServiceUri: set it to 'https://${<account>}.queue.${environment().suffixes.storage}'",
      "AzureWebJobsStorage__credential must be 'managedidentity' (the host reaches its storage with the managed identity)",
      'the function app has no AzureWebJobsStorage__clientId: a user-assigned identity must be named by its client id',
    ]);
    expect(new Set(findings.map((finding) => finding.rule))).toEqual(new Set(['app-settings-agree']));
  });

  it('read local.settings.example.json: it lists every app setting', () => {
    const local = readLocalSettingNames(LOCAL_SETTINGS);
    for (const name of APP_SETTING_NAMES) expect(local, name).toContain(name);
  });
});
