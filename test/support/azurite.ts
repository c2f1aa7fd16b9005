/**
 * Azurite's Table service for the tests: a child process on a free port of 127.0.0.1, in-memory
 * persistence, no access log, no telemetry. It dies with the test process (see WATCHDOG), so none
 * is left behind.
 *
 * Starting Azurite costs a Node process and a second or two of CPU, so a test process keeps one
 * and lends it to one test file at a time: startAzurite() hands it over with every table deleted
 * (what a file sees is exactly what a fresh Azurite would show) and stop() gives it back. When
 * test files share a worker process (the integration tests run with `isolate: false`), they share
 * that one Azurite. A second startAzurite() while the shared one is lent out (a test that wants
 * two at once) starts one of its own, which stop() ends. Call it once per file (beforeAll) and
 * stop it in afterAll.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
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

/** Every Azurite this process started and has not ended, with its workspace directory. */
const children = new Map<ChildProcess, string>();
let exitHookInstalled = false;
function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // The shared Azurite lives until here: the end of the test process.
  process.once('exit', () => {
    for (const [child, location] of children) {
      child.kill('SIGKILL');
      rmSync(location, { recursive: true, force: true });
    }
  });
}

/** The process's Azurite while one is running, and whether a test file holds it. */
let shared: { azurite: Promise<RunningAzurite>; lent: boolean } | undefined;

export async function startAzurite(): Promise<AzuriteTables> {
  if (shared?.lent) return ownInstance(await launchAzurite());
  shared ??= { azurite: launchAzurite(), lent: false };
  const current = shared;
  current.lent = true;
  try {
    let running = await current.azurite;
    if (hasExited(running.child)) {
      // It died (killed from outside, or crashed): a fresh one.
      await terminateAndClean(running);
      current.azurite = launchAzurite();
      running = await current.azurite;
    }
    await deleteEveryTable(running);
    return lentInstance(running, current);
  } catch (error) {
    // A failed start or clean-up is reported to this file; the next file starts afresh.
    if (shared === current) shared = undefined;
    void current.azurite.then(
      (running) => terminateAndClean(running),
      () => undefined,
    );
    throw error;
  }
}

interface RunningAzurite {
  child: ChildProcess;
  port: number;
  location: string;
}

async function launchAzurite(): Promise<RunningAzurite> {
  killAllOnExit();
  let lastError: unknown;
  // The port may be taken between freePort() and Azurite's listen(); try a few.
  for (let attempt = 0; attempt < 4; attempt += 1) {
    const port = await freePort();
    const location = await mkdtemp(join(tmpdir(), 'contact-watch-azurite-'));
    try {
      const child = await spawnAzurite(port, location);
      return { child, port, location };
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
  children.set(child, location);
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
      children.delete(child);
      reject(error);
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', onExit);
  });
}

function endpoints(port: number): Pick<AzuriteTables, 'port' | 'tableEndpoint' | 'connectionString'> {
  const tableEndpoint = `http://127.0.0.1:${port}/${DEVSTORE_ACCOUNT}`;
  return {
    port,
    tableEndpoint,
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${DEVSTORE_ACCOUNT};AccountKey=${DEVSTORE_KEY};` + `TableEndpoint=${tableEndpoint};`,
  };
}

/** The shared Azurite, lent to one test file; stop() gives it back and leaves it running. */
function lentInstance(running: RunningAzurite, lease: { lent: boolean }): AzuriteTables {
  let returned = false;
  return {
    ...endpoints(running.port),
    async stop() {
      if (returned) return;
      returned = true;
      lease.lent = false;
    },
  };
}

/** An Azurite of the caller's own; stop() ends it. */
function ownInstance(running: RunningAzurite): AzuriteTables {
  let stopping: Promise<void> | undefined;
  return {
    ...endpoints(running.port),
    stop() {
      stopping ??= terminateAndClean(running);
      return stopping;
    },
  };
}

async function terminateAndClean(running: RunningAzurite): Promise<void> {
  await terminate(running.child);
  children.delete(running.child);
  await rm(running.location, { recursive: true, force: true });
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Deletes every table of the development account, so that a file borrowing the shared Azurite
 * finds it as empty as a fresh one. Azurite, unlike Azure, lets a deleted table's name be
 * created again at once.
 */
async function deleteEveryTable(running: RunningAzurite): Promise<void> {
  const { TableServiceClient } = await import('@azure/data-tables');
  const { connectionString } = endpoints(running.port);
  const service = TableServiceClient.fromConnectionString(connectionString, { allowInsecureConnection: true });
  const names: string[] = [];
  for await (const table of service.listTables()) if (table.name) names.push(table.name);
  await Promise.all(names.map((name) => service.deleteTable(name)));
}

async function terminate(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
