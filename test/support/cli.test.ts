/**
 * runCliInProcess gives the program the environment runContactWatch gives the child process:
 * process.env holds exactly PATH, HOME and the test's settings (and the test runner's own
 * variables) while the command runs, and is as it was afterwards.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SimulatedTenant, startLocalAzure, type LocalAzure } from '../azure-server/index.js';
import { runCliInProcess } from './cli.js';

const SUBSCRIPTION = '11111111-1111-4111-8111-111111111111';
let azure: LocalAzure;

beforeAll(async () => {
  const tenant = new SimulatedTenant();
  tenant.addSubscription({ subscriptionId: SUBSCRIPTION, displayName: 'Prod', contacts: [] });
  azure = await startLocalAzure({ tenant });
});
afterAll(async () => {
  await azure?.close();
});

function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('runCliInProcess', () => {
  it('runs the command with only PATH, HOME and the given settings in process.env, and restores process.env after', async () => {
    process.env.AZURE_CLIENT_SECRET = 'a credential of the person running the tests';
    process.env.CONTACT_WATCH_POLICY = '{ not json';
    const before = { ...process.env };
    const held = gate();
    const fault = azure.faults.add({ target: 'security-contacts', subscriptionId: SUBSCRIPTION, holdUntil: held.opened });
    const outside = (): string[] =>
      Object.keys(process.env)
        .filter((name) => !/^(?:VITEST|CONTACT_WATCH_TEST_)/.test(name))
        .sort();
    const expected = ['CONTACT_WATCH_USER', 'HOME', 'PATH', ...Object.keys(azure.env())].sort();
    try {
      const running = runCliInProcess(['check', SUBSCRIPTION, '--format', 'json'], { ...azure.env(), CONTACT_WATCH_USER: 'tester' });
      expect(outside()).toEqual(expected);
      // Still so while the command waits for its answer.
      await vi.waitFor(() => expect(fault.hits).toBe(1), { timeout: 20_000 });
      expect(outside()).toEqual(expected);
      expect(process.env.CONTACT_WATCH_USER).toBe('tester');
      held.open();
      const run = await running;
      // The command read its settings from what it was given, not from this process: the default policy.
      expect(run.code, run.stderr).toBe(1);
      expect(JSON.parse(run.stdout)).toMatchObject({ subscriptionId: SUBSCRIPTION, status: 'noncompliant' });
      expect(process.env).toEqual(before);
    } finally {
      held.open();
      delete process.env.AZURE_CLIENT_SECRET;
      delete process.env.CONTACT_WATCH_POLICY;
    }
  });

  it('refuses to overlap two runs with different settings, and lets runs with the same settings overlap', async () => {
    const before = { ...process.env };
    const held = gate();
    azure.faults.add({ target: 'security-contacts', subscriptionId: SUBSCRIPTION, holdUntil: held.opened, times: 2 });
    const first = runCliInProcess(['check', SUBSCRIPTION], azure.env());
    try {
      await expect(runCliInProcess(['check', SUBSCRIPTION], { ...azure.env(), CONTACT_WATCH_USER: 'someone else' })).rejects.toThrow(
        /another in-process run with other settings/,
      );
      const second = runCliInProcess(['check', SUBSCRIPTION], azure.env());
      held.open();
      expect((await Promise.all([first, second])).map((run) => run.code)).toEqual([1, 1]);
    } finally {
      held.open();
    }
    expect(process.env).toEqual(before);
  });
});
