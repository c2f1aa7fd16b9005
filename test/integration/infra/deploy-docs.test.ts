/**
 * The deploy instructions refer only to what exists, so that a person can follow them as written:
 * the commands in README.md, docs/deploy.md, docs/operations.md, infra/README.md,
 * infra/vending/README.md, the scripts and azure.yaml
 * are read as text, and every name they lean on is looked up where it is defined —
 * `azd env get-value X` among main.bicep's outputs, `azd env set X` in main.parameters.json,
 * `--template-file F --parameters k=…` among F's parameters, `/functions/NAME` among the
 * registered functions, and every `infra/…` path on disk. A rename on one side fails here.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_NAMES } from '../../../src/functions/function-names.js';
import { parseBicep, REPO_ROOT, type ParsedBicepFile } from '../../infra/bicep-lint.js';

const DOCUMENTS = ['README.md', 'docs/deploy.md', 'docs/operations.md', 'infra/README.md', 'infra/vending/README.md', 'azure.yaml'];
const SCRIPTS = readdirSync(join(REPO_ROOT, 'infra/scripts')).map((name) => `infra/scripts/${name}`);
/** What azd itself keeps in an environment, beside the template's outputs. */
const AZD_BUILT_INS = new Set(['AZURE_ENV_NAME', 'AZURE_LOCATION', 'AZURE_SUBSCRIPTION_ID']);

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');

async function declared(path: string): Promise<{ parameters: Set<string>; outputs: Set<string> }> {
  const file: ParsedBicepFile = await parseBicep(join(REPO_ROOT, path), read(path));
  const names = (type: string) =>
    new Set(file.tree.rootNode.namedChildren.filter((node) => node?.type === type).map((node) => node.namedChildren[0]?.text ?? ''));
  return { parameters: names('parameter_declaration'), outputs: names('output_declaration') };
}

/**
 * Every place of `pattern` (its first group) in the documents and scripts, with where it was. The
 * text is searched whole, so a pattern with `\s+` also finds a command that prose wraps over lines.
 */
function occurrences(pattern: RegExp, sources: readonly string[] = [...DOCUMENTS, ...SCRIPTS]): { value: string; where: string }[] {
  return sources.flatMap((source) => {
    const text = read(source);
    return [...text.matchAll(pattern)].map((match) => ({
      value: match[1]!,
      where: `${source}:${text.slice(0, match.index).split('\n').length}`,
    }));
  });
}

let main: { parameters: Set<string>; outputs: Set<string> };
let parametersFile: string;

beforeAll(async () => {
  main = await declared('infra/main.bicep');
  parametersFile = read('infra/main.parameters.json');
});

describe('the deploy instructions', () => {
  it('read only azd values the deployment outputs: azd env get-value, and the hooks’ required variables', () => {
    const gets = occurrences(/azd\s+env\s+get-value\s+([A-Z_][A-Z0-9_]*)/g);
    expect(gets.length).toBeGreaterThan(5);
    const hookVariables = occurrences(/\$\{([A-Z_][A-Z0-9_]*):\?[^}]*azd provision/g, ['infra/scripts/postdeploy.sh']).concat(
      occurrences(/\$env:([A-Z_][A-Z0-9_]*)/g, ['infra/scripts/postdeploy.ps1']),
    );
    expect(hookVariables.length).toBeGreaterThanOrEqual(4);
    const unknown = [...gets, ...hookVariables].filter(({ value }) => !main.outputs.has(value) && !AZD_BUILT_INS.has(value));
    expect(unknown, `not an output of infra/main.bicep: ${JSON.stringify(unknown)}`).toEqual([]);
  });

  it('set only azd values main.parameters.json passes to a parameter', () => {
    const sets = occurrences(/azd\s+env\s+set\s+([A-Z_][A-Z0-9_]*)/g);
    expect(sets.length).toBeGreaterThanOrEqual(4);
    const unused = sets.filter(({ value }) => !AZD_BUILT_INS.has(value) && !parametersFile.includes(`\${${value}`));
    expect(unused, `set but not read by infra/main.parameters.json: ${JSON.stringify(unused)}`).toEqual([]);
    // And every value main.parameters.json reads maps to a parameter main.bicep declares.
    const mapped = Object.keys((JSON.parse(parametersFile) as { parameters: Record<string, unknown> }).parameters);
    expect(mapped.filter((name) => !main.parameters.has(name))).toEqual([]);
  });

  it('deploy templates with parameters they declare', async () => {
    const deployments = [...DOCUMENTS, ...SCRIPTS].flatMap((source) =>
      read(source)
        .split('```') // a fenced block (or a whole script) is one deployment's context
        .flatMap((block) => {
          const template = /--template-file\s+(\S+)/.exec(block.replace(/\\\r?\n\s*/g, ' '));
          if (!template) return [];
          const names = [...block.matchAll(/--parameters((?:\s+[A-Za-z_][A-Za-z0-9_]*=\S+)+)/g)].flatMap((match) =>
            [...match[1]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=/g)].map((name) => name[1]!),
          );
          return [{ source, template: template[1]!, names }];
        }),
    );
    expect(deployments.map((deployment) => deployment.template).sort()).toEqual(
      expect.arrayContaining(['infra/tenant/main.bicep', 'infra/modules/subscription-hook.bicep']),
    );
    for (const { source, template, names } of deployments) {
      expect(existsSync(join(REPO_ROOT, template)), `${source}: ${template}`).toBe(true);
      const { parameters } = await declared(template);
      expect(names.length, `${source}: no --parameters for ${template}`).toBeGreaterThan(0);
      expect(
        names.filter((name) => !parameters.has(name)),
        `${source}: parameters ${template} does not declare`,
      ).toEqual([]);
    }
  });

  it('name only functions the app registers', () => {
    const registered = new Set<string>(Object.values(FUNCTION_NAMES));
    const named = [
      ...occurrences(/\/functions\/([A-Za-z][A-Za-z0-9]*)(?![\w./])/g),
      ...occurrences(/--function-name\s+([A-Za-z][A-Za-z0-9]*)/g),
      ...occurrences(/function_name=([A-Za-z][A-Za-z0-9]*)/g),
      ...occurrences(/\$functionName = '([A-Za-z][A-Za-z0-9]*)'/g),
    ];
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter(({ value }) => !registered.has(value))).toEqual([]);
  });

  it('point only at files that exist', () => {
    const paths = occurrences(/(?:^|[\s(`"'[])\.?\/?(infra\/[\w./-]*\w\.(?:bicep|sh|ps1|json|md))/g);
    expect(paths.length).toBeGreaterThan(10);
    expect(paths.filter(({ value }) => !existsSync(join(REPO_ROOT, value)))).toEqual([]);
  });
});
