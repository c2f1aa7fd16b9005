#!/usr/bin/env node
// The command line entry point. The TypeScript sources are bundled into dist/ by `npm install`
// (the `prepare` script) or `npm run build`.
import { existsSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';

// Compiling the bundle is most of a start: Node keeps the compiled code on disk for the next run
// (in the OS temp folder, or NODE_COMPILE_CACHE). Where it cannot, it carries on without.
module.enableCompileCache?.();

const bundle = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(bundle))) {
  process.stderr.write('contact-watch: dist/cli.js is missing; run `npm run build` first.\n');
  process.exit(2);
}
await import(bundle.href);
