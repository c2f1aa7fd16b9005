/**
 * The project's own rules over infra/, which the Bicep compiler cannot know: role definitions only
 * from infra/roles.json, role assignments named with guid(), registry modules pinned, no secrets in
 * outputs or parameters, storage, web apps and Communication Services hardened, and the Functions
 * app settings in Bicep agreeing with APP_SETTING_NAMES and local.settings.example.json. Every
 * `.bicep` file is read with tree-sitter-bicep, which needs neither the compiler nor .NET, so these
 * rules run wherever the tests do. The syntax tree, not the ARM JSON of `bicep build`: there a role
 * id is an expression over an inlined copy of roles.json (`variables('roles').reader.id`), which no
 * longer says where the id came from, and settings passed through a module parameter or union()
 * are expressions too. Whether the files are valid Bicep (syntax, declared names, types, module
 * parameters and outputs) is the compiler's to say: bicep-compile.test.ts. Test tooling, not
 * shipped.
 *
 * CLI, for people: `npx tsx test/infra/bicep-lint.ts infra` prints one line per finding
 * (`file:line:column rule-id message`) and exits 1 when there is any.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Node } from 'web-tree-sitter';
import { z } from 'zod';
import { APP_SETTING_NAMES } from '../../src/compose/app-settings.js';
import {
  callArguments,
  callName,
  declarations,
  decoratorNames,
  descendants,
  findBicepFiles,
  finding,
  isAvmModule,
  isResourceType,
  loopSource,
  parseBicep,
  properties,
  propertyKey,
  propertyValue,
  REPO_ROOT,
  resolveLocal,
  stringLiteral,
  topLevel,
  valueAt,
  walk,
  type BicepFinding,
  type BicepLintContext,
  type BicepRule,
  type BicepRuleId,
  type Declaration,
  type ParsedBicepFile,
  type RoleAllowList,
} from './bicep-syntax.js';

export {
  findBicepFiles,
  parseBicep,
  REPO_ROOT,
  type BicepFinding,
  type BicepRule,
  type BicepRuleId,
  type ParsedBicepFile,
  type RoleAllowList,
};

// ---- roles.json ----------------------------------------------------------------------------

const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

const rolesSchema = z.record(
  z.string().min(1),
  z.object({
    id: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a role definition GUID'),
    why: z.string().min(1, 'must say why the app needs this role'),
    /** The built-in role's display name, accepted where AVM takes roleDefinitionIdOrName. */
    name: z.string().min(1).optional(),
  }),
);

/** Reads and validates infra/roles.json; the error names the key at fault. */
export function readRoleAllowList(path: string): RoleAllowList {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: cannot read the role allow-list: ${(error as Error).message}`, { cause: error });
  }
  const parsed = rolesSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(
      `${path}: ${issue.path.join('.') || '(root)'} ${issue.message} (expected { "<role name>": { "id": "<GUID>", "why": "…" } })`,
    );
  }
  return new Map(Object.entries(parsed.data).map(([key, role]) => [key, { id: role.id.toLowerCase(), why: role.why, name: role.name }]));
}

// ---- rule: role definition ids only from roles.json ----------------------------------------

const RESOURCE_ID_FUNCTIONS = new Set([
  'subscriptionResourceId',
  'resourceId',
  'tenantResourceId',
  'managementGroupResourceId',
  'extensionResourceId',
]);
const ROLE_PROPERTIES = new Set(['roledefinitionid', 'roledefinitionidorname']);

const roleDefinitionAllowList: BicepRule = {
  id: 'role-definition-allow-list',
  description:
    'Every role definition granted is one of infra/roles.json, by id or (read from the file) by name, or a custom role declared in the same file that grants only named actions: no wildcard, no Microsoft.Authorization right, no data action.',
  check(file, context) {
    const findings: BicepFinding[] = [];
    const reported = new Set<string>();
    const listedIds = new Set([...context.roles.values()].map((role) => role.id));
    const listed = (none: string): string => [...context.roles.keys()].join(', ') || none;
    const rolesFile = context.rolesPath.startsWith(REPO_ROOT + sep)
      ? relative(REPO_ROOT, context.rolesPath).split(sep).join('/')
      : context.rolesPath;
    const rolesVariables = new Set(
      [...topLevel(file)]
        .filter(
          ([, declared]) =>
            declared.kind === 'var' && declared.value?.type === 'call_expression' && callName(declared.value) === 'loadJsonContent',
        )
        .filter(([, declared]) => {
          const loaded = stringLiteral(callArguments(declared.value!)[0]);
          return loaded !== undefined && resolve(dirname(file.path), loaded) === context.rolesPath;
        })
        .map(([name]) => name),
    );
    /**
     * Custom role definitions this file creates (not `existing` ones: those name a role defined
     * elsewhere, which could be any). Granting one is allowed, as its permissions are in this file,
     * where checkCustomRole below holds them to what it can read and judge.
     */
    const customRoles = declarations(file).filter(
      (declaration) => isResourceType(declaration, 'Microsoft.Authorization/roleDefinitions') && !declaration.existing,
    );
    const customRoleSymbols = new Set(customRoles.map((declaration) => declaration.symbol));
    /**
     * Every identifier a role id is made of must lead to roles.json (or to a literal, checked
     * above) or to a custom role of this file: a variable is followed, a loop variable to what it
     * loops over; a parameter or anything else could carry any role, so it is a finding.
     */
    const checkTraceable = (node: Node, reportAt: Node, depth = 0): void => {
      if (depth > 8) return;
      for (const part of walk(node)) {
        if (part.type !== 'identifier' || part.parent?.childForFieldName('function')?.equals(part)) continue;
        const name = part.text;
        if (rolesVariables.has(name) || customRoleSymbols.has(name)) continue;
        const loop = loopSource(part);
        if (loop) {
          checkTraceable(loop, reportAt, depth + 1);
          continue;
        }
        const declared = topLevel(file).get(name);
        if (declared?.kind === 'var' && declared.value) {
          checkTraceable(declared.value, reportAt, depth + 1);
          continue;
        }
        const what = declared?.kind === 'param' ? `the parameter '${name}'` : `'${name}'`;
        const key = `${reportAt.startIndex}:untraceable:${name}`;
        if (reported.has(key)) continue;
        reported.add(key);
        findings.push(
          finding(
            'role-definition-allow-list',
            file,
            reportAt,
            `role definition from ${what}, which the checker cannot trace to ${rolesFile}: read the id from ${rolesFile} (loadJsonContent) in this file`,
          ),
        );
      }
    };
    /** Literal GUIDs in `node`, reported at `reportAt` (the use, when `node` is a variable's value). */
    const checkGuids = (node: Node, where: string, reportAt: Node = node, via = ''): void => {
      for (const part of walk(node)) {
        if (part.type !== 'string_content') continue;
        for (const match of part.text.matchAll(GUID)) {
          const at = reportAt === node ? part : reportAt;
          const key = `${at.startIndex}:${match[0]}`;
          if (listedIds.has(match[0].toLowerCase()) || reported.has(key)) continue;
          reported.add(key);
          findings.push(
            finding(
              'role-definition-allow-list',
              file,
              at,
              `role definition ${match[0]} (${where}${via}) is not in ${rolesFile} (listed: ${listed('none')})`,
            ),
          );
        }
      }
    };
    /** Identifiers followed to their var/param values, so a GUID kept in a variable is checked too. */
    const checkExpression = (node: Node, where: string, reportAt?: Node, via = '', depth = 0): void => {
      checkGuids(node, where, reportAt ?? node, via);
      if (depth > 6) return;
      for (const part of walk(node)) {
        if (part.type !== 'identifier') continue;
        const resolved = resolveLocal(file, part);
        if (resolved && resolved !== part) {
          checkExpression(
            resolved,
            where,
            reportAt ?? part,
            `${via} through '${part.text}' (line ${resolved.startPosition.row + 1})`,
            depth + 1,
          );
        }
      }
    };

    for (const node of walk(file.tree.rootNode)) {
      // roleDefinitionId: … / roleDefinitionIdOrName: … (AVM role assignments)
      if (node.type === 'object_property' && ROLE_PROPERTIES.has(propertyKey(node)?.toLowerCase() ?? '')) {
        const value = propertyValue(node);
        if (!value) continue;
        checkExpression(value, propertyKey(node)!);
        const resolvedValue = resolveLocal(file, value);
        const viaResourceId = resolvedValue?.type === 'call_expression' && RESOURCE_ID_FUNCTIONS.has(callName(resolvedValue) ?? '');
        if (!viaResourceId) checkTraceable(value, value);
        const literal = stringLiteral(resolveLocal(file, value));
        if (
          literal !== undefined &&
          !literal.match(GUID) &&
          propertyKey(node)!.toLowerCase() === 'roledefinitionidorname' &&
          !context.roles.has(literal) &&
          ![...context.roles.values()].some((role) => role.name === literal)
        ) {
          findings.push(
            finding('role-definition-allow-list', file, value, `role "${literal}" is not in ${rolesFile} (listed: ${listed('none')})`),
          );
        }
      }
      // subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '<guid>') anywhere
      if (node.type === 'call_expression' && RESOURCE_ID_FUNCTIONS.has(callName(node) ?? '')) {
        const args = callArguments(node);
        const typeIndex = args.findIndex((arg) => stringLiteral(arg)?.toLowerCase() === 'microsoft.authorization/roledefinitions');
        for (const arg of typeIndex >= 0 ? args.slice(typeIndex + 1) : []) {
          checkExpression(arg, `${callName(node)}('Microsoft.Authorization/roleDefinitions', …)`);
          checkTraceable(arg, arg);
        }
      }
      // '/providers/Microsoft.Authorization/roleDefinitions/<guid>' in any string
      if (node.type === 'string_content' && /roleDefinitions\//i.test(node.text)) checkGuids(node, 'a roleDefinitions path');
    }

    // A custom role grants what its permissions list, so they must be readable here and narrow:
    // literal actions, none a wildcard (which would take in whatever the provider adds later) and
    // none of Microsoft.Authorization (with which the role could grant itself more), and no data
    // actions.
    for (const role of customRoles) {
      const permissions = resolveLocal(file, valueAt(role.body, ['properties', 'permissions']));
      const problem = (node: Node | undefined, message: string): void => {
        findings.push(finding('role-definition-allow-list', file, node ?? role.node, `custom role '${role.symbol}': ${message}`));
      };
      if (permissions?.type !== 'array') {
        problem(permissions, 'properties.permissions is not an array the checker can read: list its actions literally in this file');
        continue;
      }
      for (const permission of permissions.namedChildren) {
        if (!permission) continue;
        if (permission.type !== 'object') {
          problem(permission, 'a permission is not an object the checker can read: list its actions literally in this file');
          continue;
        }
        const actions = resolveLocal(file, valueAt(permission, ['actions']));
        if (actions?.type !== 'array') {
          problem(actions ?? permission, 'actions is not an array of literal strings: list them in this file');
          continue;
        }
        for (const action of actions.namedChildren) {
          if (!action) continue;
          const text = stringLiteral(resolveLocal(file, action));
          if (text === undefined) problem(action, `the action ${JSON.stringify(action.text.slice(0, 60))} is not a literal string`);
          else if (text.includes('*')) problem(action, `the action '${text}' is a wildcard: name each operation the role needs`);
          else if (/^microsoft\.authorization\//i.test(text))
            problem(action, `the action '${text}' is a Microsoft.Authorization right, with which the role could grant more`);
        }
        const dataActions = resolveLocal(file, valueAt(permission, ['dataActions']));
        if (dataActions && !(dataActions.type === 'array' && dataActions.namedChildren.length === 0))
          problem(dataActions, 'dataActions grants data-plane rights: a custom role here grants control-plane actions only');
      }
    }
    // A role read from roles.json by a name it does not list (`roles.owner`,
    // loadJsonContent('roles.json', '$.owner')) is left to the compiler: BCP053 and BCP235.
    return findings;
  },
};

// ---- rule: role assignment names from guid() -----------------------------------------------

const roleAssignmentGuidName: BicepRule = {
  id: 'role-assignment-guid-name',
  description: 'Every Microsoft.Authorization/roleAssignments resource is named with guid(…), so a redeploy finds the same assignment.',
  check(file) {
    const findings: BicepFinding[] = [];
    for (const declaration of declarations(file)) {
      if (!isResourceType(declaration, 'Microsoft.Authorization/roleAssignments') || declaration.existing) continue;
      const name = valueAt(declaration.body, ['name']);
      const resolved = resolveLocal(file, name);
      if (resolved?.type === 'call_expression' && callName(resolved) === 'guid') continue;
      findings.push(
        finding(
          'role-assignment-guid-name',
          file,
          name ?? declaration.node,
          `role assignment '${declaration.symbol}' ${name ? `is named ${JSON.stringify(name.text.slice(0, 80))}` : 'has no name'}: name it with guid(scope, principal, role)`,
        ),
      );
    }
    return findings;
  },
};

// ---- rule: registry modules pinned ---------------------------------------------------------

const EXACT_VERSION = /^\d+\.\d+\.\d+$/;

const moduleVersionPinned: BicepRule = {
  id: 'module-version-pinned',
  description: 'Every module from a registry (br/…, br:…, ts/…, ts:…) is pinned to an exact version (1.2.3) or a digest.',
  check(file) {
    const findings: BicepFinding[] = [];
    for (const declaration of declarations(file)) {
      if (declaration.kind !== 'module') continue;
      const reference = declaration.target;
      if (!/^(br|ts)[:/]/i.test(reference)) continue; // a local path
      if (/@sha256:[0-9a-f]{64}$/i.test(reference)) continue;
      // br/<alias>:<path>:<tag> or br:<registry>/<path>:<tag>: the tag is after the second colon.
      const parts = reference.split(':');
      const tag = parts.length >= 3 ? parts.at(-1) : undefined;
      if (tag !== undefined && EXACT_VERSION.test(tag)) continue;
      const where = declaration.node.namedChildren.find((child) => child?.type === 'string') ?? declaration.node;
      findings.push(
        finding(
          'module-version-pinned',
          file,
          where,
          `module '${declaration.symbol}' uses '${reference}': pin it to an exact version (…:1.2.3)${tag ? `, not '${tag}'` : ', it has no version'}`,
        ),
      );
    }
    return findings;
  },
};

// ---- rule: no secrets in outputs -----------------------------------------------------------

// The linter's outputs-should-not-contain-secrets and secure-secrets-in-params (errors under
// infra/bicepconfig.json) catch part of this: list*() and @secure() values in outputs, outputs
// named like a password, parameters named like a password, secret or account key. What only the
// two rules here catch: an output named like a key, token or SAS, a connection string with its key
// in an output (through a variable too), and parameters named like a token, SAS, credential or keys.

const SECRET_WORDS = new Set(['password', 'passwd', 'pwd', 'secret', 'secrets', 'sas', 'token', 'credential', 'credentials']);
const SECRET_VALUE = /(AccountKey|AccessKey|SharedAccessKey|SharedAccessSignature|Password)\s*=/i;

/** Output names split into lower-case words: `storageAccountKey` → storage, account, key. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word.toLowerCase());
}

function secretName(name: string): string | undefined {
  const parts = words(name);
  for (const [index, word] of parts.entries()) {
    if (SECRET_WORDS.has(word)) return word;
    if ((word === 'key' || word === 'keys') && parts[index + 1] !== 'vault') return word;
  }
  return undefined;
}

const noSecretOutputs: BicepRule = {
  id: 'no-secret-outputs',
  description:
    'No output carries listKeys/listSecrets (or any list*()), a @secure() parameter, or a value or name that looks like a secret.',
  check(file) {
    const findings: BicepFinding[] = [];
    const declared = topLevel(file);
    /** Why `node` (followed through variables) carries a secret, or undefined. */
    const secretIn = (node: Node, seen: Set<string>): string | undefined => {
      for (const part of walk(node)) {
        if (part.type === 'call_expression') {
          const name = callName(part);
          if (name && /^list[A-Z]/.test(name)) return `${name}()`;
        }
        if (part.type === 'string_content' && SECRET_VALUE.test(part.text))
          return `a connection string with ${SECRET_VALUE.exec(part.text)![1]}`;
        if (part.type === 'identifier' && !seen.has(part.text)) {
          const target = declared.get(part.text);
          if (!target) continue;
          if (target.kind === 'param' && decoratorNames(target.node).includes('secure')) return `the @secure() parameter '${part.text}'`;
          if (target.kind === 'var' && target.value) {
            const why = secretIn(target.value, new Set([...seen, part.text]));
            if (why) return `${why} through '${part.text}'`;
          }
        }
      }
      return undefined;
    };
    for (const output of descendants(file.tree.rootNode, 'output_declaration')) {
      const name = output.namedChildren[0]?.text ?? '';
      const value = output.namedChildren.at(-1);
      const word = secretName(name);
      if (word)
        findings.push(
          finding('no-secret-outputs', file, output, `output '${name}' looks like a secret ("${word}" in its name): do not output secrets`),
        );
      const why = value ? secretIn(value, new Set()) : undefined;
      if (why)
        findings.push(
          finding(
            'no-secret-outputs',
            file,
            value ?? output,
            `output '${name}' carries ${why}: do not output secrets; grant the identity a role instead`,
          ),
        );
    }
    return findings;
  },
};

const secureSecretParameters: BicepRule = {
  id: 'secure-secret-parameters',
  description:
    'A string or object parameter named like a secret (password, key, secret, token …) is @secure(), so it is never logged or kept in the deployment history.',
  check(file) {
    const findings: BicepFinding[] = [];
    for (const parameter of descendants(file.tree.rootNode, 'parameter_declaration')) {
      const name = parameter.namedChildren[0]?.text ?? '';
      const type = parameter.namedChildren[1]?.text ?? '';
      const word = secretName(name);
      if (!word || !/^(string|object)\??$/.test(type) || decoratorNames(parameter).includes('secure')) continue;
      findings.push(
        finding(
          'secure-secret-parameters',
          file,
          parameter,
          `parameter '${name}' looks like a secret ("${word}" in its name) but is not @secure(): mark it @secure(), or better, use the managed identity instead of a secret`,
        ),
      );
    }
    return findings;
  },
};

// ---- rules: storage, web apps and Communication Services hardened --------------------------

interface Expectation {
  /** Where the value sits in a resource body (after `properties`) or in a module's `params`. */
  resourcePath: string[];
  modulePath: string[];
  accepts: (literal: string | boolean) => boolean;
  expected: string;
}

function literalValue(node: Node | undefined): string | boolean | undefined {
  if (!node) return undefined;
  if (node.type === 'boolean') return node.text === 'true';
  return stringLiteral(node);
}

function checkExpectations(
  rule: BicepRuleId,
  file: ParsedBicepFile,
  declaration: Declaration,
  expectations: readonly Expectation[],
  what: string,
): BicepFinding[] {
  const findings: BicepFinding[] = [];
  for (const expectation of expectations) {
    const path = declaration.kind === 'module' ? ['params', ...expectation.modulePath] : expectation.resourcePath;
    const node = valueAt(declaration.body, path);
    const value = literalValue(resolveLocal(file, node));
    if (value !== undefined && expectation.accepts(value)) continue;
    const shown = path.join('.');
    const problem =
      node === undefined
        ? 'is not set'
        : value === undefined
          ? `is ${JSON.stringify(node.text.slice(0, 60))}, which is not a literal the checker can verify`
          : `is ${JSON.stringify(value)}`;
    findings.push(
      finding(
        rule,
        file,
        node ?? declaration.node,
        `${what} '${declaration.symbol}': ${shown} ${problem}; set it to ${expectation.expected}`,
      ),
    );
  }
  return findings;
}

const STORAGE_EXPECTATIONS: readonly Expectation[] = [
  {
    resourcePath: ['properties', 'allowSharedKeyAccess'],
    modulePath: ['allowSharedKeyAccess'],
    accepts: (value) => value === false,
    expected: 'false',
  },
  {
    resourcePath: ['properties', 'minimumTlsVersion'],
    modulePath: ['minimumTlsVersion'],
    accepts: (value) => value === 'TLS1_2' || value === 'TLS1_3',
    expected: "'TLS1_2'",
  },
  {
    resourcePath: ['properties', 'allowBlobPublicAccess'],
    modulePath: ['allowBlobPublicAccess'],
    accepts: (value) => value === false,
    expected: 'false',
  },
];

const storageAccountHardened: BicepRule = {
  id: 'storage-account-hardened',
  description:
    "Storage accounts (resources or the AVM storage-account module) set allowSharedKeyAccess: false, minimumTlsVersion: 'TLS1_2' and allowBlobPublicAccess: false.",
  check(file) {
    return declarations(file)
      .filter(
        (declaration) =>
          !declaration.existing &&
          (isResourceType(declaration, 'Microsoft.Storage/storageAccounts') || isAvmModule(declaration, 'avm/res/storage/storage-account')),
      )
      .flatMap((declaration) => checkExpectations('storage-account-hardened', file, declaration, STORAGE_EXPECTATIONS, 'storage account'));
  },
};

const WEB_EXPECTATIONS: readonly Expectation[] = [
  { resourcePath: ['properties', 'httpsOnly'], modulePath: ['httpsOnly'], accepts: (value) => value === true, expected: 'true' },
  {
    resourcePath: ['properties', 'siteConfig', 'minTlsVersion'],
    modulePath: ['siteConfig', 'minTlsVersion'],
    accepts: (value) => value === '1.2' || value === '1.3',
    expected: "'1.2'",
  },
];

const webAppHardened: BicepRule = {
  id: 'web-app-hardened',
  description:
    "Web and function apps (Microsoft.Web/sites or the AVM web/site module) set httpsOnly: true and siteConfig.minTlsVersion: '1.2'.",
  check(file) {
    return declarations(file)
      .filter(
        (declaration) =>
          !declaration.existing &&
          (isResourceType(declaration, 'Microsoft.Web/sites') ||
            isResourceType(declaration, 'Microsoft.Web/sites/slots') ||
            isAvmModule(declaration, 'avm/res/web/site')),
      )
      .flatMap((declaration) => checkExpectations('web-app-hardened', file, declaration, WEB_EXPECTATIONS, 'web app'));
  },
};

const COMMUNICATION_EXPECTATIONS: readonly Expectation[] = [
  {
    resourcePath: ['properties', 'disableLocalAuth'],
    modulePath: ['disableLocalAuth'],
    accepts: (value) => value === true,
    expected: 'true',
  },
];

/**
 * The app sends e-mail with its managed identity: an access key left usable would be a second way
 * in that Entra ID and the role assignments do not govern.
 */
const communicationServiceHardened: BicepRule = {
  id: 'communication-service-hardened',
  description:
    'Azure Communication Services resources (Microsoft.Communication/communicationServices or the AVM communication-service module) set disableLocalAuth: true, so their access keys are refused.',
  check(file) {
    return declarations(file)
      .filter(
        (declaration) =>
          !declaration.existing &&
          (isResourceType(declaration, 'Microsoft.Communication/communicationServices') ||
            isAvmModule(declaration, 'avm/res/communication/communication-service')),
      )
      .flatMap((declaration) =>
        checkExpectations('communication-service-hardened', file, declaration, COMMUNICATION_EXPECTATIONS, 'communication service').map(
          (found) =>
            declaration.kind === 'module'
              ? {
                  ...found,
                  message: `${found.message} (a module version without that parameter cannot turn local authentication off: declare the Microsoft.Communication/communicationServices resource instead)`,
                }
              : found,
        ),
      );
  },
};

export const BICEP_RULES: readonly BicepRule[] = [
  roleDefinitionAllowList,
  roleAssignmentGuidName,
  moduleVersionPinned,
  noSecretOutputs,
  secureSecretParameters,
  storageAccountHardened,
  webAppHardened,
  communicationServiceHardened,
];

// ---- the Functions app settings ------------------------------------------------------------

/**
 * APP_SETTING_NAMES the Azure deployment deliberately does not set, each with its reason. Local
 * runs (local.settings.example.json) list them all.
 */
export const NOT_SET_IN_AZURE: Readonly<Record<string, string>> = {
  AZURE_RESOURCE_MANAGER_ENDPOINT: 'a local/test override of the ARM endpoint; in Azure AZURE_CLOUD chooses it',
  AzureWebJobsStorage:
    'replaced by the identity-based AzureWebJobsStorage__* settings (no shared key); the app reads CONTACT_WATCH_STORAGE',
  CONTACT_WATCH_ACS_CONNECTION_STRING:
    'the HMAC connection string (a secret) is replaced by CONTACT_WATCH_ACS_ENDPOINT with the managed identity',
};

/** Settings the Bicep may set beyond APP_SETTING_NAMES: the host's and the platform's, each with its reason. */
export const PLATFORM_SETTINGS: Readonly<Record<string, string>> = {
  FUNCTIONS_WORKER_RUNTIME:
    "the host's worker runtime on the plans that take it as a setting (Flex Consumption refuses it: its runtime is in functionAppConfig)",
  FUNCTIONS_EXTENSION_VERSION: "the host's major version (not on Flex Consumption, harmless elsewhere)",
  AZURE_CLIENT_ID: 'selects the user-assigned managed identity for DefaultAzureCredential',
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Entra authentication to Application Insights when local authentication is disabled',
  WEBSITE_RUN_FROM_PACKAGE: 'deployment of the app package (not on Flex Consumption)',
};
/** Prefixes of the host's identity-based connection settings. */
export const PLATFORM_SETTING_PREFIXES: Readonly<Record<string, string>> = {
  AzureWebJobsStorage__:
    "the host's identity-based storage connection (blobServiceUri, queueServiceUri, tableServiceUri, credential, clientId)",
  AzureFunctionsJobHost__: 'host.json overrides',
};

export interface SettingLocation {
  file: string;
  line: number;
  column: number;
  /** The value when it is a literal string ('' marks a setting deliberately left empty). */
  literal?: string | undefined;
  /** The value's expression as written, for checks on its form (the host storage URIs). */
  text?: string | undefined;
}

export interface BicepAppSettings {
  /** Every setting name found, with where it was found and its value when a literal string. */
  names: Map<string, SettingLocation>;
  /** Where the function app's settings are declared (the first found), for findings. */
  location: { file: string; line: number; column: number } | undefined;
  /** Parts the checker could not read statically (a loop, a function), each a finding. */
  unreadable: BicepFinding[];
}

/**
 * Collects the app setting names of the function app: `siteConfig.appSettings` of a
 * Microsoft.Web/sites resource, the properties of its `config` 'appsettings' child, and the
 * AVM web/site module's `appSettingsKeyValuePairs`, `siteConfig.appSettings` and
 * `configs[name='appsettings'].properties`. Variables are followed; so is a local module's
 * parameter, to the values its callers pass.
 */
export function collectBicepAppSettings(files: readonly ParsedBicepFile[]): BicepAppSettings {
  const result: BicepAppSettings = { names: new Map(), location: undefined, unreadable: [] };
  const at = (file: ParsedBicepFile, node: Node) => ({
    file: file.file,
    line: node.startPosition.row + 1,
    column: node.startPosition.column + 1,
  });

  const collect = (file: ParsedBicepFile, node: Node | undefined, seen: Set<string>): void => {
    if (!node) return;
    const key = `${file.path}:${node.startIndex}`;
    if (seen.has(key)) return;
    seen = new Set([...seen, key]);
    switch (node.type) {
      case 'parenthesized_expression':
        return collect(file, node.namedChildren[0] ?? undefined, seen);
      case 'ternary_expression':
        collect(file, node.childForFieldName('consequence') ?? undefined, seen);
        return collect(file, node.childForFieldName('alternative') ?? undefined, seen);
      case 'object':
        for (const property of properties(node)) {
          const name = propertyKey(property);
          if (name !== undefined && !result.names.has(name))
            result.names.set(name, {
              ...at(file, property),
              literal: stringLiteral(propertyValue(property)),
              text: propertyValue(property)?.text,
            });
        }
        return;
      case 'array':
        for (const element of node.namedChildren) {
          if (!element) continue;
          if (element.type === 'object' && valueAt(element, ['name'])) {
            const nameNode = valueAt(element, ['name']);
            const name = stringLiteral(resolveLocal(file, nameNode));
            if (name === undefined)
              result.unreadable.push(
                finding('app-settings-agree', file, nameNode!, `app setting name ${JSON.stringify(nameNode!.text)} is not a literal`),
              );
            else if (!result.names.has(name))
              result.names.set(name, {
                ...at(file, element),
                literal: stringLiteral(valueAt(element, ['value'])),
                text: valueAt(element, ['value'])?.text,
              });
          } else collect(file, element, seen);
        }
        return;
      case 'call_expression':
        if (['union', 'concat', 'shallowMerge'].includes(callName(node) ?? '')) {
          for (const arg of callArguments(node)) collect(file, arg, seen);
          return;
        }
        break;
      case 'identifier': {
        const declared = topLevel(file).get(node.text);
        if (declared?.kind === 'var' && declared.value) return collect(file, declared.value, seen);
        if (declared?.kind === 'param') {
          if (declared.value) collect(file, declared.value, seen);
          // Follow the parameter to what every caller of this file passes.
          for (const caller of files) {
            for (const module of declarations(caller)) {
              if (module.kind !== 'module' || /^(br|ts)[:/]/i.test(module.target)) continue;
              if (resolve(dirname(caller.path), module.target) !== file.path) continue;
              collect(caller, valueAt(module.body, ['params', node.text]), seen);
            }
          }
          return;
        }
        break;
      }
    }
    result.unreadable.push(
      finding(
        'app-settings-agree',
        file,
        node,
        `cannot read app setting names from ${JSON.stringify(node.text.slice(0, 80))} offline: use an object, an array of { name, value }, a variable or union()`,
      ),
    );
  };

  for (const file of files) {
    for (const declaration of declarations(file)) {
      if (declaration.existing) continue;
      const sources: (Node | undefined)[] = [];
      if (isResourceType(declaration, 'Microsoft.Web/sites'))
        sources.push(valueAt(declaration.body, ['properties', 'siteConfig', 'appSettings']));
      if (
        isResourceType(declaration, 'Microsoft.Web/sites/config') &&
        stringLiteral(resolveLocal(file, valueAt(declaration.body, ['name'])))?.endsWith('appsettings')
      ) {
        sources.push(valueAt(declaration.body, ['properties']));
      }
      if (isAvmModule(declaration, 'avm/res/web/site')) {
        sources.push(
          valueAt(declaration.body, ['params', 'appSettingsKeyValuePairs']),
          valueAt(declaration.body, ['params', 'siteConfig', 'appSettings']),
        );
        const configs = resolveLocal(file, valueAt(declaration.body, ['params', 'configs']));
        for (const config of configs?.type === 'array' ? configs.namedChildren : []) {
          if (config?.type === 'object' && stringLiteral(valueAt(config, ['name'])) === 'appsettings')
            sources.push(valueAt(config, ['properties']));
        }
      }
      for (const source of sources) {
        if (!source) continue;
        result.location ??= at(file, source);
        collect(file, source, new Set());
      }
    }
  }
  return result;
}

export interface SettingsSources {
  /** APP_SETTING_NAMES. */
  appSettingNames: readonly string[];
  /** What collectBicepAppSettings found. */
  bicep: BicepAppSettings;
  /** The keys of local.settings.example.json's Values. */
  localSettingNames: readonly string[];
  /** Where local.settings.example.json is, for findings. */
  localSettingsFile: string;
}

/**
 * The Functions app settings in Bicep, local.settings.example.json and APP_SETTING_NAMES agree:
 * Bicep sets every app setting but NOT_SET_IN_AZURE (with AzureWebJobsStorage__* in place of
 * AzureWebJobsStorage) and nothing that is neither an app setting nor a PLATFORM_SETTINGS one; the
 * local example lists every app setting.
 */
export function checkSettingsAgree(sources: SettingsSources): BicepFinding[] {
  const findings: BicepFinding[] = [...sources.bicep.unreadable];
  const where = sources.bicep.location ?? { file: 'infra', line: 1, column: 1 };
  const make = (location: SettingLocation, message: string): BicepFinding => ({
    rule: 'app-settings-agree',
    file: location.file,
    line: location.line,
    column: location.column,
    message,
  });
  if (!sources.bicep.location) {
    findings.push(
      make(
        where,
        'no Functions app settings found in the Bicep (Microsoft.Web/sites siteConfig.appSettings, its appsettings config, or the AVM web/site module)',
      ),
    );
    return findings;
  }
  const bicepNames = sources.bicep.names;
  for (const name of sources.appSettingNames) {
    if (name in NOT_SET_IN_AZURE) {
      // Listed with an empty value (to show it is deliberately unset) is fine; a value is not.
      const found = bicepNames.get(name);
      if (found && found.literal !== '') {
        findings.push(
          make(found, `app setting ${name} has a value in the Bicep, but it must stay empty or absent in Azure: ${NOT_SET_IN_AZURE[name]}`),
        );
      }
      continue;
    }
    if (!bicepNames.has(name))
      findings.push(
        make(
          where,
          `app setting ${name} (APP_SETTING_NAMES in src/compose/app-settings.ts) is missing from the function app's settings in the Bicep`,
        ),
      );
  }
  if (
    sources.appSettingNames.includes('AzureWebJobsStorage') &&
    ![...bicepNames.keys()].some((name) => name.startsWith('AzureWebJobsStorage__'))
  ) {
    findings.push(
      make(
        where,
        'the function app has no identity-based AzureWebJobsStorage__* setting (AzureWebJobsStorage__blobServiceUri, __queueServiceUri, __tableServiceUri, __credential, __clientId)',
      ),
    );
  }
  if ([...bicepNames.keys()].some((name) => name.startsWith('AzureWebJobsStorage__')))
    findings.push(...hostStorageFindings(bicepNames, where, make));
  for (const [name, location] of bicepNames) {
    if (
      sources.appSettingNames.includes(name) ||
      name in PLATFORM_SETTINGS ||
      Object.keys(PLATFORM_SETTING_PREFIXES).some((prefix) => name.startsWith(prefix))
    )
      continue;
    findings.push(
      make(
        location,
        `app setting ${name} in the Bicep is neither in APP_SETTING_NAMES (src/compose/app-settings.ts) nor a documented platform setting (a typo?)`,
      ),
    );
  }
  for (const name of sources.appSettingNames) {
    if (!sources.localSettingNames.includes(name))
      findings.push(
        make({ file: sources.localSettingsFile, line: 1, column: 1 }, `app setting ${name} is missing from ${sources.localSettingsFile}`),
      );
  }
  return findings;
}

/** The storage services the host's identity-based AzureWebJobsStorage names, each by its URI. */
const HOST_STORAGE_SERVICES = ['blob', 'queue', 'table'] as const;

/**
 * The identity-based AzureWebJobsStorage of a user-assigned identity, valid in every cloud: each
 * service by URI, `'https://${<account>}.<service>.${environment().suffixes.storage}'` (the cloud's
 * own storage suffix), `__credential: 'managedidentity'` and the identity's `__clientId`. Not
 * `__accountName`: Microsoft documents it as valid only for an account with the public cloud's
 * default DNS suffix, and the deployment offers AzureUSGovernment and AzureChinaCloud.
 */
function hostStorageFindings(
  names: ReadonlyMap<string, SettingLocation>,
  where: SettingLocation,
  make: (location: SettingLocation, message: string) => BicepFinding,
): BicepFinding[] {
  const findings: BicepFinding[] = [];
  const accountName = [...names].find(([name]) => name.toLowerCase() === 'azurewebjobsstorage__accountname');
  if (accountName)
    findings.push(
      make(
        accountName[1],
        `${accountName[0]} is valid only for an account with the public cloud's default DNS suffix (core.windows.net): name each service by URI instead ` +
          `(${HOST_STORAGE_SERVICES.map((service) => `AzureWebJobsStorage__${service}ServiceUri`).join(', ')}), built from environment().suffixes.storage`,
      ),
    );
  for (const service of HOST_STORAGE_SERVICES) {
    const name = `AzureWebJobsStorage__${service}ServiceUri`;
    const expected = `'https://\${<account>}.${service}.\${environment().suffixes.storage}'`;
    const found = names.get(name);
    if (!found) {
      findings.push(make(where, `the function app has no ${name}: set it to ${expected}`));
      continue;
    }
    const form = new RegExp(`^'https://\\$\\{[^}]+\\}\\.${service}\\.\\$\\{\\s*environment\\(\\)\\.suffixes\\.storage\\s*\\}/?'$`);
    if (!form.test(found.text?.trim() ?? ''))
      findings.push(make(found, `${name} is ${found.text ?? 'not readable'}: set it to ${expected}, the cloud's own storage suffix`));
  }
  const credential = names.get('AzureWebJobsStorage__credential');
  if (credential?.literal?.toLowerCase() !== 'managedidentity')
    findings.push(
      make(
        credential ?? where,
        "AzureWebJobsStorage__credential must be 'managedidentity' (the host reaches its storage with the managed identity)",
      ),
    );
  if (!names.has('AzureWebJobsStorage__clientId'))
    findings.push(
      make(where, 'the function app has no AzureWebJobsStorage__clientId: a user-assigned identity must be named by its client id'),
    );
  return findings;
}

export function readLocalSettingNames(path: string): string[] {
  const json = JSON.parse(readFileSync(path, 'utf8')) as { Values?: Record<string, unknown> };
  return Object.keys(json.Values ?? {});
}

// ---- everything together -------------------------------------------------------------------

export interface LintOptions {
  /** Defaults to `<dir>/roles.json`. */
  rolesPath?: string;
  /** Defaults to the repository's local.settings.example.json; `false` skips the settings check. */
  localSettingsPath?: string | false;
  appSettingNames?: readonly string[];
  rules?: readonly BicepRule[];
}

/** Runs every rule over parsed files (a file tree-sitter only partly parses too: the compiler judges its syntax). */
export function lintParsedFiles(
  files: readonly ParsedBicepFile[],
  roles: RoleAllowList,
  rolesPath: string,
  rules: readonly BicepRule[] = BICEP_RULES,
): BicepFinding[] {
  const context: BicepLintContext = { roles, rolesPath: resolve(rolesPath) };
  return files.flatMap((file) => rules.flatMap((rule) => rule.check(file, context)).sort((a, b) => a.line - b.line || a.column - b.column));
}

/** Parses and lints every `.bicep` file under `dir` and checks the app settings agree. */
export async function lintBicepDirectory(
  dir: string,
  options: LintOptions = {},
): Promise<{ files: ParsedBicepFile[]; findings: BicepFinding[] }> {
  const rolesPath = resolve(options.rolesPath ?? join(dir, 'roles.json'));
  const roles = readRoleAllowList(rolesPath);
  const files = await Promise.all(findBicepFiles(dir).map((path) => parseBicep(path, readFileSync(path, 'utf8'))));
  const findings = lintParsedFiles(files, roles, rolesPath, options.rules);
  if (options.localSettingsPath !== false) {
    const localSettingsPath = options.localSettingsPath ?? join(REPO_ROOT, 'local.settings.example.json');
    findings.push(
      ...checkSettingsAgree({
        appSettingNames: options.appSettingNames ?? APP_SETTING_NAMES,
        bicep: collectBicepAppSettings(files),
        localSettingNames: readLocalSettingNames(localSettingsPath),
        localSettingsFile: relative(REPO_ROOT, localSettingsPath).split(sep).join('/'),
      }),
    );
  }
  return { files, findings };
}

export function formatFinding(finding: BicepFinding): string {
  return `${finding.file}:${finding.line}:${finding.column} ${finding.rule} ${finding.message}`;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = resolve(process.argv[2] ?? join(REPO_ROOT, 'infra'));
  lintBicepDirectory(dir).then(
    ({ files, findings }) => {
      for (const found of findings) console.log(formatFinding(found));
      console.error(`${files.length} Bicep file(s) checked, ${findings.length} finding(s)`);
      process.exitCode = findings.length > 0 ? 1 : 0;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 2;
    },
  );
}
