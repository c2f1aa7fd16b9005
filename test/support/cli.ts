/**
 * Two ways to run the command line:
 * - runCliInProcess: the program (src/cli/program.ts `runCli`) in this process, with the output
 *   captured. No Node start-up and no bundle load per run, so it is what most CLI tests use.
 * - runContactWatch: the real command line (bin/contact-watch.js → dist/cli.js) as a child process,
 *   for what only a process shows: the built bundle, the exit code the shell sees, the environment
 *   a fresh process reads.
 * Both give the program the same environment: PATH and HOME of this process, then `env`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/contact-watch.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The child gets only what it needs: PATH and HOME from this process, then `env` (for a test
 * server: its env()). Azure credentials of the person running the tests never leak in.
 */
export function runContactWatch(args: string[], env: Record<string, string>, options: { cwd?: string } = {}): Promise<CliRun> {
  return runProcess(process.execPath, [BIN, ...args], env, options);
}

/**
 * Runs a program with only PATH and HOME from this process, then `env` (PATH may be replaced
 * there, to put stand-ins first), and collects its exit code and output.
 */
export function runProcess(command: string, args: string[], env: Record<string, string>, options: { cwd?: string } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: childEnvironment(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Runs the command line in this process with the environment runContactWatch would give the
 * child: `runCli` reads that environment, and process.env holds exactly it (plus the test
 * runner's own variables) while the command runs, because DefaultAzureCredential and the HTTP
 * pipeline read process.env themselves. Afterwards process.env is restored.
 *
 * Runs may overlap only when they use the same environment (process.env is one per process);
 * a test that needs two commands with different settings at once starts processes instead.
 */
export async function runCliInProcess(args: string[], env: Record<string, string>): Promise<CliRun> {
  const environment = childEnvironment(env);
  const release = useProcessEnvironment(environment);
  let stdout = '';
  let stderr = '';
  try {
    // Loaded on first use: tests that only start processes do not pay for the program's imports.
    const { runCli } = await import('../../src/cli/program.js');
    const code = await runCli(args, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env: environment });
    return { code, stdout, stderr };
  } finally {
    release();
  }
}

function childEnvironment(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env };
}

/**
 * Kept in process.env during an in-process run: the test runner's own variables and the test
 * infrastructure's (CONTACT_WATCH_TEST_TLS_DIR, the certificate local Azure test servers share).
 */
const RUNNER_VARIABLE = /^(?:VITEST|CONTACT_WATCH_TEST_)/;

let borrowed: { key: string; users: number; saved: NodeJS.ProcessEnv } | undefined;

function useProcessEnvironment(environment: Record<string, string>): () => void {
  const key = JSON.stringify(Object.entries(environment).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  if (borrowed && borrowed.key !== key) {
    throw new Error(
      'runCliInProcess: another in-process run with other settings is still running; start processes (runContactWatch) to overlap them',
    );
  }
  if (!borrowed) {
    const saved = { ...process.env };
    for (const name of Object.keys(process.env)) {
      if (!RUNNER_VARIABLE.test(name)) delete process.env[name];
    }
    Object.assign(process.env, environment);
    borrowed = { key, users: 0, saved };
  }
  const current = borrowed;
  current.users += 1;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    current.users -= 1;
    if (current.users > 0) return;
    for (const name of Object.keys(process.env)) if (!(name in current.saved)) delete process.env[name];
    Object.assign(process.env, current.saved);
    borrowed = undefined;
  };
}
