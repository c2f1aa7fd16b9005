/**
 * infra/ compiled by the real Bicep CLI, which scripts/bicep.js finds or restores from NuGet:
 * `bicep build` of every template deployed on its own and `bicep lint` of every .bicep file, under
 * infra/bicepconfig.json (every linter rule an error). No diagnostic is allowed.
 *
 * Required in CI (CI=true): there a missing compiler fails. Elsewhere the file is skipped, with one
 * line saying how to install the compiler.
 *
 * The br/public: modules of infra/main.bicep come from mcr.microsoft.com. Where that host does not
 * resolve, main.bicep is compiled without restoring them, and the only errors allowed are those the
 * compiler gives for that: "has not been restored" (BCP190) on each br/public: module, and "not
 * valid" (BCP062) where a line uses one of those modules. The rest of main.bicep, and every local
 * module it calls, is still checked.
 */
import { spawn, spawnSync } from 'node:child_process';
import { lookup } from 'node:dns/promises';
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
const REGISTRY = 'mcr.microsoft.com';

const located = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/bicep.js')], { cwd: REPO_ROOT, encoding: 'utf8' });
const bicep = located.status === 0 ? located.stdout.trim() : undefined;
const required = process.env.CI === 'true';
if (!bicep && !required) console.warn(`bicep-compile.test.ts skipped: ${located.stderr.trim().split('\n').at(-1)}`);
const registryReachable = await lookup(REGISTRY).then(
  () => true,
  () => false,
);

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

function runBicep(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bicep!, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** Lines of infra/main.bicep that declare a br/public: module, and those modules' symbols. */
function registryModules(): { lines: Set<number>; symbols: Set<string> } {
  const lines = new Set<number>();
  const symbols = new Set<string>();
  readFileSync(join(REPO_ROOT, 'infra/main.bicep'), 'utf8')
    .split('\n')
    .forEach((text, index) => {
      const match = /^module (\w+) 'br\/public:/.exec(text);
      if (match) {
        lines.add(index + 1);
        symbols.add(match[1]!);
      }
    });
  return { lines, symbols };
}

/** What the compiler says because the br/public: modules could not be restored (see the header). */
function unrestoredModule(found: Diagnostic): boolean {
  if (registryReachable || found.file !== 'infra/main.bicep') return false;
  const modules = registryModules();
  if (found.code === 'BCP190') return modules.lines.has(found.line);
  const invalid = /^The referenced declaration with name "(\w+)" is not valid\.$/.exec(found.message);
  return found.code === 'BCP062' && modules.symbols.has(invalid?.[1] ?? '');
}

const restoreArgs = registryReachable ? [] : ['--no-restore'];
const scratch = mkdtempSync(join(tmpdir(), 'contact-watch-bicep-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.skipIf(!bicep && !required)('infra/ compiled by bicep', () => {
  // In CI without a compiler this one test fails, with scripts/bicep.js's reason; the rest are skipped.
  it('has the compiler (scripts/bicep.js)', () => {
    expect(bicep, located.stderr).toBeDefined();
  });

  it.skipIf(!bicep).each(ENTRY_TEMPLATES)('bicep build %s: no diagnostic', { timeout: 120_000 }, async (template, schema) => {
    const outdir = mkdtempSync(join(scratch, 'build-'));
    const result = await runBicep(['build', template, '--outdir', outdir, ...restoreArgs]);
    const found = diagnostics(result.stderr);
    expect(found.filter((each) => !unrestoredModule(each)).map(show)).toEqual([]);
    if (found.length > 0) {
      // Only main.bicep's br/public: modules were missing: the compiler named each of them.
      expect(new Set(found.filter((each) => each.code === 'BCP190').map((each) => each.line))).toEqual(registryModules().lines);
      console.warn(`${template}: its br/public: modules were not compiled (${REGISTRY} does not resolve here)`);
      return;
    }
    expect(result.code, result.stderr).toBe(0);
    const name = template
      .split('/')
      .at(-1)!
      .replace(/\.bicep$/, '.json');
    const arm = JSON.parse(readFileSync(join(outdir, name), 'utf8')) as { $schema: string; resources: unknown };
    expect(arm.$schema.endsWith(`/${schema}`), arm.$schema).toBe(true);
    expect(arm.resources).toBeDefined();
  });

  it.skipIf(!bicep)('bicep lint of every .bicep file under infra/: no diagnostic', { timeout: 120_000 }, async () => {
    const result = await runBicep(['lint', '--pattern', 'infra/**/*.bicep', ...restoreArgs]);
    expect(
      diagnostics(result.stderr)
        .filter((each) => !unrestoredModule(each))
        .map(show),
    ).toEqual([]);
    if (registryReachable) expect(result.code, result.stderr).toBe(0);
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
    expect(diagnostics(result.stderr).map((each) => `${each.line} ${each.level} ${each.code}`)).toEqual(['1 Error no-unused-vars']);
  });
});
