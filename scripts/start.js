// `npm start`: the Functions app on this machine, through Azure Functions Core Tools (`func`).
//
//   node scripts/start.js [func start arguments…]
//
// Core Tools is not an npm dependency of the project (it downloads the Functions host, hundreds of
// megabytes), so `npm ci` and the tests never need it. When `func` is not on PATH this says how to
// get it and exits 1; otherwise it builds the bundle and runs `func start`.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildAll } from './build.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The path of `command` as the shell would find it on PATH (with PATHEXT on Windows), or undefined. */
export function findOnPath(command, env = process.env, platform = process.platform) {
  const extensions = platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').filter(Boolean) : [''];
  for (const folder of (env.PATH ?? env.Path ?? '').split(delimiter)) {
    if (folder === '') continue;
    for (const extension of extensions) {
      const candidate = join(folder, `${command}${extension}`);
      if (existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}

export const CORE_TOOLS_MISSING = [
  'npm start runs the Functions app with Azure Functions Core Tools, and `func` is not on PATH. Install Core Tools 4:',
  '  npm i -g azure-functions-core-tools@4 --unsafe-perm true',
  '  (or another way: https://learn.microsoft.com/azure/azure-functions/functions-run-local)',
  'The command line needs none of it: npx contact-watch --help',
].join('\n');

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const func = findOnPath('func');
  if (!func) {
    console.error(CORE_TOOLS_MISSING);
    process.exit(1);
  }
  await buildAll();
  // On Windows `func` is a .cmd shim, which only a shell runs.
  const child = spawn(func, ['start', ...process.argv.slice(2)], { cwd: repoRoot, stdio: 'inherit', shell: process.platform === 'win32' });
  // Ctrl-C reaches `func` too (the same process group); this process waits for it to stop. A
  // SIGTERM sent to this process alone is passed on.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('error', (error) => {
    console.error(`npm start: could not run ${func}: ${error.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
