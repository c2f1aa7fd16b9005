// The layer rule and the ban on import cycles in src/, checked by `npm run lint` (depcruise).
//
// dependency-cruiser works on the resolved module graph, so a rule holds however an import is
// spelt (`../adapters/x.js` or `../../adapters/x.js`), for dynamic `import()` and re-exports too,
// and a cycle made of `import type` lines counts as a cycle (ESLint's import cycle rule skips those).
//
// Paths are relative to the folder depcruise runs in (the repository root).

/** Anything that is not project source: a Node built-in or an npm package. */
const OUTSIDE_THE_PROJECT = ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-bundled', 'npm-no-pkg', 'npm-unknown'];

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'core-imports-only-core',
      comment: 'src/core is the pure domain: it imports nothing from the rest of the project.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { pathNot: '^src/core/', dependencyTypesNot: OUTSIDE_THE_PROJECT },
    },
    {
      name: 'core-does-no-io',
      comment: 'src/core does no I/O: no file system, network, process or worker modules.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: {
        dependencyTypes: ['core'],
        path: '^(node:)?(fs|fs/promises|net|tls|http|https|http2|dgram|dns|dns/promises|child_process|cluster|worker_threads|readline|repl)$',
      },
    },
    {
      name: 'use-cases-import-no-outer-layer',
      comment:
        'src/scan, src/remediation, src/alerts and src/report reach storage and Azure through their ports, never through adapters or the entry points.',
      severity: 'error',
      from: { path: '^src/(scan|remediation|alerts|report)/' },
      to: { path: '^src/(adapters|app|cli|functions|compose)/' },
    },
    {
      name: 'report-imports-no-alerts',
      comment:
        "The e-mails (src/alerts) are written with the report's presentation helpers; the report needs nothing of alerting, so the two never tie each other.",
      severity: 'error',
      from: { path: '^src/report/' },
      to: { path: '^src/alerts/' },
    },
    {
      name: 'adapters-import-no-entry-point',
      comment: 'src/adapters implement ports; they know nothing of the app, the CLI, the Functions or the wiring.',
      severity: 'error',
      from: { path: '^src/adapters/' },
      to: { path: '^src/(app|cli|functions|compose)/' },
    },
    {
      name: 'entry-points-get-adapters-from-compose',
      comment: 'src/app, src/cli and src/functions receive adapters built by src/compose; they never build one themselves.',
      severity: 'error',
      from: { path: '^src/(app|cli|functions)/' },
      to: { path: '^src/adapters/' },
    },
    {
      name: 'only-entry-points-import-compose',
      comment: 'src/compose wires adapters to use cases; only the entry points (src/functions, src/cli) use it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(compose|functions|cli)/' },
      to: { path: '^src/compose/' },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles in src/, type-only ones included: a cycle means two modules are one.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    // `import type` lines are part of the graph: they tie modules together as much as value imports.
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
  },
};
