/**
 * The app's real entry point — the `main` of package.json, the bundle the vitest global set-up
 * builds — loaded in a child process the way the Functions host's Node worker loads it: a preload
 * answers `require('@azure/functions-core')` (the worker's seam) and records every registration.
 * The Functions host itself (Core Tools) cannot run here; this is what it would be told.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_NAMES } from '../../../src/functions/function-names.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const PRELOAD = fileURLToPath(new URL('./fake-functions-core.cjs', import.meta.url));
const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { main: string; dependencies: Record<string, string> };
const main = join(repoRoot, manifest.main);

/**
 * The working local values of every setting in local.settings.example.json — but for
 * NODE_EXTRA_CA_CERTS, which names the CA file of a running local Azure test server.
 */
const { NODE_EXTRA_CA_CERTS: _localServerCa, ...exampleSettings } = (
  JSON.parse(readFileSync(join(repoRoot, 'local.settings.example.json'), 'utf8')) as { Values: Record<string, string> }
).Values;

interface Binding {
  type: string;
  direction: 'in' | 'out';
  [property: string]: unknown;
}

interface Registration {
  name: string;
  bindings: Record<string, Binding>;
  hasHandler: boolean;
}

interface Recorded {
  programmingModel: { name: string; version: string } | null;
  functions: Registration[];
}

const scratch = mkdtempSync(join(tmpdir(), 'cw-registrations-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let runs = 0;
/** Loads the entry point with exactly these settings (no variable of the test's own leaks in). */
function loadEntryPoint(settings: Record<string, string>, entry = main): { status: number | null; stderr: string; recorded: Recorded } {
  const output = join(scratch, `registrations-${++runs}.json`);
  const child = spawnSync(process.execPath, ['--require', PRELOAD, entry], {
    cwd: dirname(entry),
    env: { PATH: process.env.PATH ?? '', ...settings, FAKE_FUNCTIONS_CORE_OUTPUT: output },
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (child.error) throw child.error;
  return { status: child.status, stderr: child.stderr, recorded: JSON.parse(readFileSync(output, 'utf8')) as Recorded };
}

function trigger(registration: Registration): Binding {
  const inputs = Object.values(registration.bindings).filter((binding) => binding.direction === 'in');
  expect(inputs, `${registration.name}: one input binding, its trigger`).toHaveLength(1);
  return inputs[0]!;
}

function outputs(registration: Registration): Array<[string, Binding]> {
  return Object.entries(registration.bindings).filter(([, binding]) => binding.direction === 'out');
}

describe('the entry point (package.json main)', () => {
  it('is the bundle, and the example settings are a complete, valid set', () => {
    expect(main).toMatch(/dist[\\/]functions[\\/]index\.js$/);
    expect(existsSync(main), `${main} is built by the vitest global set-up`).toBe(true);
    expect(exampleSettings.CONTACT_WATCH_SCAN_SCHEDULE).toBeTruthy();
  });

  let loaded: ReturnType<typeof loadEntryPoint>;
  let byName: Map<string, Registration>;
  beforeAll(() => {
    loaded = loadEntryPoint(exampleSettings);
    byName = new Map(loaded.recorded.functions.map((registration) => [registration.name, registration]));
  });

  it('loads with the example settings and sets the v4 programming model', () => {
    expect(loaded.stderr).toBe('');
    expect(loaded.status).toBe(0);
    expect(loaded.recorded.programmingModel?.name).toBe('@azure/functions');
  });

  it('registers the functions of docs/reference/http-api.md and docs/reference/events.md and nothing else, each with a handler', () => {
    expect(loaded.recorded.functions.map((registration) => registration.name).sort()).toEqual(Object.values(FUNCTION_NAMES).sort());
    for (const registration of loaded.recorded.functions) expect(registration.hasHandler, registration.name).toBe(true);
  });

  it('two timer triggers, the scan and the new-subscription watch, each on its schedule setting, with no output', () => {
    const timers = loaded.recorded.functions.filter((registration) => trigger(registration).type === 'timerTrigger');
    expect(timers.map((registration) => registration.name)).toEqual([FUNCTION_NAMES.scanTimer, FUNCTION_NAMES.subscriptionWatch]);
    expect(trigger(timers[0]!)).toMatchObject({ schedule: '%CONTACT_WATCH_SCAN_SCHEDULE%' });
    expect(trigger(timers[1]!)).toMatchObject({ schedule: '%CONTACT_WATCH_WATCH_SCHEDULE%' });
    for (const timer of timers) {
      expect(trigger(timer).runOnStartup, timer.name).not.toBe(true);
      expect(outputs(timer), timer.name).toEqual([]);
    }
  });

  it('one Event Grid trigger, with no output', () => {
    const eventGrid = loaded.recorded.functions.filter((registration) => trigger(registration).type === 'eventGridTrigger');
    expect(eventGrid.map((registration) => registration.name)).toEqual([FUNCTION_NAMES.contactEvents]);
    expect(outputs(eventGrid[0]!)).toEqual([]);
  });

  const routes = [
    { name: FUNCTION_NAMES.compliance, route: 'subscriptions/{subscriptionId}/compliance', methods: ['GET'] },
    { name: FUNCTION_NAMES.subscriptions, route: 'subscriptions', methods: ['GET'] },
    { name: FUNCTION_NAMES.scans, route: 'scans', methods: ['POST'] },
    { name: FUNCTION_NAMES.scanResult, route: 'scans/{scanId}', methods: ['GET'] },
    { name: FUNCTION_NAMES.report, route: 'report', methods: ['GET'] },
  ];

  it('one HTTP function per route of §8 and no other', () => {
    const http = loaded.recorded.functions.filter((registration) => trigger(registration).type === 'httpTrigger');
    expect(http.map((registration) => registration.name).sort()).toEqual(routes.map((route) => route.name).sort());
  });

  it.each(routes)('$methods $route: function key, untyped route template, HTTP response as its return', ({ name, route, methods }) => {
    const registration = byName.get(name);
    expect(registration, name).toBeDefined();
    expect(trigger(registration!)).toMatchObject({ type: 'httpTrigger', route, methods, authLevel: 'function' });
    expect(String(trigger(registration!).route)).not.toMatch(/:/);
    expect(outputs(registration!)).toEqual([['$return', expect.objectContaining({ type: 'http', direction: 'out' })]]);
  });
});

describe('CONTACT_WATCH_WATCH_SCHEDULE', () => {
  const { CONTACT_WATCH_WATCH_SCHEDULE: _watchSchedule, ...withoutWatchSchedule } = exampleSettings;
  const timersOf = (loaded: ReturnType<typeof loadEntryPoint>) =>
    loaded.recorded.functions
      .filter((registration) => trigger(registration).type === 'timerTrigger')
      .map((registration) => [registration.name, trigger(registration).schedule]);

  it.each(['off', 'OFF', ' Off '])('%j: the watch is not registered, everything else is', (value) => {
    const loaded = loadEntryPoint({ ...exampleSettings, CONTACT_WATCH_WATCH_SCHEDULE: value });
    expect(loaded.stderr).toBe('');
    expect(loaded.status).toBe(0);
    expect(loaded.recorded.functions.map((registration) => registration.name).sort()).toEqual(
      Object.values(FUNCTION_NAMES)
        .filter((name) => name !== FUNCTION_NAMES.subscriptionWatch)
        .sort(),
    );
    expect(timersOf(loaded)).toEqual([[FUNCTION_NAMES.scanTimer, '%CONTACT_WATCH_SCAN_SCHEDULE%']]);
  });

  it('unset: the watch runs every 5 minutes, registered with the schedule itself (the host cannot resolve a reference to a missing setting)', () => {
    const loaded = loadEntryPoint(withoutWatchSchedule);
    expect(loaded.stderr).toBe('');
    expect(loaded.status).toBe(0);
    expect(timersOf(loaded)).toEqual([
      [FUNCTION_NAMES.scanTimer, '%CONTACT_WATCH_SCAN_SCHEDULE%'],
      [FUNCTION_NAMES.subscriptionWatch, '0 */5 * * * *'],
    ]);
  });

  it.each(['every 5 minutes', '*/5 * * * *', '* */5 * * * *'])('%j stops start-up with a message naming it', (value) => {
    const loaded = loadEntryPoint({ ...exampleSettings, CONTACT_WATCH_WATCH_SCHEDULE: value });
    expect(loaded.status).not.toBe(0);
    expect(loaded.stderr).toContain('CONTACT_WATCH_WATCH_SCHEDULE');
    expect(loaded.recorded.functions).toEqual([]);
  });
});

describe('a malformed app setting', () => {
  it('stops start-up with a message naming it, before any function is registered', () => {
    const loaded = loadEntryPoint({ ...exampleSettings, AZURE_CLOUD: 'Mars' });
    expect(loaded.status).not.toBe(0);
    expect(loaded.stderr).toContain('AZURE_CLOUD');
    expect(loaded.stderr).toContain('Mars');
    expect(loaded.recorded.functions).toEqual([]);
  });

  it('names every setting that holds a secret and prints none of the secrets', () => {
    const secret = 'c2VjcmV0LWF0LXN0YXJ0LXVw';
    const loaded = loadEntryPoint({
      ...exampleSettings,
      AZURE_RESOURCE_MANAGER_ENDPOINT: `https://127.0.0.1:8443/?sv=2024-05-04&sig=${secret}`,
      CONTACT_WATCH_STORAGE: `TableEndpoint=https://127.0.0.1:10002/devstoreaccount1?sig=${secret};SharedAccessSignature=sig=${secret}`,
      CONTACT_WATCH_ACS_ENDPOINT: `https://alerts:${secret}@127.0.0.1:8443`,
    });
    expect(loaded.status).not.toBe(0);
    for (const setting of ['AZURE_RESOURCE_MANAGER_ENDPOINT', 'CONTACT_WATCH_STORAGE', 'CONTACT_WATCH_ACS_ENDPOINT'])
      expect(loaded.stderr).toContain(setting);
    expect(loaded.stderr).not.toContain(secret);
    expect(loaded.recorded.functions).toEqual([]);
  });

  it('a schedule that is not NCRONTAB is named too', () => {
    const loaded = loadEntryPoint({ ...exampleSettings, CONTACT_WATCH_SCAN_SCHEDULE: 'every half hour' });
    expect(loaded.status).not.toBe(0);
    expect(loaded.stderr).toContain('CONTACT_WATCH_SCAN_SCHEDULE');
    expect(loaded.recorded.functions).toEqual([]);
  });
});

describe('the deployable package (npm run package)', () => {
  interface Packaged {
    folder: string;
    folderBytes: number;
  }

  it('is the bundle and @azure/functions alone, under 5 MB, and loads on its own outside the repository', async () => {
    const buildScript = (await import(pathToFileURL(join(repoRoot, 'scripts/build.js')).href)) as {
      packageApp(options: { out: string }): Promise<Packaged>;
    };
    const packaged = await buildScript.packageApp({ out: join(scratch, 'package') });
    expect(relative(repoRoot, packaged.folder)).toMatch(/^\.\./);

    const deployed = JSON.parse(readFileSync(join(packaged.folder, 'package.json'), 'utf8')) as {
      main: string;
      dependencies: Record<string, string>;
    };
    expect(deployed.main).toBe(manifest.main);
    expect(Object.keys(deployed.dependencies)).toEqual(['@azure/functions']);
    expect(existsSync(join(packaged.folder, 'host.json'))).toBe(true);
    const shipped = readdirSync(join(packaged.folder, 'node_modules'), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.name === 'package.json' && entry.isFile())
      .map((entry) => relative(join(packaged.folder, 'node_modules'), entry.parentPath).replaceAll('\\', '/'));
    expect(shipped).toContain('@azure/functions');
    for (const bundled of Object.keys(manifest.dependencies).filter((name) => name !== '@azure/functions'))
      expect(shipped).not.toContain(bundled);
    expect(packaged.folderBytes).toBeLessThan(5 * 1024 * 1024);

    const loaded = loadEntryPoint(exampleSettings, join(packaged.folder, deployed.main));
    expect(loaded.stderr).toBe('');
    expect(loaded.status).toBe(0);
    expect(loaded.recorded.functions.map((registration) => registration.name).sort()).toEqual(Object.values(FUNCTION_NAMES).sort());
  });
});
