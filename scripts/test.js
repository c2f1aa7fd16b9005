// `npm test`: the type check, the lint (layers, ESLint, Prettier) and the test suite, all at once.
//
// They share nothing, and the suite spends much of its time waiting on local servers, so running
// the checks beside it uses the cores it leaves idle. The suite's output streams as it runs; each
// check's output is printed when it ends. The exit code is non-zero when any of them failed.
//
//   node scripts/test.js [vitest arguments…]
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(repoRoot, 'node_modules', '.bin', name);

/** The checks, each a command whose output is held until it ends. */
const CHECKS = [
  { name: 'type check (tsc --noEmit)', command: bin('tsc'), args: ['--noEmit'] },
  {
    name: 'layers (dependency-cruiser)',
    command: bin('depcruise'),
    args: ['--config', '.dependency-cruiser.js', '--output-type', 'err-long', 'src'],
  },
  { name: 'ESLint', command: bin('eslint'), args: ['.'] },
  { name: 'Prettier', command: bin('prettier'), args: ['--check', '.'] },
];

function run(command, args, options) {
  return new Promise((resolve) => {
    // npm's .bin entries are .cmd shims on Windows, which only a shell runs.
    const child = spawn(command, args, { cwd: repoRoot, shell: process.platform === 'win32', ...options });
    let output = '';
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    child.on('error', (error) => resolve({ code: 1, output: `${output}${error.message}\n` }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

console.log(`node ${process.version}`);
const suite = run(bin('vitest'), ['run', ...process.argv.slice(2)], { stdio: 'inherit' });
const checks = CHECKS.map(async (check) => {
  const started = Date.now();
  const { code, output } = await run(check.command, check.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const verdict = code === 0 ? 'passed' : `FAILED (exit code ${code})`;
  process.stdout.write(`\n── ${check.name}: ${verdict} in ${seconds} s\n${code === 0 ? '' : output}`);
  return { ...check, code };
});

const results = [...(await Promise.all(checks)), { name: 'test suite (vitest run)', code: (await suite).code }];
const failed = results.filter((result) => result.code !== 0);
if (failed.length > 0) {
  console.error(`\nnpm test failed: ${failed.map((result) => result.name).join(', ')}`);
  process.exit(1);
}
console.log(`\nnpm test passed: ${results.map((result) => result.name).join(', ')}`);
