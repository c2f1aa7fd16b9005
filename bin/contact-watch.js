#!/usr/bin/env node
// The command line entry point. The TypeScript sources are bundled into dist/ by `npm install`
// (the `prepare` script) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(bundle))) {
  process.stderr.write('contact-watch: dist/cli.js is missing; run `npm run build` first.\n');
  process.exit(2);
}
await import(bundle.href);
