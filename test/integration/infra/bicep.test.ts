/**
 * Offline validation of infra/: every .bicep file parses with tree-sitter-bicep and
 * passes the project's lint rules; the Functions app settings in Bicep, local.settings.example.json
 * and APP_SETTING_NAMES agree. Each rule is shown to fail on a deliberately broken fixture, by
 * rule id and line.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  syntaxFindings,
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

/** The findings of every rule (and the syntax check) for one fixture, as `rule@line`. */
async function lintFixture(name: string): Promise<BicepFinding[]> {
  return lintParsedFiles([await parseFixture(name)], readRoleAllowList(FIXTURE_ROLES_PATH), FIXTURE_ROLES_PATH);
}

const ruleAtLine = (finding: BicepFinding): string => `${finding.rule}@${finding.line}`;

describe('infra/', () => {
  it('every .bicep file parses and passes every rule, and the app settings agree', async () => {
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

  it('fails a syntax error with file, line, column and the text around it', async () => {
    const findings = await lintFixture('syntax-error.bicep');
    expect(findings.filter((finding) => finding.rule === 'syntax').map(ruleAtLine)).toEqual(['syntax@3']);
    expect(findings[0]).toMatchObject({ file: 'test/infra/fixtures/syntax-error.bicep', line: 3, column: 1 });
    expect(findings[0]!.message).toContain("resource storage 'Microsoft.Storage/storageAccounts@2024-01-01'");
  });

  it('fails a MISSING node (an unclosed call) at its position', async () => {
    const file = await parseBicep(join(FIXTURES, 'in-memory.bicep'), "var joined = concat([1], [2]\nvar next = 'a'\n");
    expect(syntaxFindings(file).map((finding) => [finding.rule, finding.line, finding.column, finding.message])).toEqual([
      ['syntax', 1, 29, 'missing ")" near "var joined = concat([1], [2]"'],
    ]);
  });

  it.each([
    [
      'role-definition-not-listed.bicep',
      [
        'role-definition-allow-list@10',
        'role-definition-allow-list@18',
        'role-definition-allow-list@26',
        'role-definition-allow-list@36',
        'role-definition-allow-list@46',
      ],
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
    ['undeclared-symbol.bicep', ['undeclared-symbol@30', 'undeclared-symbol@31']],
  ])('%s fails exactly its rule, on the broken lines', async (fixture, expected) => {
    expect((await lintFixture(fixture)).map(ruleAtLine)).toEqual(expected);
  });

  it('names what is wrong in each message', async () => {
    const messages = async (fixture: string): Promise<string[]> => (await lintFixture(fixture)).map((finding) => finding.message);
    expect(await messages('role-definition-not-listed.bicep')).toEqual([
      expect.stringMatching(
        /^role definition 8e3af657-a8ff-443f-a75c-2fe8c4bcb635 \(roleDefinitionId through 'ownerId' \(line 5\)\) is not in test\/infra\/fixtures\/roles\.json/,
      ),
      expect.stringMatching(/^role definition b24988ac-6180-42a0-ab88-20f7382dd24c \(roleDefinitionId\) is not in/),
      expect.stringMatching(/^roles\.owner: there is no role "owner" in/),
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
    expect(await messages('undeclared-symbol.bicep')).toEqual([
      "'prefx' is not declared in this file",
      "'Location' is not declared in this file (names are case-sensitive: did you mean 'location'?)",
    ]);
    expect(await messages('web-app-https.bicep')).toEqual([
      "web app 'site': properties.httpsOnly is false; set it to true",
      "web app 'site': properties.siteConfig.minTlsVersion is \"1.0\"; set it to '1.2'",
      "web app 'avmSite': params.siteConfig.minTlsVersion is not set; set it to '1.2'",
    ]);
  });

  it('module-contract: a local module called against its declaration fails once per mistake, and a right call passes', async () => {
    const files = [await parseFixture('module-contract/main.bicep'), await parseFixture('module-contract/child.bicep')];
    const findings = lintParsedFiles(files, readRoleAllowList(FIXTURE_ROLES_PATH), FIXTURE_ROLES_PATH);
    expect(findings.map((finding) => `${finding.rule}@${finding.line} ${finding.message}`)).toEqual([
      "module-contract@23 module 'noScope': 'child.bicep' deploys at resourceGroup scope and this file at subscription scope: give the module a scope",
      "module-contract@35 module 'wrong': parameter 'name' is declared string in 'child.bicep' but is given int",
      "module-contract@36 module 'wrong': parameter 'sku' allows 'Standard_LRS', 'Standard_ZRS' in 'child.bicep', not 'Premium_LRS'",
      "module-contract@37 module 'wrong': parameter 'count' is at least 1 in 'child.bicep', not 0",
      "module-contract@38 module 'wrong': parameter 'enabled' is declared bool in 'child.bicep' but is given string",
      "module-contract@39 module 'wrong': parameter 'tier' allows 'Hot', 'Cool' in 'child.bicep', not 'Archive'",
      "module-contract@40 module 'wrong': 'child.bicep' declares no parameter 'location' (it declares: name, sku, count, enabled, tags, zones, tier)",
      "module-contract@47 module 'missing': 'child.bicep' requires 'enabled', not given",
      "module-contract@52 module 'gone': there is no file 'no-such-file.bicep' next to this one",
      "module-contract@58 module 'good': 'child.bicep' has no output 'port' (it declares: endpoint, instances)",
    ]);
  });

  it('follows the modules of infra/ itself: a renamed output or a retyped parameter in a copy fails in main.bicep', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-infra-'));
    try {
      cpSync(INFRA, dir, { recursive: true });
      const edit = (path: string, from: string, to: string): void => {
        const text = readFileSync(join(dir, path), 'utf8');
        expect(text, path).toContain(from);
        writeFileSync(join(dir, path), text.replace(from, to));
      };
      edit('modules/communication.bicep', 'output senderAddress string', 'output sender string');
      edit('modules/function-app.bicep', 'param reminderDays int', 'param reminderDays string');
      edit('modules/event-topic.bicep', 'param topicName string', 'param topicName string\nparam sku string');
      const { findings } = await lintBicepDirectory(dir, { localSettingsPath: false });
      expect(findings.map((finding) => `${finding.file.replace(/^.*\//, '')} ${finding.rule} ${finding.message}`)).toEqual([
        "main.bicep module-contract module 'eventTopic': 'modules/event-topic.bicep' requires 'sku', not given",
        "main.bicep module-contract module 'communication': 'modules/communication.bicep' has no output 'senderAddress' (it declares: communicationServiceName, endpoint, sender, ratePerMinute, ratePerHour)",
        "main.bicep module-contract module 'functionApp': parameter 'reminderDays' is declared string in 'modules/function-app.bicep' but is given int",
        "main.bicep module-contract module 'communication': 'modules/communication.bicep' has no output 'senderAddress' (it declares: communicationServiceName, endpoint, sender, ratePerMinute, ratePerHour)",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
    expect(run.stdout).toContain('test/infra/fixtures/syntax-error.bicep:3:1 syntax ');
    expect(run.stdout).toContain('test/infra/fixtures/role-assignment-name.bicep:6:9 role-assignment-guid-name ');
    expect(run.stderr).toMatch(/\d+ Bicep file\(s\) checked, \d+ finding\(s\)/);
  });
});

describe('the app settings agree', () => {
  /** A function app module in memory whose settings come from its caller, as infra/ does it. */
  const MODULE = `
param settings object
resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: 'cw'
  properties: {
    httpsOnly: true
    siteConfig: { minTlsVersion: '1.2' }
  }
  resource config 'config' = {
    name: 'appsettings'
    properties: union(settings, {
      AzureWebJobsStorage__accountName: 'cwstate'
      AzureWebJobsStorage__credential: 'managedidentity'
      AZURE_CLIENT_ID: 'client'
    })
  }
}
`;
  const ALL_IN_AZURE = APP_SETTING_NAMES.filter((name) => !(name in NOT_SET_IN_AZURE));

  async function bicepWith(names: readonly string[], extra = ''): Promise<ParsedBicepFile[]> {
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
      await parseBicep(join(FIXTURES, 'memory/modules/app.bicep'), MODULE),
    ];
  }

  const check = async (
    bicepNames: readonly string[],
    localNames: readonly string[] = APP_SETTING_NAMES,
    extra = '',
  ): Promise<BicepFinding[]> =>
    checkSettingsAgree({
      appSettingNames: APP_SETTING_NAMES,
      bicep: collectBicepAppSettings(await bicepWith(bicepNames, extra)),
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

  it('read local.settings.example.json: it lists every app setting', () => {
    const local = readLocalSettingNames(LOCAL_SETTINGS);
    for (const name of APP_SETTING_NAMES) expect(local, name).toContain(name);
  });
});
