/** Runs the real command line (bin/contact-watch.js → dist/cli.js) as a child process. */
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
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
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
