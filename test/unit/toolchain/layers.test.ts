/**
 * The layer rule and the ban on import cycles (.dependency-cruiser.js, run by `npm run lint`)
 * bite: the project's own configuration, cruised over small source trees written to a temporary
 * folder, reports each planted violation under its rule and passes a tree that keeps the layers.
 * The trees stand apart from the real src/, so this holds whatever state src/ is in.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseOptions, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CONFIG = fileURLToPath(new URL('../../../.dependency-cruiser.js', import.meta.url));

let options: ICruiseOptions;
const trees: string[] = [];

beforeAll(async () => {
  options = await extractDepcruiseOptions(CONFIG);
});

afterAll(async () => {
  await Promise.all(trees.map((tree) => rm(tree, { recursive: true, force: true })));
});

/** Writes `files` (path under the tree's root → source) to a fresh folder and cruises its src/. */
async function violationsIn(files: Record<string, string>): Promise<string[]> {
  const tree = await mkdtemp(join(tmpdir(), 'contact-watch-layers-'));
  trees.push(tree);
  for (const [path, source] of Object.entries(files)) {
    await mkdir(dirname(join(tree, path)), { recursive: true });
    await writeFile(join(tree, path), source);
  }
  const { output } = await cruise(['src'], { ...options, baseDir: tree });
  return (output as ICruiseResult).summary.violations.map((violation) =>
    violation.cycle
      ? `${violation.rule.name}: ${[violation.from, ...violation.cycle.map((step) => step.name)].join(' → ')}`
      : `${violation.rule.name}: ${violation.from} → ${violation.to}`,
  );
}

/** A tree that keeps every rule; each planted violation adds one file or one import to it. */
const LAYERED: Record<string, string> = {
  'src/core/model.ts': `import { isDeepStrictEqual } from 'node:util';\nexport type Verdict = 'pass' | 'fail';\nexport const same = isDeepStrictEqual;\n`,
  'src/core/rules/rule.ts': `import type { Verdict } from '../model.js';\nexport const verdict: Verdict = 'pass';\n`,
  'src/scan/ports.ts': `import type { Verdict } from '../core/model.js';\nexport interface VerdictStore { save(verdict: Verdict): Promise<void>; }\n`,
  'src/scan/scan.ts': `import type { VerdictStore } from './ports.js';\nimport { verdict } from '../core/rules/rule.js';\nexport const scan = (store: VerdictStore) => store.save(verdict);\n`,
  'src/report/html.ts': `import type { Verdict } from '../core/model.js';\nexport const html = (verdict: Verdict) => verdict;\n`,
  'src/adapters/table-store.ts': `import type { VerdictStore } from '../scan/ports.js';\nexport const tableStore: VerdictStore = { save: async () => {} };\n`,
  'src/compose/wiring.ts': `import { tableStore } from '../adapters/table-store.js';\nimport { scan } from '../scan/scan.js';\nexport const run = () => scan(tableStore);\n`,
  'src/app/handlers.ts': `import { html } from '../report/html.js';\nexport const page = () => html('pass');\n`,
  'src/functions/index.ts': `import { run } from '../compose/wiring.js';\nimport { page } from '../app/handlers.js';\nexport const start = () => [run(), page()];\n`,
  'src/cli/program.ts': `import { run } from '../compose/wiring.js';\nimport { describeProgress } from './progress.js';\nexport const main = () => [run(), describeProgress()];\n`,
  'src/cli/progress.ts': `export const describeProgress = () => 'done';\n`,
};

describe('the layer rule', () => {
  it('passes a tree that keeps the layers', async () => {
    expect(await violationsIn(LAYERED)).toEqual([]);
  });

  it('keeps src/core to itself, and free of I/O', async () => {
    const violations = await violationsIn({
      ...LAYERED,
      'src/core/rules/leaky.ts': `import { scan } from '../../scan/scan.js';\nimport { readFile } from 'node:fs/promises';\nexport const leak = [scan, readFile];\n`,
    });
    expect(violations.sort()).toEqual([
      'core-does-no-io: src/core/rules/leaky.ts → fs/promises',
      'core-imports-only-core: src/core/rules/leaky.ts → src/scan/scan.ts',
    ]);
  });

  it('keeps src/scan, src/alerts and src/report off adapters and entry points, type-only and dynamic imports too', async () => {
    const violations = await violationsIn({
      ...LAYERED,
      'src/scan/stored-scan.ts': `import type { VerdictStore } from '../scan/ports.js';\nimport { tableStore } from '../adapters/table-store.js';\nexport const store: VerdictStore = tableStore;\n`,
      'src/alerts/settings.ts': `import type { main } from '../cli/program.js';\nexport type Main = typeof main;\n`,
      'src/report/index.ts': `export const load = () => import('../compose/wiring.js');\n`,
    });
    expect(violations.sort()).toEqual([
      'only-entry-points-import-compose: src/report/index.ts → src/compose/wiring.ts',
      'use-cases-import-no-outer-layer: src/alerts/settings.ts → src/cli/program.ts',
      'use-cases-import-no-outer-layer: src/report/index.ts → src/compose/wiring.ts',
      'use-cases-import-no-outer-layer: src/scan/stored-scan.ts → src/adapters/table-store.ts',
    ]);
  });

  it('keeps src/adapters off the app, the CLI, the Functions and the wiring', async () => {
    const violations = await violationsIn({
      ...LAYERED,
      'src/app/types.ts': `export interface ScanLease { release(): Promise<void>; }\n`,
      'src/adapters/scan-lease.ts': `import type { ScanLease } from '../app/types.js';\nexport const lease: ScanLease = { release: async () => {} };\n`,
    });
    expect(violations).toEqual(['adapters-import-no-entry-point: src/adapters/scan-lease.ts → src/app/types.ts']);
  });

  it("keeps src/report off src/alerts, which writes its e-mails with the report's helpers", async () => {
    const violations = await violationsIn({
      ...LAYERED,
      'src/alerts/outbox.ts': `export const givenUp = (state: string) => state === 'dead';\n`,
      'src/report/page.ts': `import { givenUp } from '../alerts/outbox.js';\nexport const page = () => givenUp('dead');\n`,
    });
    expect(violations).toEqual(['report-imports-no-alerts: src/report/page.ts → src/alerts/outbox.ts']);
  });

  it('gives src/app, src/cli and src/functions their adapters through src/compose only', async () => {
    const violations = await violationsIn({
      ...LAYERED,
      'src/cli/store.ts': `import { tableStore } from '../adapters/table-store.js';\nexport const store = tableStore;\n`,
    });
    expect(violations).toEqual(['entry-points-get-adapters-from-compose: src/cli/store.ts → src/adapters/table-store.ts']);
  });

  it('lets only src/functions, src/cli and src/compose import src/compose', async () => {
    const violations = await violationsIn({
      ...LAYERED,
      'src/app/dependencies.ts': `import { run } from '../compose/wiring.js';\nexport const dependencies = { run };\n`,
    });
    expect(violations).toEqual(['only-entry-points-import-compose: src/app/dependencies.ts → src/compose/wiring.ts']);
  });
});

describe('the ban on import cycles', () => {
  it('reports a cycle, even one closed by an `import type`', async () => {
    const violations = await violationsIn({
      ...LAYERED,
      'src/cli/program.ts': `import { describeProgress } from './progress.js';\nexport interface CliIo { write(text: string): void; }\nexport const main = () => describeProgress();\n`,
      'src/cli/progress.ts': `import type { CliIo } from './program.js';\nexport const describeProgress = (io?: CliIo) => io;\n`,
    });
    expect(violations).toEqual(['no-circular: src/cli/program.ts → src/cli/progress.ts → src/cli/program.ts']);
  });

  it('reports a cycle between two use cases, which the layer rule allows edge by edge', async () => {
    const violations = await violationsIn({
      ...LAYERED,
      'src/alerts/owed.ts': `import { scan } from '../scan/scan.js';\nexport const owed = scan;\n`,
      'src/scan/scan.ts': `import type { VerdictStore } from './ports.js';\nimport { verdict } from '../core/rules/rule.js';\nimport { owed } from '../alerts/owed.js';\nexport const scan = (store: VerdictStore) => [owed, store.save(verdict)];\n`,
    });
    expect(violations).toEqual(['no-circular: src/alerts/owed.ts → src/scan/scan.ts → src/alerts/owed.ts']);
  });
});
