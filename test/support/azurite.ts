/**
 * Starts Azurite's Table service for a test file: a child process on a free port of 127.0.0.1,
 * in-memory persistence, no access log, no telemetry. Start it once per file (beforeAll) and
 * stop it in afterAll; it also dies with the test process (see WATCHDOG) so none is left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface AzuriteTables {
  /** An account connection string for devstoreaccount1 on this instance's table endpoint. */
  connectionString: string;
  /** `http://127.0.0.1:<port>/devstoreaccount1` */
  tableEndpoint: string;
  port: number;
  stop(): Promise<void>;
}

/** Azurite's documented development account (public, not a secret). */
export const DEVSTORE_ACCOUNT = 'devstoreaccount1';
export const DEVSTORE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const AZURITE_TABLE_MAIN = join(REPO_ROOT, 'node_modules/azurite/dist/src/table/main.js');
const STARTED = /Azurite Table service successfully started/;
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

/**
 * Preloaded into the Azurite process: exit when the IPC channel to the test process closes,
 * which happens when that process exits for any reason (even SIGKILL of a vitest worker).
 */
const WATCHDOG = `data:text/javascript,process.on('disconnect',()=>process.exit(0));`;

/** Azurite needs Node 22; the project's `node` dev dependency provides it. */
function nodeBinary(): string {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= 22) return process.execPath;
  const local = join(REPO_ROOT, 'node_modules/.bin/node');
  if (existsSync(local)) return local;
  throw new Error(`Azurite needs Node 22; this is ${process.version} and node_modules/.bin/node is missing`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not find a free port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

export async function startAzurite(): Promise<AzuriteTables> {
  killAllOnExit();
  let lastError: unknown;
  // The port may be taken between freePort() and Azurite's listen(); try a few.
  for (let attempt = 0; attempt < 4; attempt += 1) {
    const port = await freePort();
    const location = await mkdtemp(join(tmpdir(), 'contact-watch-azurite-'));
    try {
      const child = await spawnAzurite(port, location);
      return instance(child, port, location);
    } catch (error) {
      lastError = error;
      await rm(location, { recursive: true, force: true });
      if (!(error instanceof Error && error.message.includes('EADDRINUSE'))) break;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

function spawnAzurite(port: number, location: string): Promise<ChildProcess> {
  const args = [
    '--import',
    WATCHDOG,
    AZURITE_TABLE_MAIN,
    '--tableHost',
    '127.0.0.1',
    '--tablePort',
    String(port),
    '--inMemoryPersistence',
    '--silent',
    '--disableTelemetry',
  ];
  // Azurite refuses --location with --inMemoryPersistence; its workspace is its working directory.
  const child = spawn(nodeBinary(), args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], cwd: location });
  running.add(child);
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`Azurite did not start within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (STARTED.test(output)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        child.stderr?.resume();
        child.off('exit', onExit);
        resolve(child);
      }
    };
    const onExit = (code: number | null): void => fail(new Error(`Azurite exited (code ${code}) before it started:\n${output}`));
    function fail(error: Error): void {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      child.kill('SIGKILL');
      running.delete(child);
      reject(error);
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', onExit);
  });
}

function instance(child: ChildProcess, port: number, location: string): AzuriteTables {
  const tableEndpoint = `http://127.0.0.1:${port}/${DEVSTORE_ACCOUNT}`;
  let stopping: Promise<void> | undefined;
  return {
    port,
    tableEndpoint,
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${DEVSTORE_ACCOUNT};AccountKey=${DEVSTORE_KEY};` + `TableEndpoint=${tableEndpoint};`,
    stop() {
      stopping ??= (async () => {
        await terminate(child);
        running.delete(child);
        await rm(location, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
