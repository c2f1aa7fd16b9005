/**
 * infra/ compiled by the real Bicep CLI, which scripts/bicep.js finds or restores from NuGet:
 * `bicep build` of every template deployed on its own and `bicep lint` of every .bicep file, under
 * infra/bicepconfig.json (every linter rule an error). No diagnostic is allowed.
 *
 * Required in CI (CI=true): there a missing compiler fails. Elsewhere the file is skipped, with one
 * line saying how to install the compiler.
 *
 * Nothing is restored (--no-restore): infra/ uses no registry modules, so it compiles offline, and
 * a br: or ts: module added to it fails here ("has not been restored", BCP190) unless it already
 * sits in this machine's module cache.
 *
 * Planted mistakes under test/infra/fixtures/compile/ (whose bicepconfig.json extends infra/'s)
 * show that the check infra/ goes through fails on them, naming the file and line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/bicep-lint.js';

/** The templates deployed on their own (by azd, by the tenant step, by a vending pipeline), and the ARM schema of their scope. */
const ENTRY_TEMPLATES = [
  ['infra/main.bicep', 'subscriptionDeploymentTemplate.json#'],
  ['infra/tenant/main.bicep', 'managementGroupDeploymentTemplate.json#'],
  ['infra/modules/subscription-hook.bicep', 'subscriptionDeploymentTemplate.json#'],
  ['infra/vending/security-contact.bicep', 'subscriptionDeploymentTemplate.json#'],
];

/** Templates with one planted mistake each. */
const PLANTED = 'test/infra/fixtures/compile';

const located = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/bicep.js')], { cwd: REPO_ROOT, encoding: 'utf8' });
const bicep = located.status === 0 ? located.stdout.trim() : undefined;
const required = process.env.CI === 'true';
if (!bicep && !required) console.warn(`bicep-compile.test.ts skipped: ${located.stderr.trim().split('\n').at(-1)}`);

interface Diagnostic {
  file: string;
  line: number;
  level: string;
  code: string;
  message: string;
}

/** `<path>(<line>,<column>) : <Level> <code>: <message> [<link>]`, as bicep prints each diagnostic on stderr. */
function diagnostics(stderr: string): Diagnostic[] {
  return stderr
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const match = /^(.+)\((\d+),\d+\) : (\w+) ([\w-]+): (.*?)(?: \[https:[^\]]*\])?$/.exec(line);
      if (!match) return { file: '', line: 0, level: 'Unparsed', code: '', message: line };
      return { file: relative(REPO_ROOT, match[1]!), line: Number(match[2]), level: match[3]!, code: match[4]!, message: match[5]! };
    });
}

const show = (found: Diagnostic): string => `${found.file}:${found.line} ${found.level} ${found.code}: ${found.message}`;

interface BicepRun {
  /** The command line after `bicep`, to name the run in a failure. */
  command: string;
  code: number;
  stderr: string;
  found: Diagnostic[];
}

function runBicep(args: string[]): Promise<BicepRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(bicep!, args, { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ command: args.join(' '), code: code ?? 1, stderr, found: diagnostics(stderr) }));
  });
}

/**
 * What every run over infra/ must give: no diagnostic at all, and exit code 0. A warning fails
 * too: bicep still exits 0 on one, and a property the resource type does not have (BCP037, or
 * BCP089 with a "did you mean") is only a warning, as resource types may lag behind Azure.
 */
function expectClean(run: BicepRun): void {
  // The diagnostics go into the failure's first line, which every reporter shows.
  const shown = run.found.map(show);
  expect(shown, `bicep ${run.command}: ${shown.join('; ')}`).toEqual([]);
  expect(run.code, `bicep ${run.command}: ${run.stderr}`).toBe(0);
}

const scratch = mkdtempSync(join(tmpdir(), 'contact-watch-bicep-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.skipIf(!bicep && !required)('infra/ compiled by bicep', () => {
  // In CI without a compiler this one test fails, with scripts/bicep.js's reason; the rest are skipped.
  it('has the compiler (scripts/bicep.js)', () => {
    expect(bicep, located.stderr).toBeDefined();
  });

  it.skipIf(!bicep).each(ENTRY_TEMPLATES)('bicep build %s: no diagnostic', { timeout: 120_000 }, async (template, schema) => {
    const outdir = mkdtempSync(join(scratch, 'build-'));
    expectClean(await runBicep(['build', template, '--outdir', outdir, '--no-restore']));
    const name = template
      .split('/')
      .at(-1)!
      .replace(/\.bicep$/, '.json');
    const arm = JSON.parse(readFileSync(join(outdir, name), 'utf8')) as { $schema: string; resources: unknown };
    expect(arm.$schema.endsWith(`/${schema}`), arm.$schema).toBe(true);
    expect(arm.resources).toBeDefined();
  });

  it.skipIf(!bicep)('bicep lint of every .bicep file under infra/: no diagnostic', { timeout: 120_000 }, async () => {
    expectClean(await runBicep(['lint', '--pattern', 'infra/**/*.bicep', '--no-restore']));
  });

  it.skipIf(!bicep)('infra/bicepconfig.json applies below infra/ and makes a linter warning an error', { timeout: 60_000 }, async () => {
    // A copy of infra/bicepconfig.json and, in a folder below it, a file with an unused variable
    // (a warning by default).
    const copy = join(scratch, 'infra');
    mkdirSync(join(copy, 'modules'), { recursive: true });
    cpSync(join(REPO_ROOT, 'infra/bicepconfig.json'), join(copy, 'bicepconfig.json'));
    writeFileSync(join(copy, 'modules/unused.bicep'), 'var unused = 1\n');
    const result = await runBicep(['lint', join(copy, 'modules/unused.bicep')]);
    expect(result.code).toBe(1);
    expect(result.found.map((each) => `${each.line} ${each.level} ${each.code}`)).toEqual(['1 Error no-unused-vars']);
  });

  // The diagnostics are matched by file, line, level and code (BCP037 or, with a "did you mean",
  // BCP089), not by their whole text: scripts/bicep.js may find a newer bicep that words them
  // differently.
  it.skipIf(!bicep)('a misspelt resource property fails the build check of infra/, at its file and line', { timeout: 60_000 }, async () => {
    const run = await runBicep(['build', `${PLANTED}/misspelt-property.bicep`, '--stdout', '--no-restore']);
    expect(run.found).toEqual([
      {
        file: `${PLANTED}/misspelt-property.bicep`,
        line: 11,
        level: 'Warning',
        code: expect.stringMatching(/^BCP0(37|89)$/),
        message: expect.stringContaining('The property "supportsHttpsTrafficOnlyy" is not allowed'),
      },
    ]);
    // bicep alone lets it through: a warning, and the template is built.
    expect(run.code).toBe(0);
    expect(() => expectClean(run)).toThrow(
      `${PLANTED}/misspelt-property.bicep:11 Warning ${run.found[0]!.code}: The property "supportsHttpsTrafficOnlyy"`,
    );
  });

  it.skipIf(!bicep)('an unused parameter fails the lint check of infra/, with its rule name', { timeout: 60_000 }, async () => {
    const run = await runBicep(['lint', `${PLANTED}/unused-parameter.bicep`, '--no-restore']);
    // An error, not the rule's default warning: the fixtures' bicepconfig.json extends infra/'s.
    expect(run.found).toEqual([
      {
        file: `${PLANTED}/unused-parameter.bicep`,
        line: 3,
        level: 'Error',
        code: 'no-unused-params',
        message: expect.stringContaining('"unusedName"'),
      },
    ]);
    expect(run.code).toBe(1);
    expect(() => expectClean(run)).toThrow(`${PLANTED}/unused-parameter.bicep:3 Error no-unused-params: `);
  });
});
